"""Rotations and character-motion prediction: GeoDeg, yaw and root-velocity errors."""

from __future__ import annotations

from typing import Dict, Optional, Union

import numpy as np

from motionlab.core.rotations import geodesic_angle
from motionlab.errors import MotionLabError
from motionlab.eval.metrics._checks import ArrayLike, _arr, _fps, _same_shape
from motionlab.eval.metrics.motion import velocity

__all__ = ['geodesic_deg', 'wrap_deg', 'yaw_abs_deg', 'root_vel_mae', 'yaw_drift_deg', 'planar_world_velocity',
           'angvel_cosine', 'soft_contact_mae', 'contact_ratio', 'horizon_curve', 'speed_following_error',
           'heading_following_error']


def geodesic_deg(R_pred: ArrayLike, R_true: ArrayLike, reduce: bool = True) -> Union[float, np.ndarray]:
    """GeoDeg: geodesic angle between rotations in degrees (atan2 form,
    :func:`motionlab.core.rotations.geodesic_angle`). ``R_pred``, ``R_true``: ``(..., 3, 3)``.
    Returns the mean over all rotations, or the ``(...)`` angles when ``reduce=False``."""
    a = _arr(R_pred, "R_pred", min_ndim=2)
    b = _arr(R_true, "R_true", min_ndim=2)
    _same_shape(b, a, "R_true", "R_pred")
    if a.shape[-2:] != (3, 3):
        raise MotionLabError(f"rotation matrices must be (..., 3, 3), got {a.shape}", place="R_pred")
    ang = np.degrees(np.asarray(geodesic_angle(a, b)))
    return float(ang.mean()) if reduce else ang


def wrap_deg(angle: ArrayLike) -> np.ndarray:
    """Angles in degrees wrapped to ``[-180, 180)``."""
    a = _arr(angle, "angle")
    return (a + 180.0) % 360.0 - 180.0


def yaw_abs_deg(yaw_pred: ArrayLike, yaw_true: ArrayLike, degrees: bool = True) -> float:
    """YawAbsDeg: mean ``|wrap(yaw_pred - yaw_true)|`` in degrees, wrap to ``[-180, 180)``.

    Inputs: root yaw angles of any (equal) shape, in degrees (``degrees=False``: radians).
    179 vs -179 is a 2 degree error.
    """
    a, b = _arr(yaw_pred, "yaw_pred"), _arr(yaw_true, "yaw_true")
    _same_shape(b, a, "yaw_true", "yaw_pred")
    d = a - b
    if not degrees:
        d = np.degrees(d)
    return float(np.abs(wrap_deg(d)).mean())


def root_vel_mae(pred: ArrayLike, true: ArrayLike, fps: Optional[float] = None) -> float:
    """RootVelMAE: mean absolute error of the root planar (XY) velocity, m/s.

    ``pred``, ``true``: ``(..., 2)`` or ``(..., 3)`` root velocities (m/s; only X and Y are
    used), or, when ``fps`` is given, ``(T, 2|3)`` root positions whose forward differences times
    ``fps`` are the velocities. The error is ``|v_pred - v_true|`` per planar component, averaged
    over components and frames.
    """
    a = _arr(pred, "pred", min_ndim=1)
    b = _arr(true, "true", min_ndim=1)
    _same_shape(b, a, "true", "pred")
    if a.shape[-1] not in (2, 3):
        raise MotionLabError(f"last axis must be 2 or 3 (x, y[, z]), got {a.shape}", place="pred")
    if fps is not None:
        a, b = velocity(a, fps), velocity(b, fps)
    return float(np.abs(a[..., :2] - b[..., :2]).mean())


def yaw_drift_deg(yaw_rate_pred: ArrayLike, yaw_rate_true: ArrayLike, fps: float) -> np.ndarray:
    """Heading error (degrees, wrapped to ``[-180, 180)``, absolute) accumulated over a rollout.

    ``yaw_rate_*``: ``(..., S)`` yaw rates (rad/s) of the predicted frames in order; the heading after frame
    ``k`` is the sum of the rates of frames ``0..k`` over ``fps``. Returns ``(..., S)``:
    ``|wrap(sum_{j<=k} (pred_j - true_j) / fps)|`` in degrees.
    """
    a, b = _arr(yaw_rate_pred, "yaw_rate_pred", min_ndim=1), _arr(yaw_rate_true, "yaw_rate_true", min_ndim=1)
    _same_shape(b, a, "yaw_rate_true", "yaw_rate_pred")
    f = _fps(fps)
    return np.abs(wrap_deg(np.degrees(np.cumsum(a - b, axis=-1) / f)))


