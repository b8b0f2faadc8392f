"""The G1 description (orders, limits, tree), RobotMotion, G1 FK and the MuJoCo bridge."""

from __future__ import annotations

import re

import numpy as np
import pytest
import torch

from motionlab.core.rotations import axis_angle_to_quat, quat_to_matrix
from motionlab.errors import MotionLabError
from motionlab.robots import g1
from motionlab.robots.g1 import (
    BEYONDMIMIC_KEYPOINT_BODIES,
    G1_23DOF_NAMES,
    G1_BODY_NAMES,
    G1_JOINT_NAMES,
    G1_LOWER,
    G1_UPPER,
    G1_VELOCITY_LIMITS,
    ISAAC_BODY_NAMES,
    ISAAC_JOINT_NAMES,
    ISAAC_ORDER,
    UNITREE_FROM_ISAAC,
    clamp_to_limits,
    isaac_to_unitree,
    limit_violations,
    unitree_to_isaac,
)
from motionlab.robots.g1_fk import g1_fk, g1_fk_motion
from motionlab.robots.motion import RobotMotion

# The two index lists of the project notes (formats.md, "Unitree G1, 29 DoF").
NOTES_ISAAC = [0, 6, 12, 1, 7, 13, 2, 8, 14, 3, 9, 15, 22, 4, 10, 16, 23, 5, 11, 17, 24, 18, 25, 19, 26, 20, 27, 21, 28]
NOTES_UNITREE = [0, 3, 6, 9, 13, 17, 1, 4, 7, 10, 14, 18, 2, 5, 8, 11, 15, 19, 21, 23, 25, 27, 12, 16, 20, 22, 24, 26, 28]
MJCF = "robots/g1/unitree_ros_g1_29dof_rev_1_0.xml"
URDF = "robots/g1/unitree_ros_g1_29dof_rev_1_0.urdf"


def _mjcf(reference_dir):
    path = reference_dir / MJCF
    if not path.is_file():
        pytest.skip(f"reference model absent: {path}")
    return path


def _random_config(n, seed=0):
    rng = np.random.default_rng(seed)
    root_pos = rng.normal(size=(n, 3))
    root_quat = rng.normal(size=(n, 4))
    root_quat /= np.linalg.norm(root_quat, axis=-1, keepdims=True)
    q = rng.uniform(G1_LOWER, G1_UPPER, size=(n, 29))
    return root_pos, root_quat, q


# -- orders ----------------------------------------------------------------------------------------
def test_names_and_orders_match_the_notes():
    assert len(G1_JOINT_NAMES) == 29 and all(n.endswith("_joint") for n in G1_JOINT_NAMES)
    assert G1_JOINT_NAMES[0] == "left_hip_pitch_joint" and G1_JOINT_NAMES[12] == "waist_yaw_joint"
    assert G1_JOINT_NAMES[18] == "left_elbow_joint" and G1_JOINT_NAMES[28] == "right_wrist_yaw_joint"
    assert list(ISAAC_ORDER) == NOTES_ISAAC
    assert list(UNITREE_FROM_ISAAC) == NOTES_UNITREE
    assert ISAAC_JOINT_NAMES[:4] == ("left_hip_pitch_joint", "right_hip_pitch_joint", "waist_yaw_joint",
                                     "left_hip_roll_joint")
    assert len(ISAAC_BODY_NAMES) == 30 and sorted(ISAAC_BODY_NAMES) == sorted(G1_BODY_NAMES)
    assert ISAAC_BODY_NAMES[:10] == (
        "pelvis", "left_hip_pitch_link", "right_hip_pitch_link", "waist_yaw_link", "left_hip_roll_link",
        "right_hip_roll_link", "waist_roll_link", "left_hip_yaw_link", "right_hip_yaw_link", "torso_link")
    # parents agree in both orders
    for k, body in enumerate(ISAAC_BODY_NAMES):
        p = g1.ISAAC_BODY_PARENTS[k]
        mp = g1.G1_BODY_PARENTS[G1_BODY_NAMES.index(body)]
        assert (p == -1 and mp == -1) or ISAAC_BODY_NAMES[p] == G1_BODY_NAMES[mp]
    # the joint of every Isaac body (after the pelvis) is the Isaac joint at the same position
    for k, body in enumerate(ISAAC_BODY_NAMES[1:]):
        assert G1_JOINT_NAMES.index(ISAAC_JOINT_NAMES[k]) + 1 == G1_BODY_NAMES.index(body)


