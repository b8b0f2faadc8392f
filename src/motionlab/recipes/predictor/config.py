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
    terms: List[str] = field(default_factory=list)  # loss terms balanced (w_ names without w_, e.g. fk_pos); [] = none
    alpha: float = 1.5  # gradnorm: restoring force towards equal training rates
    temperature: float = 2.0  # dwa: softmax temperature over the terms' loss ratios
    rate: float = 0.1  # gradnorm: learning rate of the weights


@dataclass
class PredictorTrainConfig(TrainConfig):
    """The engine's ``train`` section plus the guide's teacher forcing and adaptive weights."""

    max_steps: int = -1
    max_epochs: int = 30
    lr: float = 1e-3
    tf_mode: str = "epoch_linear"  # epoch_linear | step_linear | constant
    tf_start_epoch: int = 1  # epoch (1-based) where the teacher-forcing ratio starts to fall from tf_max
    tf_end_epoch: int = 19  # epoch where it reaches tf_min
    tf_max: float = 1.0  # teacher-forcing ratio at tf_start_epoch (1 = ground truth always fed)
    tf_min: float = 0.0  # teacher-forcing ratio from tf_end_epoch on (0 = own predictions always fed)
    noise_std: float = 0.0  # Gaussian noise on the fed frames during training (normalised units): learn to recover
    noise_parts: str = "all"  # all | pose (root tilt and joint rotations only: root, contacts and phase stay clean)
    adaptive: AdaptiveConfig = field(default_factory=AdaptiveConfig)


@dataclass
class PredictorModelConfig:
    """The stepper (:class:`motionlab.recipes.predictor.model.MotionStepper`)."""

    hidden: int = 512  # encoder / trunk width
    latent: int = 512  # encoder output (the guide's [B, T, 512] hidden state)
    encoder_layers: int = 2  # MLP layers of the motion encoder
    trunk_layers: int = 2  # FiLM-conditioned MLP layers after the encoder
    dropout: float = 0.0  # dropout in encoder and trunk
    film_hidden: int = 64  # hidden width of the FiLM network on the controls
    control_frames: int = 10  # controls = mean root velocity and yaw rate over the next N frames
    gait_classes: int = 6  # idle, walk, run, turn, curve, side_step (classes beyond the data's are unused)
    phase_harmonics: int = 0  # K: (w sin k phi, w cos k phi), k = 1..K, join the controls (0 = the phase alone)
    pose_residual: bool = True  # pose head: a change of the current pose (true) or the pose itself (false)
    pose_velocity: float = 0.0  # pose residual around cur + k (cur - prev): 0 = around the current pose, 1 = constant velocity
    phase_advance: bool = False  # turn the soft phase by its own frequency every frame (the head adds a correction)
    phase_rate: str = "residual"  # residual (the head changes the step rate w f) | absolute (the head predicts it anew every frame) | speed (an MLP of the commanded velocity alone)
    control_clip: float = 0.0  # > 0: the network reads planar velocity and yaw rate (commands and state) clipped to +-this many std; the root head still adds the full command
    yaw_clip: float = 0.0  # the yaw rate's own clip (std) when > 0, else control_clip's
    pretrained_encoder: str = ""  # encoder weights (encoder.pt of a predictor_pretrain run, or any run's export)


@dataclass
class PredictorLossConfig:
    """Weights of the loss terms (groups in :data:`motionlab.recipes.predictor.losses.LOSS_GROUPS`)."""

    w_fk_pos: float = 0.5  # core: joint positions through FK
    w_rot_local: float = 1.0  # core: local joint rotations (6D)
    w_rot_geo: float = 0.5  # core: geodesic rotation error (atan2)
    w_rot_delta: float = 1.0  # core: frame-to-frame rotation change
    w_rot_ortho: float = 0.01  # core: orthonormality of the decoded 6D rotations
    w_rot_log: float = 0.2  # aux: log-map (axis-angle) rotation error
    w_limb_geo: float = 0.0  # aux: limb geodesic error above limb_margin_deg
    w_rot_delta_root: float = 1.0  # aux: root yaw rate and velocity
    w_contact: float = 0.05  # aux: soft foot contacts
    w_phase: float = 0.05  # aux: soft period / phase
    w_gait: float = 0.01  # aux: gait class cross-entropy
    w_latent_consistency: float = 0.03  # long: encoder latent of the prediction vs of the truth
    freerun_weight: float = 0.0  # long: weight of the free-run rollout loss (set per stage by the schedule)
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

    split: str = "test"  # split evaluated: train, val or test
    horizons_s: List[float] = field(default_factory=lambda: [0.1, 0.25, 0.5, 1.0, 1.5, 2.0])  # rollout horizons (s) of the error curve and its baselines
    stride: int = 8  # frames between rollout starts
    val_horizon: int = 12  # frames of the free run at every validation (the guide's FreeRunSettings)
    max_windows: int = 0  # 0 = all


@dataclass
class DatasetProfile:
    """Dataset statistics (``motionlab data profile --write-config``); informative, the model does not read them."""

    n_clips: int = 0  # clips in the profiled data
    total_frames: int = 0  # frames in the profiled data
    avg_seq_len: float = 0.0  # mean clip length (frames)
    yaw_mean_deg: float = 0.0  # mean absolute yaw rate (deg/s)
    speed_mean: float = 0.0  # mean root planar speed (m/s)
    complexity: float = 0.0  # 0-1: style entropy, heading-rate p95 and speed spread (motionlab.data.profile)
    size: str = ""  # small | medium | large


@dataclass
class PredictorConfig:
    """The whole ``predictor`` recipe config."""

    train: PredictorTrainConfig = field(default_factory=PredictorTrainConfig)
    data: DataConfig = field(default_factory=_data)
    model: PredictorModelConfig = field(default_factory=PredictorModelConfig)
    loss: PredictorLossConfig = field(default_factory=PredictorLossConfig)
    freerun_stage_schedule: List[FreerunStage] = field(default_factory=list)  # stages: epoch ranges, labels, trainer and loss_groups overrides
    eval: EvalConfig = field(default_factory=EvalConfig)
    profile: DatasetProfile = field(default_factory=DatasetProfile)


@dataclass
class PretrainConfig:
    """``predictor_pretrain``: the motion encoder alone, trained to reconstruct the current frame and predict
    the next one from its latent (its ``encoder.pt`` is what ``model.pretrained_encoder`` loads)."""

    train: TrainConfig = field(default_factory=lambda: TrainConfig(max_steps=300, lr=1e-3))
    data: DataConfig = field(default_factory=_data)
    model: PredictorModelConfig = field(default_factory=PredictorModelConfig)
