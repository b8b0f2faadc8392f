"""Residual VQ (SoundStream / MoMask style): level ``l`` quantizes what levels ``< l`` left over.

Every level is an EMA codebook with dead-code reset (see :mod:`.ema_vq`); the per-level commitment
losses are summed. Indices are ``(B, T, num_quantizers)``, level 0 the coarsest.

Gradients: each level is straight-through on its own residual and the residuals subtract detached
codes, so ``d z_q / d z`` is ``num_quantizers`` times the identity (as in MoMask's and the
library's residual VQ), which weighs reconstruction L times more against the commitment loss
than a single codebook does.
"""

from __future__ import annotations

from typing import Optional

from torch import Tensor
from vector_quantize_pytorch import ResidualVQ

from motionlab.nn.quantizers.base import Quantizer, check_positive
from motionlab.nn.quantizers.ema_vq import ema_codebook_kwargs


def build_residual_vq(
    dim: int,
    *,
    num_quantizers: int,
    codebook_size: int,
    codebook_dim: Optional[int],
    decay: float,
    commitment_weight: float,
    kmeans_init: bool,
    kmeans_iters: int,
    threshold_ema_dead_code: float,
    rotation_trick: bool,
    quantize_dropout: bool,
    sync_codebook: bool,
) -> ResidualVQ:
    """The library's ``ResidualVQ`` with every option motionlab relies on set explicitly."""
    check_positive(num_quantizers, "num_quantizers")
    check_positive(codebook_size, "codebook_size")
    codebook_dim = dim if codebook_dim is None else check_positive(codebook_dim, "codebook_dim")
    return ResidualVQ(
        dim=dim,
        num_quantizers=num_quantizers,
        codebook_size=codebook_size,
        codebook_dim=codebook_dim,
        shared_codebook=False,
        heads=1,
        quantize_dropout=bool(quantize_dropout),
        quantize_dropout_cutoff_index=0,
        quantize_dropout_multiple_of=1,
        implicit_neural_codebook=False,
        diveq=False,
        beam_size=None,
        quant_grad_frac=0.0,
        **ema_codebook_kwargs(
            decay=decay,
            kmeans_init=kmeans_init,
            kmeans_iters=kmeans_iters,
            threshold_ema_dead_code=threshold_ema_dead_code,
            commitment_weight=commitment_weight,
            rotation_trick=rotation_trick,
            sync_codebook=sync_codebook,
        ),
    )


class RVQ(Quantizer):
    """Residual vector quantizer: ``z`` (B, T, dim) -> indices (B, T, num_quantizers).

    Args:
        dim: latent size D.
        num_quantizers: number of residual levels L.
        codebook_size: codes per level.
        codebook_dim: code size (projection in/out of D when different; ``None`` = D).
        decay, commitment_weight, kmeans_init, kmeans_iters, threshold_ema_dead_code,
        rotation_trick, sync_codebook: as in :class:`~motionlab.nn.quantizers.ema_vq.EMAVQ`, per level.
        quantize_dropout: in training, drop all levels after a random one (their indices read -1),
            so that coarse prefixes of the indices decode on their own.
    """

    multi_level = True

    def __init__(
        self,
        dim: int,
        num_quantizers: int = 4,
        codebook_size: int = 512,
        *,
        codebook_dim: Optional[int] = None,
        decay: float = 0.99,
        commitment_weight: float = 0.25,
        kmeans_init: bool = True,
        kmeans_iters: int = 10,
        threshold_ema_dead_code: float = 2.0,
        rotation_trick: bool = False,
        quantize_dropout: bool = False,
        sync_codebook: bool = False,
    ) -> None:
        check_positive(num_quantizers, "num_quantizers")
        check_positive(codebook_size, "codebook_size")
        super().__init__(dim, (codebook_size,) * num_quantizers)
        self.allows_dropped = bool(quantize_dropout)
        self.rvq = build_residual_vq(
            dim,
            num_quantizers=num_quantizers,
            codebook_size=codebook_size,
            codebook_dim=codebook_dim,
            decay=decay,
            commitment_weight=commitment_weight,
            kmeans_init=kmeans_init,
            kmeans_iters=kmeans_iters,
            threshold_ema_dead_code=threshold_ema_dead_code,
            rotation_trick=rotation_trick,
            quantize_dropout=quantize_dropout,
            sync_codebook=sync_codebook,
        )

    def _quantize(self, z: Tensor):
        z_q, indices, losses = self.rvq(z)
        return z_q, indices, losses.sum(), {}

    def _decode(self, indices: Tensor) -> Tensor:
        return self.rvq.get_output_from_indices(indices)
