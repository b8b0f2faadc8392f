"""motionlab's metrics: pure functions, numpy in, floats or arrays out.

Every function accepts numpy arrays, nested lists or ``torch.Tensor`` (detached and converted to
float64 numpy) and raises :class:`~motionlab.errors.MotionLabError` for empty, non-finite or
mis-shaped input, naming the argument as the place. Conventions follow motionlab: Z up, metres,
seconds, radians; time is always the first axis of a sequence (``(T, ...)``).

The definitions are the field's, as collected in ``notes/metrics.md``; each docstring names the
protocol it reproduces. Where the field uses two definitions, both are here under distinct names
and a table must never mix them. :data:`METRIC_DIRECTIONS` says for each reported name whether
lower or higher is better.

Sections: motion quality · tokenizers · rotations / prediction · retargeting · generation
(Frechet distance, diversity, beat consistency, text-motion retrieval) · recovery from 2D ·
dyadic · summaries.
"""

from __future__ import annotations

import math
import warnings
from typing import Dict, List, NamedTuple, Optional, Sequence, Tuple, Union

import numpy as np
import torch

from motionlab.core.rotations import geodesic_angle
from motionlab.errors import MotionLabError, choices_error

ArrayLike = Union[np.ndarray, torch.Tensor, Sequence]

__all__ = [
    # motion quality
    "derivative", "velocity", "acceleration", "jerk", "mean_jerk", "foot_skating_ratio",
    "height_weighted_sliding_mm", "ground_penetration", "seam_discontinuity",
    # tokenizers
    "code_usage", "code_usage_per_level", "perplexity", "perplexity_per_level", "dead_code_ratio",
    "dead_code_ratio_per_level", "residual_usage", "usage_summary", "jerk_gap", "recon_mse", "mpjpe", "pa_mpjpe",
    "accel_error",
    "similarity_align",
    # rotations / prediction
    "geodesic_deg", "wrap_deg", "yaw_abs_deg", "root_vel_mae",
    # retargeting
    "joint_mae", "joint_rmse", "normalized_mse", "limit_violations", "velocity_limit_violations",
    "knn_domain_mixing", "domain_classifier_accuracy", "domain_overlap",
    # generation
    "frechet_distance", "frechet_distance_from_stats", "diversity", "l1_diversity", "audio_onsets",
    "motion_beats", "beat_consistency", "frame_weighted_mean", "r_precision", "multimodal_distance",
    "mean_ci95",
    # recovery
    "w_mpjpe", "wa_mpjpe", "rte", "jitter",
    # dyadic
    "paired_frechet_distance", "motion_energy", "rpcc",
    # tables
    "METRIC_DIRECTIONS",
    # result types
    "JointError", "Violations", "Penetration",
]


# ------------------------------------------------------------------------------------ helpers
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


# ============================================================================ motion quality
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


# ================================================================================= tokenizers
def code_usage(indices: ArrayLike, codebook_size: int) -> np.ndarray:
    """``(K,)`` int64 counts of each code in ``indices`` (any shape; negatives are ignored).

    Accumulate these over the whole evaluation set before :func:`perplexity` or
    :func:`dead_code_ratio` (per-batch values depend on the batch size).
    """
    K = int(codebook_size)
    if K < 1:
        raise MotionLabError(f"codebook size must be positive, got {codebook_size!r}", place="codebook_size")
    idx = _int_indices(indices, "indices").reshape(-1)
    idx = idx[idx >= 0]
    if idx.size and idx.max() >= K:
        raise MotionLabError(f"index {int(idx.max())} outside a codebook of {K}", place="indices")
    return np.bincount(idx, minlength=K).astype(np.int64)


def code_usage_per_level(indices: ArrayLike, codebook_sizes: Union[int, Sequence[int]]) -> List[np.ndarray]:
    """Per-level counts of residual / multi-level indices ``(N, L)`` (or ``(..., L)``).

    ``codebook_sizes``: one size for all levels or one per level. Returns ``L`` arrays ``(K_l,)``.
    """
    idx = _int_indices(indices, "indices")
    if idx.ndim < 2:
        raise MotionLabError(f"indices must be (N, L), got {idx.shape}", place="indices")
    L = idx.shape[-1]
    sizes = [int(codebook_sizes)] * L if np.isscalar(codebook_sizes) else [int(k) for k in codebook_sizes]
    if len(sizes) != L:
        raise MotionLabError(f"{len(sizes)} codebook sizes for {L} levels", place="codebook_sizes")
    return [code_usage(idx[..., l], k) for l, k in enumerate(sizes)]


def _counts(counts: ArrayLike) -> np.ndarray:
    c = _arr(counts, "counts", min_ndim=1)
    if c.ndim != 1:
        raise MotionLabError(f"counts must be (K,), got {c.shape}", place="counts")
    if (c < 0).any():
        raise MotionLabError("counts must be non-negative", place="counts")
    return c


