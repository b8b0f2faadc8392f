"""Track normalisation, training targets and their decoding (torch, batched ``(..., T, ...)``).

Conventions. Camera frame as OpenCV: x right, y down, z forward, metres. Image-normalised coordinates
``((u - cx) / f, (v - cy) / f)``. The person's box per frame (from the confident joints, smoothed over
time) has centre ``c`` and size ``s`` in image-normalised units; the lifter reads the joints as
``(p - c) / s`` with their confidence, and ``c``, ``log s``.

Outputs of the lifter (its ``OUT_DIM`` channels per frame):

* ``rel`` ``(T, 22, 3)``: SMPL-22 joints minus the pelvis, camera frame (m);
* ``root`` ``(T, 3)``: the pelvis in the camera frame as ``((x/z - c_x)/s, (y/z - c_y)/s, log(z s))``;
* ``canon`` ``(T, 22, 3)``: joints in the gravity-aligned heading frame (Z up, X the body's facing
  direction from the hips, origin on the ground under the pelvis): the body posture with its height;
* ``motion`` ``(T, 3)``: the pelvis's planar velocity in the heading frame (m/s) and the heading's
  yaw rate (rad/s), both divided by fps (per frame).

The world trajectory integrates ``motion`` from the first frame (heading 0 at the origin): a
gravity-aligned world whose yaw and origin are those of the first frame.
"""

from __future__ import annotations

import math
from typing import Dict, Tuple

import numpy as np
import torch

from motionlab.core.body import SMPL22_NAMES, SMPL22_PARENTS
from motionlab.eval.metrics import hip_heading
from motionlab.io.keypoints import COCO17_NAMES

J = 22
K = 17
OUT_DIM = J * 3 + 3 + J * 3 + 3
#: SMPL-22 index of each COCO-17 limb joint (shoulders..ankles), used by the re-projection loss
COCO_LIMBS = list(range(5, 17))
SMPL_OF_COCO = [SMPL22_NAMES.index(COCO17_NAMES[i]) for i in COCO_LIMBS]
HIPS = [SMPL22_NAMES.index("left_hip"), SMPL22_NAMES.index("right_hip")]
BONES = [(j, p) for j, p in enumerate(SMPL22_PARENTS) if p >= 0]


def _mirror_perm(names) -> list:
    out = []
    for n in names:
        m = n.replace("left", "#").replace("right", "left").replace("#", "right")
        out.append(list(names).index(m))
    return out


FLIP_COCO = _mirror_perm(COCO17_NAMES)
FLIP_SMPL = _mirror_perm(SMPL22_NAMES)


def default_focal(image_size) -> float:
    """GVHMR's default focal length when none is known: the image diagonal in pixels."""
    w, h = image_size
    return float(math.hypot(w, h))


def person_box(pn: np.ndarray, valid: np.ndarray, sigma: float = 2.0) -> np.ndarray:
    """``(T, 3)`` box ``(c_x, c_y, log s)`` of image-normalised joints ``pn (T, 17, 2)`` with ``valid (T, 17)``.

    Per frame: centre of the confident joints' extent, size = its larger side (at least 1e-3); frames with
    fewer than 3 confident joints take their neighbours' box; then a Gaussian smoothing over time.
    Returns ``None`` when no frame has 3 confident joints.
    """
    from scipy.ndimage import gaussian_filter1d

    T = pn.shape[0]
    ok = valid.sum(-1) >= 3
    if not ok.any():
        return None
    big = np.where(valid[..., None], pn, np.inf)
    small = np.where(valid[..., None], pn, -np.inf)
    lo, hi = big.min(1), small.max(1)
    lo, hi = np.where(ok[:, None], lo, 0.0), np.where(ok[:, None], hi, 0.0)
    c = (lo + hi) / 2
    s = np.where(ok, np.maximum((hi - lo).max(-1), 1e-3), 1.0)
    t = np.arange(T)
    box = np.stack([c[:, 0], c[:, 1], np.log(s)], -1)
    box = np.stack([np.interp(t, t[ok], box[ok, i]) for i in range(3)], -1)
    return gaussian_filter1d(box, sigma, axis=0, mode="nearest") if T > 1 and sigma > 0 else box


def track_inputs(xy: np.ndarray, conf: np.ndarray, focal: float, principal, min_conf: float):
    """Lifter inputs of a pixel track: ``(feat (T, 17, 3), box (T, 3))`` or ``None`` when no person.

    ``feat`` = box-normalised x, y and the confidence, all zero where the confidence is below
    ``min_conf`` (masked, never read as a position).
    """
    pn = (np.asarray(xy, np.float64) - np.asarray(principal, np.float64)) / float(focal)
    valid = np.asarray(conf) >= min_conf
    box = person_box(pn, valid)
    if box is None:
        return None
    norm = (pn - box[:, None, :2]) / np.exp(box[:, None, 2:3])
    feat = np.concatenate([norm, np.asarray(conf)[..., None]], -1)
    feat = np.where(valid[..., None], feat, 0.0)
    return feat.astype(np.float32), box.astype(np.float32)


