"""The built-in synthetic corpus: determinism, physical plausibility, learnable structure, files."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import numpy as np
import pytest

from motionlab.core.body import UPPER_BODY
from motionlab.data.profile import profile_dataset
from motionlab.data.synth.corpus import generate_corpus, load_corpus
from motionlab.data.synth.locomotion import foot_points, generate_locomotion
from motionlab.data.synth.rig import BodyControls, build_motion, two_bone_ik
from motionlab.errors import MotionLabError

metrics = pytest.importorskip("motionlab.eval.metrics")


def _digest(root: Path, rel: str) -> str:
    return hashlib.sha256((root / rel).read_bytes()).hexdigest()


@pytest.fixture(scope="session")
def corpus(tmp_path_factory):
    pytest.importorskip("motionlab.io.npz")
    root = tmp_path_factory.mktemp("synth") / "tiny"
    generate_corpus(root, scale="tiny", seed=0)
    return root


@pytest.fixture(scope="session")
def manifest(corpus):
    return load_corpus(corpus)


def _clips(manifest, *kinds):
    return [e for e in manifest["clips"] if e["kind"] in kinds]


def _read_motion(path):
    from motionlab.io.npz import load_motion_npz

    return load_motion_npz(path)


# -- rig ------------------------------------------------------------------------------------------
def test_two_bone_ik_reaches_reachable_targets():
    rng = np.random.default_rng(0)
    u, v = np.array([0.0, 0.04, -0.39]), np.array([-0.03, -0.01, -0.41])
    root = np.zeros((50, 3))
    target = rng.normal(size=(50, 3))
    target = target / np.linalg.norm(target, axis=-1, keepdims=True) * rng.uniform(0.2, 0.75, size=(50, 1))
    R_up, R_mid, _ = two_bone_ik(root, target, u, v, hinge=np.array([0, 1.0, 0]), pole_local=np.array([1.0, 0, 0]),
                                 pole_world=np.tile([1.0, 0.3, 0.0], (50, 1)))
    end = root + np.einsum("tij,j->ti", R_up, u) + np.einsum("tij,j->ti", R_up @ R_mid, v)
    np.testing.assert_allclose(end, target, atol=1e-9)
    np.testing.assert_allclose(R_up @ np.swapaxes(R_up, -1, -2), np.tile(np.eye(3), (50, 1, 1)), atol=1e-12)


def test_standing_pose_puts_feet_flat_on_the_floor():
    m = build_motion(BodyControls.standing(2))
    pts = foot_points(m)
    assert abs(pts[..., 2, 2].min()) < 1e-9  # toe tips exactly on the floor
    np.testing.assert_allclose(pts[0, :, 0, 2], 0.08, atol=1e-9)  # ankles at the planned height


# -- locomotion -------------------------------------------------------------------------------------
@pytest.mark.parametrize("style", ["walk", "run", "turn", "curve", "side_step", "idle"])
def test_locomotion_does_not_skate_or_penetrate(style):
    for seed in range(3):
        m = generate_locomotion(np.random.default_rng(seed), style)
        pts = foot_points(m)  # (T, 2, 3 points, 3)
        feet = pts.reshape(m.num_frames, -1, 3)
        assert metrics.foot_skating_ratio(feet, m.fps) < 0.05
        pen = metrics.ground_penetration(feet)
        assert pen.fraction == 0.0 and pen.minimum > -0.01


def test_locomotion_is_deterministic_and_seed_dependent():
    a = generate_locomotion(np.random.default_rng(5), "walk")
    b = generate_locomotion(np.random.default_rng(5), "walk")
    c = generate_locomotion(np.random.default_rng(6), "walk")
    assert np.array_equal(a.local_quat, b.local_quat) and np.array_equal(a.root_pos, b.root_pos)
    assert a.num_frames != c.num_frames or not np.allclose(a.root_pos, c.root_pos)


def test_contacts_agree_with_foot_speed_and_speed_with_style():
    for style in ("walk", "run"):
        m = generate_locomotion(np.random.default_rng(1), style)
        pts = foot_points(m)[:, :, 1]  # foot joints
        speed = np.linalg.norm(np.gradient(pts[..., :2], axis=0), axis=-1) * m.fps
        c = m.extras["contacts"]
        assert 0.25 < c.mean() < 0.7
        assert np.median(speed[c]) < 0.05
        assert np.mean(speed[~c]) > 1.0
        soft = m.extras["soft_contacts"]
        assert soft.min() >= 0 and soft.max() <= 1
        assert soft[c].mean() > 0.6 and soft[~c].mean() < 0.3
        phase = m.extras["gait_phase"]
        assert phase.min() >= 0 and phase.max() < 1
        root_speed = np.linalg.norm(np.diff(m.root_pos[:, :2], axis=0), axis=-1).mean() * m.fps
        assert abs(root_speed - m.meta["speed"]) < 0.25 * m.meta["speed"]
    idle = generate_locomotion(np.random.default_rng(1), "idle")
    assert idle.extras["contacts"].all()


def test_unknown_style_is_a_clear_error():
    with pytest.raises(MotionLabError, match="hop"):
        generate_locomotion(np.random.default_rng(0), "hop")


# -- corpus: determinism ----------------------------------------------------------------------------
def test_same_seed_gives_byte_identical_files(corpus, tmp_path):
    # a second generation with the same seed (a subset: its clips are the full corpus's clips)
    sub = generate_corpus(tmp_path / "a", seed=0, clips_per_kind=1)
    full = {e["id"]: e for e in json.loads((corpus / "manifest.json").read_text())["clips"]}
    kinds = {e["kind"] for e in sub["clips"]}
    assert kinds == {"locomotion", "talking", "listening", "dyadic"}
    for e in sub["clips"]:
        for rel in e["files"].values():
            assert _digest(tmp_path / "a", rel) == _digest(corpus, rel), rel
        assert full[e["id"]]["caption"] == e["caption"]


def test_different_seeds_differ(corpus, tmp_path):
    other = generate_corpus(tmp_path / "s1", seed=1, clips_per_kind=1)
    for e in other["clips"]:
        for kind in ("human", "robot", "keypoints_real"):
            rel = e["files"][kind]
            assert _digest(tmp_path / "s1", rel) != _digest(corpus, rel), rel


def test_bad_arguments_are_clear_errors(tmp_path):
    with pytest.raises(MotionLabError, match="huge"):
        generate_corpus(tmp_path, scale="huge")
    with pytest.raises(MotionLabError, match="seed"):
        generate_corpus(tmp_path, seed=-1)
    with pytest.raises(MotionLabError, match="manifest"):
        load_corpus(tmp_path)


# -- corpus: contents -------------------------------------------------------------------------------
def test_manifest_covers_kinds_splits_and_pairs(manifest):
    clips = manifest["clips"]
    assert 24 <= len(clips) <= 40
    kinds = {e["kind"] for e in clips}
    assert kinds == {"locomotion", "talking", "listening", "dyadic"}
    styles = {e["style"] for e in _clips(manifest, "locomotion")}
    assert styles == {"idle", "walk", "run", "turn", "curve", "side_step"}
    assert {e["split"] for e in clips} == {"train", "val", "test"}
    pairs = {}
    for e in _clips(manifest, "dyadic"):
        pairs.setdefault(e["pair"], []).append(e)
    assert len(pairs) >= 4
    for members in pairs.values():
        assert len(members) == 2 and members[0]["split"] == members[1]["split"]
        assert members[0]["partner"] == members[1]["id"]
        assert members[0]["files"]["partner_audio"] == members[1]["files"]["audio"]
    for e in clips:
        assert e["fps"] == 30.0 and abs(e["duration"] - e["frames"] / 30.0) < 1e-6
        assert 4.0 <= e["duration"] <= 8.1


def test_captions_for_every_clip(corpus, manifest):
    caps = json.loads((corpus / "captions.json").read_text())
    assert set(caps) == {e["id"] for e in manifest["clips"]}
    for e in manifest["clips"]:
        assert e["caption"] and caps[e["id"]] == e["caption"]
        if e["style"] in ("walk", "turn", "curve") and e["meta"]["gait"] == "walk":
            assert "walks" in e["caption"]
        if e["style"] == "run":
            assert "runs" in e["caption"]
        if e["style"] == "turn":
            side = "left" if e["meta"]["turn"] > 0 else "right"
            assert f"turns {side}" in e["caption"] or f"turns sharply {side}" in e["caption"]
        if e["kind"] == "talking" and "big" in [w[2] for w in e["meta"]["words"]]:
            assert "spreading their arms on 'big'" in e["caption"]


def test_corpus_locomotion_metrics(manifest):
    for e in _clips(manifest, "locomotion"):
        m = _read_motion(e["files"]["human"])
        feet = foot_points(m).reshape(m.num_frames, -1, 3)
        assert metrics.foot_skating_ratio(feet, m.fps) < 0.05, e["id"]
        assert metrics.ground_penetration(feet).fraction == 0.0, e["id"]


def test_g1_clips_inside_official_limits(manifest):
    from motionlab.io.g1 import read_beyondmimic_npz, read_unitree_csv
    from motionlab.robots.g1 import limit_violations

    for e in manifest["clips"]:
        r = read_unitree_csv(e["files"]["robot"])
        assert r.num_frames == e["frames"] if hasattr(r, "num_frames") else len(r.joint_pos) == e["frames"]
        assert limit_violations(r.joint_pos, tol=1e-6)[0] == 0.0, e["id"]
        bm = read_beyondmimic_npz(e["files"]["robot_beyondmimic"])
        assert limit_violations(bm.joint_pos, tol=1e-6)[0] == 0.0, e["id"]
        assert 0.6 < float(np.median(r.root_pos[:, 2])) < 0.82  # G1 pelvis height scale


def test_g1_mapping_rarely_needs_the_clamp_and_follows_the_body(manifest):
    """The written clips are clamped; the analytic angles themselves should already be (nearly) inside
    the limits, and the G1 knees should bend when the body's knees bend."""
    from motionlab.core.rotations import geodesic_angle
    from motionlab.data.synth.robot import body_to_g1
    from motionlab.robots.g1 import joint_index, limit_violations

    for e in manifest["clips"]:
        if e["kind"] != "locomotion":
            continue
        m = _read_motion(e["files"]["human"])
        raw = body_to_g1(m, clamp=False)
        frac, excess = limit_violations(raw.joint_pos)
        assert frac < 0.05 and excess.max() < 0.2, (e["id"], frac, excess.max())
        if e["style"] in ("walk", "run"):
            L = m.local_matrices()
            human_knee = geodesic_angle(np.eye(3), L[:, m.skeleton.index("left_knee")])
            g1_knee = raw.joint_pos[:, joint_index("left_knee_joint")]
            assert np.corrcoef(human_knee, g1_knee)[0, 1] > 0.9, e["id"]