def perplexity(counts: ArrayLike) -> float:
    """Codebook perplexity ``exp(-sum_k p_k log p_k)`` with ``p = counts / sum(counts)``.

    ``counts``: ``(K,)`` usage over the whole evaluation set (:func:`code_usage`). Ranges from 1
    (one code) to ``K`` (uniform usage). Zero total usage raises.
    """
    c = _counts(counts)
    total = c.sum()
    if total <= 0:
        raise MotionLabError("no code was used (all counts are zero)", place="counts")
    p = c[c > 0] / total
    return float(np.exp(-(p * np.log(p)).sum()))


def dead_code_ratio(counts: ArrayLike) -> float:
    """Fraction of the ``K`` codes never used (count 0) over the whole evaluation set."""
    c = _counts(counts)
    return float((c == 0).mean())


def perplexity_per_level(counts: Sequence[ArrayLike]) -> List[float]:
    """:func:`perplexity` of each level's counts (from :func:`code_usage_per_level`)."""
    return [perplexity(c) for c in counts]


def dead_code_ratio_per_level(counts: Sequence[ArrayLike]) -> List[float]:
    """:func:`dead_code_ratio` of each level's counts."""
    return [dead_code_ratio(c) for c in counts]


def residual_usage(indices: ArrayLike, codebook_sizes: Union[int, Sequence[int]]) -> Dict[str, float]:
    """Usage summary of residual / multi-level indices ``(N, L)`` over a whole evaluation set.

    Keys: ``perplexity/l`` and ``dead_code_ratio/l`` per level ``l``; two named totals, never to
    be mixed in one table: ``perplexity_mean`` (mean of the per-level perplexities) and
    ``perplexity_joint`` (perplexity of the ``L``-tuples as one code, bounded by ``N``);
    ``dead_code_ratio_mean`` (mean over levels).
    """
    idx = _int_indices(indices, "indices")
    per = code_usage_per_level(idx, codebook_sizes)
    out: Dict[str, float] = {}
    for l, c in enumerate(per):
        out[f"perplexity/{l}"] = perplexity(c)
        out[f"dead_code_ratio/{l}"] = dead_code_ratio(c)
    out["perplexity_mean"] = float(np.mean([out[f"perplexity/{l}"] for l in range(len(per))]))
    out["dead_code_ratio_mean"] = float(np.mean([out[f"dead_code_ratio/{l}"] for l in range(len(per))]))
    rows = idx.reshape(-1, idx.shape[-1])
    rows = rows[(rows >= 0).all(axis=1)]
    _, joint = np.unique(rows, axis=0, return_counts=True)
    out["perplexity_joint"] = perplexity(joint)
    return out


def usage_summary(indices: ArrayLike, codebook_sizes: Union[int, Sequence[int]]) -> Dict[str, float]:
    """The ONE code-usage summary every recipe reports, over a whole evaluation set.

    ``indices``: ``(N,)`` for a single-level quantizer or ``(N, L)`` for ``L`` levels (negatives
    ignored); ``codebook_sizes``: one size, or one per level. Keys:

    * ``perplexity``: mean over levels of each level's whole-set :func:`perplexity`;
    * ``perplexity_joint``: perplexity of the level tuples taken as one code (equals
      ``perplexity`` for one level);
    * ``dead_code_ratio``: mean over levels of each level's :func:`dead_code_ratio`;
    * ``perplexity/<l>``, ``dead_code_ratio/<l>``: per level (only when ``L > 1``).
    """
    idx = _int_indices(indices, "indices")
    sizes = [int(codebook_sizes)] if np.isscalar(codebook_sizes) else [int(k) for k in codebook_sizes]
    if len(sizes) == 1 and (idx.ndim == 1 or idx.shape[-1] != 1):
        idx = idx.reshape(-1, 1)
    elif len(sizes) > 1 and (idx.ndim < 2 or idx.shape[-1] != len(sizes)):
        raise MotionLabError(f"indices {idx.shape} do not end in {len(sizes)} levels", place="indices")
    r = residual_usage(idx.reshape(-1, len(sizes)), sizes)
    out = {"perplexity": r["perplexity_mean"], "perplexity_joint": r["perplexity_joint"],
           "dead_code_ratio": r["dead_code_ratio_mean"]}
    if len(sizes) > 1:
        for l in range(len(sizes)):
            out[f"perplexity/{l}"], out[f"dead_code_ratio/{l}"] = r[f"perplexity/{l}"], r[f"dead_code_ratio/{l}"]
    return out


