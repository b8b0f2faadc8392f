"""The gesture model (plain ``nn.Module`` s, no Lightning): per-part VQ-VAEs, the FGD autoencoder and the
MambaTalk-style generator, the three training masks and the losses.

Generator (all tensors ``(B, T, .)`` at the motion frame rate):

* speech: a strided-conv **wave encoder** over each frame's raw samples (+ envelope and onset strength,
  a temporal conv), **word embeddings** (optionally initialised from local word vectors), fused by an MLP;
* **global scan**: the masked motion latents (all parts, masked entries replaced by a learned token),
  plus a speaker embedding, a periodic positional encoding and the speech features, through one
  self-attention layer and a Mamba stack;
* dyadic: the partner's motion (a conv motion encoder) and voice (a second wave encoder) are projected
  and **added to the global features**, which every part head reads, so the partner reaches body,
  hands and face alike (the motion encoder skips the partner's own root channels unless
  ``generator.partner_root``; ``generator.partner_smooth`` averages the condition over that many frames; the
  regressed root reads the global scan before the partner unless ``generator.partner_to_root``);
* **local scan**: cross-attention from the global features to the speech features, then per part a
  Mamba head giving latents ``(B, T, D_p)`` and code logits ``(B, T, K_p)``, and a root head regressing
  height, planar velocity and yaw rate ``(B, T, 4)`` (normalised units).

Masks (:func:`training_mask`, built only there): ``full`` hides every frame but the first
``seed_frames``; ``self`` and ``word`` share one random per-element mask of ratio ``r``; ``self`` switches
the speech conditioning off, ``full`` and ``word`` keep audio and words on.
"""

from __future__ import annotations

import math
from typing import Dict, List, Optional

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from motionlab.errors import MotionLabError, choices_error
from motionlab.nn.conv import SimpleDecoder, SimpleEncoder
from motionlab.nn.mamba import MambaStack
from motionlab.nn.vqvae import MotionVQVAE
from motionlab.recipes.gesture.config import GestureConfig
from motionlab.recipes.gesture.parts import ROOT_DIMS, ROOT_REGRESSED, check_parts, part_dims

PASSES = ("full", "self", "word")


def frame_samples(cfg: GestureConfig) -> int:
    from motionlab.data.speech_features import SPEECH_SR, frame_width

    return frame_width(SPEECH_SR, cfg.data.fps)


