"""The thin LightningModule and the data module of the ``recover`` recipe.

Every step: the supervised (synthetic) loss on a labelled source batch. With adaptation enabled, the
motion discriminator learns every step (real: source 3D; fake: implausible versions of it, and the
lifter's target predictions when ``adapt.disc_target_fakes``), and from ``adapt.start_step`` the steps the alternating sampler picks also see an
unlabelled target batch: pseudo-labels from the teacher's augmented views, the adversarial term, 2D
re-projection and bone-length consistency. With ``model.domain_inputs`` the target batches go through the
target's input stage, which from ``adapt.start_step`` also learns the source labels (``adapt.source_via_target``).
Logged by name: ``synthetic_loss``, ``real_loss``,
``discriminator_real_loss``, ``discriminator_fake_loss``, ``discriminator_adv_loss``, ``adv_scale`` (the
factor ``adapt.adv_grad_cap`` put on the adversarial term), ``confidence_threshold``, ``pseudo_accepted`` (fraction of target windows whose pseudo-label passed),
``pseudo_confidence``, ``pseudo_loss``, ``pseudo_view_deg`` (the mean refitted camera tilt), ``reprojection_loss``,
``bone_loss``, ``bone_prior_loss``, ``consistency_loss``, ``source_via_target_loss``.
"""

from __future__ import annotations

import copy
import math
import os
from pathlib import Path
from typing import Dict, Optional

import lightning as L
import numpy as np
import torch
import torch.nn.functional as F
from torch.func import functional_call

from motionlab.nn.discriminators import MotionDiscriminator
from motionlab.recipes.recover import adapt as A
from motionlab.recipes.recover import geometry as G
from motionlab.errors import MotionLabError, choices_error
from motionlab.recipes.recover.config import ADVERSARIAL, SELECTIONS, RecoverConfig
from motionlab.recipes.recover.inputs import TargetInputModel, TiltBank, randomise_confidence, review_source, window_pitch
from motionlab.recipes.recover.model import build_lifter
from motionlab.train.module import RecipeModule

SOURCE_ONLY_CKPT = "source_only.ckpt"
DISC_DIM = G.J * 6 + 3


def supervised_terms(out: torch.Tensor, target: torch.Tensor, fps: float) -> Dict[str, torch.Tensor]:
    """L1 of each output part against its target (``motion`` in m/s and rad/s)."""
    p, t = G.split(out), G.split(target)
    return {"joints": (p["rel"] - t["rel"]).abs().mean(), "root": (p["root"] - t["root"]).abs().mean(),
            "world": (p["canon"] - t["canon"]).abs().mean(),
            "motion": ((p["motion"] - t["motion"]) * fps).abs().mean()}


