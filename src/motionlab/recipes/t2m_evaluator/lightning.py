"""The thin LightningModule of ``t2m_evaluator`` (data: :class:`motionlab.recipes.t2m.data.CaptionDataModule`)."""

from __future__ import annotations

from motionlab.recipes.t2m_evaluator.config import T2MEvaluatorConfig
from motionlab.recipes.t2m_evaluator.model import build_evaluator
from motionlab.train.module import RecipeModule


class T2MEvaluatorModule(RecipeModule):
    """Trains both encoders contrastively; logs ``loss`` and the in-batch ``top1`` retrieval accuracy."""

    def __init__(self, cfg: T2MEvaluatorConfig) -> None:
        super().__init__(cfg)
        self.model = build_evaluator(cfg)

    def setup(self, stage: str) -> None:
        data = getattr(getattr(self.trainer, "datamodule", None), "data", None) if self._trainer is not None else None
        if data is not None and hasattr(self.model.text, "set_vocabulary"):
            self.model.text.set_vocabulary(data.train_captions())

    def _step(self, batch, prefix: str):
        out = self.model.contrastive_loss(batch["motion"], batch["length"], batch["text"], self.cfg.loss.temperature)
        self.log_losses(out, prefix, batch_size=len(batch["text"]))
        return out["loss"]

    def training_step(self, batch, batch_idx):
        return self._step(batch, "train")

    def validation_step(self, batch, batch_idx):
        self._step(batch, "val")