class WaveEncoder(nn.Module):
    """Per-frame raw samples ``(B, T, W)`` + ``afeat (B, T, 2)`` -> ``(B, T, dim)``."""

    def __init__(self, dim: int, width: int = 32) -> None:
        super().__init__()
        self.convs = nn.Sequential(
            nn.Conv1d(1, width // 2, 16, stride=8), nn.GELU(),
            nn.Conv1d(width // 2, width, 8, stride=4), nn.GELU(),
            nn.Conv1d(width, dim, 4, stride=2), nn.GELU())
        self.proj = nn.Linear(dim + 2, dim)
        self.temporal = nn.Conv1d(dim, dim, 5, padding=2)

    def forward(self, audio: Tensor, afeat: Tensor) -> Tensor:
        B, T, W = audio.shape
        h = self.convs(audio.reshape(B * T, 1, W)).mean(-1).reshape(B, T, -1)
        h = self.proj(torch.cat([h, afeat], dim=-1))
        return h + self.temporal(F.gelu(h).transpose(1, 2)).transpose(1, 2)


def periodic_encoding(T: int, dim: int, period: int, device=None) -> Tensor:
    """``(T, dim)`` sinusoids whose frequencies repeat every ``period`` frames (EMAGE's PPE)."""
    pos = (torch.arange(T, device=device) % period).float()[:, None]
    k = torch.arange(0, dim, 2, device=device).float()
    div = torch.exp(-math.log(10000.0) * k / dim)
    pe = torch.zeros(T, dim, device=device)
    pe[:, 0::2] = torch.sin(pos * div)
    pe[:, 1::2] = torch.cos(pos * div)[:, : dim // 2]
    return pe


class PartHead(nn.Module):
    """A local-scan head of one part: Mamba blocks -> latent ``(D)`` and code logits ``(K)``."""

    def __init__(self, hidden: int, latent: int, codes: int, layers: int, d_state: int, expand: int, scan: str):
        super().__init__()
        self.scan = MambaStack(hidden, layers, d_state=d_state, expand=expand, scan=scan)
        self.latent = nn.Linear(hidden, latent)
        self.cls = nn.Linear(hidden, codes)

    def forward(self, x: Tensor):
        h = self.scan(x)
        return self.latent(h), self.cls(h)


class Generator(nn.Module):
    """Speech (+ partner) -> per-part latents and code logits (see the module docstring)."""

    def __init__(self, cfg: GestureConfig) -> None:
        super().__init__()
        g, m = cfg.model.generator, cfg.model
        self.parts = check_parts(m.parts)
        self.lat = {p: m.vq.latent_dim for p in self.parts}
        S = sum(self.lat.values())
        H = g.hidden
        self.period = g.ppe_period
        self.wave = WaveEncoder(g.audio_dim)
        self.word = nn.Embedding(cfg.data.max_vocab, g.word_dim)
        self.fuse = nn.Sequential(nn.Linear(g.audio_dim + g.word_dim, H), nn.GELU(), nn.Linear(H, H))
        k = int(g.speech_context)
        if k < 0 or (k > 0 and k % 2 == 0):
            raise MotionLabError(f"model.generator.speech_context must be 0 or an odd number of frames, got {k}",
                                 place="model.generator.speech_context")
        self.speech_context = nn.Conv1d(H, H, k, padding=k // 2) if k > 0 else None
        self.motion_in = nn.Linear(S, H)
        self.mask_token = nn.Parameter(torch.zeros(S))
        self.speaker = nn.Embedding(g.num_speakers, H)
        self.attn = nn.TransformerEncoderLayer(H, g.heads, 2 * H, g.dropout, batch_first=True, norm_first=True)
        self.global_scan = MambaStack(H, g.global_layers, d_state=g.d_state, expand=g.expand, scan=g.scan)
        self.cross_norm = nn.LayerNorm(H)
        self.cross = nn.MultiheadAttention(H, g.heads, dropout=g.dropout, batch_first=True)
        self.heads = nn.ModuleDict({p: PartHead(H, self.lat[p], m.vq.codebook_size, g.local_layers, g.d_state,
                                                g.expand, g.scan) for p in self.parts})
        self.root = nn.Linear(H, ROOT_REGRESSED)
        self.dyadic = bool(m.dyadic)
        if self.dyadic:
            dims = part_dims(cfg.data.num_expressions)
            # columns of the concatenated partner parts the motion encoder reads: all, or all but the root channels
            # of ``lower`` (the partner's own sway and steps, which do not tell the responder how to move)
            cols, k = [], 0
            for p in self.parts:
                skip = ROOT_DIMS if (p == "lower" and not g.partner_root) else 0
                cols += list(range(k + skip, k + dims[p]))
                k += dims[p]
            self.register_buffer("partner_cols", torch.tensor(cols, dtype=torch.long), persistent=False)
            self.partner_to_root = bool(g.partner_to_root)
            self.partner_smooth = int(g.partner_smooth)
            if self.partner_smooth < 0 or (self.partner_smooth > 0 and self.partner_smooth % 2 == 0):
                raise MotionLabError(f"model.generator.partner_smooth must be 0 or an odd number of frames, got "
                                     f"{self.partner_smooth}", place="model.generator.partner_smooth")
            P = len(cols)
            self.p_wave = WaveEncoder(g.audio_dim)
            self.p_motion = nn.Sequential(nn.Conv1d(P, H, 3, padding=1), nn.GELU(), nn.Conv1d(H, H, 3, padding=1))
            self.cond_proj = nn.Linear(H + g.audio_dim, H)

    def speech(self, batch: Dict[str, Tensor], words: bool = True) -> Tensor:
        a = self.wave(batch["audio"], batch["afeat"])
        w = self.word(batch["word"]) if words else torch.zeros(*a.shape[:2], self.word.embedding_dim, device=a.device)
        sp = self.fuse(torch.cat([a, w], dim=-1))
        if self.speech_context is not None:  # residual: each frame also reads the speech around it
            sp = sp + self.speech_context(sp.transpose(1, 2)).transpose(1, 2)
        return sp

    def partner_condition(self, batch: Dict[str, Tensor]) -> Tensor:
        pm = self.p_motion(batch["p_motion"].index_select(-1, self.partner_cols).transpose(1, 2)).transpose(1, 2)
        pa = self.p_wave(batch["p_audio"], batch["p_afeat"])
        c = self.cond_proj(torch.cat([pm, pa], dim=-1))
        if self.partner_smooth > 1:  # a centred moving average (edges average the frames they have)
            k = self.partner_smooth
            c = F.avg_pool1d(c.transpose(1, 2), k, stride=1, padding=k // 2, count_include_pad=False).transpose(1, 2)
        return c

    def context(self, batch: Dict[str, Tensor], words: bool = True) -> Dict[str, Tensor]:
        """The motion-independent features of ``batch``: ``speech (B, T, H)`` and, for dyadic models,
        ``partner (B, T, H)``. Inference computes them once over a whole take and cuts them per chunk."""
        ctx = {"speech": self.speech(batch, words)}
        if self.dyadic:
            ctx["partner"] = self.partner_condition(batch)
        return ctx

    def forward(self, motion: Tensor, mask: Tensor, batch: Dict[str, Tensor], speech: bool = True,
                words: bool = True, context: Optional[Dict[str, Tensor]] = None) -> Dict[str, Tensor]:
        """``motion (B, T, S)`` concatenated part latents, ``mask`` broadcastable bool (True = hidden).

        ``context``: precomputed :meth:`context` features (then ``batch`` needs only ``speaker``)."""
        B, T, _ = motion.shape
        x = torch.where(mask, self.mask_token.to(motion.dtype).expand_as(motion), motion)
        h = self.motion_in(x) + self.speaker(batch["speaker"].clamp(0, self.speaker.num_embeddings - 1))[:, None]
        h = h + periodic_encoding(T, h.shape[-1], self.period, h.device)[None]
        sp = None
        if speech:
            sp = context["speech"] if context is not None else self.speech(batch, words)
        if sp is not None:
            h = h + sp
        h = self.global_scan(self.attn(h))
        h_root = h
        if self.dyadic:
            h = h + (context["partner"] if context is not None else self.partner_condition(batch))
            if self.partner_to_root:
                h_root = h
        if sp is not None:
            q = self.cross_norm(h)
            h = h + self.cross(q, sp, sp, need_weights=False)[0]
        out: Dict[str, Tensor] = {}
        for p in self.parts:
            out[f"latent_{p}"], out[f"logits_{p}"] = self.heads[p](h)
        out["root"] = self.root(h if not self.dyadic else h_root)
        return out


class MotionAE(nn.Module):
    """The FGD feature network: a conv autoencoder on concatenated normalised parts; features are the
    latents average-pooled to 8 steps and flattened (``encode_motion``: ``(B, T, F) -> (B, 8 * L)``)."""

    def __init__(self, dim: int, latent: int, width: int) -> None:
        super().__init__()
        self.encoder = SimpleEncoder(dim, latent, width=width, down_t=2, num_layers=1)
        self.decoder = SimpleDecoder(latent, dim, width=width, down_t=2, num_layers=1)

    def forward(self, x: Tensor) -> Tensor:
        return self.decoder(self.encoder(x))

    def encode(self, x: Tensor) -> Tensor:
        T = x.shape[1] - x.shape[1] % 4
        if T < 4:
            raise MotionLabError(f"FGD crops need at least 4 frames, got {x.shape[1]}", place="motion")
        z = self.encoder(x[:, :T])
        return F.adaptive_avg_pool1d(z.transpose(1, 2), 8).flatten(1)


class GestureModel(nn.Module):
    """VQ-VAEs per part (``vqs``), the FGD autoencoder (``evaluator``) and the :class:`Generator`."""

    def __init__(self, cfg: GestureConfig) -> None:
        super().__init__()
        self.cfg = cfg
        self.parts = check_parts(cfg.model.parts)
        v = cfg.model.vq
        dims = part_dims(cfg.data.num_expressions)
        self.dims = {p: dims[p] for p in self.parts}
        self.vqs = nn.ModuleDict({p: MotionVQVAE.from_names(
            self.dims[p], encoder=v.encoder, quantizer=v.quantizer, latent_dim=v.latent_dim, down_t=v.down_t,
            encoder_kwargs={"width": v.width, **v.encoder_kwargs}, quantizer_kwargs={"codebook_size": v.codebook_size})
            for p in self.parts})
        self.evaluator = MotionAE(sum(self.dims.values()), v.eval_latent, v.width)
        self.generator = Generator(cfg)

    def encode_motion(self, x: Tensor) -> Tensor:
        """Learned-evaluator features of normalised concatenated parts ``(B, T, F)`` -> ``(B, 8 * L)``."""
        return self.evaluator.encode(x)

    @torch.no_grad()
    def tokenize(self, batch: Dict[str, Tensor]) -> Dict[str, Tensor]:
        """Frozen VQ targets: ``zq_<part>`` (B, T, D) and ``idx_<part>`` (B, T)."""
        out = {}
        for p in self.parts:
            vq = self.vqs[p]
            z = vq.quantizer(vq.encoder(batch[p]))
            out[f"zq_{p}"], out[f"idx_{p}"] = z.z_q, z.indices
        return out

    def code_latents(self, part: str, idx: Tensor) -> Tensor:
        return self.vqs[part].quantizer.decode_indices(idx)

    def decode(self, part: str, idx: Tensor) -> Tensor:
        """Normalised part features ``(B, T, D)`` from codes ``(B, T)`` (decoded over the whole sequence)."""
        return self.vqs[part].decode(idx)


def build_gesture_model(cfg: GestureConfig) -> GestureModel:
    return GestureModel(cfg)


# --- masks and losses ------------------------------------------------------------------------


def mask_ratio(cfg: GestureConfig, step: int, total_steps: Optional[int] = None) -> float:
    """Random-mask ratio at optimizer ``step``: linear from ``loss.mask_start`` to ``loss.mask_end`` over
    the generator phase (``total_steps``: the run's last step; default ``train.max_steps``)."""
    last = cfg.train.max_steps if total_steps is None else int(total_steps)
    total = max(last - cfg.model.vq.steps, 1)
    u = min(max((step - cfg.model.vq.steps) / total, 0.0), 1.0)
    return cfg.loss.mask_start + (cfg.loss.mask_end - cfg.loss.mask_start) * u


def training_mask(kind: str, shape, seed_frames: int, ratio: float, device=None,
                  generator: Optional[torch.Generator] = None) -> Tensor:
    """The bool mask (True = hidden) of a pass over ``shape = (B, T, S)`` latents."""
    B, T, S = shape
    if kind == "full":
        m = torch.ones(B, T, S, dtype=torch.bool, device=device)
        m[:, :seed_frames] = False
        return m
    if kind in ("self", "word"):
        return torch.rand(B, T, S, generator=generator, device=device) < ratio
    raise choices_error("mask pass", kind, PASSES)


def _vel(x: Tensor) -> Tensor:
    return x[:, 1:] - x[:, :-1]


def _acc(x: Tensor) -> Tensor:
    return x[:, 2:] - 2 * x[:, 1:-1] + x[:, :-2]


def pass_losses(out: Dict[str, Tensor], tok: Dict[str, Tensor], root_target: Tensor, cfg: GestureConfig,
                parts: List[str]) -> Dict[str, Tensor]:
    """Per-part ``latent_<p>``, ``cls_<p>``, ``vel_<p>``, ``acc_<p>`` and ``root`` of one pass and the weighted
    ``loss``. Codes of ``loss.smooth_parts`` use label smoothing ``loss.label_smoothing``."""
    L = cfg.loss
    res: Dict[str, Tensor] = {}
    total = 0.0
    for p in parts:
        pred, tgt = out[f"latent_{p}"], tok[f"zq_{p}"]
        logits = out[f"logits_{p}"]
        smooth = L.label_smoothing if p in L.smooth_parts else 0.0
        res[f"latent_{p}"] = F.mse_loss(pred, tgt)
        res[f"cls_{p}"] = F.cross_entropy(logits.reshape(-1, logits.shape[-1]), tok[f"idx_{p}"].reshape(-1),
                                          label_smoothing=smooth)
        res[f"vel_{p}"] = F.l1_loss(_vel(pred), _vel(tgt))
        res[f"acc_{p}"] = F.l1_loss(_acc(pred), _acc(tgt))
        total = total + L.latent * res[f"latent_{p}"] + L.cls * res[f"cls_{p}"] \
            + L.vel.get(p, 0.0) * res[f"vel_{p}"] + L.acc.get(p, 0.0) * res[f"acc_{p}"]
    res["root"] = F.mse_loss(out["root"], root_target)
    total = total + L.root * res["root"]
    if L.root_acc > 0:  # the root channels are rates: their frame-to-frame change is the root's acceleration
        res["root_acc"] = F.l1_loss(_vel(out["root"]), _vel(root_target))
        total = total + L.root_acc * res["root_acc"]
    res["loss"] = total
    return res


def run_pass(model: GestureModel, kind: str, batch: Dict[str, Tensor], tok: Dict[str, Tensor], mask: Tensor):
    """One generator pass (``full``, ``self`` or ``word``) on tokenized targets."""
    lat = torch.cat([tok[f"zq_{p}"] for p in model.parts], dim=-1)
    if kind not in PASSES:
        raise choices_error("mask pass", kind, PASSES)
    return model.generator(lat, mask, batch, speech=(kind != "self"), words=True)


def vq_losses(model: GestureModel, batch: Dict[str, Tensor], cfg: GestureConfig) -> Dict[str, Tensor]:
    """Reconstruction losses of the VQ phase: per part ``recon``+``vel``+quantizer loss, and the FGD autoencoder."""
    res: Dict[str, Tensor] = {}
    total = 0.0
    for p in model.parts:
        x = batch[p]
        o = model.vqs[p](x)
        res[f"vq_recon_{p}"] = F.mse_loss(o["recon"], x)
        vel = F.mse_loss(_vel(o["recon"]), _vel(x))
        total = total + res[f"vq_recon_{p}"] + cfg.model.vq.vel * vel + o["q_loss"]
    xa = torch.cat([batch[p] for p in model.parts], dim=-1)
    T = xa.shape[1] - xa.shape[1] % 4
    res["ae_recon"] = F.mse_loss(model.evaluator(xa[:, :T]), xa[:, :T])
    res["loss"] = total + res["ae_recon"]
    return res
