"""Configuration of the ``tokenizer`` recipe (a motion VQ-VAE).

``data.streams`` must hold exactly one feature set: ``"body"`` (136 per frame, SMPL-22 body),
``"g1_joints"`` (29 G1 joint angles) or ``"g1_full"`` (10 root channels + 29 joint angles); see
:mod:`motionlab.data.features`. Models read normalised features (statistics of the training split).

Losses (all on normalised features)::

    loss = w_recon * MSE(x_hat, x) + w_vq * quantizer_loss + w_vel * MSE(dx_hat, dx)

with ``dx`` the first difference along time (per frame, not times fps). ``quantizer_loss`` is the
quantizer's own already-weighted auxiliary loss (commitment / codebook / entropy; 0 for FSQ).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Dict, List

from motionlab.data.dataset import DataConfig
from motionlab.errors import MotionLabError, choices_error
from motionlab.train.config import TrainConfig

#: feature set -> features per frame (must match :mod:`motionlab.data.features`)
FEATURE_DIMS: Dict[str, int] = {"body": 136, "g1_joints": 29, "g1_full": 39}


@dataclass
class ModelConfig:
    """The VQ-VAE: encoder/decoder family by name (``simple``, ``resnet``) and quantizer by name
    (``vq``, ``ema``, ``rvq``, ``fsq``, ``lfq``, ``hybrid``), see :mod:`motionlab.nn.registry`.

    ``encoder_kwargs`` go to both encoder and decoder (e.g. ``depth`` for resnet, ``num_layers`` for
    simple); ``quantizer_kwargs`` to the quantizer (e.g. ``codebook_size``, ``levels``).
    A window of ``T`` frames gives ``T / 2**down_t`` tokens.
    """

    encoder: str = "resnet"  # conv encoder/decoder family: simple or resnet
    quantizer: str = "ema"  # vq, ema, rvq, fsq, lfq or hybrid (motionlab.nn.registry)
    latent_dim: int = 64  # channels of each token vector (the quantizer's input)
    width: int = 128  # channels of the conv layers
    down_t: int = 2  # temporal downsampling steps of 2x: one token per 2**down_t frames
    encoder_kwargs: Dict[str, Any] = field(default_factory=dict)  # to encoder and decoder (depth, num_layers, ...)
    quantizer_kwargs: Dict[str, Any] = field(default_factory=lambda: {"codebook_size": 512})  # to the quantizer (codebook_size, levels, ...)


@dataclass
class LossConfig:
    """Weights of the loss terms (see the module docstring)."""

    recon: float = 1.0  # weight of the feature reconstruction MSE
    vq: float = 1.0  # weight of the quantizer's own loss (commitment / codebook / entropy)
    vel: float = 0.5  # weight of the MSE of first differences along time


@dataclass
class EvalConfig:
    """Evaluation settings: the split evaluated (whole split) and its batch size."""

    split: str = "test"  # split evaluated whole: train, val or test
    batch_size: int = 128  # windows per evaluation batch


@dataclass
class TokenizerConfig:
    """Everything a tokenizer run needs; resolved with :func:`motionlab.config.load_config`."""

    data: DataConfig = field(default_factory=lambda: DataConfig(streams=["body"]))
    model: ModelConfig = field(default_factory=ModelConfig)
    loss: LossConfig = field(default_factory=LossConfig)
    eval: EvalConfig = field(default_factory=EvalConfig)
    train: TrainConfig = field(default_factory=TrainConfig)


def stream_of(cfg: TokenizerConfig) -> str:
    """The single feature stream of ``cfg.data.streams`` (checked)."""
    streams: List[str] = list(cfg.data.streams)
    if len(streams) != 1:
        raise MotionLabError(f"the tokenizer reads exactly one feature stream, got {streams}", place="data.streams")
    if streams[0] not in FEATURE_DIMS:
        raise choices_error("feature set", streams[0], FEATURE_DIMS, place="data.streams")
    return streams[0]


def feature_dim(cfg: TokenizerConfig) -> int:
    """Features per frame of the configured stream."""
    return FEATURE_DIMS[stream_of(cfg)]
