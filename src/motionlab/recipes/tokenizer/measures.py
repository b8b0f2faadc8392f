"""Whole-set measurements of a tokenizer: code usage, motion quantities for jerk and MPJPE, and
the motion labels of clips for the latent t-SNE.

Code usage is accumulated over a whole evaluation set before any perplexity or dead-code ratio is
computed (per-batch values depend on the batch size), by the helper every recipe shares,
:func:`motionlab.eval.metrics.usage_summary`: ``perplexity`` is the mean over levels of each
level's perplexity, ``perplexity_joint`` that of the level tuple taken as one code (for one level
both are the ordinary perplexity), ``dead_code_ratio`` the mean over levels; per level
``perplexity/<l>`` and ``dead_code_ratio/<l>``.
"""

from __future__ import annotations

import re
from typing import Dict, Optional, Sequence, Tuple

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



def mpjpe_positions(feats: np.ndarray, stream: str, fps: float) -> Optional[np.ndarray]:
    """Positions ``(N, T, J, 3)`` in m whose root-aligned error (joint 0 = the pelvis) is the MPJPE
    of de-normalised feature windows ``(N, T, D)``; ``None`` for a stream without a skeleton.

    ``body``: the 22 SMPL joints (:func:`motion_quantities`). ``g1_joints``: the 14 BeyondMimic
    keypoint bodies by G1 forward kinematics (:func:`motionlab.robots.g1_fk.g1_fk`) with the pelvis
    fixed at the origin, so only the joint angles count (as the retarget recipe measures them).
    ``g1_full``: the same bodies, the pelvis turned by the window's root orientation with the heading
    removed (channels 4:10 of :mod:`motionlab.data.features`), so the root's lean and tilt count too.
    """
    x = np.array(feats, dtype=np.float64)  # a writable copy (the mean pose comes as a broadcast view)
    if stream == "body":
        return motion_quantities(x, stream, fps)[0]
    if stream not in ("g1_joints", "g1_full"):
        return None
    from motionlab.core.rotations import matrix_to_quat, rot6d_to_matrix
    from motionlab.data.features import ROOT_DIMS
    from motionlab.robots.g1 import BEYONDMIMIC_KEYPOINT_BODIES, ISAAC_BODY_NAMES
    from motionlab.robots.g1_fk import g1_fk

    joints = x if stream == "g1_joints" else x[..., ROOT_DIMS:]
    quat = np.array([1.0, 0.0, 0.0, 0.0]) if stream == "g1_joints" else matrix_to_quat(rot6d_to_matrix(x[..., 4:10]))
    pos, _ = g1_fk(np.zeros(3), quat, joints, order="isaac")
    return pos[..., [ISAAC_BODY_NAMES.index(n) for n in BEYONDMIMIC_KEYPOINT_BODIES], :]


#: a file name of the LAFAN1 naming scheme: motion name, take number, optional ``_subjectN``
_TAKE_NAME = re.compile(r"^(?P<motion>[A-Za-z]+?)[-_]?\d*(?:[-_]subject\d+)?$", re.IGNORECASE)


def motion_label(clip_id: str) -> str:
    """The motion a clip's file name names: ``dance1_subject2`` -> ``dance``, ``walk3_subject1`` ->
    ``walk``, ``fallAndGetUp2_subject3`` -> ``fallAndGetUp``, ``subject1/run1`` -> ``run``. A name
    outside that scheme is its own label (its last path part)."""
    stem = str(clip_id).replace("\\", "/").rsplit("/", 1)[-1]
    m = _TAKE_NAME.match(stem)
    return m.group("motion") if m else stem
