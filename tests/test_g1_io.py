"""G1 file formats: Unitree CSV, BeyondMimic npz, seulzx npz, GMR pkl, dispatch and broken files."""

from __future__ import annotations

import io
import os
import pickle
import zipfile

import numpy as np
import pytest

from motionlab.core.rotations import axis_angle_to_matrix, axis_angle_to_quat, matrix_to_rot6d
from motionlab.errors import MotionLabError
from motionlab.io import g1 as g1io
from motionlab.io.g1 import (
    read_beyondmimic_npz,
    read_g1,
    read_gmr_pkl,
    read_seulzx_npz,
    read_unitree_csv,
    write_beyondmimic_npz,
    write_g1,
    write_gmr_pkl,
    write_seulzx_npz,
    write_unitree_csv,
)
from motionlab.robots.g1 import G1_JOINT_NAMES, G1_LOWER, G1_UPPER, ISAAC_BODY_NAMES, ISAAC_ORDER
from motionlab.robots.g1_fk import g1_fk
from motionlab.robots.motion import RobotMotion


def _motion(T=30, fps=30.0, seed=0, smplx=False):
    rng = np.random.default_rng(seed)
    t = np.arange(T) / fps
    root_pos = np.stack([0.5 * t, 0.1 * np.sin(t), 0.78 + 0.01 * np.cos(3 * t)], 1)
    root_quat = axis_angle_to_quat(np.stack([0.05 * np.sin(t), 0.02 * t, 0.4 * t], 1))
    mid, amp = (G1_LOWER + G1_UPPER) / 2, (G1_UPPER - G1_LOWER) / 4
    joints = mid + amp * np.sin(2 * t[:, None] + rng.uniform(0, 6, 29))
    extras = {}
    if smplx:
        extras["smplx_pose_body"] = matrix_to_rot6d(axis_angle_to_matrix(rng.normal(scale=0.5, size=(T, 21, 3))))
        extras["robot_keypoints_trans"] = rng.normal(size=(T, 5, 3))
        extras["robot_keypoints_rot"] = rng.normal(size=(T, 5, 6))
    return RobotMotion(fps, root_pos, root_quat, joints, extras=extras)


def _same_rotation(q1, q2, atol=1e-6):
    return np.allclose(np.abs((q1 * q2).sum(-1)), 1.0, atol=atol)


# -- Unitree CSV -----------------------------------------------------------------------------------
def test_unitree_csv_layout_and_round_trip(tmp_path):
    m = _motion()
    path = tmp_path / "clip.csv"
    write_unitree_csv(path, m)
    rows = np.loadtxt(path, delimiter=",")
    assert rows.shape == (30, 36)
    assert np.allclose(rows[:, 3:7], m.root_quat[:, [1, 2, 3, 0]])  # x y z w in the file
    assert np.allclose(rows[:, 7 + 3], m.joint("left_knee_joint"))
    back = read_unitree_csv(path)
    assert back.fps == 30 and back.joint_names == G1_JOINT_NAMES
    assert np.abs(back.joint_pos - m.joint_pos).max() < 1e-8
    assert _same_rotation(back.root_quat, m.root_quat)


def test_unitree_csv_joint_order_by_name(tmp_path):
    m = _motion()
    shuffled = m.reorder(list(reversed(G1_JOINT_NAMES)))
    write_unitree_csv(tmp_path / "a.csv", m)
    write_unitree_csv(tmp_path / "b.csv", shuffled)
    assert (tmp_path / "a.csv").read_bytes() == (tmp_path / "b.csv").read_bytes()
    with pytest.raises(MotionLabError, match="lacks"):
        write_unitree_csv(tmp_path / "c.csv", m.reorder(G1_JOINT_NAMES[:23]))


def test_csv_to_beyondmimic_to_csv_keeps_angles(tmp_path):
    m = _motion(T=60)
    write_unitree_csv(tmp_path / "in.csv", m)
    write_beyondmimic_npz(tmp_path / "bm.npz", read_unitree_csv(tmp_path / "in.csv"), fps=30.0)
    write_unitree_csv(tmp_path / "out.csv", read_beyondmimic_npz(tmp_path / "bm.npz"), fps=None)
    a, b = np.loadtxt(tmp_path / "in.csv", delimiter=","), np.loadtxt(tmp_path / "out.csv", delimiter=",")
    assert a.shape == b.shape
    assert np.abs(a[:, 7:] - b[:, 7:]).max() < 1e-6
    assert np.abs(a[:, :3] - b[:, :3]).max() < 1e-6