def _bc_inputs(manifest):
    from motionlab.io.audio import read_audio

    clips = _clips(manifest, "talking", "dyadic")
    pos, ons = [], []
    for e in clips:
        m = _read_motion(e["files"]["human"])
        pos.append(m.positions())
        y, sr = read_audio(e["files"]["audio"])
        ons.append(metrics.audio_onsets(y, sr))
    joints = m.skeleton.indices(UPPER_BODY)
    speeds = np.concatenate([np.linalg.norm(np.gradient(p, axis=0), axis=-1) * 30.0 for p in pos])
    return pos, ons, joints, speeds.mean(axis=0)


def test_gesture_beats_follow_audio_onsets_far_above_shuffled(manifest):
    pos, ons, joints, mean_speed = _bc_inputs(manifest)
    n = len(pos)
    true, shuffled, frames = [], [], []
    for i in range(n):
        bc = metrics.beat_consistency(pos[i], 30.0, ons[i], joints, threshold=0.3, mean_speed=mean_speed)
        for k in (1, 2, 3):
            j = (i + k) % n
            T = min(len(pos[i]), len(pos[j]))
            shuffled.append(metrics.beat_consistency(pos[j][:T], 30.0, ons[i], joints, threshold=0.3,
                                                     mean_speed=mean_speed))
        true.append(bc)
        frames.append(len(pos[i]))
    true_bc = metrics.frame_weighted_mean(np.array(true), np.array(frames))
    shuf_bc = float(np.nanmean(shuffled))
    assert true_bc > 0.5
    assert true_bc > shuf_bc + 0.15, (true_bc, shuf_bc)


