"""Batched forward kinematics on any batch shape.

Pure functions over ``parents`` (``(J,)`` ints, ``-1`` for the root, every parent listed before
its children) and ``offsets`` (``(J, 3)`` rest offsets of each joint from its parent, in the
parent's frame). Local rotations are matrices ``(..., J, 3, 3)``.

How it is computed (speed): the frames are flattened and turned "entry-major", ``(J, 3, 3, n)``,
so every 3x3 product of a joint is three fused multiply-adds over contiguous rows of ``n``
frames instead of ``n`` tiny matmuls. Without autograd the frames go in cache-sized chunks
written in place into the output; with autograd (a torch input that requires grad) the same
algebra runs out of place so the graph stays valid. float32 inputs are computed in float32.
"""

from __future__ import annotations

from typing import List, Optional, Sequence, Tuple, Union

import numpy as np
import torch

from motionlab.errors import MotionLabError

Array = Union[torch.Tensor, np.ndarray]

_CHUNK = 2048  # frames per chunk: the working set stays in cache and each op on one thread


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


def _float_dtype(x: Array) -> Union[torch.dtype, np.dtype]:
    if isinstance(x, torch.Tensor):
        return x.dtype if x.is_floating_point() else torch.get_default_dtype()
    return np.float32 if np.asarray(x).dtype == np.float32 else np.float64


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
        ``(positions (..., J, 3), rotations (..., J, 3, 3))`` in the world frame. Numpy in,
        numpy out (float32 stays float32, anything else is float64); torch keeps the dtype and
        device of ``local_rot`` and its autograd graph (also through ``root_pos`` and ``offsets``).
    """
    is_np = not isinstance(local_rot, torch.Tensor)
    if is_np:
        local_rot = np.asarray(local_rot)
        R = torch.from_numpy(np.ascontiguousarray(local_rot, dtype=_float_dtype(local_rot)))
    else:
        R = local_rot if local_rot.is_floating_point() else local_rot.to(torch.get_default_dtype())
    dtype, device = R.dtype, R.device

    def tensor(x: Array) -> torch.Tensor:
        if isinstance(x, torch.Tensor):
            return x.to(dtype=dtype, device=device)
        return torch.as_tensor(np.asarray(x, dtype=np.float64), dtype=dtype, device=device)

    par = [int(x) for x in parents]
    J = len(par)
    if R.dim() < 3 or R.shape[-3:] != (J, 3, 3):
        raise MotionLabError(f"local rotations must be (..., {J}, 3, 3) for {J} joints, got {tuple(R.shape)}")
    batch = R.shape[:-3]
    t0 = tensor(root_pos)
    if t0.shape[-1:] != (3,):
        raise MotionLabError(f"root positions must be (..., 3), got {tuple(t0.shape)}")
    off = tensor(offsets)
    if off.shape[-2:] != (J, 3):
        raise MotionLabError(f"offsets must be ({J}, 3) or (..., {J}, 3), got {tuple(off.shape)}")
    try:
        if joint_pos is not None:
            jp = tensor(joint_pos)
            off = torch.where(torch.isnan(jp), off, jp)
        t0 = t0.expand(*batch, 3)
        per_frame = off.dim() > 2
        if per_frame:
            off = off.expand(*batch, J, 3)
    except RuntimeError as e:
        raise MotionLabError(f"root positions / offsets / joint_pos do not match the rotation batch "
                             f"{tuple(batch)}: {e}") from None

    n = int(np.prod(batch)) if len(batch) else 1
    Rf = R.reshape(n, J, 3, 3)
    tf = t0.reshape(n, 3)
    of = off.reshape(n, J, 3) if per_frame else off
    tracked = torch.is_grad_enabled() and any(x.requires_grad for x in (Rf, tf, of))
    if tracked:
        chunk = _CHUNK if R.device.type == "cpu" else max(n, 1)
        parts = [_fk_graph(Rf[s:s + chunk], tf[s:s + chunk], par, of[s:s + chunk] if per_frame else of, per_frame)
                 for s in range(0, max(n, 1), chunk)]
        pos = torch.cat([a for a, _ in parts]) if len(parts) > 1 else parts[0][0]
        rot = torch.cat([b for _, b in parts]) if len(parts) > 1 else parts[0][1]
    else:
        pos, rot = _fk_inplace(Rf, tf, par, of, per_frame)
    pos = pos.reshape(*batch, J, 3)
    rot = rot.reshape(*batch, J, 3, 3)
    if is_np:
        return pos.numpy(), rot.numpy()
    return pos, rot


def _fk_inplace(R: torch.Tensor, root: torch.Tensor, par: List[int], off: torch.Tensor,
                per_frame: bool) -> Tuple[torch.Tensor, torch.Tensor]:
    """No-autograd path: ``R (n, J, 3, 3)``; chunks of frames computed in place, entry-major.

    Chunks are small enough that torch runs each op on one thread; on CPU, long clips spread
    the chunks over ``torch.get_num_threads()`` worker threads instead (torch releases the GIL).
    """
    n, J = R.shape[0], R.shape[1]
    rot_out = torch.empty_like(R)
    pos_out = torch.empty((n, J, 3), dtype=R.dtype, device=R.device)
    const = None if per_frame else off.detach().cpu().double().tolist()
    chunk = _CHUNK if R.device.type == "cpu" else max(n, 1)
    starts = range(0, n, chunk)

    def run(s: int) -> None:
        e = min(s + chunk, n)
        L = R[s:e].permute(1, 2, 3, 0).contiguous()  # (J, 3, 3, m): row (j, a, b) holds every frame
        W = torch.empty_like(L)
        P = torch.empty((J, 3, e - s), dtype=R.dtype, device=R.device)
        O = None if const is not None else off[s:e].permute(1, 2, 0).contiguous()  # (J, 3, m)
        W[0] = L[0]
        P[0] = root[s:e].T
        for j in range(1, J):
            p = par[j]
            A, B, C, Pj = W[p], L[j], W[j], P[j]
            # C = A @ B:  C[a, :] = sum_k A[a, k] * B[k, :]  (all frames at once)
            torch.mul(A[:, 0, None], B[0], out=C)
            C.addcmul_(A[:, 1, None], B[1])
            C.addcmul_(A[:, 2, None], B[2])
            # position = parent position + A @ offset
            if const is not None:
                ox, oy, oz = const[j]
                torch.add(P[p], A[:, 0], alpha=ox, out=Pj)
                Pj.add_(A[:, 1], alpha=oy)
                Pj.add_(A[:, 2], alpha=oz)
            else:
                Pj.copy_(P[p])
                Pj.addcmul_(A[:, 0], O[j, 0])
                Pj.addcmul_(A[:, 1], O[j, 1])
                Pj.addcmul_(A[:, 2], O[j, 2])
        rot_out[s:e] = W.permute(3, 0, 1, 2)
        pos_out[s:e] = P.permute(2, 0, 1)

    workers = min(torch.get_num_threads(), len(starts)) if R.device.type == "cpu" else 1
    if workers > 1 and len(starts) >= 4:
        from concurrent.futures import ThreadPoolExecutor

        with ThreadPoolExecutor(max_workers=workers) as pool:
            for _ in pool.map(run, starts):
                pass
    else:
        for s in starts:
            run(s)
    return pos_out, rot_out


def _fk_graph(R: torch.Tensor, root: torch.Tensor, par: List[int], off: torch.Tensor,
              per_frame: bool) -> Tuple[torch.Tensor, torch.Tensor]:
    """Autograd path: the same entry-major algebra, out of place."""
    J = R.shape[1]
    L = R.permute(1, 2, 3, 0).contiguous()  # (J, 3, 3, n)
    O = off.permute(1, 2, 0) if per_frame else off[..., None]  # (J, 3, n) or (J, 3, 1)
    W: List[torch.Tensor] = [L[0]]
    P: List[torch.Tensor] = [root.T]
    for j in range(1, J):
        A, B = W[par[j]], L[j]
        W.append(A[:, 0, None] * B[0] + A[:, 1, None] * B[1] + A[:, 2, None] * B[2])
        P.append(P[par[j]] + A[:, 0] * O[j, 0] + A[:, 1] * O[j, 1] + A[:, 2] * O[j, 2])
    rot = torch.stack(W, dim=0).permute(3, 0, 1, 2).contiguous()
    pos = torch.stack(P, dim=0).permute(2, 0, 1).contiguous()
    return pos, rot
