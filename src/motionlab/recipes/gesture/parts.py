"""The body parts a gesture model tokenizes separately, and their per-frame features.

Read from an SMPL-X / BEAT2 npz (:func:`motionlab.io.smplx.read_smplx_npz`); body joints in motionlab's
frame (Z up, facing +X, see :mod:`motionlab.data.features`), fingers and jaw as the file's own
parent-relative rotations (SMPL frame), all rotations as column 6D:

=========  ==========================================================================================
part       features per frame
=========  ==========================================================================================
``upper``  13 joints x 6D: spine1-3, neck, collars, head, shoulders, elbows, wrists (78)
``hands``  30 finger joints x 6D (SMPL-X joints 25..54, left then right) (180)
``lower``  the 10 root channels of ``body`` features (height, planar velocity and yaw rate in the
           heading frame, tilt 6D), 8 leg joints x 6D, 2 foot contacts (0/1) (60)
``face``   jaw 6D and the first ``num_expressions`` expression coefficients (6 + E)
=========  ==========================================================================================

:func:`assemble_motion` inverts it: the root is integrated from the first frame from the (regressed)
velocities, hands and jaw go back into ``extras["smplx_poses"]`` (T, 165) and the expressions into
``extras["smplx_expressions"]`` (T, 100), ready for :func:`motionlab.io.smplx.write_smplx_npz`.
"""

from __future__ import annotations

from typing import Dict, List, Sequence

import numpy as np

from motionlab.core.body import FEET, SMPL22_NAMES
from motionlab.core.motion import Motion
from motionlab.core.rotations import axis_angle_to_matrix, matrix_to_axis_angle, matrix_to_rot6d, rot6d_to_matrix
from motionlab.data.features import BODY_DIMS, ROOT_DIMS, body_features, body_from_features
from motionlab.errors import MotionLabError, choices_error

PARTS = ("upper", "hands", "lower", "face")
UPPER_JOINTS = ["spine1", "spine2", "spine3", "neck", "left_collar", "right_collar", "head", "left_shoulder",
                "right_shoulder", "left_elbow", "right_elbow", "left_wrist", "right_wrist"]
LOWER_JOINTS = ["left_hip", "right_hip", "left_knee", "right_knee", "left_ankle", "right_ankle", "left_foot",
                "right_foot"]
NUM_FINGER_JOINTS = 30
FULL_EXPRESSIONS = 100
#: root channels the generator regresses directly (height, forward and left velocity, yaw rate)
ROOT_REGRESSED = 4


def part_dims(num_expressions: int) -> Dict[str, int]:
    """Features per frame of every part."""
    return {"upper": 6 * len(UPPER_JOINTS), "hands": 6 * NUM_FINGER_JOINTS,
            "lower": ROOT_DIMS + 6 * len(LOWER_JOINTS) + 2, "face": 6 + int(num_expressions)}


def check_parts(parts: Sequence[str]) -> List[str]:
    out = list(parts)
    for p in out:
        if p not in PARTS:
            raise choices_error("body part", p, PARTS, place="model.parts")
    if "lower" not in out or "upper" not in out:
        raise MotionLabError("the parts must include 'upper' and 'lower' (the body and the root)", place="model.parts")
    return out


def _joint_cols(names: Sequence[str]) -> np.ndarray:
    idx = [SMPL22_NAMES.index(n) for n in names]
    return np.concatenate([np.arange(ROOT_DIMS + 6 * (j - 1), ROOT_DIMS + 6 * j) for j in idx])


def part_features(motion: Motion, num_expressions: int) -> Dict[str, np.ndarray]:
    """``{part: (T, D) float32}`` of an SMPL-X Motion (hands/jaw/expressions zero when the file has none)."""
    T = motion.num_frames
    body = body_features(motion)
    poses = motion.extras.get("smplx_poses")
    if poses is None or poses.ndim != 2 or poses.shape[1] < 165:
        extra = np.zeros((T, 33, 3))
    else:
        extra = np.asarray(poses[:, 66:165], np.float64).reshape(T, 33, 3)
    expr = np.zeros((T, num_expressions), np.float32)
    e = motion.extras.get("smplx_expressions")
    if e is not None and e.ndim == 2 and e.shape[0] == T:
        k = min(num_expressions, e.shape[1])
        expr[:, :k] = e[:, :k]
    contacts = motion.foot_contacts(list(FEET)).astype(np.float32)
    hands = matrix_to_rot6d(axis_angle_to_matrix(extra[:, 3:])).reshape(T, -1)
    jaw = matrix_to_rot6d(axis_angle_to_matrix(extra[:, 0])).reshape(T, 6)
    out = {
        "upper": body[:, _joint_cols(UPPER_JOINTS)],
        "hands": hands,
        "lower": np.concatenate([body[:, :ROOT_DIMS], body[:, _joint_cols(LOWER_JOINTS)], contacts], axis=1),
        "face": np.concatenate([jaw, expr], axis=1),
    }
    return {k: np.ascontiguousarray(v, dtype=np.float32) for k, v in out.items()}


def assemble_motion(parts: Dict[str, np.ndarray], fps: float, root: np.ndarray = None) -> Motion:
    """A Motion (SMPL-22 body, hands/jaw/expressions in extras) from de-normalised part features.

    ``root`` ``(T, 4)`` (height, forward and left velocity, yaw rate), when given, replaces those
    root channels of ``lower`` before integration. Missing parts stay at rest (zero rotation)."""
    upper, lower = np.asarray(parts["upper"], np.float64), np.asarray(parts["lower"], np.float64)
    T = len(upper)
    body = np.zeros((T, BODY_DIMS))
    body[:, :ROOT_DIMS] = lower[:, :ROOT_DIMS]
    if root is not None:
        body[:, :ROOT_REGRESSED] = np.asarray(root, np.float64)
    body[:, _joint_cols(UPPER_JOINTS)] = upper
    body[:, _joint_cols(LOWER_JOINTS)] = lower[:, ROOT_DIMS:ROOT_DIMS + 6 * len(LOWER_JOINTS)]
    motion = body_from_features(body, fps)
    poses = np.zeros((T, 165))
    if "hands" in parts:
        h = np.asarray(parts["hands"], np.float64).reshape(T, NUM_FINGER_JOINTS, 6)
        poses[:, 75:] = matrix_to_axis_angle(rot6d_to_matrix(h)).reshape(T, -1)
    expr = np.zeros((T, FULL_EXPRESSIONS))
    if "face" in parts:
        f = np.asarray(parts["face"], np.float64)
        poses[:, 66:69] = matrix_to_axis_angle(rot6d_to_matrix(f[:, :6]))
        k = min(FULL_EXPRESSIONS, f.shape[1] - 6)
        expr[:, :k] = f[:, 6:6 + k]
    motion.extras["smplx_poses"] = poses.astype(np.float32)
    motion.extras["smplx_expressions"] = expr.astype(np.float32)
    motion.extras["contacts"] = lower[:, -2:] > 0.5
    return motion
