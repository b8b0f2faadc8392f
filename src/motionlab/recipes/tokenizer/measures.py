"""Whole-set measurements of a tokenizer: code usage, motion quantities for jerk and MPJPE.

Code usage is accumulated over a whole evaluation set before any perplexity or dead-code ratio is
computed (per-batch values depend on the batch size). For multi-level quantizers (``rvq``,
``hybrid``) the reported ``perplexity`` is that of the whole token (the tuple of level indices taken
as one code, :func:`motionlab.eval.metrics.residual_usage`'s ``perplexity_joint``), which for a
single level is the ordinary perplexity, so one column compares every quantizer under one protocol;
``dead_code_ratio`` pools all levels (unused entries / all entries). Per-level values are reported
as ``perplexity/<l>`` and ``dead_code_ratio/<l>``.
"""

from __future__ import annotations

from typing import Dict, Sequence, Tuple

import numpy as np

from motionlab.errors import MotionLabError
from motionlab.eval import metrics as M


def usage_metrics(indices: np.ndarray, codebook_sizes: Sequence[int]) -> Dict[str, float]:
    """Perplexity and dead-code ratio of all token ``indices`` of a set: ``(N,)`` for one level,
    ``(N, L)`` for ``L`` levels (``codebook_sizes`` one per level)."""
    idx = np.asarray(indices)
    sizes = [int(k) for k in codebook_sizes]
    if len(sizes) == 1:
        counts = M.code_usage(idx.reshape(-1), sizes[0])
        return {"perplexity": M.perplexity(counts), "dead_code_ratio": M.dead_code_ratio(counts)}
    idx = idx.reshape(-1, len(sizes))
    out = M.residual_usage(idx, sizes)
    counts = M.code_usage_per_level(idx, sizes)
    out["perplexity"] = out["perplexity_joint"]
    out["dead_code_ratio"] = float(sum(int((c == 0).sum()) for c in counts) / sum(sizes))
    return out


def motion_quantities(feats: np.ndarray, stream: str, fps: float) -> Tuple[np.ndarray, str]:
    """Physical quantities of de-normalised feature windows ``(N, T, D)`` for jerk and MPJPE.

    ``body``: joint positions ``(N, T, 22, 3)`` in m (root integrated from the origin, Z up), kind
    ``"positions"``. ``g1_joints`` / ``g1_full``: the 29 joint angles ``(N, T, 29)`` in rad, kind
    ``"angles"``.
    """
    x = np.asarray(feats, dtype=np.float64)
    if x.ndim != 3:
        raise MotionLabError(f"feature windows must be (N, T, D), got {x.shape}", place="feats")
    if stream == "body":
        from motionlab.data.features import body_from_features

        return np.stack([body_from_features(w, fps).positions() for w in x]), "positions"
    if stream == "g1_joints":
        return x, "angles"
    if stream == "g1_full":
        from motionlab.data.features import ROOT_DIMS

        return x[..., ROOT_DIMS:], "angles"
    raise MotionLabError(f"no motion quantities for feature set {stream!r}", place="stream")


def mean_jerk_windows(q: np.ndarray, kind: str, fps: float) -> float:
    """Mean jerk magnitude over windows ``q (N, T, ...)`` (m/s^3 for positions, rad/s^3 for angles)."""
    return float(np.mean([M.mean_jerk(w, fps, kind) for w in q]))

