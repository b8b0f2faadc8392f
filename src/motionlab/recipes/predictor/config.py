"""Config of the ``predictor`` recipe (YAML files under ``configs/predictor/``).

The names follow the training guide the recipe reproduces: loss weights ``w_<term>`` with
``freerun_weight`` / ``freerun_horizon`` in ``loss``; teacher forcing ``tf_mode``, ``tf_start_epoch``,
``tf_end_epoch``, ``tf_max``, ``tf_min`` and adaptive weights ``adaptive.*`` in ``train``; the stage
schedule ``freerun_stage_schedule`` at the top level; dataset statistics in ``profile`` (written by
``motionlab data profile --write-config``). Epochs in ``tf_*`` and stage ``range`` are 1-based and
inclusive, like the guide's (``range: [1, 9]`` = the first nine epochs).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Dict, List, Tuple

from motionlab.data.dataset import DataConfig
from motionlab.train.config import TrainConfig


def _data() -> DataConfig:
    return DataConfig(streams=["character"], fps=30.0, window=48, stride=4, batch_size=32, styles=["locomotion"])


@dataclass
class AdaptiveConfig:
    """Adaptive loss weights over the named terms (``method: none`` = the fixed ``w_*`` weights only).

    ``gradnorm`` uses ``alpha`` (restoring force) and ``rate``; ``dwa`` uses ``temperature``;
    ``uncertainty`` learns one log-variance per term. The balancer multiplies the terms' configured
    weights, is reset at every stage boundary and logs its weights as ``adaptive_loss/<term>``.
    """

    method: str = "none"  # none | fixed | uncertainty | dwa | gradnorm
    terms: List[str] = field(default_factory=list)
    alpha: float = 1.5
    temperature: float = 2.0
    rate: float = 0.1


@dataclass
class PredictorTrainConfig(TrainConfig):
    """The engine's ``train`` section plus the guide's teacher forcing and adaptive weights."""

    max_steps: int = -1
    max_epochs: int = 30
    lr: float = 1e-3
    tf_mode: str = "epoch_linear"  # epoch_linear | step_linear | constant
    tf_start_epoch: int = 1
    tf_end_epoch: int = 19
    tf_max: float = 1.0
    tf_min: float = 0.0
    noise_std: float = 0.0  # Gaussian noise on the fed frames during training (normalised units): learn to recover
    noise_parts: str = "all"  # all | pose (root tilt and joint rotations only: root, contacts and phase stay clean)
    adaptive: AdaptiveConfig = field(default_factory=AdaptiveConfig)


@dataclass
class PredictorModelConfig:
    """The stepper (:class:`motionlab.recipes.predictor.model.MotionStepper`)."""

    hidden: int = 512  # encoder / trunk width
    latent: int = 512  # encoder output (the guide's [B, T, 512] hidden state)
    encoder_layers: int = 2
    trunk_layers: int = 2
    dropout: float = 0.0
    film_hidden: int = 64
    control_frames: int = 10  # controls = mean root velocity and yaw rate over the next N frames
    gait_classes: int = 6  # idle, walk, run, turn, curve, side_step (classes beyond the data's are unused)
    phase_harmonics: int = 0  # K: (w sin k phi, w cos k phi), k = 1..K, join the controls (0 = the phase alone)
    pose_residual: bool = True  # pose head: a change of the current pose (true) or the pose itself (false)
    pose_velocity: float = 0.0  # pose residual around cur + k (cur - prev): 0 = around the current pose, 1 = constant velocity
    phase_advance: bool = False  # turn the soft phase by its own frequency every frame (the head adds a correction)
    pretrained_encoder: str = ""  # encoder weights (encoder.pt of a predictor_pretrain run, or any run's export)


@dataclass
class PredictorLossConfig:
    """Weights of the loss terms (groups in :data:`motionlab.recipes.predictor.losses.LOSS_GROUPS`)."""

    w_fk_pos: float = 0.5
    w_rot_local: float = 1.0
    w_rot_geo: float = 0.5
    w_rot_delta: float = 1.0
    w_rot_ortho: float = 0.01
    w_rot_log: float = 0.2
    w_limb_geo: float = 0.0
    w_rot_delta_root: float = 1.0
    w_contact: float = 0.05
    w_phase: float = 0.05
    w_gait: float = 0.01
    w_latent_consistency: float = 0.03
    freerun_weight: float = 0.0
    freerun_horizon: int = 8  # frames
    freerun_measure: str = "state"  # state (normalised MSE) | motion (the teacher pass's pose/root terms)
    freerun_backprop: bool = True  # False: the fed-back frame is detached (no gradient through the rollout)
    limb_margin_deg: float = 2.0  # limb_geo hinge: geodesic error above this counts
    group_warnings: bool = True  # warn when a group's share leaves the guide's bands


@dataclass
class FreerunStage:
    """One stage of ``freerun_stage_schedule``: epochs ``range`` (1-based, inclusive), a label,
    ``trainer`` values (``freerun_weight``, ``freerun_horizon``, ``tf_max``, ``tf_min``, any ``w_*``) and
    ``loss_groups`` overrides (``{core|aux|long: {w_name: value}}``); unnamed weights keep the global ones."""

    range: Tuple[int, int] = (1, 1)
    label: str = ""
    trainer: Dict[str, float] = field(default_factory=dict)
    loss_groups: Dict[str, Dict[str, float]] = field(default_factory=dict)


@dataclass
class EvalConfig:
    """Evaluation: free-run rollouts over held-out windows."""

    split: str = "test"
    horizons_s: List[float] = field(default_factory=lambda: [0.1, 0.25, 0.5, 1.0, 1.5, 2.0])
    stride: int = 8  # frames between rollout starts
    val_horizon: int = 12  # frames of the free run at every validation (the guide's FreeRunSettings)
    max_windows: int = 0  # 0 = all


@dataclass
class DatasetProfile:
    """Dataset statistics (``motionlab data profile --write-config``); informative, the model does not read them."""

    n_clips: int = 0
    total_frames: int = 0
    avg_seq_len: float = 0.0
    yaw_mean_deg: float = 0.0
    speed_mean: float = 0.0
    complexity: float = 0.0
    size: str = ""  # small | medium | large


@dataclass
class PredictorConfig:
    """The whole ``predictor`` recipe config."""

    train: PredictorTrainConfig = field(default_factory=PredictorTrainConfig)
    data: DataConfig = field(default_factory=_data)
    model: PredictorModelConfig = field(default_factory=PredictorModelConfig)
    loss: PredictorLossConfig = field(default_factory=PredictorLossConfig)
    freerun_stage_schedule: List[FreerunStage] = field(default_factory=list)
    eval: EvalConfig = field(default_factory=EvalConfig)
    profile: DatasetProfile = field(default_factory=DatasetProfile)


@dataclass
class PretrainConfig:
    """``predictor_pretrain``: the motion encoder alone, trained to reconstruct the current frame and predict
    the next one from its latent (its ``encoder.pt`` is what ``model.pretrained_encoder`` loads)."""

    train: TrainConfig = field(default_factory=lambda: TrainConfig(max_steps=300, lr=1e-3))
    data: DataConfig = field(default_factory=_data)
    model: PredictorModelConfig = field(default_factory=PredictorModelConfig)