def mpjpe_torch(out: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """MPJPE (mm) of camera-frame joints after hip-centre alignment."""
    p, t = G.split(out)["rel"], G.split(target)["rel"]
    p = p - p[..., G.HIPS, :].mean(-2, keepdim=True)
    t = t - t[..., G.HIPS, :].mean(-2, keepdim=True)
    return (p - t).norm(dim=-1).mean() * 1000


class RecoverModule(RecipeModule):
    """The lifter (``.model``), the motion discriminator (``.discriminator``) and the EMA teacher."""

    def __init__(self, cfg: RecoverConfig) -> None:
        super().__init__(cfg)
        self.model = build_lifter(cfg)
        m = cfg.model
        self.discriminator = MotionDiscriminator(DISC_DIM, m.disc_hidden, m.disc_layers)
        self.teacher = copy.deepcopy(self.model)
        for p in self.teacher.parameters():
            p.requires_grad_(False)
        self._teacher_ready = False
        self._anchor: Optional[Dict[str, torch.Tensor]] = None  # source-only weights (adapt.anchor_decay)
        self.tilts = TiltBank()

    # -- helpers --------------------------------------------------------------------------------------
    @property
    def fps(self) -> float:
        return float(self.cfg.data.fps)

    def _gen(self, step: int, salt: int) -> torch.Generator:
        return torch.Generator().manual_seed(self.cfg.train.seed * 1_000_003 + 31 * step + salt)

    def _disc_frozen(self, x: torch.Tensor) -> torch.Tensor:
        params = {k: v.detach() for k, v in self.discriminator.named_parameters()}
        return functional_call(self.discriminator, params, (x,))

    def _adapting(self, step: int) -> bool:
        a = self.cfg.adapt
        return a.enabled and step >= a.start_step

    # -- hooks ------------------------------------------------------------------------------------------
    def on_train_batch_start(self, batch, batch_idx) -> None:
        a = self.cfg.adapt
        step = self.global_step
        if a.enabled and step == a.start_step and self.trainer is not None and self.trainer.is_global_zero:
            self._save_source_only(Path(self.trainer.default_root_dir))
        if a.enabled and step >= a.start_step and not self._teacher_ready:
            self.model.init_target_inputs()
            self.teacher.load_state_dict(self.model.state_dict())
            self._teacher_ready = True
        if self._adapting(step) and a.anchor_decay > 0 and self._anchor is None:
            self._anchor = self._anchor_values()

    def _anchor_values(self) -> Dict[str, torch.Tensor]:
        """The lifter's weights outside the target's stage as they are now (at ``adapt.start_step``: the
        source-only weights), or as ``checkpoints/source_only.ckpt`` holds them after a resume."""
        state = {n: p.detach() for n, p in self.model.named_parameters()}
        trainer = self._trainer
        if trainer is not None and self.global_step > self.cfg.adapt.start_step:
            path = Path(trainer.default_root_dir) / "checkpoints" / SOURCE_ONLY_CKPT
            if not path.is_file():  # the weights now are adapted ones: anchoring to them would be silently wrong
                raise MotionLabError(f"adapt.anchor_decay needs the source-only weights to resume at step "
                                     f"{self.global_step}, and {path} is missing", place="adapt.anchor_decay")
            saved = torch.load(path, map_location="cpu", weights_only=True)["state_dict"]
            state = {n[len("model."):]: v for n, v in saved.items() if n.startswith("model.")}
        return A.anchor_values(self.model, state)

    def on_train_batch_end(self, outputs, batch, batch_idx) -> None:
        a = self.cfg.adapt
        if self._teacher_ready and a.ema_teacher:
            with torch.no_grad():
                for pt, ps in zip(self.teacher.parameters(), self.model.parameters()):
                    pt.lerp_(ps.detach(), 1.0 - a.ema_decay)

    def optimizer_step(self, epoch, batch_idx, optimizer, optimizer_closure=None) -> None:
        """The optimiser's step, then (``adapt.anchor_decay``) the pull toward the source-only weights, AdamW-style
        outside Adam's scaling, at the learning rate this step used. Here rather than in ``on_train_batch_end``:
        the checkpoint callbacks run before the module's batch-end hook, so a checkpoint of the last step would
        miss its pull."""
        super().optimizer_step(epoch, batch_idx, optimizer, optimizer_closure)
        if self._anchor is not None:
            lr = float(optimizer.param_groups[0]["lr"])
            A.pull_toward(self.model, self._anchor, self.cfg.adapt.anchor_decay * lr)

    def on_load_checkpoint(self, checkpoint) -> None:
        self._teacher_ready = int(checkpoint.get("global_step", 0)) > self.cfg.adapt.start_step

    def _save_source_only(self, run_dir: Path) -> None:
        path = run_dir / "checkpoints" / SOURCE_ONLY_CKPT
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".tmp")
        torch.save({"state_dict": self.state_dict(), "global_step": int(self.global_step)}, tmp)
        os.replace(tmp, path)

    def configure_gradient_clipping(self, optimizer, gradient_clip_val=None, gradient_clip_algorithm=None) -> None:
        """Clip the lifter's and the discriminator's gradients each to ``train.grad_clip`` on its own: one
        global norm over both lets the discriminator's large early gradients shrink the lifter's steps (an
        adapted run then trails the source-only run long before adaptation starts)."""
        if not gradient_clip_val:
            return
        own = {id(p) for p in self.model.target_stage_parameters()}
        groups = ([p for p in self.model.parameters() if id(p) not in own], self.model.target_stage_parameters(),
                  list(self.discriminator.parameters()))
        for params in groups:
            grads = [p for p in params if p.grad is not None]
            if grads:
                torch.nn.utils.clip_grad_norm_(grads, float(gradient_clip_val))

    # -- steps ------------------------------------------------------------------------------------------
    def training_step(self, batch, batch_idx):
        cfg, a, w = self.cfg, self.cfg.adapt, self.cfg.loss
        step = int(self.global_step)
        gen = self._gen(step, 0)
        feat, box, target = batch["feat"], batch["box"], batch["target"]
        flip = torch.rand(feat.shape[0], generator=gen) < 0.5
        if flip.any():  # mirror half the source windows (targets mirrored with them)
            ff, fb = A.flip_input(feat[flip], box[flip])
            feat, box, target = feat.clone(), box.clone(), target.clone()
            feat[flip], box[flip], target[flip] = ff, fb, A.flip_output(target[flip])
        feat, box, target = self._review(feat, box, target, step, gen)
        feat = self._source_inputs(feat, step, gen)
        out = self.model(feat, box)
        terms = supervised_terms(out, target, self.fps)
        sup = sum(getattr(w, k) * v for k, v in terms.items()) + w.bone_source * A.bone_loss(out)
        logs = {f"source_{k}": v for k, v in terms.items()}
        logs["synthetic_loss"] = sup
        if self._adapting(step) and self.model.domain_inputs and a.source_via_target > 0:
            # the target's input stage learns from the labels too (read through it, the same source batch)
            via = supervised_terms(self.model(feat, box, domain="target"), target, self.fps)
            logs["source_via_target_loss"] = sum(getattr(w, k) * v for k, v in via.items())
            sup = sup + a.source_via_target * logs["source_via_target_loss"]
        total = a.synthetic_weight * sup if a.enabled else sup
        use_d = a.enabled and a.use_discriminator
        fakes = [A.implausible(target, gen)] if use_d else []
        if self._adapting(step):
            dm = self.trainer.datamodule
            sampler = dm.target_sampler
            if sampler.is_target_step(step):
                idx = sampler.indices(step)
                tf, tb = dm.target["feat"][idx].to(feat.device), dm.target["box"][idx].to(feat.device)
                real_loss, tout, tlogs = self._target_step(tf, tb, step, gen)
                total = total + a.real_weight * real_loss
                logs.update(tlogs)
                logs["real_loss"] = real_loss
                if use_d:
                    logit = self._disc_frozen(A.disc_features(tout, self.fps))
                    if a.adversarial == "least_squares":  # bounded, but no gradient once the critic is sure
                        adv = ((torch.sigmoid(logit) - 1) ** 2).mean()
                    elif a.adversarial == "non_saturating":  # -log D: still pulls when the critic is sure
                        adv = F.softplus(-logit).mean()
                    else:
                        raise choices_error("adapt.adversarial", a.adversarial, ADVERSARIAL)
                    scale = self._adv_scale(a.synthetic_weight * sup, a.discriminator_weight * adv)
                    total = total + scale * a.discriminator_weight * adv
                    logs.update(discriminator_adv_loss=adv, adv_scale=scale)
                    if a.disc_target_fakes:
                        fakes.append(tout.detach())
            logs["confidence_threshold"] = torch.tensor(A.threshold_at(step, cfg))
        if use_d:
            real_logit = self.discriminator(A.disc_features(target, self.fps))
            fake_logit = torch.cat([self.discriminator(A.disc_features(f, self.fps)) for f in fakes])
            d_real = F.softplus(-real_logit).mean()
            d_fake = F.softplus(fake_logit).mean()
            total = total + d_real + d_fake
            logs.update(discriminator_real_loss=d_real, discriminator_fake_loss=d_fake)
        logs["loss"] = total
        self.log_losses(logs, "train", batch_size=feat.shape[0])
        return total

    def _adv_scale(self, sup: torch.Tensor, adv: torch.Tensor) -> torch.Tensor:
        """The factor (<= 1, no gradient) that keeps the adversarial gradient at the lifter's output layer
        within ``adapt.adv_grad_cap`` times the supervised one (1 when the cap is 0 or not reached). A critic
        that separates the target predictions completely otherwise makes -log D, and its gradient, grow
        without bound, and the supervised source loss stalls under the shared gradient clipping."""
        cap = float(self.cfg.adapt.adv_grad_cap)
        one = adv.new_ones(())
        if cap <= 0 or not (sup.requires_grad and adv.requires_grad):
            return one
        # the output layer the adversarial term reads: the target's own with model.domain_outputs
        last = self.model.out_target.weight if self.model.domain_outputs else self.model.out.weight
        g_sup = torch.autograd.grad(sup, last, retain_graph=True, allow_unused=True)[0]
        if g_sup is None:  # no labelled loss reads the target's layer (adapt.source_via_target=0): the source's
            g_sup = torch.autograd.grad(sup, self.model.out.weight, retain_graph=True, allow_unused=True)[0]
        g_adv = torch.autograd.grad(adv, last, retain_graph=True, allow_unused=True)[0]
        if g_sup is None or g_adv is None:
            return one
        ratio = cap * g_sup.norm() / g_adv.norm().clamp_min(1e-12)
        return torch.nan_to_num(ratio, nan=1.0, posinf=1.0).clamp(max=1.0).detach()

    def _review(self, feat, box, target, step: int, gen: torch.Generator):
        """While adapting (``adapt.view_transfer``), a fraction of the source windows seen from the camera
        tilts fitted to recent target windows, their labels turned with them."""
        a = self.cfg.adapt
        if not (self._adapting(step) and a.view_transfer and len(self.tilts.values)):
            return feat, box, target
        pick = torch.rand(feat.shape[0], generator=gen) < a.view_transfer_fraction
        if not pick.any():
            return feat, box, target
        n = int(pick.sum())
        p = G.split(target[pick])
        lim = math.radians(a.view_fit_deg)
        turn = self.tilts.draw(n, gen).to(feat).clamp(-lim, lim) - window_pitch(p["rel"], p["canon"])
        rf, rb, rt = review_source(feat[pick], box[pick], target[pick], turn, self.cfg.data.source_noise, gen)
        feat, box, target = feat.clone(), box.clone(), target.clone()
        feat[pick], box[pick], target[pick] = rf, rb, rt
        return feat, box, target

    def _source_inputs(self, feat: torch.Tensor, step: int, gen: torch.Generator) -> torch.Tensor:
        """Source inputs with target confidence patterns (adapting, ``adapt.input_transfer``) or generic
        random confidences (``data.source_conf_aug``) on a fraction of the windows."""
        a = self.cfg.adapt
        dm = self.trainer.datamodule if self.trainer is not None else None
        model = getattr(dm, "input_model", None)
        if self._adapting(step) and a.input_transfer and model is not None:
            return model.apply(feat, gen, a.input_transfer_fraction)
        if self.cfg.data.source_conf_aug > 0:
            return randomise_confidence(feat, gen, self.cfg.data.source_conf_aug)
        return feat

    def _target_step(self, tf: torch.Tensor, tb: torch.Tensor, step: int, gen: torch.Generator):
        a = self.cfg.adapt
        logs: Dict[str, torch.Tensor] = {}
        real = tf.new_zeros(())
        student_in = A.jitter_input(tf, a.jitter, gen, drop=0.05) if a.use_pseudo_labels else tf
        tout = self.model(student_in, tb, domain="target")
        if a.use_pseudo_labels:
            teacher = self.teacher if a.ema_teacher else self.model
            was = teacher.training
            teacher.eval()
            pl = A.pseudo_labels(lambda f, b: teacher(f, b, domain="target"), tf, tb, self.cfg, gen)
            teacher.train(was)
            if a.use_discriminator:
                with torch.no_grad():
                    score = torch.sigmoid(self.discriminator(A.disc_features(pl["out"], self.fps)))
            else:
                score = torch.ones_like(pl["agreement"])
            conf = score * pl["agreement"] * pl.get("view_fit", torch.ones_like(score))
            thr = A.threshold_at(step, self.cfg)
            if a.selection == "rank":
                keep = A.select_by_rank(conf, thr)
            elif a.selection == "absolute":
                keep = (conf >= thr).to(tf.dtype)
            else:
                raise choices_error("adapt.selection", a.selection, SELECTIONS)
            p = G.split(tout)
            err = (p["rel"] - pl["rel"]).abs().mean(dim=(1, 2, 3)) + (p["canon"] - pl["canon"]).abs().mean(dim=(1, 2, 3))
            weight = keep * conf  # a confidence-weighted mean over the accepted windows
            pseudo = (weight * err).sum() / weight.sum().clamp_min(1e-6)
            real = real + a.pseudo_weight * pseudo
            logs.update(pseudo_loss=pseudo, pseudo_accepted=keep.mean(), pseudo_confidence=conf.mean(),
                        pseudo_agreement=pl["agreement"].mean(), pseudo_score=score.mean())
            if "view_angle" in pl:
                tilt = window_pitch(pl["rel"], pl["canon"])
                self.tilts.add(tilt[keep > 0])
                logs["target_tilt_deg"] = tilt.mean() * (180.0 / math.pi)
                logs.update(pseudo_view_deg=pl["view_angle"].mean() * (180.0 / math.pi), pseudo_view_fit=pl["view_fit"].mean())
        ref = getattr(self.trainer.datamodule, "bone_reference", None) if self.trainer is not None else None
        terms = {"reprojection_loss": (a.reprojection_weight, lambda: A.reprojection_loss(tout, tf, tb)),
                 "bone_loss": (a.bone_weight, lambda: A.bone_loss(tout)),
                 "bone_prior_loss": (a.bone_prior_weight if ref is not None else 0.0,
                                     lambda: A.bone_prior_loss(tout, ref)),
                 "consistency_loss": (a.consistency_weight, lambda: A.view_consistency_loss(tout))}
        for name, (weight, term) in terms.items():
            if weight > 0:
                logs[name] = term()
                real = real + weight * logs[name]
        return real, tout, logs

    def validation_step(self, batch, batch_idx, dataloader_idx: int = 0):
        name = "source" if dataloader_idx == 0 else "target"
        out = self.model(batch["feat"], batch["box"], domain=name)
        self.log(f"val/mpjpe_{name}", mpjpe_torch(out, batch["target"]), on_epoch=True, on_step=False,
                 batch_size=batch["feat"].shape[0], add_dataloader_idx=False)