# -- BeyondMimic -----------------------------------------------------------------------------------
def test_beyondmimic_30_to_50_fps(tmp_path):
    m = _motion(T=300)
    path = tmp_path / "bm.npz"
    write_beyondmimic_npz(path, m)
    z = np.load(path)
    T = 499  # arange(0, 299/30, 1/50)
    assert z["fps"].tolist() == [50]
    for key, tail in (("joint_pos", (29,)), ("joint_vel", (29,)), ("body_pos_w", (30, 3)),
                      ("body_quat_w", (30, 4)), ("body_lin_vel_w", (30, 3)), ("body_ang_vel_w", (30, 3))):
        assert z[key].shape == (T, *tail) and z[key].dtype == np.float32, key
    assert z["body_names"].tolist() == list(ISAAC_BODY_NAMES)
    # Isaac order; output frame 7 is at t = 0.14 s = input frame 4.2: lerp 0.8 * f4 + 0.2 * f5
    expected = 0.8 * m.joint_pos[4] + 0.2 * m.joint_pos[5]
    assert np.allclose(z["joint_pos"][7], expected[list(ISAAC_ORDER)], atol=1e-6)
    assert np.allclose(z["body_pos_w"][7, 0], 0.8 * m.root_pos[4] + 0.2 * m.root_pos[5], atol=1e-6)
    # the root quaternion is slerped: yaw rate 0.4 rad/s, so its yaw at t is 0.4 t
    yaw_pitch = z["body_quat_w"][:, 0]
    from motionlab.core.rotations import quat_slerp

    slerp = quat_slerp(m.root_quat[4], m.root_quat[5], 0.2)
    assert _same_rotation(yaw_pitch[7], slerp, atol=1e-6)
    # body poses are motionlab's FK of the resampled motion
    up = m.resample(50)
    pos, quat = g1_fk(up.root_pos, up.root_quat, up.joint_pos, order="isaac")
    assert np.allclose(z["body_pos_w"], pos, atol=1e-5) and _same_rotation(z["body_quat_w"], quat, atol=1e-5)
    # velocities: gradient along time, and the root's angular velocity by central quaternion difference
    assert np.allclose(z["joint_vel"], np.gradient(z["joint_pos"].astype(float), 0.02, axis=0), atol=1e-3)
    assert np.allclose(z["body_lin_vel_w"][:, 0], np.gradient(pos[:, 0], 0.02, axis=0), atol=1e-4)
    back = read_beyondmimic_npz(path)
    assert back.fps == 50 and back.num_frames == T
    assert np.abs(back.joint_pos - up.joint_pos).max() < 1e-5


def test_beyondmimic_angular_velocity_constant_spin(tmp_path):
    T, w = 20, 1.5  # rad/s about z
    rq = axis_angle_to_quat(np.stack([np.zeros(T), np.zeros(T), w * np.arange(T) / 50], 1))
    m = RobotMotion(50, np.zeros((T, 3)), rq, np.zeros((T, 29)))
    arrays = g1io.beyondmimic_arrays(m, fps=50)
    assert np.allclose(arrays["body_ang_vel_w"][:, 0], [0, 0, w], atol=1e-5)
    assert np.allclose(arrays["body_ang_vel_w"][:, ISAAC_BODY_NAMES.index("left_knee_link")], [0, 0, w], atol=1e-5)
    # body_lin_vel_w is the velocity of each body's centre of mass: w * (its distance from the axis)
    from motionlab.core.rotations import quat_to_matrix
    from motionlab.robots.g1 import G1_BODY_COMS, G1_BODY_NAMES

    com = G1_BODY_COMS[G1_BODY_NAMES.index(ISAAC_BODY_NAMES[1])]
    com_w = arrays["body_pos_w"][0, 1] + quat_to_matrix(arrays["body_quat_w"][0, 1].astype(np.float64)) @ com
    speed = np.linalg.norm(arrays["body_lin_vel_w"][5:-5, 1], axis=-1)
    assert np.allclose(speed, w * np.linalg.norm(com_w[:2]), rtol=1e-3)
    origin_speed = w * np.linalg.norm(arrays["body_pos_w"][0, 1, :2])
    assert abs(speed.mean() - origin_speed) > 1e-3  # the body origin moves at another speed


