"""The dual-encoder retargeting VQ-VAE: human and robot encoders, one shared quantizer, a robot decoder.

Shapes are ``(batch, time, features)`` on *normalised* features (each stream z-scored with its
training statistics):

* human ``x_h`` (B, T, 136): the ``"body"`` features of :mod:`motionlab.data.features` (10 root
  channels, then joints 1..21 of SMPL-X as column 6D, parent-relative); with ``human_root=False``
  the encoder reads only the 126 joint channels (as the original study did);
* robot ``x_r`` (B, T, 29): the ``"g1_joints"`` features (G1 joint angles, Unitree order).

Training on paired windows (the study's "implicit retargeting"):

1. robot flow ``x_r -> E_r -> Q -> D_r -> x_r'`` (reconstruction);
2. human flow ``x_h -> E_h -> Q -> D_r -> x_hr'`` (cross-reconstruction against ``x_r``);
3. alignment of the continuous latents ``z_e,h ~ z_e,r``: latent MSE plus a symmetric InfoNCE over
   time-pooled window latents (the matching pair is the positive, the windows of *other* clips in
   the batch the negatives). The latent MSE is taken on latents standardised by the robot latent's
   per-channel standard deviation (a stop-gradient scale, :func:`standardised_latent_mse`), with the
   robot latent detached by default: a raw latent MSE is scale-dependent, and with both encoders
   free and a large weight the latents can shrink instead of aligning;
4. velocity losses on the first time differences of both outputs, the quantizer's own loss, and a
   hinge on both outputs beyond the official G1 joint limits (``limit``, once :meth:`set_limits` is
   called: the ground truth sits on the limits where they bind, so without it half of the
   predictions there fall just outside).

Both latents go through the quantizer in one call, so EMA codebooks see both domains at once.
Inference (:meth:`RetargetModel.retarget`): ``x_h -> E_h -> Q -> D_r``.
"""

from __future__ import annotations

from typing import Any, Dict, Optional

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from motionlab.errors import MotionLabError, choices_error
from motionlab.nn.registry import build_decoder, build_encoder, build_quantizer

#: What the robot decoder reads (see :class:`RetargetModel`).
DECODER_INPUTS = ("quantized", "quantized+continuous", "quantized+frames")

#: Loss terms of :meth:`RetargetModel.losses`, in the order they are logged.
LOSS_TERMS = ("recon", "cross", "align", "nce", "vel", "vq", "limit")


def info_nce(a: Tensor, b: Tensor, temperature: float = 0.1, groups: Optional[Tensor] = None) -> Tensor:
    """Symmetric InfoNCE between paired rows of ``a`` and ``b`` (N, D): cosine similarities over
    ``temperature``, cross-entropy towards the diagonal in both directions, averaged. 0 for N < 2.

    ``groups`` (N,) ints, optional: rows of one group (windows of one clip, which overlap) are not
    used as each other's negatives (their logits are masked out); a row whose group holds every
    other row contributes 0."""
    if a.shape[0] < 2:
        return a.new_zeros(())
    a = F.normalize(a, dim=-1)
    b = F.normalize(b, dim=-1)
    logits = a @ b.T / temperature
    n = a.shape[0]
    target = torch.arange(n, device=a.device)
    if groups is not None:
        g = torch.as_tensor(groups, device=a.device).reshape(-1)
        if g.shape[0] != n:
            raise MotionLabError(f"{g.shape[0]} group ids for {n} rows", place="groups")
        same = (g[:, None] == g[None, :]) & ~torch.eye(n, dtype=torch.bool, device=a.device)
        logits = logits.masked_fill(same, float("-inf"))
    return 0.5 * (F.cross_entropy(logits, target) + F.cross_entropy(logits.T, target))


def latent_scale(z_r: Tensor, eps: float = 1e-6) -> Tensor:
    """Stop-gradient per-channel scale ``sqrt(var(z_r) + eps)`` (D,) of robot latents ``(B, S, D)``
    (variance over batch and time steps)."""
    z = z_r.detach().reshape(-1, z_r.shape[-1])
    return torch.sqrt(z.var(dim=0, unbiased=False) + eps)


def standardised_latent_mse(z_h: Tensor, z_r: Tensor, eps: float = 1e-6) -> Tensor:
    """Relative misalignment of latents ``(B, S, D)``: MSE of ``z_h`` and ``z_r`` after dividing both
    by :func:`latent_scale` of ``z_r`` (stop-gradient). Scale-free: 0 = identical latents, 1 = an
    error as large as the robot latent's own spread, 2 = unrelated latents of equal spread.

    The stop-gradient scale leaves the gradient of the raw MSE (scaled by ``1 / var``), so when
    ``z_r`` is not detached both encoders can still lower it by shrinking together; use it with a
    detached ``z_r`` (``detach_robot_latent``, the default), where the robot latent's scale is set by
    the reconstruction alone and the human latents are pulled onto it."""
    s = latent_scale(z_r, eps)
    return F.mse_loss(z_h / s, z_r / s)


