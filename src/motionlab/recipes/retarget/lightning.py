"""The thin LightningModule and the data module of the ``retarget`` recipe."""

from __future__ import annotations

from typing import Dict, Optional

import lightning as L
import numpy as np
import torch

from motionlab.data.features import BODY_DIMS
from motionlab.recipes.retarget.config import RetargetConfig, stream_names
from motionlab.recipes.retarget.model import LOSS_TERMS, RetargetModel
from motionlab.train.module import RecipeModule

#: Features per frame of each stream the recipe accepts.
STREAM_DIMS = {"body": BODY_DIMS, "g1_joints": 29}


def build_retarget_model(cfg: RetargetConfig) -> RetargetModel:
    """The plain :class:`RetargetModel` described by ``cfg`` (shapes follow from the config alone)."""
    human, robot = stream_names(cfg)
    m = cfg.model
    enc_kw = {"width": m.width, "depth": m.depth}
    if m.encoder == "resnet":
        enc_kw["dilation_growth"] = m.dilation_growth
    else:
        enc_kw = {"width": m.width, "num_layers": m.depth}
    return RetargetModel(STREAM_DIMS[human], STREAM_DIMS[robot], encoder=m.encoder, quantizer=m.quantizer,
                         latent_dim=m.latent_dim, down_t=m.down_t, encoder_kwargs=enc_kw,
                         quantizer_kwargs=dict(m.quantizer_kwargs), human_root=m.human_root,
                         decoder_input=m.decoder_input)


class RetargetModule(RecipeModule):
    """Trains :class:`RetargetModel` on paired windows ``{human stream, robot stream}``; logs every
    loss term (``train/recon``, ``train/cross``, ...) and the weighted total ``train/loss``."""

    main_metrics = ("val/cross", "val/recon", "val/align", "val/vel")

    def __init__(self, cfg: RetargetConfig) -> None:
        super().__init__(cfg)
        self.model = build_retarget_model(cfg)
        self.human_key, self.robot_key = stream_names(cfg)

    def _step(self, batch: Dict[str, torch.Tensor], prefix: str) -> torch.Tensor:
        w = self.cfg.loss
        terms = self.model.losses(batch[self.human_key], batch[self.robot_key], temperature=w.temperature,
                                  detach_robot_latent=w.detach_robot_latent, clip=batch.get("clip"),
                                  align_standardise=w.align_standardise)
        out = terms.pop("out")
        total = sum(getattr(w, k) * terms[k] for k in LOSS_TERMS)
        logged = {"loss": total, **terms}
        with torch.no_grad():  # the robot latent's spread: watch it for a collapse of the latent scale
            logged["z_r_var"] = out["z_r"].float().var(unbiased=False)
        logged.update({f"q_{k}": v for k, v in out["stats"].items() if k in ("quant_error", "batch_perplexity",
                                                                               "batch_perplexity/0")})
        self.log_losses(logged, prefix, batch_size=batch[self.robot_key].shape[0])
        return total

    def on_fit_start(self) -> None:
        """Hand the model the official G1 joint limits in the robot stream's normalised units."""
        dm = getattr(self.trainer, "datamodule", None)
        norm = getattr(getattr(dm, "data", None), "normalizers", {}).get(self.robot_key)
        if norm is not None and self.robot_key == "g1_joints":
            from motionlab.robots.g1 import G1_LOWER, G1_UPPER

            lo, hi = norm(np.asarray(G1_LOWER, np.float32)), norm(np.asarray(G1_UPPER, np.float32))
            self.model.set_limits(torch.as_tensor(lo, device=self.device), torch.as_tensor(hi, device=self.device))

    def training_step(self, batch, batch_idx):
        return self._step(batch, "train")

    def validation_step(self, batch, batch_idx):
        self._step(batch, "val")
        xr = batch[self.robot_key]
        with torch.no_grad():  # the training mean pose (0 in normalised joints): the summary's baseline
            self.log_baseline("mean_pose", "cross", xr.float().pow(2).mean(), batch_size=xr.shape[0])
            self.log_baseline("mean_pose", "vel", xr.float().diff(dim=1).pow(2).mean(), batch_size=xr.shape[0])


class RetargetData(L.LightningDataModule):
    """Paired windows from :class:`motionlab.data.dataset.WindowData` (read in ``setup``)."""

    def __init__(self, cfg: RetargetConfig) -> None:
        super().__init__()
        self.cfg = cfg
        self.data = None

    def setup(self, stage: Optional[str] = None) -> None:
        if self.data is None:
            from motionlab.data.dataset import WindowData

            stream_names(self.cfg)
            self.data = WindowData(self.cfg.data)

    def train_dataloader(self):
        return self.data.loader("train", seed=self.cfg.train.seed)

    def val_dataloader(self):
        return self.data.loader("val" if len(self.data.dataset("val")) else "test")

    def save_stats(self, run_dir) -> None:
        self.data.save_stats(run_dir)
