"""The training engine on a tiny regression recipe defined here (not part of the package)."""

from __future__ import annotations

import csv
import json
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import List

import lightning as L
import numpy as np
import pytest
import torch
from torch import nn
from torch.utils.data import DataLoader, TensorDataset

from motionlab.config import load_config
from motionlab.errors import MotionLabError
from motionlab.recipes.base import Recipe
from motionlab.recipes.registry import RECIPES, get_recipe
from motionlab.train.adaptive import DynamicWeightAverage, UncertaintyWeighting, build_balancer
from motionlab.train.callbacks import LastCheckpoint, NonFiniteTraining, StageSchedule
from motionlab.train.checkpoint import load_checkpoint
from motionlab.train.config import StageConfig, TrainConfig
from motionlab.train.data import ResumableLoader
from motionlab.train.engine import evaluate, load_run, train
from motionlab.train.module import RecipeModule
from motionlab.train.schedules import WarmupCosine, warmup_cosine

# --- the toy recipe ----------------------------------------------------------------------------


def _toy_train() -> TrainConfig:
    return TrainConfig(max_steps=40, lr=2e-2, warmup_steps=5, progress="none", checkpoint_every=10, log_every=5,
                       val_every=10, accelerator="cpu", nan_max_bad_steps=3, plots=False)


@dataclass
class ToyConfig:
    train: TrainConfig = field(default_factory=_toy_train)
    num_items: int = 100
    batch_size: int = 8
    hidden: int = 16
    dropout: float = 0.2
    nan_steps: List[int] = field(default_factory=list)  # global steps whose loss is made NaN
    quantize: bool = False  # put an EMA-codebook quantizer (buffers updated in forward) in the middle
    nan_input_steps: List[int] = field(default_factory=list)  # global steps whose input batch is made NaN


class QuantNet(nn.Module):
    """3 -> 4 -> EMA-codebook VQ (8 codes) -> 1: its codebook buffers change in every training forward."""

    def __init__(self) -> None:
        super().__init__()
        from motionlab.nn.registry import build_quantizer

        self.enc = nn.Linear(3, 4)
        self.quant = build_quantizer("ema", 4, codebook_size=8, kmeans_init=False, threshold_ema_dead_code=0)
        self.dec = nn.Linear(4, 1)

    def forward(self, x):
        out = self.quant(self.enc(x)[:, None, :])
        return self.dec(out.z_q[:, 0]) + 0.0 * out.loss


class ToyModule(RecipeModule):
    def __init__(self, cfg: ToyConfig) -> None:
        super().__init__(cfg)
        if cfg.quantize:
            self.model = QuantNet()
        else:
            self.model = nn.Sequential(nn.Linear(3, cfg.hidden), nn.Tanh(), nn.Dropout(cfg.dropout),
                                       nn.Linear(cfg.hidden, 1))

    def training_step(self, batch, batch_idx):
        x, y = batch
        if self.global_step in self.cfg.nan_input_steps:
            x = x * float("nan")
        loss = nn.functional.mse_loss(self.model(x), y)
        if self.global_step in self.cfg.nan_steps:
            loss = loss * float("nan")
        self.log("train/loss", loss, on_step=True, on_epoch=False)
        return loss

    def validation_step(self, batch, batch_idx):
        x, y = batch
        self.log("val/loss", nn.functional.mse_loss(self.model(x), y), on_epoch=True)


def toy_arrays(n: int):
    g = torch.Generator().manual_seed(1234)
    x = torch.randn(n, 3, generator=g)
    y = x @ torch.tensor([[1.0], [-2.0], [0.5]]) + 0.3 + 0.01 * torch.randn(n, 1, generator=g)
    return x, y


