"""Joint-position errors: MPJPE (global or root-aligned), Procrustes alignment and PA-MPJPE,
acceleration error. Shared by tokenizers, retargeting and recovery."""

from __future__ import annotations

from typing import Sequence, Tuple, Union

import numpy as np

from motionlab.errors import MotionLabError
from motionlab.eval.metrics._checks import ArrayLike, _arr, _fps, _same_shape

__all__ = ['mpjpe', 'similarity_align', 'pa_mpjpe', 'accel_error']


def _root_align(a: np.ndarray, root: Union[None, int, Sequence[int]]) -> np.ndarray:
    if root is None:
        return a
    J = a.shape[-2]
    ids = [root] if np.isscalar(root) else list(root)
    if not ids or any(int(i) != i or not -J <= int(i) < J for i in ids):
        raise MotionLabError(f"root joint(s) {root!r} outside 0..{J - 1}", place="root")
    return a - a[..., [int(i) for i in ids], :].mean(axis=-2, keepdims=True)


def _joints(pred: ArrayLike, gt: ArrayLike) -> Tuple[np.ndarray, np.ndarray]:
    p = _arr(pred, "pred", min_ndim=2, last=3)
    g = _arr(gt, "gt", min_ndim=2, last=3)
    _same_shape(g, p, "gt", "pred")
    return p, g


def mpjpe(pred: ArrayLike, gt: ArrayLike, root: Union[None, int, Sequence[int]] = None,
          scale: float = 1000.0) -> float:
    """Mean per-joint position error: mean over frames and joints of ``||pred - gt||``.

    ``pred``, ``gt``: ``(..., J, 3)`` in m. ``root``: ``None`` (global, no alignment), a joint
    index, or several indices whose mean is the root (Human3.6M protocol: pelvis = mean of the
    hips); that root is subtracted from each pose first. ``scale`` 1000 reports mm.
    """
    p, g = _joints(pred, gt)
    return float(np.linalg.norm(_root_align(p, root) - _root_align(g, root), axis=-1).mean() * scale)


def similarity_align(src: ArrayLike, dst: ArrayLike, with_scale: bool = True) -> np.ndarray:
    """Least-squares similarity (or rigid) transform of ``src`` onto ``dst`` (Umeyama 1991).

    ``src``, ``dst``: ``(..., N, 3)`` point sets, one transform per leading index. Returns the
    transformed ``src`` (same shape). ``with_scale=False`` fixes the scale to 1 (rigid).
    """
    s = _arr(src, "src", min_ndim=2, last=3)
    d = _arr(dst, "dst", min_ndim=2, last=3)
    _same_shape(d, s, "dst", "src")
    ms, md = s.mean(axis=-2, keepdims=True), d.mean(axis=-2, keepdims=True)
    s0, d0 = s - ms, d - md
    cov = np.swapaxes(d0, -1, -2) @ s0  # (..., 3, 3) = sum_n d_n s_n^T
    U, S, Vt = np.linalg.svd(cov)
    sign = np.sign(np.linalg.det(U @ Vt))
    sign = np.where(sign == 0, 1.0, sign)
    D = np.ones(S.shape)
    D[..., -1] = sign
    R = U @ (D[..., :, None] * Vt)  # (..., 3, 3)
    if with_scale:
        var = (s0 ** 2).sum(axis=(-1, -2))
        c = np.where(var > 0, (S * D).sum(-1) / np.where(var > 0, var, 1.0), 1.0)
    else:
        c = np.ones(S.shape[:-1])
    return c[..., None, None] * (s0 @ np.swapaxes(R, -1, -2)) + md


def pa_mpjpe(pred: ArrayLike, gt: ArrayLike, scale: float = 1000.0) -> float:
    """Procrustes-aligned MPJPE: each pose ``(J, 3)`` of ``pred`` ``(..., J, 3)`` is aligned to
    ``gt`` by its own similarity transform (rotation, translation, scale), then MPJPE (mm)."""
    p, g = _joints(pred, gt)
    return float(np.linalg.norm(similarity_align(p, g) - g, axis=-1).mean() * scale)


def accel_error(pred: ArrayLike, gt: ArrayLike, fps: float,
                root: Union[None, int, Sequence[int]] = None, scale: float = 1.0) -> float:
    """Acceleration error: mean over frames and joints of ``||d2 pred - d2 gt|| * fps**2``.

    ``pred``, ``gt``: ``(T, J, 3)`` in m (optionally root-aligned first, like :func:`mpjpe`).
    ``d2`` is the second finite difference. Units m/s^2 (``scale=1000``: mm/s^2). Note that
    several papers print mm/frame^2, i.e. without the ``fps**2``.
    """
    p, g = _joints(pred, gt)
    if p.shape[0] < 3:
        raise MotionLabError(f"needs at least 3 frames, got {p.shape[0]}", place="pred")
    p, g = _root_align(p, root), _root_align(g, root)
    f = _fps(fps)
    diff = (np.diff(p, n=2, axis=0) - np.diff(g, n=2, axis=0)) * f * f
    return float(np.linalg.norm(diff, axis=-1).mean() * scale)
