"""Whole-set measurements of a tokenizer: code usage, motion quantities for jerk and MPJPE.

Code usage is accumulated over a whole evaluation set before any perplexity or dead-code ratio is
computed (per-batch values depend on the batch size), by the helper every recipe shares,
:func:`motionlab.eval.metrics.usage_summary`: ``perplexity`` is the mean over levels of each
level's perplexity, ``perplexity_joint`` that of the level tuple taken as one code (for one level
both are the ordinary perplexity), ``dead_code_ratio`` the mean over levels; per level
``perplexity/<l>`` and ``dead_code_ratio/<l>``.
"""

from __future__ import annotations

from typing import Dict, Sequence, Tuple

import numpy as np

from motionlab.errors import MotionLabError
from motionlab.eval import metrics as M


def usage_metrics(indices: np.ndarray, codebook_sizes: Sequence[int]) -> Dict[str, float]:
    """Perplexity and dead-code ratio of all token ``indices`` of a set: ``(N,)`` for one level,
    ``(N, L)`` for ``L`` levels (``codebook_sizes`` one per level); see the module docstring."""
    sizes = [int(k) for k in codebook_sizes]
    idx = np.asarray(indices)
    return M.usage_summary(idx.reshape(-1) if len(sizes) == 1 else idx.reshape(-1, len(sizes)), sizes)


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

