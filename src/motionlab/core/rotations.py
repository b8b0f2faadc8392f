"""Rotation conversions: the one rotation module of motionlab.

Every function works on any batch shape ``(..., k)`` and accepts either a
``torch.Tensor`` or a ``numpy.ndarray``; the result has the type (and, for numpy,
the float64 precision) of the input. Torch inputs keep their dtype, device and
autograd graph.

Conventions
-----------
* rotation matrices ``(..., 3, 3)`` act on column vectors: ``v_world = R @ v_local``;
* quaternions are **w first** ``(..., 4) = (w, x, y, z)``; the file formats that
  store ``(x, y, z, w)`` convert with :func:`quat_xyzw_to_wxyz` at the boundary;
* axis-angle ``(..., 3)``: axis times angle in radians;
* 6D ``(..., 6)``: the **first two columns** of the matrix, ``(R00, R10, R20, R01, R11, R21)``
  (Zhou et al. 2019, roma). Taking rows instead gives the inverse rotation;
* Euler angles ``(..., 3)`` in radians by default; ``order`` is a 3-letter string,
  upper case = intrinsic (``"ZYX"``: ``R = Rz @ Ry @ Rx``, the BVH meaning of the channel
  order), lower case = extrinsic, as in scipy.

Most conversions are roma's; the geodesic angle uses the atan2 form (exact from
1e-3 deg to 179.9 deg in float32, bounded gradient).
"""

from __future__ import annotations

import functools
from typing import Callable, Union

import numpy as np
import roma
import torch

from motionlab.errors import MotionLabError

Array = Union[torch.Tensor, np.ndarray]

__all__ = [
    "quat_to_matrix",
    "matrix_to_quat",
    "axis_angle_to_matrix",
    "matrix_to_axis_angle",
    "axis_angle_to_quat",
    "quat_to_axis_angle",
    "euler_to_matrix",
    "euler_to_quat",
    "matrix_to_euler",
    "matrix_to_rot6d",
    "rot6d_to_matrix",
    "quat_xyzw_to_wxyz",
    "quat_wxyz_to_xyzw",
    "quat_multiply",
    "quat_conjugate",
    "quat_normalize",
    "quat_rotate",
    "quat_slerp",
    "quat_fix_continuity",
    "geodesic_angle",
    "quat_geodesic_angle",
    "normalize_order",
    "yaw_to_matrix",
    "Y_UP_TO_Z_UP",
]

#: Blender's BVH/SMPL import mapping: a Y-up point (x, y, z) becomes Z-up (x, -z, y); ``p_z = Y_UP_TO_Z_UP @ p_y``.
Y_UP_TO_Z_UP = np.array([[1.0, 0.0, 0.0], [0.0, 0.0, -1.0], [0.0, 1.0, 0.0]])


def _from_numpy(a: np.ndarray) -> torch.Tensor:
    a = np.asarray(a, dtype=np.float64)
    return torch.from_numpy(a if a.flags.writeable else a.copy())  # read-only memory maps are copied


def _array_api(fn: Callable) -> Callable:
    """Let a torch implementation accept numpy arrays too (computed in float64)."""

    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        if any(isinstance(a, np.ndarray) for a in args):
            targs = [_from_numpy(a) if isinstance(a, np.ndarray) else a for a in args]
            targs = [
                a.to(torch.float64) if isinstance(a, torch.Tensor) else a for a in targs
            ]
            out = fn(*targs, **kwargs)
            return out.detach().cpu().numpy()
        return fn(*args, **kwargs)

    return wrapper


def _check_last(x: torch.Tensor, shape: tuple, what: str) -> None:
    if tuple(x.shape[len(x.shape) - len(shape):]) != shape or x.dim() < len(shape):
        raise MotionLabError(f"{what} must have shape (..., {', '.join(map(str, shape))}), got {tuple(x.shape)}")


# --- quaternions -------------------------------------------------------------------------------


@_array_api
def quat_xyzw_to_wxyz(q: Array) -> Array:
    """Reorder ``(x, y, z, w)`` quaternions to motionlab's ``(w, x, y, z)``."""
    _check_last(q, (4,), "quaternion")
    return torch.cat([q[..., 3:4], q[..., :3]], dim=-1)


@_array_api
def quat_wxyz_to_xyzw(q: Array) -> Array:
    """Reorder motionlab's ``(w, x, y, z)`` quaternions to ``(x, y, z, w)``."""
    _check_last(q, (4,), "quaternion")
    return torch.cat([q[..., 1:4], q[..., 0:1]], dim=-1)


@_array_api
def quat_normalize(q: Array) -> Array:
    """Unit-normalise quaternions (any convention)."""
    return q / q.norm(dim=-1, keepdim=True).clamp_min(1e-12)