def test_listening_motion_lags_the_partner_voice(manifest):
    from motionlab.io.audio import read_audio

    for e in _clips(manifest, "listening"):
        m = _read_motion(e["files"]["human"])
        y, sr = read_audio(e["files"]["partner_audio"])
        onsets = metrics.audio_onsets(y, sr)
        head = m.positions()[:, m.skeleton.index("head")]
        speed = np.linalg.norm(np.gradient(head, axis=0), axis=-1) * m.fps
        speed = speed - speed.mean()
        events = np.zeros(m.num_frames)
        idx = np.round(onsets * m.fps).astype(int)
        events[idx[idx < m.num_frames]] = 1.0
        lags = np.arange(-30, 46)  # frames: the reaction's peak must come after the voice
        score = [np.dot(events[max(0, -k):m.num_frames - max(0, k)], speed[max(0, k):m.num_frames - max(0, -k)])
                 for k in lags]
        best = lags[int(np.argmax(score))] / m.fps
        assert 0.15 <= best <= 1.0, (e["id"], best)
        assert abs(best - (e["meta"]["lag"] + 0.25)) < 0.3, (e["id"], best, e["meta"]["lag"])


def test_every_file_reads_back(manifest):
    from motionlab.io.formats import read_file

    for e in manifest["clips"]:
        human = None
        for kind, path in sorted(e["files"].items()):
            if kind.startswith("camera_"):
                data = np.load(path)
                assert data["R"].shape == (e["frames"], 3, 3) and data["points3d"].shape == (e["frames"], 17, 3)
                continue
            fmt, obj = read_file(path)
            if kind == "human":
                human = obj
                assert obj.num_frames == e["frames"] and obj.skeleton.num_joints == 22
            elif kind == "bvh":
                ref = _read_motion(e["files"]["human"])
                order = obj.skeleton.indices(ref.skeleton.names)  # joint order resolved by name
                np.testing.assert_allclose(obj.positions()[:, order], ref.positions(), atol=1e-4)
            elif kind.startswith("keypoints"):
                assert obj.num_frames == e["frames"]
        assert human is not None


