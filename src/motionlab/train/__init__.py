"""The Lightning training engine shared by every recipe.

* :mod:`~motionlab.train.config` - ``TrainConfig`` (the ``train`` section of every recipe config), ``StageConfig``
* :mod:`~motionlab.train.engine` - ``train``, ``evaluate``, ``generate``, ``load_run`` over a run folder
* :mod:`~motionlab.train.module` - ``RecipeModule``, the thin LightningModule base
* :mod:`~motionlab.train.data` - ``ResumableLoader`` (seeded order, exact mid-epoch resume, DDP sharding)
* :mod:`~motionlab.train.callbacks` - non-finite guard, RNG keeper, stage schedule, checkpoints, EMA
* :mod:`~motionlab.train.schedules`, :mod:`~motionlab.train.optim` - warmup + cosine, AdamW
* :mod:`~motionlab.train.adaptive` - adaptive loss weights (uncertainty, DWA, GradNorm-lite)

Importing this package is cheap; Lightning is imported by the modules that need it.
"""

from motionlab.train.config import StageConfig, TrainConfig

__all__ = ["TrainConfig", "StageConfig"]
