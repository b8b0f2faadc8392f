"""Motion recovery from 2D keypoints: world-frame errors (W-MPJPE, WA-MPJPE), RTE, jitter."""

from __future__ import annotations

from typing import Dict

import numpy as np

from motionlab.errors import MotionLabError
from motionlab.eval.metrics._checks import ArrayLike, _arr, _fps, _same_shape
from motionlab.eval.metrics.motion import mean_jerk
from motionlab.eval.metrics.pose import _joints

__all__ = ['w_mpjpe', 'wa_mpjpe', 'rte', 'jitter', 'contact_foot_sliding']


def _chunks(n: int, chunk: int):
    chunk = int(chunk)
    if chunk < 1:
        raise MotionLabError(f"chunk must be positive, got {chunk}", place="chunk")
    return [(s, min(n, s + chunk)) for s in range(0, n, chunk)]


def w_mpjpe(pred: ArrayLike, gt: ArrayLike, chunk: int = 100, scale: float = 1000.0) -> float:
    """W-MPJPE100 (WHAM / GVHMR world-frame protocol).

    ``pred``, ``gt``: ``(T, J, 3)`` world joints (m). The sequence is cut into chunks of ``chunk``
    (100) frames (the last may be shorter); in each chunk the prediction is moved by the rigid
    transform (rotation + translation, scale fixed to 1) that best aligns its first two frames'
    joints to the ground truth's; the error is the mean joint distance per frame, averaged over all
    frames of the sequence. ``scale`` 1000 reports mm.
    """
    p, g = _joints(pred, gt)
    if p.ndim != 3:
        raise MotionLabError(f"joints must be (T, J, 3), got {p.shape}", place="pred")
    errs = []
    for s, e in _chunks(p.shape[0], chunk):
        ps, gs = p[s:e], g[s:e]
        n0 = min(2, e - s)
        src0, dst0 = ps[:n0].reshape(-1, 3), gs[:n0].reshape(-1, 3)
        aligned = _apply_fit(src0, dst0, ps, with_scale=False)
        errs.append(np.linalg.norm(aligned - gs, axis=-1).mean(axis=-1))
    return float(np.concatenate(errs).mean() * scale)


def _fit_transform(src: np.ndarray, dst: np.ndarray, with_scale: bool):
    """Similarity (or rigid) ``(c, R, t)`` with ``dst ~ c R src + t`` for ``(N, 3)`` point sets."""
    ms, md = src.mean(0), dst.mean(0)
    s0, d0 = src - ms, dst - md
    U, S, Vt = np.linalg.svd(d0.T @ s0)
    D = np.ones(3)
    D[-1] = -1.0 if np.linalg.det(U @ Vt) < 0 else 1.0
    R = U @ np.diag(D) @ Vt
    var = (s0 ** 2).sum()
    c = float((S * D).sum() / var) if with_scale and var > 0 else 1.0
    return c, R, md - c * R @ ms


def _apply_fit(src: np.ndarray, dst: np.ndarray, pts: np.ndarray, with_scale: bool) -> np.ndarray:
    c, R, t = _fit_transform(src, dst, with_scale)
    return c * pts @ R.T + t


def wa_mpjpe(pred: ArrayLike, gt: ArrayLike, chunk: int = 100, scale: float = 1000.0) -> float:
    """WA-MPJPE100 (WHAM / GVHMR world-frame protocol).

    Like :func:`w_mpjpe`, but each 100-frame chunk of the prediction is moved by the one similarity
    transform (rotation, translation, scale) that best aligns all of the chunk's joints to the
    ground truth's. Mean joint distance over all frames; ``scale`` 1000 reports mm.
    """
    p, g = _joints(pred, gt)
    if p.ndim != 3:
        raise MotionLabError(f"joints must be (T, J, 3), got {p.shape}", place="pred")
    errs = []
    for s, e in _chunks(p.shape[0], chunk):
        ps, gs = p[s:e], g[s:e]
        aligned = _apply_fit(ps.reshape(-1, 3), gs.reshape(-1, 3), ps, with_scale=True)
        errs.append(np.linalg.norm(aligned - gs, axis=-1).mean(axis=-1))
    return float(np.concatenate(errs).mean() * scale)


def rte(pred_root: ArrayLike, gt_root: ArrayLike) -> float:
    """RTE (root trajectory error, WHAM / GVHMR), in % of the ground-truth path length.

    ``pred_root``, ``gt_root``: ``(T, 3)`` root positions (m). The whole predicted trajectory is
    rigidly aligned (rotation + translation, no scale) to the ground truth; the per-frame distance
    is divided by the ground-truth path length ``sum_t ||gt[t+1] - gt[t]||``; mean over frames x 100.
    """
    p = _arr(pred_root, "pred_root", min_ndim=2, last=3, min_len=2)
    g = _arr(gt_root, "gt_root", min_ndim=2, last=3, min_len=2)
    _same_shape(g, p, "gt_root", "pred_root")
    if p.ndim != 2:
        raise MotionLabError(f"root trajectories must be (T, 3), got {p.shape}", place="pred_root")
    length = float(np.linalg.norm(np.diff(g, axis=0), axis=-1).sum())
    if length <= 0:
        raise MotionLabError("ground-truth root does not move (path length 0)", place="gt_root")
    aligned = _apply_fit(p, g, p, with_scale=False)
    return float(np.linalg.norm(aligned - g, axis=-1).mean() / length * 100.0)


def jitter(x: ArrayLike, fps: float) -> float:
    """Jitter (GVHMR): mean over frames and joints of ``||x[t+3] - 3x[t+2] + 3x[t+1] - x[t]|| * fps^3``.

    ``x``: ``(T, J, 3)`` joints (m). Units m/s^3 (GVHMR prints it in 10 m/s^3, i.e. divided by 10).
    Same number as :func:`mean_jerk` with ``kind="positions"``.
    """
    return mean_jerk(x, fps, kind="positions")


def contact_foot_sliding(pred_feet: ArrayLike, gt_feet: ArrayLike, fps: float, height: float = 0.05,
                         speed: float = 0.2, scale: float = 1000.0) -> float:
    """Foot sliding of a recovered motion (WHAM / GVHMR style, on joints instead of mesh vertices).

    ``pred_feet``, ``gt_feet``: ``(T, F, 3)`` world positions (m, Z up) of the foot joints (ankles,
    feet). A foot is in contact over the step ``t -> t+1`` when the *ground truth* foot is below
    ``height`` (5 cm) in both frames and moves slower than ``speed`` (0.2 m/s) horizontally; the
    result is the mean horizontal displacement of the *predicted* foot over those steps (``scale``
    1000: mm per frame). 0 when the truth has no contact step.
    """
    p, g = _joints(pred_feet, gt_feet)
    f = _fps(fps)
    if p.ndim != 3 or p.shape[0] < 2:
        raise MotionLabError(f"feet must be (T >= 2, F, 3), got {p.shape}", place="pred_feet")
    low = g[..., 2] < height
    gv = np.linalg.norm(np.diff(g[..., :2], axis=0), axis=-1) * f
    contact = low[:-1] & low[1:] & (gv < speed)
    if not contact.any():
        return 0.0
    disp = np.linalg.norm(np.diff(p[..., :2], axis=0), axis=-1)
    return float(disp[contact].mean() * scale)


#: Reported names of this topic and whether lower or higher is better (see ``METRIC_DIRECTIONS``).
DIRECTIONS: Dict[str, str] = {
    "w_mpjpe": "lower", "wa_mpjpe": "lower", "rte": "lower", "jitter": "lower", "foot_sliding": "lower",
}
