"""Resampling to another frame rate: one scheme for the whole package.

The sample times are those of BeyondMimic's converter, ``arange(0, (N - 1) / fps_in, 1 / fps_out)``
(300 frames at 30 fps -> 499 frames at 50 fps): the clip is never extrapolated past its last
frame. Positions and other float channels are interpolated linearly, quaternions by slerp.
"""

from __future__ import annotations

from typing import Tuple

import numpy as np

from motionlab.core.rotations import quat_fix_continuity, quat_slerp
from motionlab.errors import MotionLabError


def resample_times(num_frames: int, fps_in: float, fps_out: float) -> np.ndarray:
    """Output sample times in seconds (see module docstring). Equal rates keep every frame."""
    if not (np.isfinite(fps_in) and np.isfinite(fps_out)) or fps_in <= 0 or fps_out <= 0:
        raise MotionLabError(f"frame rates must be positive, got {fps_in} -> {fps_out}")
    if num_frames < 1:
        raise MotionLabError("cannot resample an empty clip")
    if np.isclose(fps_in, fps_out, rtol=0, atol=1e-9) or num_frames == 1:
        return np.arange(num_frames) / fps_in
    return np.arange(0.0, (num_frames - 1) / fps_in, 1.0 / fps_out)


def _index_blend(times: np.ndarray, num_frames: int, fps_in: float) -> Tuple[np.ndarray, np.ndarray, np.ndarray]:
    x = times * fps_in
    i0 = np.clip(np.floor(x + 1e-9).astype(np.int64), 0, num_frames - 1)
    i1 = np.minimum(i0 + 1, num_frames - 1)
    blend = np.clip(x - i0, 0.0, 1.0)
    return i0, i1, blend


def lerp_frames(values: np.ndarray, times: np.ndarray, fps_in: float) -> np.ndarray:
    """Linear interpolation of ``(T, ...)`` float frames at ``times``."""
    i0, i1, b = _index_blend(times, len(values), fps_in)
    b = b.reshape(-1, *([1] * (values.ndim - 1)))
    return values[i0] * (1.0 - b) + values[i1] * b


def nearest_frames(values: np.ndarray, times: np.ndarray, fps_in: float) -> np.ndarray:
    """Nearest-frame sampling of ``(T, ...)`` frames (for labels, booleans and ids)."""
    idx = np.clip(np.round(times * fps_in).astype(np.int64), 0, len(values) - 1)
    return values[idx]


def slerp_frames(quats: np.ndarray, times: np.ndarray, fps_in: float) -> np.ndarray:
    """Slerp of ``(T, ..., 4)`` w-first quaternion frames at ``times``."""
    q = quat_fix_continuity(np.asarray(quats, dtype=np.float64), dim=0)
    i0, i1, b = _index_blend(times, len(q), fps_in)
    b = b.reshape(-1, *([1] * (q.ndim - 2)))
    return quat_slerp(q[i0], q[i1], np.broadcast_to(b, q[i0].shape[:-1]).copy())


def resample_extras(extras, times: np.ndarray, fps_in: float) -> dict:
    """Per-frame extras at ``times``: quaternions (float, key ending in ``quat``, last axis 4) by slerp,
    other float arrays linearly, everything else (labels, booleans, ids) at the nearest frame."""
    out = {}
    for k, v in extras.items():
        v = np.asarray(v)
        if np.issubdtype(v.dtype, np.floating):
            quat = k.endswith("quat") and v.shape[-1] == 4
            out[k] = slerp_frames(v, times, fps_in) if quat else lerp_frames(v, times, fps_in)
        else:
            out[k] = nearest_frames(v, times, fps_in)
    return out
