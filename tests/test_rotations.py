"""Rotation conversions: property tests against scipy's Rotation (an independent oracle)."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays
from scipy.spatial.transform import Rotation

from motionlab.core import rotations as r
from motionlab.errors import MotionLabError

TAIT_BRYAN = ["XYZ", "XZY", "YXZ", "YZX", "ZXY", "ZYX"]
ALL_ORDERS = TAIT_BRYAN + [o.lower() for o in TAIT_BRYAN]  # 6 intrinsic + 6 extrinsic

FAST = settings(max_examples=40, deadline=None)
finite = st.floats(-1.0, 1.0, allow_nan=False, allow_infinity=False)


@st.composite
def quats(draw, n=8):
    """``(n, 4)`` w-first unit quaternions, well away from the zero vector."""
    q = draw(arrays(np.float64, (n, 4), elements=finite))
    q = q + np.array([0.05, 0.0, 0.0, 0.0]) * np.sign(q[:, :1] + 1e-9)
    norms = np.linalg.norm(q, axis=-1, keepdims=True)
    q = np.where(norms < 1e-3, np.array([1.0, 0.0, 0.0, 0.0]), q)
    return q / np.linalg.norm(q, axis=-1, keepdims=True)


def scipy_rot(q_wxyz: np.ndarray) -> Rotation:
    return Rotation.from_quat(q_wxyz[..., [1, 2, 3, 0]])


def same_rotation_quat(a: np.ndarray, b: np.ndarray, tol: float = 1e-9) -> bool:
    """Quaternions equal up to the global sign."""
    return bool(np.all(np.abs(np.abs((a * b).sum(-1)) - 1.0) < tol))


# --- quaternion layout --------------------------------------------------------------------------


def test_xyzw_wxyz_by_hand():
    xyzw = np.array([0.1, 0.2, 0.3, 0.9])
    assert np.array_equal(r.quat_xyzw_to_wxyz(xyzw), [0.9, 0.1, 0.2, 0.3])
    assert np.array_equal(r.quat_wxyz_to_xyzw(np.array([0.9, 0.1, 0.2, 0.3])), xyzw)


def test_scipy_quaternions_are_xyzw():
    """90 deg about Z: scipy gives (0, 0, s, c); motionlab's w-first form is (c, 0, 0, s)."""
    c = s = np.sqrt(0.5)
    sq = Rotation.from_rotvec([0, 0, np.pi / 2]).as_quat()
    assert np.allclose(sq, [0, 0, s, c])
    assert np.allclose(r.quat_xyzw_to_wxyz(sq), [c, 0, 0, s])
    assert np.allclose(r.axis_angle_to_quat(np.array([0, 0, np.pi / 2])), [c, 0, 0, s])
    # reading scipy's layout as w-first would be a different rotation
    assert not np.allclose(r.quat_to_matrix(sq), Rotation.from_quat(sq).as_matrix(), atol=1e-3)


@FAST
@given(quats())
def test_quat_matrix_agree_with_scipy_and_invert(q):
    M = r.quat_to_matrix(q)
    assert np.allclose(M, scipy_rot(q).as_matrix(), atol=1e-12)
    q2 = r.matrix_to_quat(M)
    assert np.all(q2[:, 0] >= 0)
    assert same_rotation_quat(q, q2)
    assert np.allclose(r.quat_to_matrix(q2), M, atol=1e-12)


def test_quat_to_matrix_normalises():
    q = np.array([2.0, 0.0, 0.0, 2.0])  # 90 deg about Z, not unit length
    assert np.allclose(r.quat_to_matrix(q), [[0, -1, 0], [1, 0, 0], [0, 0, 1]], atol=1e-12)


@FAST
@given(arrays(np.float64, (8, 3), elements=st.floats(-3.0, 3.0)))
def test_axis_angle_conversions(aa):
    M = r.axis_angle_to_matrix(aa)
    assert np.allclose(M, Rotation.from_rotvec(aa).as_matrix(), atol=1e-12)
    q = r.axis_angle_to_quat(aa)
    assert same_rotation_quat(q, r.quat_xyzw_to_wxyz(Rotation.from_rotvec(aa).as_quat()))
    # inverses give the same rotation (the vector itself when the angle is below pi)
    assert np.allclose(r.axis_angle_to_matrix(r.matrix_to_axis_angle(M)), M, atol=1e-9)
    assert np.allclose(r.axis_angle_to_matrix(r.quat_to_axis_angle(q)), M, atol=1e-9)
    small = np.linalg.norm(aa, axis=-1) < 3.0
    assert np.allclose(r.matrix_to_axis_angle(M)[small], aa[small], atol=1e-8)