def jerk_gap(mean_jerk_pred: float, mean_jerk_gt: float) -> float:
    """``|mean_jerk_pred / mean_jerk_gt - 1|``: how far a model's mean jerk is from the ground
    truth's (0 = the same; over-smoothed output, e.g. a constant mean pose, scores 1, jittery output
    above 0 too). Lower is better. Both in the same units (:func:`mean_jerk`)."""
    p, g = float(mean_jerk_pred), float(mean_jerk_gt)
    if not (math.isfinite(p) and math.isfinite(g)) or p < 0 or g <= 0:
        raise MotionLabError(f"needs a finite jerk >= 0 and a positive ground-truth jerk, got {p} and {g}",
                             place="mean_jerk_gt")
    return abs(p / g - 1.0)


def recon_mse(pred: ArrayLike, gt: ArrayLike) -> float:
    """Reconstruction MSE: mean of ``(pred - gt)**2`` over all entries (normalised features)."""
    p, g = _arr(pred, "pred"), _arr(gt, "gt")
    _same_shape(g, p, "gt", "pred")
    return float(((p - g) ** 2).mean())


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


# ===================================================================== rotations / prediction
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


# ================================================================================ retargeting
class JointError(NamedTuple):
    """A joint-space error: ``overall`` (float) and ``per_joint`` ``(D,)``, in rad."""

    overall: float
    per_joint: np.ndarray


def _joint_pair(pred: ArrayLike, gt: ArrayLike) -> Tuple[np.ndarray, np.ndarray]:
    p = _arr(pred, "pred", min_ndim=1)
    g = _arr(gt, "gt", min_ndim=1)
    _same_shape(g, p, "gt", "pred")
    return p.reshape(-1, p.shape[-1]), g.reshape(-1, g.shape[-1])


def joint_mae(pred: ArrayLike, gt: ArrayLike) -> JointError:
    """Joint-space mean absolute error of ``(..., D)`` joint angles (rad): per joint (mean over
    frames) and overall (mean over frames and joints)."""
    p, g = _joint_pair(pred, gt)
    e = np.abs(p - g)
    return JointError(float(e.mean()), e.mean(axis=0))


def joint_rmse(pred: ArrayLike, gt: ArrayLike) -> JointError:
    """Joint-space root mean squared error of ``(..., D)`` joint angles (rad): per joint
    ``sqrt(mean_t e^2)`` and overall ``sqrt(mean_{t,j} e^2)``."""
    p, g = _joint_pair(pred, gt)
    e2 = (p - g) ** 2
    return JointError(float(np.sqrt(e2.mean())), np.sqrt(e2.mean(axis=0)))


def normalized_mse(pred: ArrayLike, gt: ArrayLike, mean: Optional[ArrayLike] = None,
                   std: Optional[ArrayLike] = None, eps: float = 1e-8) -> float:
    """MSE after z-scoring both inputs with per-dimension statistics.

    ``pred``, ``gt``: ``(..., D)``. ``mean``/``std`` ``(D,)`` are the dataset's normalisation
    statistics (as the human-to-robot VQ-VAE study reports "Recon" robot->robot and "Cross"
    human->robot errors on normalised joint values); by default they are taken from ``gt``, in which
    case the value equals ``mean_d MSE_d / Var_d(gt)``. ``eps`` guards constant dimensions.
    """
    p, g = _joint_pair(pred, gt)
    m = g.mean(axis=0) if mean is None else _arr(mean, "mean", last=p.shape[-1])
    s = g.std(axis=0) if std is None else _arr(std, "std", last=p.shape[-1])
    if (np.asarray(s) < 0).any():
        raise MotionLabError("std must be non-negative", place="std")
    s = np.asarray(s) + eps
    return float(((((p - m) - (g - m)) / s) ** 2).mean())


class Violations(NamedTuple):
    """Limit violations: ``fraction`` of frames (steps) with any joint outside its limit,
    ``max_excess`` (largest excess, rad or rad/s) and ``per_joint`` ``(D,)`` largest excess."""

    fraction: float
    max_excess: float
    per_joint: np.ndarray


def _violations(excess: np.ndarray) -> Violations:
    frames = excess.reshape(-1, excess.shape[-1])
    per = frames.max(axis=0)
    return Violations(float((frames > 0).any(axis=1).mean()), float(per.max()), per)


def limit_violations(q: ArrayLike, lower: ArrayLike, upper: ArrayLike, tol: float = 0.0) -> Violations:
    """Joint-position limit violations of ``(..., D)`` angles (rad) against ``(D,)`` limits.

    A frame violates when any joint lies outside ``[lower - tol, upper + tol]``; the excess is the
    distance beyond that band. For the G1 with its official limits see also
    :func:`motionlab.robots.g1.limit_violations`.
    """
    a = _arr(q, "q", min_ndim=1)
    lo = _arr(lower, "lower", last=a.shape[-1])
    hi = _arr(upper, "upper", last=a.shape[-1])
    if lo.ndim != 1 or hi.ndim != 1:
        raise MotionLabError(f"limits must be (D,), got {lo.shape} and {hi.shape}", place="lower")
    if (lo > hi).any():
        raise MotionLabError(f"lower limit above upper limit at joint {int(np.argmax(lo > hi))}", place="lower")
    return _violations(np.maximum(np.maximum(a - hi, lo - a) - tol, 0.0))


