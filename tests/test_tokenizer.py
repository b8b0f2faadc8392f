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
        train("tokenizer", config_path=CONFIGS / "tokenizer" / "tiny.yaml", overrides=["train.max_steps=120"],
              run_dir=run)
        metrics = evaluate(run)
    finally:
        torch.set_num_threads(torch_threads)
    return run, metrics


def test_tiny_training_beats_mean_pose_baseline(tiny_run):
    run, m = tiny_run
    on_disk = json.loads((run / "metrics.json").read_text())
    for key in ("recon_mse", "vel_error", "mean_jerk", "mean_jerk_gt", "jerk_gap", "perplexity", "perplexity_joint",
                "dead_code_ratio", "mpjpe", "baseline_recon_mse", "baseline_vel_error", "baseline_mpjpe",
                "num_windows"):
        assert key in on_disk, key
        assert np.isfinite(on_disk[key]), key
    assert m["jerk_gap"] == pytest.approx(abs(m["mean_jerk"] / m["mean_jerk_gt"] - 1.0))
    # held-out (test split) windows: the learned tokenizer beats predicting the training mean pose
    # (normalised MSE is dominated by channels nearly constant in training, so the clear margin is
    # asserted on joint positions)
    assert m["recon_mse"] < m["baseline_recon_mse"]
    assert m["vel_error"] < m["baseline_vel_error"]
    assert m["mpjpe"] < 0.8 * m["baseline_mpjpe"]
    # the mean pose of normalised features is 0, so its MSE is the test set's normalised variance (~1)
    assert 0.3 < m["baseline_recon_mse"] < 3.0
    assert 1.0 <= m["perplexity"] <= 256 and 0.0 <= m["dead_code_ratio"] < 1.0
    assert m["split"] == "test" and m["stream"] == "body"


def test_evaluate_matches_an_independent_recomputation(tiny_run, one_thread):
    """recon_mse and perplexity recomputed here from the windows, the saved statistics and the model."""
    from motionlab.data.dataset import WindowData
    from motionlab.eval.metrics import code_usage, perplexity
    from motionlab.train.engine import load_run

    run, m = tiny_run
    loaded = load_run(run)
    data = WindowData(loaded.cfg.data)
    x = torch.from_numpy(np.asarray(loaded.stats["body"](data.arrays["test__body"]), dtype=np.float32))
    with torch.no_grad():
        out = loaded.model(x)
    assert float(((out["recon"] - x) ** 2).mean()) == pytest.approx(m["recon_mse"], rel=1e-4)
    counts = code_usage(out["indices"].numpy(), 256)
    assert perplexity(counts) == pytest.approx(m["perplexity"], rel=1e-6)
    assert float((counts == 0).mean()) == pytest.approx(m["dead_code_ratio"])


def test_generate_and_latents(tiny_run, one_thread):
    from motionlab.data.dataset import WindowData
    from motionlab.recipes.tokenizer.evaluate import export_latents
    from motionlab.train.engine import generate, load_run

    run, m = tiny_run
    cfg = load_run(run).cfg
    raw = np.asarray(WindowData(cfg.data).arrays["test__body"][:3])
    recon = generate(run, raw)
    assert recon.shape == raw.shape and recon.dtype == np.float32
    # an odd length is padded and cropped; a single (T, C) sequence keeps its shape
    single = generate(run, raw[0, :29])
    assert single.shape == (29, 136)
    err_model = np.mean((recon - raw) ** 2)
    err_mean = np.mean((raw.mean(axis=(0, 1)) - raw) ** 2)
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


@pytest.mark.parametrize("stream, dim", [("g1_joints", 29), ("g1_full", 39)])
def test_g1_features_train_and_evaluate(tmp_path, stream, dim, one_thread):
    from motionlab.train.engine import evaluate, train

    run = train("tokenizer", config_path=CONFIGS / "tokenizer" / "tiny.yaml",
                overrides=[f"data.streams=[{stream}]", "train.max_steps=40", "train.val_every=-1",
                           "model.quantizer=fsq", "model.quantizer_kwargs={levels: [8, 6, 5]}"], run_dir=tmp_path / "r")
    m = evaluate(run)
    assert m["stream"] == stream and "mpjpe" not in m
    assert np.isfinite(m["mean_jerk"]) and m["mean_jerk_gt"] > 0  # rad/s^3 of the joint angles
    assert m["recon_mse"] < m["baseline_recon_mse"]
