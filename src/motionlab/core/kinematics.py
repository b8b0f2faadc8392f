"""Batched forward kinematics on any batch shape.

Pure functions over ``parents`` (``(J,)`` ints, ``-1`` for the root, every parent listed before
its children) and ``offsets`` (``(J, 3)`` rest offsets of each joint from its parent, in the
parent's frame). Local rotations are matrices ``(..., J, 3, 3)``; the loop runs over joints
only, each step one batched matmul over all frames, so long clips cost one pass.
"""

from __future__ import annotations

from typing import Optional, Sequence, Tuple, Union

import numpy as np
import torch

from motionlab.errors import MotionLabError

Array = Union[torch.Tensor, np.ndarray]


def check_topology(parents: Sequence[int], names: Optional[Sequence[str]] = None) -> np.ndarray:
    """Validate a parent list: one root first, parents before children. Returns it as int64."""
    p = np.asarray(parents, dtype=np.int64)
    if p.ndim != 1 or len(p) == 0:
        raise MotionLabError(f"parents must be a non-empty 1-D list, got shape {p.shape}")
    if p[0] != -1:
        raise MotionLabError(f"joint 0 must be the root (parent -1), got parent {int(p[0])}")
    for j in range(1, len(p)):
        if not 0 <= p[j] < j:
            who = f"joint {j} ({names[j]!r})" if names is not None else f"joint {j}"
            raise MotionLabError(f"{who} has parent {int(p[j])}: parents must come before their children")
    return p


def forward_kinematics(
    local_rot: Array,
    root_pos: Array,
    parents: Sequence[int],
    offsets: Array,
    joint_pos: Optional[Array] = None,
) -> Tuple[Array, Array]:
    """World positions and rotations of every joint.

    Args:
        local_rot: ``(..., J, 3, 3)`` rotation of each joint relative to its parent
            (the root's is its world rotation).
        root_pos: ``(..., 3)`` world position of the root.
        parents: ``(J,)`` parent indices, ``-1`` for the root.
        offsets: ``(J, 3)`` rest offsets from the parent (the root's is ignored), or
            ``(..., J, 3)`` for per-frame offsets.
        joint_pos: optional ``(..., J, 3)`` per-frame local translations that *replace* the
            offsets where they are not NaN (BVH position channels on non-root joints).

    Returns:
        ``(positions (..., J, 3), rotations (..., J, 3, 3))`` in the world frame; numpy in,
        numpy out.
    """
    is_np = isinstance(local_rot, np.ndarray)
    R = torch.as_tensor(local_rot, dtype=torch.float64) if is_np else local_rot
    t0 = torch.as_tensor(root_pos, dtype=R.dtype, device=R.device)
    off = torch.as_tensor(offsets, dtype=R.dtype, device=R.device)
    par = [int(x) for x in parents]
    J = len(par)
    if R.shape[-3:] != (J, 3, 3):
        raise MotionLabError(f"local rotations must be (..., {J}, 3, 3) for {J} joints, got {tuple(R.shape)}")
    off = off.expand(*R.shape[:-3], J, 3)
    if joint_pos is not None:
        jp = torch.as_tensor(joint_pos, dtype=R.dtype, device=R.device)
        off = torch.where(torch.isnan(jp), off, jp)
    rots = [None] * J
    pos = [None] * J
    rots[0] = R[..., 0, :, :]
    pos[0] = t0
    for j in range(1, J):
        p = par[j]
        rots[j] = rots[p] @ R[..., j, :, :]
        pos[j] = pos[p] + (rots[p] @ off[..., j, :, None])[..., 0]
    positions = torch.stack(pos, dim=-2)
    rotations = torch.stack(rots, dim=-3)
    if is_np:
        return positions.numpy(), rotations.numpy()
    return positions, rotations
