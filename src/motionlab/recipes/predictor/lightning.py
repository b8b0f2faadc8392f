"""The thin LightningModule and the data module of the ``predictor`` recipe.

Training step (one batch of normalised windows ``(B, W, 141)``):

1. a scheduled-sampling pass over the window: at every step the model predicts the next frame; the next
   input is the true frame with probability ``tf`` (the teacher-forcing ratio of the epoch, see
   :func:`~motionlab.recipes.predictor.schedule.teacher_forcing_ratio`) and its own (detached)
   prediction otherwise; every pose term is measured on these predictions;
2. when the free-run weight is positive (or ``freerun`` is an adaptive term), a free run of
   ``freerun_horizon`` frames from a random start, feeding back its own frames (with gradient through
   the rollout unless ``loss.freerun_backprop`` is false);
3. the weighted total (stage values override ``loss.w_*``; adaptive terms go through the balancer),
   logged per term (``train/<term>``), per group share (``loss_group/<core|aux|long>``) and per adaptive
   weight (``adaptive_loss/<term>``).

Every validation runs teacher-forced (one step from true frames) and free-run (``eval.val_horizon``
frames) over the validation windows and writes ``metrics/teacher_epXXX.json``,
``metrics/valfree_epXXX.json`` and the histories ``metrics/teacher/<name>.txt`` and
``metrics/valfree/<name>.txt`` (``epoch step value`` per line) into the run folder.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any, Dict, List, Optional

import lightning as L
import numpy as np
import torch
import torch.nn.functional as F

from motionlab.core.body import smpl22_skeleton
from motionlab.data.character_state import CHARACTER_DIMS
from motionlab.recipes.predictor.config import PredictorConfig
from motionlab.recipes.predictor.losses import LOSS_TERMS, motion_terms
from motionlab.recipes.predictor.model import POSE, build_stepper, controls_from_states, load_encoder_weights, rollout
from motionlab.recipes.predictor.schedule import group_shares, stage_configs, teacher_forcing_ratio, validate_config
from motionlab.train.module import RecipeModule

log = logging.getLogger("motionlab.predictor")
STREAM = "character"
FREERUN_MOTION_TERMS = ("rot_geo", "rot_delta", "fk_pos", "rot_local", "rot_delta_root", "phase")


def reset_balancer(balancer) -> None:
    """Back to the balancer's initial state (at a stage boundary)."""
    from motionlab.train.adaptive import reset_balancer as reset

    reset(balancer)