def _rotz(yaw: np.ndarray) -> np.ndarray:
    c, s = np.cos(yaw), np.sin(yaw)
    R = np.zeros(yaw.shape + (3, 3))
    R[..., 0, 0], R[..., 0, 1], R[..., 1, 0], R[..., 1, 1], R[..., 2, 2] = c, -s, s, c, 1.0
    return R


def targets(world: np.ndarray, R: np.ndarray, C: np.ndarray, box: np.ndarray) -> np.ndarray:
    """``(T, OUT_DIM)`` training targets from world joints ``(T, 22, 3)`` (Z up, m) seen by a camera
    ``R (T, 3, 3)``, ``C (T, 3)`` (OpenCV world-to-camera), with the track's ``box``; see the module docstring."""
    cam = np.einsum("tij,tnj->tni", R, world - C[:, None])
    root = cam[:, 0]
    rel = cam - root[:, None]
    z = np.maximum(root[:, 2], 1e-3)
    s = np.exp(box[:, 2])
    rt = np.stack([(root[:, 0] / z - box[:, 0]) / s, (root[:, 1] / z - box[:, 1]) / s, np.log(z * s)], -1)
    yaw = hip_heading(world)  # unwrapped facing direction of the hips
    ground = world[:, 0].copy()
    ground[:, 2] = 0.0
    canon = np.einsum("tji,tnj->tni", _rotz(yaw), world - ground[:, None])  # R^T (x - g)
    d = np.diff(ground, axis=0, append=ground[-1:] + (ground[-1:] - ground[-2:-1] if len(ground) > 1 else 0))
    vel = np.einsum("tji,tj->ti", _rotz(yaw), d)[:, :2]
    dyaw = np.diff(yaw, append=yaw[-1] + (yaw[-1] - yaw[-2] if len(yaw) > 1 else 0.0))
    T = world.shape[0]
    return np.concatenate([rel.reshape(T, -1), rt, canon.reshape(T, -1), vel, dyaw[:, None]], -1).astype(np.float32)


def split(out: torch.Tensor) -> Dict[str, torch.Tensor]:
    """Lifter output ``(..., T, OUT_DIM)`` -> ``rel``, ``root``, ``canon`` (..., T, 22, 3) / ``motion`` (..., T, 3)."""
    sh = out.shape[:-1]
    a, b, c = J * 3, J * 3 + 3, J * 6 + 3
    return {"rel": out[..., :a].reshape(*sh, J, 3), "root": out[..., a:b],
            "canon": out[..., b:c].reshape(*sh, J, 3), "motion": out[..., c:]}


def camera_joints(parts: Dict[str, torch.Tensor], box: torch.Tensor) -> torch.Tensor:
    """``(..., T, 22, 3)`` joints in the camera frame from the split output and the box."""
    s = box[..., 2].exp()
    root = parts["root"]
    z = root[..., 2].exp() / s
    x = (box[..., 0] + root[..., 0] * s) * z
    y = (box[..., 1] + root[..., 1] * s) * z
    return parts["rel"] + torch.stack([x, y, z], -1)[..., None, :]


def world_joints(parts: Dict[str, torch.Tensor]) -> Tuple[torch.Tensor, torch.Tensor]:
    """``(joints (..., T, 22, 3), root (..., T, 3))`` in the gravity-aligned world (see the module docstring)."""
    m = parts["motion"]
    yaw = torch.cumsum(m[..., 2], -1) - m[..., 2]  # heading of frame t = sum of rates before t
    c, s = yaw.cos(), yaw.sin()
    vx, vy = m[..., 0], m[..., 1]
    step = torch.stack([c * vx - s * vy, s * vx + c * vy], -1)
    xy = torch.cumsum(step, -2) - step
    canon = parts["canon"]
    wx = c[..., None] * canon[..., 0] - s[..., None] * canon[..., 1] + xy[..., None, 0]
    wy = s[..., None] * canon[..., 0] + c[..., None] * canon[..., 1] + xy[..., None, 1]
    joints = torch.stack([wx, wy, canon[..., 2]], -1)
    return joints, joints[..., 0, :]


def project(cam: torch.Tensor, box: torch.Tensor) -> torch.Tensor:
    """Camera-frame points ``(..., T, N, 3)`` -> box-normalised image points ``(..., T, N, 2)``."""
    uv = cam[..., :2] / cam[..., 2:3].clamp_min(0.05)
    return (uv - box[..., None, :2]) / box[..., None, 2:3].exp()


def bone_lengths(joints: torch.Tensor) -> torch.Tensor:
    """``(..., 21)`` lengths of the SMPL-22 bones of ``(..., 22, 3)`` joints."""
    child = [j for j, _ in BONES]
    parent = [p for _, p in BONES]
    return (joints[..., child, :] - joints[..., parent, :]).norm(dim=-1)
