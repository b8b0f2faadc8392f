"""Hybrid quantizer: FSQ for the coarse code, then residual VQ on what FSQ leaves over.

    z_fsq = FSQ(z);   r = z - sg[z_fsq];   z_res = RVQ(r);   z_q = z_fsq + z_res

Indices are ``(B, T, 1 + num_quantizers)``: level 0 is the FSQ index (``prod(levels)`` codes),
levels 1.. the residual VQ indices (``codebook_size`` codes each). The loss is the residual VQ's
summed commitment loss (FSQ has none). This follows the "Hybrid (FSQ + RVQ)" quantizer described
by the human-to-robot VQ-VAE study behind the tokenizer and retarget recipes.

Gradients: the FSQ projections learn through ``z_fsq``; the encoder receives the FSQ path's
gradient plus the residual VQ's straight-through gradient (one identity per residual level).
"""

from __future__ import annotations

import math
from typing import Optional, Sequence

from torch import Tensor, cat

from motionlab.nn.quantizers.base import Quantizer, check_positive
from motionlab.nn.quantizers.fsq import build_fsq, check_levels
from motionlab.nn.quantizers.rvq import build_residual_vq


class HybridFSQRVQ(Quantizer):
    """FSQ followed by residual VQ on its residual: ``z`` (B, T, dim) -> indices (B, T, 1 + L).

    Args:
        dim: latent size D.
        levels: FSQ levels (codebook size of level 0 = their product).
        num_quantizers: residual VQ levels L after the FSQ level.
        codebook_size: codes per residual level.
        codebook_dim, decay, commitment_weight, kmeans_init, kmeans_iters, threshold_ema_dead_code,
        rotation_trick, sync_codebook: options of the residual VQ (see :class:`.rvq.RVQ`).
        preserve_symmetry: FSQ's symmetric rounding variant.
    """

    multi_level = True

    def __init__(
        self,
        dim: int,
        levels: Sequence[int] = (8, 5, 5, 5),
        num_quantizers: int = 2,
        codebook_size: int = 512,
        *,
        codebook_dim: Optional[int] = None,
        decay: float = 0.99,
        commitment_weight: float = 0.25,
        kmeans_init: bool = True,
        kmeans_iters: int = 10,
        threshold_ema_dead_code: float = 2.0,
        rotation_trick: bool = False,
        preserve_symmetry: bool = False,
        sync_codebook: bool = False,
    ) -> None:
        levels = check_levels(levels, preserve_symmetry=preserve_symmetry)
        check_positive(num_quantizers, "num_quantizers")
        check_positive(codebook_size, "codebook_size")
        super().__init__(dim, (math.prod(levels),) + (codebook_size,) * num_quantizers)
        self.levels = tuple(levels)
        self.fsq = build_fsq(dim, levels, preserve_symmetry=preserve_symmetry)
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
            quantize_dropout=False,
            sync_codebook=sync_codebook,
        )

    def _quantize(self, z: Tensor):
        z_fsq, fsq_indices = self.fsq(z)
        z_res, res_indices, losses = self.rvq(z - z_fsq.detach())
        indices = cat([fsq_indices.long()[..., None], res_indices.long()], dim=-1)
        extra = {"fsq_error": (z.detach() - z_fsq.detach()).pow(2).mean()}
        return z_fsq + z_res, indices, losses.sum(), extra

    def _decode(self, indices: Tensor) -> Tensor:
        return self.fsq.indices_to_codes(indices[..., 0]) + self.rvq.get_output_from_indices(indices[..., 1:])
