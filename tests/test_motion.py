"""The Motion container: resampling values, slicing, validation, velocities and foot contacts."""

from __future__ import annotations

import numpy as np
import pytest

from motionlab.core.body import smpl22_skeleton
from motionlab.core.motion import Motion
from motionlab.core.resample import resample_times
from motionlab.core.rotations import axis_angle_to_quat, quat_geodesic_angle, quat_to_axis_angle
from motionlab.core.skeleton import Skeleton
from motionlab.errors import MotionLabError

SK = smpl22_skeleton()
J = SK.num_joints


def wrapped(a: np.ndarray) -> np.ndarray:
    return np.angle(np.exp(1j * a))


def clip(T: int = 300, fps: float = 30.0, **kw) -> Motion:
    k = np.arange(T, dtype=np.float64)
    root = np.stack([k**2 / 100.0, np.sin(k / 10.0), 0.9 + 0.01 * k], axis=-1)
    aa = np.zeros((T, J, 3))
    aa[:, 0, 2] = 0.02 * k  # root yaws at a constant 0.6 rad/s
    aa[:, 4, 1] = 0.5  # a constant bent left knee
    return Motion(fps, SK, root, axis_angle_to_quat(aa), **kw)


def test_resample_30_to_50_values():
    m = clip(extras={"phase": np.arange(300.0), "label": np.arange(300) % 7,
                     "g1_root_quat": axis_angle_to_quat(np.stack([np.zeros(300), np.zeros(300), 0.01 * np.arange(300)], -1))})
    out = m.resample(50)
    assert out.num_frames == 499 and out.fps == 50.0
    times = np.arange(499) / 50.0  # BeyondMimic: arange(0, (N-1)/fps_in, 1/fps_out)
    assert np.allclose(resample_times(300, 30, 50), times)
    x = times * 30.0
    for axis in range(3):  # linear interpolation of positions
        assert np.allclose(out.root_pos[:, axis], np.interp(x, np.arange(300), m.root_pos[:, axis]), atol=1e-9)
    # slerp of a constant-speed rotation is exact: yaw = 0.02 * frame
    assert np.allclose(wrapped(quat_to_axis_angle(out.local_quat[:, 0])[:, 2] - 0.02 * x), 0.0, atol=1e-9)
    assert np.allclose(out.local_quat[:, 4], m.local_quat[0, 4], atol=1e-12)
    assert np.allclose(out.extras["phase"], x, atol=1e-9)  # float extras: lerp
    assert np.array_equal(out.extras["label"], (np.round(x).astype(int)) % 7)  # integer extras: nearest
    assert np.allclose(wrapped(quat_to_axis_angle(out.extras["g1_root_quat"])[:, 2] - 0.01 * x), 0.0, atol=1e-9)  # "*quat": slerp
    assert out.duration <= m.duration


def test_resample_same_rate_and_down():
    m = clip(T=61, extras={"phase": np.arange(61.0)})
    same = m.resample(30)
    assert same.num_frames == 61 and np.array_equal(same.root_pos, m.root_pos)
    same.extras["new"] = np.zeros(61)
    assert "new" not in m.extras  # copies do not share their extras dict
    down = m.resample(10)
    assert down.num_frames == 20  # times 0, 0.1, ..., 1.9 (2.0 = the last frame is not reached exactly)
    assert np.allclose(down.root_pos, m.root_pos[0:60:3])
    with pytest.raises(MotionLabError, match="positive"):
        m.resample(0)


def test_slicing():
    m = clip(T=100, extras={"phase": np.arange(100.0)}, joint_pos=np.full((100, J, 3), np.nan))
    s = m[10:50]
    assert s.num_frames == 40 and s.fps == 30.0
    assert np.array_equal(s.root_pos, m.root_pos[10:50]) and np.array_equal(s.extras["phase"], np.arange(10.0, 50.0))
    assert s.joint_pos.shape == (40, J, 3)
    s2 = m.slice(0, 100, 2)
    assert s2.fps == 15.0 and s2.num_frames == 50 and np.array_equal(s2.local_quat, m.local_quat[::2])
    s.root_pos[0] = 99.0
    assert m.root_pos[10, 0] != 99.0  # slices are copies
    with pytest.raises(MotionLabError, match="step"):
        m[::-1]
    assert len(m[5:5]) == 0  # an empty clip is representable