class ToyData(L.LightningDataModule):
    def __init__(self, cfg: ToyConfig) -> None:
        super().__init__()
        self.cfg = cfg

    def setup(self, stage=None):
        x, y = toy_arrays(self.cfg.num_items + 32)
        self.train_set = TensorDataset(x[: self.cfg.num_items], y[: self.cfg.num_items])
        self.val_set = TensorDataset(x[self.cfg.num_items:], y[self.cfg.num_items:])

    def train_dataloader(self):
        return ResumableLoader(self.train_set, self.cfg.batch_size, seed=self.cfg.train.seed)

    def val_dataloader(self):
        return DataLoader(self.val_set, batch_size=16)

    def save_stats(self, run_dir):
        x = self.train_set.tensors[0].numpy()
        np.savez(run_dir / "normalization.npz", mean=x.mean(0), std=x.std(0))


def toy_evaluate(run_dir):
    cfg, module, stats = load_run(run_dir, recipe=TOY)
    x, y = toy_arrays(cfg.num_items + 32)
    with torch.no_grad():
        mse = float(nn.functional.mse_loss(module.model(x[cfg.num_items:]), y[cfg.num_items:]))
    return {"val_mse": mse, "step": load_run(run_dir, recipe=TOY).step}


TOY = Recipe(name="toy", config_cls=ToyConfig, build=lambda cfg: (ToyModule(cfg), ToyData(cfg)), evaluate=toy_evaluate)


def toy_cfg(*overrides: str) -> ToyConfig:
    return load_config(ToyConfig, overrides=list(overrides))


class KillAt(L.Callback):
    """Simulates a crash: raises before the batch that would make global step ``step + 1``."""

    def __init__(self, step: int) -> None:
        self.step = step

    def on_train_batch_start(self, trainer, pl_module, batch, batch_idx):
        if trainer.global_step == self.step:
            raise RuntimeError("simulated kill")


def _weights(sd):
    return {k: v.detach().clone() for k, v in sd.items()}


# --- schedules ---------------------------------------------------------------------------------


def test_warmup_cosine_values():
    f = WarmupCosine(total=110, warmup=10, start=0.1, floor=0.01)
    assert f(0) == pytest.approx(0.1)
    assert f(5) == pytest.approx(0.55)
    assert f(10) == pytest.approx(1.0)
    assert f(60) == pytest.approx(0.01 + 0.99 * 0.5)  # halfway: cos(pi/2) = 0
    assert f(35) == pytest.approx(0.01 + 0.99 * 0.5 * (1 + math.cos(math.pi / 4)))
    assert f(110) == pytest.approx(0.01)
    assert f(500) == pytest.approx(0.01)
    p = nn.Parameter(torch.zeros(1))
    opt = torch.optim.SGD([p], lr=2.0)
    sched = warmup_cosine(opt, 110, 10, 0.1, 0.01)
    lrs = []
    for _ in range(11):
        lrs.append(opt.param_groups[0]["lr"])
        opt.step()
        sched.step()
    assert lrs[0] == pytest.approx(0.2) and lrs[5] == pytest.approx(1.1) and lrs[10] == pytest.approx(2.0)
    with pytest.raises(MotionLabError):
        WarmupCosine(total=10, warmup=20)


def test_stage_schedule_values():
    s = StageSchedule([StageConfig(0, "teacher", {"tf": 1.0, "free": 0.0}),
                       StageConfig(100, "mixed", {"tf": 0.5, "free": 0.2}),
                       StageConfig(200, "free", {"tf": 0.0, "free": 0.3})])
    assert s.values_at(50) == (0, "teacher", {"tf": 1.0, "free": 0.0})
    assert s.values_at(150)[:2] == (1, "mixed") and s.values_at(250)[2] == {"tf": 0.0, "free": 0.3}
    smooth = StageSchedule(s.stages, interpolate=True)
    assert smooth.values_at(150)[2] == pytest.approx({"tf": 0.25, "free": 0.25})
    with pytest.raises(MotionLabError):
        StageSchedule([StageConfig(10), StageConfig(5)])


# --- adaptive loss weights ---------------------------------------------------------------------


