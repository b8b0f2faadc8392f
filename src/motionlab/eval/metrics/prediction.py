"""Rotations and character-motion prediction: GeoDeg, yaw and root-velocity errors."""

from __future__ import annotations

from typing import Dict, Optional, Union

import numpy as np

from motionlab.core.rotations import geodesic_angle
from motionlab.errors import MotionLabError
from motionlab.eval.metrics._checks import ArrayLike, _arr, _same_shape
from motionlab.eval.metrics.motion import velocity

__all__ = ['geodesic_deg', 'wrap_deg', 'yaw_abs_deg', 'root_vel_mae']


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


#: Reported names of this topic and whether lower or higher is better (see ``METRIC_DIRECTIONS``).
DIRECTIONS: Dict[str, str] = {
    "geodesic_deg": "lower", "yaw_abs_deg": "lower", "root_vel_mae": "lower",
}