def test_orders_match_the_notes_file(reference_dir):
    notes = reference_dir.parent / "notes" / "formats.md"
    if not notes.is_file():
        pytest.skip("notes absent")
    text = notes.read_text()
    isaac = re.search(r"isaac = unitree\[\[([0-9,\s]+)\]\]", text)
    unitree = re.search(r"unitree = isaac\[\[([0-9,\s]+)\]\]", text)
    assert [int(v) for v in isaac.group(1).split(",")] == list(ISAAC_ORDER)
    assert [int(v) for v in unitree.group(1).split(",")] == list(UNITREE_FROM_ISAAC)


def test_reorder_round_trip_numpy_and_torch():
    x = np.arange(2 * 29, dtype=float).reshape(2, 29)
    assert np.array_equal(unitree_to_isaac(x)[0], np.array(NOTES_ISAAC, dtype=float))
    assert np.array_equal(isaac_to_unitree(unitree_to_isaac(x)), x)
    t = torch.arange(29.0).expand(3, 4, 29)
    assert torch.equal(isaac_to_unitree(unitree_to_isaac(t)), t)
    assert torch.equal(unitree_to_isaac(t)[1, 2], torch.tensor(NOTES_ISAAC, dtype=torch.float32))
    with pytest.raises(MotionLabError):
        unitree_to_isaac(np.zeros((5, 28)))


def test_subsets_and_keypoints():
    assert len(G1_23DOF_NAMES) == 23
    dropped = set(G1_JOINT_NAMES) - set(G1_23DOF_NAMES)
    assert dropped == {"waist_roll_joint", "waist_pitch_joint", "left_wrist_pitch_joint", "left_wrist_yaw_joint",
                       "right_wrist_pitch_joint", "right_wrist_yaw_joint"}
    assert len(BEYONDMIMIC_KEYPOINT_BODIES) == 14 and set(BEYONDMIMIC_KEYPOINT_BODIES) <= set(G1_BODY_NAMES)
    assert g1.G1_PELVIS_HEIGHT == pytest.approx(0.793)


# -- limits ----------------------------------------------------------------------------------------
def test_limit_spot_values():
    def lim(name):
        i = G1_JOINT_NAMES.index(name)
        return G1_LOWER[i], G1_UPPER[i], G1_VELOCITY_LIMITS[i]

    assert lim("left_hip_pitch_joint") == pytest.approx((-2.5307, 2.8798, 32))
    assert lim("left_knee_joint") == pytest.approx((-0.087267, 2.8798, 20))
    assert lim("right_elbow_joint") == pytest.approx((-1.0472, 2.0944, 37))
    assert lim("left_ankle_roll_joint") == pytest.approx((-0.2618, 0.2618, 30))
    assert lim("right_wrist_yaw_joint")[2] == 22
    assert lim("right_hip_roll_joint")[:2] == pytest.approx((-2.9671, 0.5236))
    assert set(G1_VELOCITY_LIMITS.tolist()) == {32.0, 20.0, 30.0, 37.0, 22.0}
    assert not G1_LOWER.flags.writeable


def test_clamp_and_violations_hand_computed():
    knee = G1_JOINT_NAMES.index("left_knee_joint")
    elbow = G1_JOINT_NAMES.index("left_elbow_joint")
    q = np.zeros((4, 29))
    q[1, knee] = -0.187267  # 0.1 below the knee's lower limit
    q[2, elbow] = 2.0944 + 0.25
    q[3, elbow] = 2.0944 + 0.05
    frac, excess = limit_violations(q)
    assert frac == pytest.approx(0.75)
    assert excess[knee] == pytest.approx(0.1) and excess[elbow] == pytest.approx(0.25)
    assert np.count_nonzero(excess) == 2
    c = clamp_to_limits(q)
    assert c[1, knee] == pytest.approx(-0.087267) and c[2, elbow] == pytest.approx(2.0944)
    assert limit_violations(c)[0] == 0.0
    ct = clamp_to_limits(torch.tensor(q, dtype=torch.float32))
    assert torch.allclose(ct, torch.tensor(c, dtype=torch.float32))


