"""The training section shared by every recipe config (``cfg.train``) and the stage-schedule entries.

A recipe config is a dataclass with a field ``train: TrainConfig``; the engine reads only that section.
The batch size lives in the recipe's data section (``DataConfig.batch_size``), not here: one place.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Dict, Literal, Tuple

Precision = Literal["auto", "32", "bf16-mixed", "16-mixed"]


@dataclass
class TrainConfig:
    """How a recipe is optimised and where the engine writes; steps are optimizer steps.

    Learning rate: linear warmup from ``warmup_start * lr`` to ``lr`` over ``warmup_steps``, then a cosine
    decay to ``min_lr_ratio * lr`` at the last step (``max_steps``, or the estimated total for epoch-limited
    runs). ``grad_clip`` is a global L2 norm (0 = off). ``ema_decay`` > 0 keeps an exponential moving
    average of the parameters (Lightning's ``EMAWeightAveraging``; buffers such as EMA codebooks follow the
    raw model): it is what validation, evaluation and :func:`motionlab.train.engine.load_run` use once it
    has averaged at least once. Averaging starts after ``ema_start_step`` steps, which must be below
    ``max_steps``.
    """

    max_steps: int = 1000  # -1: limited by max_epochs only
    max_epochs: int = -1  # -1: limited by max_steps only
    lr: float = 1e-3  # peak learning rate (AdamW), reached after the warmup
    weight_decay: float = 0.0  # AdamW decoupled decay, not applied to biases and norm/1-D weights
    betas: Tuple[float, float] = (0.9, 0.999)  # AdamW moment decay rates
    warmup_steps: int = 0  # linear warmup length in optimizer steps (0 = none)
    warmup_start: float = 0.1  # lr factor at step 0 of the warmup
    min_lr_ratio: float = 0.01  # cosine floor as a fraction of lr
    grad_clip: float = 1.0  # global norm; 0 = off
    precision: Precision = "32"  # "auto": bf16-mixed where the device supports it, else 32
    ema_decay: float = 0.0  # 0 = off; e.g. 0.999
    ema_start_step: int = 0  # optimizer steps before the EMA starts averaging (below max_steps)
    seed: int = 0  # seeds weights, data order and every random draw of training
    deterministic: bool = True  # deterministic kernels (exact resume on CPU); False may be faster on GPUs
    accelerator: str = "auto"  # "auto", "cpu", "gpu"
    num_devices: int = 1  # devices per machine (GPUs, or CPU processes under DDP)
    num_nodes: int = 1  # machines (DDP)
    strategy: str = "auto"  # "auto", "ddp" (re-launches the command), "ddp_spawn", "ddp_fork"
    log_every: int = 10  # optimizer steps between logged training metrics (metrics.csv, history.json)
    checkpoint_every: int = 100  # steps between atomic writes of checkpoints/last.ckpt
    val_every: int = 0  # steps between validations; 0 = once per epoch; -1 = never
    val_batches: int = 0  # batches per validation; 0 = all
    nan_max_bad_steps: int = 5  # stop after this many non-finite steps in a row (each is skipped)
    progress: str = "auto"  # auto (a rich bar in a terminal, else plain lines), rich, tqdm, plain, none (= plain), silent
    progress_every_s: float = 5.0  # seconds between plain progress lines
    plots: bool = True  # write plots/training.png (loss and main validation metrics) at the end


@dataclass
class StageConfig:
    """One training stage: from ``start`` (step or epoch, see the schedule's unit) its ``values`` apply.

    ``values`` are named scalars the recipe reads (e.g. ``teacher_forcing``, ``freerun_weight``,
    ``w_fk_pos``); see :class:`motionlab.train.callbacks.StageSchedule`.
    """

    start: int = 0
    label: str = ""
    values: Dict[str, float] = field(default_factory=dict)
