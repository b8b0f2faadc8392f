"""Config of the ``retarget`` recipe (YAML files under ``configs/retarget/``)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Dict, List

from motionlab.data.dataset import DataConfig
from motionlab.train.config import TrainConfig


def _data() -> DataConfig:
    return DataConfig(streams=["body", "g1_joints"], fps=30.0, window=64, stride=8, batch_size=64)


@dataclass
class RetargetModelConfig:
    """The dual-encoder VQ-VAE (see :class:`motionlab.recipes.retarget.model.RetargetModel`)."""

    encoder: str = "resnet"  # "simple" | "resnet" (both encoders and the decoder)
    width: int = 128  # channels of the conv layers
    depth: int = 3  # resnet blocks per stage (simple: extra conv layers)
    dilation_growth: int = 3  # dilation factor between consecutive resnet blocks (1, 3, 9, ...)
    down_t: int = 2  # temporal downsampling steps of 2x: one latent per 2**down_t frames
    latent_dim: int = 64  # channels of the shared latent (the quantizer's input)
    quantizer: str = "hybrid"  # vq | ema | rvq | fsq | lfq | hybrid
    quantizer_kwargs: Dict[str, Any] = field(default_factory=dict)  # passed to the quantizer (codebook_size, levels, ...)
    human_root: bool = True  # the human encoder reads the 10 root channels (False: the study's 126 joint channels)
    decoder_input: str = "quantized"  # "quantized" (the study's) | "quantized+continuous" (codes and the continuous latent)


@dataclass
class RetargetLossConfig:
    """Weights of the loss terms (the study raised ``align`` up to 100) and the InfoNCE temperature."""

    recon: float = 1.0  # robot -> robot reconstruction (normalised MSE)
    cross: float = 1.0  # human -> robot cross-reconstruction (normalised MSE)
    align: float = 1.0  # latent MSE between the two encoders' continuous latents (see align_standardise)
    nce: float = 0.1  # InfoNCE over time-pooled window latents
    vel: float = 0.5  # first-difference MSE of both outputs
    vq: float = 1.0  # the quantizer's own loss (commitment / codebook)
    limit: float = 0.0  # squared excess of both outputs beyond the official G1 joint limits (normalised units)
    temperature: float = 0.1  # InfoNCE softmax temperature
    # The study's alignment: the raw latent MSE with both encoders trained (the defaults). Measured on
    # tiny runs at align=100, 400 steps: raw -> cross MSE 0.267, relative misalignment 0.13, var(z_r)
    # 0.037; standardised + detached -> 0.324, 0.24, 0.090; standardised alone lets both latents shrink
    # (var 0.0012). The evaluation's ``align`` is scale-free either way, so a shrinking latent cannot
    # look aligned in a table.
    detach_robot_latent: bool = False  # True: alignment pulls only the human latents onto the robot's
    align_standardise: bool = False  # True: MSE of latents divided by the robot latent's stop-gradient std


@dataclass
class RetargetInferConfig:
    """Windowed inference of long clips (``retarget_motion``)."""

    overlap: int = 16  # frames shared by neighbouring windows, cross-faded (at data.fps)
    min_frames: int = 16  # shorter clips are rejected; clips shorter than a window are edge-padded
    batch_windows: int = 512  # windows per forward pass
    contacts: bool = True  # pin the human's planted feet in the world with a leg IK (recipes/retarget/contacts.py)
    # horizontal root path: "stance" (steps taken from the robot's stance feet, recipes/retarget/root.py)
    # or "human" (the scaled human root, as the synthetic pairs are made; needs contacts to hold the feet)
    root: str = "stance"


@dataclass
class RetargetConfig:
    """The whole ``retarget`` recipe config: ``train``, ``data``, ``model``, ``loss``, ``infer``.

    ``data.streams`` must be ``[<human stream>, <robot stream>]``: ``body`` and ``g1_joints``.
    """

    train: TrainConfig = field(default_factory=TrainConfig)
    data: DataConfig = field(default_factory=_data)
    model: RetargetModelConfig = field(default_factory=RetargetModelConfig)
    loss: RetargetLossConfig = field(default_factory=RetargetLossConfig)
    infer: RetargetInferConfig = field(default_factory=RetargetInferConfig)


HUMAN_STREAMS = ("body",)
ROBOT_STREAMS = ("g1_joints",)


def stream_names(cfg: RetargetConfig) -> List[str]:
    """``[human, robot]`` stream names of ``cfg.data.streams``, checked."""
    from motionlab.errors import MotionLabError

    s = list(cfg.data.streams)
    if len(s) != 2 or s[0] not in HUMAN_STREAMS or s[1] not in ROBOT_STREAMS:
        raise MotionLabError(f"retarget needs data.streams = [human, robot] with human in {list(HUMAN_STREAMS)} "
                             f"and robot in {list(ROBOT_STREAMS)}, got {s}", place="data.streams")
    return s
