"""The text-conditioned transformer denoiser of ``t2m`` and its losses.

:class:`T2MDenoiser` maps a noisy window ``x_t (B, T, 263)`` (normalised features), the diffusion
step ``t (B,)`` and texts to the clean window ``x0`` (``prediction_type="sample"``). The sequence it
attends over is ``[step+sentence token, text tokens..., motion patches...]`` (``patch`` consecutive
frames per token) with padding masks; a
dropped condition (classifier-free guidance) replaces the sentence vector by a learned null vector and
hides the text tokens.

:func:`t2m_losses` computes every loss term with the validity mask of padded windows: MSE on x0,
velocity and acceleration (first/second time differences), geometric (bone lengths of the joints
recovered from the de-normalised prediction in float32 against the clip's own), foot contact (speed
of the feet while the ground truth marks contact) and heading (the root yaw integrated over the window).
"""

from __future__ import annotations

import math
from typing import Dict, List, Optional, Sequence, Tuple

import torch
import torch.nn.functional as Fn
from torch import nn

from motionlab.core.body import SMPL22_PARENTS
from motionlab.io import humanml3d as hml
from motionlab.nn.text import TextEmbedding, build_text_encoder

LOSS_TERMS = ("mse", "velocity", "acceleration", "geometric", "foot", "heading")


def sinusoidal(n: torch.Tensor, dim: int, max_period: float = 10000.0) -> torch.Tensor:
    """``(..., dim)`` sinusoidal features of positions or diffusion steps ``n (...)`` (``dim`` even)."""
    half = dim // 2
    freqs = torch.exp(-math.log(max_period) * torch.arange(half, dtype=torch.float32, device=n.device) / half)
    a = n.float()[..., None] * freqs
    return torch.cat([torch.cos(a), torch.sin(a)], -1)