class PredictorModule(RecipeModule):
    """Trains :class:`~motionlab.recipes.predictor.model.MotionStepper` (``self.model``)."""

    def __init__(self, cfg: PredictorConfig) -> None:
        super().__init__(cfg)
        self.warnings = validate_config(cfg)
        self.model = build_stepper(cfg.model, CHARACTER_DIMS, cfg.data.fps)
        if cfg.model.pretrained_encoder:
            load_encoder_weights(self.model, cfg.model.pretrained_encoder)
        self.skeleton = smpl22_skeleton()
        a = cfg.train.adaptive
        self.balancer = None
        if a.method != "none":
            from motionlab.train.adaptive import build_balancer

            kwargs = {"gradnorm": {"alpha": a.alpha, "rate": a.rate}, "dwa": {"temperature": a.temperature}}.get(a.method, {})
            self.balancer = build_balancer(a.method, list(a.terms), **kwargs)
        self._noted_stages: set = set()
        self._contrib: Dict[str, float] = {}
        self._val: Dict[str, List[np.ndarray]] = {}

    # -- setup ------------------------------------------------------------------------------------
    def set_statistics(self, normalizer) -> None:
        """Copy the state's normalisation into the model's buffers (saved with every checkpoint)."""
        with torch.no_grad():
            self.model.stats_mean.copy_(torch.as_tensor(normalizer.mean, dtype=torch.float32))
            self.model.stats_std.copy_(torch.as_tensor(normalizer.std, dtype=torch.float32))

    def setup(self, stage: str) -> None:
        dm = getattr(self.trainer, "datamodule", None) if self._trainer is not None else None
        if dm is not None and getattr(dm, "data", None) is not None and stage == "fit":
            self.set_statistics(dm.data.normalizers[STREAM])

    def configure_callbacks(self):
        if not self.cfg.freerun_stage_schedule:
            return []
        from motionlab.train.callbacks import StageSchedule

        return [StageSchedule(stage_configs(self.cfg), unit="epoch")]

    def on_stage_change(self, label: str, values: Dict[str, float]) -> None:
        if self.balancer is not None:
            reset_balancer(self.balancer)

    # -- weights ----------------------------------------------------------------------------------
    def weight(self, term: str) -> float:
        if term == "freerun":
            return self.stage_value("freerun_weight", self.cfg.loss.freerun_weight)
        return self.stage_value(f"w_{term}", getattr(self.cfg.loss, f"w_{term}"))

    def tf_ratio(self, batch_idx: int) -> float:
        n = max(int(getattr(self.trainer, "num_training_batches", 1) or 1), 1) if self._trainer is not None else 1
        epoch = self.current_epoch + 1 + (batch_idx / n if self.cfg.train.tf_mode == "step_linear" else 0.0)
        sv = self.stage_values
        return teacher_forcing_ratio(self.cfg, epoch, sv.get("tf_max"), sv.get("tf_min"))

    # -- passes -----------------------------------------------------------------------------------
    def _denorm(self, x: torch.Tensor) -> torch.Tensor:
        return self.model.denormalize(x)

    def teacher_pass(self, x: torch.Tensor, controls: torch.Tensor, tf: float) -> Dict[str, torch.Tensor]:
        """Scheduled sampling over a window: predictions of frames ``2..W-1``, the inputs actually fed."""
        W = x.shape[1]
        if self.training and self.cfg.train.noise_std > 0:  # noisy inputs, clean targets (in ``losses``)
            noise = self.cfg.train.noise_std * torch.randn_like(x)
            if self.cfg.train.noise_parts == "pose":
                noise[..., :POSE.start] = 0.0
                noise[..., POSE.stop:] = 0.0
            x = x + noise
        if tf >= 1.0:  # every input is true: one batched call
            o = self.model(x[:, 1:W - 1], x[:, 0:W - 2], controls[:, 1:W - 1])
            return {"pred": o["next"], "contact_logits": o["contact_logits"], "gait_logits": o["gait_logits"],
                    "inputs": x[:, 1:W - 1], "latent": o["latent"]}
        prev, cur = x[:, 0], x[:, 1]
        outs: Dict[str, List[torch.Tensor]] = {"pred": [], "contact_logits": [], "gait_logits": [], "inputs": [],
                                               "latent": []}
        for t in range(1, W - 1):
            o = self.model(cur, prev, controls[:, t])
            for k, v in (("pred", o["next"]), ("contact_logits", o["contact_logits"]),
                         ("gait_logits", o["gait_logits"]), ("inputs", cur), ("latent", o["latent"])):
                outs[k].append(v)
            keep = (torch.rand(x.shape[0], 1, device=x.device) < tf).to(x.dtype)
            nxt = keep * x[:, t + 1] + (1 - keep) * o["next"].detach()
            prev, cur = cur, nxt
        return {k: torch.stack(v, dim=1) for k, v in outs.items()}

    def losses(self, batch: Dict[str, torch.Tensor], tf: float, need_freerun: bool) -> Dict[str, torch.Tensor]:
        x = batch[STREAM]
        W = x.shape[1]
        controls = controls_from_states(x, self.cfg.model.control_frames)
        tp = self.teacher_pass(x, controls, tf)
        target = x[:, 2:W]
        pred = tp["pred"]
        terms = motion_terms(pred, target, self._denorm(pred), self._denorm(target), self.skeleton,
                             float(np.radians(self.cfg.loss.limb_margin_deg)))
        true_contacts = self._denorm(target)[..., 136:138].clamp(0, 1)
        # cross-entropy minus the soft targets' own entropy (a KL divergence): 0 when the scores are right
        q = true_contacts.clamp(1e-6, 1 - 1e-6)
        entropy = -(q * q.log() + (1 - q) * (1 - q).log()).mean()
        terms["contact"] = F.binary_cross_entropy_with_logits(tp["contact_logits"], true_contacts) - entropy
        labels = batch["label"].to(x.device).long()
        labels = torch.where(labels < self.cfg.model.gait_classes, labels, torch.full_like(labels, -100))
        logits = tp["gait_logits"]
        terms["gait"] = F.cross_entropy(logits.reshape(-1, logits.shape[-1]),
                                        labels[:, None].expand(-1, logits.shape[1]).reshape(-1), ignore_index=-100) \
            if bool((labels >= 0).any()) else logits.new_zeros(())
        z_pred = self.model.encoder(pred, tp["inputs"])
        with torch.no_grad():
            z_true = self.model.encoder(target, tp["inputs"])
        terms["latent_consistency"] = F.mse_loss(z_pred, z_true)
        if need_freerun:
            H = int(min(max(1, round(self.stage_value("freerun_horizon", self.cfg.loss.freerun_horizon))), W - 2))
            s = int(torch.randint(1, W - H, (1,)).item())
            fr = rollout(self.model, x[:, s - 1], x[:, s], controls[:, s:s + H], detach=not self.cfg.loss.freerun_backprop)
            terms["freerun"] = self.freerun_loss(fr["states"], x[:, s + 1:s + 1 + H])
        else:
            terms["freerun"] = x.new_zeros(())
        return terms

    def freerun_loss(self, pred: torch.Tensor, true: torch.Tensor) -> torch.Tensor:
        """The free-run term of a rollout ``(B, H, D)`` (normalised): ``loss.freerun_measure = state`` is the
        normalised-state MSE; ``motion`` weighs the rollout's pose and root terms like the teacher pass's
        (stage weights of ``FREERUN_MOTION_TERMS``), so the rotations count by their angle."""
        if self.cfg.loss.freerun_measure == "state":
            return F.mse_loss(pred, true)
        terms = motion_terms(pred, true, self._denorm(pred), self._denorm(true), self.skeleton,
                             float(np.radians(self.cfg.loss.limb_margin_deg)))
        return sum(self.weight(t) * terms[t] for t in FREERUN_MOTION_TERMS)

    def total(self, terms: Dict[str, torch.Tensor]):
        weighted = {t: self.weight(t) * terms[t] for t in LOSS_TERMS}
        adaptive: Dict[str, float] = {}
        if self.balancer is not None:
            names = self.balancer.names
            last = [m for m in self.model.encoder.net if isinstance(m, torch.nn.Linear)][-1]
            shared = list(last.parameters()) if self.training else None
            part, adaptive = self.balancer({n: weighted[n] for n in names}, shared=shared)
            total = part + sum(v for t, v in weighted.items() if t not in names)
            for n in names:
                weighted[n] = weighted[n] * adaptive[n]
        else:
            total = sum(weighted.values())
        return total, weighted, adaptive

    # -- steps ------------------------------------------------------------------------------------
    def training_step(self, batch, batch_idx):
        tf = self.tf_ratio(batch_idx)
        names = self.balancer.names if self.balancer is not None else []
        need_fr = self.weight("freerun") > 0 or "freerun" in names
        terms = self.losses(batch, tf, need_fr)
        total, weighted, adaptive = self.total(terms)
        shares, _ = group_shares({k: float(v.detach()) for k, v in weighted.items()})
        logged: Dict[str, Any] = {"loss": total, **terms, "tf_ratio": tf, "freerun_weight": self.weight("freerun")}
        self.log_losses(logged, "train", batch_size=batch[STREAM].shape[0])
        for g, v in shares.items():
            self.log(f"loss_group/{g}", v, on_step=True, on_epoch=False)
        for n, w in adaptive.items():
            self.log(f"adaptive_loss/{n}", w, on_step=True, on_epoch=False)
        for k, v in weighted.items():
            self._contrib[k] = self._contrib.get(k, 0.0) + float(v.detach())
        return total

    def on_train_epoch_end(self) -> None:
        """The guide's group-share warnings, once per stage, from the mean contributions of its first epoch."""
        label = self.stage_label or "all"
        if self._contrib and self.cfg.loss.group_warnings and label not in self._noted_stages:
            self._noted_stages.add(label)
            shares, notes = group_shares(self._contrib)
            for n in notes:
                log.warning("loss groups (stage %s, epoch %d): %s", label, self.current_epoch + 1, n)
        self._contrib = {}

    def validation_step(self, batch, batch_idx):
        x = batch[STREAM]
        W = x.shape[1]
        controls = controls_from_states(x, self.cfg.model.control_frames)
        o = self.model(x[:, 1:W - 1], x[:, 0:W - 2], controls[:, 1:W - 1])
        H = int(min(self.cfg.eval.val_horizon, W - 2))
        fr = rollout(self.model, x[:, 0], x[:, 1], controls[:, 1:1 + H])
        val_loss = F.mse_loss(o["next"], x[:, 2:W])
        self.log("val/loss", val_loss, on_step=False, on_epoch=True, batch_size=x.shape[0], prog_bar=True)
        raw = {"teacher_pred": o["next"], "teacher_true": x[:, 2:W], "free_pred": fr["states"],
               "free_true": x[:, 2:2 + H]}
        for k, v in raw.items():
            self._val.setdefault(k, []).append(self._denorm(v).detach().cpu().numpy())

    def on_validation_epoch_end(self) -> None:
        from motionlab.recipes.predictor.measures import summary

        if not self._val:
            return
        arr = {k: np.concatenate(v) for k, v in self._val.items()}
        self._val = {}
        fps = self.cfg.data.fps
        teacher = summary(arr["teacher_pred"], arr["teacher_true"], fps, free=False)
        free = summary(arr["free_pred"], arr["free_true"], fps, free=True)
        gap = free["GeoDeg"] / max(teacher["GeoDeg"], 1e-9)
        for k in ("GeoDeg", "YawAbsDeg", "RootVelMAE", "FootContact"):
            self.log(f"val/teacher_{k}", teacher[k], on_epoch=True)
            self.log(f"val/free_{k}", free[k], on_epoch=True)
        self.log("val/free_teacher_gap", gap, on_epoch=True)
        if self._trainer is None or self.trainer.sanity_checking or getattr(self.trainer, "global_rank", 0) != 0:
            return
        write_epoch_metrics(Path(self.trainer.default_root_dir), self.current_epoch + 1, int(self.global_step),
                            {"teacher": teacher, "valfree": {**{f"FreeRun/{k}": v for k, v in free.items()}, **free,
                                                             "gap/GeoDeg": gap}})


