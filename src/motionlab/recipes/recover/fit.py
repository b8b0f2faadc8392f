"""Joints -> motion: fit SMPL-22 local rotations to recovered joint positions with fixed bone lengths.

The skeleton is the canonical SMPL-22 (:func:`motionlab.core.body.smpl22_skeleton`) with each bone's
length set to its median length in the recovered joints (fixed over the clip; rest directions are the
canonical ones). Rotations start from a closed-form solution, parent before child: joints with several
children (pelvis, spine3) take the rotation that best aligns their rest offsets to the observed ones
(Kabsch); a joint with one child takes the smallest rotation from its parent's orientation that points the
bone at the child (no added twist); leaves keep their parent's orientation. Then a few Adam steps refine
all rotations (6D) and the root together on the joint-position error, with a small temporal smoothness
term. Twist about a bone's own axis is not observable from joints; it stays at the rest twist.
"""

from __future__ import annotations

from typing import Tuple

import numpy as np
import torch

from motionlab.core.body import SMPL22_NAMES, smpl22_skeleton
from motionlab.core.motion import Motion
from motionlab.core.skeleton import Skeleton
from motionlab.errors import MotionLabError


def fitted_skeleton(joints: np.ndarray) -> Skeleton:
    """The canonical SMPL-22 skeleton with each bone at the median length of ``joints (T, 22, 3)``."""
    sk = smpl22_skeleton()
    off = sk.offsets.copy()
    for j in range(1, 22):
        p = sk.parents[j]
        L = float(np.median(np.linalg.norm(joints[:, j] - joints[:, p], axis=-1)))
        n = np.linalg.norm(off[j])
        if n > 0 and np.isfinite(L) and L > 1e-4:
            off[j] = off[j] / n * L
    return Skeleton(list(sk.names), sk.parents, off, sk.end_sites)


def _kabsch(r: np.ndarray, d: np.ndarray) -> np.ndarray:
    """``(T, 3, 3)`` rotations ``R`` minimising ``sum_k ||R r_k - d_k||^2`` for ``r (K, 3)``, ``d (T, K, 3)``."""
    H = np.einsum("tki,kj->tij", d, r)
    U, _, Vt = np.linalg.svd(H)
    D = np.ones((d.shape[0], 3))
    D[:, -1] = np.sign(np.linalg.det(U @ Vt))
    return U @ (D[:, :, None] * Vt)


def _swing(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """``(T, 3, 3)`` smallest rotations taking directions ``a`` to ``b`` (both ``(T, 3)``)."""
    a = a / np.maximum(np.linalg.norm(a, axis=-1, keepdims=True), 1e-9)
    b = b / np.maximum(np.linalg.norm(b, axis=-1, keepdims=True), 1e-9)
    v = np.cross(a, b)
    c = (a * b).sum(-1)
    vx = np.zeros(a.shape[:-1] + (3, 3))
    vx[..., 0, 1], vx[..., 0, 2], vx[..., 1, 0] = -v[..., 2], v[..., 1], v[..., 2]
    vx[..., 1, 2], vx[..., 2, 0], vx[..., 2, 1] = -v[..., 0], -v[..., 1], v[..., 0]
    k = 1.0 / np.maximum(1.0 + c, 1e-6)
    R = np.eye(3) + vx + vx @ vx * k[..., None, None]
    opposite = c < -0.9999  # half turn about any axis normal to a
    if opposite.any():
        n = np.cross(a[opposite], np.array([1.0, 0.0, 0.0]))
        n[np.linalg.norm(n, axis=-1) < 1e-6] = np.array([0.0, 1.0, 0.0])
        n /= np.linalg.norm(n, axis=-1, keepdims=True)
        R[opposite] = 2 * n[:, :, None] * n[:, None, :] - np.eye(3)
    return R


def initial_rotations(sk: Skeleton, joints: np.ndarray) -> np.ndarray:
    """Closed-form ``(T, 22, 3, 3)`` local rotations (see the module docstring)."""
    T, Jn = joints.shape[:2]
    glob = np.zeros((T, Jn, 3, 3))
    local = np.zeros((T, Jn, 3, 3))
    for j in range(Jn):
        p = int(sk.parents[j])
        parent = glob[:, p] if p >= 0 else np.broadcast_to(np.eye(3), (T, 3, 3))
        kids = sk.children(j)
        if len(kids) > 1:
            G = _kabsch(sk.offsets[kids], joints[:, kids] - joints[:, j:j + 1])
        elif len(kids) == 1:
            c = kids[0]
            G = _swing(np.einsum("tij,j->ti", parent, sk.offsets[c]), joints[:, c] - joints[:, j]) @ parent
        else:
            G = parent.copy()
        glob[:, j] = G
        local[:, j] = np.swapaxes(parent, -1, -2) @ G
    return local


def fit_motion(joints: np.ndarray, fps: float, iters: int = 150, smooth: float = 0.1) -> Tuple[Motion, float]:
    """Fit a SMPL-22 :class:`Motion` to world joints ``(T, 22, 3)`` (Z up, m).

    Returns the motion and the mean joint error (m) of the fit.
    """
    from motionlab.core.kinematics import forward_kinematics
    from motionlab.core.rotations import matrix_to_quat, matrix_to_rot6d, rot6d_to_matrix

    joints = np.asarray(joints, dtype=np.float64)
    if joints.ndim != 3 or joints.shape[1:] != (22, 3):
        raise MotionLabError(f"joints must be (T, 22, 3), got {joints.shape}", place="joints")
    if not np.isfinite(joints).all():
        raise MotionLabError("joints contain NaN or infinite values", place="joints")
    sk = fitted_skeleton(joints)
    local = initial_rotations(sk, joints)
    target = torch.from_numpy(joints)
    d6 = torch.from_numpy(matrix_to_rot6d(local)).clone().requires_grad_(True)
    root = torch.from_numpy(joints[:, 0].copy()).requires_grad_(True)
    off = torch.from_numpy(sk.offsets)
    opt = torch.optim.Adam([d6, root], lr=0.003)
    best, best_loss = (d6.detach().clone(), root.detach().clone()), float("inf")
    for i in range(int(iters) + 1):
        R = rot6d_to_matrix(d6)
        pos, _ = forward_kinematics(R, root, sk.parents, off)
        loss = ((pos - target) ** 2).sum(-1).mean()
        if d6.shape[0] > 1:
            loss = loss + smooth * 1e-2 * ((d6[1:] - d6[:-1]) ** 2).sum(-1).mean()
        if float(loss.detach()) < best_loss:  # keep the best iterate (the closed form is often already exact)
            best, best_loss = (d6.detach().clone(), root.detach().clone()), float(loss.detach())
        if i == int(iters):
            break
        opt.zero_grad()
        loss.backward()
        opt.step()
    d6, root = best
    with torch.no_grad():
        R = rot6d_to_matrix(d6)
        pos, _ = forward_kinematics(R, root, sk.parents, off)
        err = float((pos - target).norm(dim=-1).mean())
        quat = matrix_to_quat(R).numpy()
    motion = Motion(fps=fps, skeleton=sk, root_pos=root.detach().numpy(), local_quat=quat,
                    meta={"format": "recover", "joint_fit_error_m": round(err, 6)})
    assert list(motion.skeleton.names) == SMPL22_NAMES
    return motion, err
