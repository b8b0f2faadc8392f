"""Predictor config checks (errors that list the valid choices, the guide's warnings), the teacher-forcing
schedule, the state features, adaptive weights inside the recipe, and the prediction metrics on hand-computed
cases."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from motionlab.config import load_config
from motionlab.errors import MotionLabError
from motionlab.eval import metrics as M
from motionlab.recipes.predictor.config import PredictorConfig
from motionlab.recipes.predictor.schedule import teacher_forcing_ratio, validate_config

TINY = Path(__file__).resolve().parents[1] / "src" / "motionlab" / "configs" / "predictor" / "tiny.yaml"


def _cfg(*overrides):
    return load_config(PredictorConfig, TINY, list(overrides))


def test_tiny_schedule_is_clean():
    assert [w for w in validate_config(_cfg()) if "freerun_weight" in w] == []


def test_stage_past_epochs_is_an_error():
    with pytest.raises(MotionLabError, match="past train.max_epochs=10"):
        validate_config(_cfg("train.max_epochs=10"))


def test_unknown_loss_term_lists_valid_ones():
    cfg = _cfg()
    cfg.freerun_stage_schedule[1].loss_groups["core"]["w_foot_fixed"] = 0.1
    with pytest.raises(MotionLabError, match="unknown loss weight 'w_foot_fixed'; valid choices: .*w_fk_pos"):
        validate_config(cfg)
    cfg = _cfg()
    cfg.freerun_stage_schedule[0].loss_groups["extra"] = {"w_fk_pos": 1.0}
    with pytest.raises(MotionLabError, match="unknown loss group 'extra'; valid choices: aux, core, long"):
        validate_config(cfg)
    with pytest.raises(MotionLabError, match="unknown loss term 'foot'"):
        validate_config(_cfg("train.adaptive.method=dwa", "train.adaptive.terms=[foot]"))


def test_unknown_adaptive_method_and_tf_mode():
    with pytest.raises(MotionLabError, match="valid choices: dwa, fixed, gradnorm, none, uncertainty"):
        validate_config(_cfg("train.adaptive.method=magic"))
    with pytest.raises(MotionLabError, match="valid choices: constant, epoch_linear, step_linear"):
        validate_config(_cfg("train.tf_mode=cosine"))


def test_unknown_noise_part_and_freerun_measure():
    with pytest.raises(MotionLabError, match="valid choices: all, pose"):
        validate_config(_cfg("train.noise_parts=phase"))
    with pytest.raises(MotionLabError, match="valid choices: motion, state"):
        validate_config(_cfg("loss.freerun_measure=mse"))


def test_phase_advance_and_harmonics():
    from motionlab.recipes.predictor.model import PHASE, MotionStepper

    m = MotionStepper(hidden=32, latent=32, phase_advance=True, phase_harmonics=3, fps=30.0)
    m.stats_mean[PHASE] = torch.tensor([0.1, -0.2, 0.5])
    m.stats_std[PHASE] = torch.tensor([0.6, 0.7, 0.4])
    phi, w, f = 0.3, 0.8, 1.5  # rad, confidence, Hz
    raw = torch.tensor([w * np.sin(phi), w * np.cos(phi), w * f], dtype=torch.float32)
    norm = (raw - m.stats_mean[PHASE]) / m.stats_std[PHASE]
    out = m.advance_phase(norm) * m.stats_std[PHASE] + m.stats_mean[PHASE]
    nxt = phi + 2 * np.pi * f / 30.0
    assert torch.allclose(out, torch.tensor([w * np.sin(nxt), w * np.cos(nxt), w * f], dtype=torch.float32), atol=1e-5)
    h = m.harmonics(norm)
    k = np.arange(1, 4)
    assert torch.allclose(h, torch.tensor(np.r_[w * np.sin(k * phi), w * np.cos(k * phi)], dtype=torch.float32),
                          atol=1e-5)
    x = torch.zeros(5, 141)
    o = m(x, x, torch.zeros(5, 6))
    assert o["next"].shape == (5, 141) and torch.isfinite(o["next"]).all()  # a standing phase (w = 0) stays finite


def test_phase_rate_from_the_commanded_velocity_and_control_clip():
    from motionlab.recipes.predictor.model import PHASE, MotionStepper

    torch.manual_seed(0)
    m = MotionStepper(hidden=32, latent=32, phase_advance=True, phase_harmonics=2, phase_rate="speed",
                      control_clip=2.0)
    with torch.no_grad():
        m.stats_std[PHASE] = torch.tensor([0.6, 0.7, 0.4])
    x, c = torch.randn(8, 141), torch.randn(8, 6).clamp(-1.5, 1.5)

    def rate(o):  # f = (w f) / w of the predicted soft phase (Hz)
        raw = o["next"][..., PHASE] * m.stats_std[PHASE] + m.stats_mean[PHASE]
        return raw[..., 2] / raw[..., 0:2].norm(dim=-1)

    turned = c.clone()
    turned[:, 2] = 9.0  # a yaw-rate command far beyond the clip
    o, o_turn, o_state = m(x, x, c), m(x, x, turned), m(x + 0.5 * torch.randn_like(x), x, c)
    assert torch.allclose(rate(o), rate(o_turn), atol=1e-5) and torch.allclose(rate(o), rate(o_state), atol=1e-5)
    faster = c.clone()
    faster[:, 0] += 1.0
    assert not torch.allclose(rate(o), rate(m(x, x, faster)), atol=1e-4)
    # beyond the clip the network reads the same command; the yaw-rate output still adds the full one
    at_clip = c.clone()
    at_clip[:, 2] = 2.0
    a, b = m(x, x, turned)["next"], m(x, x, at_clip)["next"]
    assert torch.allclose(a[:, 3] - b[:, 3], torch.full((8,), 7.0), atol=1e-5)
    assert torch.allclose(a[:, 4:], b[:, 4:], atol=1e-6) and torch.allclose(a[:, :3], b[:, :3], atol=1e-6)
    y = x.clone()
    y[:, 3] = 9.0  # so does the encoder for the state's own yaw rate
    assert torch.allclose(m.encoder(y, x), m.encoder(torch.cat([y[:, :3], torch.full((8, 1), 2.0), y[:, 4:]], 1), x))
    with pytest.raises(MotionLabError, match="valid choices: absolute, residual, speed"):
        validate_config(_cfg("model.phase_rate=fixed"))
    with pytest.raises(MotionLabError, match="control_clip must be >= 0"):
        validate_config(_cfg("model.control_clip=-1"))


def test_cli_reports_a_bad_schedule(tmp_path, capsys):
    from motionlab.cli import main

    code = main(["train", "predictor", "train.max_epochs=5", "--run-dir", str(tmp_path / "r")])
    assert code == 2
    assert "past train.max_epochs=5" in capsys.readouterr().err


def test_guide_rules_are_warnings():
    cfg = _cfg()
    st = cfg.freerun_stage_schedule
    st[1].trainer["freerun_weight"] = 0.4  # jump of 0.4 from stage 1
    st[2].trainer["freerun_weight"] = 0.2  # decreasing, and a final weight < 0.3
    st[2].range = (14, 18)  # a gap: epoch 13 in no stage
    w = "\n".join(validate_config(cfg))
    assert "jumps by +0.400" in w and "decreases from 0.4 to 0.2" in w and "at least 0.3" in w
    assert "epochs 13-13 are in no stage" in w
    st[2].range = (11, 18)
    assert "ranges overlap" in "\n".join(validate_config(cfg))


def test_teacher_forcing_modes():
    cfg = _cfg("train.tf_end_epoch=15")  # epoch_linear from epoch 6 (1.0) to 15 (0.0)
    assert teacher_forcing_ratio(cfg, 1) == 1.0 and teacher_forcing_ratio(cfg, 6) == 1.0
    assert teacher_forcing_ratio(cfg, 9) == pytest.approx(2 / 3)
    assert teacher_forcing_ratio(cfg, 9.5) == pytest.approx(2 / 3)  # whole epochs
    assert teacher_forcing_ratio(cfg, 18) == 0.0
    assert teacher_forcing_ratio(cfg, 9, tf_max=0.75) == pytest.approx(0.5)
    step = _cfg("train.tf_mode=step_linear", "train.tf_end_epoch=15")
    assert teacher_forcing_ratio(step, 9.5) == pytest.approx(1 - 3.5 / 9)
    assert teacher_forcing_ratio(_cfg("train.tf_mode=constant", "train.tf_max=0.6"), 15) == 0.6


def test_soft_phase_from_contacts_only():
    from motionlab.data.character_state import soft_phase

    fps, f = 30.0, 1.25
    t = np.arange(300) / fps
    left = 0.5 + 0.5 * np.sin(2 * np.pi * f * t)
    contacts = np.stack([left, 1 - left], axis=1)
    p = soft_phase(contacts, fps)
    assert np.median(p[30:-30, 2]) == pytest.approx(f, rel=0.05)
    assert np.allclose(np.hypot(p[30:-30, 0], p[30:-30, 1]), 1.0, atol=0.05)
    still = soft_phase(np.ones((100, 2)), fps)
    assert np.abs(still).max() < 1e-6


def test_character_state_of_a_frame_json(tmp_path):
    from motionlab.core.body import SMPL22_NAMES
    from motionlab.core.rotations import matrix_to_rot6d
    from motionlab.data.character_state import CHARACTER_DIMS, character_features, frames_to_motion
    from motionlab.data.synth.locomotion import generate_locomotion
    from motionlab.io.frame_json import read_frame_json, write_frame_json

    m = generate_locomotion(np.random.default_rng(1), "walk", 3.0)
    R = m.local_matrices()
    vel = np.gradient(m.root_pos[:, :2], axis=0) * m.fps
    from motionlab.data.features import heading_yaw

    arrays = {"fps": np.array(m.fps), "rot6d": matrix_to_rot6d(R), "root_yaw": heading_yaw(R[:, 0]),
              "root_vel": vel, "soft_contacts": m.extras["soft_contacts"], "bone_names": np.array(SMPL22_NAMES)}
    write_frame_json(tmp_path / "walk.json", arrays)
    motion = frames_to_motion(read_frame_json(tmp_path / "walk.json"))
    x = character_features(motion)
    ref = character_features(m)
    assert x.shape == (m.num_frames, CHARACTER_DIMS)
    assert np.allclose(x[:, 10:136], ref[:, 10:136], atol=1e-5)  # joint rotations as in the file
    assert np.allclose(x[:, 136:138], ref[:, 136:138], atol=1e-6)  # the file's own contacts are used
    assert np.abs(x[5:-5, 1:3] - ref[5:-5, 1:3]).mean() < 0.05  # heading-frame velocity


@pytest.mark.parametrize("method", ["gradnorm", "uncertainty", "dwa"])
def test_adaptive_weights_inside_the_recipe(method):
    from motionlab.recipes.predictor.lightning import PredictorModule

    terms = ["fk_pos", "rot_local", "rot_delta"]
    cfg = _cfg(f"train.adaptive.method={method}", f"train.adaptive.terms=[{','.join(terms)}]", "model.hidden=64",
               "model.latent=64")
    module = PredictorModule(cfg).train()
    torch.manual_seed(0)
    batch = {"character": torch.randn(4, 12, 141) * 0.3, "label": torch.tensor([0, 1, 2, 3])}
    opt = torch.optim.Adam(module.parameters(), lr=1e-3)
    seen = []
    for _ in range(4):
        total, weighted, adaptive = module.total(module.losses(batch, 1.0, False))
        opt.zero_grad()
        total.backward()
        opt.step()
        seen.append(adaptive)
    assert set(seen[-1]) == set(terms) and all(np.isfinite(v) for v in seen[-1].values())
    if method != "dwa":  # dwa holds weight 1 until it has two running means
        assert seen[-1] != seen[0]
    module.on_stage_change("stage2", {})
    _, _, after = module.total(module.losses(batch, 1.0, False))
    assert after == pytest.approx({t: (0.5 if method == "uncertainty" else 1.0) for t in terms})


def test_prediction_metrics_hand_computed():
    # 0.1 rad/s too fast for 2 frames at 1 fps: 5.73, 11.46 degrees of drift
    assert M.yaw_drift_deg([0.1, 0.1], [0.0, 0.0], 1.0) == pytest.approx([5.729578, 11.459156])
    # heading starts at 90 deg: forward (1, 0) is world +Y; after a turn of pi/2 over one frame, world -X
    v = M.planar_world_velocity([[1.0, 0.0], [1.0, 0.0]], [np.pi / 2, 0.0], 1.0, yaw0=np.pi / 2)
    assert v == pytest.approx(np.array([[0.0, 1.0], [-1.0, 0.0]]), abs=1e-12)
    assert M.angvel_cosine([[1.0, 0, 0], [0, 1.0, 0], [5, 5, 5]], [[2.0, 0, 0], [1.0, 0, 0], [0, 0, 0.01]]) == \
        pytest.approx(0.5)  # cos 1 and cos 0; the still one is left out
    assert M.soft_contact_mae([[0.2, 1.0]], [[0.0, 0.5]]) == pytest.approx(0.35)
    assert M.contact_ratio([0.2, 0.6, 0.9, 0.4]) == 0.5
    assert M.horizon_curve([[1.0, 2.0, 3.0], [3.0, 4.0, 5.0]], 10.0, [0.1, 0.3, 0.5]) == {0.1: 2.0, 0.3: 4.0}
    assert M.speed_following_error([1.1, 1.3], [1.0, 1.0]) == pytest.approx(0.2)
    with pytest.raises(MotionLabError, match="commanded speed is zero"):
        M.speed_following_error([1.0], [0.0])


def test_baselines():
    from motionlab.core.rotations import axis_angle_to_matrix, matrix_to_rot6d
    from motionlab.recipes.predictor.evaluate import constant_velocity, zero_velocity
    from motionlab.recipes.predictor.measures import rotations

    prev = np.zeros((1, 141))
    prev[0, 4:136] = np.tile(matrix_to_rot6d(np.eye(3)), 22)
    cur = prev.copy()
    cur[0, 4:136] = np.tile(matrix_to_rot6d(axis_angle_to_matrix(np.array([0.0, 0.0, 0.1]))), 22)
    cur[0, 1:4] = [1.0, 0.0, 0.2]
    cv = constant_velocity(prev, cur, 3)
    R = rotations(cv)
    assert R[0, 2, 5] == pytest.approx(axis_angle_to_matrix(np.array([0.0, 0.0, 0.4])), abs=1e-9)
    assert cv[0, :, 1:4] == pytest.approx(np.tile([1.0, 0.0, 0.2], (3, 1)))
    zv = zero_velocity(prev, cur, 3)
    assert np.all(zv[..., 1:4] == 0) and np.allclose(zv[0, 2, 4:136], cur[0, 4:136])


def test_epoch_histories_append_and_a_resumed_epoch_replaces_its_line(tmp_path):
    from motionlab.recipes.predictor.lightning import write_epoch_metrics

    for epoch, step, v in ((1, 8, 3.0), (2, 16, 2.5), (2, 16, 2.25), (3, 24, 2.0)):  # epoch 2 resumed once
        write_epoch_metrics(tmp_path, epoch, step, {"teacher": {"GeoDeg": v, "KeyBone/torso/GeoDeg": v / 2}})
    assert (tmp_path / "metrics" / "teacher" / "GeoDeg.txt").read_text() == "1 8 3\n2 16 2.25\n3 24 2\n"
    assert (tmp_path / "metrics" / "teacher" / "KeyBone__torso__GeoDeg.txt").read_text().splitlines()[-1] == "3 24 1"
    assert '"epoch": 3' in (tmp_path / "metrics" / "teacher_ep003.json").read_text()
