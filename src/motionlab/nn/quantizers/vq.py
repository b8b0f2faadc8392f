"""Standard VQ-VAE quantizer with a learnable codebook (van den Oord et al., 2017).

The nearest-code search comes from vector-quantize-pytorch; the two classic loss terms are written
here because the library folds them into one equally weighted term when the codebook is learnable:

    loss = codebook_weight * mean((sg[z] - e)^2) + commitment_weight * mean((z - sg[e])^2)

(``sg`` = stop-gradient, ``z`` the projected encoder output, ``e`` its nearest code).
"""

from __future__ import annotations

from typing import Optional

import torch.nn.functional as F
from torch import Tensor, nn
from vector_quantize_pytorch import VectorQuantize

from motionlab.nn.quantizers.base import Quantizer, check_fraction, check_positive


class VQ(Quantizer):
    """Vector quantizer trained by gradient descent: ``z`` (B, T, dim) -> one index per frame.

    Args:
        dim: latent size D.
        codebook_size: number of codes K.
        codebook_dim: size of the code vectors (linear projections in/out when it differs from D).
        commitment_weight: weight pulling the encoder towards its code (beta, 0.25 in the paper).
        codebook_weight: weight pulling the code towards the encoder output.
        kmeans_init: initialise the codebook by k-means on the first batch seen.
        kmeans_iters: k-means iterations for that.
        threshold_ema_dead_code: EMA usage below which a code is reset to a batch vector
            (0 = never, the textbook setting).
        usage_decay: EMA decay of the usage counts behind dead-code resets.
        rotation_trick: route gradients with the rotation trick instead of straight-through.
    """

    def __init__(
        self,
        dim: int,
        codebook_size: int = 512,
        *,
        codebook_dim: Optional[int] = None,
        commitment_weight: float = 0.25,
        codebook_weight: float = 1.0,
        kmeans_init: bool = True,
        kmeans_iters: int = 10,
        threshold_ema_dead_code: float = 0.0,
        usage_decay: float = 0.99,
        rotation_trick: bool = False,
    ) -> None:
        check_positive(codebook_size, "codebook_size")
        super().__init__(dim, (codebook_size,))
        cdim = dim if codebook_dim is None else check_positive(codebook_dim, "codebook_dim")
        self.commitment_weight = check_fraction(commitment_weight, "commitment_weight", high=float("inf"))
        self.codebook_weight = check_fraction(codebook_weight, "codebook_weight", high=float("inf"))
        self.project_in = nn.Linear(dim, cdim) if cdim != dim else nn.Identity()
        self.project_out = nn.Linear(cdim, dim) if cdim != dim else nn.Identity()
        self.vq = VectorQuantize(
            dim=cdim,
            codebook_size=codebook_size,
            codebook_dim=cdim,
            heads=1,
            separate_codebook_per_head=False,
            decay=check_fraction(usage_decay, "usage_decay"),
            eps=1e-5,
            kmeans_init=bool(kmeans_init),
            kmeans_iters=check_positive(kmeans_iters, "kmeans_iters"),
            threshold_ema_dead_code=check_fraction(threshold_ema_dead_code, "threshold_ema_dead_code", high=float("inf")),
            commitment_weight=0.0,  # both loss terms are computed in _quantize
            commitment_use_cross_entropy_loss=False,
            rotation_trick=bool(rotation_trick),
            straight_through=False,
            directional_reparam=False,
            stochastic_sample_codes=False,
            use_cosine_sim=False,
            orthogonal_reg_weight=0.0,
            codebook_diversity_loss_weight=0.0,
            ema_update=False,
            learnable_codebook=True,
            sync_codebook=False,  # gradients of a learnable codebook are synchronised by DDP itself
            affine_param=False,
            channel_last=True,
        )

    def _quantize(self, z: Tensor):
        zp = self.project_in(z)
        q, indices, _ = self.vq(zp)
        loss = None
        if self.training:
            codes = self.vq.codebook[indices]
            loss = self.codebook_weight * F.mse_loss(codes, zp.detach()) + self.commitment_weight * F.mse_loss(
                zp, codes.detach()
            )
        return self.project_out(q), indices, loss, {}

    def _decode(self, indices: Tensor) -> Tensor:
        return self.project_out(self.vq.codebook[indices])
