"""The G1 root trajectory of a retargeted clip, from the human root and the robot's own feet.

The network predicts joint angles only; the floating base is placed here:

* **scale**: the human's standing pelvis height ``H_h`` (rest pose: pelvis above the lowest joint or
  End Site) against the G1's 0.793 m, ``s = 0.793 / H_h``; horizontal root positions are scaled by
  ``s`` (about the world origin, as the synthetic pairs and common retargeters do);
* **orientation**: the G1 pelvis takes the human pelvis's world rotation (heading, lean and tilt);
* **height**: per frame, the pelvis is raised or lowered so that the lowest point of the robot's
  soles (G1 FK of the predicted joints) sits at ``s`` times the human's lowest foot clearance above
  the clip's floor: planted feet stay on the ground (Z = 0) and flight phases keep their height;
* **planted feet**: the robot's legs are not the human's scaled legs, so a scaled human root makes a
  planted G1 foot slide. Each horizontal root step is therefore taken (``infer.root: stance``, the
  default; ``human`` keeps the scaled human path) from the robot's own stance
  feet where a sole is on the ground (the step that keeps it fixed; in double support the mean of
  both feet weighted by the 4th power of their contact weights, so a swinging foot near the ground
  does not drag a planted one), and from the scaled human root step in flight, blended by the
  largest soft contact weight (1 below 2 cm, 0 above 4 cm). A root step cannot hold two feet that
  move relative to each other (a pelvis turn the hip yaw does not follow): the leg IK of
  :mod:`.contacts` (``infer.contacts``) then holds the human's planted feet in the world.

The G1 sole points are the four contact spheres of each ``*_ankle_roll_link`` in the official MJCF
(``g1_29dof_rev_1_0.xml``): centres at x -0.05 / 0.12, y +-0.025 / +-0.03, z -0.03 with radius 0.005,
so the sole lies 0.035 m below the link origin.
"""

from __future__ import annotations

from typing import Dict, Optional, Tuple

import numpy as np

from motionlab.core.motion import Motion
from motionlab.core.rotations import matrix_to_quat, quat_fix_continuity, quat_rotate
from motionlab.errors import MotionLabError, choices_error
from motionlab.robots.g1 import G1_JOINT_NAMES, G1_PELVIS_HEIGHT, ISAAC_BODY_NAMES
from motionlab.robots.motion import RobotMotion

#: Sole points of a G1 foot in its ``*_ankle_roll_link`` frame (m): the bottoms of the MJCF contact spheres.
G1_SOLE_POINTS = np.array([[-0.05, 0.025, -0.035], [-0.05, -0.025, -0.035],
                           [0.12, 0.03, -0.035], [0.12, -0.03, -0.035]])
G1_FOOT_BODIES = ("left_ankle_roll_link", "right_ankle_roll_link")
_FOOT_IDX = [ISAAC_BODY_NAMES.index(n) for n in G1_FOOT_BODIES]
HUMAN_FOOT_JOINTS = ("left_ankle", "right_ankle", "left_foot", "right_foot")


def human_standing_height(skeleton) -> float:
    """Standing pelvis height (m) of a skeleton in its rest pose: the root above its lowest joint or
    End Site. Raises a MotionLabError when it is not positive (a skeleton lying down or flat)."""
    pos, rot = skeleton.rest_fk()
    z = [pos[:, 2]]
    for j, off in skeleton.end_sites.items():
        z.append(np.array([pos[j, 2] + (rot[j] @ off)[2]]))
    h = float(pos[0, 2] - np.concatenate(z).min())
    if not np.isfinite(h) or h < 0.2:
        raise MotionLabError(f"the rest pose stands {h:.3f} m tall at the pelvis: cannot scale it to the G1 "
                             "(expected an upright rest pose, Z up, metres)", place="skeleton")
    return h


def g1_soles(body_pos: np.ndarray, body_quat: np.ndarray) -> np.ndarray:
    """World sole points ``(T, 2, 4, 3)`` (left, right foot) from Isaac-order FK poses
    ``body_pos (T, 30, 3)`` and ``body_quat (T, 30, 4)`` (w first)."""
    p = body_pos[:, _FOOT_IDX]  # (T, 2, 3)
    q = body_quat[:, _FOOT_IDX]
    return p[:, :, None] + quat_rotate(q[:, :, None], np.broadcast_to(G1_SOLE_POINTS, q.shape[:2] + (4, 3)))


def human_foot_clearance(positions: np.ndarray, foot_idx) -> np.ndarray:
    """``(T,)`` height of the lowest foot joint above the clip's floor (its lowest value over the clip)."""
    low = positions[:, list(foot_idx), 2].min(axis=1)
    return low - low.min()


