"""Motion VQ-VAE: conv encoder -> quantizer -> conv decoder, on (batch, time, features) tensors."""

from __future__ import annotations

from typing import Any, Optional

import torch
from torch import Tensor, nn

from motionlab.errors import MotionLabError
from motionlab.nn.quantizers.base import Quantizer
from motionlab.nn.registry import build_decoder, build_encoder, build_quantizer


class MotionVQVAE(nn.Module):
    """Tokenizer for motion windows ``x`` (B, T, C); latents have ``T / 2**down_t`` steps.

    Build it from modules, or from names with :meth:`from_names`. The encoder's ``out_dim``,
    the quantizer's ``dim`` and the decoder's ``in_dim`` must agree, as must the encoder's input
    and the decoder's output sizes.
    """

    def __init__(self, encoder: nn.Module, quantizer: Quantizer, decoder: nn.Module) -> None:
        super().__init__()
        enc_out, dec_in = getattr(encoder, "out_dim", None), getattr(decoder, "in_dim", None)
        if enc_out is not None and enc_out != quantizer.dim:
            raise MotionLabError(f"encoder outputs {enc_out} features but the quantizer takes {quantizer.dim}", place="encoder")
        if dec_in is not None and dec_in != quantizer.dim:
            raise MotionLabError(f"decoder takes {dec_in} features but the quantizer gives {quantizer.dim}", place="decoder")
        enc_in, dec_out = getattr(encoder, "in_dim", None), getattr(decoder, "out_dim", None)
        if enc_in is not None and dec_out is not None and enc_in != dec_out:
            raise MotionLabError(f"decoder outputs {dec_out} features, the encoder reads {enc_in}", place="decoder")
        if getattr(encoder, "down_t", None) != getattr(decoder, "down_t", None):
            raise MotionLabError("encoder and decoder must use the same down_t", place="down_t")
        self.encoder, self.quantizer, self.decoder = encoder, quantizer, decoder

    @classmethod
    def from_names(
        cls,
        in_dim: int,
        *,
        encoder: str = "resnet",
        quantizer: str = "ema",
        latent_dim: int = 64,
        down_t: int = 2,
        encoder_kwargs: Optional[dict[str, Any]] = None,
        quantizer_kwargs: Optional[dict[str, Any]] = None,
        decoder_kwargs: Optional[dict[str, Any]] = None,
    ) -> "MotionVQVAE":
        """Build from registry names; the decoder shares the encoder's name and options unless given."""
        enc_kw = dict(encoder_kwargs or {})
        dec_kw = dict(enc_kw if decoder_kwargs is None else decoder_kwargs)
        enc_kw.setdefault("down_t", down_t)
        dec_kw.setdefault("down_t", down_t)
        return cls(
            build_encoder(encoder, in_dim, latent_dim, **enc_kw),
            build_quantizer(quantizer, latent_dim, **(quantizer_kwargs or {})),
            build_decoder(encoder, latent_dim, in_dim, **dec_kw),
        )

    def forward(self, x: Tensor) -> dict[str, Any]:
        """``x`` (B, T, C) -> dict with ``recon`` (B, T, C), ``z_e`` and ``z_q`` (B, T', D),
        ``indices`` (B, T') or (B, T', L), ``q_loss`` (scalar) and ``stats`` (detached scalars)."""
        z_e = self.encoder(x)
        q = self.quantizer(z_e)
        recon = self.decoder(q.z_q)
        return {"recon": recon, "z_e": z_e, "z_q": q.z_q, "indices": q.indices, "q_loss": q.loss, "stats": q.stats}

    @torch.no_grad()
    def encode(self, x: Tensor) -> Tensor:
        """Token indices of ``x`` (B, T, C). Call in eval mode: in training mode EMA codebooks update."""
        return self.quantizer(self.encoder(x)).indices

    @torch.no_grad()
    def decode(self, indices: Tensor) -> Tensor:
        """Motion (B, T' * 2**down_t, C) from token indices (B, T') or (B, T', L)."""
        return self.decoder(self.quantizer.decode_indices(indices))
