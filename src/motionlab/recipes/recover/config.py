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
    ``source_noise`` x the person's box size per joint and frame (``source_heights`` widens the heights of
    the extra cameras: a reference, since the adaptation never knows the target's cameras); on a fraction ``source_conf_aug`` of the
    windows, generic detector confidences, masked joints and confidence-dependent noise (otherwise the
    source has confidence 1 everywhere; see :mod:`motionlab.recipes.recover.inputs`). Target (unlabelled): the corpus's
    real-like tracks of the training clips, or every track under ``target_root`` (a user's folder of
    COCO-17 JSON / OpenPose folders / npz); target 3D is read for evaluation only.
    """

    root: str = ""  # a synthetic-corpus folder; "" = the built-in corpus
    synth_scale: str = "tiny"  # built-in corpus size when root is "": tiny, small or large
    synth_seed: int = 0  # seed of the built-in corpus
    target_root: str = ""  # a folder of the user's own unlabelled tracks ("" = the corpus's real-like tracks)
    fps: float = 30.0  # every track is resampled to this frame rate
    window: int = 64  # frames per training window (at fps)
    stride: int = 8  # frames between the starts of consecutive windows of a clip
    batch_size: int = 32  # windows per batch, per domain
    source_cameras: int = 6  # random synthetic cameras per training clip (labelled source views)
    source_heights: List[float] = field(default_factory=list)  # [lo, hi] m: heights of the extra source cameras ([] = the synthetic domain's 0.8-1.8)
    source_noise: float = 0.004  # detector-noise model of the source: sigma as a fraction of the box size
    min_confidence: float = 0.1  # joints below are masked (never read as zeros)
    source_conf_aug: float = 0.5  # fraction of source windows with generic random confidences, masks and noise (no target data)
    focal: str = "diagonal"  # target focal when a track has none: "diagonal" (sqrt(w^2+h^2), as GVHMR) or "known"
    num_workers: int = 0  # DataLoader worker processes (0 = in the training process)


@dataclass
class RecoverModelConfig:
    """The temporal lifter (``tcn``: dilated residual convolutions, or ``transformer``) and the discriminator."""

    arch: str = "tcn"  # "tcn" | "transformer"
    width: int = 128  # channels of the lifter
    depth: int = 4  # residual blocks (tcn: dilations growth**i) or transformer layers
    dilation_growth: int = 3  # tcn: dilation factor between consecutive blocks
    heads: int = 4  # transformer only
    conf_dim: int = 4  # confidence embedding size per joint
    dropout: float = 0.1  # dropout in the lifter
    domain_inputs: bool = False  # an input stage (confidence embedding, input projection) per domain; backbone and head shared
    domain_outputs: bool = False  # with domain_inputs: the output layer per domain too (the backbone alone shared)
    disc_hidden: int = 64  # GRU width of the motion discriminator
    disc_layers: int = 1  # GRU layers of the motion discriminator


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
    the lifter gets its adversarial term on target predictions with ``discriminator_weight`` (its gradient
    held to at most ``adv_grad_cap`` times the supervised one); pseudo-labels from ``num_augmentations`` augmented views of each target
    window (flip, small rotation, scale, jitter) with confidence = discriminator score x agreement of the
    views, accepted above a threshold moving from ``confidence_threshold_start`` to ``_end`` by
    ``confidence_step`` every ``threshold_every`` steps (``selection: rank``: the threshold is the share of
    each batch left out, the best-ranked windows pass; ``absolute``: confidence >= threshold); with
    ``view_fit_deg`` the pseudo-labels' camera tilt is refitted to each window's 2D and the fit's residual
    joins the confidence; the teacher is the EMA of the lifter when ``ema_teacher``; 2D re-projection,
    bone-length consistency, the source's mean bone lengths (``bone_prior_weight``) and the agreement of
    the camera-frame and gravity-aligned heads (``consistency_weight``) on the targets; with ``input_transfer``,
    a fraction ``input_transfer_fraction`` of the source windows takes the confidences and masks of
    unlabelled target windows and the target's measured noise for them (see
    :mod:`motionlab.recipes.recover.inputs`).
    """

    enabled: bool = True  # false: source-only training (the baseline)
    start_step: int = 400  # source-only before (its weights are saved as checkpoints/source_only.ckpt)
    alternating_ratio: float = 0.5  # fraction of steps that also see a target batch
    synthetic_weight: float = 1.0  # weight of the supervised source loss (every step)
    real_weight: float = 1.0  # weight of all unlabelled target terms together
    discriminator_weight: float = 0.1  # adversarial term of the lifter (the discriminator's own loss has weight 1)
    adv_grad_cap: float = 1.0  # the adversarial gradient at the lifter's output layer is scaled down to at most this times the supervised one (0 = no cap)
    adversarial: str = "non_saturating"  # the lifter's term: "least_squares" (sigmoid(D) - 1)^2 or "non_saturating" -log sigmoid(D)
    disc_target_fakes: bool = True  # also train the discriminator on the lifter's target predictions (so its score is not saturated on them)
    use_discriminator: bool = True  # train the motion discriminator and use its adversarial term and scores
    use_pseudo_labels: bool = True  # train on confidence-selected pseudo-labels of the target windows
    num_augmentations: int = 4  # augmented views per target window (flip, rotation, scale, jitter)
    confidence_threshold_start: float = 0.7  # pseudo-label acceptance threshold at the start
    confidence_threshold_end: float = 0.5  # ... and where it stops
    confidence_step: float = 0.02  # threshold change every threshold_every steps
    selection: str = "rank"  # "rank": accept the top 1 - threshold of each batch by confidence; "absolute": confidence >= threshold
    threshold_every: int = 50  # optimizer steps between threshold changes
    pseudo_smooth: float = 2.0  # frames: Gaussian smoothing of the pseudo-labels over time (0 = none)
    agreement_scale: float = 0.1  # m: views that disagree by this much (RMS) get agreement exp(-1)
    view_fit_deg: float = 60.0  # pseudo-labels: the camera tilt (+-deg) refitted to each window's 2D (0 = off)
    view_fit_scale: float = 0.05  # box units: a window whose refitted 2D residual is this large gets view_fit exp(-1)
    view_transfer: bool = False  # source windows re-viewed at the camera tilts fitted to target windows (needs view_fit_deg > 0)
    view_transfer_fraction: float = 0.5  # fraction of the source windows re-viewed
    input_transfer: bool = False  # target confidence patterns and the target's noise-vs-confidence on source windows
    input_transfer_fraction: float = 0.5  # fraction of the source windows that get them
    anchor_decay: float = 0.0  # decoupled decay (AdamW-style, lr x this per step) of the lifter's weights, all but the target's stage, toward their source-only values (0 = off)
    source_via_target: float = 1.0  # with model.domain_inputs: weight of the supervised loss on the source batch read through the target's input stage
    ema_teacher: bool = True  # pseudo-labels from an EMA copy of the lifter (else from the lifter itself)
    ema_decay: float = 0.99  # decay of the EMA teacher
    pseudo_weight: float = 0.3  # weight of the pseudo-label loss (a confidence-weighted mean over the accepted windows)
    reprojection_weight: float = 0.5  # weight of the 2D re-projection loss on target windows
    bone_weight: float = 0.5  # weight of the bone-length consistency on target predictions
    bone_prior_weight: float = 0.5  # weight of the target bone lengths against the source's mean lengths (relative L1)
    consistency_weight: float = 1.0  # weight of the camera-frame / gravity-aligned agreement on target predictions
    rotation_deg: float = 10.0  # augmentation: in-plane rotation
    scale_range: float = 0.1  # augmentation: box scale +-
    jitter: float = 0.005  # augmentation: 2D jitter (box fraction)


@dataclass
class RecoverInferConfig:
    """``motionlab recover`` and ``eval``: the shortest track accepted, the camera tilt refitted to the 2D, and
    the rotation fit of the recovered joints."""

    min_frames: int = 8  # shorter tracks are refused
    fit_iters: int = 30  # rotation fitting refinement steps after the closed form (SMPL-22 rotations to the joints, fixed bone lengths)
    view_fit_deg: float = 60.0  # the camera tilt refitted to the track's 2D (+-deg, per window of data.window frames; 0 = the lifter's own)
    domain: str = "target"  # input stage for user tracks with model.domain_inputs: "target" (real detector tracks) or "source"


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
SELECTIONS: List[str] = ["rank", "absolute"]
ADVERSARIAL: List[str] = ["least_squares", "non_saturating"]
