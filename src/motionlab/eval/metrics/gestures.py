"""Co-speech gestures and dyadic motion: beat consistency, L1 diversity, P-FD, rPCC."""

from __future__ import annotations

import math
from typing import Dict, List, Sequence, Union

import numpy as np
import torch

from motionlab.errors import MotionLabError
from motionlab.eval.metrics._checks import ArrayLike, _arr, _fps, _same_shape, _step_magnitude
from motionlab.eval.metrics.motion import velocity
from motionlab.eval.metrics.generation import frechet_distance

__all__ = ['l1_diversity', 'audio_onsets', 'motion_beats', 'beat_consistency', 'frame_weighted_mean', 'paired_frechet_distance', 'motion_energy', 'rpcc']


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


#: Reported names of this topic and whether lower or higher is better (see ``METRIC_DIRECTIONS``).
DIRECTIONS: Dict[str, str] = {
    "l1_diversity": "higher", "beat_consistency": "higher", "bc": "higher",
    "paired_frechet_distance": "lower", "rpcc": "lower",
}