def test_uncertainty_weighting_matches_formula():
    bal = UncertaintyWeighting(["a", "b"])
    with torch.no_grad():
        bal.log_var.copy_(torch.tensor([0.0, math.log(4.0)]))
    total, w = bal({"a": torch.tensor(2.0), "b": torch.tensor(8.0)})
    assert float(total.detach()) == pytest.approx(0.5 * 2.0 + 0.5 * 8.0 / 4.0 + 0.5 * math.log(4.0))
    assert w == pytest.approx({"a": 0.5, "b": 0.125})
    total.backward()  # d/ds (0.5 e^-s L + 0.5 s) = 0.5 - 0.5 e^-s L
    assert bal.log_var.grad.tolist() == pytest.approx([0.5 - 1.0, 0.5 - 1.0])


def test_dwa_favours_the_stalled_loss():
    bal = DynamicWeightAverage(["fall", "stall"], temperature=1.0, beta=0.5)
    for t in range(30):
        _, w = bal({"fall": torch.tensor(0.8 ** t), "stall": torch.tensor(1.0)})
    assert w["stall"] > w["fall"] and w["stall"] + w["fall"] == pytest.approx(2.0)


def test_gradnorm_lite_balances_gradient_norms():
    shared = nn.Parameter(torch.ones(3))
    bal = build_balancer("gradnorm", ["big", "small"], alpha=0.0, rate=0.5)
    for _ in range(40):
        losses = {"big": 10.0 * (shared ** 2).sum(), "small": (shared ** 2).sum()}
        bal(losses, shared=[shared])
    w = bal.weights()
    assert float(w[1] / w[0]) == pytest.approx(10.0, rel=0.05)  # equal weighted gradient norms
    assert float(w.sum()) == pytest.approx(2.0)
    with pytest.raises(MotionLabError, match="valid choices"):
        build_balancer("nope", ["a"])


# --- loader ------------------------------------------------------------------------------------


def test_resumable_loader_continues_mid_epoch():
    ds = TensorDataset(torch.arange(23).float())
    a = ResumableLoader(ds, 4, seed=3)
    a.sampler.set_epoch(2)
    full = [b[0].tolist() for b in a]
    assert len(full) == len(a) == 6 and sorted(sum(full, [])) == list(range(23))
    b = ResumableLoader(ds, 4, seed=3)
    b.sampler.set_epoch(2)
    it = iter(b)
    first = [next(it)[0].tolist() for _ in range(2)]
    state = b.state_dict()
    assert state == {"epoch": 2, "batches_done": 2}
    c = ResumableLoader(ds, 4, seed=3)
    c.load_state_dict(state)
    assert first + [x[0].tolist() for x in c] == full
    a.sampler.set_epoch(3)
    assert [x[0].tolist() for x in a] != full  # a new order each epoch


# --- registry ----------------------------------------------------------------------------------


def test_registry_is_a_plain_dict_and_lists_valid_names():
    assert isinstance(RECIPES, dict)
    with pytest.raises(MotionLabError, match="valid choices"):
        get_recipe("no-such-recipe")


# --- training runs -----------------------------------------------------------------------------


def test_run_folder_evaluate_and_load_run(tmp_path):
    cfg = toy_cfg("train.max_steps=30", "dropout=0.0")
    run = train(TOY, cfg, tmp_path / "run")
    for name in ("config.yaml", "run.json", "normalization.npz", "metrics.csv", "history.json",
                 "checkpoints/last.ckpt"):
        assert (run / name).is_file(), name
    assert any((run / "tensorboard").iterdir())
    assert load_config(ToyConfig, run / "config.yaml") == cfg
    hist = json.loads((run / "history.json").read_text())
    assert hist["status"] == "completed" and hist["final_step"] == 30
    losses = [r["train/loss"] for r in hist["train"] if "train/loss" in r]
    assert losses[-1] < 0.5 * losses[0]  # it learns
    assert [r["step"] for r in hist["val"]] == [10, 20, 30]
    ckpt = load_checkpoint(run / "checkpoints/last.ckpt")  # weights_only=True inside
    assert ckpt["global_step"] == 30 and "optimizer_states" in ckpt and "loops" in ckpt
    torch.load(run / "checkpoints/last.ckpt", weights_only=True)
    metrics = evaluate(run, recipe=TOY)
    assert json.loads((run / "metrics.json").read_text()) == metrics
    y_val = toy_arrays(132)[1][100:]
    assert metrics["step"] == 30 and metrics["val_mse"] < 0.5 * float(y_val.var())  # beats the mean
    loaded = load_run(run, recipe=TOY)
    assert not loaded.module.training and loaded.ema is False
    assert np.allclose(loaded.stats["default"].mean, toy_arrays(132)[0][:100].numpy().mean(0), atol=1e-6)
    with open(run / "metrics.csv") as f:
        assert "train/loss" in next(csv.reader(f))


