"""Encoder pre-training (``predictor_pretrain``) and a predictor loading its weights by path; the real
``motionlab tune predictor`` with two worker processes end to end (slow)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch

CONFIGS = Path(__file__).resolve().parents[1] / "src" / "motionlab" / "configs"
SHORT = ["train.max_epochs=2", "train.tf_start_epoch=1", "train.tf_end_epoch=2", "freerun_stage_schedule=[]",
         "loss.freerun_weight=0.3", "model.hidden=64", "model.latent=64", "eval.max_windows=8",
         "eval.horizons_s=[0.1,0.5]"]


def test_pretrained_encoder_is_loaded_by_path(tiny_corpus, tmp_path):
    from motionlab.config import load_config
    from motionlab.recipes.predictor.config import PredictorConfig
    from motionlab.recipes.predictor.lightning import PredictorModule
    from motionlab.train.engine import evaluate, train

    run = train("predictor_pretrain", config_path=CONFIGS / "predictor_pretrain" / "tiny.yaml", run_dir=tmp_path / "enc",
                overrides=[f"data.root={tiny_corpus}", "train.max_steps=12", "model.hidden=64", "model.latent=64"])
    enc = run / "encoder.pt"
    assert enc.is_file()
    m = evaluate(run)
    assert {"recon_mse", "ahead_mse", "baseline_repeat_ahead_mse"} <= set(m)
    cfg = load_config(PredictorConfig, CONFIGS / "predictor" / "tiny.yaml",
                      ["model.hidden=64", "model.latent=64", f"model.pretrained_encoder={enc}"])
    module = PredictorModule(cfg)
    saved = torch.load(enc, weights_only=True)["encoder"]
    for k, v in module.model.encoder.state_dict().items():
        assert torch.equal(v, saved[k]), k
    from motionlab.errors import MotionLabError

    bad = load_config(PredictorConfig, CONFIGS / "predictor" / "tiny.yaml", [f"model.pretrained_encoder={enc}"])
    with pytest.raises(MotionLabError, match="do not fit"):
        PredictorModule(bad)  # 512-wide encoder, 64-wide weights


@pytest.mark.slow
def test_tune_predictor_two_workers_end_to_end(tiny_corpus, tmp_path):
    import yaml

    from motionlab.train.tune import run_study

    space = tmp_path / "space.yaml"
    space.write_text(yaml.safe_dump({
        "recipe": "predictor", "base": str(CONFIGS / "predictor" / "tiny.yaml"), "metric": "free_GeoDeg",
        "prune_on": "val/free_GeoDeg", "overrides": SHORT + [f"data.root={tiny_corpus}"],
        "space": {"train.lr": {"type": "loguniform", "low": 5e-4, "high": 5e-3}}}))
    out = run_study("predictor", space=space, trials=3, workers=2, out=tmp_path / "tune")
    study = json.loads((out / "study.json").read_text())
    assert study["counts"]["COMPLETE"] + study["counts"]["PRUNED"] == 3
    assert (out / "best.yaml").is_file() and (out / "plots" / "history.png").is_file()
    dirs = sorted((out / "trials").iterdir())
    assert [d.name for d in dirs] == ["trial_0000", "trial_0001", "trial_0002"]
    assert all((d / "config.yaml").is_file() and (d / "trial.json").is_file() for d in dirs)