def test_body_com_velocities_match_finite_differences():
    """Centre-of-mass velocities from the joint velocities equal the time derivative of the COM
    positions (FK + the MJCF inertials) on a fast, twisting motion; the pelvis COM takes the root
    velocity (Isaac Lab's convention for a root state)."""
    from motionlab.robots.g1 import G1_BODY_COMS
    from motionlab.robots.g1_fk import g1_body_velocities

    fps, T = 1000.0, 200
    t = np.arange(T) / fps
    rp = np.stack([0.5 * t, 0.3 * np.sin(3 * t), 0.78 + 0.05 * np.cos(5 * t)], 1)
    rq = axis_angle_to_quat(np.stack([0.3 * np.sin(2 * t), 0.2 * np.cos(3 * t), 2.0 * t], 1))
    mid, amp = (G1_LOWER + G1_UPPER) / 2, (G1_UPPER - G1_LOWER) / 4
    q = mid + amp * np.sin(4 * t[:, None] + np.random.default_rng(0).uniform(0, 6, 29))
    pos, R = g1_fk(rp, rq, q, as_matrix=True)
    com_vel = np.gradient(pos + np.einsum("tbij,bj->tbi", R, G1_BODY_COMS), 1 / fps, axis=0)
    W = np.gradient(R[:, 0], 1 / fps, axis=0) @ np.swapaxes(R[:, 0], -1, -2)
    w = np.stack([W[:, 2, 1], W[:, 0, 2], W[:, 1, 0]], -1)
    lin, ang = g1_body_velocities(rp, rq, q, com_vel[:, 0], w, np.gradient(q, 1 / fps, axis=0))
    assert np.abs(lin - com_vel)[5:-5].max() < 1e-3
    origin_vel = np.gradient(pos, 1 / fps, axis=0)
    assert np.abs(origin_vel - com_vel).max() > 0.3  # the two differ by up to ~1 m/s here


def test_beyondmimic_reads_named_joint_columns(tmp_path):
    m = _motion()
    arrays = g1io.beyondmimic_arrays(m, fps=30)
    perm = np.random.default_rng(1).permutation(29)
    arrays["joint_pos"] = arrays["joint_pos"][:, perm]
    arrays["joint_names"] = arrays["joint_names"][perm]
    np.savez(tmp_path / "named.npz", **arrays)
    back = read_beyondmimic_npz(tmp_path / "named.npz")
    assert np.abs(back.joint_pos - m.joint_pos).max() < 1e-6
    del arrays["fps"]
    np.savez(tmp_path / "nofps.npz", **arrays)
    assert read_beyondmimic_npz(tmp_path / "nofps.npz").fps == 50.0  # the tracker's 0.02 s step


# -- seulzx ----------------------------------------------------------------------------------------
def test_seulzx_6d_layout_is_row_by_row(tmp_path):
    rng = np.random.default_rng(4)
    T = 12
    R = axis_angle_to_matrix(rng.normal(size=(T, 21, 3)))
    arrays = g1io.beyondmimic_arrays(_motion(T=T, fps=50), fps=50)
    arrays["smplx_pose_body"] = R[..., :2].reshape(T, 21, 6).astype(np.float32)  # the file's layout
    np.savez(tmp_path / "s.npz", **arrays)
    m = read_seulzx_npz(tmp_path / "s.npz")
    assert np.allclose(m.extras["smplx_pose_body"], matrix_to_rot6d(R), atol=1e-6)
    # one hand-checked element: the file stores R01 at index 1, motionlab stores R10 there
    assert arrays["smplx_pose_body"][0, 0, 1] == pytest.approx(R[0, 0, 0, 1], abs=1e-6)
    assert m.extras["smplx_pose_body"][0, 0, 1] == pytest.approx(R[0, 0, 1, 0], abs=1e-6)
    write_seulzx_npz(tmp_path / "s2.npz", m)
    again = np.load(tmp_path / "s2.npz")
    assert np.allclose(again["smplx_pose_body"], arrays["smplx_pose_body"], atol=1e-6)