def robot_root_trajectory(human: Motion, joint_pos: np.ndarray, scale: Optional[float] = None,
                          anchor: bool = True) -> Tuple[np.ndarray, np.ndarray, Dict[str, float]]:
    """Root ``(pos (T, 3), quat (T, 4) w first)`` of the G1 for a human clip and predicted joints.

    Args:
        human: the human clip on the SMPL-22 layout (``to_smpl22`` output), same frames as ``joint_pos``.
        joint_pos: ``(T, 29)`` G1 joint angles (rad, Unitree order).
        scale: robot/human size ratio; default ``0.793 / standing pelvis height of the human``.
        anchor: take the horizontal root steps from the robot's stance feet
            (:func:`anchor_stance_feet`); False keeps the scaled human root (the planted feet are then
            held by the leg IK of :mod:`.contacts`).

    Returns:
        root_pos, root_quat and a dict with ``scale`` and ``sole_height_before`` (mean lowest-sole
        height before the height correction, m).
    """
    from motionlab.robots.g1_fk import g1_fk

    q = np.asarray(joint_pos, dtype=np.float64)
    T = human.num_frames
    if q.shape != (T, 29):
        raise MotionLabError(f"joint_pos must be ({T}, 29) to match the human clip, got {q.shape}", place="joint_pos")
    s = float(scale) if scale is not None else G1_PELVIS_HEIGHT / human_standing_height(human.skeleton)
    pos, rot = human.fk()
    root_quat = quat_fix_continuity(matrix_to_quat(rot[:, 0]), dim=0)
    root_pos = pos[:, 0] * s
    body_pos, body_quat = g1_fk(root_pos, root_quat, q, order="isaac")
    sole = g1_soles(body_pos, body_quat)[..., 2].reshape(T, -1).min(axis=1)
    feet = [human.skeleton.index(n) for n in HUMAN_FOOT_JOINTS if n in human.skeleton.names]
    target = s * human_foot_clearance(pos, feet) if feet else np.zeros(T)
    root_pos[:, 2] += target - sole
    if anchor:
        soles = g1_soles(*g1_fk(root_pos, root_quat, q, order="isaac"))  # (T, 2, 4, 3)
        root_pos[:, :2] = anchor_stance_feet(root_pos[:, :2], soles)
    return root_pos, root_quat, {"scale": s, "sole_height_before": float(sole.mean())}


def anchor_stance_feet(root_xy: np.ndarray, soles: np.ndarray, low: float = 0.02, high: float = 0.04,
                      pull: float = 0.05) -> np.ndarray:
    """Horizontal root ``(T, 2)`` whose steps keep grounded soles fixed (see the module docstring).

    ``soles`` are world sole points ``(T, F, P, 3)`` computed with ``root_xy``; a foot's contact weight
    is 1 when its lowest sole point is below ``low`` m, 0 above ``high`` m, linear between. The first
    frame keeps its position. Each step also recovers ``pull`` of the distance to the scaled human root,
    so the path cannot drift away over a long clip (a slow correction, far below the 0.5 m/s at which a
    planted foot counts as skating).
    """
    T = len(root_xy)
    if T < 2:
        return root_xy.copy()
    h = soles[..., 2].min(axis=2)  # (T, F) lowest sole point of each foot
    w = np.clip((high - h) / (high - low), 0.0, 1.0)
    w_step = np.minimum(w[1:], w[:-1])  # (T-1, F): grounded at both ends of the step
    foot_xy = soles[..., :2].mean(axis=2)  # (T, F, 2)
    rel = foot_xy - root_xy[:, None, :]  # where each foot is relative to the root
    stance_step = -np.diff(rel, axis=0)  # the root step that keeps each foot still
    # each foot's share goes with the 4th power of its contact weight: a foot on the ground decides the
    # step, a swinging foot just below the band's top (weight 0.25 -> 0.004) does not drag it along
    share = w_step ** 4
    anchored = (share[..., None] * stance_step).sum(axis=1) / np.maximum(share.sum(axis=1, keepdims=True), 1e-12)
    blend = np.clip(w_step.max(axis=1, keepdims=True), 0.0, 1.0)
    step = blend * anchored + (1.0 - blend) * np.diff(root_xy, axis=0)
    out = np.empty_like(root_xy)
    out[0] = root_xy[0]
    for t in range(T - 1):  # sequential: the pull depends on where the root has got to
        out[t + 1] = out[t] + step[t] + pull * (root_xy[t + 1] - (out[t] + step[t]))
    return out


#: Horizontal root paths of :func:`assemble_robot_motion` (``infer.root``).
ROOT_MODES = ("stance", "human")


def assemble_robot_motion(human: Motion, joint_pos: np.ndarray, scale: Optional[float] = None,
                          meta: Optional[dict] = None, contacts: bool = True, root: str = "stance"
                          ) -> Tuple[RobotMotion, Dict[str, float]]:
    """A :class:`RobotMotion` (Unitree order, the human clip's fps) from predicted joint angles and
    the root of :func:`robot_root_trajectory`; body poses follow from motionlab's G1 FK
    (:func:`motionlab.robots.g1_fk.g1_fk_motion`).

    ``root``: ``"stance"`` takes the horizontal root steps from the robot's stance feet
    (:func:`anchor_stance_feet`), ``"human"`` keeps the scaled human root path. With ``contacts`` the
    human's planted feet are then pinned in the world by the leg IK of
    :func:`.contacts.pin_stance_feet` (the leg joints change; the root height follows the new soles).
    Returns the motion and the root info dict (plus the IK's, prefixed ``contact_``)."""
    if root not in ROOT_MODES:
        raise choices_error("root path (infer.root)", root, ROOT_MODES, place="infer.root")
    root_pos, root_quat, info = robot_root_trajectory(human, joint_pos, scale, anchor=root == "stance")
    if contacts:
        from motionlab.recipes.retarget.contacts import pin_stance_feet

        joint_pos, dz, pin = pin_stance_feet(human, root_pos, root_quat, joint_pos)
        root_pos = root_pos + np.stack([np.zeros_like(dz), np.zeros_like(dz), dz], axis=1)
        info.update({k if k.startswith("contact_") else f"contact_{k}": v for k, v in pin.items()})
    robot = RobotMotion(fps=human.fps, root_pos=root_pos, root_quat=root_quat, joint_pos=joint_pos,
                        joint_names=G1_JOINT_NAMES, meta=dict(meta or {}))
    return robot, info
