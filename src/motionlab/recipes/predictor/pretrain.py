"""``predictor_pretrain``: pre-training of the predictor's motion encoder on its own.

The encoder (:class:`~motionlab.recipes.predictor.model.MotionEncoder`) reads ``(x_t, x_t - x_{t-1})``; two
linear probes on its latent reconstruct ``x_t`` and predict ``x_{t+1}`` (normalised MSE, equally weighted).
After training, ``encoder.pt`` in the run folder holds the encoder's weights; a predictor loads them with
``model.pretrained_encoder=<run>/encoder.pt`` (the encoder sizes of both configs must match).
"""

from __future__ import annotations

from pathlib import Path
from typing import Dict

import torch
import torch.nn.functional as F
from torch import nn

from motionlab.data.character_state import CHARACTER_DIMS
from motionlab.recipes.predictor.config import PretrainConfig
from motionlab.recipes.predictor.model import MotionEncoder
from motionlab.train.module import RecipeModule

ENCODER_FILE = "encoder.pt"


class PretrainModel(nn.Module):
    """The encoder and its two probes."""

    def __init__(self, m) -> None:
        super().__init__()
        self.encoder = MotionEncoder(CHARACTER_DIMS, m.hidden, m.latent, m.encoder_layers, m.dropout)
        self.recon = nn.Linear(m.latent, CHARACTER_DIMS)
        self.ahead = nn.Linear(m.latent, CHARACTER_DIMS)

    def losses(self, x: torch.Tensor) -> Dict[str, torch.Tensor]:
        z = self.encoder(x[:, 1:-1], x[:, :-2])
        return {"recon": F.mse_loss(self.recon(z), x[:, 1:-1]), "ahead": F.mse_loss(self.ahead(z), x[:, 2:])}


class PretrainModule(RecipeModule):
    def __init__(self, cfg: PretrainConfig) -> None:
        super().__init__(cfg)
        self.model = PretrainModel(cfg.model)

    def _step(self, batch, prefix: str) -> torch.Tensor:
        terms = self.model.losses(batch["character"])
        total = terms["recon"] + terms["ahead"]
        self.log_losses({"loss": total, **terms}, prefix, batch_size=batch["character"].shape[0])
        return total

    def training_step(self, batch, batch_idx):
        return self._step(batch, "train")

    def validation_step(self, batch, batch_idx):
        self._step(batch, "val")

    def on_train_end(self) -> None:
        if getattr(self.trainer, "global_rank", 0) == 0:
            from motionlab.train.checkpoint import atomic_torch_save

            atomic_torch_save({"encoder": self.model.encoder.state_dict()}, Path(self.trainer.default_root_dir) / ENCODER_FILE)


def evaluate_pretrain(run_dir) -> Dict[str, float]:
    """Held-out reconstruction and one-step-ahead MSE of the probes (normalised), next to "repeat the frame"."""
    from dataclasses import replace

    from motionlab.data.dataset import WindowData
    from motionlab.train.engine import load_run

    run = load_run(run_dir, recipe="predictor_pretrain")
    data = WindowData(replace(run.cfg.data, batch_size=256))
    split = "test" if len(data.dataset("test")) else "val"
    sums = {"recon_mse": 0.0, "ahead_mse": 0.0, "baseline_repeat_ahead_mse": 0.0}
    n = 0
    with torch.no_grad():
        for batch in data.loader(split):
            x = batch["character"]
            t = run.model.losses(x)
            k = x.shape[0]
            sums["recon_mse"] += float(t["recon"]) * k
            sums["ahead_mse"] += float(t["ahead"]) * k
            sums["baseline_repeat_ahead_mse"] += float(F.mse_loss(x[:, 1:-1], x[:, 2:])) * k
            n += k
    return {k: v / max(n, 1) for k, v in sums.items()}
