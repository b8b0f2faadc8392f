"""The planted-feet post-process of the retargeter (``recipes/retarget/contacts.py``): leg IK that
holds the human's planted feet in the world, inside the G1 limits."""

from __future__ import annotations

import numpy as np
import pytest

from motionlab.robots.g1 import G1_LOWER, G1_UPPER


def test_chain_fk_matches_full_fk():
    from motionlab.core.rotations import quat_to_matrix
    from motionlab.errors import MotionLabError
    from motionlab.robots.g1_fk import g1_chain_fk, g1_fk

    rng = np.random.default_rng(0)
    q = rng.uniform(G1_LOWER, G1_UPPER, size=(7, 29))
    rp = rng.normal(size=(7, 3))
    rq = rng.normal(size=(7, 4))
    rq /= np.linalg.norm(rq, axis=1, keepdims=True)
    pos, rot = g1_fk(rp, rq, q, as_matrix=True)
    bodies = tuple(range(1, 13))
    p, r = g1_chain_fk(rp, np.asarray(quat_to_matrix(rq)), q, bodies)
    np.testing.assert_allclose(p, pos[:, list(bodies)], atol=1e-12)
    np.testing.assert_allclose(r, rot[:, list(bodies)], atol=1e-12)
    with pytest.raises(MotionLabError, match="parent"):
        g1_chain_fk(rp, np.asarray(quat_to_matrix(rq)), q, (2, 1))


def test_pin_runs_extend_while_low_and_stop_halfway():
    from motionlab.recipes.retarget.contacts import contact_runs, pin_runs

    contact = np.zeros(20, bool)
    contact[3:6] = True
    contact[12:15] = True
    assert contact_runs(contact) == [(3, 6), (12, 15)]
    low = np.ones(20, bool)  # the robot's sole never leaves the ground: runs meet halfway, never merge
    assert pin_runs(contact, low) == [(0, 9), (9, 20)]
    low[:] = False
    low[6:8] = True  # low for two frames after the first contact
    assert pin_runs(contact, low) == [(3, 8), (12, 15)]


def test_targets_ease_in_and_out_and_from_one_anchor_to_the_next():
    from motionlab.recipes.retarget.contacts import foot_targets

    T = 30
    sole = np.zeros((T, 2, 3))
    sole[:, 0, 0] = np.linspace(0.0, 0.6, T)  # the network lets the left foot drift 2 cm a frame
    heading = np.zeros((T, 2))
    runs = [[(5, 15), (15, 25)], []]  # two runs that meet: anchors 0.19 m apart
    target, th, weight = foot_targets(sole, heading, runs, blend=3)
    assert (weight[:, 1] == 0).all() and np.allclose(target[:, 1], sole[:, 1])
    assert weight[0, 0] == 0 and weight[5:25, 0].min() == 1.0 and 0 < weight[3, 0] < 1
    np.testing.assert_allclose(target[8:12, 0, 0], sole[5:15, 0, 0].mean())  # held still inside a run
    np.testing.assert_allclose(target[..., 2], sole[..., 2])  # height left free
    step = np.abs(np.diff(target[:, 0, 0]))
    assert step.max() < 0.5 * (sole[15:25, 0, 0].mean() - sole[5:15, 0, 0].mean())  # no jump where runs meet
    assert np.allclose(th, 0.0)


def test_leg_ik_reaches_a_reachable_foot_pose_inside_the_limits():
    from motionlab.core.rotations import quat_to_matrix
    from motionlab.data.features import heading_yaw
    from motionlab.recipes.retarget.contacts import FOOT_BODIES, SOLE_CENTRE, leg_ik
    from motionlab.robots.g1_fk import g1_chain_fk

    rng = np.random.default_rng(1)
    T = 50
    mid, half = 0.5 * (G1_LOWER + G1_UPPER), 0.5 * (G1_UPPER - G1_LOWER)
    truth = mid + 0.3 * half * rng.uniform(-1, 1, size=(T, 29))
    start = np.clip(truth + rng.normal(0, 0.08, size=(T, 29)) * (np.arange(29) < 12), G1_LOWER, G1_UPPER)
    rp = np.tile([0.0, 0.0, 0.79], (T, 1))
    rq = np.tile([1.0, 0.0, 0.0, 0.0], (T, 1))

    def feet(q):
        p, r = g1_chain_fk(rp, np.asarray(quat_to_matrix(rq)), q, tuple(range(1, 13)))
        idx = np.array(FOOT_BODIES) - 1
        return p[:, idx] + np.einsum("tfij,j->tfi", r[:, idx], SOLE_CENTRE), heading_yaw(r[:, idx])

    target, heading = feet(truth)
    active = np.ones((T, 2), bool)
    active[:10, 1] = False  # a free leg keeps its joints
    res = leg_ik(rp, rq, start, target, heading, active, iters=6, prior=0.0)
    got, got_heading = feet(res.joint_pos)
    err = np.linalg.norm(got - target, axis=-1)
    assert err[active].max() < 1e-3 and res.foot_error_mm < 1.0
    assert np.abs(np.angle(np.exp(1j * (got_heading - heading))))[active].max() < 1e-3
    assert (res.joint_pos >= G1_LOWER - 1e-12).all() and (res.joint_pos <= G1_UPPER + 1e-12).all()
    np.testing.assert_array_equal(res.joint_pos[:10, 6:12], start[:10, 6:12])
    np.testing.assert_array_equal(res.joint_pos[:, 12:], start[:, 12:])  # waist and arms untouched