def velocity_limit_violations(q: ArrayLike, fps: float, vel_limits: ArrayLike) -> Violations:
    """Joint-velocity limit violations of ``(T, D)`` angles (rad) at ``fps``.

    Velocity = first forward difference times ``fps`` (rad/s); a step violates when any
    ``|v_j| > vel_limits[j]`` (``(D,)`` or a scalar; the G1's official groups are
    32/20/30/37/22 rad/s). Fraction over the ``T-1`` steps; excess in rad/s.
    """
    a = _arr(q, "q", min_ndim=2, min_len=2)
    if a.ndim != 2:
        raise MotionLabError(f"q must be (T, D), got {a.shape}", place="q")
    lim = np.broadcast_to(_arr(vel_limits, "vel_limits"), (a.shape[-1],)) if np.ndim(vel_limits) == 0 \
        else _arr(vel_limits, "vel_limits", last=a.shape[-1])
    if (lim < 0).any():
        raise MotionLabError("velocity limits must be non-negative", place="vel_limits")
    return _violations(np.maximum(np.abs(velocity(a, fps)) - lim, 0.0))


def _two_domains(a: ArrayLike, b: ArrayLike, seed: int, max_per_domain: Optional[int]):
    x = _arr(a, "latents_a", min_ndim=2, min_len=2)
    y = _arr(b, "latents_b", min_ndim=2, min_len=2)
    x, y = x.reshape(x.shape[0], -1), y.reshape(y.shape[0], -1)
    if x.shape[1] != y.shape[1]:
        raise MotionLabError(f"latent sizes differ: {x.shape[1]} vs {y.shape[1]}", place="latents_b")
    rng = np.random.default_rng(seed)
    n = min(x.shape[0], y.shape[0])
    if max_per_domain is not None:
        n = min(n, int(max_per_domain))
    x = x[rng.choice(x.shape[0], n, replace=False)]
    y = y[rng.choice(y.shape[0], n, replace=False)]
    return np.concatenate([x, y]), np.repeat([0, 1], n)


def knn_domain_mixing(latents_a: ArrayLike, latents_b: ArrayLike, k: int = 10, seed: int = 0,
                      max_per_domain: Optional[int] = 5000) -> float:
    """k-NN domain mixing: mean fraction of each latent's ``k`` nearest neighbours (Euclidean,
    itself excluded) that come from its own domain.

    ``latents_a`` ``(N_a, ...)``, ``latents_b`` ``(N_b, ...)``; both are subsampled (``seed``) to
    the same size ``n`` so that chance is fixed: perfectly mixed domains give ``(n-1)/(2n-1)``
    (~0.5); fully separated ones give 1. Lower is better (more overlap).
    """
    from sklearn.neighbors import NearestNeighbors

    X, lab = _two_domains(latents_a, latents_b, seed, max_per_domain)
    k = int(k)
    if not 1 <= k <= X.shape[0] - 1:
        raise MotionLabError(f"k must be in 1..{X.shape[0] - 1}, got {k}", place="k")
    nn = NearestNeighbors(n_neighbors=k + 1).fit(X)
    _, idx = nn.kneighbors(X)
    # drop the point itself (first column unless duplicates tie with it)
    own = np.arange(X.shape[0])[:, None]
    keep = np.where((idx == own).any(axis=1)[:, None], idx != own, np.arange(k + 1)[None] < k)
    neigh = idx[keep].reshape(X.shape[0], k)
    return float((lab[neigh] == lab[:, None]).mean())


def domain_classifier_accuracy(latents_a: ArrayLike, latents_b: ArrayLike, folds: int = 5, seed: int = 0,
                               max_per_domain: Optional[int] = 5000) -> float:
    """Cross-validated accuracy of a logistic-regression domain classifier on the latents.

    Both domains are subsampled to the same size (``seed``), the features standardised, and a
    ``folds``-fold stratified cross-validated ``LogisticRegression`` predicts the domain. 0.5 =
    the domains overlap perfectly (indistinguishable), 1.0 = linearly separable. Lower is better.
    """
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import StratifiedKFold, cross_val_score
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    X, lab = _two_domains(latents_a, latents_b, seed, max_per_domain)
    folds = int(folds)
    if not 2 <= folds <= X.shape[0] // 2:
        raise MotionLabError(f"folds must be in 2..{X.shape[0] // 2}, got {folds}", place="folds")
    clf = make_pipeline(StandardScaler(), LogisticRegression(max_iter=1000))
    cv = StratifiedKFold(n_splits=folds, shuffle=True, random_state=seed)
    return float(cross_val_score(clf, X, lab, cv=cv, scoring="accuracy").mean())


