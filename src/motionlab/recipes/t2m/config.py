"""Config of the ``t2m`` recipe (YAML files under ``configs/t2m/``) and the data/text sections it shares
with ``t2m_evaluator``."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import List

from motionlab.train.config import TrainConfig


@dataclass
class T2MDataConfig:
    """Captioned clips as 263-d features (:mod:`motionlab.io.humanml3d` layout) at ``fps``.

    ``root``: "" = the built-in synthetic corpus (``synth_scale``/``synth_seed``), a corpus folder with a
    ``manifest.json`` (captions from it), or a HumanML3D folder (``new_joint_vecs/``, ``texts/``, split
    files; its ``Mean.npy``/``Std.npy`` are used when present). Clips are cut into windows of ``window``
    frames every ``stride`` frames; shorter clips (at least ``min_frames``) are kept whole and padded,
    with a mask. HumanML3D captions with a start/end describe only that span, which becomes its own clip.
    """

    root: str = ""  # "" = the built-in corpus; a corpus folder (manifest.json) or a HumanML3D folder
    synth_scale: str = "tiny"  # built-in corpus size when root is "": tiny, small or large
    synth_seed: int = 0  # seed of the built-in corpus
    fps: float = 20.0  # every clip is resampled to this frame rate (HumanML3D: 20)
    window: int = 120  # frames per training window (at fps)
    stride: int = 40  # frames between the starts of consecutive windows of a clip
    min_frames: int = 24  # shorter clips are dropped; clips shorter than a window are padded and masked
    styles: List[str] = field(default_factory=list)  # keep only corpus clips of these styles/kinds ([] = all)
    split_seed: int = 0  # seed of the train/val/test split by clip (clips that name no split)
    batch_size: int = 32  # windows per batch (per device)
    num_workers: int = 0  # DataLoader worker processes (0 = in the training process)


@dataclass
class TextConfig:
    """The text encoder (:func:`motionlab.nn.text.build_text_encoder`)."""

    kind: str = "builtin"  # builtin | hash | pretrained
    dim: int = 128  # builtin/hash width (pretrained: the model's own)
    vocab_size: int = 1024  # builtin: words kept from the training captions (with PAD/UNK)
    layers: int = 2  # builtin: transformer layers
    heads: int = 4  # attention heads
    max_words: int = 32  # captions are cut to this many words
    dropout: float = 0.1  # dropout in the transformer layers
    path: str = ""  # pretrained: a local sentence-transformers or CLIP folder


@dataclass
class T2MModelConfig:
    """The transformer denoiser (:class:`motionlab.recipes.t2m.model.T2MDenoiser`).

    ``root_repr``: the layout the diffusion runs in. ``rate`` is the 263-d HumanML3D layout, whose channel 0 is
    the root's yaw rate, integrated over the window into the heading; ``absolute`` replaces it by each frame's
    cumulative heading (rad, 0 at the window's first frame; :func:`motionlab.recipes.t2m.data.absolute_heading`,
    normalisation statistics of that layout), converted at the data boundary, so every frame's heading is
    denoised directly instead of accumulating the small rate errors of each sampling step."""

    dim: int = 256  # transformer width
    layers: int = 4  # transformer layers of the denoiser
    heads: int = 4  # attention heads
    ff: int = 512  # feed-forward width of each layer
    dropout: float = 0.1  # dropout in the transformer layers
    patch: int = 1  # consecutive frames per transformer token (2 halves the sequence)
    smooth: int = 0  # kernel of a learned per-channel temporal filter on the output (0 = none; odd, e.g. 5)
    blend: bool = False  # patch > 1: tokens predict overlapping frames cross-faded at patch borders (no steps)
    root_repr: str = "rate"  # rate: HumanML3D's root yaw-rate channel | absolute: each frame's heading (rad)
    text: TextConfig = field(default_factory=TextConfig)


@dataclass
class T2MLossConfig:
    """Loss weights (0 = off; every term is logged either way). ``mse`` on x0, ``velocity`` and
    ``acceleration`` on its first/second time differences, ``geometric``: bone-length consistency of the
    joint positions recovered from the prediction (float32), ``foot``: speed of feet in contact.

    ``difference_scale``: ``data`` divides each channel's velocity/acceleration error by the training data's
    mean square first/second difference of that channel (dimensionless terms that weigh the smooth joint
    positions as much as the jumpy contact channels); ``features``: plain differences of the normalised
    features."""

    mse: float = 1.0  # weight of the MSE on x0 (masked to each clip's length)
    velocity: float = 0.1  # weight of the first-difference error (the seed's 0.1)
    acceleration: float = 0.05  # weight of the second-difference error (the seed's 0.05)
    geometric: float = 0.01  # weight of the bone-length consistency through FK (the seed's 0.01)
    foot: float = 0.0  # weight of the speed of feet in contact (0 = off)
    heading: float = 0.0  # weight of the squared error of the integrated root yaw (rad; 0 = off)
    difference_scale: str = "data"  # data | features


@dataclass
class DiffusionConfig:
    """``diffusers`` schedulers with ``prediction_type="sample"`` (the network predicts x0).

    ``heading_guidance``: classifier-free guidance extrapolates each channel past the conditional prediction by
    ``guidance``; on the root heading that extrapolation is the turn angle itself (a turn prompt at guidance 2.5
    turned about 30 deg further than the conditional model, more the better the model has learned the text),
    so channel 0 can have its own scale (1: the conditional prediction, tiny.yaml's for its 1600 steps); -1 (the
    default here, the demo's 500-step run, and default.yaml, not measured on HumanML3D) uses ``guidance``."""

    train_steps: int = 1000  # diffusion timesteps of the training schedule
    beta_schedule: str = "squaredcos_cap_v2"  # the cosine schedule
    cond_drop: float = 0.1  # fraction of training samples whose text is dropped (classifier-free guidance)
    sampler: str = "ddim"  # ddim | ddpm
    sample_steps: int = 50  # DDIM steps (DDPM always uses train_steps)
    guidance: float = 2.5  # classifier-free guidance scale (1 = conditional only)
    heading_guidance: float = -1.0  # guidance scale of channel 0, the root heading (or yaw rate); -1 = guidance


@dataclass
class T2MInferConfig:
    """Long motion: windows of ``data.window`` frames sharing ``overlap`` frames, each overlap in-painted
    from the previous window."""

    overlap: int = 30  # frames shared by consecutive windows, in-painted from the previous one


@dataclass
class T2MEvalConfig:
    """``motionlab eval`` of a t2m run (:mod:`motionlab.recipes.t2m.evaluate`)."""

    evaluator: str = ""  # a t2m_evaluator run folder (``motionlab eval --evaluator`` overrides it)
    replications: int = 20  # repetitions of each metric (mean +- 95% interval)
    stride: int = 0  # frames between held-out window starts (0 = data.stride; smaller: more, overlapping windows)
    steps: int = 0  # DDIM steps while evaluating (0: diffusion.sample_steps)
    batch: int = 32  # R-precision batch
    diversity_pairs: int = 300  # random pairs of generated motions for Diversity
    mm_texts: int = 100  # MModality: captions, and motions generated for each
    mm_samples: int = 10  # MModality: motions generated per caption


@dataclass
class T2MConfig:
    """The whole ``t2m`` recipe config: ``train``, ``data``, ``model``, ``loss``, ``diffusion``, ``infer``,
    ``eval``."""

    train: TrainConfig = field(default_factory=lambda: TrainConfig(
        lr=1e-4, warmup_steps=500, warmup_start=0.1, min_lr_ratio=0.01, grad_clip=0.5, ema_decay=0.9999,
        precision="auto"))
    data: T2MDataConfig = field(default_factory=T2MDataConfig)
    model: T2MModelConfig = field(default_factory=T2MModelConfig)
    loss: T2MLossConfig = field(default_factory=T2MLossConfig)
    diffusion: DiffusionConfig = field(default_factory=DiffusionConfig)
    infer: T2MInferConfig = field(default_factory=T2MInferConfig)
    eval: T2MEvalConfig = field(default_factory=T2MEvalConfig)
