"""Forward kinematics of the Unitree G1 (29 DoF) in PyTorch, batched over any leading shape.

Each body ``b`` sits at ``pos_b`` in its parent's frame with rest rotation ``q_b`` (w-first
quaternion) and turns by its joint angle ``t_b`` about the joint axis ``a_b`` (in its own frame):

    quat_world[b] = quat_world[parent] * q_b * (cos(t_b / 2), sin(t_b / 2) a_b)
    pos_world[b]  = pos_world[parent] + rotate(quat_world[parent], pos_b)

The root body (``pelvis``) is placed at ``root_pos`` with ``root_quat``. This is MuJoCo's
``mj_kinematics`` for the official MJCF (body frames = ``xpos``/``xquat``), vectorised level by level
of the tree (10 steps in Python whatever the number of frames).
"""

from __future__ import annotations

from functools import lru_cache
from typing import TYPE_CHECKING, List, Tuple, Union

import numpy as np
import torch

from motionlab.core.rotations import quat_to_matrix
from motionlab.errors import MotionLabError, choices_error
from motionlab.robots.g1 import (
    G1_BODY_COMS,
    G1_BODY_NAMES,
    G1_BODY_OFFSETS,
    G1_BODY_PARENTS,
    G1_BODY_REST_QUATS,
    G1_JOINT_AXES,
    ISAAC_BODY_ORDER,
)

Array = Union[np.ndarray, torch.Tensor]

#: Body orders accepted by :func:`g1_fk`: ``"mujoco"`` (MJCF depth-first,
#: :data:`~motionlab.robots.g1.G1_BODY_NAMES`; MuJoCo body id minus one) or ``"isaac"``
#: (BeyondMimic, breadth-first, :data:`~motionlab.robots.g1.ISAAC_BODY_NAMES`).
BODY_ORDERS = ("mujoco", "isaac")

if TYPE_CHECKING:  # annotations only (runtime imports stay inside the functions)
    from motionlab.core.motion import Motion
    from motionlab.core.skeleton import Skeleton


@lru_cache(maxsize=None)
def _levels() -> Tuple[Tuple[Tuple[int, ...], Tuple[int, ...]], ...]:
    """The tree level by level below the root: per level ``(bodies, parent positions)``.

    ``bodies`` are MJCF body indices of that depth, in breadth-first (Isaac) order; each parent is
    given by its position within the previous level, so concatenating the levels after the root
    yields :data:`~motionlab.robots.g1.ISAAC_BODY_ORDER`.
    """
    prev: Tuple[int, ...] = (ISAAC_BODY_ORDER[0],)
    out = []
    rest = list(ISAAC_BODY_ORDER[1:])
    while rest:
        level = tuple(b for b in rest if G1_BODY_PARENTS[b] in prev)
        out.append((level, tuple(prev.index(G1_BODY_PARENTS[b]) for b in level)))
        rest = rest[len(level):]
        prev = level
    assert sum(len(lv) for lv, _ in out) == len(ISAAC_BODY_ORDER) - 1
    return tuple(out)