def test_nan_steps_are_skipped_and_weights_stay(tmp_path):
    snaps = {}

    class Watch(L.Callback):
        def on_train_batch_start(self, trainer, pl_module, batch, batch_idx):
            snaps[trainer.global_step] = {"before": _weights(pl_module.state_dict())}

        def on_train_batch_end(self, trainer, pl_module, outputs, batch, batch_idx):
            snaps[trainer.global_step - 1]["after"] = _weights(pl_module.state_dict())

    cfg = toy_cfg("train.max_steps=12", "nan_steps=[3,4,7]")
    run = train(TOY, cfg, tmp_path / "run", callbacks=[Watch()])
    for step, s in snaps.items():
        same = all(torch.equal(s["before"][k], s["after"][k]) for k in s["before"])
        assert same == (step in (3, 4, 7)), step
    assert all(torch.isfinite(v).all() for v in load_run(run, recipe=TOY).module.state_dict().values())
    hist = json.loads((run / "history.json").read_text())
    assert [e["step"] for e in hist["events"] if e["kind"] == "skipped_step"] == [4, 5, 8]
    assert hist["status"] == "completed"


def test_nan_in_a_row_stops_without_corrupt_checkpoint(tmp_path):
    cfg = toy_cfg("train.max_steps=40", "train.checkpoint_every=2", f"nan_steps={list(range(5, 40))}")
    with pytest.raises(NonFiniteTraining, match="3 optimizer steps in a row") as err:
        train(TOY, cfg, tmp_path / "run")
    assert isinstance(err.value, MotionLabError)
    ckpt = load_checkpoint(tmp_path / "run/checkpoints/last.ckpt")
    assert ckpt["global_step"] in (6, 8)  # saved before the third bad step raised
    assert all(torch.isfinite(v).all() for v in ckpt["state_dict"].values())
    hist = json.loads((tmp_path / "run/history.json").read_text())
    assert hist["status"] == "diverged" and "in a row" in hist["error"]


def test_killed_and_resumed_run_matches_uninterrupted(tmp_path):
    cfg = toy_cfg("train.ema_decay=0.9")  # 40 steps, 13 batches/epoch, dropout, validation every 10
    full = train(TOY, cfg, tmp_path / "full")
    with pytest.raises(RuntimeError, match="simulated kill"):
        train(TOY, cfg, tmp_path / "killed", callbacks=[KillAt(25)])
    assert load_checkpoint(tmp_path / "killed/checkpoints/last.ckpt")["global_step"] == 20
    resumed = train(TOY, cfg, tmp_path / "killed")
    a = load_checkpoint(full / "checkpoints/last.ckpt")
    b = load_checkpoint(resumed / "checkpoints/last.ckpt")
    assert a["global_step"] == b["global_step"] == 40
    for key in ("state_dict", "current_model_state"):
        for name, v in a[key].items():
            assert torch.allclose(v, b[key][name], atol=1e-6, rtol=0), (key, name)
    steps = []
    with open(resumed / "metrics.csv") as f:
        for row in csv.DictReader(f):
            if row.get("train/loss"):
                steps.append(int(row["step"]))
    assert steps == sorted(set(steps))  # rows of the lost steps 21..25 were not kept twice
    info = json.loads((resumed / "run.json").read_text())
    assert info["resumed"][0]["from_step"] == 20


