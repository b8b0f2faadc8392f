"""Per-frame feature vectors of motion for learning, and their inverses.

Body features (``"body"``, 136 per frame, on the SMPL-22 layout; other skeletons are mapped
onto it by joint names first):

====================  =====  ===========================================================
slice                 size   meaning
====================  =====  ===========================================================
``0``                 1      root (pelvis) height, m
``1:3``               2      root planar velocity in the heading frame (forward, left), m/s
``3``                 1      heading (yaw) rate, rad/s
``4:10``              6      root orientation with the heading removed, column 6D
``10:136``            126    local rotations of joints 1..21 (SMPL-X body order), column 6D
====================  =====  ===========================================================

Robot features: ``"g1_joints"`` (29 joint angles, rad, Unitree order) and ``"g1_full"``
(the same 10 root channels as above, then the 29 joint angles: 39 per frame).

The heading of a root rotation is the yaw of its forward (+X) axis projected on the ground.
Velocities use forward differences with the last one repeated, so a clip integrates back
exactly from its first frame.
"""

from __future__ import annotations

from typing import Callable, Dict, Tuple

import numpy as np

from motionlab.core.body import SMPL22_NAMES, smpl22_skeleton
from motionlab.core.motion import Motion
from motionlab.core.rotations import (
    matrix_to_quat,
    matrix_to_rot6d,
    quat_fix_continuity,
    quat_to_matrix,
    rot6d_to_matrix,
    yaw_to_matrix,
)
from motionlab.errors import MotionLabError, choices_error

ROOT_DIMS = 10
BODY_DIMS = ROOT_DIMS + 21 * 6


def heading_yaw(R: np.ndarray) -> np.ndarray:
    """Yaw (rad) of the forward (+X) axis of ``R (..., 3, 3)`` projected on the ground."""
    return np.arctan2(R[..., 1, 0], R[..., 0, 0])


def root_features(root_pos: np.ndarray, root_rot: np.ndarray, fps: float) -> np.ndarray:
    """The 10 root channels from ``root_pos (T, 3)`` and root rotation matrices ``(T, 3, 3)``."""
    T = len(root_pos)
    yaw = np.unwrap(heading_yaw(root_rot))
    Ry = yaw_to_matrix(yaw)
    if T > 1:
        dpos = np.diff(root_pos, axis=0) * fps
        dpos = np.concatenate([dpos, dpos[-1:]], 0)
        dyaw = np.diff(yaw) * fps
        dyaw = np.concatenate([dyaw, dyaw[-1:]], 0)
    else:
        dpos, dyaw = np.zeros((T, 3)), np.zeros(T)
    local_v = np.einsum("tji,tj->ti", Ry, dpos)[:, :2]  # R_yaw^T v
    tilt = np.einsum("tji,tjk->tik", Ry, root_rot)
    return np.concatenate([root_pos[:, 2:3], local_v, dyaw[:, None], matrix_to_rot6d(tilt)], axis=1)


def integrate_root(feats: np.ndarray, fps: float, start_xy=(0.0, 0.0), start_yaw: float = 0.0
                   ) -> Tuple[np.ndarray, np.ndarray]:
    """Inverse of :func:`root_features`: ``(root_pos (T, 3), root_rot (T, 3, 3))``."""
    T = len(feats)
    dyaw = feats[:, 3]
    yaw = start_yaw + np.concatenate([[0.0], np.cumsum(dyaw[:-1]) / fps])
    Ry = yaw_to_matrix(yaw)
    v = np.concatenate([feats[:, 1:3], np.zeros((T, 1))], axis=1)
    world_v = np.einsum("tij,tj->ti", Ry, v)
    xy = np.asarray(start_xy, dtype=np.float64) + np.concatenate([np.zeros((1, 2)), np.cumsum(world_v[:-1, :2], 0) / fps])
    root_pos = np.concatenate([xy, feats[:, 0:1]], axis=1)
    root_rot = Ry @ rot6d_to_matrix(feats[:, 4:10])
    return root_pos, root_rot