def planar_world_velocity(v_local: ArrayLike, yaw_rate: ArrayLike, fps: float, yaw0: float = 0.0) -> np.ndarray:
    """World planar velocities ``(..., S, 2)`` of heading-frame velocities ``(..., S, 2)`` along a rollout
    whose heading starts at ``yaw0`` (rad) and turns by ``yaw_rate / fps`` after each frame."""
    v = _arr(v_local, "v_local", min_ndim=2, last=2)
    r = _arr(yaw_rate, "yaw_rate", min_ndim=1)
    if r.shape != v.shape[:-1]:
        raise MotionLabError(f"yaw_rate {r.shape} does not match v_local {v.shape}", place="yaw_rate")
    f = _fps(fps)
    yaw = yaw0 + np.concatenate([np.zeros(r.shape[:-1] + (1,)), np.cumsum(r, axis=-1)[..., :-1]], axis=-1) / f
    c, s = np.cos(yaw), np.sin(yaw)
    return np.stack([c * v[..., 0] - s * v[..., 1], s * v[..., 0] + c * v[..., 1]], axis=-1)


def angvel_cosine(w_pred: ArrayLike, w_true: ArrayLike, min_speed: float = 0.2) -> float:
    """Mean cosine between predicted and true angular velocity vectors ``(..., 3)`` (rad/s) over the entries
    whose true speed exceeds ``min_speed`` (1.0 = the bone turns the right way; NaN when none moves)."""
    a, b = _arr(w_pred, "w_pred", last=3), _arr(w_true, "w_true", last=3)
    _same_shape(b, a, "w_true", "w_pred")
    na, nb = np.linalg.norm(a, axis=-1), np.linalg.norm(b, axis=-1)
    keep = nb > min_speed
    if not keep.any():
        return float("nan")
    return float(((a * b).sum(-1)[keep] / np.maximum(na[keep] * nb[keep], 1e-12)).mean())


def soft_contact_mae(pred: ArrayLike, true: ArrayLike) -> float:
    """FootContact: mean absolute difference of soft contact scores in [0, 1] (a score gap, not an accuracy)."""
    a, b = _arr(pred, "pred"), _arr(true, "true")
    _same_shape(b, a, "true", "pred")
    return float(np.abs(a - b).mean())


def contact_ratio(scores: ArrayLike, threshold: float = 0.5) -> float:
    """Fraction of frames (and feet) whose soft contact score exceeds ``threshold``."""
    return float((_arr(scores, "scores") > threshold).mean())


def horizon_curve(per_step: ArrayLike, fps: float, horizons_s) -> Dict[float, float]:
    """Errors ``(N, S)`` per rollout step (step ``k`` = ``(k + 1) / fps`` seconds ahead) averaged over rollouts
    at each horizon in seconds: ``{h: mean(per_step[:, round(h * fps) - 1])}``; horizons past ``S`` are left out."""
    e = _arr(per_step, "per_step", min_ndim=2)
    f = _fps(fps)
    out = {}
    for h in horizons_s:
        k = int(round(float(h) * f)) - 1
        if 0 <= k < e.shape[1]:
            out[float(h)] = float(e[:, k].mean())
    return out


def speed_following_error(actual: ArrayLike, commanded: ArrayLike) -> float:
    """Relative error of the mean planar root speed against the commanded one: ``|mean(actual) -
    mean(commanded)| / mean(commanded)`` (speeds in m/s; 0.1 = off by 10%)."""
    a, b = _arr(actual, "actual"), _arr(commanded, "commanded")
    cm = float(np.abs(b).mean())
    if cm <= 0:
        raise MotionLabError("the commanded speed is zero: a relative error is undefined", place="commanded")
    return float(abs(np.abs(a).mean() - cm) / cm)


def heading_following_error(yaw_actual: ArrayLike, yaw_commanded: ArrayLike, degrees: bool = False) -> float:
    """Mean absolute heading error (degrees, wrapped) between the rollout's heading and the commanded one."""
    return yaw_abs_deg(yaw_actual, yaw_commanded, degrees=degrees)


#: Reported names of this topic and whether lower or higher is better (see ``METRIC_DIRECTIONS``).
DIRECTIONS: Dict[str, str] = {
    "geodesic_deg": "lower", "yaw_abs_deg": "lower", "root_vel_mae": "lower",
    "GeoDeg": "lower", "YawAbsDeg": "lower", "RootVelMAE": "lower", "FootContact": "lower",
    "speed_error_rel": "lower", "heading_error_deg": "lower",
}