def test_axis_angle_by_hand():
    M = r.axis_angle_to_matrix(np.array([np.pi / 2, 0.0, 0.0]))  # 90 deg about X: y -> z
    assert np.allclose(M @ np.array([0, 1.0, 0]), [0, 0, 1.0], atol=1e-12)
    assert np.allclose(r.matrix_to_axis_angle(np.eye(3)), 0.0)


# --- Euler ----------------------------------------------------------------------------------------


@pytest.mark.parametrize("order", ALL_ORDERS)
@settings(max_examples=25, deadline=None)
@given(angles=arrays(np.float64, (6, 3), elements=st.floats(-3.1, 3.1)))
def test_euler_agrees_with_scipy(order, angles):
    ref = Rotation.from_euler(order, angles)
    M = r.euler_to_matrix(angles, order)
    assert np.allclose(M, ref.as_matrix(), atol=1e-12)
    assert same_rotation_quat(r.euler_to_quat(angles, order), r.quat_xyzw_to_wxyz(ref.as_quat()))
    back = r.matrix_to_euler(M, order)
    assert np.allclose(r.euler_to_matrix(back, order), M, atol=1e-9)  # holds even at gimbal lock
    regular = np.abs(np.cos(ref.as_euler(order)[:, 1])) > 1e-3
    diff = back[regular] - ref.as_euler(order)[regular]
    assert np.allclose(np.angle(np.exp(1j * diff)), 0.0, atol=1e-7)  # equal modulo 2 pi


@pytest.mark.parametrize("order", ["ZYZ", "xyx"])
def test_proper_euler_orders(order):
    angles = np.array([[0.3, 1.1, -0.4], [2.0, 0.2, 0.5]])
    ref = Rotation.from_euler(order, angles)
    assert np.allclose(r.euler_to_matrix(angles, order), ref.as_matrix(), atol=1e-12)
    assert same_rotation_quat(r.euler_to_quat(angles, order), r.quat_xyzw_to_wxyz(ref.as_quat()))


def test_intrinsic_zyx_is_rz_ry_rx_and_degrees():
    a = np.array([30.0, 20.0, 10.0])
    rz, ry, rx = (r.axis_angle_to_matrix(np.deg2rad(v) * e) for v, e in zip(a, np.eye(3)[[2, 1, 0]]))
    assert np.allclose(r.euler_to_matrix(a, "ZYX", degrees=True), rz @ ry @ rx, atol=1e-12)
    assert np.allclose(r.euler_to_matrix(a, "zyx", degrees=True), rx @ ry @ rz, atol=1e-12)
    assert np.allclose(r.matrix_to_euler(rz @ ry @ rx, "ZYX", degrees=True), a, atol=1e-9)


@pytest.mark.parametrize("bad", ["XXY", "xyZ", "XY", "ABC", 3])
def test_bad_euler_order(bad):
    with pytest.raises(MotionLabError, match="Euler order"):
        r.euler_to_matrix(np.zeros(3), bad)


def test_euler_torch_keeps_dtype_and_grad():
    a = torch.tensor([[0.1, 0.2, 0.3]], dtype=torch.float32, requires_grad=True)
    M = r.euler_to_matrix(a, "ZXY")
    q = r.euler_to_quat(a, "ZXY")
    assert M.dtype == torch.float32 and q.dtype == torch.float32
    (M.sum() + q.sum()).backward()
    assert torch.isfinite(a.grad).all() and a.grad.abs().sum() > 0
    assert np.allclose(r.quat_to_matrix(q.detach().double().numpy()), M.detach().double().numpy(), atol=1e-6)


# --- 6D -------------------------------------------------------------------------------------------


def test_rot6d_is_first_two_columns_by_hand():
    Rz90 = np.array([[0.0, -1.0, 0.0], [1.0, 0.0, 0.0], [0.0, 0.0, 1.0]])
    d6 = r.matrix_to_rot6d(Rz90)
    assert np.array_equal(d6, [0.0, 1.0, 0.0, -1.0, 0.0, 0.0])  # column 0 then column 1
    # the rows convention would be (0, -1, 0, 1, 0, 0): read as columns it is the inverse rotation
    assert np.allclose(r.rot6d_to_matrix(np.array([0.0, -1.0, 0.0, 1.0, 0.0, 0.0])), Rz90.T)
    assert np.allclose(r.rot6d_to_matrix(d6), Rz90)


def test_rot6d_gram_schmidt_by_hand():
    # columns (2, 0, 0) and (1, 1, 0): normalised first column, orthogonalised second, cross product third
    M = r.rot6d_to_matrix(np.array([2.0, 0.0, 0.0, 1.0, 1.0, 0.0]))
    assert np.allclose(M, np.eye(3), atol=1e-12)


