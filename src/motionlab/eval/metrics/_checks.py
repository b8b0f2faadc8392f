"""Input checks shared by every metric module: arrays converted to float64 numpy and validated,
errors naming the argument as the place."""

from __future__ import annotations

import math
from typing import Optional, Sequence, Union

import numpy as np
import torch

from motionlab.errors import MotionLabError

ArrayLike = Union[np.ndarray, torch.Tensor, Sequence]


def _arr(x: ArrayLike, name: str, *, min_ndim: int = 0, last: Optional[int] = None,
         min_len: int = 1, finite: bool = True) -> np.ndarray:
    """``x`` as a float64 numpy array, checked: at least ``min_ndim`` axes, ``last`` axis size,
    at least ``min_len`` entries along axis 0 (when it has axes), all finite."""
    if isinstance(x, torch.Tensor):
        x = x.detach().cpu().to(torch.float64).numpy()
    try:
        a = np.asarray(x, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise MotionLabError(f"not a numeric array ({exc})", place=name) from None
    if a.ndim < min_ndim:
        raise MotionLabError(f"expected at least {min_ndim} axes, got shape {a.shape}", place=name)
    if last is not None and (a.ndim == 0 or a.shape[-1] != last):
        raise MotionLabError(f"last axis must have size {last}, got shape {a.shape}", place=name)
    if a.size == 0 or (a.ndim > 0 and a.shape[0] < min_len):
        raise MotionLabError(f"needs at least {min_len} entries along the first axis, got shape {a.shape}",
                             place=name)
    if finite and not np.isfinite(a).all():
        bad = np.argwhere(~np.isfinite(a))[0]
        raise MotionLabError(f"non-finite value at index {tuple(int(i) for i in bad)}", place=name)
    return a


def _same_shape(a: np.ndarray, b: np.ndarray, na: str, nb: str) -> None:
    if a.shape != b.shape:
        raise MotionLabError(f"shape {a.shape} of {na} does not match shape {b.shape} of {nb}", place=nb)


def _fps(fps: float) -> float:
    try:
        f = float(fps)
    except (TypeError, ValueError):
        raise MotionLabError(f"fps must be a number, got {fps!r}", place="fps") from None
    if not (f > 0 and math.isfinite(f)):
        raise MotionLabError(f"fps must be positive and finite, got {fps!r}", place="fps")
    return f


def _int_indices(x: ArrayLike, name: str) -> np.ndarray:
    if isinstance(x, torch.Tensor):
        x = x.detach().cpu().numpy()
    a = np.asarray(x)
    if a.size == 0:
        raise MotionLabError("no indices", place=name)
    if not np.issubdtype(a.dtype, np.integer):
        if np.issubdtype(a.dtype, np.floating) and np.isfinite(a).all() and np.all(a == np.round(a)):
            a = a.astype(np.int64)
        else:
            raise MotionLabError(f"indices must be integers, got dtype {a.dtype}", place=name)
    return a.astype(np.int64, copy=False)


def _step_magnitude(d: np.ndarray) -> np.ndarray:
    """Per-step magnitude of a ``(S, ...)`` difference array: ``|d|`` for ``(S,)``, ``||d||`` over
    the features for ``(S, D)``, mean over joints of ``||d_j||`` for ``(S, J, C)`` and beyond."""
    if d.ndim == 1:
        return np.abs(d)
    if d.ndim == 2:
        return np.linalg.norm(d, axis=-1)
    return np.linalg.norm(d, axis=-1).reshape(d.shape[0], -1).mean(axis=1)
