"""SMPL-X / BEAT2 npz reader and writer: axis conventions, exact round trips, broken files."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.spatial.transform import Rotation

from io_fuzz import array_variants, byte_variants, check_contract
from motionlab.core.body import SMPL22_NAMES, SMPL22_PARENTS, smpl22_skeleton
from motionlab.core.motion import Motion
from motionlab.core.rotations import axis_angle_to_quat, quat_geodesic_angle
from motionlab.errors import MotionLabError
from motionlab.io.smplx import (
    A_SMPL_TO_CANONICAL,
    M_YUP_TO_ZUP,
    SMPLX_JOINT_NAMES,
    read_smplx_npz,
    write_smplx_npz,
)


def beat2_arrays(T=12, seed=0, scale=0.4):
    rng = np.random.default_rng(seed)
    return {
        "betas": rng.normal(size=300).astype(np.float32),
        "poses": (rng.normal(size=(T, 165)) * scale).astype(np.float32),
        "expressions": rng.normal(size=(T, 100)).astype(np.float32),
        "trans": (rng.normal(size=(T, 3)) + [0, 0.9, 0]).astype(np.float32),
        "model": np.array("smplx2020"),
        "gender": np.array("neutral"),
        "mocap_frame_rate": np.array(30),
    }


def save(path, arrays):
    with open(path, "wb") as f:
        np.savez(f, **arrays)
    return path


def smpl_frame_fk(aa22, trans, up):
    """Independent oracle: SMPL FK in the data frame (scipy rotations), on the canonical offsets
    mapped back into SMPL's rest frame, then mapped into motionlab's world."""
    sk = smpl22_skeleton()
    offsets = sk.offsets @ A_SMPL_TO_CANONICAL  # row-wise A^T o
    W = M_YUP_TO_ZUP if up == "y" else np.eye(3)
    T = aa22.shape[0]
    out = np.zeros((T, 22, 3))
    for t in range(T):
        G = [None] * 22
        p = [None] * 22
        for j in range(22):
            R = Rotation.from_rotvec(aa22[t, j]).as_matrix()
            if SMPL22_PARENTS[j] < 0:
                G[j], p[j] = R, trans[t]
            else:
                q = SMPL22_PARENTS[j]
                G[j] = G[q] @ R
                p[j] = p[q] + G[q] @ offsets[j]
        out[t] = np.array(p) @ W.T
    return out


# --- conventions, hand-computed ------------------------------------------------------------------


def test_constants():
    assert len(SMPLX_JOINT_NAMES) == 55 and SMPLX_JOINT_NAMES[:22] == SMPL22_NAMES
    assert SMPLX_JOINT_NAMES[22] == "jaw" and SMPLX_JOINT_NAMES[25] == "left_index1"
    # A = C M maps SMPL forward +Z -> +X, left +X -> +Y, up +Y -> +Z
    np.testing.assert_allclose(A_SMPL_TO_CANONICAL @ [0, 0, 1], [1, 0, 0])
    np.testing.assert_allclose(A_SMPL_TO_CANONICAL @ [1, 0, 0], [0, 1, 0])
    np.testing.assert_allclose(A_SMPL_TO_CANONICAL @ [0, 1, 0], [0, 0, 1])
    np.testing.assert_allclose(M_YUP_TO_ZUP @ [1, 2, 3], [1, -3, 2])


def test_zero_pose_faces_minus_y(tmp_path):
    # BEAT2 rest: Y up, facing +Z; in Z up that is facing -Y: root = -90 deg about Z.
    a = beat2_arrays(T=2)
    a["poses"][:] = 0
    a["trans"][:] = [[1, 2, 3], [0, 0, 0]]
    m = read_smplx_npz(save(tmp_path / "a.npz", a))
    np.testing.assert_allclose(m.root_pos[0], [1, -3, 2], atol=1e-6)
    want = np.array([np.cos(-np.pi / 4), 0, 0, np.sin(-np.pi / 4)])
    assert quat_geodesic_angle(m.local_quat[0, 0], want) < 1e-9
    pos = m.positions()[1]
    i = SMPL22_NAMES.index
    # left hip (-0.01, 0.06, -0.09) canonical -> (0.06, 0.01, -0.09): the body's left is +X
    np.testing.assert_allclose(pos[i("left_hip")], [0.06, 0.01, -0.09], atol=1e-12)
    # feet point forward: -Y
    assert pos[i("left_foot")][1] < pos[i("left_ankle")][1] - 0.1


def test_quarter_turn_root_is_identity(tmp_path):
    # root orient +90 deg about Y turns the SMPL body from facing +Z to facing +X: canonical pose
    a = beat2_arrays(T=1)
    a["poses"][:] = 0
    a["poses"][0, 1] = np.pi / 2
    a["trans"][:] = 0
    m = read_smplx_npz(save(tmp_path / "a.npz", a))
    np.testing.assert_allclose(m.local_quat[0, 0], [1, 0, 0, 0], atol=1e-7)
    rest, _ = smpl22_skeleton().rest_fk()
    np.testing.assert_allclose(m.positions()[0], rest, atol=1e-7)


def test_knee_flexion_is_about_left_axis(tmp_path):
    # SMPL knee flexion: +angle about the body's left (+X in SMPL) -> about +Y (left) in motionlab
    a = beat2_arrays(T=1)
    a["poses"][:] = 0
    k = SMPL22_NAMES.index("left_knee")
    a["poses"][0, 3 * k] = 0.7
    m = read_smplx_npz(save(tmp_path / "a.npz", a))
    want = np.array([np.cos(0.35), 0, np.sin(0.35), 0])
    assert quat_geodesic_angle(m.local_quat[0, k], want) < 1e-6
    # the shank swings backwards (-X in the canonical frame): ankle behind the knee in body frame
    m2 = Motion(30, m.skeleton, np.zeros((1, 3)), np.concatenate([[[1, 0, 0, 0]], m.local_quat[0, 1:]])[None])
    p = m2.positions()[0]
    assert p[SMPL22_NAMES.index("left_ankle"), 0] < p[k, 0] - 0.2


@pytest.mark.parametrize("up", ["y", "z"])
def test_fk_matches_smpl_frame_fk_random_poses(tmp_path, up):
    a = beat2_arrays(T=20, seed=3, scale=0.8)
    m = read_smplx_npz(save(tmp_path / "a.npz", a), up=up)
    ours = m.positions()
    ref = smpl_frame_fk(a["poses"][:, :66].astype(np.float64).reshape(-1, 22, 3), a["trans"].astype(np.float64), up)
    np.testing.assert_allclose(ours, ref, atol=1e-9)
    # bone directions too (the brief's statement of the same fact)
    par = np.array(SMPL22_PARENTS[1:])
    d1 = ours[:, 1:] - ours[:, par]
    d2 = ref[:, 1:] - ref[:, par]
    np.testing.assert_allclose(d1 / np.linalg.norm(d1, axis=-1, keepdims=True),
                               d2 / np.linalg.norm(d2, axis=-1, keepdims=True), atol=1e-9)


def test_pelvis_offset(tmp_path):
    a = beat2_arrays(T=3)
    p = save(tmp_path / "a.npz", a)
    m = read_smplx_npz(p, pelvis_offset=(0.0, -0.35, 0.01))
    np.testing.assert_allclose(m.root_pos, (a["trans"].astype(np.float64) + [0, -0.35, 0.01]) @ M_YUP_TO_ZUP.T)
    write_smplx_npz(tmp_path / "b.npz", m)
    np.testing.assert_array_equal(np.load(tmp_path / "b.npz")["trans"], a["trans"])


# --- round trips ----------------------------------------------------------------------------------


@pytest.mark.parametrize("fps_key,fps_val", [("mocap_frame_rate", np.array(30)), ("mocap_framerate", np.array(120.0))])
def test_exact_round_trip(tmp_path, fps_key, fps_val):
    a = beat2_arrays(T=15, seed=1)
    del a["mocap_frame_rate"]
    a[fps_key] = fps_val
    a["gender"] = np.array(b"female")  # bytes strings survive too
    m = read_smplx_npz(save(tmp_path / "a.npz", a))
    assert m.fps == float(fps_val) and m.meta["gender"] == "female"
    write_smplx_npz(tmp_path / "b.npz", m)
    with np.load(tmp_path / "b.npz") as b:
        assert list(b.files) == list(a)
        for k, v in a.items():
            assert b[k].dtype == v.dtype and b[k].shape == v.shape, k
            np.testing.assert_array_equal(b[k], v, err_msg=k)


def test_edited_body_is_written_hands_kept(tmp_path):
    a = beat2_arrays(T=6, seed=2)
    m = read_smplx_npz(save(tmp_path / "a.npz", a))
    k = SMPL22_NAMES.index("right_elbow")
    q = m.local_quat.copy()
    q[:, k] = axis_angle_to_quat(np.array([0.0, 0.0, 1.2]))
    m2 = Motion(m.fps, m.skeleton, m.root_pos + [0, 0, 0.5], q, extras=m.extras, meta=m.meta)
    write_smplx_npz(tmp_path / "b.npz", m2)
    back = read_smplx_npz(tmp_path / "b.npz")
    assert np.max(quat_geodesic_angle(back.local_quat, m2.local_quat)) < 1e-6
    np.testing.assert_allclose(back.root_pos, m2.root_pos, atol=1e-6)
    with np.load(tmp_path / "b.npz") as b:
        np.testing.assert_array_equal(b["poses"][:, 66:], a["poses"][:, 66:])
        np.testing.assert_array_equal(b["betas"], a["betas"])
        assert b["poses"].dtype == np.float32


def test_synthetic_export_and_back(tmp_path):
    rng = np.random.default_rng(5)
    T = 10
    q = axis_angle_to_quat(rng.normal(size=(T, 22, 3)) * 0.5)
    m = Motion(60, smpl22_skeleton(), rng.normal(size=(T, 3)), q)
    write_smplx_npz(tmp_path / "s.npz", m)
    with np.load(tmp_path / "s.npz") as b:
        assert b["poses"].shape == (T, 165) and not b["poses"][:, 66:].any()
        assert b["betas"].shape == (300,) and not b["betas"].any()
        assert b["expressions"].shape == (T, 100) and str(b["gender"]) == "neutral"
        assert float(b["mocap_frame_rate"]) == 60.0
    back = read_smplx_npz(tmp_path / "s.npz")
    np.testing.assert_allclose(back.positions(), m.positions(), atol=1e-9)
    # resampled clips export too
    write_smplx_npz(tmp_path / "r.npz", back.resample(30))
    assert read_smplx_npz(tmp_path / "r.npz").fps == 30


def test_write_rejects_non_smpl_motion(tmp_path):
    sk, _ = smpl22_skeleton().subset(SMPL22_NAMES[:10])
    m = Motion(30, sk, np.zeros((2, 3)), np.tile([1.0, 0, 0, 0], (2, 10, 1)))
    with pytest.raises(MotionLabError, match="not an SMPL-22 motion") as e:
        write_smplx_npz(tmp_path / "x.npz", m)
    assert e.value.file == str(tmp_path / "x.npz")
    assert not (tmp_path / "x.npz").exists()


def test_errors_name_file_and_place(tmp_path):
    a = beat2_arrays(T=4)
    a["poses"][2, 7] = np.nan
    p = save(tmp_path / "nan.npz", a)
    with pytest.raises(MotionLabError, match="frame 2") as e:
        read_smplx_npz(p)
    assert e.value.file == str(p) and "poses" in e.value.place
    b = beat2_arrays(T=4)
    del b["mocap_frame_rate"]
    p = save(tmp_path / "nofps.npz", b)
    with pytest.raises(MotionLabError, match="fps="):
        read_smplx_npz(p)
    assert read_smplx_npz(p, fps=25).fps == 25
    with pytest.raises(MotionLabError, match="valid choices"):
        read_smplx_npz(p, up="x", fps=25)
    with pytest.raises(MotionLabError, match="no such file"):
        read_smplx_npz(tmp_path / "missing.npz")


def test_fuzz_broken_files(tmp_path):
    rng = np.random.default_rng(0)
    good = beat2_arrays(T=5)
    variants = array_variants(good, rng)
    raw = save(tmp_path / "good.npz", good).read_bytes()
    blobs = byte_variants(raw, rng)
    assert len(variants) + len(blobs) >= 100
    outcomes = []

    def valid(m):
        assert isinstance(m, Motion) and np.isfinite(m.positions()).all()

    for i, arrays in enumerate(variants):
        p = save(tmp_path / f"v{i}.npz", arrays)
        outcomes.append(check_contract(read_smplx_npz, p, valid))
    for i, blob in enumerate(blobs):
        p = tmp_path / f"b{i}.npz"
        p.write_bytes(blob)
        outcomes.append(check_contract(read_smplx_npz, p, valid))
    assert outcomes.count("error") >= 0.6 * len(outcomes)
