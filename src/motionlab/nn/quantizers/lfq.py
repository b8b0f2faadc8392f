"""Lookup-free quantization (MAGVIT-v2, Yu et al., 2023) on vector-quantize-pytorch.

``z`` is projected to ``log2(codebook_size)`` channels whose signs are the code bits (each channel
quantized to -1 or +1). The auxiliary loss is
``entropy_loss_weight * (mean per-sample entropy - diversity_gamma * entropy of the batch-mean
code distribution) + commitment_weight * mean((z - sg[q])^2)``; it is negative when codes are
used evenly, which is expected.
"""

from __future__ import annotations

import math

from torch import Tensor, nn
from vector_quantize_pytorch import LFQ as _LibLFQ

from motionlab.errors import MotionLabError
from motionlab.nn.quantizers.base import Quantizer, check_fraction, check_positive


class LFQ(Quantizer):
    """Lookup-free quantizer: ``z`` (B, T, dim) -> one index per frame in ``[0, codebook_size)``.

    Args:
        dim: latent size D (projected to ``log2(codebook_size)`` channels and back when different).
        codebook_size: a power of two.
        entropy_loss_weight: weight of the entropy term (0.1 as in MAGVIT-v2).
        diversity_gamma: weight of the codebook (batch) entropy inside the entropy term.
        commitment_weight: weight of the commitment loss.
        inv_temperature: inverse temperature of the soft code assignment used by the entropy term.
    """

    def __init__(
        self,
        dim: int,
        codebook_size: int = 1024,
        *,
        entropy_loss_weight: float = 0.1,
        diversity_gamma: float = 1.0,
        commitment_weight: float = 0.25,
        inv_temperature: float = 10.0,
    ) -> None:
        check_positive(codebook_size, "codebook_size")
        bits = math.log2(codebook_size)
        if codebook_size < 2 or not bits.is_integer():
            raise MotionLabError(f"must be a power of two (>= 2), got {codebook_size}", place="codebook_size")
        super().__init__(dim, (codebook_size,))
        self.inv_temperature = check_fraction(inv_temperature, "inv_temperature", low=1e-6, high=float("inf"))
        self.lfq = _LibLFQ(
            dim=dim,
            codebook_size=codebook_size,
            entropy_loss_weight=check_fraction(entropy_loss_weight, "entropy_loss_weight", high=float("inf")),
            commitment_loss_weight=check_fraction(commitment_weight, "commitment_weight", high=float("inf")),
            diversity_gamma=check_fraction(diversity_gamma, "diversity_gamma", high=float("inf")),
            straight_through_activation=nn.Identity(),
            num_codebooks=1,
            keep_num_codebooks_dim=False,
            codebook_scale=1.0,
            frac_per_sample_entropy=1.0,
            has_projections=dim != int(bits),
            projection_has_bias=True,
            soft_clamp_input_value=None,
            cosine_sim_project_in=False,
            channel_first=False,
            experimental_softplus_entropy_loss=False,
            spherical=False,
            force_quantization_f32=True,
            orthogonal_rotation=False,
        )

    def _quantize(self, z: Tensor):
        (z_q, indices, loss), parts = self.lfq(z, inv_temperature=self.inv_temperature, return_loss_breakdown=True)
        extra = {}
        if self.training:
            extra = {"per_sample_entropy": parts.per_sample_entropy, "codebook_entropy": parts.batch_entropy}
        return z_q, indices, loss, extra

    def _decode(self, indices: Tensor) -> Tensor:
        return self.lfq.indices_to_codes(indices)