class T2MDenoiser(nn.Module):
    """x0-predicting transformer (see the module docstring). ``feature_dim`` features per frame."""

    def __init__(self, feature_dim: int = hml.FEATURE_DIM, dim: int = 256, layers: int = 4, heads: int = 4,
                 ff: int = 512, dropout: float = 0.1, patch: int = 1, smooth: int = 0, blend: bool = False,
                 text: Optional[dict] = None) -> None:
        super().__init__()
        text = dict(text or {})
        kind = text.pop("kind", "builtin")
        self.text = build_text_encoder(kind, **text)
        self.feature_dim, self.dim, self.patch = int(feature_dim), int(dim), int(patch)
        self.inp = nn.Linear(feature_dim * self.patch, dim)
        # blend: every token predicts 2 * patch frames centred on its patch, and neighbours are cross-faded by
        # a sin^2 window (the weights of two neighbours sum to 1), so the output has no step at patch borders
        self.blend = bool(blend) and self.patch > 1
        self.out = nn.Linear(dim, feature_dim * self.patch * (2 if self.blend else 1))
        self.step_mlp = nn.Sequential(nn.Linear(dim, dim), nn.SiLU(), nn.Linear(dim, dim))
        self.text_proj = nn.Linear(self.text.dim, dim)
        self.token_proj = nn.Linear(self.text.dim, dim)
        self.null = nn.Parameter(torch.zeros(dim))
        self.kind_embed = nn.Parameter(torch.randn(3, dim) * 0.02)  # cond token, text tokens, motion frames
        layer = nn.TransformerEncoderLayer(dim, heads, ff, dropout, batch_first=True, norm_first=True)
        self.encoder = nn.TransformerEncoder(layer, layers, enable_nested_tensor=False)
        self.norm = nn.LayerNorm(dim)
        nn.init.zeros_(self.out.weight)
        nn.init.zeros_(self.out.bias)
        # a learned per-channel temporal filter on the output frames (identity at start): patches of several
        # frames otherwise leave steps at patch borders, which show as jerk and foot skating
        self.smooth = None
        if smooth > 1:
            self.smooth = nn.Conv1d(feature_dim, feature_dim, smooth, padding=smooth // 2, groups=feature_dim,
                                    padding_mode="replicate")
            with torch.no_grad():
                self.smooth.weight.zero_()
                self.smooth.weight[:, 0, smooth // 2] = 1.0
                self.smooth.bias.zero_()

    def encode_text(self, texts: Sequence[str]) -> TextEmbedding:
        return self.text.encode(list(texts))

    def forward(self, x_t: torch.Tensor, t: torch.Tensor, text: TextEmbedding, mask: Optional[torch.Tensor] = None,
                drop: Optional[torch.Tensor] = None) -> torch.Tensor:
        """``x0 (B, T, F)`` from ``x_t (B, T, F)``, steps ``t (B,)``, the texts' embedding, a frame mask
        ``(B, T)`` (True = valid) and ``drop (B,)`` (True = unconditional)."""
        B, T, F = x_t.shape
        dev = x_t.device
        if mask is None:
            mask = torch.ones(B, T, dtype=torch.bool, device=dev)
        P = self.patch
        pad = (-T) % P
        if pad:
            x_t = torch.cat([x_t, x_t.new_zeros(B, pad, F)], 1)
            mask = torch.cat([mask, mask.new_zeros(B, pad)], 1)
        n = (T + pad) // P
        x_in = x_t.reshape(B, n, P * F)
        pmask = mask.reshape(B, n, P).any(-1)
        if drop is None:
            drop = torch.zeros(B, dtype=torch.bool, device=dev)
        sent = self.text_proj(text.pooled.to(dev))
        sent = torch.where(drop[:, None], self.null.expand_as(sent), sent)
        cond = self.step_mlp(sinusoidal(t.to(dev), self.dim)) + sent
        tokens = self.token_proj(text.tokens.to(dev)) + self.kind_embed[1]
        tmask = text.mask.to(dev) & ~drop[:, None]
        frames = self.inp(x_in) + sinusoidal(torch.arange(n, device=dev) * P, self.dim) + self.kind_embed[2]
        seq = torch.cat([(cond + self.kind_embed[0])[:, None], tokens, frames], 1)
        valid = torch.cat([torch.ones(B, 1, dtype=torch.bool, device=dev), tmask, pmask], 1)
        h = self.encoder(seq, src_key_padding_mask=~valid)
        y = self.out(self.norm(h[:, -n:]))
        y = self._blend(y.reshape(B, n, 2 * P, F)) if self.blend else y.reshape(B, n * P, F)
        y = y[:, :T]
        if self.smooth is not None:
            y = self.smooth(y.transpose(1, 2)).transpose(1, 2)
        return y


    def _blend(self, y: torch.Tensor) -> torch.Tensor:
        """``(B, n * P, F)`` frames from token outputs ``(B, n, 2P, F)``: token ``i`` covers frames
        ``i*P - P//2 ... i*P - P//2 + 2P - 1`` weighted by ``sin^2``; overlaps are weighted means."""
        B, n, P2, F = y.shape
        P, h = P2 // 2, P2 // 4
        k = torch.arange(P2, device=y.device, dtype=y.dtype)
        w = torch.sin(math.pi * (k + 0.5) / P2) ** 2  # w[k] + w[k + P] = 1
        wy = y * w[:, None]
        first, second = wy[:, :, :P].reshape(B, n * P, F), wy[:, :, P:].reshape(B, n * P, F)
        canvas = Fn.pad(first, (0, 0, 0, P)) + Fn.pad(second, (0, 0, P, 0))
        wn = w[:P].repeat(n)
        weight = Fn.pad(wn, (0, P)) + Fn.pad(w[P:].repeat(n), (P, 0))
        return (canvas / weight[:, None])[:, h:h + n * P]


def build_denoiser(cfg) -> T2MDenoiser:
    """The :class:`T2MDenoiser` of a :class:`~motionlab.recipes.t2m.config.T2MConfig`."""
    m, tc = cfg.model, cfg.model.text
    text = {"kind": tc.kind, "dim": tc.dim, "path": tc.path, "max_words": tc.max_words}
    if tc.kind == "builtin":
        text.update(vocab_size=tc.vocab_size, layers=tc.layers, heads=tc.heads, dropout=tc.dropout)
    if tc.kind != "pretrained":
        text.pop("path")
    return T2MDenoiser(hml.FEATURE_DIM, m.dim, m.layers, m.heads, m.ff, m.dropout, m.patch, m.smooth, m.blend,
                       text=text)


def make_scheduler(cfg, sampler: Optional[str] = None):
    """A ``diffusers`` scheduler (DDPM or DDIM) over ``diffusion.train_steps`` with cosine betas and
    ``prediction_type="sample"`` (no clipping: features are normalised, not images)."""
    from diffusers import DDIMScheduler, DDPMScheduler

    from motionlab.errors import choices_error

    d = cfg.diffusion
    kind = sampler or d.sampler
    kw = dict(num_train_timesteps=d.train_steps, beta_schedule=d.beta_schedule, prediction_type="sample",
              clip_sample=False)
    if kind == "ddpm":
        return DDPMScheduler(**kw)
    if kind == "ddim":
        return DDIMScheduler(**kw, set_alpha_to_one=True)
    raise choices_error("sampler", kind, ("ddim", "ddpm"), place="diffusion.sampler")


def _masked_mean(err: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """Mean of ``err (B, T, ...)`` over the valid frames of ``mask (B, T)``."""
    m = mask.to(err.dtype).reshape(*mask.shape, *([1] * (err.ndim - 2)))
    denom = m.sum() * (err[0, 0].numel() if err.ndim > 2 else 1)
    return (err * m).sum() / denom.clamp_min(1.0)


BONES = [(j, p) for j, p in enumerate(SMPL22_PARENTS) if p >= 0]


def bone_lengths(pos: torch.Tensor) -> torch.Tensor:
    """``(..., 21)`` lengths of the SMPL-22 bones of positions ``(..., 22, 3)``."""
    child = torch.tensor([c for c, _ in BONES], device=pos.device)
    parent = torch.tensor([p for _, p in BONES], device=pos.device)
    return (pos[..., child, :] - pos[..., parent, :]).norm(dim=-1)


def t2m_losses(pred: torch.Tensor, target: torch.Tensor, mask: torch.Tensor, mean: torch.Tensor,
               std: torch.Tensor, fps: float,
               diff_scale: Optional[Tuple[torch.Tensor, torch.Tensor]] = None,
               root_repr: str = "rate") -> Dict[str, torch.Tensor]:
    """Every loss term (unweighted) of a batch of predicted and true normalised x0 ``(B, T, 263)``.

    ``mask (B, T)`` marks valid frames; ``diff_scale``: per-channel mean squares ``(263,)`` of the data's
    first and second time differences (:meth:`~motionlab.recipes.t2m.data.CaptionData.difference_scales`);
    given, the velocity and acceleration errors of each channel are divided by them, so both terms are
    relative to the data's own motion (about 1 for a prediction that is off by a typical frame step) instead
    of being dominated by the jumpy contact and velocity channels while the smooth joint positions, whose
    roughness is what jerk measures, hardly count. ``mean``/``std (263,)`` de-normalise for the geometric and foot
    terms, which run in float32 outside autocast: joints are recovered with
    :func:`motionlab.io.humanml3d.recover_from_ric`; ``geometric`` is the mean squared relative error of
    every frame's bone lengths against the clip's true (valid-frame mean) lengths; ``foot`` is the mean
    squared speed (m/s) of the ankles and feet in the frames where the true contact channels say contact;
    ``heading`` is the mean squared error (rad^2) of the world yaw of every frame integrated from the yaw-rate
    channel (:func:`motionlab.io.humanml3d.recover_root`, 0 at the first frame). ``root_repr="absolute"``:
    channel 0 holds the cumulative heading (:func:`motionlab.recipes.t2m.data.absolute_heading`) and is turned
    back into the rate before the joints are recovered.
    """
    out: Dict[str, torch.Tensor] = {}
    out["mse"] = _masked_mean((pred - target) ** 2, mask)
    m1 = mask[:, 1:] & mask[:, :-1]
    dp, dt = pred[:, 1:] - pred[:, :-1], target[:, 1:] - target[:, :-1]
    s1 = s2 = None
    if diff_scale is not None:
        s1, s2 = (s.to(pred.device, pred.dtype) for s in diff_scale)
        # a channel that hardly moves in the data must not get an unbounded weight
        s1, s2 = s1.clamp_min(0.01 * float(s1.mean())), s2.clamp_min(0.01 * float(s2.mean()))
    ev = (dp - dt) ** 2
    out["velocity"] = _masked_mean(ev if s1 is None else ev / s1, m1)
    m2 = m1[:, 1:] & m1[:, :-1]
    ea = ((dp[:, 1:] - dp[:, :-1]) - (dt[:, 1:] - dt[:, :-1])) ** 2
    out["acceleration"] = _masked_mean(ea if s2 is None else ea / s2, m2)
    with torch.autocast(device_type=pred.device.type, enabled=False):
        p = pred.float() * std.float() + mean.float()
        g = target.float() * std.float() + mean.float()
        if root_repr == "absolute":
            from motionlab.recipes.t2m.data import rate_heading

            p, g = rate_heading(p), rate_heading(g)
        # padded frames hold the mean; zero their root steps so they cannot move the valid frames' root
        p = p * mask[..., None].float()
        pos_p, pos_g = hml.recover_from_ric(p), hml.recover_from_ric(g * mask[..., None].float())
        lp, lg = bone_lengths(pos_p), bone_lengths(pos_g)
        mf = mask.float()[..., None]
        ref = (lg * mf).sum(1, keepdim=True) / mf.sum(1, keepdim=True).clamp_min(1.0)
        out["geometric"] = _masked_mean(((lp - ref) / ref.clamp_min(1e-3)) ** 2, mask)
        feet = list(hml.FOOT_JOINTS)
        speed = (pos_p[:, 1:, feet] - pos_p[:, :-1, feet]).norm(dim=-1) * fps  # (B, T-1, 4)
        contact = (g[:, :-1, hml.CONTACT] > 0.5).float() * m1.float()[..., None]
        out["foot"] = (speed ** 2 * contact).sum() / contact.sum().clamp_min(1.0)
        # the heading integrates the yaw-rate channel over the window: a small per-frame bias, cheap in the
        # MSE on x0 (one channel of 263), turns the whole body; compare the integrated yaw itself (rad)
        yaw_p, _ = hml.recover_root(p)
        yaw_g, _ = hml.recover_root(g * mask[..., None].float())
        out["heading"] = _masked_mean((yaw_p - yaw_g) ** 2, mask)
    return out


def weighted_total(terms: Dict[str, torch.Tensor], weights) -> torch.Tensor:
    """``sum_k weights.k * terms[k]`` over :data:`LOSS_TERMS`."""
    return sum(float(getattr(weights, k)) * terms[k] for k in LOSS_TERMS)


def guided_x0(model: T2MDenoiser, x_t: torch.Tensor, t: torch.Tensor, text: TextEmbedding, mask: torch.Tensor,
              guidance: float, heading_guidance: Optional[float] = None) -> torch.Tensor:
    """Classifier-free guided x0: ``uncond + s * (cond - uncond)`` (one batched pass; ``s == 1``: cond only).

    ``heading_guidance``: the scale for channel 0 alone (the root heading, or its yaw rate; None = ``guidance``).
    Guidance extrapolates every channel past the conditional prediction; for the heading that is the turn
    angle itself, so a scale of 2.5 turns the body about a third further than the conditional model does
    (see ``diffusion.heading_guidance``)."""
    B = x_t.shape[0]
    hg = guidance if heading_guidance is None else float(heading_guidance)
    if guidance == 1.0 and hg == 1.0:
        return model(x_t, t, text, mask)
    both = TextEmbedding(torch.cat([text.tokens, text.tokens]), torch.cat([text.mask, text.mask]),
                         torch.cat([text.pooled, text.pooled]))
    drop = torch.cat([torch.zeros(B, dtype=torch.bool), torch.ones(B, dtype=torch.bool)]).to(x_t.device)
    x0 = model(torch.cat([x_t, x_t]), torch.cat([t, t]), both, torch.cat([mask, mask]), drop)
    cond, uncond = x0[:B], x0[B:]
    out = uncond + guidance * (cond - uncond)
    if hg != guidance:
        out[..., 0] = uncond[..., 0] + hg * (cond[..., 0] - uncond[..., 0])
    return out


@torch.no_grad()
def sample(model: T2MDenoiser, scheduler, texts: List[str], num_frames: int, steps: int = 50,
           guidance: float = 2.5, generator: Optional[torch.Generator] = None,
           known: Optional[torch.Tensor] = None, known_mask: Optional[torch.Tensor] = None,
           progress: bool = False, heading_guidance: Optional[float] = None) -> torch.Tensor:
    """Normalised motion ``(B, num_frames, F)`` for ``texts`` by the scheduler's reverse process.

    ``known (B, num_frames, F)`` with ``known_mask (B, num_frames)``: frames to in-paint from, e.g. the
    overlap with a previous window; at every step the predicted x0 takes the known frames before the
    scheduler computes ``x_{t-1}``, so the rest of the window is denoised consistently with them.
    ``heading_guidance``: the guidance scale of channel 0 (:func:`guided_x0`).
    """
    dev = next(model.parameters()).device
    B, F = len(texts), model.feature_dim
    text = model.encode_text(texts)
    x = torch.randn(B, num_frames, F, generator=generator).to(dev)
    mask = torch.ones(B, num_frames, dtype=torch.bool, device=dev)
    if hasattr(scheduler, "set_timesteps"):
        n = scheduler.config.num_train_timesteps if type(scheduler).__name__ == "DDPMScheduler" else steps
        scheduler.set_timesteps(int(n))
    for t in scheduler.timesteps:
        tt = torch.full((B,), int(t), dtype=torch.long, device=dev)
        x0 = guided_x0(model, x, tt, text, mask, guidance, heading_guidance)
        if known is not None:
            km = known_mask.to(dev)[..., None]
            x0 = torch.where(km, known.to(dev), x0)
        x = scheduler.step(x0, t, x, generator=generator).prev_sample
    if known is not None:
        x = torch.where(known_mask.to(dev)[..., None], known.to(dev), x)
    return x