def test_seulzx_round_trip_and_resample(tmp_path):
    m = _motion(T=50, fps=50, smplx=True)
    write_seulzx_npz(tmp_path / "s.npz", m)
    back = read_g1(tmp_path / "s.npz")
    assert back.meta["format"] == "seulzx"
    assert np.abs(back.joint_pos - m.joint_pos).max() < 1e-5
    for key in ("smplx_pose_body", "robot_keypoints_trans", "robot_keypoints_rot"):
        assert np.allclose(back.extras[key], m.extras[key], atol=1e-5), key
    m30 = _motion(T=30, fps=30, smplx=True)
    write_seulzx_npz(tmp_path / "s50.npz", m30)
    z = np.load(tmp_path / "s50.npz")
    assert z["smplx_pose_body"].shape == (49, 21, 6) and z["robot_keypoints_trans"].shape == (49, 5, 3)
    with pytest.raises(MotionLabError, match="smplx_pose_body"):
        write_seulzx_npz(tmp_path / "x.npz", _motion())


# -- GMR -------------------------------------------------------------------------------------------
def test_gmr_round_trip_and_layout(tmp_path):
    m = _motion(fps=30)
    path = tmp_path / "g.pkl"
    write_gmr_pkl(path, m)
    with open(path, "rb") as f:
        raw = pickle.load(f)
    assert raw["fps"] == 30 and raw["local_body_pos"] is None and raw["link_body_list"] is None
    assert np.allclose(raw["root_rot"], m.root_quat[:, [1, 2, 3, 0]])
    back = read_gmr_pkl(path)
    assert np.array_equal(back.joint_pos, m.joint_pos) and np.allclose(back.root_quat, m.root_quat)
    # a pickle written by other tools: float32 arrays, int fps, numpy scalar
    for fps in (30, np.float64(30.0), np.int64(30)):
        blob = {"fps": fps, "root_pos": m.root_pos.astype(np.float32), "root_rot": raw["root_rot"].astype(np.float32),
                "dof_pos": m.joint_pos.astype(np.float32)}
        for proto in (2, 5):
            (tmp_path / "o.pkl").write_bytes(pickle.dumps(blob, protocol=proto))
            assert read_gmr_pkl(tmp_path / "o.pkl").fps == 30


class _Evil:
    def __reduce__(self):
        return (os.system, ("echo pwned > pwned.txt",))


def test_gmr_refuses_code(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "evil.pkl").write_bytes(pickle.dumps({"fps": 30, "root_pos": _Evil()}))
    with pytest.raises(MotionLabError, match="refusing"):
        read_gmr_pkl(tmp_path / "evil.pkl")
    assert not (tmp_path / "pwned.txt").exists()


# -- dispatch and atomic writes ---------------------------------------------------------------------
def test_read_write_g1_dispatch(tmp_path):
    m = _motion(smplx=True)
    for name, fmt in (("a.csv", "unitree-csv"), ("a.pkl", "gmr-pkl"), ("a.npz", "seulzx")):
        write_g1(tmp_path / name, m)
        assert read_g1(tmp_path / name).meta["format"] == fmt
    write_g1(tmp_path / "b.npz", m, format="beyondmimic")
    assert read_g1(tmp_path / "b.npz").meta["format"] == "beyondmimic"
    with pytest.raises(MotionLabError, match="unitree-csv"):
        write_g1(tmp_path / "a.bvh", m)
    with pytest.raises(MotionLabError, match="valid choices"):
        write_g1(tmp_path / "a.csv", m, format="lafan")
    with pytest.raises(MotionLabError, match="beyondmimic"):
        read_g1(tmp_path / "a.txt")


def test_failed_write_leaves_old_file(tmp_path):
    path = tmp_path / "keep.csv"
    path.write_text("old")
    with pytest.raises(MotionLabError):
        write_unitree_csv(path, _motion().reorder(G1_JOINT_NAMES[:5]))
    assert path.read_text() == "old"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["keep.csv"]
    with pytest.raises(MotionLabError, match="folder"):
        write_gmr_pkl(tmp_path / "missing" / "x.pkl", _motion())


