"""The tokenizer's model: the plain VQ-VAE factory and its losses (no Lightning here).

``build_vqvae(cfg)`` gives the :class:`~motionlab.nn.vqvae.MotionVQVAE` of ``cfg.model`` (usable without
Lightning); :func:`tokenizer_losses` are the training losses with the weights of ``cfg.loss``.
"""

from __future__ import annotations

from typing import Any, Dict

import torch
import torch.nn.functional as F

from motionlab.nn.vqvae import MotionVQVAE
from motionlab.recipes.tokenizer.config import TokenizerConfig, feature_dim


def build_vqvae(cfg: TokenizerConfig) -> MotionVQVAE:
    """The VQ-VAE of ``cfg.model`` for the configured stream's feature size."""
    m = cfg.model
    enc_kw = {"width": m.width, **m.encoder_kwargs}
    return MotionVQVAE.from_names(feature_dim(cfg), encoder=m.encoder, quantizer=m.quantizer,
                                  latent_dim=m.latent_dim, down_t=m.down_t, encoder_kwargs=enc_kw,
                                  quantizer_kwargs=dict(m.quantizer_kwargs))


def tokenizer_losses(out: Dict[str, Any], x: torch.Tensor, cfg: TokenizerConfig) -> Dict[str, torch.Tensor]:
    """``loss``, ``recon``, ``vel``, ``vq`` of a forward pass ``out`` on normalised windows ``x (B, T, C)``."""
    recon = F.mse_loss(out["recon"], x)
    vel = F.mse_loss(out["recon"].diff(dim=1), x.diff(dim=1))
    vq = out["q_loss"]
    w = cfg.loss
    return {"loss": w.recon * recon + w.vq * vq + w.vel * vel, "recon": recon, "vel": vel, "vq": vq}