def seulzx_human_motion(robot) -> Motion:
    """The human side of a seulzx pair (a RobotMotion with ``extras["smplx_pose_body"]`` (T, 21, 6) in
    motionlab's column 6D) as a SMPL-22 :class:`Motion` at the robot's fps.

    Joints 1..21 are SMPL-X parent-relative rotations, moved into motionlab's canonical frame by the
    change of basis ``R' = A R A^T`` of :mod:`motionlab.io.smplx`. The file has no human root, so the
    root takes the G1 pelvis: its world rotation, and its position scaled by the ratio of standing
    pelvis heights (canonical body / G1).
    """
    from motionlab.io.smplx import A_SMPL_TO_CANONICAL as A
    from motionlab.robots.g1 import G1_PELVIS_HEIGHT

    pose = np.asarray(robot.extras["smplx_pose_body"], dtype=np.float64)
    if pose.ndim != 3 or pose.shape[1:] != (21, 6):
        raise MotionLabError(f"smplx_pose_body must be (T, 21, 6), got {pose.shape}", place="smplx_pose_body")
    local = A @ rot6d_to_matrix(pose) @ A.T
    R = np.concatenate([quat_to_matrix(np.asarray(robot.root_quat, dtype=np.float64))[:, None], local], axis=1)
    sk = smpl22_skeleton()
    pos, _ = sk.rest_fk()
    stand = float(pos[0, 2] - min(pos[:, 2].min(), *[pos[j, 2] + o[2] for j, o in sk.end_sites.items()]))
    root = np.asarray(robot.root_pos, dtype=np.float64) * (stand / G1_PELVIS_HEIGHT)
    q = quat_fix_continuity(matrix_to_quat(R), dim=0)
    meta = {k: v for k, v in robot.meta.items() if k in ("source", "format")}
    return Motion(robot.fps, sk, root, q, meta=meta)


def body_features(motion: Motion) -> np.ndarray:
    """``(T, 136)`` body features (module docstring); maps other skeletons onto SMPL-22 by name.

    A seulzx RobotMotion (carrying ``extras["smplx_pose_body"]``) gives the features of
    :func:`seulzx_human_motion`.
    """
    if not isinstance(motion, Motion) and "smplx_pose_body" in getattr(motion, "extras", {}):
        motion = seulzx_human_motion(motion)
    if list(motion.skeleton.names) != SMPL22_NAMES:
        from motionlab.core.mapping import to_smpl22

        motion = to_smpl22(motion)
    R = motion.local_matrices()
    root = root_features(motion.root_pos, R[:, 0], motion.fps)
    return np.concatenate([root, matrix_to_rot6d(R[:, 1:]).reshape(len(R), -1)], axis=1).astype(np.float32)


def body_from_features(feats: np.ndarray, fps: float, skeleton=None) -> Motion:
    """A :class:`Motion` on SMPL-22 from body features (the root integrated from the origin)."""
    feats = np.asarray(feats, dtype=np.float64)
    if feats.ndim != 2 or feats.shape[1] != BODY_DIMS:
        raise MotionLabError(f"body features must be (T, {BODY_DIMS}), got {feats.shape}")
    root_pos, root_rot = integrate_root(feats[:, :ROOT_DIMS], fps)
    local = rot6d_to_matrix(feats[:, ROOT_DIMS:].reshape(len(feats), 21, 6))
    R = np.concatenate([root_rot[:, None], local], axis=1)
    q = quat_fix_continuity(matrix_to_quat(R), dim=0)
    return Motion(fps, skeleton or smpl22_skeleton(), root_pos, q)


def g1_joint_features(robot) -> np.ndarray:
    """``(T, 29)`` G1 joint angles in Unitree order (by name)."""
    from motionlab.robots.g1 import G1_JOINT_NAMES

    return robot.reorder(G1_JOINT_NAMES).joint_pos.astype(np.float32) if list(robot.joint_names) != list(
        G1_JOINT_NAMES) else robot.joint_pos.astype(np.float32)


def g1_full_features(robot) -> np.ndarray:
    """``(T, 39)``: the 10 root channels then the 29 joint angles."""
    R = quat_to_matrix(np.asarray(robot.root_quat, dtype=np.float64))
    root = root_features(np.asarray(robot.root_pos, dtype=np.float64), R, robot.fps)
    return np.concatenate([root, g1_joint_features(robot)], axis=1).astype(np.float32)


def character_features(motion) -> np.ndarray:
    """``(T, 141)``: the body features, soft contacts and soft phase (:mod:`motionlab.data.character_state`)."""
    from motionlab.data.character_state import character_features as fn

    return fn(motion)


FEATURES: Dict[str, Tuple[str, Callable]] = {
    "body": ("human", body_features),
    "character": ("human", character_features),
    "g1_joints": ("robot", g1_joint_features),
    "g1_full": ("robot", g1_full_features),
}


def feature_fn(name: str) -> Tuple[str, Callable]:
    """``(kind of input, function)`` of a feature set by name."""
    if name not in FEATURES:
        raise choices_error("feature set", name, FEATURES)
    return FEATURES[name]
