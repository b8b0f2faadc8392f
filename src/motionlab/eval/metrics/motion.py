"""Motion quality: derivatives, jerk, foot skating, ground penetration, seams."""

from __future__ import annotations

from typing import Dict, NamedTuple, Sequence, Union

import numpy as np

from motionlab.errors import MotionLabError, choices_error
from motionlab.eval.metrics._checks import ArrayLike, _arr, _fps, _int_indices, _step_magnitude

__all__ = ['derivative', 'velocity', 'acceleration', 'jerk', 'mean_jerk', 'foot_skating_ratio', 'height_weighted_sliding_mm', 'Penetration', 'ground_penetration', 'seam_discontinuity']


def derivative(x: ArrayLike, fps: float, order: int = 1) -> np.ndarray:
    """``order``-th forward finite difference along time times ``fps**order``.

    ``x``: ``(T, ...)`` positions (m) or joint angles (rad) sampled at ``fps``. Returns
    ``(T - order, ...)`` in units per second**order; entry ``t`` spans frames ``t .. t+order``.
    """
    if int(order) != order or order < 0:
        raise MotionLabError(f"order must be a non-negative integer, got {order!r}", place="order")
    order = int(order)
    a = _arr(x, "x", min_ndim=1, min_len=order + 1)
    return np.diff(a, n=order, axis=0) * _fps(fps) ** order if order else a.copy()


def velocity(x: ArrayLike, fps: float) -> np.ndarray:
    """First finite difference times ``fps``: ``(T, ...) -> (T-1, ...)``, units/s (m/s or rad/s)."""
    return derivative(x, fps, 1)


def acceleration(x: ArrayLike, fps: float) -> np.ndarray:
    """Second finite difference times ``fps**2``: ``(T, ...) -> (T-2, ...)``, units/s^2."""
    return derivative(x, fps, 2)


def jerk(x: ArrayLike, fps: float) -> np.ndarray:
    """Third finite difference times ``fps**3``: ``(T, ...) -> (T-3, ...)``, units/s^3.

    ``x[t+3] - 3 x[t+2] + 3 x[t+1] - x[t]``; for a cubic ``a t^3 + ...`` it is exactly ``6 a``.
    """
    return derivative(x, fps, 3)


def mean_jerk(x: ArrayLike, fps: float, kind: str = "positions") -> float:
    """Mean jerk magnitude of a sequence.

    ``kind="positions"``: ``x`` is ``(T, ..., 3)`` (m); magnitude = Euclidean norm of the 3-vector
    per joint, averaged over joints and frames (m/s^3). ``kind="angles"``: ``x`` is ``(T, ...)``
    joint angles (rad); magnitude = absolute value per angle, averaged (rad/s^3).
    """
    j = jerk(x, fps)
    if kind == "positions":
        if j.ndim < 2 or j.shape[-1] != 3:
            raise MotionLabError("positions must be (T, ..., 3) (use kind='angles' for joint angles)",
                                 place="x")
        return float(np.linalg.norm(j, axis=-1).mean())
    if kind == "angles":
        return float(np.abs(j).mean())
    raise choices_error("jerk kind", kind, ("positions", "angles"), place="kind")


def foot_skating_ratio(
    feet: ArrayLike,
    fps: float,
    height: float = 0.05,
    speed: float = 0.5,
    window_s: float = 0.25,
    floor: float = 0.0,
) -> Union[float, np.ndarray]:
    """Foot skating ratio, GMD / OmniControl protocol.

    ``feet``: ``(T, F, 3)`` foot-joint positions (m, Z up; usually the two feet/toes) or a batch
    ``(B, T, F, 3)``. For each frame step ``t -> t+1``:

    * contact: the foot is below ``floor + height`` (5 cm) in both frames ``t`` and ``t+1``;
    * horizontal speed ``v_t = ||xy[t+1] - xy[t]|| * fps`` (m/s);
    * skating: contact and ``v_t > speed`` (0.5 m/s) and the running mean of ``v`` over a window of
      ``window_s`` seconds (``uniform_filter1d``, zero padding outside the clip, as the original)
      also above ``speed``.

    Ratio = fraction of the ``T-1`` steps in which either foot skates. The thresholds are in m and
    m/s, so they are fps-independent; the averaging window is 5 frames at the original 20 fps and
    scales to ``round(window_s * fps)`` frames at other rates. Returns a float, or ``(B,)``.
    """
    from scipy.ndimage import uniform_filter1d

    f = _fps(fps)
    a = _arr(feet, "feet", min_ndim=3, last=3)
    if a.ndim not in (3, 4):
        raise MotionLabError(f"feet must be (T, F, 3) or (B, T, F, 3), got {a.shape}", place="feet")
    batch = a if a.ndim == 4 else a[None]
    if batch.shape[1] < 2:
        raise MotionLabError(f"needs at least 2 frames, got {batch.shape[1]}", place="feet")
    win = max(1, int(round(window_s * f)))
    v = np.linalg.norm(np.diff(batch[..., :2], axis=1), axis=-1) * f  # (B, T-1, F)
    v_avg = uniform_filter1d(v, size=win, axis=1, mode="constant", cval=0.0)
    low = batch[..., 2] - floor < height  # (B, T, F)
    contact = low[:, :-1] & low[:, 1:]
    skating = contact & (v > speed) & (v_avg > speed)
    ratio = skating.any(axis=-1).mean(axis=1)
    return float(ratio[0]) if a.ndim == 3 else ratio


