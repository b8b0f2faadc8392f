"""The thin LightningModule of ``t2m`` (the data module is :class:`motionlab.recipes.t2m.data.CaptionDataModule`)."""

from __future__ import annotations

from typing import Dict

import torch

from motionlab.recipes.t2m.config import T2MConfig
from motionlab.recipes.t2m.model import LOSS_TERMS, build_denoiser, make_scheduler, t2m_losses, weighted_total
from motionlab.train.module import RecipeModule


class T2MModule(RecipeModule):
    """Trains :class:`~motionlab.recipes.t2m.model.T2MDenoiser` to predict x0 from ``x_t`` at a uniformly drawn
    step; the text is dropped for ``diffusion.cond_drop`` of the samples. Logs ``train/<term>`` for every
    loss term, the weighted ``train/loss`` and the learning rate.

    The normalisation statistics live in buffers (``mean``, ``std``) so the geometric and foot terms can
    de-normalise; they are filled from the data module when training starts."""

    def __init__(self, cfg: T2MConfig) -> None:
        super().__init__(cfg)
        if cfg.loss.difference_scale not in ("data", "features"):
            from motionlab.errors import choices_error

            raise choices_error("difference scale", cfg.loss.difference_scale, ("data", "features"),
                                place="loss.difference_scale")
        self.model = build_denoiser(cfg)
        self.scheduler = make_scheduler(cfg, "ddpm")
        self.register_buffer("alphas_cumprod", self.scheduler.alphas_cumprod.clone().float(), persistent=False)
        F = self.model.feature_dim
        self.register_buffer("mean", torch.zeros(F))
        self.register_buffer("std", torch.ones(F))
        # per-channel scales of the velocity/acceleration terms (loss.difference_scale=data); filled in setup,
        # needed only for training, so they are not part of the checkpoint's weights
        self.register_buffer("vel_scale", torch.ones(F), persistent=False)
        self.register_buffer("acc_scale", torch.ones(F), persistent=False)

    def setup(self, stage: str) -> None:
        dm = getattr(self.trainer, "datamodule", None) if self._trainer is not None else None
        data = getattr(dm, "data", None)
        if data is None:
            return
        self.mean.copy_(torch.as_tensor(data.normalizer.mean))
        self.std.copy_(torch.as_tensor(data.normalizer.std))
        if self.cfg.loss.difference_scale == "data":
            v, a = data.difference_scales()
            self.vel_scale.copy_(torch.as_tensor(v))
            self.acc_scale.copy_(torch.as_tensor(a))
        if hasattr(self.model.text, "set_vocabulary"):
            self.model.text.set_vocabulary(data.train_captions())

    def add_noise(self, x0: torch.Tensor, noise: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
        a = self.alphas_cumprod.to(x0.device)[t].to(x0.dtype)[:, None, None]
        return a.sqrt() * x0 + (1 - a).sqrt() * noise

    def _step(self, batch: Dict[str, torch.Tensor], prefix: str) -> torch.Tensor:
        x0, mask = batch["motion"], batch["mask"]
        B = x0.shape[0]
        t = torch.randint(0, self.cfg.diffusion.train_steps, (B,), device=x0.device)
        x_t = self.add_noise(x0, torch.randn_like(x0), t)
        drop = torch.rand(B, device=x0.device) < self.cfg.diffusion.cond_drop if prefix == "train" else None
        text = self.model.encode_text(batch["text"])
        pred = self.model(x_t, t, text, mask, drop)
        scale = (self.vel_scale, self.acc_scale) if self.cfg.loss.difference_scale == "data" else None
        terms = t2m_losses(pred, x0, mask, self.mean, self.std, self.cfg.data.fps, scale, self.cfg.model.root_repr)
        total = weighted_total(terms, self.cfg.loss)
        self.log_losses({"loss": total, **{k: terms[k] for k in LOSS_TERMS}}, prefix, batch_size=B)
        return total

    def training_step(self, batch, batch_idx):
        return self._step(batch, "train")

    def validation_step(self, batch, batch_idx):
        self._step(batch, "val")