@_array_api
def quat_to_matrix(q: Array) -> Array:
    """``(..., 4)`` w-first quaternions (normalised here) to ``(..., 3, 3)`` matrices."""
    _check_last(q, (4,), "quaternion")
    q = quat_normalize(q)
    return roma.unitquat_to_rotmat(quat_wxyz_to_xyzw(q))


@_array_api
def matrix_to_quat(R: Array) -> Array:
    """``(..., 3, 3)`` matrices to w-first unit quaternions with ``w >= 0``."""
    _check_last(R, (3, 3), "rotation matrix")
    q = quat_xyzw_to_wxyz(roma.rotmat_to_unitquat(R))
    return torch.where(q[..., :1] < 0, -q, q)


@_array_api
def quat_multiply(a: Array, b: Array) -> Array:
    """Hamilton product ``a * b`` of w-first quaternions (apply ``b`` first, then ``a``)."""
    _check_last(a, (4,), "quaternion")
    _check_last(b, (4,), "quaternion")
    aw, ax, ay, az = a.unbind(-1)
    bw, bx, by, bz = b.unbind(-1)
    return torch.stack(
        [
            aw * bw - ax * bx - ay * by - az * bz,
            aw * bx + ax * bw + ay * bz - az * by,
            aw * by - ax * bz + ay * bw + az * bx,
            aw * bz + ax * by - ay * bx + az * bw,
        ],
        dim=-1,
    )


@_array_api
def quat_conjugate(q: Array) -> Array:
    """Conjugate (the inverse for unit quaternions) of w-first quaternions."""
    return torch.cat([q[..., :1], -q[..., 1:]], dim=-1)


@_array_api
def quat_rotate(q: Array, v: Array) -> Array:
    """Rotate vectors ``v (..., 3)`` by w-first unit quaternions ``q (..., 4)``."""
    u, v = torch.broadcast_tensors(q[..., 1:], v)
    w = q[..., :1]
    t = 2.0 * torch.cross(u, v, dim=-1)
    return v + w * t + torch.cross(u, t, dim=-1)


@_array_api
def quat_slerp(q0: Array, q1: Array, t: Array) -> Array:
    """Spherical interpolation between w-first unit quaternions along the short arc.

    ``q0``, ``q1``: ``(..., 4)``; ``t``: broadcastable to ``(...)`` (0 gives ``q0``, 1 gives ``q1``).
    """
    if not isinstance(t, torch.Tensor):
        t = torch.as_tensor(t, dtype=q0.dtype, device=q0.device)
    t = t.to(q0.dtype)
    dot = (q0 * q1).sum(-1, keepdim=True)
    q1 = torch.where(dot < 0, -q1, q1)
    dot = dot.abs()
    # (nearly) equal rotations: normalised lerp, exact to rounding there. The acos input is
    # replaced (not just masked) so neither branch yields an infinite or NaN gradient.
    near = dot > 1.0 - 1e-6
    theta = torch.acos(torch.where(near, torch.zeros_like(dot), dot.clamp(max=1.0)))
    sin_theta = torch.sin(theta)
    t = t[..., None] if t.dim() < dot.dim() or t.shape[-1:] != (1,) else t
    w0 = torch.where(near, 1.0 - t, torch.sin((1.0 - t) * theta) / sin_theta)
    w1 = torch.where(near, t, torch.sin(t * theta) / sin_theta)
    return quat_normalize(w0 * q0 + w1 * q1)


def quat_fix_continuity(q: Array, dim: int = 0) -> Array:
    """Flip quaternion signs along time axis ``dim`` so consecutive ones have a positive dot.

    ``q`` and ``-q`` are the same rotation; interpolation, velocity and learning need the
    sign that keeps the sequence continuous. The first element keeps its sign.
    Numpy stays numpy (float64) without a torch round trip: readers call this on every clip.
    """
    is_torch = isinstance(q, torch.Tensor)
    if is_torch:
        _check_last(q, (4,), "quaternion")
    else:
        q = np.asarray(q, dtype=np.float64)
        if q.ndim < 1 or q.shape[-1] != 4:
            raise MotionLabError(f"quaternion must have shape (..., 4), got {tuple(q.shape)}")
    dim = dim % (q.ndim - 1) if dim < 0 else dim
    if q.shape[dim] < 2:
        return q.clone() if is_torch else q.copy()
    head = (slice(None),) * dim
    negative = (q[head + (slice(1, None),)] * q[head + (slice(None, -1),)]).sum(-1) < 0
    if is_torch:
        flips = torch.cumsum(negative.to(torch.int64), dim=dim) % 2
        sign = torch.cat([torch.ones_like(flips[head + (slice(0, 1),)]), 1 - 2 * flips], dim=dim).to(q.dtype)
    else:
        flips = np.cumsum(negative, axis=dim) % 2
        sign = np.concatenate([np.ones_like(flips[head + (slice(0, 1),)]), 1 - 2 * flips], axis=dim).astype(q.dtype)
    return q * sign[..., None]


