"""The guide's validation numbers of predicted vs true raw character states (teacher-forced or free run).

``pred``, ``true``: ``(N, S, 141)`` raw states of ``S`` predicted frames of ``N`` windows (for a free run,
frame ``k`` is ``k + 1`` steps after the seed). Teacher mode measures one-step errors; free-run mode
accumulates the heading from the predicted yaw rates (``YawAbsDeg`` is then the heading drift) and compares
world-frame velocities. Names: ``GeoDeg``, ``YawAbsDeg``, ``RootVelMAE``, ``FootContact``,
``FootContact/ratio`` (predicted fraction of contact frames), ``FootContact/ratio_true``,
``KeyBone/<bone>/GeoDeg`` and ``KeyBone/<bone>/AngVelCos`` (torso, knees, elbows).
"""

from __future__ import annotations

from typing import Dict

import numpy as np

from motionlab.core.body import SMPL22_NAMES
from motionlab.core.rotations import matrix_to_axis_angle, rot6d_to_matrix
from motionlab.data.character_state import LAYOUT
from motionlab.eval import metrics as M

KEY_BONES = {"torso": "spine3", "left_knee": "left_knee", "right_knee": "right_knee", "left_elbow": "left_elbow",
             "right_elbow": "right_elbow"}
_ROT = slice(LAYOUT["tilt"][0], LAYOUT["joints"][1])
_CONT = slice(*LAYOUT["contacts"])


def rotations(raw: np.ndarray) -> np.ndarray:
    """``(..., 22, 3, 3)`` rotations (root tilt, joints 1..21) of raw states."""
    return rot6d_to_matrix(np.asarray(raw, dtype=np.float64)[..., _ROT].reshape(*raw.shape[:-1], 22, 6))


def per_step_errors(pred: np.ndarray, true: np.ndarray, fps: float, free: bool) -> Dict[str, np.ndarray]:
    """``(N, S)`` arrays: ``GeoDeg`` (mean over the 22 rotations), ``YawAbsDeg``, ``RootVelMAE``, ``FootContact``."""
    pred, true = np.asarray(pred, np.float64), np.asarray(true, np.float64)
    geo = M.geodesic_deg(rotations(pred), rotations(true), reduce=False).mean(-1)
    if free:
        yaw = M.yaw_drift_deg(pred[..., 3], true[..., 3], fps)
        vp = M.planar_world_velocity(pred[..., 1:3], pred[..., 3], fps)
        vt = M.planar_world_velocity(true[..., 1:3], true[..., 3], fps)
    else:
        yaw = np.abs(np.degrees(pred[..., 3] - true[..., 3]) / fps)
        vp, vt = pred[..., 1:3], true[..., 1:3]
    vel = np.abs(vp - vt).mean(-1)
    cont = np.abs(np.clip(pred[..., _CONT], 0, 1) - true[..., _CONT]).mean(-1)
    return {"GeoDeg": geo, "YawAbsDeg": yaw, "RootVelMAE": vel, "FootContact": cont}


def summary(pred: np.ndarray, true: np.ndarray, fps: float, free: bool) -> Dict[str, float]:
    """Every number of the module docstring, averaged over windows and frames."""
    err = per_step_errors(pred, true, fps, free)
    out = {k: float(v.mean()) for k, v in err.items()}
    out["FootContact/ratio"] = M.contact_ratio(np.clip(pred[..., _CONT], 0, 1))
    out["FootContact/ratio_true"] = M.contact_ratio(true[..., _CONT])
    Rp, Rt = rotations(pred), rotations(true)
    for name, joint in KEY_BONES.items():
        j = SMPL22_NAMES.index(joint)
        out[f"KeyBone/{name}/GeoDeg"] = M.geodesic_deg(Rp[..., j, :, :], Rt[..., j, :, :])
        if pred.shape[1] > 1:
            wp = matrix_to_axis_angle(np.swapaxes(Rp[:, :-1, j], -1, -2) @ Rp[:, 1:, j]) * fps
            wt = matrix_to_axis_angle(np.swapaxes(Rt[:, :-1, j], -1, -2) @ Rt[:, 1:, j]) * fps
            cos = M.angvel_cosine(wp, wt)
            if np.isfinite(cos):
                out[f"KeyBone/{name}/AngVelCos"] = cos
    return out