def domain_overlap(latents_a: ArrayLike, latents_b: ArrayLike, method: str = "classifier", **kwargs) -> float:
    """Domain overlap of two latent sets on a 0.5 (perfect overlap) .. 1.0 (separate) scale.

    ``method="classifier"``: :func:`domain_classifier_accuracy`; ``method="knn"``:
    :func:`knn_domain_mixing`. The two are different numbers; name the method in tables.
    """
    if method == "classifier":
        return domain_classifier_accuracy(latents_a, latents_b, **kwargs)
    if method == "knn":
        return knn_domain_mixing(latents_a, latents_b, **kwargs)
    raise choices_error("domain overlap method", method, ("classifier", "knn"), place="method")


# ================================================================================= generation
def frechet_distance_from_stats(mu1: ArrayLike, sigma1: ArrayLike, mu2: ArrayLike, sigma2: ArrayLike,
                                eps: float = 1e-6) -> float:
    """Frechet distance of two Gaussians ``|mu1-mu2|^2 + Tr(S1 + S2 - 2 sqrt(S1 S2))``.

    ``sqrt`` is ``scipy.linalg.sqrtm``; when the product is singular (scipy warns) or the root is
    not finite, ``eps`` is added to both diagonals and it is recomputed; an imaginary part is
    dropped (FID protocol).
    """
    from scipy import linalg

    m1, m2 = _arr(mu1, "mu1", min_ndim=1), _arr(mu2, "mu2", min_ndim=1)
    s1, s2 = np.atleast_2d(_arr(sigma1, "sigma1")), np.atleast_2d(_arr(sigma2, "sigma2"))
    D = m1.shape[0]
    if m1.shape != (D,) or m2.shape != (D,) or s1.shape != (D, D) or s2.shape != (D, D):
        raise MotionLabError(f"shapes disagree: mu1 {m1.shape}, mu2 {m2.shape}, sigma1 {s1.shape}, "
                             f"sigma2 {s2.shape}", place="sigma2")
    diff = m1 - m2
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", linalg.LinAlgWarning)
        covmean = linalg.sqrtm(s1 @ s2)
    singular = any(issubclass(w.category, linalg.LinAlgWarning) for w in caught)
    if singular or not np.isfinite(covmean).all():
        off = np.eye(D) * eps
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", linalg.LinAlgWarning)
            covmean = linalg.sqrtm((s1 + off) @ (s2 + off))
    covmean = np.real(covmean)
    return float(diff @ diff + np.trace(s1) + np.trace(s2) - 2.0 * np.trace(covmean))


def frechet_distance(feat_a: ArrayLike, feat_b: ArrayLike, eps: float = 1e-6) -> float:
    """Frechet distance (FID / FGD) between feature sets ``(N_a, D)`` and ``(N_b, D)``.

    Means and covariances (``np.cov``, unbiased) of each set, then
    :func:`frechet_distance_from_stats`. Units: squared feature units. BEAT2 papers print FGD
    x 10^-1; the value depends entirely on the feature network (motionlab's evaluators are its
    own, so numbers are comparable only within motionlab).
    """
    a = _arr(feat_a, "feat_a", min_ndim=2, min_len=2)
    b = _arr(feat_b, "feat_b", min_ndim=2, min_len=2)
    if a.ndim != 2 or b.ndim != 2 or a.shape[1] != b.shape[1]:
        raise MotionLabError(f"features must be (N, D) with equal D, got {a.shape} and {b.shape}", place="feat_b")
    return frechet_distance_from_stats(a.mean(0), np.cov(a, rowvar=False), b.mean(0), np.cov(b, rowvar=False), eps)


def diversity(feats: ArrayLike, n_pairs: int = 300, seed: int = 0) -> float:
    """Diversity (HumanML3D / T2M protocol): mean Euclidean distance of ``n_pairs`` random pairs.

    ``feats``: ``(N, D)`` evaluator embeddings. Two independent draws of ``n_pairs`` indices without
    replacement (``np.random.default_rng(seed)``) are paired up. The protocol needs ``N >= 300``;
    smaller sets use ``n_pairs = N`` (same expectation, more variance).
    """
    a = _arr(feats, "feats", min_ndim=2, min_len=2)
    a = a.reshape(a.shape[0], -1)
    n = min(int(n_pairs), a.shape[0])
    if n < 1:
        raise MotionLabError(f"n_pairs must be positive, got {n_pairs!r}", place="n_pairs")
    rng = np.random.default_rng(seed)
    i = rng.choice(a.shape[0], n, replace=False)
    j = rng.choice(a.shape[0], n, replace=False)
    return float(np.linalg.norm(a[i] - a[j], axis=1).mean())


