"""Windows over clips, splits by clip, and normalisation statistics.

Windows never cross clips, and splits are made over *clips* before windowing, so overlapping
windows of one clip never land in two splits.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path
from typing import Dict, Mapping, Sequence, Tuple

import numpy as np

from motionlab.errors import MotionLabError

SPLITS = ("train", "val", "test")


def window_starts(num_frames: int, length: int, stride: int) -> np.ndarray:
    """Start frames of every full window of ``length`` frames, ``stride`` apart."""
    if length < 1 or stride < 1:
        raise MotionLabError(f"window length and stride must be >= 1, got {length} and {stride}")
    if num_frames < length:
        return np.zeros(0, dtype=np.int64)
    return np.arange(0, num_frames - length + 1, stride, dtype=np.int64)


def make_windows(clips: Sequence[np.ndarray], length: int, stride: int) -> Tuple[np.ndarray, np.ndarray]:
    """Cut ``(T_i, ...)`` clips into windows.

    Returns ``windows (N, length, ...)`` and ``index (N, 2)`` = (clip number, start frame).
    Clips shorter than ``length`` contribute nothing.
    """
    if not clips:
        raise MotionLabError("no clips to cut into windows")
    tail = clips[0].shape[1:]
    out, idx = [], []
    for c, x in enumerate(clips):
        if x.shape[1:] != tail:
            raise MotionLabError(f"clip {c} has frame shape {x.shape[1:]}, the first clip has {tail}")
        starts = window_starts(len(x), length, stride)
        if len(starts):
            view = np.lib.stride_tricks.sliding_window_view(x, length, axis=0)[starts]
            out.append(np.moveaxis(view, -1, 1))
            idx.append(np.stack([np.full(len(starts), c), starts], axis=1))
    if not out:
        raise MotionLabError(f"every clip is shorter than the window length {length}")
    return np.ascontiguousarray(np.concatenate(out)), np.concatenate(idx).astype(np.int64)


def split_of(clip_id: str, fractions: Tuple[float, float, float] = (0.8, 0.1, 0.1), seed: int = 0) -> str:
    """Deterministic split of a clip from a hash of its id (independent of listing order)."""
    h = int(hashlib.sha256(f"{seed}:{clip_id}".encode()).hexdigest()[:12], 16) / float(16**12)
    if h < fractions[0]:
        return "train"
    if h < fractions[0] + fractions[1]:
        return "val"
    return "test"


def assign_splits(clip_ids: Sequence[str], given: Mapping[str, str] = None,
                  fractions: Tuple[float, float, float] = (0.8, 0.1, 0.1), seed: int = 0) -> Dict[str, str]:
    """Split per clip: a manifest's ``given`` splits where present, else :func:`split_of`.

    Guarantees a non-empty train and a non-empty held-out set (val or test) when there are at
    least two clips, by moving the clips nearest the boundary.
    """
    out = {}
    for cid in clip_ids:
        s = (given or {}).get(cid) or split_of(cid, fractions, seed)
        if s not in SPLITS:
            raise MotionLabError(f"clip {cid!r} has split {s!r}; valid: {', '.join(SPLITS)}")
        out[cid] = s
    ids = sorted(clip_ids)
    if len(ids) >= 2:
        if not any(v == "train" for v in out.values()):
            out[ids[0]] = "train"
        if not any(v in ("val", "test") for v in out.values()):
            out[ids[-1]] = "test"
    return out


@dataclass
class Normalizer:
    """Per-feature mean and std, computed on training data only and saved with a run."""

    mean: np.ndarray
    std: np.ndarray

    @classmethod
    def fit(cls, x: np.ndarray, eps: float = 1e-2) -> "Normalizer":
        """Statistics over every axis but the last of ``x (..., D)``; std floored at ``eps``.

        The floor keeps channels that barely move in training (a 6D entry of a joint that hardly
        rotates) from turning tiny test deviations into huge normalised errors that would dominate
        a loss or an MSE metric."""
        flat = np.asarray(x, dtype=np.float64).reshape(-1, x.shape[-1])
        if len(flat) == 0:
            raise MotionLabError("cannot compute normalisation statistics of an empty training set")
        return cls(flat.mean(0).astype(np.float32), np.maximum(flat.std(0), eps).astype(np.float32))

    def __call__(self, x):
        return (x - self._like(self.mean, x)) / self._like(self.std, x)

    normalize = __call__

    def denormalize(self, x):
        return x * self._like(self.std, x) + self._like(self.mean, x)

    @staticmethod
    def _like(a: np.ndarray, x):
        try:
            import torch

            if isinstance(x, torch.Tensor):
                return torch.as_tensor(a, dtype=x.dtype, device=x.device)
        except ImportError:  # pragma: no cover
            pass
        return a

    def save(self, path) -> None:
        np.savez(Path(path), mean=self.mean, std=self.std)

    @classmethod
    def load(cls, path) -> "Normalizer":
        try:
            with np.load(Path(path), allow_pickle=False) as z:
                return cls(z["mean"], z["std"])
        except (OSError, KeyError, ValueError) as e:
            raise MotionLabError(f"unreadable normalisation statistics ({e})", file=path) from None