@FAST
@given(quats())
def test_rot6d_round_trip(q):
    M = r.quat_to_matrix(q)
    d6 = r.matrix_to_rot6d(M)
    assert np.allclose(d6[:, :3], M[:, :, 0]) and np.allclose(d6[:, 3:], M[:, :, 1])
    assert np.allclose(r.rot6d_to_matrix(d6), M, atol=1e-12)


# --- quaternion algebra -----------------------------------------------------------------------------


@FAST
@given(quats(), quats(), arrays(np.float64, (8, 3), elements=finite))
def test_quat_algebra_matches_matrices(a, b, v):
    Ma, Mb = r.quat_to_matrix(a), r.quat_to_matrix(b)
    assert np.allclose(r.quat_to_matrix(r.quat_multiply(a, b)), Ma @ Mb, atol=1e-12)
    assert np.allclose(r.quat_rotate(a, v), (Ma @ v[..., None])[..., 0], atol=1e-12)
    assert np.allclose(r.quat_multiply(a, r.quat_conjugate(a)), [1, 0, 0, 0], atol=1e-12)
    assert np.allclose((scipy_rot(a) * scipy_rot(b)).as_matrix(), Ma @ Mb, atol=1e-12)


def test_numpy_and_torch_types():
    q = np.array([[1.0, 0.0, 0.0, 0.0]], dtype=np.float32)
    out = r.quat_to_matrix(q)
    assert isinstance(out, np.ndarray) and out.dtype == np.float64
    t = r.quat_to_matrix(torch.tensor(q))
    assert isinstance(t, torch.Tensor) and t.dtype == torch.float32
    batch = r.quat_to_matrix(np.tile(q, (2, 5, 3, 1)))
    assert batch.shape == (2, 5, 3, 3, 3)


@pytest.mark.parametrize(
    "fn, shape",
    [(r.quat_to_matrix, (3,)), (r.matrix_to_quat, (3, 4)), (r.axis_angle_to_matrix, (4,)),
     (r.rot6d_to_matrix, (5,)), (r.matrix_to_rot6d, (2, 3)), (r.quat_fix_continuity, (5, 3))],
)
def test_wrong_shapes_raise(fn, shape):
    with pytest.raises(MotionLabError, match="shape"):
        fn(np.zeros(shape))


# --- geodesic angle ---------------------------------------------------------------------------------


@pytest.mark.parametrize("deg", [1e-3, 1e-2, 1.0, 90.0, 179.0, 179.9])
def test_geodesic_angle_float32_accuracy(deg):
    axis = np.array([0.3, -0.5, 0.8]) / np.linalg.norm([0.3, -0.5, 0.8])
    base = r.axis_angle_to_matrix(np.array([0.4, 1.1, -0.7]))
    R1 = torch.tensor(base, dtype=torch.float32)
    R2 = torch.tensor(base @ r.axis_angle_to_matrix(axis * np.deg2rad(deg)), dtype=torch.float32)
    got = float(torch.rad2deg(r.geodesic_angle(R1, R2)))
    assert abs(got - deg) <= max(1e-3 * deg, 2e-4), (deg, got)  # 0.1 % relative, also at 1e-3 deg


def test_geodesic_angle_matches_scipy():
    rng = np.random.default_rng(3)
    a, b = Rotation.random(50, random_state=rng), Rotation.random(50, random_state=rng)
    got = r.geodesic_angle(a.as_matrix(), b.as_matrix())
    assert np.allclose(got, (a.inv() * b).magnitude(), atol=1e-10)
    qa, qb = r.quat_xyzw_to_wxyz(a.as_quat()), r.quat_xyzw_to_wxyz(b.as_quat())
    assert np.allclose(r.quat_geodesic_angle(qa, -qb), got, atol=1e-10)  # sign-invariant


def test_geodesic_angle_gradient_finite_at_zero():
    for dtype in (torch.float32, torch.float64):
        R = torch.eye(3, dtype=dtype).requires_grad_(True)
        angle = r.geodesic_angle(torch.eye(3, dtype=dtype), R)
        angle.backward()
        assert float(angle.detach()) == pytest.approx(0.0, abs=1e-12)
        assert torch.isfinite(R.grad).all() and R.grad.abs().max() < 1.0
        q = torch.tensor([1.0, 0.0, 0.0, 0.0], dtype=dtype, requires_grad=True)
        r.quat_geodesic_angle(q, q.detach().clone()).backward()
        assert torch.isfinite(q.grad).all()