def test_resume_refuses_a_changed_config(tmp_path):
    cfg = toy_cfg("train.max_steps=10")
    train(TOY, cfg, tmp_path / "run")
    with pytest.raises(MotionLabError, match="hidden"):
        train(TOY, toy_cfg("train.max_steps=20", "hidden=8"), tmp_path / "run")
    train(TOY, toy_cfg("train.max_steps=20"), tmp_path / "run")  # extending the run is allowed
    assert load_checkpoint(tmp_path / "run/checkpoints/last.ckpt")["global_step"] == 20


def test_ema_weights_match_an_independent_average_and_load_run(tmp_path):
    raw_history = []

    class Record(L.Callback):
        def on_train_batch_end(self, trainer, pl_module, outputs, batch, batch_idx):
            raw_history.append(_weights(pl_module.state_dict()))

    decay = 0.8
    cfg = toy_cfg("train.max_steps=20", f"train.ema_decay={decay}", "train.val_every=-1")
    run = train(TOY, cfg, tmp_path / "run", callbacks=[Record()])
    expected = raw_history[0]
    for w in raw_history[1:]:
        expected = {k: decay * expected[k] + (1 - decay) * w[k] for k in w}
    ckpt = load_checkpoint(run / "checkpoints/last.ckpt")
    for k, v in ckpt["state_dict"].items():
        assert torch.allclose(v, expected[k], atol=1e-6), k
        assert torch.allclose(ckpt["current_model_state"][k], raw_history[-1][k], atol=1e-7)
    assert any(not torch.allclose(ckpt["state_dict"][k], ckpt["current_model_state"][k]) for k in expected)
    loaded = load_run(run, recipe=TOY)
    assert loaded.ema
    for k, v in loaded.module.state_dict().items():
        assert torch.equal(v, ckpt["state_dict"][k])


class RankReport(L.Callback):
    """Each DDP process writes what it saw: world size, backend and its first epoch's samples."""

    def __init__(self, folder) -> None:
        self.folder = folder
        self.seen = []

    def on_train_batch_start(self, trainer, pl_module, batch, batch_idx):
        if trainer.current_epoch == 0:
            self.seen += batch[0][:, 0].tolist()

    def on_train_end(self, trainer, pl_module):
        info = {"world": trainer.world_size, "backend": trainer.strategy.process_group_backend, "seen": self.seen}
        (self.folder / f"rank{trainer.global_rank}.json").write_text(json.dumps(info))


def test_ddp_two_cpu_processes(tmp_path):
    cfg = toy_cfg("train.max_steps=8", "train.num_devices=2", "train.strategy=ddp_fork",
                  "train.checkpoint_every=4", "train.val_every=-1", "dropout=0.0")
    run = train(TOY, cfg, tmp_path / "run", callbacks=[RankReport(tmp_path)])
    ckpt = load_checkpoint(run / "checkpoints/last.ckpt")
    assert ckpt["global_step"] == 8
    assert json.loads((run / "history.json").read_text())["status"] == "completed"
    r0, r1 = (json.loads((tmp_path / f"rank{r}.json").read_text()) for r in (0, 1))
    assert r0["world"] == r1["world"] == 2 and r0["backend"] == "gloo"
    # 100 items / 2 ranks / 8 per batch = 7 batches each per epoch: the shards are disjoint and cover all
    assert len(r0["seen"]) == len(r1["seen"]) == 50
    assert not set(r0["seen"]) & set(r1["seen"])


# --- non-finite buffers, EMA, schedules on resume, 16-mixed, atomic writes ------------------------


def _finite(t):
    return bool(torch.isfinite(t).all())