def test_validation_errors():
    T = 5
    q = np.tile([1.0, 0, 0, 0], (T, J, 1))
    bad = np.zeros((T, 3))
    bad[3, 1] = np.nan
    with pytest.raises(MotionLabError, match="frame 3"):
        Motion(30, SK, bad, q)
    q_bad = q.copy()
    q_bad[2, 5] = np.inf
    with pytest.raises(MotionLabError, match="frame 2"):
        Motion(30, SK, np.zeros((T, 3)), q_bad)
    q_zero = q.copy()
    q_zero[4, 0] = 0.0
    with pytest.raises(MotionLabError, match="frame 4"):
        Motion(30, SK, np.zeros((T, 3)), q_zero)
    with pytest.raises(MotionLabError, match="local_quat"):
        Motion(30, SK, np.zeros((T, 3)), q[:, :-1])
    with pytest.raises(MotionLabError, match="root_pos"):
        Motion(30, SK, np.zeros((T, 2)), q)
    with pytest.raises(MotionLabError, match="root_pos"):
        Motion(30, SK, np.zeros(()), q)
    with pytest.raises(MotionLabError, match="fps"):
        Motion(0, SK, np.zeros((T, 3)), q)
    with pytest.raises(MotionLabError, match="frames"):
        Motion(30, SK, np.zeros((T, 3)), q, extras={"x": np.zeros(T + 1)})
    with pytest.raises(MotionLabError, match="joint_pos"):
        Motion(30, SK, np.zeros((T, 3)), q, joint_pos=np.zeros((T, J)))


def test_positions_velocities_and_rotations():
    m = clip(T=20)
    pos, rot = m.fk()
    assert np.allclose(m.positions(), SK.fk(m.local_matrices(), m.root_pos)[0])
    assert np.allclose(pos[:, 0], m.root_pos)
    # a pure translation at constant velocity: every joint moves at that velocity
    T = 10
    walk = Motion(50, SK, np.outer(np.arange(T), [0.02, 0.0, 0.0]), np.tile([1.0, 0, 0, 0], (T, J, 1)))
    assert np.allclose(walk.velocities(), [1.0, 0.0, 0.0])
    again = m.with_rotations(rot_local := m.local_matrices())
    assert np.allclose(again.local_matrices(), rot_local)
    assert np.all(quat_geodesic_angle(again.local_quat, m.local_quat) < 1e-9)


def test_foot_contacts_by_hand():
    sk = Skeleton(["root", "foot"], [-1, 0], [[0, 0, 0], [0, 0, -1.0]])
    T = 8
    root = np.zeros((T, 3))
    root[:, 2] = [1.0, 1.0, 1.0, 1.0, 1.2, 1.2, 1.0, 1.0]  # foot lifted 0.2 m on frames 4-5
    root[6:, 0] = [0.0, 1.0]  # frames 6-7: a 1 m jump in one frame (30 m/s)
    m = Motion(30, sk, root, np.tile([1.0, 0, 0, 0], (T, 2, 1)))
    c = m.foot_contacts(["foot"], height=0.05, speed=0.5)
    # speeds (central differences * 30): z moves 0.2 between frames 3-4 and 5-6 -> frames 3..6 fast;
    # x jumps between 6 and 7 -> frames 5..7 fast
    expected = np.array([1, 1, 1, 0, 0, 0, 0, 0], dtype=bool)
    assert c.shape == (T, 1) and np.array_equal(c[:, 0], expected)
    # a floor given explicitly: everything is 1 m above a floor at -1
    assert not m.foot_contacts(["foot"], floor=-1.0).any()
    with pytest.raises(MotionLabError, match="valid choices"):
        m.foot_contacts(["left_toe"])


def test_extras_resample_the_same_way_in_human_and_robot_clips():
    """One rule for extras (core.resample.resample_extras): quaternions slerped, floats lerped,
    labels at the nearest frame, a "...quat" array that is not quaternions lerped."""
    from motionlab.core.body import smpl22_skeleton
    from motionlab.core.motion import Motion
    from motionlab.robots.motion import RobotMotion

    T = 31
    extras = {
        "contacts": (np.arange(T) % 10 < 5),
        "score": np.linspace(0.0, 1.0, T),
        "hand_quat": np.tile([1.0, 0.0, 0.0, 0.0], (T, 1)),
        "odd_quat": np.zeros((T, 3)),  # named like quaternions, but 3 wide: interpolated linearly
    }
    human = Motion(30, smpl22_skeleton(), np.zeros((T, 3)), np.tile([1.0, 0, 0, 0], (T, 22, 1)),
                   extras={k: v.copy() for k, v in extras.items()})
    robot = RobotMotion(30, np.zeros((T, 3)), np.tile([1.0, 0, 0, 0], (T, 1)), np.zeros((T, 29)),
                        extras={k: v.copy() for k, v in extras.items()})
    a, b = human.resample(60), robot.resample(60)
    for k in extras:
        np.testing.assert_array_equal(a.extras[k], b.extras[k])
    assert a.extras["contacts"].dtype == bool and a.extras["odd_quat"].shape[1:] == (3,)
    np.testing.assert_allclose(a.extras["score"][1], 0.5 / 30)  # halfway between frames 0 and 1
    same = human.resample(30)
    same.extras["score"][0] = 99.0
    assert human.extras["score"][0] == 0.0  # a same-rate copy does not share its arrays' dict