def test_packaged_description_matches_official_model(reference_dir):
    from motionlab.robots.mjcf import read_mjcf_tree, read_urdf_velocity_limits

    tree = read_mjcf_tree(_mjcf(reference_dir))
    assert [b["name"] for b in tree["bodies"]] == list(G1_BODY_NAMES)
    assert [j["name"] for j in tree["joints"]] == list(G1_JOINT_NAMES)
    assert np.allclose([b["pos"] for b in tree["bodies"]], g1.G1_BODY_OFFSETS)
    assert np.allclose([j["axis"] for j in tree["joints"]], g1.G1_JOINT_AXES)
    assert np.allclose([j["range"] for j in tree["joints"]], np.stack([G1_LOWER, G1_UPPER], 1))
    vel = read_urdf_velocity_limits(reference_dir / URDF)
    assert [vel[n] for n in G1_JOINT_NAMES] == G1_VELOCITY_LIMITS.tolist()


# -- FK --------------------------------------------------------------------------------------------
def test_fk_rest_pose_hand_computed():
    pos, quat = g1_fk(np.array([0.0, 0.0, 0.793]), np.array([1.0, 0, 0, 0]), np.zeros(29), order="mujoco")
    assert pos.shape == (30, 3) and quat.shape == (30, 4)
    assert np.allclose(pos[0], [0, 0, 0.793])
    # left_hip_pitch_link: pelvis + (0, 0.064452, -0.1027); waist_yaw_link coincides with the pelvis
    assert np.allclose(pos[G1_BODY_NAMES.index("left_hip_pitch_link")], [0, 0.064452, 0.793 - 0.1027])
    assert np.allclose(pos[G1_BODY_NAMES.index("waist_yaw_link")], [0, 0, 0.793])
    # waist_roll_link then torso_link sit 0.044 up (x -0.0039635)
    assert np.allclose(pos[G1_BODY_NAMES.index("torso_link")], [-0.0039635, 0, 0.793 + 0.044])


def test_fk_joint_rotation_and_root_hand_computed():
    # a yaw of the whole robot by 90 deg maps the left hip offset (0, 0.064452) onto (-0.064452, 0)
    root_q = axis_angle_to_quat(np.array([0, 0, np.pi / 2]))
    pos, _ = g1_fk(np.zeros(3), root_q, np.zeros(29), order="mujoco")
    assert np.allclose(pos[1], [-0.064452, 0, -0.1027])
    # waist yaw by 90 deg turns torso offset (-0.0039635, 0, 0.044) into (0, -0.0039635, 0.044)
    q = np.zeros(29)
    q[G1_JOINT_NAMES.index("waist_yaw_joint")] = np.pi / 2
    pos, quat = g1_fk(np.zeros(3), np.array([1.0, 0, 0, 0]), q, order="mujoco")
    assert np.allclose(pos[G1_BODY_NAMES.index("torso_link")], [0, -0.0039635, 0.044])
    assert np.allclose(quat[G1_BODY_NAMES.index("torso_link")], [np.cos(np.pi / 4), 0, 0, np.sin(np.pi / 4)])


def test_fk_batching_orders_and_autograd():
    rp, rq, q = _random_config(6, seed=1)
    pos_i, quat_i = g1_fk(rp, rq, q, order="isaac")
    pos_m, quat_m = g1_fk(rp, rq, q)  # MJCF body order by default
    idx = [G1_BODY_NAMES.index(n) for n in ISAAC_BODY_NAMES]
    assert np.allclose(pos_i, pos_m[:, idx]) and np.allclose(quat_i, quat_m[:, idx])
    _, R = g1_fk(rp, rq, q, order="mujoco", as_matrix=True)
    assert np.allclose(R, quat_to_matrix(quat_m))
    # any batch shape, torch float32, broadcasting of the root
    qt = torch.tensor(q.reshape(2, 3, 29), dtype=torch.float32, requires_grad=True)
    pt, _ = g1_fk(torch.tensor(rp[0], dtype=torch.float32), torch.tensor(rq[0], dtype=torch.float32), qt,
                  order="isaac")
    assert pt.shape == (2, 3, 30, 3) and pt.dtype == torch.float32
    pt.sum().backward()
    assert qt.grad is not None and torch.isfinite(qt.grad).all()
    p64, _ = g1_fk(rp[0], rq[0], q.reshape(2, 3, 29), order="isaac")
    assert np.allclose(pt.detach().numpy(), p64, atol=1e-5)
    with pytest.raises(MotionLabError):
        g1_fk(rp, rq, q[:, :28])
    with pytest.raises(MotionLabError):
        g1_fk(rp, rq, q, order="bfs")


