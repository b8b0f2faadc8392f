"""A small procedural rig for the SMPL-22 body: high-level controls in, a :class:`Motion` out.

The synthetic generators (locomotion, gestures, listening) describe a clip by *controls*: the
pelvis trajectory, spine/neck/head angles, world targets for both ankles (with the foot
orientation) and chest-frame targets for both wrists. :func:`build_motion` turns them into local
joint rotations with analytic two-bone IK (hip-knee-ankle, shoulder-elbow-wrist), so planted feet
stay exactly where the footstep plan put them.

Conventions: world Z up, metres; the body faces +X with its left on +Y; Euler triples are
``(yaw, pitch, roll)`` applied as intrinsic ``Rz @ Ry @ Rx`` (positive pitch leans forward-down
about the body's left axis, positive yaw turns left).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Dict, Optional

import numpy as np

from motionlab.core.body import smpl22_skeleton
from motionlab.core.kinematics import forward_kinematics
from motionlab.core.motion import Motion
from motionlab.core.rotations import euler_to_matrix, matrix_to_euler, matrix_to_quat, quat_fix_continuity, yaw_to_matrix

# ankle pitch range relative to the shank (rad): about 30 deg one way and 50 deg the other, a human
# range that is also the G1 ankle's (-0.873 .. 0.524 rad, official limits). A foot kept level in
# the world during a fast swing would otherwise ask for 100 deg at the ankle.
ANKLE_PITCH_RANGE = (-0.87, 0.52)

SIDES = ("left", "right")


def euler(yaw_pitch_roll: np.ndarray) -> np.ndarray:
    """``(..., 3)`` (yaw, pitch, roll) in radians -> ``(..., 3, 3)`` matrices ``Rz @ Ry @ Rx``."""
    return euler_to_matrix(np.asarray(yaw_pitch_roll, dtype=np.float64), "ZYX")


yaw_matrix = yaw_to_matrix  # the synthetic generators' name for core.rotations.yaw_to_matrix


def _unit(v: np.ndarray) -> np.ndarray:
    return v / np.maximum(np.linalg.norm(v, axis=-1, keepdims=True), 1e-12)


def _frame(primary: np.ndarray, secondary: np.ndarray) -> np.ndarray:
    """Orthonormal frames ``(..., 3, 3)`` whose columns are ``primary``, ``secondary`` made
    orthogonal to it, and their cross product."""
    e1 = _unit(primary)
    e2 = secondary - np.sum(secondary * e1, axis=-1, keepdims=True) * e1
    e2 = _unit(e2)
    e3 = np.cross(e1, e2)
    return np.stack([e1, e2, e3], axis=-1)


def _axis_angle(axis: np.ndarray, angle: np.ndarray) -> np.ndarray:
    """Rotations ``(..., 3, 3)`` about one fixed unit ``axis (3,)`` by ``angle (...)`` (Rodrigues)."""
    n = _unit(np.asarray(axis, dtype=np.float64))
    K = np.array([[0.0, -n[2], n[1]], [n[2], 0.0, -n[0]], [-n[1], n[0], 0.0]])
    a = np.asarray(angle, dtype=np.float64)[..., None, None]
    return np.eye(3) + np.sin(a) * K + (1.0 - np.cos(a)) * (K @ K)


def two_bone_ik(
    root: np.ndarray,
    target: np.ndarray,
    upper: np.ndarray,
    lower: np.ndarray,
    hinge: np.ndarray,
    pole_local: np.ndarray,
    pole_world: np.ndarray,
    reach: float = 0.999,
):
    """Analytic two-bone IK on any batch shape.

    Args:
        root: ``(..., 3)`` world position of the upper joint (hip / shoulder).
        target: ``(..., 3)`` world position wanted for the end joint (ankle / wrist).
        upper: ``(3,)`` rest offset of the middle joint from the upper joint (in the upper frame).
        lower: ``(3,)`` rest offset of the end joint from the middle joint (in the middle frame).
        hinge: ``(3,)`` axis of the middle joint in its parent's frame; positive angles bend.
        pole_local: ``(3,)`` direction (upper frame) in which the middle joint sticks out of the
            root-target line when bent.
        pole_world: ``(..., 3)`` world direction the middle joint should point to.
        reach: fraction of the longest reach a target is clamped to.

    Returns:
        ``(R_upper_world (..., 3, 3), R_middle_local (..., 3, 3), angle (...))``: the world rotation
        of the upper joint and the local rotation (about ``hinge``) of the middle joint.
    """
    u = np.asarray(upper, dtype=np.float64)
    v = np.asarray(lower, dtype=np.float64)
    n = _unit(np.asarray(hinge, dtype=np.float64))
    nu, nv = float(n @ u), float(n @ v)
    a = float(u @ v) - nu * nv
    b = float(u @ np.cross(n, v))
    c0 = nu * nv
    base = float(u @ u + v @ v) + 2.0 * c0
    amp = float(np.hypot(a, b))
    phi = float(np.arctan2(b, a))
    d_max, d_min = np.sqrt(base + 2 * amp), np.sqrt(max(base - 2 * amp, 0.0))
    delta = np.asarray(target, dtype=np.float64) - np.asarray(root, dtype=np.float64)
    dist = np.linalg.norm(delta, axis=-1)
    d = np.clip(dist, d_min + 1e-3 + (1 - reach) * d_max, reach * d_max)
    k = np.clip((d * d - base) / (2.0 * amp), -1.0, 1.0)
    theta = phi + np.arccos(k)
    R_mid = _axis_angle(n, theta)
    w_local = u + np.einsum("...ij,j->...i", R_mid, v)
    F_local = _frame(w_local, np.broadcast_to(np.asarray(pole_local, dtype=np.float64), w_local.shape))
    F_world = _frame(delta, np.asarray(pole_world, dtype=np.float64) + 0.0 * delta)
    R_upper = F_world @ np.swapaxes(F_local, -1, -2)
    return R_upper, R_mid, theta


@dataclass
class BodyControls:
    """Per-frame controls of one clip (``T`` frames); see the module docstring for conventions.

    Attributes:
        root_pos: ``(T, 3)`` pelvis world position.
        pelvis_rot: ``(T, 3, 3)`` pelvis world rotation.
        spine: ``(T, 3, 3)`` Euler (yaw, pitch, roll) of spine1, spine2, spine3 (local).
        neck: ``(T, 3)`` and head ``(T, 3)``: local Euler angles.
        collar: ``(T, 2, 3)`` local Euler angles of the left/right collar (shrugs).
        ankle_target: ``(T, 2, 3)`` world ankle positions (left, right).
        foot_rot: ``(T, 2, 3, 3)`` world rotation of each foot (ankle and toe segments).
        knee_pole: ``(T, 2, 3)`` world direction the knees point to.
        hand_target: ``(T, 2, 3)`` wrist positions in the chest (spine3) frame, relative to spine3.
        elbow_pole: ``(T, 2, 3)`` chest-frame direction the elbows point to.
        wrist: ``(T, 2, 3)`` local Euler angles of the wrists.
    """

    root_pos: np.ndarray
    pelvis_rot: np.ndarray
    spine: np.ndarray
    neck: np.ndarray
    head: np.ndarray
    collar: np.ndarray
    ankle_target: np.ndarray
    foot_rot: np.ndarray
    knee_pole: np.ndarray
    hand_target: np.ndarray
    elbow_pole: np.ndarray
    wrist: np.ndarray

    @classmethod
    def standing(cls, T: int) -> "BodyControls":
        """A neutral standing pose at the origin facing +X, repeated ``T`` frames."""
        z = np.zeros((T, 3))
        ankle = np.tile(np.array([[-0.04, 0.10, ANKLE_HEIGHT], [-0.04, -0.10, ANKLE_HEIGHT]]), (T, 1, 1))
        return cls(
            root_pos=np.tile(np.array([0.0, 0.0, STAND_PELVIS_HEIGHT - 0.02]), (T, 1)),
            pelvis_rot=np.tile(np.eye(3), (T, 1, 1)),
            spine=np.zeros((T, 3, 3)), neck=z.copy(), head=z.copy(), collar=np.zeros((T, 2, 3)),
            ankle_target=ankle, foot_rot=np.tile(np.eye(3), (T, 2, 1, 1)),
            knee_pole=np.tile(np.array([1.0, 0.0, 0.0]), (T, 2, 1)),
            hand_target=np.tile(REST_HANDS, (T, 1, 1)),
            elbow_pole=np.tile(ELBOW_POLE, (T, 1, 1)),
            wrist=np.zeros((T, 2, 3)),
        )


# heights of the canonical body (metres): ankle above the floor with the foot flat (the toe tip
# touches the floor), and the pelvis with straight legs over flat feet.
ANKLE_HEIGHT = 0.08
STAND_PELVIS_HEIGHT = 0.97
# relaxed wrists in the chest frame (relative to spine3): arms hanging, hands by the thighs
REST_HANDS = np.array([[0.02, 0.21, -0.52], [0.02, -0.21, -0.52]])
# elbows point backward and a little outward
ELBOW_POLE = np.array([[-1.0, 0.4, -0.3], [-1.0, -0.4, -0.3]])


def _limit_ankle(R: np.ndarray) -> np.ndarray:
    """Ankle rotations relative to the shank with their pitch kept in :data:`ANKLE_PITCH_RANGE`."""
    e = matrix_to_euler(R, "YXZ")
    e[..., 0] = np.clip(e[..., 0], *ANKLE_PITCH_RANGE)
    return euler_to_matrix(e, "YXZ")


def build_motion(ctrl: BodyControls, fps: float = 30.0, extras: Optional[Dict[str, np.ndarray]] = None,
                 meta: Optional[Dict[str, Any]] = None) -> Motion:
    """Solve the controls into a SMPL-22 :class:`Motion` (local rotations, w-first quaternions)."""
    sk = smpl22_skeleton()
    idx = {n: i for i, n in enumerate(sk.names)}
    T = ctrl.root_pos.shape[0]
    L = np.tile(np.eye(3), (T, sk.num_joints, 1, 1))
    L[:, idx["pelvis"]] = ctrl.pelvis_rot
    for i, name in enumerate(("spine1", "spine2", "spine3")):
        L[:, idx[name]] = euler(ctrl.spine[:, i])
    L[:, idx["neck"]] = euler(ctrl.neck)
    L[:, idx["head"]] = euler(ctrl.head)
    for s, side in enumerate(SIDES):
        L[:, idx[f"{side}_collar"]] = euler(ctrl.collar[:, s])
        L[:, idx[f"{side}_wrist"]] = euler(ctrl.wrist[:, s])
    pos, rot = forward_kinematics(L, ctrl.root_pos, sk.parents, sk.offsets)
    off = sk.offsets
    chest_R, chest_p = rot[:, idx["spine3"]], pos[:, idx["spine3"]]
    for s, side in enumerate(SIDES):
        hip, knee, ankle = idx[f"{side}_hip"], idx[f"{side}_knee"], idx[f"{side}_ankle"]
        R_hip, R_knee, _ = two_bone_ik(pos[:, hip], ctrl.ankle_target[:, s], off[knee], off[ankle],
                                       hinge=np.array([0.0, 1.0, 0.0]), pole_local=np.array([1.0, 0.0, 0.0]),
                                       pole_world=ctrl.knee_pole[:, s])
        L[:, hip] = np.swapaxes(ctrl.pelvis_rot, -1, -2) @ R_hip
        L[:, knee] = R_knee
        L[:, ankle] = _limit_ankle(np.swapaxes(R_hip @ R_knee, -1, -2) @ ctrl.foot_rot[:, s])
        sh, el, wr, col = idx[f"{side}_shoulder"], idx[f"{side}_elbow"], idx[f"{side}_wrist"], idx[f"{side}_collar"]
        sign = 1.0 if side == "left" else -1.0
        target = chest_p + np.einsum("tij,tj->ti", chest_R, ctrl.hand_target[:, s])
        pole = np.einsum("tij,tj->ti", chest_R, ctrl.elbow_pole[:, s])
        R_sh, R_el, _ = two_bone_ik(pos[:, sh], target, off[el], off[wr], hinge=np.array([0.0, 0.0, -sign]),
                                    pole_local=np.array([-1.0, 0.0, 0.0]), pole_world=pole, reach=0.995)
        L[:, sh] = np.swapaxes(rot[:, col], -1, -2) @ R_sh
        L[:, el] = R_el
    quat = quat_fix_continuity(matrix_to_quat(L), dim=0)
    return Motion(fps=fps, skeleton=sk, root_pos=ctrl.root_pos.copy(), local_quat=quat,
                  extras=dict(extras or {}), meta=dict(meta or {}))
