"""A 2 variants x 2 seeds micro ablation of the tokenizer writes every output and resumes."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch

from motionlab.errors import MotionLabError
from motionlab.train.ablation import load_ablation, resolve_seeds, run_ablation, variant_config

CONFIGS = Path(__file__).resolve().parents[1] / "src" / "motionlab" / "configs"

MICRO = """
recipe: tokenizer
base: {base}
config: {{train: {{max_steps: 30, val_every: 15, checkpoint_every: 15}}}}
seeds: [7, 8]
variants:
  - name: Simple_EMA
    config: {{model: {{encoder: simple, quantizer: ema, encoder_kwargs: {{num_layers: 1}}, quantizer_kwargs: {{codebook_size: 32}}}}}}
  - name: ResNet FSQ
    config: {{model: {{quantizer: fsq, quantizer_kwargs: {{levels: [8, 6, 5]}}}}}}
    overrides: [model.width=32]
report:
  columns: [{{key: recon_mse, label: Recon}}, {{key: perplexity, label: PPL}}, {{key: dead_code_ratio, label: DCR %, scale: 100}}]
  curves: {{val/recon_mse: Recon, val/perplexity: Perplexity}}
  loss_terms: {{train/recon: Recon, train/vq: VQ}}
  radar: {{recon_mse: Recon, perplexity: PPL, vel_error: Vel}}
