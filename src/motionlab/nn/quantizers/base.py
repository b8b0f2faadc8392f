"""The one contract every motionlab quantizer follows.

A quantizer maps continuous latents ``z`` of shape ``(B, T, D)`` (batch, time, features) to

* ``z_q`` (B, T, D): quantized latents. In training mode gradients pass back to ``z`` through a
  straight-through estimator (or the rotation trick where a quantizer enables it); the forward value
  is the quantized value either way.
* ``indices``: ``(B, T)`` long tensor for single-level quantizers, ``(B, T, L)`` for multi-level
  ones (residual, hybrid), level 0 being the coarsest.
* ``loss``: a scalar tensor with the quantizer's auxiliary losses (commitment, codebook, entropy),
  already weighted; it is computed in training mode only and is ``0`` in eval mode or when a
  quantizer has none (FSQ). It may be negative (LFQ's entropy term).
* ``stats``: detached 0-dim tensors for logging (``quant_error`` = mean squared ``z - z_q``,
  ``batch_perplexity`` and ``batch_used`` per level). Per-batch perplexity depends on the batch
  size; whole-set usage metrics accumulate :meth:`Quantizer.code_counts` instead.
"""

from __future__ import annotations

from typing import NamedTuple, Sequence

import torch
from torch import Tensor, nn

from motionlab.errors import MotionLabError


class QuantizerOutput(NamedTuple):
    """Result of :meth:`Quantizer.forward` (see the module docstring for the shapes)."""

    z_q: Tensor
    indices: Tensor
    loss: Tensor
    stats: dict[str, Tensor]