def l1_diversity(positions: Union[ArrayLike, Sequence[ArrayLike]]) -> float:
    """L1 diversity (BEAT2 "L1Div"): ``mean_t sum_d |x_{t,d} - mean_t(x)_d|``.

    ``positions``: ``(T, J, 3)`` joint positions (or ``(T, D)``); a list of sequences is
    concatenated along time first, as BEAT2's evaluator does over a whole test set. Units of ``x``.
    """
    if isinstance(positions, (list, tuple)) and positions and np.ndim(positions[0]) >= 2:
        parts = [_arr(p, f"positions[{i}]", min_ndim=2) for i, p in enumerate(positions)]
        parts = [p.reshape(p.shape[0], -1) for p in parts]
        if len({p.shape[1] for p in parts}) != 1:
            raise MotionLabError("sequences have different numbers of features", place="positions")
        x = np.concatenate(parts)
    else:
        a = _arr(positions, "positions", min_ndim=2)
        x = a.reshape(a.shape[0], -1)
    return float(np.abs(x - x.mean(axis=0)).sum(axis=1).mean())


def audio_onsets(samples: ArrayLike, sr: int, hop_length: int = 512) -> np.ndarray:
    """Audio onset times (s) with ``librosa.onset.onset_detect(hop_length=512, units='time')``,
    as the BEAT2 BC metric uses. ``samples``: ``(N,)`` mono waveform at ``sr`` Hz."""
    import librosa

    y = _arr(samples, "samples", min_ndim=1)
    if y.ndim != 1:
        raise MotionLabError(f"samples must be mono (N,), got {y.shape}", place="samples")
    if int(sr) <= 0:
        raise MotionLabError(f"sample rate must be positive, got {sr!r}", place="sr")
    t = librosa.onset.onset_detect(y=y.astype(np.float32), sr=int(sr), hop_length=int(hop_length), units="time")
    return np.asarray(t, dtype=np.float64)


def motion_beats(motion_positions: ArrayLike, fps: float, joints: Sequence[int], threshold: float = 0.3,
                 skip_s: float = 2.0, mean_speed: Union[None, float, ArrayLike] = None,
                 order: int = 7) -> List[np.ndarray]:
    """Motion beats (s) per joint for :func:`beat_consistency`.

    Speed: central differences times ``fps`` (one-sided at the ends) of ``(T, J, 3)`` positions,
    ``||.||`` per joint, divided by ``mean_speed`` (the dataset mean speed, scalar or ``(J,)``;
    ``None``: this clip's own per-joint mean speed). On the frames ``[skip, T - skip)`` with
    ``skip = round(skip_s * fps)``, local minima by ``scipy.signal.argrelextrema(np.less,
    order=7)`` are kept where the normalised speed exceeds ``threshold`` (0.3 original trainer,
    0.1 newer eval tools). Returns one array of beat times (s, from the clip start) per joint.
    """
    from scipy.signal import argrelextrema

    f = _fps(fps)
    x = _arr(motion_positions, "motion_positions", min_ndim=3, last=3, min_len=2)
    if x.ndim != 3:
        raise MotionLabError(f"motion must be (T, J, 3), got {x.shape}", place="motion_positions")
    J = x.shape[1]
    js = [int(j) for j in joints]
    if not js or any(not 0 <= j < J for j in js):
        raise MotionLabError(f"joints {list(joints)} outside 0..{J - 1}", place="joints")
    speed = np.linalg.norm(np.gradient(x, axis=0), axis=-1) * f  # (T, J)
    if mean_speed is None:
        ref = speed.mean(axis=0)
    else:
        ref = np.broadcast_to(_arr(mean_speed, "mean_speed"), (J,))
    if (ref <= 0).any():
        raise MotionLabError("mean speed must be positive for every joint", place="mean_speed")
    norm = speed / ref
    skip = int(round(skip_s * f))
    lo, hi = skip, x.shape[0] - skip
    out = []
    for j in js:
        seg = norm[lo:hi, j] if hi > lo else np.zeros(0)
        if seg.size == 0:
            out.append(np.zeros(0))
            continue
        mins = argrelextrema(seg, np.less, order=order)[0]
        mins = mins[seg[mins] > threshold]
        out.append((mins + lo) / f)
    return out