def test_fk_matches_mujoco(reference_dir):
    mujoco = pytest.importorskip("mujoco")
    model = mujoco.MjModel.from_xml_path(str(_mjcf(reference_dir)))
    data = mujoco.MjData(model)
    rp, rq, q = _random_config(100, seed=2)
    ref_pos = np.empty((100, 30, 3))
    ref_quat = np.empty((100, 30, 4))
    for i in range(100):
        data.qpos[:3], data.qpos[3:7], data.qpos[7:] = rp[i], rq[i], q[i]
        mujoco.mj_kinematics(model, data)
        ref_pos[i], ref_quat[i] = data.xpos[1:], data.xquat[1:]
    assert [model.body(b).name for b in range(1, model.nbody)] == list(G1_BODY_NAMES)
    pos, quat = g1_fk(rp, rq, q, order="mujoco")
    assert np.abs(pos - ref_pos).max() < 1e-3  # the brief: < 1 mm (observed ~1e-15 m)
    assert np.abs(pos - ref_pos).max() < 1e-9
    assert np.abs(np.abs((quat * ref_quat).sum(-1)) - 1).max() < 1e-9  # same rotation up to sign
    # float32 torch stays under a millimetre as well
    pos32, _ = g1_fk(*(torch.tensor(a, dtype=torch.float32) for a in (rp, rq, q)), order="mujoco")
    assert np.abs(pos32.numpy() - ref_pos).max() < 1e-3


def test_body_coms_and_velocities_match_mujoco(reference_dir):
    """The packaged centres of mass are MuJoCo's ``body_ipos``/``body_mass``, and
    ``g1_body_velocities`` equals MuJoCo's centre-of-mass velocities (``mj_objectVelocity`` of the
    inertial frames) for random poses and velocities."""
    mujoco = pytest.importorskip("mujoco")
    from motionlab.robots.g1 import G1_BODY_COMS, G1_BODY_MASSES
    from motionlab.robots.g1_fk import g1_body_velocities

    model = mujoco.MjModel.from_xml_path(str(_mjcf(reference_dir)))
    data = mujoco.MjData(model)
    assert np.abs(model.body_ipos[1:] - G1_BODY_COMS).max() < 1e-12
    assert np.abs(model.body_mass[1:] - G1_BODY_MASSES).max() < 1e-12
    rng = np.random.default_rng(4)
    rp, rq, q = _random_config(20, seed=4)
    for i in range(20):
        data.qpos[:3], data.qpos[3:7], data.qpos[7:] = rp[i], rq[i], q[i]
        data.qvel[:] = rng.normal(size=model.nv)
        mujoco.mj_forward(model, data)
        ref = np.empty((30, 6))
        for b in range(1, model.nbody):  # inertial frame (COM), world axes: [angular, linear]
            mujoco.mj_objectVelocity(model, data, mujoco.mjtObj.mjOBJ_BODY, b, ref[b - 1], 0)
        lin, ang = g1_body_velocities(rp[i], rq[i], q[i], ref[0, 3:], ref[0, :3], data.qvel[6:])
        assert np.abs(ang - ref[:, :3]).max() < 1e-9
        assert np.abs(lin - ref[:, 3:]).max() < 1e-9


# -- RobotMotion -----------------------------------------------------------------------------------
def _motion(T=300, fps=30.0, seed=0):
    rp, rq, q = _random_config(T, seed)
    return RobotMotion(fps, rp, rq, q)


def test_robot_motion_validation():
    m = _motion(10)
    assert m.num_frames == 10 and m.joint_names == G1_JOINT_NAMES and m.num_joints == 29
    bad = m.joint_pos.copy()
    bad[4, 3] = np.nan
    with pytest.raises(MotionLabError, match="frame 4"):
        RobotMotion(30, m.root_pos, m.root_quat, bad)
    with pytest.raises(MotionLabError, match="joint_pos"):
        RobotMotion(30, m.root_pos, m.root_quat, m.joint_pos[:, :28])
    with pytest.raises(MotionLabError):
        RobotMotion(30, m.root_pos, np.zeros((10, 4)), m.joint_pos)
    with pytest.raises(MotionLabError):
        RobotMotion(0, m.root_pos, m.root_quat, m.joint_pos)
    with pytest.raises(MotionLabError, match="extra"):
        RobotMotion(30, m.root_pos, m.root_quat, m.joint_pos, extras={"x": np.zeros((9, 2))})
    unnormalised = RobotMotion(30, m.root_pos, 2 * m.root_quat, m.joint_pos)
    assert np.allclose(unnormalised.root_quat, m.root_quat)


