"""A thin LightningModule base for recipes: config access, the default optimizer/schedule, stage values.

Recipes subclass :class:`RecipeModule`, keep their plain ``nn.Module`` as ``self.model`` and write
``training_step``/``validation_step``. The config is kept as an attribute and is *not* saved as
Lightning hyper-parameters (the run folder's ``config.yaml`` is the record, and checkpoints stay
loadable with ``weights_only=True``).
"""

from __future__ import annotations

from typing import Any, Dict, Optional

import lightning as L
import torch

from motionlab.train.optim import configure_optimization


class RecipeModule(L.LightningModule):
    """Base of every recipe's LightningModule.

    Attributes:
        cfg: the recipe config (with a ``train`` section).
        stage_values: named scalars of the current training stage (set by ``StageSchedule``; ``{}`` if none).
        stage_label: the current stage's label.
    """

    def __init__(self, cfg: Any) -> None:
        super().__init__()
        self.cfg = cfg
        self.stage_values: Dict[str, float] = {}
        self.stage_label: str = ""

    def stage_value(self, name: str, default: float) -> float:
        """The current stage's value ``name``, or ``default`` when no stage sets it."""
        return float(self.stage_values.get(name, default))

    def configure_optimizers(self):
        return configure_optimization(self, self.cfg.train, self.trainer)

    def log_losses(self, losses: Dict[str, torch.Tensor], prefix: str = "train",
                   batch_size: Optional[int] = None) -> None:
        """Log every entry of ``losses`` as ``<prefix>/<name>`` (step-wise in training, epoch means otherwise)."""
        training = prefix.startswith("train")
        for name, value in losses.items():
            self.log(f"{prefix}/{name}", value.detach() if isinstance(value, torch.Tensor) else value,
                     on_step=training, on_epoch=not training, batch_size=batch_size,
                     prog_bar=(name == "loss"), sync_dist=not training)
