"""Config of the ``recover`` recipe (YAML files under ``configs/recover/``).

Sections: ``train`` (the engine's), ``data`` (corpus, windows, source cameras and noise, the unlabelled
target), ``model`` (the lifter and the motion discriminator), ``loss`` (weights of the labelled terms),
``adapt`` (the domain adaptation: the names and defaults of domain-adaptive GVHMR's parameters) and
``infer`` (inference on user files).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import List

from motionlab.train.config import TrainConfig


@dataclass
class RecoverDataConfig:
    """Clips, windows and the two domains.

    Source (labelled): each training clip projected through ``source_cameras`` random synthetic-domain
    cameras (the corpus's own synthetic track is the first), plus a detector-noise model: Gaussian noise of
    ``source_noise`` x the person's box size per joint and frame; on a fraction ``source_conf_aug`` of the
    windows, generic detector confidences, masked joints and confidence-dependent noise (otherwise the
    source has confidence 1 everywhere; see :mod:`motionlab.recipes.recover.inputs`). Target (unlabelled): the corpus's
    real-like tracks of the training clips, or every track under ``target_root`` (a user's folder of
    COCO-17 JSON / OpenPose folders / npz); target 3D is read for evaluation only.
    """

    root: str = ""  # a synthetic-corpus folder; "" = the built-in corpus
    synth_scale: str = "tiny"
    synth_seed: int = 0
    target_root: str = ""  # a folder of the user's own unlabelled tracks ("" = the corpus's real-like tracks)
    fps: float = 30.0
    window: int = 64
    stride: int = 8
    batch_size: int = 32
    source_cameras: int = 6
    source_noise: float = 0.004  # detector-noise model of the source: sigma as a fraction of the box size
    min_confidence: float = 0.1  # joints below are masked (never read as zeros)
    source_conf_aug: float = 0.5  # fraction of source windows with generic random confidences, masks and noise (no target data)
    focal: str = "diagonal"  # target focal when a track has none: "diagonal" (sqrt(w^2+h^2), as GVHMR) or "known"
    num_workers: int = 0


@dataclass
class RecoverModelConfig:
    """The temporal lifter (``tcn``: dilated residual convolutions, or ``transformer``) and the discriminator."""

    arch: str = "tcn"  # "tcn" | "transformer"
    width: int = 128
    depth: int = 4  # residual blocks (tcn: dilations growth**i) or transformer layers
    dilation_growth: int = 3
    heads: int = 4  # transformer only
    conf_dim: int = 4  # confidence embedding size per joint
    dropout: float = 0.1
    disc_hidden: int = 64
    disc_layers: int = 1


@dataclass
class RecoverLossConfig:
    """Weights of the supervised (source) terms; each is an L1 on its own quantity."""

    joints: float = 1.0  # root-relative joints in the camera frame (m)
    root: float = 0.5  # root in the camera frame (normalised offset and log-depth)
    world: float = 0.5  # canonical (heading-frame, Z-up) joints (m)
    motion: float = 0.2  # root planar velocity in the heading frame (m/s) and yaw rate (rad/s), scaled by 1/fps
    bone_source: float = 0.1  # bone-length consistency over time on source predictions


@dataclass
class RecoverAdaptConfig:
    """Domain adaptation (domain-adaptive GVHMR's parameters, same names and defaults where it has them).

    ``enabled: false`` trains source-only. Otherwise, from ``start_step``: a target batch every
    ``1 / alternating_ratio`` steps next to the source batch of every step; the discriminator (real = source
    3D, fake = implausible motion, and target predictions when ``disc_target_fakes``) learns from step 0, and
    the lifter gets its adversarial term on target predictions with ``discriminator_weight``; pseudo-labels from ``num_augmentations`` augmented views of each target
    window (flip, small rotation, scale, jitter) with confidence = discriminator score x agreement of the
    views, accepted above a threshold moving from ``confidence_threshold_start`` to ``_end`` by
    ``confidence_step`` every ``threshold_every`` steps; the teacher is the EMA of the lifter when
    ``ema_teacher``; 2D re-projection and bone-length consistency on the targets; with ``input_transfer``,
    a fraction ``input_transfer_fraction`` of the source windows takes the confidences and masks of
    unlabelled target windows and the target's measured noise for them (see
    :mod:`motionlab.recipes.recover.inputs`).
    """

    enabled: bool = True
    start_step: int = 400  # source-only before (its weights are saved as checkpoints/source_only.ckpt)
    alternating_ratio: float = 0.5  # fraction of steps that also see a target batch
    synthetic_weight: float = 1.0
    real_weight: float = 1.0
    discriminator_weight: float = 0.1  # adversarial term of the lifter (least squares; the discriminator's own loss has weight 1)
    disc_target_fakes: bool = False  # also train the discriminator on target predictions (a domain critic, not a plausibility score)
    use_discriminator: bool = True
    use_pseudo_labels: bool = True
    num_augmentations: int = 4
    confidence_threshold_start: float = 0.7
    confidence_threshold_end: float = 0.5
    confidence_step: float = 0.02
    threshold_every: int = 50
    pseudo_smooth: float = 2.0  # frames: Gaussian smoothing of the pseudo-labels over time (0 = none)
    agreement_scale: float = 0.1  # m: views that disagree by this much (RMS) get agreement exp(-1)
    input_transfer: bool = True  # target confidence patterns and the target's noise-vs-confidence on source windows
    input_transfer_fraction: float = 0.5  # fraction of the source windows that get them
    ema_teacher: bool = True
    ema_decay: float = 0.99
    pseudo_weight: float = 1.0
    reprojection_weight: float = 0.5
    bone_weight: float = 0.5
    rotation_deg: float = 10.0  # augmentation: in-plane rotation
    scale_range: float = 0.1  # augmentation: box scale +-
    jitter: float = 0.005  # augmentation: 2D jitter (box fraction)


@dataclass
class RecoverInferConfig:
    min_frames: int = 8  # shorter tracks are refused
    fit_iters: int = 30  # rotation fitting refinement steps after the closed form (SMPL-22 rotations to the joints, fixed bone lengths)


@dataclass
class RecoverConfig:
    """The whole ``recover`` recipe config."""

    train: TrainConfig = field(default_factory=TrainConfig)
    data: RecoverDataConfig = field(default_factory=RecoverDataConfig)
    model: RecoverModelConfig = field(default_factory=RecoverModelConfig)
    loss: RecoverLossConfig = field(default_factory=RecoverLossConfig)
    adapt: RecoverAdaptConfig = field(default_factory=RecoverAdaptConfig)
    infer: RecoverInferConfig = field(default_factory=RecoverInferConfig)


ARCHS: List[str] = ["tcn", "transformer"]
FOCALS: List[str] = ["diagonal", "known"]