# --- axis-angle ----------------------------------------------------------------------------------


@_array_api
def axis_angle_to_matrix(aa: Array) -> Array:
    """``(..., 3)`` axis-angle vectors (radians) to ``(..., 3, 3)`` matrices."""
    _check_last(aa, (3,), "axis-angle")
    return roma.rotvec_to_rotmat(aa)


@_array_api
def matrix_to_axis_angle(R: Array) -> Array:
    """``(..., 3, 3)`` matrices to axis-angle vectors with angle in ``[0, pi]``."""
    _check_last(R, (3, 3), "rotation matrix")
    return roma.rotmat_to_rotvec(R)


@_array_api
def axis_angle_to_quat(aa: Array) -> Array:
    """``(..., 3)`` axis-angle vectors to w-first unit quaternions."""
    _check_last(aa, (3,), "axis-angle")
    return quat_xyzw_to_wxyz(roma.rotvec_to_unitquat(aa))


@_array_api
def quat_to_axis_angle(q: Array) -> Array:
    """w-first quaternions to axis-angle vectors (angle in ``[0, pi]``)."""
    _check_last(q, (4,), "quaternion")
    return roma.unitquat_to_rotvec(quat_wxyz_to_xyzw(quat_normalize(q)))


# --- Euler ---------------------------------------------------------------------------------------


def normalize_order(order: str) -> str:
    """Validate a 3-letter Euler order (``"ZYX"`` intrinsic, ``"zyx"`` extrinsic)."""
    if (
        not isinstance(order, str)
        or len(order) != 3
        or not (order.isupper() or order.islower())
        or set(order.lower()) - set("xyz")
        or order[0].lower() == order[1].lower()
        or order[1].lower() == order[2].lower()
    ):
        raise MotionLabError(
            f"invalid Euler order {order!r}: use three of X/Y/Z, upper case for intrinsic "
            "(e.g. 'ZYX', 'ZXY') or lower case for extrinsic (e.g. 'xyz'), no axis twice in a row"
        )
    return order


@_array_api
def euler_to_matrix(angles: Array, order: str, degrees: bool = False) -> Array:
    """``(..., 3)`` Euler angles in the order of ``order`` to ``(..., 3, 3)`` matrices.

    ``angles[..., i]`` is the angle about axis ``order[i]``. Intrinsic ``"ZYX"`` gives
    ``Rz(a0) @ Ry(a1) @ Rx(a2)``.
    """
    _check_last(angles, (3,), "Euler angles")
    order = normalize_order(order)
    if degrees:
        angles = angles * (torch.pi / 180.0)
    mats = []
    for i, axis in enumerate(order.lower()):
        a = angles[..., i]
        c, s = torch.cos(a), torch.sin(a)
        o, z = torch.ones_like(a), torch.zeros_like(a)
        if axis == "x":
            m = [o, z, z, z, c, -s, z, s, c]
        elif axis == "y":
            m = [c, z, s, z, o, z, -s, z, c]
        else:
            m = [c, -s, z, s, c, z, z, z, o]
        mats.append(torch.stack(m, dim=-1).reshape(*a.shape, 3, 3))
    if order.isupper():  # intrinsic: R = R0 R1 R2
        return mats[0] @ mats[1] @ mats[2]
    return mats[2] @ mats[1] @ mats[0]  # extrinsic: the first rotation is applied first


def euler_to_quat(angles: Array, order: str, degrees: bool = False) -> Array:
    """``(..., 3)`` Euler angles to ``(..., 4)`` w-first unit quaternions; same meaning as :func:`euler_to_matrix`.

    Closed form of the product of the three axis quaternions (intrinsic ``"ZYX"``: ``qz * qy * qx``),
    computed in the input's own library: numpy stays numpy (float64), torch keeps dtype, device
    and autograd. This is the fast path of file readers (one pass, no matrices).
    """
    order = normalize_order(order)
    is_torch = isinstance(angles, torch.Tensor)
    if not is_torch:
        angles = np.asarray(angles, dtype=np.float64)
    if angles.ndim < 1 or angles.shape[-1] != 3:
        raise MotionLabError(f"Euler angles must have shape (..., 3), got {tuple(angles.shape)}")
    xp = torch if is_torch else np
    if order.islower():  # extrinsic a0 about i, a1 about j, a2 about k == intrinsic (k, j, i) with (a2, a1, a0)
        order, angles = order[::-1].upper(), angles[..., [2, 1, 0]]
    half = angles * (np.pi / 360.0 if degrees else 0.5)
    c, s = xp.cos(half), xp.sin(half)
    c0, c1, c2 = c[..., 0], c[..., 1], c[..., 2]
    s0, s1, s2 = s[..., 0], s[..., 1], s[..., 2]
    i, j, k = ("XYZ".index(a) for a in order)
    if i == k:  # proper Euler angles ("ZYZ", "XYX" ...): the plain product of the axis quaternions
        zero = c0 * 0.0
        axes = []
        for n, (ca, sa) in zip((i, j, k), ((c0, s0), (c1, s1), (c2, s2))):
            comps = [ca, zero, zero, zero]
            comps[1 + n] = sa
            axes.append(comps)
        return xp.stack(_hamilton(_hamilton(axes[0], axes[1]), axes[2]), -1)
    e = 1.0 if (j - i) % 3 == 1 else -1.0  # e_i e_j = e * e_k
    parts = [c0 * c1 * c2 - e * s0 * s1 * s2, None, None, None]
    parts[1 + i] = s0 * c1 * c2 + e * c0 * s1 * s2
    parts[1 + j] = c0 * s1 * c2 - e * s0 * c1 * s2
    parts[1 + k] = c0 * c1 * s2 + e * s0 * s1 * c2
    return xp.stack(parts, -1)


