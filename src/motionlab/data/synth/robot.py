"""The paired Unitree G1 clip of a synthetic SMPL-22 clip, by an analytic joint mapping.

Both bodies share motionlab's frame (Z up, facing +X, left +Y) and, at zero, stand with straight
legs; they differ in the arms: the canonical body's rest arms point sideways (T pose) while the
G1's hang down with the forearm forward (elbow at 90 degrees). The mapping:

* legs: the hip's rotation relative to the pelvis is decomposed as ``Ry Rx Rz`` (hip pitch, roll,
  yaw: the G1 chain order), the knee keeps its flexion about +Y, the ankle ``Ry Rx`` (pitch, roll);
* waist: the pelvis-to-chest rotation (spine1-3) as ``Rz Rx Ry`` (waist yaw, roll, pitch);
* arms: the upper arm's rotation relative to the chest is re-expressed in the G1's hanging-arm
  frame (``C = Rx(+-90 deg)``) and decomposed as ``Ry Rx Rz`` (shoulder pitch, roll, yaw); elbow =
  90 deg minus the human elbow flexion; wrist as ``Rx Ry Rz`` (roll, pitch, yaw);
* root: the pelvis rotation (heading kept) and position scaled by the ratio of standing pelvis
  heights (G1 0.793 m, canonical body 0.97 m).

Joint angles are clamped into the official limits (:func:`motionlab.robots.g1.clamp_to_limits`).
"""

from __future__ import annotations

import numpy as np

from motionlab.core.motion import Motion
from motionlab.core.rotations import matrix_to_euler, matrix_to_quat, quat_fix_continuity
from motionlab.data.synth.rig import STAND_PELVIS_HEIGHT, euler
from motionlab.robots.g1 import G1_PELVIS_HEIGHT, clamp_to_limits, joint_index
from motionlab.robots.motion import RobotMotion


def _T(R: np.ndarray) -> np.ndarray:
    return np.swapaxes(R, -1, -2)


def body_to_g1(motion: Motion, clamp: bool = True) -> RobotMotion:
    """Map a SMPL-22 :class:`Motion` to a G1 :class:`RobotMotion` (Unitree order, same fps).

    ``clamp=False`` returns the raw analytic angles (to measure how often the limits bind)."""
    sk = motion.skeleton
    idx = {n: sk.index(n) for n in sk.names}
    L = motion.local_matrices()
    _, G = motion.fk()
    T = motion.num_frames
    q = np.zeros((T, 29))

    def put(name: str, values: np.ndarray) -> None:
        q[:, joint_index(name)] = values

    for side in ("left", "right"):
        hip = matrix_to_euler(L[:, idx[f"{side}_hip"]], "YXZ")
        put(f"{side}_hip_pitch_joint", hip[:, 0])
        put(f"{side}_hip_roll_joint", hip[:, 1])
        put(f"{side}_hip_yaw_joint", hip[:, 2])
        knee = matrix_to_euler(L[:, idx[f"{side}_knee"]], "YXZ")
        put(f"{side}_knee_joint", knee[:, 0])
        ankle = matrix_to_euler(L[:, idx[f"{side}_ankle"]], "YXZ")
        put(f"{side}_ankle_pitch_joint", ankle[:, 0])
        put(f"{side}_ankle_roll_joint", ankle[:, 1])
    chest = G[:, idx["spine3"]]
    waist = matrix_to_euler(_T(G[:, idx["pelvis"]]) @ chest, "ZXY")
    put("waist_yaw_joint", waist[:, 0])
    put("waist_roll_joint", waist[:, 1])
    put("waist_pitch_joint", waist[:, 2])
    for side, sign in (("left", 1.0), ("right", -1.0)):
        C = euler(np.array([0.0, 0.0, sign * np.pi / 2]))
        upper = _T(chest) @ G[:, idx[f"{side}_shoulder"]] @ C
        sh = matrix_to_euler(upper, "YXZ")
        put(f"{side}_shoulder_pitch_joint", sh[:, 0])
        put(f"{side}_shoulder_roll_joint", sh[:, 1])
        put(f"{side}_shoulder_yaw_joint", sh[:, 2])
        elbow = _T(C) @ L[:, idx[f"{side}_elbow"]] @ C  # a rotation about -Y (flexion) in the G1 frame
        put(f"{side}_elbow_joint", np.pi / 2 + matrix_to_euler(elbow, "YXZ")[:, 0])
        wrist = matrix_to_euler(_T(C) @ L[:, idx[f"{side}_wrist"]] @ C, "XYZ")
        put(f"{side}_wrist_roll_joint", wrist[:, 0])
        put(f"{side}_wrist_pitch_joint", wrist[:, 1])
        put(f"{side}_wrist_yaw_joint", wrist[:, 2])
    if clamp:
        q = clamp_to_limits(q)
    root_pos = motion.root_pos * (G1_PELVIS_HEIGHT / STAND_PELVIS_HEIGHT)
    root_quat = quat_fix_continuity(matrix_to_quat(G[:, idx["pelvis"]]), dim=0)
    meta = {k: v for k, v in motion.meta.items() if k in ("style", "kind", "caption", "id")}
    meta["mapping"] = "motionlab.data.synth.robot analytic (official limits, clamped)"
    return RobotMotion(fps=motion.fps, root_pos=root_pos, root_quat=root_quat, joint_pos=q, meta=meta)