def limit_hinge(pred: Tensor, lower: Optional[Tensor], upper: Optional[Tensor]) -> Tensor:
    """Mean squared excess of ``pred`` (B, T, D) beyond per-channel bounds ``lower``/``upper`` (D,) (0 inside;
    0 when no bounds are set): on normalised robot features, the official joint limits in those units."""
    if lower is None or upper is None:
        return pred.new_zeros(())
    return (F.relu(pred - upper) ** 2 + F.relu(lower - pred) ** 2).mean()


def velocity_mse(pred: Tensor, target: Tensor) -> Tensor:
    """MSE of first time differences of ``(B, T, D)`` sequences (per frame, no fps factor)."""
    return F.mse_loss(pred[:, 1:] - pred[:, :-1], target[:, 1:] - target[:, :-1])


class RetargetModel(nn.Module):
    """Dual-encoder shared-quantizer VQ-VAE for human -> G1 retargeting (see the module docstring).

    Args:
        human_dim: features per frame of the human stream (136 for ``"body"``).
        robot_dim: features per frame of the robot stream (29 for ``"g1_joints"``).
        encoder: encoder/decoder family (``"simple"`` or ``"resnet"``, see :mod:`motionlab.nn.registry`).
        quantizer: quantizer name (``"hybrid"``, ``"vq"``, ``"ema"``, ``"rvq"``, ``"fsq"``, ``"lfq"``).
        latent_dim: latent size D shared by both encoders, the quantizer and the decoder.
        down_t: stride-2 stages (latents have ``T / 2**down_t`` steps).
        encoder_kwargs: options of the encoders and decoder (``width``, ``depth``, ...).
        quantizer_kwargs: options of the quantizer.
        human_root: whether the human encoder reads the 10 root channels (else joints only).
        root_channels: how many leading human channels are root channels.
        decoder_input: ``"quantized"`` (the study's: the decoder reads the quantized latent only) or
            ``"quantized+continuous"`` (the quantized latent and the encoder's continuous latent side by
            side: the codes carry the motion's discrete structure, the continuous latent the fine detail
            the codebook rounds away; both flows and inference feed the decoder the same way), or
            ``"quantized+frames"``: the quantized latent, plus a per-frame head on the human frame
            itself (a zero-initialised MLP whose output is added to the decoder's on the human flow
            and at inference): the codes carry the window's motion, the frame its exact pose.
    """

    def __init__(self, human_dim: int, robot_dim: int = 29, *, encoder: str = "resnet", quantizer: str = "hybrid",
                 latent_dim: int = 64, down_t: int = 2, encoder_kwargs: Optional[Dict[str, Any]] = None,
                 quantizer_kwargs: Optional[Dict[str, Any]] = None, human_root: bool = True,
                 root_channels: int = 10, decoder_input: str = "quantized") -> None:
        super().__init__()
        if decoder_input not in DECODER_INPUTS:
            raise choices_error("decoder_input", decoder_input, DECODER_INPUTS)
        self.decoder_input = decoder_input
        if not human_root and human_dim <= root_channels:
            raise MotionLabError(f"human_dim {human_dim} leaves no joint channels after {root_channels} root channels",
                                 place="human_dim")
        kw = dict(encoder_kwargs or {})
        kw["down_t"] = down_t
        self.human_dim, self.robot_dim = int(human_dim), int(robot_dim)
        self.human_root, self.root_channels = bool(human_root), int(root_channels)
        human_in = self.human_dim if self.human_root else self.human_dim - self.root_channels
        self.robot_encoder = build_encoder(encoder, self.robot_dim, latent_dim, **kw)
        self.human_encoder = build_encoder(encoder, human_in, latent_dim, **kw)
        self.quantizer = build_quantizer(quantizer, latent_dim, **dict(quantizer_kwargs or {}))
        dec_in = 2 * latent_dim if decoder_input == "quantized+continuous" else latent_dim
        self.robot_decoder = build_decoder(encoder, dec_in, self.robot_dim, **kw)
        self.down_t = int(down_t)
        # the official joint limits in normalised robot units, for the "limit" loss (set by the trainer
        # with set_limits; not saved: inference does not use them)
        self.register_buffer("limit_lower", None, persistent=False)
        self.register_buffer("limit_upper", None, persistent=False)
        self.frame_head = None
        if decoder_input == "quantized+frames":
            hidden = int(kw.get("width", 128)) * 2
            self.frame_head = nn.Sequential(nn.Linear(human_in, hidden), nn.GELU(), nn.Linear(hidden, hidden),
                                            nn.GELU(), nn.Linear(hidden, self.robot_dim))
            nn.init.zeros_(self.frame_head[-1].weight)
            nn.init.zeros_(self.frame_head[-1].bias)

    @property
    def frames_per_step(self) -> int:
        """Frames per latent step (``2**down_t``); window lengths must be multiples of it."""
        return 2 ** self.down_t

    # -- pieces ---------------------------------------------------------------------------------
    def encode_human(self, x_h: Tensor) -> Tensor:
        """Continuous human latents ``z_e,h`` (B, T / 2**down_t, D) of normalised body features."""
        if x_h.ndim != 3 or x_h.shape[-1] != self.human_dim:
            shape = tuple(x_h.shape) if isinstance(x_h, Tensor) else type(x_h).__name__
            raise MotionLabError(f"human features must be (batch, time, {self.human_dim}), got {shape}",
                                 place="human")
        if not self.human_root:
            x_h = x_h[..., self.root_channels:]
        return self.human_encoder(x_h)

    def encode_robot(self, x_r: Tensor) -> Tensor:
        """Continuous robot latents ``z_e,r`` (B, T / 2**down_t, D) of normalised joint angles."""
        return self.robot_encoder(x_r)

    def set_limits(self, lower: Tensor, upper: Tensor) -> None:
        """Bounds (robot_dim,) of the normalised robot features for the ``limit`` loss term."""
        self.limit_lower = torch.as_tensor(lower, dtype=torch.float32).reshape(self.robot_dim)
        self.limit_upper = torch.as_tensor(upper, dtype=torch.float32).reshape(self.robot_dim)

    def decode(self, z_q: Tensor, z_e: Tensor) -> Tensor:
        """Robot features (B, T, robot_dim) from quantized and continuous latents (B, S, D)."""
        if self.decoder_input == "quantized+continuous":
            return self.robot_decoder(torch.cat([z_q, z_e], dim=-1))
        return self.robot_decoder(z_q)

    def _frames(self, x_h: Tensor) -> Tensor:
        """The per-frame head's robot-feature correction (B, T, robot_dim), 0 without one."""
        if self.frame_head is None:
            return x_h.new_zeros(())
        return self.frame_head(x_h if self.human_root else x_h[..., self.root_channels:])

    # -- training -------------------------------------------------------------------------------
    def forward(self, x_h: Tensor, x_r: Tensor) -> Dict[str, Any]:
        """Both flows on paired windows ``x_h`` (B, T, human_dim), ``x_r`` (B, T, robot_dim).

        Returns ``recon`` and ``cross`` (B, T, robot_dim), ``z_h``/``z_r`` (continuous latents),
        ``indices_h``/``indices_r``, ``q_loss`` (scalar) and the quantizer ``stats``.
        """
        if x_h.shape[:2] != x_r.shape[:2]:
            raise MotionLabError(f"human {tuple(x_h.shape)} and robot {tuple(x_r.shape)} windows are not paired",
                                 place="batch")
        z_h, z_r = self.encode_human(x_h), self.encode_robot(x_r)
        B = x_r.shape[0]
        z = torch.cat([z_r, z_h], dim=0)
        q = self.quantizer(z)
        out = self.decode(q.z_q, z)
        cross = out[B:] + self._frames(x_h)
        return {"recon": out[:B], "cross": cross, "z_r": z_r, "z_h": z_h, "indices_r": q.indices[:B],
                "indices_h": q.indices[B:], "q_loss": q.loss, "stats": q.stats}

    def losses(self, x_h: Tensor, x_r: Tensor, temperature: float = 0.1,
               detach_robot_latent: bool = True, clip: Optional[Tensor] = None,
               align_standardise: bool = True) -> Dict[str, Tensor]:
        """Unweighted loss terms (:data:`LOSS_TERMS`) of a paired batch, plus the forward outputs
        under ``"out"``. ``detach_robot_latent`` stops the alignment gradient into the robot encoder
        (the human latents are pulled onto the robot's instead of both moving). ``clip`` (B,) ids of
        the windows' source clips: windows of one clip are not InfoNCE negatives of each other.
        ``align_standardise``: latent MSE on latents standardised by the robot latent's stop-gradient
        scale (:func:`standardised_latent_mse`); False gives the raw latent MSE (the study's)."""
        out = self(x_h, x_r)
        z_r = out["z_r"].detach() if detach_robot_latent else out["z_r"]
        pooled_h, pooled_r = out["z_h"].mean(dim=1), z_r.mean(dim=1)
        align = standardised_latent_mse(out["z_h"], z_r) if align_standardise else F.mse_loss(out["z_h"], z_r)
        return {
            "recon": F.mse_loss(out["recon"], x_r),
            "cross": F.mse_loss(out["cross"], x_r),
            "align": align,
            "nce": info_nce(pooled_h, pooled_r, temperature, groups=clip),
            "vel": 0.5 * (velocity_mse(out["recon"], x_r) + velocity_mse(out["cross"], x_r)),
            "vq": out["q_loss"],
            "limit": limit_hinge(torch.cat([out["recon"], out["cross"]]), self.limit_lower, self.limit_upper),
            "out": out,
        }

    # -- inference ------------------------------------------------------------------------------
    @torch.no_grad()
    def retarget(self, x_h: Tensor) -> Tensor:
        """Normalised robot features (B, T, robot_dim) from normalised human features (B, T, human_dim).
        Call in eval mode (EMA codebooks update in training mode)."""
        z = self.encode_human(x_h)
        return self.decode(self.quantizer(z).z_q, z) + self._frames(x_h)

    @torch.no_grad()
    def reconstruct(self, x_r: Tensor) -> Tensor:
        """Robot -> robot reconstruction (B, T, robot_dim) of normalised joint angles."""
        z = self.encode_robot(x_r)
        return self.decode(self.quantizer(z).z_q, z)
