"""The guide's loss terms on predicted vs true character states, and their groups.

States are ``(B, S, 141)`` tensors in the layout of :mod:`motionlab.data.character_state`; ``norm_*``
arguments are normalised (z-scored) states, ``raw_*`` de-normalised ones. Rotations are the heading-free
root tilt and the 21 local joint rotations (22 rotations, column 6D).

==========================  ==================================================================  =====
term                        definition                                                          group
==========================  ==================================================================  =====
``rot_geo``                 mean geodesic angle (rad, atan2 form) of the 22 rotations            core
``rot_delta``               MSE of consecutive-frame changes of the normalised 6D channels       core
``rot_ortho``               ``(|a|-1)^2 + (|b|-1)^2 + (a.b)^2`` of the raw predicted 6D columns  core
``fk_pos``                  mean joint position error (m) by forward kinematics (root-relative)  core
``rot_local``               MSE of the normalised 6D channels (parent-relative rotations)        core
``rot_delta_root``          MSE of the normalised root channels (height, velocity, yaw rate)     aux
``rot_log``                 squared error of the SO(3) logs of consecutive-frame rotation steps  aux
``limb_geo``                hinge ``max(0, angle - margin)`` on hips, knees, ankles, shoulders,  aux
                            elbows, wrists (rad)
``contact``                 KL divergence of the soft-contact head from the soft scores         aux
``phase``                   MSE of the normalised soft phase and frequency                      aux
``gait``                    cross-entropy of the gait-class head                                aux
``latent_consistency``      MSE between the encoder's latent of the predicted and of the true    long
                            next frame (the true one detached)
``freerun``                 normalised-state MSE over a free-run rollout                         long
==========================  ==================================================================  =====

The guide's ``attn_reg`` has no counterpart (the encoder has no attention). No explicit foot constraint
(foot locking, penetration, sliding) exists, by design: contacts are learned as soft scores.
"""

from __future__ import annotations

from typing import Dict

import torch
import torch.nn.functional as F
from torch import Tensor

from motionlab.core.body import SMPL22_NAMES
from motionlab.data.character_state import LAYOUT

LOSS_GROUPS: Dict[str, tuple] = {
    "core": ("rot_geo", "rot_delta", "rot_ortho", "fk_pos", "rot_local"),
    "aux": ("rot_delta_root", "rot_log", "limb_geo", "contact", "phase", "gait"),
    "long": ("latent_consistency", "freerun"),
}
LOSS_TERMS = tuple(t for terms in LOSS_GROUPS.values() for t in terms)

ROT = slice(LAYOUT["tilt"][0], LAYOUT["joints"][1])  # 22 rotations x 6
ROOT = slice(0, 4)
PHASE = slice(LAYOUT["phase"][0], LAYOUT["freq"][1])
LIMBS = ("left_hip", "right_hip", "left_knee", "right_knee", "left_ankle", "right_ankle", "left_shoulder",
         "right_shoulder", "left_elbow", "right_elbow", "left_wrist", "right_wrist")
LIMB_INDEX = [SMPL22_NAMES.index(n) for n in LIMBS]  # rotation index = joint index (0 = root tilt)


def rotations(raw: Tensor) -> Tensor:
    """``(..., 22, 3, 3)`` rotation matrices (root tilt, joints 1..21) of raw states."""
    from motionlab.core.rotations import rot6d_to_matrix

    six = raw[..., ROT].reshape(*raw.shape[:-1], 22, 6)
    return rot6d_to_matrix(six)


def geodesic(Ra: Tensor, Rb: Tensor) -> Tensor:
    from motionlab.core.rotations import geodesic_angle

    return geodesic_angle(Ra, Rb)


def fk_positions(raw: Tensor, R: Tensor, skeleton) -> Tensor:
    """``(..., 22, 3)`` joint positions with the pelvis at ``(0, 0, height)`` and the tilted root."""
    from motionlab.core.kinematics import forward_kinematics

    root = torch.zeros(*raw.shape[:-1], 3, dtype=raw.dtype, device=raw.device)
    root = torch.cat([root[..., :2], raw[..., 0:1]], dim=-1)
    pos, _ = forward_kinematics(R, root, skeleton.parents, torch.as_tensor(skeleton.offsets, dtype=raw.dtype))
    return pos


def ortho_penalty(raw: Tensor) -> Tensor:
    six = raw[..., ROT].reshape(*raw.shape[:-1], 22, 2, 3)
    a, b = six[..., 0, :], six[..., 1, :]
    return ((a.norm(dim=-1) - 1) ** 2 + (b.norm(dim=-1) - 1) ** 2 + (a * b).sum(-1) ** 2).mean()


def step_logs(R: Tensor) -> Tensor:
    """SO(3) logs (axis-angle) of ``R_t^T R_{t+1}`` along axis 1 of ``(B, S, 22, 3, 3)``."""
    import roma

    rel = R[:, :-1].transpose(-1, -2) @ R[:, 1:]
    return roma.rotmat_to_rotvec(rel)


def motion_terms(norm_pred: Tensor, norm_true: Tensor, raw_pred: Tensor, raw_true: Tensor, skeleton,
                 limb_margin: float) -> Dict[str, Tensor]:
    """The pose terms (core group, ``rot_delta_root``, ``rot_log``, ``limb_geo``, ``phase``) of a
    ``(B, S, D)`` prediction against the truth."""
    Rp, Rt = rotations(raw_pred), rotations(raw_true)
    ang = geodesic(Rp, Rt)  # (B, S, 22)
    out = {
        "rot_local": F.mse_loss(norm_pred[..., ROT], norm_true[..., ROT]),
        "rot_geo": ang.mean(),
        "rot_ortho": ortho_penalty(raw_pred),
        "fk_pos": (fk_positions(raw_pred, Rp, skeleton) - fk_positions(raw_true, Rt, skeleton)).norm(dim=-1).mean(),
        "rot_delta_root": F.mse_loss(norm_pred[..., ROOT], norm_true[..., ROOT]),
        "limb_geo": F.relu(ang[..., LIMB_INDEX] - limb_margin).mean(),
        "phase": F.mse_loss(norm_pred[..., PHASE], norm_true[..., PHASE]),
    }
    if norm_pred.shape[1] > 1:
        dp = norm_pred[:, 1:, ROT] - norm_pred[:, :-1, ROT]
        dt = norm_true[:, 1:, ROT] - norm_true[:, :-1, ROT]
        out["rot_delta"] = F.mse_loss(dp, dt)
        out["rot_log"] = ((step_logs(Rp) - step_logs(Rt)) ** 2).sum(-1).mean()
    else:
        out["rot_delta"] = norm_pred.new_zeros(())
        out["rot_log"] = norm_pred.new_zeros(())
    return out