def test_robot_motion_slice_reorder_resample():
    m = _motion(300)
    s = m.slice(10, 20, 2)
    assert s.num_frames == 5 and s.fps == 15 and np.array_equal(s.joint_pos, m.joint_pos[10:20:2])
    assert m[5:8].num_frames == 3
    names = list(reversed(G1_JOINT_NAMES))
    r = m.reorder(names)
    assert np.array_equal(r.joint_pos[:, 0], m.joint_pos[:, 28]) and r.joint("left_knee_joint").tolist() == \
        m.joint_pos[:, 3].tolist()
    assert np.array_equal(r.reorder(G1_JOINT_NAMES).joint_pos, m.joint_pos)
    with pytest.raises(MotionLabError, match="valid choices"):
        m.reorder(["left_knee"])
    up = m.resample(50)
    assert up.num_frames == 499 and up.fps == 50
    # output frame 1 is at t = 0.02 s = input frame 0.6
    assert np.allclose(up.joint_pos[1], 0.4 * m.joint_pos[0] + 0.6 * m.joint_pos[1])
    assert np.allclose(up.root_pos[1], 0.4 * m.root_pos[0] + 0.6 * m.root_pos[1])
    # FK of a motion resolves its joints by name
    pos, _ = g1_fk_motion(r)
    pos2, _ = g1_fk(m.root_pos, m.root_quat, m.joint_pos)
    assert np.allclose(pos, pos2)


def test_resample_slerps_root_quaternion():
    T = 4
    angles = np.array([0.0, 0.3, 0.9, 1.2])
    rq = axis_angle_to_quat(np.stack([np.zeros(T), np.zeros(T), angles], 1))
    m = RobotMotion(30, np.zeros((T, 3)), rq, np.zeros((T, 29)), extras={"label": np.arange(T)})
    up = m.resample(50)
    assert up.num_frames == 5  # arange(0, 0.1, 0.02)
    x = np.array([0, 0.6, 1.2, 1.8, 2.4])
    i0 = np.floor(x + 1e-9).astype(int)
    expected = angles[i0] + (x - i0) * (angles[np.minimum(i0 + 1, 3)] - angles[i0])
    got = 2 * np.arctan2(up.root_quat[:, 3], up.root_quat[:, 0])
    assert np.allclose(got, expected)
    assert up.extras["label"].tolist() == [0, 1, 1, 2, 2]


def test_robot_to_motion_reproduces_fk():
    from motionlab.robots.g1_fk import robot_to_motion

    m = _motion(7, seed=5)
    body = robot_to_motion(m.reorder(list(reversed(G1_JOINT_NAMES))))
    assert body.skeleton.names == list(G1_BODY_NAMES) or tuple(body.skeleton.names) == G1_BODY_NAMES
    pos, _ = g1_fk(m.root_pos, m.root_quat, m.joint_pos)
    assert np.abs(body.positions() - pos).max() < 1e-9


# -- MuJoCo bridge ---------------------------------------------------------------------------------
def test_mujoco_body_poses_by_name(reference_dir):
    pytest.importorskip("mujoco")
    from motionlab.robots.mujoco_model import body_poses, load_mjcf

    path = _mjcf(reference_dir)
    m = _motion(5, seed=3)
    shuffled = m.reorder(list(np.random.default_rng(0).permutation(G1_JOINT_NAMES)))
    names, pos, quat = body_poses(load_mjcf(path), shuffled, bodies=list(ISAAC_BODY_NAMES))
    fk_pos, fk_quat = g1_fk(m.root_pos, m.root_quat, m.joint_pos, order="isaac")
    assert names == list(ISAAC_BODY_NAMES)
    assert np.abs(pos - fk_pos).max() < 1e-9
    bad = RobotMotion(30, m.root_pos, m.root_quat, m.joint_pos[:, :1], joint_names=("elbow",))
    with pytest.raises(MotionLabError, match="valid choices"):
        body_poses(path, bad)


def test_mujoco_render_frames(reference_dir):
    pytest.importorskip("mujoco")
    from motionlab.robots.mujoco_model import render_frames

    m = RobotMotion(30, np.tile([0, 0, 0.793], (2, 1)), np.tile([1.0, 0, 0, 0], (2, 1)), np.zeros((2, 29)))
    try:
        frames = render_frames(_mjcf(reference_dir), m, width=64, height=48)
    except RuntimeError as e:
        pytest.skip(f"offscreen GL unavailable: {e}")
    assert frames.shape == (2, 48, 64, 3) and frames.dtype == np.uint8
    assert frames.std() > 1.0  # not a blank image
    assert np.array_equal(frames[0], frames[1])  # same pose, same camera