def write_epoch_metrics(run_dir: Path, epoch: int, step: int, modes: Dict[str, Dict[str, float]]) -> None:
    """``metrics/<mode>_epXXX.json`` and one ``metrics/<mode>/<name>.txt`` history line per number."""
    from motionlab.core.files import atomic_write_text

    root = run_dir / "metrics"
    for mode, values in modes.items():
        folder = root / mode
        folder.mkdir(parents=True, exist_ok=True)
        atomic_write_text(root / f"{mode}_ep{epoch:03d}.json", json.dumps({"epoch": epoch, "step": step, **values},
                                                                         indent=1))
        for name, v in values.items():
            path = folder / (name.replace("/", "__") + ".txt")
            line = f"{epoch} {step} {v:.6g}"
            text = path.read_text() if path.is_file() else ""
            lines = text.splitlines()
            if text.endswith("\n") and all(ln.split(" ", 1)[0] != str(epoch) for ln in lines):
                with open(path, "a", encoding="utf-8") as fh:  # a new epoch: one more line (no whole-file rewrite)
                    fh.write(line + "\n")
                continue
            lines = [ln for ln in lines if ln.split(" ", 1)[0] != str(epoch)]  # a resumed epoch replaces its line
            lines.append(line)
            atomic_write_text(path, "\n".join(lines) + "\n")


class PredictorData(L.LightningDataModule):
    """Windows of the ``character`` stream (:class:`motionlab.data.dataset.WindowData`, read in ``setup``)."""

    def __init__(self, cfg) -> None:
        super().__init__()
        self.cfg = cfg
        self.data = None

    def setup(self, stage: Optional[str] = None) -> None:
        if self.data is None:
            from motionlab.data.dataset import WindowData
            from motionlab.errors import MotionLabError

            if list(self.cfg.data.streams) != [STREAM]:
                raise MotionLabError(f"the predictor reads data.streams = [{STREAM}], got {list(self.cfg.data.streams)}",
                                     place="data.streams")
            self.data = WindowData(self.cfg.data)

    def train_dataloader(self):
        return self.data.loader("train", seed=self.cfg.train.seed)

    def val_dataloader(self):
        return self.data.loader("val" if len(self.data.dataset("val")) else "test")

    def save_stats(self, run_dir) -> None:
        self.data.save_stats(run_dir)