def _qmul(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """Hamilton product of w-first quaternions stored component-major ``(k, 4, n)``."""
    aw, ax, ay, az = a.unbind(-2)
    bw, bx, by, bz = b.unbind(-2)
    return torch.stack([aw * bw - ax * bx - ay * by - az * bz,
                        aw * bx + ax * bw + ay * bz - az * by,
                        aw * by - ax * bz + ay * bw + az * bx,
                        aw * bz + ax * by - ay * bx + az * bw], -2)


def _qrot(q: torch.Tensor, v: torch.Tensor) -> torch.Tensor:
    """Rotate ``(k, 3, 1 or n)`` vectors by ``(k, 4, n)`` component-major unit quaternions."""
    w, u = q[:, :1], q[:, 1:]
    t = 2.0 * torch.cross(u, v.expand_as(u), dim=-2)
    return v + w * t + torch.cross(u, t, dim=-2)


def g1_fk(
    root_pos: Array,
    root_quat: Array,
    joint_pos: Array,
    order: str = "mujoco",
    *,
    as_matrix: bool = False,
) -> Tuple[Array, Array]:
    """World poses of the 30 G1 bodies.

    Args:
        root_pos: ``(..., 3)`` pelvis position in the world, m (Z up).
        root_quat: ``(..., 4)`` pelvis rotation, **w first** (normalised here).
        joint_pos: ``(..., 29)`` joint angles in rad, **Unitree order**.
        order: body order of the output: ``"mujoco"`` (default; :data:`~motionlab.robots.g1.G1_BODY_NAMES`
            with :data:`~motionlab.robots.g1.G1_BODY_PARENTS`, MuJoCo body id minus one) or ``"isaac"``
            (:data:`~motionlab.robots.g1.ISAAC_BODY_NAMES` with ``ISAAC_BODY_PARENTS``, the BeyondMimic
            npz layout).
        as_matrix: return ``(..., 30, 3, 3)`` rotation matrices instead of quaternions.

    Returns:
        ``body_pos`` ``(..., 30, 3)`` m and ``body_quat`` ``(..., 30, 4)`` w first with ``w >= 0``
        (or matrices). Torch in -> torch out (differentiable, same dtype/device); numpy in ->
        numpy out (computed in float64). Leading shapes broadcast.
    """
    if order not in BODY_ORDERS:
        raise choices_error("body order", order, BODY_ORDERS)
    is_numpy = not any(isinstance(a, torch.Tensor) for a in (root_pos, root_quat, joint_pos))
    if is_numpy:
        tensors = [torch.from_numpy(np.asarray(a, dtype=np.float64)) for a in (root_pos, root_quat, joint_pos)]
    else:
        ref = next(a for a in (root_pos, root_quat, joint_pos) if isinstance(a, torch.Tensor))
        dtype = ref.dtype if ref.is_floating_point() else torch.float32
        tensors = [torch.as_tensor(a, dtype=dtype, device=ref.device) for a in (root_pos, root_quat, joint_pos)]
    rp, rq, q = tensors
    for name, t, n in (("root_pos", rp, 3), ("root_quat", rq, 4), ("joint_pos", q, 29)):
        if t.dim() < 1 or t.shape[-1] != n:
            raise MotionLabError(f"{name} must have {n} values on the last axis, got shape {tuple(t.shape)}")
    try:
        batch = torch.broadcast_shapes(rp.shape[:-1], rq.shape[:-1], q.shape[:-1])
    except RuntimeError:
        raise MotionLabError(f"batch shapes do not broadcast: root_pos {tuple(rp.shape)}, "
                             f"root_quat {tuple(rq.shape)}, joint_pos {tuple(q.shape)}") from None
    rp, rq, q = rp.expand(*batch, 3), rq.expand(*batch, 4), q.expand(*batch, 29)
    dtype, device = q.dtype, q.device

    # Work component-major, (bodies, components, frames): each quaternion component is then a
    # contiguous row, which makes the elementwise products about twice as fast as (..., 4).
    n = int(np.prod(batch)) if len(batch) else 1
    q = q.reshape(n, 29).T[:, None, :]  # (29, 1, n)
    offsets = torch.tensor(G1_BODY_OFFSETS, dtype=dtype, device=device)[..., None]  # (30, 3, 1)
    rest = torch.tensor(G1_BODY_REST_QUATS, dtype=dtype, device=device)[..., None]  # (30, 4, 1)
    axes = torch.tensor(G1_JOINT_AXES, dtype=dtype, device=device)[..., None]  # (29, 3, 1)
    # local rotation of body b = rest[b] * (cos(t/2), sin(t/2) axis); body b is moved by joint b - 1
    turn = torch.cat([torch.cos(0.5 * q), torch.sin(0.5 * q) * axes], 1)  # (29, 4, n)
    local = _qmul(rest[1:].expand(-1, -1, n), turn)

    rq = rq.reshape(n, 4)
    Qs: List[torch.Tensor] = [(rq / rq.norm(dim=-1, keepdim=True).clamp_min(1e-12)).T[None]]  # (1, 4, n)
    Ps: List[torch.Tensor] = [rp.reshape(n, 3).T[None]]  # (1, 3, n)
    for bodies, parent_pos in _levels():
        b_idx = torch.as_tensor(bodies, device=device)
        p_idx = torch.as_tensor(parent_pos, device=device)
        Qp, Pp = Qs[-1][p_idx], Ps[-1][p_idx]
        Qs.append(_qmul(Qp, local[b_idx - 1]))
        Ps.append(Pp + _qrot(Qp, offsets[b_idx]))
    body_quat = torch.cat(Qs, 0).permute(2, 0, 1).reshape(*batch, 30, 4)  # Isaac order
    body_pos = torch.cat(Ps, 0).permute(2, 0, 1).reshape(*batch, 30, 3)
    if order == "mujoco":
        back = torch.as_tensor(np.argsort(ISAAC_BODY_ORDER), device=device)
        body_quat, body_pos = body_quat.index_select(-2, back), body_pos.index_select(-2, back)
    body_quat = torch.where(body_quat[..., :1] < 0, -body_quat, body_quat)
    body_out = quat_to_matrix(body_quat) if as_matrix else body_quat
    if is_numpy:
        return body_pos.numpy(), body_out.numpy()
    return body_pos, body_out


def g1_chain_fk(root_pos: np.ndarray, root_rot: np.ndarray, joint_pos: np.ndarray,
                bodies: Tuple[int, ...]) -> Tuple[np.ndarray, np.ndarray]:
    """World poses of a few G1 bodies (numpy, float64): what :func:`g1_fk` gives for them, without
    the rest of the tree (e.g. the 12 leg bodies of an IK loop, about 3x cheaper than the 30).

    Args:
        root_pos: ``(N, 3)`` pelvis position (m); ``root_rot``: ``(N, 3, 3)`` its rotation matrices.
        joint_pos: ``(N, 29)`` joint angles (rad, Unitree order).
        bodies: MJCF-order body indices, each listed after its parent unless the parent is the pelvis
            (e.g. ``(1, 2, 3, 4, 5, 6)`` for the left leg).

    Returns:
        ``(N, len(bodies), 3)`` positions and ``(N, len(bodies), 3, 3)`` rotation matrices.
    """
    rot: dict = {0: root_rot}
    pos: dict = {0: root_pos}
    rest = quat_to_matrix(np.asarray(G1_BODY_REST_QUATS))
    for b in bodies:
        p = G1_BODY_PARENTS[b]
        if p not in rot:
            raise MotionLabError(f"body {G1_BODY_NAMES[b]} comes before its parent {G1_BODY_NAMES[p]}", place="bodies")
        a = np.asarray(G1_JOINT_AXES[b - 1])
        t = joint_pos[:, b - 1]
        k = np.array([[0.0, -a[2], a[1]], [a[2], 0.0, -a[0]], [-a[1], a[0], 0.0]])  # Rodrigues
        turn = np.eye(3) + np.sin(t)[:, None, None] * k + (1.0 - np.cos(t))[:, None, None] * (k @ k)
        pos[b] = pos[p] + rot[p] @ G1_BODY_OFFSETS[b]
        rot[b] = rot[p] @ (rest[b] @ turn)
    return np.stack([pos[b] for b in bodies], axis=1), np.stack([rot[b] for b in bodies], axis=1)


def g1_body_velocities(
    root_pos: np.ndarray,
    root_quat: np.ndarray,
    joint_pos: np.ndarray,
    root_lin_vel: np.ndarray,
    root_ang_vel: np.ndarray,
    joint_vel: np.ndarray,
    order: str = "mujoco",
) -> Tuple[np.ndarray, np.ndarray]:
    """World velocities of the 30 G1 bodies at their centres of mass, as Isaac Lab reports them.

    Args (numpy, leading shape ``(T,)`` or any): pelvis pose, joint angles ``(..., 29)`` (rad,
    Unitree order), ``root_lin_vel`` ``(..., 3)`` the velocity of the **pelvis centre of mass** (m/s;
    Isaac Lab's ``write_root_state_to_sim`` applies a root state's velocity there), ``root_ang_vel``
    ``(..., 3)`` rad/s in the world, ``joint_vel`` ``(..., 29)`` rad/s.

    Returns:
        ``lin_vel`` ``(..., 30, 3)``: each body's centre-of-mass velocity (``body_lin_vel_w``, m/s) and
        ``ang_vel`` ``(..., 30, 3)`` (``body_ang_vel_w``, rad/s), in ``order`` ("mujoco" or "isaac").

    The rigid-body relations down the tree: ``w_b = w_p + R_b a_b qdot_b``; body origins
    ``v_b = v_p + w_p x (x_b - x_p)``; centres of mass ``v_b + w_b x (R_b c_b)`` with ``c_b``
    :data:`~motionlab.robots.g1.G1_BODY_COMS` (the official MJCF inertials).
    """
    if order not in BODY_ORDERS:
        raise choices_error("body order", order, BODY_ORDERS)
    pos, rot = g1_fk(root_pos, root_quat, joint_pos, "mujoco", as_matrix=True)  # (..., 30, 3[, 3])
    qd = np.asarray(joint_vel, dtype=np.float64)
    com_w = np.einsum("...bij,bj->...bi", rot, G1_BODY_COMS)  # R_b c_b
    lin = np.zeros(pos.shape)
    ang = np.zeros(pos.shape)
    ang[..., 0, :] = np.asarray(root_ang_vel, dtype=np.float64)
    origin = np.zeros(pos.shape)
    origin[..., 0, :] = np.asarray(root_lin_vel, dtype=np.float64) - np.cross(ang[..., 0, :], com_w[..., 0, :])
    for b in range(1, len(G1_BODY_NAMES)):  # MJCF order: parents come first
        p = G1_BODY_PARENTS[b]
        axis_w = np.einsum("...ij,j->...i", rot[..., b, :, :], G1_JOINT_AXES[b - 1])
        ang[..., b, :] = ang[..., p, :] + axis_w * qd[..., b - 1, None]
        origin[..., b, :] = origin[..., p, :] + np.cross(ang[..., p, :], pos[..., b, :] - pos[..., p, :])
    lin = origin + np.cross(ang, com_w)
    if order == "isaac":
        idx = list(ISAAC_BODY_ORDER)
        lin, ang = lin[..., idx, :], ang[..., idx, :]
    return lin, ang


def g1_fk_motion(motion, order: str = "mujoco") -> Tuple[np.ndarray, np.ndarray]:
    """FK of a :class:`~motionlab.robots.motion.RobotMotion` (joints resolved by name).

    Returns ``(T, 30, 3)`` positions and ``(T, 30, 4)`` w-first quaternions in ``order``.
    """
    from motionlab.robots.g1 import G1_JOINT_NAMES

    m = motion.reorder(G1_JOINT_NAMES) if tuple(motion.joint_names) != G1_JOINT_NAMES else motion
    return g1_fk(m.root_pos, m.root_quat, m.joint_pos, order)


def g1_skeleton() -> "Skeleton":
    """The G1 body tree as a :class:`~motionlab.core.skeleton.Skeleton` (MJCF body order, metres).

    The pelvis offset is zero (its placement is the root position); bone offsets are the MJCF
    body positions. Rest rotations of the bodies live in the local rotations of
    :func:`robot_to_motion`, not in the skeleton.
    """
    from motionlab.core.skeleton import Skeleton

    offsets = np.array(G1_BODY_OFFSETS)
    offsets[0] = 0.0
    return Skeleton(list(G1_BODY_NAMES), list(G1_BODY_PARENTS), offsets)


def robot_to_motion(robot) -> "Motion":
    """A G1 :class:`~motionlab.robots.motion.RobotMotion` as a body-tree
    :class:`~motionlab.core.motion.Motion` of the 30 bodies (joints resolved by name).

    ``local_quat[:, b]`` = rest rotation of body ``b`` times its joint turn (w first); the root's is
    ``root_quat``. ``Motion.fk()`` then reproduces :func:`g1_fk` (MJCF body order).
    """
    from motionlab.core.motion import Motion
    from motionlab.core.rotations import quat_multiply
    from motionlab.robots.g1 import G1_JOINT_NAMES

    m = robot.reorder(G1_JOINT_NAMES) if tuple(robot.joint_names) != G1_JOINT_NAMES else robot
    half = 0.5 * m.joint_pos[..., None]
    turn = np.concatenate([np.cos(half), np.sin(half) * G1_JOINT_AXES], axis=-1)  # (T, 29, 4)
    local = quat_multiply(np.broadcast_to(G1_BODY_REST_QUATS[1:], turn.shape).copy(), turn)
    local_quat = np.concatenate([m.root_quat[:, None, :], local], axis=1)
    meta = {**m.meta, "robot": "unitree_g1_29dof", "body_order": "mujoco"}
    return Motion(m.fps, g1_skeleton(), m.root_pos, local_quat, extras=dict(m.extras), meta=meta)
