"""EMA vector quantizer with dead-code reset (VQ-VAE-2 / T2M-GPT style), on vector-quantize-pytorch.

The codebook is not a parameter: it follows an exponential moving average of the encoder outputs
assigned to each code (``decay``); a code whose EMA usage drops below ``threshold_ema_dead_code``
is replaced by a random encoder output from the current batch. The encoder is pulled towards its
codes by the commitment loss ``commitment_weight * mean((z - sg[e])^2)``.
"""

from __future__ import annotations

from typing import Any, Optional

from torch import Tensor
from vector_quantize_pytorch import VectorQuantize

from motionlab.nn.quantizers.base import Quantizer, check_fraction, check_positive


def ema_codebook_kwargs(
    *,
    decay: float,
    kmeans_init: bool,
    kmeans_iters: int,
    threshold_ema_dead_code: float,
    commitment_weight: float,
    rotation_trick: bool,
    sync_codebook: bool,
) -> dict[str, Any]:
    """Every ``VectorQuantize`` option motionlab relies on for EMA codebooks, stated explicitly.

    The library's own defaults differ (``decay=0.8``, no dead-code reset, rotation trick on, codebook
    sync decided once from the process-group state at construction), so none is left implicit.
    """
    return dict(
        decay=check_fraction(decay, "decay"),
        eps=1e-5,
        kmeans_init=bool(kmeans_init),
        kmeans_iters=check_positive(kmeans_iters, "kmeans_iters"),
        threshold_ema_dead_code=check_fraction(threshold_ema_dead_code, "threshold_ema_dead_code", high=float("inf")),
        commitment_weight=check_fraction(commitment_weight, "commitment_weight", high=float("inf")),
        commitment_use_cross_entropy_loss=False,
        rotation_trick=bool(rotation_trick),
        straight_through=False,
        directional_reparam=False,
        stochastic_sample_codes=False,
        use_cosine_sim=False,
        orthogonal_reg_weight=0.0,
        codebook_diversity_loss_weight=0.0,
        ema_update=True,
        learnable_codebook=False,
        sync_codebook=bool(sync_codebook),
        affine_param=False,
        channel_last=True,
    )


class EMAVQ(Quantizer):
    """EMA vector quantizer: ``z`` (B, T, dim) -> one index per frame from ``codebook_size`` codes.

    Args:
        dim: latent size D.
        codebook_size: number of codes K.
        codebook_dim: size of the code vectors; a linear projection maps D to it and back when it
            differs from D (``None`` = D).
        decay: EMA decay of code usage and code sums (0.99 as in T2M-GPT).
        commitment_weight: weight of the commitment loss.
        kmeans_init: initialise the codebook by k-means on the first batch seen.
        kmeans_iters: k-means iterations for that.
        threshold_ema_dead_code: EMA usage below which a code is reset (0 disables resets).
        rotation_trick: route gradients with the rotation trick instead of the plain
            straight-through estimator.
        sync_codebook: all-reduce codebook statistics across processes (DDP); needs an initialised
            process group whenever the module runs in training mode.
    """

    def __init__(
        self,
        dim: int,
        codebook_size: int = 512,
        *,
        codebook_dim: Optional[int] = None,
        decay: float = 0.99,
        commitment_weight: float = 0.25,
        kmeans_init: bool = True,
        kmeans_iters: int = 10,
        threshold_ema_dead_code: float = 2.0,
        rotation_trick: bool = False,
        sync_codebook: bool = False,
    ) -> None:
        check_positive(codebook_size, "codebook_size")
        super().__init__(dim, (codebook_size,))
        codebook_dim = dim if codebook_dim is None else check_positive(codebook_dim, "codebook_dim")
        self.vq = VectorQuantize(
            dim=dim,
            codebook_size=codebook_size,
            codebook_dim=codebook_dim,
            heads=1,
            separate_codebook_per_head=False,
            layernorm_after_project_in=False,
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

    def _quantize(self, z: Tensor):
        z_q, indices, loss = self.vq(z)
        return z_q, indices, loss, {}

    def _decode(self, indices: Tensor) -> Tensor:
        return self.vq.get_output_from_indices(indices)