def height_weighted_sliding_mm(
    foot: ArrayLike,
    H: Union[float, Sequence[float]] = 0.08,
    floor: float = 0.0,
    reduce: bool = True,
) -> Union[float, np.ndarray]:
    """Height-weighted foot sliding in mm (PhysDiff / EgoEgo style).

    ``foot``: ``(T, 3)`` one foot joint or ``(T, F, 3)`` several (m, Z up). Per frame step, with
    ``disp = ||xy[t+1] - xy[t]||`` and ``h`` the mean height (above ``floor``) of the two frames,
    steps with ``h < H`` add ``disp * (2 - 2**(h / H))`` (weight 1 at the floor, 0 at ``H``);
    the sum is divided by the number of frames ``T`` and multiplied by 1000 (mm per frame).
    ``H`` is 0.08 m for ankles and 0.04 m for toes (a scalar or one per foot). Returns the mean over
    feet (``reduce=True``) or the per-foot ``(F,)`` values. People notice sliding above ~21 mm.
    """
    a = _arr(foot, "foot", min_ndim=2, last=3, min_len=2)
    if a.ndim not in (2, 3):
        raise MotionLabError(f"foot must be (T, 3) or (T, F, 3), got {a.shape}", place="foot")
    single = a.ndim == 2
    if single:
        a = a[:, None]
    Hs = np.broadcast_to(np.asarray(H, dtype=np.float64), (a.shape[1],))
    if not (Hs > 0).all():
        raise MotionLabError(f"H must be positive, got {H!r}", place="H")
    disp = np.linalg.norm(np.diff(a[..., :2], axis=0), axis=-1)  # (T-1, F)
    h = 0.5 * (a[1:, :, 2] + a[:-1, :, 2]) - floor
    w = np.where(h < Hs, 2.0 - np.power(2.0, h / Hs), 0.0)
    per_foot = (disp * w).sum(axis=0) / a.shape[0] * 1000.0
    if reduce or single:
        return float(per_foot.mean())
    return per_foot


class Penetration(NamedTuple):
    """Ground penetration: ``fraction`` of frames below the tolerance, ``minimum`` height (m)."""

    fraction: float
    minimum: float


def ground_penetration(points: ArrayLike, floor: float = 0.0, tol: float = 0.01) -> Penetration:
    """Ground penetration of foot points.

    ``points``: ``(T, P, 3)`` foot joints or foot-mesh points (m, Z up), or ``(T,)`` lowest heights.
    Per frame the lowest point ``h_t = min_p z - floor``. Returns ``(fraction of frames with
    h_t < -tol (1 cm), min_t h_t in m)``; a negative minimum is the deepest penetration.
    """
    a = _arr(points, "points", min_ndim=1)
    if a.ndim == 1:
        low = a - floor
    elif a.shape[-1] == 3:
        low = a[..., 2].reshape(a.shape[0], -1).min(axis=1) - floor
    else:
        raise MotionLabError(f"points must be (T,) heights or (T, P, 3), got {a.shape}", place="points")
    return Penetration(float((low < -tol).mean()), float(low.min()))


def seam_discontinuity(x: ArrayLike, seams: Sequence[int], fps: float, order: int = 1) -> float:
    """Jump at window seams relative to the typical change inside windows (a ratio; 1 = seamless).

    For generators that produce motion window by window. ``x``: ``(T,)``, ``(T, D)`` features or
    ``(T, J, 3)`` positions; ``seams``: the first frame of every window after the first (frame
    ``s`` follows frame ``s-1`` across a seam). The ``order``-th finite difference times
    ``fps**order`` (1: velocity, 2: acceleration) has a per-step magnitude (``|d|``, ``||d||``, or
    the mean over joints of ``||d_j||``). Differences whose frames straddle a seam measure the seam;
    the value of a seam is the largest of them. Result = mean over seams of that value divided by
    the median magnitude over differences that touch no seam. A "big jump every ~2 s" of a chunked
    autoregressive generator shows as a ratio well above 1 (a position jump with ``order=1``, a
    velocity jump with ``order=2``). ``fps`` cancels in the ratio but fixes the units of the parts.
    """
    if order not in (1, 2, 3):
        raise MotionLabError(f"order must be 1, 2 or 3, got {order!r}", place="order")
    d = derivative(x, fps, order)
    mag = _step_magnitude(d)
    T = d.shape[0] + order
    s = np.unique(_int_indices(seams, "seams").reshape(-1)) if len(seams) else np.zeros(0, np.int64)
    if s.size == 0:
        raise MotionLabError("no seams given", place="seams")
    if s.min() < 1 or s.max() > T - 1:
        raise MotionLabError(f"seams must lie in 1..{T - 1} (frames of x), got {s.tolist()}", place="seams")
    starts = np.arange(mag.shape[0])
    # difference i uses frames i..i+order; it straddles seam s when i < s <= i + order
    straddle = (starts[:, None] < s[None]) & (s[None] <= starts[:, None] + order)  # (S, n_seams)
    inside = ~straddle.any(axis=1)
    if not inside.any():
        raise MotionLabError("no differences inside windows; windows too short for this order", place="seams")
    ref = float(np.median(mag[inside]))
    seam_vals = np.array([mag[straddle[:, k]].max() for k in range(s.size)])
    if ref <= 0.0:
        return 1.0 if float(seam_vals.mean()) <= 0.0 else float("inf")
    return float(seam_vals.mean() / ref)


#: Reported names of this topic and whether lower or higher is better (see ``METRIC_DIRECTIONS``).
DIRECTIONS: Dict[str, str] = {
    "mean_jerk": "lower", "jerk_gap": "lower", "foot_skating_ratio": "lower", "height_weighted_sliding_mm": "lower",
    "ground_penetration": "lower", "ground_penetration_fraction": "lower",
    "seam_discontinuity": "lower",
}
