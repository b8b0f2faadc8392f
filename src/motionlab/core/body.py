"""The canonical SMPL-22 body skeleton.

Joint names and parents are those of SMPL/SMPL-X joints 0-21. The offsets are plausible adult
proportions (about 1.75 m tall) in metres, rounded from the SMPL neutral template and made
left/right symmetric. The rest pose stands upright in motionlab's world frame: Z up, facing +X,
the body's left on +Y (the robotics convention, the same as the Unitree G1 in MuJoCo).
"""

from __future__ import annotations

from typing import List

import numpy as np

from motionlab.core.skeleton import Skeleton

SMPL22_NAMES: List[str] = [
    "pelvis", "left_hip", "right_hip", "spine1", "left_knee", "right_knee", "spine2",
    "left_ankle", "right_ankle", "spine3", "left_foot", "right_foot", "neck",
    "left_collar", "right_collar", "head", "left_shoulder", "right_shoulder",
    "left_elbow", "right_elbow", "left_wrist", "right_wrist",
]

SMPL22_PARENTS: List[int] = [-1, 0, 0, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 9, 9, 12, 13, 14, 16, 17, 18, 19]

# (forward X, left Y, up Z) offsets from the parent, metres.
_OFFSETS = {
    "pelvis": (0.0, 0.0, 0.0),
    "left_hip": (-0.01, 0.06, -0.09),
    "right_hip": (-0.01, -0.06, -0.09),
    "spine1": (-0.02, 0.0, 0.11),
    "left_knee": (0.0, 0.04, -0.39),
    "right_knee": (0.0, -0.04, -0.39),
    "spine2": (0.01, 0.0, 0.13),
    "left_ankle": (-0.03, -0.01, -0.41),
    "right_ankle": (-0.03, 0.01, -0.41),
    "spine3": (0.02, 0.0, 0.06),
    "left_foot": (0.12, 0.02, -0.06),
    "right_foot": (0.12, -0.02, -0.06),
    "neck": (-0.02, 0.0, 0.21),
    "left_collar": (0.0, 0.08, 0.12),
    "right_collar": (0.0, -0.08, 0.12),
    "head": (0.05, 0.0, 0.07),
    "left_shoulder": (-0.01, 0.09, 0.03),
    "right_shoulder": (-0.01, -0.09, 0.03),
    "left_elbow": (-0.02, 0.26, -0.01),
    "right_elbow": (-0.02, -0.26, -0.01),
    "left_wrist": (0.0, 0.25, 0.01),
    "right_wrist": (0.0, -0.25, 0.01),
}

# tips beyond the leaves: toes, top of the head, hands
_END_SITES = {
    "left_foot": (0.05, 0.0, -0.02),
    "right_foot": (0.05, 0.0, -0.02),
    "head": (0.02, 0.0, 0.12),
    "left_wrist": (0.0, 0.09, 0.0),
    "right_wrist": (0.0, -0.09, 0.0),
}

# joints 1..21 in order: the layout of SMPL-X body pose (and of the seulzx `smplx_pose_body`)
SMPL21_BODY_NAMES: List[str] = SMPL22_NAMES[1:]

FEET = ("left_foot", "right_foot")
ANKLES = ("left_ankle", "right_ankle")
UPPER_BODY = ("spine3", "neck", "head", "left_collar", "right_collar", "left_shoulder", "right_shoulder",
              "left_elbow", "right_elbow", "left_wrist", "right_wrist")


def smpl22_skeleton(scale: float = 1.0) -> Skeleton:
    """The canonical SMPL-22 skeleton (a new object each call), optionally scaled."""
    offsets = np.array([_OFFSETS[n] for n in SMPL22_NAMES], dtype=np.float64) * scale
    ends = {SMPL22_NAMES.index(n): np.array(v) * scale for n, v in _END_SITES.items()}
    return Skeleton(list(SMPL22_NAMES), np.array(SMPL22_PARENTS), offsets, ends)