def beat_consistency(
    motion_positions: ArrayLike,
    fps: float,
    audio_onsets_s: ArrayLike,
    joints: Sequence[int],
    threshold: float = 0.3,
    sigma: float = 0.3,
    skip_s: float = 2.0,
    mean_speed: Union[None, float, ArrayLike] = None,
) -> float:
    """BC (beat consistency), BEAT2 protocol, for one sequence.

    ``motion_positions``: ``(T, J, 3)`` (m) at ``fps``; ``audio_onsets_s``: onset times (s) from
    the clip start (:func:`audio_onsets`); ``joints``: the upper-body joint indices scored.
    Onsets within ``skip_s`` (2 s) of either end are dropped; motion beats come from
    :func:`motion_beats` (same skip, ``threshold``, ``mean_speed``). For each joint with beats the
    score is the mean over onsets of ``exp(-d^2 / (2 sigma^2))``, ``d`` the distance (s) to the
    nearest beat; a joint without beats scores 0. Result: mean over ``joints``. Sequences are then
    averaged weighted by frames (:func:`frame_weighted_mean`); papers print BC x 10^-1.
    Unlike the original trainer, the threshold is tested on the minimum's own frame (the original
    indexes its speed mask without the skip offset). No onset in range gives ``nan``.
    """
    if not sigma > 0:
        raise MotionLabError(f"sigma must be positive, got {sigma!r}", place="sigma")
    beats = motion_beats(motion_positions, fps, joints, threshold, skip_s, mean_speed)
    T = np.shape(motion_positions)[0]
    dur = (T - 1) / _fps(fps)
    if isinstance(audio_onsets_s, torch.Tensor):
        audio_onsets_s = audio_onsets_s.detach().cpu().numpy()
    on = np.asarray(audio_onsets_s, dtype=np.float64).reshape(-1)
    if on.size:
        on = _arr(on, "audio_onsets_s")
    on = on[(on >= skip_s) & (on <= dur - skip_s)]
    if on.size == 0:
        return float("nan")
    scores = []
    for b in beats:
        if b.size == 0:
            scores.append(0.0)
            continue
        d = np.abs(on[:, None] - b[None, :]).min(axis=1)
        scores.append(float(np.exp(-(d ** 2) / (2.0 * sigma ** 2)).mean()))
    return float(np.mean(scores))


def frame_weighted_mean(values: ArrayLike, frames: ArrayLike) -> float:
    """Mean of per-sequence ``values`` weighted by their frame counts, skipping ``nan`` values."""
    v = _arr(values, "values", min_ndim=1, finite=False)
    w = _arr(frames, "frames", min_ndim=1)
    _same_shape(v, w, "values", "frames")
    ok = np.isfinite(v)
    if not ok.any() or w[ok].sum() <= 0:
        raise MotionLabError("no finite value with positive weight", place="values")
    return float((v[ok] * w[ok]).sum() / w[ok].sum())


def _paired(text_emb: ArrayLike, motion_emb: ArrayLike) -> Tuple[np.ndarray, np.ndarray]:
    t = _arr(text_emb, "text_emb", min_ndim=2)
    m = _arr(motion_emb, "motion_emb", min_ndim=2)
    if t.ndim != 2 or t.shape != m.shape:
        raise MotionLabError(f"embeddings must be (N, D) pairs, got {t.shape} and {m.shape}", place="motion_emb")
    return t, m


def r_precision(text_emb: ArrayLike, motion_emb: ArrayLike, top_k: int = 3, batch: int = 32) -> np.ndarray:
    """R-precision (HumanML3D / T2M protocol): top-1..top-k retrieval accuracy of the true motion.

    ``text_emb``, ``motion_emb``: ``(N, D)``, row ``i`` of each from the same sample. The set is cut
    into consecutive batches of ``batch`` (32); an incomplete last batch is dropped (the original
    loader's ``drop_last``). In each batch, for text ``i`` the motions are ranked by Euclidean
    distance; top-``k`` counts a hit when motion ``i`` is among the ``k`` nearest. Returns
    ``(top_k,)`` accuracies (cumulative: top-1 <= top-2 <= top-3). Higher is better.
    """
    t, m = _paired(text_emb, motion_emb)
    batch, top_k = int(batch), int(top_k)
    if not 1 <= top_k <= batch:
        raise MotionLabError(f"top_k must be in 1..{batch}, got {top_k}", place="top_k")
    nb = t.shape[0] // batch
    if nb == 0:
        raise MotionLabError(f"needs at least {batch} pairs for batches of {batch}, got {t.shape[0]}", place="text_emb")
    hits = np.zeros(top_k)
    for b in range(nb):
        tt, mm = t[b * batch:(b + 1) * batch], m[b * batch:(b + 1) * batch]
        dist = np.linalg.norm(tt[:, None] - mm[None], axis=-1)
        rank = np.argsort(dist, axis=1, kind="stable")
        found = rank[:, :top_k] == np.arange(batch)[:, None]
        hits += np.cumsum(found, axis=1).astype(bool).sum(axis=0)
    return hits / (nb * batch)


def multimodal_distance(text_emb: ArrayLike, motion_emb: ArrayLike) -> float:
    """MM-Dist: mean Euclidean distance between each text embedding and its own motion's
    embedding (``(N, D)`` each). Lower is better."""
    t, m = _paired(text_emb, motion_emb)
    return float(np.linalg.norm(t - m, axis=1).mean())


def mean_ci95(values: ArrayLike) -> Tuple[float, float]:
    """``(mean, 1.96 * std / sqrt(n))`` over replications (T2M protocol: population std, ddof 0)."""
    v = _arr(values, "values", min_ndim=1).reshape(-1)
    return float(v.mean()), float(1.96 * v.std() / math.sqrt(v.size))