def test_synthetic_keypoints_are_clean_projections(manifest):
    from motionlab.io.keypoints import read_keypoints

    e = _clips(manifest, "locomotion")[0]
    cam = np.load(e["files"]["camera_synthetic"])
    kp = read_keypoints(e["files"]["keypoints_synthetic"])
    X = cam["points3d"]
    x_cam = np.einsum("tij,tnj->tni", cam["R"], X - cam["C"][:, None])
    uv = x_cam[..., :2] / x_cam[..., 2:] * np.diag(cam["K"])[:2] + cam["K"][:2, 2]
    np.testing.assert_allclose(kp.xy, uv, atol=1e-6)
    assert (kp.conf == 1).all()
    real = read_keypoints(e["files"]["keypoints_real"])
    assert (real.conf < 1).any() and real.conf.min() < 0.1


def test_profile_counts(corpus, manifest):
    prof = profile_dataset(corpus)
    assert prof["clips"] == prof["motion_clips"] == len(manifest["clips"])
    assert prof["frames"] == sum(e["frames"] for e in manifest["clips"])
    assert prof["kinds"]["dyadic"] >= 8 and prof["styles"]["walk"] == 2
    assert prof["root_speed_mps"]["max"] > 2.0 and prof["root_speed_mps"]["p50"] < 1.5
    assert prof["yaw_rate_degps"]["max"] > np.degrees(0.2)
    assert set(prof["splits"]) == {"train", "val", "test"}