"""


@pytest.fixture
def micro_file(tmp_path):
    path = tmp_path / "micro.yaml"
    path.write_text(MICRO.format(base=CONFIGS / "tokenizer" / "tiny.yaml"))
    return path


@pytest.fixture
def one_thread():
    n = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(n)


def test_variant_configs_replace_dict_fields(micro_file):
    spec = load_ablation(micro_file)
    assert [v.name for v in spec.variants] == ["Simple_EMA", "ResNet FSQ"]
    a = variant_config(spec, spec.variants[0], 7)
    b = variant_config(spec, spec.variants[1], 8, ["train.lr=5e-4"])
    assert a.model.encoder == "simple" and a.model.encoder_kwargs == {"num_layers": 1}
    assert a.model.quantizer_kwargs == {"codebook_size": 32} and a.train.seed == 7 and a.train.max_steps == 30
    # the FSQ variant replaces the base's quantizer options wholesale and keeps the base encoder options
    assert b.model.quantizer_kwargs == {"levels": [8, 6, 5]} and b.model.encoder_kwargs == {"depth": 1}
    assert b.model.width == 32 and b.train.lr == 5e-4 and b.train.seed == 8
    assert resolve_seeds(1, spec) == [7] and resolve_seeds(3, spec) == [7, 8, 0] and resolve_seeds([5], spec) == [5]


def test_bad_ablation_files(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("recipe: tokenizer\nbase: tokenizer/tiny.yaml\nvariants:\n  - name: a\n    config: {model: {nope: 1}}\n")
    spec = load_ablation(bad)
    with pytest.raises(MotionLabError, match=r"bad\.yaml.*variant 'a' config.*unknown key 'nope'"):
        variant_config(spec, spec.variants[0], 0)
    bad.write_text("recipe: tokenizer\nvariants: []\n")
    with pytest.raises(MotionLabError, match="non-empty list of variants"):
        load_ablation(bad)
    bad.write_text("recipe: tokenizer\nbase: nowhere.yaml\nvariants: [{name: a}]\n")
    with pytest.raises(MotionLabError, match="nowhere.yaml"):
        load_ablation(bad)
    bad.write_text("recipe: tokenizer\nvariants: [{name: a}, {name: a}]\n")
    with pytest.raises(MotionLabError, match="duplicate variant"):
        load_ablation(bad)


@pytest.mark.parametrize("name", ["tokenizer.yaml", "tokenizer_small.yaml", "tokenizer_tiny.yaml"])
def test_shipped_ablation_files_resolve(name):
    spec = load_ablation(CONFIGS / "ablation" / name)
    assert len(spec.variants) == 6
    quantizers = []
    for v in spec.variants:
        cfg = variant_config(spec, v, 0)
        quantizers.append(cfg.model.quantizer)
    assert quantizers == ["ema", "ema", "rvq", "fsq", "lfq", "hybrid"]


def test_micro_ablation_writes_everything_and_resumes(micro_file, tmp_path, one_thread, monkeypatch):
    out = run_ablation(micro_file, seeds=2, out_dir=tmp_path / "out")
    results = json.loads((out / "results.json").read_text())
    assert [(r["variant"], r["seed"]) for r in results] == [("Simple_EMA", 7), ("Simple_EMA", 8),
                                                            ("ResNet FSQ", 7), ("ResNet FSQ", 8)]
    for r in results:
        assert {"recon_mse", "perplexity", "dead_code_ratio", "mpjpe", "baseline_recon_mse"} <= set(r["metrics"])
        assert [s for s, _ in r["history"]["val/recon_mse"]] == [15, 30]
    md = (out / "table.md").read_text()
    assert md.count("**") == 6 and "±" in md and "| Simple_EMA |" in md
    tex = (out / "table.tex").read_text()
    assert r"\toprule" in tex and r"Simple\_EMA" in tex and r"$\pm$" in tex
    plots = out / "plots"
    for name in ("curve_val_recon_mse.png", "curve_val_perplexity.png", "loss_breakdown.png", "radar.png",
                 "radar_log.png", "tsne.png"):
        assert (plots / name).stat().st_size > 1000, name
    for v in ("Simple_EMA", "ResNet_FSQ"):
        for s in (7, 8):
            assert (out / "runs" / v / f"seed_{s}" / "metrics.json").is_file()

    # re-running trains nothing: the finished runs are skipped
    from motionlab.train import engine

    def no_training(*a, **k):
        raise AssertionError("a finished run was trained again")

    monkeypatch.setattr(engine, "train", no_training)
    before = (out / "results.json").read_text()
    run_ablation(micro_file, seeds=2, out_dir=out)
    after = json.loads((out / "results.json").read_text())
    assert [r["metrics"]["recon_mse"] for r in after] == [r["metrics"]["recon_mse"] for r in json.loads(before)]

    # a changed config for a finished run is refused rather than silently mixed in
    with pytest.raises(MotionLabError, match="different config"):
        run_ablation(micro_file, seeds=2, out_dir=out, overrides=["train.lr=1e-2"])


def test_interrupted_run_resumes_from_checkpoint(micro_file, tmp_path, one_thread):
    """A run killed after its first checkpoint (no metrics.json) continues from that checkpoint."""
    from motionlab.train import engine
    from motionlab.train.ablation import load_ablation, variant_config

    spec = load_ablation(micro_file)
    out = tmp_path / "out"
    run_dir = out / "runs" / "Simple_EMA" / "seed_7"
    cfg = variant_config(spec, spec.variants[0], 7)
    engine.train("tokenizer", cfg=cfg, run_dir=run_dir, overrides=["train.max_steps=15"])
    assert not (run_dir / "metrics.json").exists()
    run_ablation(micro_file, seeds=[7], out_dir=out)
    hist = json.loads((run_dir / "history.json").read_text())
    assert hist.get("resumed_from_step") == [15] and hist["final_step"] == 30
    assert (run_dir / "metrics.json").is_file()


def test_runs_shorter_than_log_every_skip_the_loss_breakdown(micro_file, tmp_path, one_thread, caplog):
    """max_steps below train.log_every logs no training loss: the report is written without the loss
    breakdown (a warning says why) instead of failing after every run has trained."""
    import logging

    with caplog.at_level(logging.WARNING):
        out = run_ablation(micro_file, seeds=[7], out_dir=tmp_path / "short",
                           overrides=["train.max_steps=4", "train.log_every=10", "train.val_every=4"])
    assert (out / "table.md").is_file() and (out / "plots" / "radar.png").is_file()
    assert not (out / "plots" / "loss_breakdown.png").exists()
    assert any("no loss breakdown" in r.getMessage() for r in caplog.records)