def _hamilton(a: list, b: list) -> list:
    """Hamilton product of w-first quaternions given as lists of 4 component arrays."""
    aw, ax, ay, az = a
    bw, bx, by, bz = b
    return [
        aw * bw - ax * bx - ay * by - az * bz,
        aw * bx + ax * bw + ay * bz - az * by,
        aw * by - ax * bz + ay * bw + az * bx,
        aw * bz + ax * by - ay * bx + az * bw,
    ]


@_array_api
def matrix_to_euler(R: Array, order: str, degrees: bool = False) -> Array:
    """``(..., 3, 3)`` matrices to ``(..., 3)`` Euler angles (inverse of :func:`euler_to_matrix`)."""
    _check_last(R, (3, 3), "rotation matrix")
    order = normalize_order(order)
    return roma.rotmat_to_euler(order, R, degrees=degrees)


# --- 6D ------------------------------------------------------------------------------------------


@_array_api
def matrix_to_rot6d(R: Array) -> Array:
    """``(..., 3, 3)`` matrices to ``(..., 6)``: the first two columns, column by column."""
    _check_last(R, (3, 3), "rotation matrix")
    return R[..., :, :2].transpose(-1, -2).reshape(*R.shape[:-2], 6)


@_array_api
def rot6d_to_matrix(d6: Array) -> Array:
    """``(..., 6)`` column-6D to rotation matrices by Gram-Schmidt (roma)."""
    _check_last(d6, (6,), "6D rotation")
    cols = d6.reshape(*d6.shape[:-1], 2, 3).transpose(-1, -2)
    return roma.special_gramschmidt(cols, epsilon=1e-12)


# --- distances -----------------------------------------------------------------------------------


@_array_api
def geodesic_angle(R1: Array, R2: Array) -> Array:
    """Angle in radians of ``R1^T R2``, in the atan2 form.

    ``angle = atan2(|vee(R - R^T)| / 2, (trace(R) - 1) / 2)``: exact at tiny and near-pi
    angles in float32, with a bounded gradient (the ``acos`` form is neither).
    """
    _check_last(R1, (3, 3), "rotation matrix")
    _check_last(R2, (3, 3), "rotation matrix")
    R = R1.transpose(-1, -2) @ R2
    vee = torch.stack(
        [R[..., 2, 1] - R[..., 1, 2], R[..., 0, 2] - R[..., 2, 0], R[..., 1, 0] - R[..., 0, 1]], dim=-1
    )
    # sqrt with a floor keeps the gradient finite at exactly zero angle
    sin = torch.sqrt((vee * vee).sum(-1) + 1e-30) / 2.0
    cos = (R[..., 0, 0] + R[..., 1, 1] + R[..., 2, 2] - 1.0) / 2.0
    return torch.atan2(sin, cos)


@_array_api
def quat_geodesic_angle(q1: Array, q2: Array) -> Array:
    """Angle in radians between w-first unit quaternions (sign-invariant)."""
    d = quat_multiply(quat_conjugate(q1), q2)
    return 2.0 * torch.atan2(d[..., 1:].norm(dim=-1), d[..., 0].abs())


def yaw_to_matrix(yaw) -> np.ndarray:
    """``(...,)`` heading angles (rad, counter-clockwise about +Z) to ``(..., 3, 3)`` numpy matrices."""
    yaw = np.asarray(yaw, dtype=np.float64)
    c, s = np.cos(yaw), np.sin(yaw)
    o, z = np.ones_like(yaw), np.zeros_like(yaw)
    return np.stack([c, -s, z, s, c, z, z, z, o], axis=-1).reshape(*yaw.shape, 3, 3)
