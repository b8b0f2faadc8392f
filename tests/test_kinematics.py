"""Forward kinematics and the Skeleton: invariants, a naive oracle, numpy/torch agreement, gradients."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.spatial.transform import Rotation

from motionlab.core import kinematics
from motionlab.core.body import SMPL22_NAMES, smpl22_skeleton
from motionlab.core.kinematics import forward_kinematics
from motionlab.core.rotations import axis_angle_to_matrix
from motionlab.core.skeleton import Skeleton
from motionlab.errors import MotionLabError

SK = smpl22_skeleton()
J = SK.num_joints


def random_pose(seed: int, frames: int = 16, scale: float = 1.5):
    rng = np.random.default_rng(seed)
    R = Rotation.from_rotvec(rng.normal(scale=scale, size=(frames * J, 3))).as_matrix().reshape(frames, J, 3, 3)
    root = rng.normal(size=(frames, 3))
    return R, root


def naive_fk(R, root, parents, offsets):
    """Independent oracle: a per-frame, per-joint loop in plain numpy."""
    T, n = R.shape[:2]
    pos, rot = np.zeros((T, n, 3)), np.zeros((T, n, 3, 3))
    for t in range(T):
        for j in range(n):
            p = parents[j]
            if p < 0:
                rot[t, j], pos[t, j] = R[t, j], root[t]
            else:
                rot[t, j] = rot[t, p] @ R[t, j]
                pos[t, j] = pos[t, p] + rot[t, p] @ offsets[j]
    return pos, rot


def test_chain_by_hand():
    # root at (1, 2, 3) turned 90 deg about Z; a bone of length 1 along local X, then one along X again
    sk = Skeleton(["a", "b", "c"], [-1, 0, 1], [[0, 0, 0], [1, 0, 0], [1, 0, 0]])
    R = np.tile(np.eye(3), (3, 1, 1))
    R[0] = axis_angle_to_matrix(np.array([0, 0, np.pi / 2]))
    R[1] = axis_angle_to_matrix(np.array([0, np.pi / 2, 0]))  # b turns the next bone down (-Z)
    pos, rot = sk.fk(R, np.array([1.0, 2.0, 3.0]))
    assert np.allclose(pos, [[1, 2, 3], [1, 3, 3], [1, 3, 2]], atol=1e-12)
    assert np.allclose(rot[2], R[0] @ R[1])


@settings(max_examples=20, deadline=None)
@given(st.integers(0, 2**31 - 1))
def test_matches_naive_oracle_and_keeps_bone_lengths(seed):
    R, root = random_pose(seed)
    pos, rot = SK.fk(R, root)
    ref_pos, ref_rot = naive_fk(R, root, SK.parents, SK.offsets)
    assert np.allclose(pos, ref_pos, atol=1e-12) and np.allclose(rot, ref_rot, atol=1e-12)
    bones = np.linalg.norm(pos[:, 1:] - pos[:, SK.parents[1:]], axis=-1)
    assert np.allclose(bones, SK.bone_lengths()[1:], atol=1e-12)
    assert np.allclose(rot @ np.swapaxes(rot, -1, -2), np.eye(3), atol=1e-12)


@settings(max_examples=20, deadline=None)
@given(st.integers(0, 2**31 - 1))
def test_global_rigid_motion_of_the_root_moves_everything(seed):
    R, root = random_pose(seed)
    rng = np.random.default_rng(seed + 1)
    G = Rotation.random(random_state=rng).as_matrix()
    shift = rng.normal(size=3)
    pos, rot = SK.fk(R, root)
    R2 = R.copy()
    R2[:, 0] = G @ R[:, 0]
    pos2, rot2 = SK.fk(R2, root @ G.T + shift)
    assert np.allclose(pos2, pos @ G.T + shift, atol=1e-12)
    assert np.allclose(rot2, G @ rot, atol=1e-12)


def test_torch_numpy_float32_agree_and_batch_shapes():
    R, root = random_pose(7, frames=12)
    pos, rot = SK.fk(R, root)
    tp, tr = SK.fk(torch.tensor(R), torch.tensor(root))
    assert isinstance(tp, torch.Tensor) and tp.dtype == torch.float64
    assert np.allclose(tp.numpy(), pos, atol=1e-12) and np.allclose(tr.numpy(), rot, atol=1e-12)
    fp, fr = SK.fk(torch.tensor(R, dtype=torch.float32), torch.tensor(root, dtype=torch.float32))
    assert fp.dtype == torch.float32 and np.allclose(fp.numpy(), pos, atol=1e-5)
    np32, _ = SK.fk(R.astype(np.float32), root.astype(np.float32))
    assert np32.dtype == np.float32 and np.allclose(np32, pos, atol=1e-5)
    # (B, T) batches give the flattened result; a single frame works without a batch axis
    bp, br = SK.fk(R.reshape(3, 4, J, 3, 3), root.reshape(3, 4, 3))
    assert bp.shape == (3, 4, J, 3) and np.allclose(bp.reshape(12, J, 3), pos)
    one, _ = SK.fk(R[5], root[5])
    assert one.shape == (J, 3) and np.allclose(one, pos[5])


@pytest.mark.parametrize("grad", [False, True])
def test_chunked_path_matches_oracle(monkeypatch, grad):
    monkeypatch.setattr(kinematics, "_CHUNK", 5)  # force several chunks and a ragged last one
    R, root = random_pose(11, frames=17)
    Rt = torch.tensor(R, requires_grad=grad)
    pos, rot = SK.fk(Rt, torch.tensor(root))
    ref_pos, ref_rot = naive_fk(R, root, SK.parents, SK.offsets)
    assert np.allclose(pos.detach().numpy(), ref_pos, atol=1e-12)
    assert np.allclose(rot.detach().numpy(), ref_rot, atol=1e-12)
    assert pos.requires_grad == grad


def test_gradients_flow_and_are_correct():
    sk = Skeleton(["a", "b", "c", "d"], [-1, 0, 1, 1], np.array([[0, 0, 0], [0.3, 0, 0.1], [0, 0.2, 0], [0.1, 0, -0.4]]))
    rng = np.random.default_rng(0)
    aa = torch.tensor(rng.normal(size=(2, 4, 3)), requires_grad=True)
    root = torch.tensor(rng.normal(size=(2, 3)), requires_grad=True)
    off = torch.tensor(sk.offsets, requires_grad=True)

    def f(aa, root, off):
        pos, rot = forward_kinematics(axis_angle_to_matrix(aa), root, sk.parents, off)
        return pos, rot

    assert torch.autograd.gradcheck(f, (aa, root, off))
    pos, rot = f(aa, root, off)
    (pos.square().sum() + rot.sum()).backward()
    for x in (aa, root, off):
        assert x.grad is not None and torch.isfinite(x.grad).all() and x.grad.abs().sum() > 0


def test_no_grad_context_uses_fast_path_same_values():
    R, root = random_pose(2, frames=6)
    Rt = torch.tensor(R, requires_grad=True)
    with_grad, _ = SK.fk(Rt, torch.tensor(root))
    with torch.no_grad():
        without, _ = SK.fk(Rt, torch.tensor(root))
    assert not without.requires_grad and torch.allclose(with_grad.detach(), without)


def test_joint_pos_replaces_offsets_where_not_nan():
    sk = Skeleton(["a", "b", "c"], [-1, 0, 1], [[0, 0, 0], [1, 0, 0], [0, 1, 0]])
    R = np.tile(np.eye(3), (2, 3, 1, 1))
    jp = np.full((2, 3, 3), np.nan)
    jp[1, 1] = [0, 0, 5]  # frame 1: joint b sits 5 up instead of 1 along X
    pos, _ = sk.fk(R, np.zeros((2, 3)), jp)
    assert np.allclose(pos[0], [[0, 0, 0], [1, 0, 0], [1, 1, 0]])
    assert np.allclose(pos[1], [[0, 0, 0], [0, 0, 5], [0, 1, 5]])
    # per-frame offsets (..., J, 3) are accepted directly too, also on the autograd path
    off = np.where(np.isnan(jp), sk.offsets, jp)
    p2, _ = forward_kinematics(torch.tensor(R, requires_grad=True), torch.zeros(2, 3), sk.parents, off)
    assert np.allclose(p2.detach().numpy(), pos)


def test_bad_inputs_raise():
    with pytest.raises(MotionLabError, match="local rotations"):
        SK.fk(np.zeros((5, J - 1, 3, 3)), np.zeros((5, 3)))
    with pytest.raises(MotionLabError, match="root positions"):
        SK.fk(np.tile(np.eye(3), (5, J, 1, 1)), np.zeros((4, 3)))
    with pytest.raises(MotionLabError, match="parent"):
        Skeleton(["a", "b"], [-1, 1], np.zeros((2, 3)))
    with pytest.raises(MotionLabError, match="root"):
        Skeleton(["a", "b"], [0, -1], np.zeros((2, 3)))
    with pytest.raises(MotionLabError, match="duplicate"):
        Skeleton(["a", "a"], [-1, 0], np.zeros((2, 3)))
    with pytest.raises(MotionLabError, match="valid choices"):
        SK.index("hips")


def test_skeleton_helpers():
    pos, rot = SK.rest_fk()
    assert np.allclose(rot, np.eye(3))
    assert pos[SK.index("head"), 2] > pos[SK.index("pelvis"), 2] > pos[SK.index("left_ankle"), 2]
    assert pos[SK.index("left_wrist"), 1] > 0 > pos[SK.index("right_wrist"), 1]  # left on +Y
    assert 1.5 < SK.height() < 2.0
    assert SK.scaled(2.0).height() == pytest.approx(2 * SK.height())
    sub, keep = SK.subset(["pelvis", "spine3", "head", "left_wrist"])
    assert keep == [SMPL22_NAMES.index(n) for n in ["pelvis", "spine3", "head", "left_wrist"]]
    sub_pos, _ = sub.rest_fk()
    assert np.allclose(sub_pos, pos[keep])
    assert sub.parents.tolist() == [-1, 0, 1, 1]
