"""The training engine on a tiny regression recipe defined here (not part of the package)."""

from __future__ import annotations

import csv
import json
import math
from dataclasses import dataclass, field
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
from motionlab.train.callbacks import NonFiniteTraining, StageSchedule
from motionlab.train.checkpoint import load_checkpoint
from motionlab.train.config import StageConfig, TrainConfig
from motionlab.train.data import ResumableLoader
from motionlab.train.engine import evaluate, load_run, train
from motionlab.train.module import RecipeModule
from motionlab.train.schedules import WarmupCosine, warmup_cosine

# --- the toy recipe ----------------------------------------------------------------------------


def _toy_train() -> TrainConfig:
    return TrainConfig(max_steps=40, lr=2e-2, warmup_steps=5, progress="none", checkpoint_every=10, log_every=5,
                       val_every=10, accelerator="cpu", nan_max_bad_steps=3)


@dataclass
class ToyConfig:
    train: TrainConfig = field(default_factory=_toy_train)
    num_items: int = 100
    batch_size: int = 8
    hidden: int = 16
    dropout: float = 0.2
    nan_steps: List[int] = field(default_factory=list)  # global steps whose loss is made NaN


class ToyModule(RecipeModule):
    def __init__(self, cfg: ToyConfig) -> None:
        super().__init__(cfg)
        self.model = nn.Sequential(nn.Linear(3, cfg.hidden), nn.Tanh(), nn.Dropout(cfg.dropout), nn.Linear(cfg.hidden, 1))

    def training_step(self, batch, batch_idx):
        x, y = batch
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
