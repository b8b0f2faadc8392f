"""Config of the ``t2m_evaluator`` recipe (YAML files under ``configs/t2m_evaluator/``)."""

from __future__ import annotations

from dataclasses import dataclass, field

from motionlab.recipes.t2m.config import T2MDataConfig, TextConfig
from motionlab.train.config import TrainConfig


@dataclass
class EvaluatorModelConfig:
    """Both encoders (:class:`motionlab.recipes.t2m_evaluator.model.TextMotionEvaluator`)."""

    dim: int = 256  # motion transformer width
    layers: int = 2  # motion transformer layers
    heads: int = 4  # attention heads of the motion transformer
    patch: int = 4  # frames per motion token
    embed_dim: int = 256  # shared embedding size
    dropout: float = 0.1  # dropout in the motion transformer
    text: TextConfig = field(default_factory=TextConfig)


@dataclass
class EvaluatorLossConfig:
    """Symmetric InfoNCE over the batch; windows with the same caption are all positives of it."""

    temperature: float = 0.1  # InfoNCE softmax temperature


@dataclass
class T2MEvaluatorConfig:
    """The whole ``t2m_evaluator`` config: ``train``, ``data`` (the t2m data section), ``model``, ``loss``."""

    train: TrainConfig = field(default_factory=lambda: TrainConfig(lr=2e-4, warmup_steps=200, grad_clip=1.0))
    data: T2MDataConfig = field(default_factory=T2MDataConfig)
    model: EvaluatorModelConfig = field(default_factory=EvaluatorModelConfig)
    loss: EvaluatorLossConfig = field(default_factory=EvaluatorLossConfig)