def test_nan_batch_does_not_poison_ema_codebook_buffers(tmp_path):
    snaps = {}

    class Watch(L.Callback):
        def on_train_batch_start(self, trainer, pl_module, batch, batch_idx):
            snaps[trainer.global_step] = {"before": _weights(dict(pl_module.named_buffers()))}

        def on_train_batch_end(self, trainer, pl_module, outputs, batch, batch_idx):
            snaps[trainer.global_step - 1]["after"] = _weights(dict(pl_module.named_buffers()))

    cfg = toy_cfg("quantize=true", "train.max_steps=8", "train.checkpoint_every=2", "train.val_every=-1",
                  "nan_input_steps=[3]")
    run = train(TOY, cfg, tmp_path / "run", callbacks=[Watch()])
    embed = "model.quant.vq._codebook.embed"
    assert not torch.equal(snaps[2]["before"][embed], snaps[2]["after"][embed])  # buffers do move in forward
    for name, before in snaps[3]["before"].items():  # the NaN batch: every buffer put back as it was
        assert torch.equal(before, snaps[3]["after"][name]), name
    ckpt = load_checkpoint(run / "checkpoints/last.ckpt")
    assert ckpt["global_step"] == 8
    assert embed in ckpt["state_dict"] and "model.quant.vq._codebook.embed_avg" in ckpt["state_dict"]
    assert all(_finite(v) for v in ckpt["state_dict"].values() if v.is_floating_point())
    hist = json.loads((run / "history.json").read_text())
    skipped = [e for e in hist["events"] if e["kind"] == "skipped_step"]
    assert [e["step"] for e in skipped] == [4] and skipped[0]["buffer"].startswith("model.quant.vq._codebook")
    assert hist["status"] == "completed"


class _StubTrainer:
    def __init__(self, step, saved):
        self.global_step = step
        self.callbacks = []
        self.saved = saved

    def save_checkpoint(self, path, weights_only=False):
        self.saved.append(self.global_step)


def test_last_checkpoint_refuses_non_finite_buffers(tmp_path):
    saved = []
    module = QuantNet()
    writer = LastCheckpoint(tmp_path / "last.ckpt", every_n_steps=1)
    assert writer.save(_StubTrainer(1, saved), module) is True
    with torch.no_grad():
        module.quant.vq._codebook.embed_avg[0, 0, 0] = float("nan")  # a buffer, not a parameter
    assert LastCheckpoint.nonfinite_state(_StubTrainer(2, saved), module) == "quant.vq._codebook.embed_avg"
    assert writer.save(_StubTrainer(2, saved), module) is False  # refused, step 1 kept
    with pytest.raises(NonFiniteTraining, match="embed_avg"):
        writer.save(_StubTrainer(3, saved), module, final=True)
    assert saved == [1]


def test_step_is_bad_under_16_mixed_counts_only_the_loss():
    from motionlab.train.callbacks import step_is_bad

    for precision in ("32", "bf16-mixed"):
        assert step_is_bad(loss_finite=True, grads_finite=False, precision=precision)
        assert not step_is_bad(loss_finite=True, grads_finite=True, precision=precision)
    # the GradScaler already skips overflowing steps: not a bad step unless the loss itself is non-finite
    assert not step_is_bad(loss_finite=True, grads_finite=False, precision="16-mixed")
    assert step_is_bad(loss_finite=False, grads_finite=False, precision="16-mixed")
    assert step_is_bad(loss_finite=True, grads_finite=True, precision="16-mixed", buffers_finite=False)


def test_ema_start_step_not_below_max_steps_is_rejected(tmp_path):
    with pytest.raises(MotionLabError, match="ema_start_step"):
        train(TOY, toy_cfg("train.max_steps=20", "train.ema_decay=0.9", "train.ema_start_step=20"), tmp_path / "r")