def _pair(clip_id: str):
    from motionlab.data.sources import builtin_corpus, read_manifest
    from motionlab.io.formats import read_file
    from motionlab.recipes.retarget.tool import _to_smpl22, read_human_file

    root = builtin_corpus("tiny", 0)
    clip = next(c for c in read_manifest(root) if c.id == clip_id)
    human = _to_smpl22(read_human_file(clip.files["human"]))
    _, robot = read_file(clip.files["robot"])
    robot = robot.resample(human.fps)
    T = min(robot.num_frames, human.num_frames)
    return human.slice(0, T), robot.slice(0, T)


def _soles(robot):
    from motionlab.recipes.retarget.root import g1_soles
    from motionlab.robots.g1_fk import g1_fk

    soles = g1_soles(*g1_fk(robot.root_pos, robot.root_quat, robot.joint_pos, order="isaac"))
    feet = soles.mean(axis=2)  # (T, 2, 3) sole centres, height of the lowest sole point
    feet[..., 2] = soles[..., 2].min(axis=2)
    return feet


@pytest.mark.parametrize("clip_id", ["loco_00001_walk", "loco_00003_turn", "loco_00009_turn"])
def test_planted_human_feet_give_robot_soles_that_do_not_slide(clip_id):
    """A walk / turn whose ground-truth G1 joints are disturbed the way a network errs (slow hip
    pitch and yaw drifts, 0.1 rad): the planted feet slide without the leg IK and stay put with it,
    skating no more than the ground truth's (within 1 point), inside the limits."""
    from motionlab.eval.metrics import foot_skating_ratio
    from motionlab.recipes.retarget.contacts import human_contacts
    from motionlab.recipes.retarget.root import assemble_robot_motion
    from motionlab.robots.g1 import clamp_to_limits

    human, gt = _pair(clip_id)
    t = np.arange(human.num_frames) / human.fps
    q = gt.joint_pos.copy()
    q[:, [0, 6]] += 0.12 * np.sin(2 * np.pi * t / 1.1)[:, None]
    q[:, [2, 8]] += 0.1 * np.sin(2 * np.pi * t / 1.7 + 1.0)[:, None]
    q = clamp_to_limits(q)
    planted = human_contacts(human)
    assert 0.2 < planted.mean() < 0.9
    step = planted[1:] & planted[:-1]
    gt_feet = _soles(gt)
    gt_feet[..., 2] -= gt_feet[..., 2].min()
    gt_skate = foot_skating_ratio(gt_feet, human.fps)
    out = {}
    for contacts in (False, True):
        robot, info = assemble_robot_motion(human, q, contacts=contacts)
        feet = _soles(robot)
        speed = np.linalg.norm(np.diff(feet[..., :2], axis=0), axis=-1) * human.fps  # (T-1, 2) m/s
        out[contacts] = (foot_skating_ratio(feet, human.fps), speed[step].mean(), robot, info)
    skate, speed, robot, info = out[True]
    assert skate <= gt_skate + 0.01
    assert speed < 0.03 and speed < 0.4 * out[False][1]  # planted soles move a few mm/s at most
    assert info["contact_frames"] >= planted.mean() and info["contact_foot_error_mm"] < 10.0
    assert (robot.joint_pos >= G1_LOWER).all() and (robot.joint_pos <= G1_UPPER).all()
    np.testing.assert_array_equal(robot.joint_pos[:, 12:], q[:, 12:])  # waist and arms untouched
    # the legs stay close to what they were given (the IK moves them a little, not to new poses)
    assert np.abs(robot.joint_pos - gt.joint_pos).mean() < np.abs(q - gt.joint_pos).mean() + 0.01
    lowest = _soles(robot)[..., 2].min(axis=1)
    assert abs(lowest.min()) < 1e-6 and np.quantile(lowest, 0.5) < 0.01  # on the floor, not in it


def test_human_root_path_with_planted_feet_and_bad_root_mode():
    """``infer.root: human`` keeps the scaled human root path exactly; the leg IK alone then holds the
    planted feet. An unknown root mode is one clear error listing the valid ones."""
    from motionlab.errors import MotionLabError
    from motionlab.eval.metrics import foot_skating_ratio
    from motionlab.recipes.retarget.root import assemble_robot_motion

    human, gt = _pair("loco_00009_turn")
    q = gt.joint_pos.copy()
    q[:, [2, 8]] += 0.1 * np.sin(2 * np.pi * np.arange(len(q)) / human.fps / 1.7)[:, None]  # hip yaw lag
    robot, info = assemble_robot_motion(human, q, root="human")
    np.testing.assert_allclose(robot.root_pos[:, :2], info["scale"] * human.fk()[0][:, 0, :2], atol=1e-9)
    assert foot_skating_ratio(_soles(robot), human.fps) <= 0.01
    with pytest.raises(MotionLabError, match="valid choices: human, stance"):
        assemble_robot_motion(human, q, root="feet")
