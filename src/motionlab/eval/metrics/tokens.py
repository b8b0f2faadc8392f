"""Tokenizers: code usage, perplexity, dead codes, reconstruction, jerk gap."""

from __future__ import annotations

import math
from typing import Dict, List, Sequence, Union

import numpy as np

from motionlab.errors import MotionLabError
from motionlab.eval.metrics._checks import ArrayLike, _arr, _int_indices, _same_shape

__all__ = ['code_usage', 'code_usage_per_level', 'perplexity', 'dead_code_ratio', 'perplexity_per_level', 'dead_code_ratio_per_level', 'residual_usage', 'usage_summary', 'jerk_gap', 'recon_mse']


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


#: Reported names of this topic and whether lower or higher is better (see ``METRIC_DIRECTIONS``).
DIRECTIONS: Dict[str, str] = {
    "recon_mse": "lower", "vel_error": "lower", "mpjpe": "lower", "pa_mpjpe": "lower", "accel_error": "lower",
    "perplexity": "higher", "perplexity_mean": "higher", "perplexity_joint": "higher",
    "dead_code_ratio": "lower", "dead_code_ratio_mean": "lower",
}