class Quantizer(nn.Module):
    """Base class: validates shapes, builds stats, counts codes; subclasses do the quantizing.

    Subclasses set ``self.dim`` and ``self.codebook_sizes`` (one entry per level) and implement
    :meth:`_quantize` and :meth:`_decode`. ``multi_level`` says whether indices carry a level axis.
    """

    multi_level: bool = False
    allows_dropped: bool = False  # whether index -1 (a level dropped by quantizer dropout) is valid

    def __init__(self, dim: int, codebook_sizes: Sequence[int]) -> None:
        super().__init__()
        if not isinstance(dim, int) or dim < 1:
            raise MotionLabError(f"latent dim must be a positive integer, got {dim!r}", place="dim")
        self.dim = dim
        self.codebook_sizes: tuple[int, ...] = tuple(int(k) for k in codebook_sizes)

    # ------------------------------------------------------------------ sizes
    @property
    def num_levels(self) -> int:
        """Number of index levels (1 for VQ/EMA/FSQ/LFQ)."""
        return len(self.codebook_sizes)

    @property
    def codebook_size(self) -> int:
        """Codebook size of a level (the largest one when levels differ, as in hybrid)."""
        return max(self.codebook_sizes)

    # ------------------------------------------------------------ subclasses
    def _quantize(self, z: Tensor) -> tuple[Tensor, Tensor, Tensor, dict[str, Tensor]]:
        """Return ``(z_q, indices, loss, extra_stats)`` for a validated ``z`` (B, T, D)."""
        raise NotImplementedError

    def _decode(self, indices: Tensor) -> Tensor:
        """Return ``z_q`` (B, T, D) for validated long ``indices``."""
        raise NotImplementedError

    # ---------------------------------------------------------------- public
    def forward(self, z: Tensor) -> QuantizerOutput:
        """Quantize ``z`` (B, T, D); see the module docstring for the output."""
        self._check_latents(z)
        z_q, indices, loss, extra = self._quantize(z)
        indices = indices.long()
        if loss is None or not self.training:
            loss = z.new_zeros(())  # (the library can hand back a shared zero buffer flagged requires_grad)
        loss = loss.reshape(()) if loss.numel() == 1 else loss.sum()
        stats = {"quant_error": (z.detach() - z_q.detach()).pow(2).mean()}
        stats.update(self._batch_usage(indices))
        stats.update({k: v.detach() for k, v in extra.items()})
        return QuantizerOutput(z_q, indices, loss, stats)

    def decode_indices(self, indices: Tensor) -> Tensor:
        """Quantized latents (B, T, D) of ``indices`` (B, T) or (B, T, L).

        In eval mode this reproduces ``forward(z).z_q`` for the indices ``forward`` returned.
        """
        self._check_indices(indices)
        return self._decode(indices.long())

    def code_counts(self, indices: Tensor) -> list[Tensor]:
        """How often each code is used in ``indices``: one long tensor per level.

        Entry ``l`` has length ``codebook_sizes[l]``; negative indices (dropped levels) are ignored.
        Sum these over an evaluation set to compute whole-set perplexity and dead-code ratios.
        """
        self._check_indices(indices)
        return self._counts(indices.long())

    # --------------------------------------------------------------- helpers
    def _levels_of(self, indices: Tensor) -> list[Tensor]:
        """Flattened per-level index tensors."""
        if self.multi_level:
            return [indices[..., i].reshape(-1) for i in range(indices.shape[-1])]
        return [indices.reshape(-1)]

    def _counts(self, indices: Tensor) -> list[Tensor]:
        """Unchecked :meth:`code_counts` (no host sync, for use inside ``forward``)."""
        return [
            torch.bincount(lvl[lvl >= 0], minlength=k).detach()
            for lvl, k in zip(self._levels_of(indices), self.codebook_sizes)
        ]

    def _batch_usage(self, indices: Tensor) -> dict[str, Tensor]:
        out: dict[str, Tensor] = {}
        for level, counts in enumerate(self._counts(indices)):
            p = counts.float() / counts.sum().clamp(min=1)
            entropy = -(p * torch.log(p.clamp(min=1e-12))).sum()
            suffix = f"/{level}" if self.multi_level else ""
            out["batch_perplexity" + suffix] = entropy.exp()
            out["batch_used" + suffix] = (counts > 0).float().mean()
        return out

    def _check_latents(self, z: Tensor) -> None:
        if not isinstance(z, Tensor):
            raise MotionLabError(f"expected a torch tensor, got {type(z).__name__}", place="z")
        if z.ndim != 3 or z.shape[-1] != self.dim:
            raise MotionLabError(
                f"expected latents of shape (batch, time, {self.dim}), got {tuple(z.shape)}", place="z"
            )
        if not z.is_floating_point():
            raise MotionLabError(f"expected floating-point latents, got {z.dtype}", place="z")

    def _check_indices(self, indices: Tensor) -> None:
        if not isinstance(indices, Tensor) or indices.is_floating_point() or indices.is_complex():
            raise MotionLabError("indices must be an integer tensor", place="indices")
        want = 3 if self.multi_level else 2
        if indices.ndim != want or (self.multi_level and indices.shape[-1] != self.num_levels):
            shape = "(batch, time, %d)" % self.num_levels if self.multi_level else "(batch, time)"
            raise MotionLabError(f"expected indices of shape {shape}, got {tuple(indices.shape)}", place="indices")
        if indices.numel():
            low = -1 if self.allows_dropped else 0
            for level, (lvl, k) in enumerate(zip(self._levels_of(indices), self.codebook_sizes)):
                lo, hi = int(lvl.min()), int(lvl.max())
                if lo < low or hi >= k:
                    bad = lo if lo < low else hi
                    raise MotionLabError(
                        f"index {bad} out of range for a codebook of {k}", place=f"indices level {level}"
                    )


def check_positive(value: int, name: str) -> int:
    """``value`` as an int, or a MotionLabError naming ``name`` when it is not a positive integer."""
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise MotionLabError(f"must be a positive integer, got {value!r}", place=name)
    return value


def check_fraction(value: float, name: str, *, low: float = 0.0, high: float = 1.0) -> float:
    """``value`` as a float in ``[low, high]``, else a MotionLabError naming ``name``."""
    try:
        v = float(value)
    except (TypeError, ValueError):
        raise MotionLabError(f"must be a number, got {value!r}", place=name) from None
    if not low <= v <= high:
        raise MotionLabError(f"must lie in [{low}, {high}], got {v}", place=name)
    return v
