"""The tokenizer recipe: configs load, a tiny training beats the mean-pose baseline, evaluate,
generate and latent export behave."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch

from motionlab.config import load_config
from motionlab.errors import MotionLabError
from motionlab.recipes.registry import get_recipe
from motionlab.recipes.tokenizer.config import TokenizerConfig, feature_dim, stream_of
from motionlab.recipes.tokenizer.measures import usage_metrics

CONFIGS = Path(__file__).resolve().parents[1] / "src" / "motionlab" / "configs"


@pytest.fixture
def one_thread():
    """Small models train ~10x faster on one thread when the CPU is shared."""
    n = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(n)


@pytest.mark.parametrize("name", ["tiny", "default", "paper"])
def test_shipped_configs_load_and_build(name):
    rec = get_recipe("tokenizer")
    cfg = load_config(rec.config_cls, CONFIGS / "tokenizer" / f"{name}.yaml")
    module = rec.make_model(cfg)
    x = torch.zeros(2, cfg.data.window, feature_dim(cfg))
    module.eval()
    with torch.no_grad():
        out = module(x)
    assert out["recon"].shape == x.shape
    assert out["indices"].shape[1] == cfg.data.window // 2 ** cfg.model.down_t


def test_default_config_path_and_registry():
    rec = get_recipe("tokenizer")
    assert rec.default_config_path().name == "default.yaml"
    assert rec.evaluate is not None and rec.generate is not None


def test_config_errors():
    with pytest.raises(MotionLabError, match="exactly one feature stream"):
        stream_of(TokenizerConfig(data=type(TokenizerConfig().data)(streams=["body", "g1_joints"])))
    cfg = load_config(TokenizerConfig, None, ["data.streams=[g1_full]"])
    assert feature_dim(cfg) == 39
    with pytest.raises(MotionLabError, match="unknown key"):
        load_config(TokenizerConfig, None, ["model.nope=1"])
    with pytest.raises(MotionLabError, match="valid choices"):
        get_recipe("tokenizer").make_model(load_config(TokenizerConfig, None, ["model.quantizer=bogus"]))


def test_usage_metrics_hand_computed():
    # single level: codes 0,0,1,3 of 4 -> p = (.5,.25,0,.25): ppl = exp(1.5 ln 2) = 2^1.5, one dead code
    m = usage_metrics(np.array([0, 0, 1, 3]), [4])
    assert m["perplexity"] == pytest.approx(2 ** 1.5) and m["dead_code_ratio"] == 0.25
    assert m["perplexity_joint"] == m["perplexity"]
    # two levels of sizes 2 and 4: each level uses 2 codes uniformly (ppl 2 each, mean 2); the tuples
    # (0,0),(0,1),(1,0),(1,1) are 4 codes -> joint ppl 4; dead: 0 of 2 and 2 of 4 -> mean 0.25
    m = usage_metrics(np.array([[0, 0], [0, 1], [1, 0], [1, 1]]), [2, 4])
    assert m["perplexity"] == pytest.approx(2.0) and m["perplexity_joint"] == pytest.approx(4.0)
    assert m["dead_code_ratio"] == pytest.approx(0.25)
    assert m["perplexity/0"] == pytest.approx(2.0) and m["dead_code_ratio/1"] == 0.5
    # the retarget recipe reports code usage through the same helper and keys
    from motionlab.eval.metrics import usage_summary

    assert usage_summary(np.array([[0, 0], [0, 1], [1, 0], [1, 1]]), [2, 4]) == m


@pytest.fixture(scope="module")
def tiny_run(tmp_path_factory):
    from motionlab.train.engine import evaluate, train

    torch_threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        run = tmp_path_factory.mktemp("tok") / "run"
        train("tokenizer", config_path=CONFIGS / "tokenizer" / "tiny.yaml", run_dir=run)
        metrics = evaluate(run)
    finally:
        torch.set_num_threads(torch_threads)
    return run, metrics


def test_tiny_training_beats_mean_pose_baseline(tiny_run):
    run, m = tiny_run
    on_disk = json.loads((run / "metrics.json").read_text())
    for key in ("recon_mse", "vel_error", "mean_jerk", "mean_jerk_gt", "jerk_gap", "perplexity", "perplexity_joint",
                "dead_code_ratio", "train_perplexity", "train_dead_code_ratio", "mpjpe", "baseline_recon_mse",
                "baseline_vel_error", "baseline_mpjpe", "num_windows"):
        assert key in on_disk, key
        assert np.isfinite(on_disk[key]), key
    assert m["jerk_gap"] == pytest.approx(abs(m["mean_jerk"] / m["mean_jerk_gt"] - 1.0))
    # held-out (test split) windows: the tiny config's 200 steps reconstruct them at least 3x better than
    # the training mean pose, in normalised features and in G1 keypoint positions (FK)
    assert m["recon_mse"] < m["baseline_recon_mse"] / 3
    assert m["vel_error"] < m["baseline_vel_error"]
    assert m["mpjpe"] < 0.5 * m["baseline_mpjpe"]
    # the mean pose of normalised features is 0, so its MSE is the test set's normalised variance (~1)
    assert 0.2 < m["baseline_recon_mse"] < 3.0
    # the codebook is used: nearly every code on the training windows, a good part on the few test clips
    assert m["train_dead_code_ratio"] < 0.1 and m["train_perplexity"] > 100
    assert 30 <= m["perplexity"] <= 256 and m["dead_code_ratio"] < 0.7
    assert m["split"] == "test" and m["stream"] == "g1_joints"


def test_evaluate_matches_an_independent_recomputation(tiny_run, one_thread):
    """recon_mse and perplexity recomputed here from the windows, the saved statistics and the model."""
    from motionlab.data.dataset import WindowData
    from motionlab.eval.metrics import code_usage, perplexity
    from motionlab.train.engine import load_run

    run, m = tiny_run
    loaded = load_run(run)
    data = WindowData(loaded.cfg.data)
    norm = loaded.stats["g1_joints"]
    raw = np.asarray(data.arrays["test__g1_joints"])
    x = torch.from_numpy(np.asarray(norm(raw), dtype=np.float32))
    with torch.no_grad():
        out = loaded.model(x)
    assert float(((out["recon"] - x) ** 2).mean()) == pytest.approx(m["recon_mse"], rel=1e-4)
    counts = code_usage(out["indices"].numpy(), 256)
    assert perplexity(counts) == pytest.approx(m["perplexity"], rel=1e-6)
    assert float((counts == 0).mean()) == pytest.approx(m["dead_code_ratio"])
    # keypoint MPJPE: the 14 BeyondMimic bodies by G1 FK, pelvis fixed at the origin, pelvis-aligned
    from motionlab.eval.metrics import mpjpe
    from motionlab.robots.g1 import BEYONDMIMIC_KEYPOINT_BODIES, ISAAC_BODY_NAMES
    from motionlab.robots.g1_fk import g1_fk

    kp = [ISAAC_BODY_NAMES.index(n) for n in BEYONDMIMIC_KEYPOINT_BODIES]
    pred = norm.denormalize(out["recon"].double().numpy())
    fk = lambda q: g1_fk(np.zeros(3), np.array([1.0, 0, 0, 0]), q, order="isaac")[0][..., kp, :]
    assert mpjpe(fk(pred), fk(raw.astype(np.float64)), root=0) == pytest.approx(m["mpjpe"], rel=1e-4)


def test_generate_and_latents(tiny_run, one_thread):
    from motionlab.data.dataset import WindowData
    from motionlab.recipes.tokenizer.evaluate import export_latents
    from motionlab.train.engine import generate, load_run

    run, m = tiny_run
    loaded = load_run(run)
    cfg = loaded.cfg
    raw = np.asarray(WindowData(cfg.data).arrays["test__g1_joints"][::40][:3])  # windows of different moments
    recon = generate(run, raw)
    assert recon.shape == raw.shape and recon.dtype == np.float32
    # an odd length is padded and cropped; a single (T, C) sequence keeps its shape
    single = generate(run, raw[0, :27])
    assert single.shape == (27, 29)
    err_model = np.mean((recon - raw) ** 2)
    err_mean = np.mean((loaded.stats["g1_joints"].mean - raw) ** 2)  # the training mean pose
    assert err_model < err_mean
    with pytest.raises(MotionLabError, match="inputs"):
        generate(run, np.zeros((10, 7)))
    lat = export_latents(run, "test")
    assert lat["latents"].shape == (m["num_windows"], cfg.model.latent_dim)
    assert lat["labels"].shape == (m["num_windows"],)
    assert lat["labels"].max() < len(lat["label_names"])


def test_history_has_whole_split_validation_metrics(tiny_run):
    run, _ = tiny_run
    hist = json.loads((run / "history.json").read_text())
    assert hist["val"], "no validation was recorded"
    for rec in hist["val"]:
        for key in ("val/recon_mse", "val/vel_error", "val/perplexity", "val/dead_code_ratio", "val/mean_jerk",
                    "val/jerk_gap"):
            assert key in rec, (key, rec)
    assert any("train/vq" in r for r in hist["train"])


@pytest.mark.parametrize("stream", ["body", "g1_full"])
def test_other_feature_sets_train_and_evaluate(tmp_path, stream, one_thread):
    from motionlab.train.engine import evaluate, train

    run = train("tokenizer", config_path=CONFIGS / "tokenizer" / "tiny.yaml",
                overrides=[f"data.streams=[{stream}]", "train.max_steps=40", "train.val_every=-1",
                           "model.quantizer=fsq", "model.quantizer_kwargs={levels: [8, 6, 5]}"], run_dir=tmp_path / "r")
    m = evaluate(run)
    assert m["stream"] == stream
    assert np.isfinite(m["mean_jerk"]) and m["mean_jerk_gt"] > 0  # m/s^3 of joints, rad/s^3 of G1 angles
    assert m["recon_mse"] < m["baseline_recon_mse"]
    assert 0 < m["mpjpe"] < m["baseline_mpjpe"]  # SMPL-22 joints, or G1 keypoints with the root's tilt


def test_g1_full_keypoints_turn_with_the_root_tilt():
    from motionlab.core.rotations import matrix_to_rot6d
    from motionlab.recipes.tokenizer.measures import mpjpe_positions

    rng = np.random.default_rng(0)
    q = rng.uniform(-0.3, 0.3, (2, 5, 29))
    upright = np.concatenate([np.zeros((2, 5, 4)), np.broadcast_to(matrix_to_rot6d(np.eye(3)), (2, 5, 6)), q], -1)
    a = mpjpe_positions(upright, "g1_full", 30.0)
    assert a.shape == (2, 5, 14, 3)
    np.testing.assert_allclose(a, mpjpe_positions(q, "g1_joints", 30.0), atol=1e-9)
    c, s_ = np.cos(0.4), np.sin(0.4)
    tilt = np.array([[1, 0, 0], [0, c, -s_], [0, s_, c]])  # 0.4 rad about the forward (X) axis
    tilted = upright.copy()
    tilted[..., 4:10] = matrix_to_rot6d(tilt)
    np.testing.assert_allclose(mpjpe_positions(tilted, "g1_full", 30.0), a @ tilt.T, atol=1e-9)
    assert mpjpe_positions(q, "nope", 30.0) is None


@pytest.mark.parametrize("name, label", [("dance1_subject2", "dance"), ("walk3_subject1", "walk"),
                                         ("fallAndGetUp2_subject3", "fallAndGetUp"), ("subject1/run1", "run"),
                                         ("sprint1_subject4", "sprint"), ("my_clip", "my_clip"), ("jumps", "jumps")])
def test_motion_label_from_file_names(name, label):
    from motionlab.recipes.tokenizer.measures import motion_label

    assert motion_label(name) == label


def test_real_g1_folder_labels_and_keypoint_mpjpe(tmp_path, tiny_corpus, one_thread):
    """A plain folder of Unitree CSVs named like the LAFAN1 G1 set: the t-SNE labels are the motions
    the file names name (not 'unknown'), and MPJPE is reported through G1 FK."""
    import shutil

    from motionlab.recipes.tokenizer.evaluate import export_latents
    from motionlab.train.engine import evaluate, train

    manifest = json.loads((tiny_corpus / "manifest.json").read_text())
    folder = tmp_path / "g1"
    folder.mkdir()
    taken = {}
    for c in manifest["clips"]:
        if c["kind"] in ("locomotion", "talking"):
            k = taken[c["style"]] = taken.get(c["style"], 0) + 1
            shutil.copy(tiny_corpus / c["files"]["robot"], folder / f"{c['style'].replace('_', '')}{k}_subject{k}.csv")
    run = train("tokenizer", config_path=CONFIGS / "tokenizer" / "tiny.yaml", run_dir=tmp_path / "r",
                overrides=[f"data.root={folder}", "train.max_steps=30", "train.val_every=-1"])
    m = evaluate(run)
    assert 0 < m["mpjpe"] < m["baseline_mpjpe"]
    lat = export_latents(run, "test")
    names = set(lat["label_names"])
    assert "unknown" not in names and names <= {"idle", "walk", "run", "turn", "curve", "sidestep", "talking"}
    assert len(lat["labels"]) == m["num_windows"] and lat["labels"].max() < len(lat["label_names"])


def test_paper_config_uses_the_workers_the_machine_has(monkeypatch):
    import os

    from motionlab.data.dataset import loader_workers

    cfg = load_config(TokenizerConfig, CONFIGS / "tokenizer" / "paper.yaml")
    assert cfg.data.num_workers == -1
    monkeypatch.setattr(os, "sched_getaffinity", lambda pid: {0, 1}, raising=False)
    assert loader_workers(-1) == 1  # 2 cores: one worker, no "more workers than cores" warning
    monkeypatch.setattr(os, "sched_getaffinity", lambda pid: set(range(16)), raising=False)
    assert loader_workers(-1) == 4
    monkeypatch.setattr(os, "sched_getaffinity", lambda pid: {0}, raising=False)
    assert loader_workers(-1) == 0 and loader_workers(3) == 3