class RecoverData(L.LightningDataModule):
    """Labelled source windows, the unlabelled target pool and the sampler that alternates them."""

    def __init__(self, cfg: RecoverConfig) -> None:
        super().__init__()
        self.cfg = cfg
        self.source: Optional[Dict[str, torch.Tensor]] = None
        self.target: Optional[Dict[str, torch.Tensor]] = None
        self.val: Dict[str, Dict[str, torch.Tensor]] = {}
        self.target_sampler: Optional[A.AlternatingSampler] = None
        self.input_model: Optional[TargetInputModel] = None
        self.bone_reference: Optional[torch.Tensor] = None  # (21,) mean bone lengths of the labelled source (m)

    def setup(self, stage: Optional[str] = None) -> None:
        if self.source is not None:
            return
        from motionlab.recipes.recover.data import corpus_tracks, folder_tracks, windows

        d = self.cfg.data
        tracks = corpus_tracks(self.cfg, ("train",), ("synthetic", "real"), extra_cameras=d.source_cameras)
        src = [t for t in tracks if t.domain == "synthetic"]
        tgt = folder_tracks(self.cfg, d.target_root) if d.target_root else [t for t in tracks if t.domain == "real"]
        self.source = _tensors(windows(src, d.window, d.stride))
        self.target = _tensors(windows(tgt, d.window, d.stride, labelled=False))
        self.bone_reference = G.bone_lengths(G.split(self.source["target"])["rel"]).mean(dim=(0, 1))
        self.target_sampler = A.AlternatingSampler(len(self.target["feat"]), d.batch_size,
                                                   self.cfg.adapt.alternating_ratio, self.cfg.train.seed)
        if self.cfg.adapt.enabled and self.cfg.adapt.input_transfer:
            self.input_model = TargetInputModel(self.target["feat"].numpy(), self.source["feat"].numpy())
        val = corpus_tracks(self.cfg, ("val",), ("synthetic", "real"), labelled_real=True)
        for dom in ("synthetic", "real"):
            self.val[dom] = _tensors(windows([t for t in val if t.domain == dom], d.window, d.window))
        print(f"recover data: {len(self.source['feat'])} source windows ({len(src)} tracks), "
              f"{len(self.target['feat'])} unlabelled target windows ({len(tgt)} tracks)", flush=True)

    def train_dataloader(self):
        from motionlab.train.data import ResumableLoader

        return ResumableLoader(_Windows(self.source), self.cfg.data.batch_size, shuffle=True,
                               seed=self.cfg.train.seed, drop_last=True, collate_fn=_collate)

    def val_dataloader(self):
        from torch.utils.data import DataLoader

        return [DataLoader(_Windows(self.val[d]), batch_size=256, collate_fn=_collate) for d in ("synthetic", "real")]


def _tensors(arrays: Dict[str, np.ndarray]) -> Dict[str, torch.Tensor]:
    return {k: torch.from_numpy(np.ascontiguousarray(v, dtype=np.float32)) for k, v in arrays.items()}


class _Windows(torch.utils.data.Dataset):
    def __init__(self, arrays: Dict[str, torch.Tensor]) -> None:
        self.arrays = arrays

    def __len__(self) -> int:
        return int(next(iter(self.arrays.values())).shape[0])

    def __getitem__(self, i):
        return i

    def __getitems__(self, indices):
        idx = torch.as_tensor(indices)
        return {k: v[idx] for k, v in self.arrays.items()}


def _collate(batch):
    return batch