# =================================================================================== recovery
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


# ===================================================================================== dyadic
def paired_frechet_distance(gen_a: ArrayLike, gen_b: ArrayLike, real_a: ArrayLike, real_b: ArrayLike,
                            eps: float = 1e-6) -> float:
    """P-FD: Frechet distance between the concatenated features of generated pairs
    ``[gen_a, gen_b]`` ``(N, Da + Db)`` and real pairs ``[real_a, real_b]`` ``(M, Da + Db)``.

    Usually ``gen_a`` is the generated person and ``gen_b`` = ``real_b`` their (real) partner.
    """
    ga, gb = _arr(gen_a, "gen_a", min_ndim=2), _arr(gen_b, "gen_b", min_ndim=2)
    ra, rb = _arr(real_a, "real_a", min_ndim=2), _arr(real_b, "real_b", min_ndim=2)
    if ga.shape[0] != gb.shape[0] or ra.shape[0] != rb.shape[0]:
        raise MotionLabError("the two people of a pair set need the same number of samples", place="gen_b")
    return frechet_distance(np.concatenate([ga, gb], axis=1), np.concatenate([ra, rb], axis=1), eps)


def motion_energy(x: ArrayLike, fps: float = 1.0) -> np.ndarray:
    """Per-step motion energy ``(T-1,)``: the step magnitude of the velocity (``fps`` times the
    forward difference; mean joint speed for ``(T, J, 3)``, feature-velocity norm for ``(T, D)``)."""
    return _step_magnitude(velocity(x, fps))


def _pearson(a: np.ndarray, b: np.ndarray) -> float:
    a, b = a - a.mean(), b - b.mean()
    den = math.sqrt(float((a * a).sum() * (b * b).sum()))
    return float((a * b).sum() / den) if den > 0 else 0.0


def rpcc(generated: ArrayLike, real: ArrayLike, partner: ArrayLike, fps: float = 1.0) -> float:
    """rPCC (residual Pearson correlation, "Learning to Listen" dyadic protocol).

    ``generated``, ``real``: this person's generated and real motion ``(T, ...)``; ``partner``: the
    partner's real motion ``(T, ...)``. With ``E`` = :func:`motion_energy`,
    ``rPCC = |PCC(E_gen, E_partner) - PCC(E_real, E_partner)|``: 0 when the generated person's
    energy co-varies with the partner as much as the real person's did. Lower is better.
    (A constant energy series has PCC 0.)
    """
    eg, er, ep = motion_energy(generated, fps), motion_energy(real, fps), motion_energy(partner, fps)
    if not eg.shape == er.shape == ep.shape:
        raise MotionLabError(f"sequence lengths differ: {eg.shape[0] + 1}, {er.shape[0] + 1}, {ep.shape[0] + 1}",
                             place="partner")
    return abs(_pearson(eg, ep) - _pearson(er, ep))


# ===================================================================================== tables
#: For each reported metric name: whether "lower" or "higher" is better. Tables use it to mark the
#: best entry. Domain-overlap scores (0.5 = overlap) are "lower" since they never go below chance.
METRIC_DIRECTIONS: Dict[str, str] = {
    # motion quality
    "mean_jerk": "lower", "jerk_gap": "lower", "foot_skating_ratio": "lower", "height_weighted_sliding_mm": "lower",
    "ground_penetration": "lower", "ground_penetration_fraction": "lower",
    "seam_discontinuity": "lower",
    # tokenizers
    "recon_mse": "lower", "vel_error": "lower", "mpjpe": "lower", "pa_mpjpe": "lower", "accel_error": "lower",
    "perplexity": "higher", "perplexity_mean": "higher", "perplexity_joint": "higher",
    "dead_code_ratio": "lower", "dead_code_ratio_mean": "lower",
    # prediction
    "geodesic_deg": "lower", "yaw_abs_deg": "lower", "root_vel_mae": "lower",
    # retargeting
    "joint_mae": "lower", "joint_rmse": "lower", "normalized_mse": "lower",
    "limit_violations": "lower", "velocity_limit_violations": "lower", "latent_mse": "lower",
    "knn_domain_mixing": "lower", "domain_classifier_accuracy": "lower", "domain_overlap": "lower",
    "domain_separability": "lower", "fps": "higher",
    # generation
    "frechet_distance": "lower", "fid": "lower", "fgd": "lower", "diversity": "higher",
    "l1_diversity": "higher", "beat_consistency": "higher", "bc": "higher",
    "r_precision": "higher", "r_precision_top1": "higher", "r_precision_top2": "higher",
    "r_precision_top3": "higher", "multimodal_distance": "lower",
    # recovery
    "w_mpjpe": "lower", "wa_mpjpe": "lower", "rte": "lower", "jitter": "lower",
    # dyadic
    "paired_frechet_distance": "lower", "rpcc": "lower",
}
