"""Configuration of the ``gesture`` recipe (speech -> SMPL-X motion) and of ``dyadic`` (which adds the
partner's voice and motion). The paper-scale YAML (``gesture/paper.yaml``) carries the MambaTalk V4
values: learning rate 2e-4, batch 64, acceleration weights body 1.0 / global 1.0 / hands 0.5, velocity
weights body 0.5 / global 2.0 / hands 1.0, label smoothing 0.1 on the body codes, 64-frame chunks with 4
seed frames.

Part names: ``upper`` is the seed's "body", ``lower`` its "global" (legs, root velocity, contacts),
``hands`` and ``face`` (jaw + expressions); see :mod:`motionlab.recipes.gesture.parts`.

Training runs in two phases inside one run: for the first ``vq.steps`` optimizer steps the per-part
VQ-VAEs (and the FGD autoencoder) learn; then they are frozen (eval mode, no gradients) and the
generator learns with the three mask passes for the remaining ``train.max_steps - vq.steps`` steps.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Dict, List

from motionlab.train.config import TrainConfig


@dataclass
class GestureDataConfig:
    """Where the takes come from and how they become windows.

    ``root``: ``""`` = the built-in synthetic corpus; a corpus folder (``manifest.json``); or a BEAT2
    folder (``smplxflame_30/``, ``wave16k/``, ``textgrid/``, ``train_test_split.csv``).
    """

    root: str = ""  # "" = the built-in corpus; a corpus folder (manifest.json) or a BEAT2 folder
    synth_scale: str = "tiny"  # built-in corpus size when root is "": tiny, small or large
    synth_seed: int = 0  # seed of the built-in corpus
    speakers: List[int] = field(default_factory=list)  # BEAT2 speaker ids ([] = all)
    kinds: List[str] = field(default_factory=lambda: ["talking", "dyadic"])  # corpus clip kinds used
    use_additional: bool = False  # BEAT2 "additional" takes join training
    skip_missing: bool = False  # skip takes without wav/TextGrid/partner (with a warning) instead of failing
    fps: float = 30.0  # every take is resampled to this frame rate (BEAT2: 30)
    window: int = 64  # frames per training window (at fps)
    stride: int = 8  # frames between the starts of consecutive windows of a take
    batch_size: int = 32  # windows per batch (per device)
    num_expressions: int = 100  # expression coefficients kept (BEAT2 files have 100)
    norm_floor: float = 0.05  # std floor of the part normalisers (a channel nearly constant in training, e.g. a hand
    # shape whose word never occurs there, must not blow up held-out errors and FGD features)
    word_split: bool = True  # motionlab corpus: held-out takes saying a gesture word no training take says trade
    # places with training takes of their kind (data.cover_words); dyadic runs keep the corpus's split
    word_vectors: str = ""  # optional local file of word vectors ("word v1 v2 ..." per line, .vec / GloVe text)
    max_vocab: int = 20000  # most frequent training words kept in the vocabulary (with PAD/UNK)
    cache_dir: str = ""  # window cache folder; "" = the user cache (MOTIONLAB_CACHE, else ~/.cache/motionlab)


@dataclass
class VQConfig:
    """The per-part VQ-VAEs (one token per frame by default: ``down_t = 0``) and their training phase."""

    encoder: str = "simple"  # conv encoder/decoder family of each part: simple or resnet
    quantizer: str = "ema"  # quantizer of each part: vq, ema, rvq, fsq, lfq or hybrid
    latent_dim: int = 32  # channels of each part's token vector
    width: int = 64  # channels of the conv layers
    down_t: int = 0  # temporal downsampling steps of 2x (0 = one token per frame, as the seed)
    codebook_size: int = 128  # codes per part
    encoder_kwargs: Dict[str, int] = field(default_factory=lambda: {"num_layers": 2})  # passed to encoder and decoder (num_layers, depth, ...)
    steps: int = 200  # optimizer steps of the VQ phase (then frozen)
    vel: float = 0.5  # velocity-loss weight of the VQ reconstruction
    eval_latent: int = 32  # FGD autoencoder latent channels (per 4-frame step)


@dataclass
class GeneratorConfig:
    """The speech-to-token generator (MambaTalk's global and local scans)."""

    hidden: int = 96  # width of the global and local scans
    audio_dim: int = 64  # channels of the wave encoder's output
    word_dim: int = 32  # word embedding size
    num_speakers: int = 32  # rows of the speaker embedding (ids above are an error)
    heads: int = 4  # attention heads (global scan and cross-attention)
    global_layers: int = 2  # Mamba blocks of the global scan
    local_layers: int = 1  # Mamba blocks per part head
    d_state: int = 16  # Mamba state size per channel
    expand: int = 2  # Mamba inner width = expand x hidden
    ppe_period: int = 30  # periodic positional encoding period, frames
    dropout: float = 0.1  # dropout in the generator
    scan: str = "auto"  # selective scan: auto (mamba_ssm on CUDA if importable, else parallel), parallel, sequential
    partner_root: bool = False  # dyadic: the partner motion encoder also reads the partner's root channels (their own sway)
    partner_smooth: int = 0  # dyadic: frames of a moving average over the partner condition (0 = off); odd
    speech_context: int = 0  # frames of a centred temporal convolution over the fused speech (0 = off; odd): each frame sees the coming words
    partner_to_root: bool = False  # dyadic: the regressed root reads the partner condition too (else the global scan only)


@dataclass
class LossConfig:
    """Loss weights; per-part dicts are keyed by part name."""

    latent: float = 1.0  # weight of the latent MSE per part
    cls: float = 1.0  # weight of the code cross-entropy per part
    label_smoothing: float = 0.1  # label smoothing of the code cross-entropy (body parts)
    smooth_parts: List[str] = field(default_factory=lambda: ["upper", "lower"])  # parts whose code cross-entropy is label-smoothed
    vel: Dict[str, float] = field(default_factory=lambda: {"upper": 0.5, "lower": 2.0, "hands": 1.0, "face": 0.5})  # L1 velocity weight on latents, per part
    acc: Dict[str, float] = field(default_factory=lambda: {"upper": 1.0, "lower": 1.0, "hands": 0.5, "face": 0.5})  # L1 acceleration weight on latents, per part
    root: float = 1.0  # weight of the regressed root velocity loss
    root_acc: float = 0.0  # weight of an L1 loss on the regressed root's frame-to-frame change (its acceleration; 0 = off)
    passes: Dict[str, float] = field(default_factory=lambda: {"full": 1.0, "self": 1.0, "word": 1.0})  # weights of the three mask passes
    partner_dropout: float = 0.0  # dyadic: share of training windows whose partner inputs are zeroed
    word_dropout: float = 0.2  # share of each training window's words read as <unk> (held-out takes say words the training split lacks)
    mask_start: float = 0.05  # random mask ratio at the start of the generator phase
    mask_end: float = 1.0  # ... and at its end


@dataclass
class ModelConfig:
    """The parts, their VQ-VAEs, the generator and how chunked inference stitches its chunks."""

    parts: List[str] = field(default_factory=lambda: ["upper", "hands", "lower", "face"])  # body parts, each with its own VQ-VAE and head
    seed_frames: int = 4  # ground-truth (or carried-over) frames each chunk starts from
    seed_pose: str = "mean"  # the first chunk's seeds without a seed motion: mean (training mean of each part) or rest (rest pose)
    chunk: int = 64  # inference chunk (frames), = the training window
    decode: str = "codes"  # inference: "codes" (argmax codes, the seed's path) or "latents" (regressed latents)
    decode_parts: Dict[str, str] = field(default_factory=dict)  # per-part decode mode overriding `decode`
    infer_passes: int = 0  # inference: 0 = chunks one after another; n = all chunks batched, n passes
    seam_blend: int = 16  # inference: frames over which a chunk's offset to the previous chunk's seeds fades out
    code_temperature: float = 0.0  # inference: 0 = argmax codes; > 0 = codes sampled at this temperature
    seam_fade: int = 6  # inference: first generated frames of a chunk faded in from the previous chunk's motion
    seam_fade_parts: Dict[str, int] = field(default_factory=dict)  # inference: per part (or root) seam_fade overriding `seam_fade`
    root_smooth: float = 0.0  # inference: Gaussian sigma (frames) over the regressed root velocity (0 = none; its frame noise jerks the body)
    vq: VQConfig = field(default_factory=VQConfig)
    generator: GeneratorConfig = field(default_factory=GeneratorConfig)
    dyadic: bool = False  # set by the dyadic recipe: partner voice + motion condition every part


@dataclass
class EvalConfig:
    """Evaluation: the held-out split (``heldout`` = val + test), BC settings, FGD crops."""

    split: str = "heldout"  # split evaluated: heldout (val + test), val or test
    bc_threshold: float = 0.3  # 0.3 original trainer, 0.1 newer tools
    bc_sigma: float = 0.3  # BC: Gaussian width (s) of the beat-alignment score
    bc_skip_s: float = 2.0  # BC: seconds at the start of each take left out
    fgd_crop: int = 32  # FGD: frames per crop fed to the autoencoder
    evaluator_run: str = ""  # another gesture run whose FGD autoencoder to use ("" = this run's)
    seed: int = 0  # seed of the baselines' random draws
    extra_synth_seeds: List[int] = field(default_factory=list)  # synthetic runs: every take of the same-scale corpus at these seeds is held out too


@dataclass
class GestureConfig:
    """The whole ``gesture`` (and ``dyadic``) recipe config."""

    data: GestureDataConfig = field(default_factory=GestureDataConfig)
    model: ModelConfig = field(default_factory=ModelConfig)
    loss: LossConfig = field(default_factory=LossConfig)
    eval: EvalConfig = field(default_factory=EvalConfig)
    train: TrainConfig = field(default_factory=lambda: TrainConfig(max_steps=600, lr=1e-3, warmup_steps=20))
