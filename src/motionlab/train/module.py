"""A thin LightningModule base for recipes: config access, the default optimizer/schedule, stage values.

Recipes subclass :class:`RecipeModule`, keep their plain ``nn.Module`` as ``self.model`` and write
``training_step``/``validation_step``. The config is kept as an attribute and is *not* saved as
Lightning hyper-parameters (the run folder's ``config.yaml`` is the record, and checkpoints stay
loadable with ``weights_only=True``).
"""

from __future__ import annotations

from typing import Any, Dict, List, Mapping, Optional, Sequence

import lightning as L
import torch

from motionlab.train.optim import configure_optimization


class RecipeModule(L.LightningModule):
    """Base of every recipe's LightningModule.

    Attributes:
        cfg: the recipe config (with a ``train`` section).
        stage_values: named scalars of the current training stage (set by ``StageSchedule``; ``{}`` if none).
        stage_label: the current stage's label.
        main_metrics: class attribute, the validation metrics the end-of-training summary leads with, as
            logged (``("val/recon_mse", "val/vel_error")``; ``val/`` may be left out); empty: every
            ``val/...`` metric of the last validation. Baselines logged with :meth:`log_baseline` appear
            next to them. See :mod:`motionlab.train.summary`.
    """

    main_metrics: Sequence[str] = ()

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

    def log_baseline(self, label: str, metric: str, value: Any, batch_size: Optional[int] = None) -> None:
        """Log, during validation, what baseline ``label`` (e.g. ``"mean_pose"``) reaches for ``metric``
        (``"recon_mse"`` or ``"val/recon_mse"``) on the same data, as ``val/baseline/<label>/<metric>``
        (epoch mean); the end-of-training summary shows it next to ``val/<metric>``."""
        from motionlab.train.summary import baseline_key

        self.log(baseline_key(label, metric), value.detach() if isinstance(value, torch.Tensor) else float(value),
                 on_step=False, on_epoch=True, batch_size=batch_size, sync_dist=True)

    def summary_metrics(self, val: Mapping[str, float]) -> List[Any]:
        """Rows (:class:`motionlab.train.summary.MetricRow`) of the end-of-training summary from the last
        validation's metrics ``val``: :attr:`main_metrics` with their baselines. Override for anything else."""
        from motionlab.train.summary import metric_rows

        return metric_rows(val, tuple(self.main_metrics))