def test_load_run_before_ema_start_uses_the_trained_weights(tmp_path):
    cfg = toy_cfg("train.max_steps=40", "train.ema_decay=0.9", "train.ema_start_step=30", "train.val_every=-1")
    with pytest.raises(RuntimeError, match="simulated kill"):
        train(TOY, cfg, tmp_path / "run", callbacks=[KillAt(25)])
    ckpt = load_checkpoint(tmp_path / "run/checkpoints/last.ckpt")
    assert ckpt["global_step"] == 20 and int(ckpt["averaging_state"]["n_averaged"]) == 0
    loaded = load_run(tmp_path / "run", recipe=TOY)
    assert loaded.ema is False
    for k, v in loaded.module.state_dict().items():
        assert torch.equal(v, ckpt["current_model_state"][k]), k
    assert any(not torch.equal(ckpt["state_dict"][k], ckpt["current_model_state"][k]) for k in ckpt["state_dict"])


def test_ema_averages_parameters_and_buffers_follow_the_raw_model(tmp_path):
    cfg = toy_cfg("quantize=true", "train.max_steps=12", "train.ema_decay=0.8", "train.val_every=-1")
    run = train(TOY, cfg, tmp_path / "run")
    ckpt = load_checkpoint(run / "checkpoints/last.ckpt")
    raw, avg = ckpt["current_model_state"], ckpt["state_dict"]
    buffers = [k for k in raw if "_codebook" in k]
    assert "model.quant.vq._codebook.embed" in buffers
    for k in buffers:
        assert torch.equal(avg[k], raw[k]), k  # not averaged
    assert not torch.allclose(avg["model.enc.weight"], raw["model.enc.weight"])  # parameters are
    loaded = load_run(run, recipe=TOY)
    assert loaded.ema
    state = loaded.module.state_dict()
    for k in raw:
        assert torch.equal(state[k], raw[k] if k in buffers else avg[k]), k
    # an older checkpoint whose state_dict holds averaged buffers: load_run still takes the raw ones
    ckpt["state_dict"] = {k: (v + 1.0 if k in buffers and v.is_floating_point() else v) for k, v in avg.items()}
    torch.save(ckpt, run / "checkpoints/old.ckpt")
    state = load_run(run, recipe=TOY, checkpoint=run / "checkpoints/old.ckpt").module.state_dict()
    assert all(torch.equal(state[k], raw[k]) for k in buffers)


def _lr_trajectory():
    lrs = {}

    class LR(L.Callback):
        def on_train_batch_start(self, trainer, pl_module, batch, batch_idx):
            lrs[trainer.global_step] = trainer.optimizers[0].param_groups[0]["lr"]

    return lrs, LR()


def test_resume_with_more_steps_follows_the_longer_schedule(tmp_path):
    fresh_lrs, rec = _lr_trajectory()
    train(TOY, toy_cfg("train.max_steps=40", "train.val_every=-1"), tmp_path / "fresh", callbacks=[rec])
    train(TOY, toy_cfg("train.max_steps=10", "train.val_every=-1"), tmp_path / "ext")
    ext_lrs, rec = _lr_trajectory()
    train(TOY, toy_cfg("train.max_steps=40", "train.val_every=-1"), tmp_path / "ext", callbacks=[rec])
    assert sorted(ext_lrs) == list(range(10, 40))
    for step in range(10, 40):
        assert ext_lrs[step] == pytest.approx(fresh_lrs[step], rel=1e-9, abs=1e-12), step
    assert fresh_lrs[39] < fresh_lrs[10]  # a real decay, not a flat line


def test_run_folder_text_files_use_the_shared_atomic_writer(tmp_path, monkeypatch):
    import motionlab.config as config_mod
    import motionlab.train.callbacks as callbacks_mod
    import motionlab.train.engine as engine_mod
    from motionlab.core.files import atomic_write_text

    written = []

    def recording(path, text):
        written.append(Path(path).name)
        atomic_write_text(path, text)

    for mod in (config_mod, callbacks_mod, engine_mod):
        monkeypatch.setattr(mod, "atomic_write_text", recording)  # fails if the module has its own copy
    run = train(TOY, toy_cfg("train.max_steps=4", "train.val_every=-1"), tmp_path / "run")
    evaluate(run, recipe=TOY)
    assert {"config.yaml", "run.json", "history.json", "metrics.json"} <= set(written)
    assert not [p for p in run.iterdir() if ".tmp" in p.name]