# -- broken files ----------------------------------------------------------------------------------
def _good_csv_text():
    buf = io.StringIO()
    m = _motion(T=4)
    table = np.concatenate([m.root_pos, m.root_quat[:, [1, 2, 3, 0]], m.joint_pos], 1)
    np.savetxt(buf, table, fmt="%.6f", delimiter=",")
    return buf.getvalue()


def _csv_variants():
    good = _good_csv_text()
    lines = good.splitlines()
    yield "empty", ""
    yield "blank", "\n\n  \n"
    yield "35 columns", "\n".join(",".join(l.split(",")[:35]) for l in lines)
    yield "37 columns", "\n".join(l + ",0" for l in lines)
    yield "nan row", "\n".join(lines[:2] + [lines[2].replace(lines[2].split(",")[8], "nan", 1)] + lines[3:])
    yield "inf", lines[0].replace(lines[0].split(",")[0], "inf", 1)
    yield "header", "x,y,z," + ",".join(["c"] * 33) + "\n" + good
    yield "text", "hello world"
    yield "truncated", good[: len(good) // 2 + 7]
    yield "semicolons", good.replace(",", ";")
    yield "zero quat", "\n".join(",".join(["0"] * 36) for _ in range(2))
    yield "binary", "\x00\x01\x02" * 50


@pytest.mark.parametrize("name,text", list(_csv_variants()))
def test_broken_csv(tmp_path, name, text):
    path = tmp_path / "bad.csv"
    path.write_text(text)
    with pytest.raises(MotionLabError) as e:
        read_unitree_csv(path)
    assert "bad.csv" in str(e.value)


def test_csv_error_names_the_line(tmp_path):
    lines = _good_csv_text().splitlines()
    lines[2] = ",".join(lines[2].split(",")[:30])
    (tmp_path / "x.csv").write_text("\n".join(lines))
    with pytest.raises(MotionLabError, match="line 3.*got 30"):
        read_unitree_csv(tmp_path / "x.csv")
    with pytest.raises(MotionLabError, match="no such file"):
        read_unitree_csv(tmp_path / "none.csv")
    with pytest.raises(MotionLabError):
        read_unitree_csv(tmp_path / "x.csv", fps=-1)


def _npz_variants():
    base = g1io.beyondmimic_arrays(_motion(T=6, smplx=True), fps=30)
    base["smplx_pose_body"] = np.zeros((6, 21, 6), np.float32)
    for key in ("joint_pos", "body_pos_w", "body_quat_w", "smplx_pose_body"):
        yield f"missing {key}", {k: v for k, v in base.items() if k != key}
    yield "joint_pos 28", {**base, "joint_pos": base["joint_pos"][:, :28]}
    yield "joint_pos 1-D", {**base, "joint_pos": base["joint_pos"][0]}
    yield "frames differ", {**base, "joint_pos": base["joint_pos"][:5]}
    yield "bodies differ", {**base, "body_quat_w": base["body_quat_w"][:, :29]}
    yield "smplx frames", {**base, "smplx_pose_body": base["smplx_pose_body"][:4]}
    yield "smplx shape", {**base, "smplx_pose_body": np.zeros((6, 22, 6))}
    nan = base["joint_pos"].copy()
    nan[3, 1] = np.nan
    yield "nan", {**base, "joint_pos": nan}
    yield "strings", {**base, "joint_pos": np.array(["a"] * 29)}
    yield "empty", {**base, "joint_pos": np.zeros((0, 29)), "body_pos_w": np.zeros((0, 30, 3)),
                    "body_quat_w": np.zeros((0, 30, 4))}
    yield "zero quat", {**base, "body_quat_w": np.zeros_like(base["body_quat_w"])}
    yield "bad fps", {**base, "fps": np.array([0])}
    yield "fps text", {**base, "fps": np.array(["fifty"])}
    yield "unknown joint name", {**base, "joint_names": np.array(["knee"] + list(base["joint_names"][1:]))}
    yield "no pelvis", {**base, "body_names": np.array(["torso"] * 30)}
    yield "keypoints shape", {**base, "robot_keypoints_trans": np.zeros((6, 4, 3))}


@pytest.mark.parametrize("name,arrays", list(_npz_variants()))
def test_broken_npz(tmp_path, name, arrays):
    path = tmp_path / "bad.npz"
    np.savez(path, **arrays)
    with pytest.raises(MotionLabError) as e:
        read_seulzx_npz(path)
    assert "bad.npz" in str(e.value)
    if "smplx" not in name and "keypoints" not in name:
        with pytest.raises(MotionLabError):
            read_beyondmimic_npz(path)


def test_broken_npz_containers(tmp_path):
    good = tmp_path / "good.npz"
    write_beyondmimic_npz(good, _motion(T=6))
    raw = good.read_bytes()
    cases = {"truncated.npz": raw[: len(raw) // 2], "empty.npz": b"", "text.npz": b"not a zip",
             "flipped.npz": raw[:200] + bytes(b ^ 0xFF for b in raw[200:400]) + raw[400:]}
    for name, blob in cases.items():
        (tmp_path / name).write_bytes(blob)
        with pytest.raises(MotionLabError):
            read_g1(tmp_path / name)
    np.save(tmp_path / "single.npy", np.zeros(3))
    os.replace(tmp_path / "single.npy", tmp_path / "single.npz")
    with pytest.raises(MotionLabError):
        read_beyondmimic_npz(tmp_path / "single.npz")
    obj = {"joint_pos": np.array([None] * 29, dtype=object)}
    np.savez(tmp_path / "obj.npz", **obj)
    with pytest.raises(MotionLabError):
        read_beyondmimic_npz(tmp_path / "obj.npz")


def _pkl_variants():
    m = _motion(T=5)
    good = {"fps": 30, "root_pos": m.root_pos, "root_rot": m.root_quat[:, [1, 2, 3, 0]], "dof_pos": m.joint_pos}
    yield "list", pickle.dumps([1, 2, 3])
    yield "empty", b""
    yield "garbage", b"\x80\x04garbage"
    yield "truncated", pickle.dumps(good)[:-40]
    for key in good:
        yield f"missing {key}", pickle.dumps({k: v for k, v in good.items() if k != key})
    yield "dof 23", pickle.dumps({**good, "dof_pos": m.joint_pos[:, :23]})
    yield "frames differ", pickle.dumps({**good, "root_pos": m.root_pos[:4]})
    yield "fps none", pickle.dumps({**good, "fps": None})
    yield "fps list", pickle.dumps({**good, "fps": [30, 50]})
    yield "root_rot text", pickle.dumps({**good, "root_rot": "xyzw"})
    nan = m.joint_pos.copy()
    nan[2, 2] = np.nan
    yield "nan", pickle.dumps({**good, "dof_pos": nan})
    yield "zero quat", pickle.dumps({**good, "root_rot": np.zeros((5, 4))})
    yield "module global", pickle.dumps({**good, "fps": zipfile.ZipFile})


@pytest.mark.parametrize("name,blob", list(_pkl_variants()))
def test_broken_pkl(tmp_path, name, blob):
    path = tmp_path / "bad.pkl"
    path.write_bytes(blob)
    with pytest.raises(MotionLabError) as e:
        read_gmr_pkl(path)
    assert "bad.pkl" in str(e.value)


def test_random_corruption_raises_only_motionlab_errors(tmp_path):
    rng = np.random.default_rng(7)
    m = _motion(T=8, smplx=True)
    sources = {}
    for name in ("c.csv", "g.pkl", "s.npz"):
        write_g1(tmp_path / name, m)
        sources[name] = (tmp_path / name).read_bytes()
    for trial in range(60):
        name = list(sources)[trial % 3]
        raw = bytearray(sources[name])
        if trial % 2:
            raw = raw[: rng.integers(0, len(raw))]
        else:
            for pos in rng.integers(0, len(raw), size=5):
                raw[pos] = rng.integers(0, 256)
        path = tmp_path / f"fuzz_{trial}{os.path.splitext(name)[1]}"
        path.write_bytes(bytes(raw))
        try:
            out = read_g1(path)
        except MotionLabError:
            continue
        assert isinstance(out, RobotMotion) and np.isfinite(out.joint_pos).all()