def test_geodesic_gradient_bounded_at_small_angle():
    R2 = torch.tensor(r.axis_angle_to_matrix(np.array([1e-4, 0, 0])), dtype=torch.float32, requires_grad=True)
    r.geodesic_angle(torch.eye(3), R2).backward()
    assert torch.isfinite(R2.grad).all() and R2.grad.abs().max() < 2.0


# --- slerp ----------------------------------------------------------------------------------------


@FAST
@given(quats(2), st.floats(0.0, 1.0))
def test_slerp_endpoints_speed_short_arc(qs, t):
    q0, q1 = qs[0], qs[1]
    assert same_rotation_quat(r.quat_slerp(q0, q1, 0.0), q0)
    assert same_rotation_quat(r.quat_slerp(q0, q1, 1.0), q1)
    qt = r.quat_slerp(q0, q1, t)
    total = r.quat_geodesic_angle(q0, q1)  # the short arc, <= pi
    assert total <= np.pi + 1e-12
    # constant angular speed along the short arc
    assert r.quat_geodesic_angle(q0, qt) == pytest.approx(t * total, abs=1e-7)
    assert r.quat_geodesic_angle(qt, q1) == pytest.approx((1 - t) * total, abs=1e-7)
    # the sign of q1 does not matter: the short arc is taken either way
    assert same_rotation_quat(r.quat_slerp(q0, -q1, t), qt, tol=1e-9)


def test_slerp_by_hand_and_batched_t():
    q0 = np.array([1.0, 0.0, 0.0, 0.0])
    q1 = np.array([np.cos(np.pi / 4), 0.0, 0.0, np.sin(np.pi / 4)])  # 90 deg about Z
    out = r.quat_slerp(q0, q1, np.array([0.0, 1 / 3, 1.0]))
    expected = r.axis_angle_to_quat(np.array([[0, 0, 0], [0, 0, np.pi / 6], [0, 0, np.pi / 2]]))
    assert np.allclose(out, expected, atol=1e-12)
    # 350 deg one way is 10 deg the other: halfway is -5 deg about Z
    far = r.axis_angle_to_quat(np.array([0, 0, np.deg2rad(350.0)]))
    mid = r.quat_slerp(q0, far, 0.5)
    assert np.rad2deg(r.quat_to_axis_angle(mid))[2] == pytest.approx(-5.0)


def test_slerp_gradient_finite_for_equal_quaternions():
    q = torch.tensor([0.5, 0.5, 0.5, 0.5], dtype=torch.float64, requires_grad=True)
    r.quat_slerp(q, q.detach().clone(), 0.3).sum().backward()
    assert torch.isfinite(q.grad).all()


# --- sign continuity ----------------------------------------------------------------------------------


@FAST
@given(st.integers(0, 2**31 - 1))
def test_fix_continuity(seed):
    rng = np.random.default_rng(seed)
    # a smooth path of rotations (small steps), then random sign flips
    steps = rng.normal(scale=0.2, size=(40, 3, 3))
    q = r.axis_angle_to_quat(np.cumsum(steps, axis=0))
    flips = rng.choice([-1.0, 1.0], size=(40, 3, 1))
    noisy = q * flips
    fixed = r.quat_fix_continuity(noisy, dim=0)
    assert np.all((fixed[1:] * fixed[:-1]).sum(-1) > 0)
    assert np.allclose(fixed[0], noisy[0])  # the first frame keeps its sign
    assert np.allclose(np.abs((fixed * noisy).sum(-1)), 1.0)  # same rotations
    # time on another axis, and torch agrees with numpy
    fixed1 = r.quat_fix_continuity(np.swapaxes(noisy, 0, 1), dim=1)
    assert np.allclose(np.swapaxes(fixed1, 0, 1), fixed)
    assert np.allclose(r.quat_fix_continuity(torch.tensor(noisy), dim=0).numpy(), fixed)


def test_yaw_to_matrix_and_the_y_up_map():
    from motionlab.core.rotations import Y_UP_TO_Z_UP, euler_to_matrix, yaw_to_matrix

    yaw = np.array([[0.0, 0.3], [-2.0, np.pi]])
    z = np.zeros_like(yaw)
    np.testing.assert_allclose(yaw_to_matrix(yaw), euler_to_matrix(np.stack([yaw, z, z], -1), "ZYX"), atol=1e-12)
    np.testing.assert_allclose(yaw_to_matrix(np.pi / 2) @ [1.0, 0, 0], [0, 1, 0], atol=1e-12)  # +X turns to +Y
    np.testing.assert_allclose(Y_UP_TO_Z_UP @ [1.0, 2.0, 3.0], [1.0, -3.0, 2.0])  # Blender: (x, y, z) -> (x, -z, y)
    assert np.isclose(np.linalg.det(Y_UP_TO_Z_UP), 1.0)  # a rotation, not a mirror
