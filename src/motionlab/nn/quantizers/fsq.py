"""Finite scalar quantization (Mentzer et al., 2023) on vector-quantize-pytorch.

``z`` is projected to ``len(levels)`` channels, each bounded by a tanh and rounded to ``levels[i]``
values; the implicit codebook has ``prod(levels)`` codes and no auxiliary loss (``loss = 0``).
Recommended level sets (see notes/metrics.md): [8,6,5] (2^8), [8,5,5,5] (2^10), [7,5,5,5,5] (2^12),
[8,8,8,6,5] (2^14), [8,8,8,5,5,5] (2^16).
"""

from __future__ import annotations

import math
from typing import Sequence

from torch import Tensor
from vector_quantize_pytorch import FSQ as _LibFSQ

from motionlab.errors import MotionLabError
from motionlab.nn.quantizers.base import Quantizer

RECOMMENDED_LEVELS: dict[int, tuple[int, ...]] = {
    2**8: (8, 6, 5),
    2**10: (8, 5, 5, 5),
    2**12: (7, 5, 5, 5, 5),
    2**14: (8, 8, 8, 6, 5),
    2**16: (8, 8, 8, 5, 5, 5),
}


def check_levels(levels: Sequence[int], *, preserve_symmetry: bool = False) -> list[int]:
    """``levels`` as a list of ints, or a MotionLabError saying what is wrong with them."""
    try:
        out = [int(v) for v in levels]
        ok = len(out) > 0 and all(float(a) == b for a, b in zip(levels, out))
    except (TypeError, ValueError):
        ok = False
    if not ok:
        raise MotionLabError(f"levels must be a non-empty list of integers, got {levels!r}", place="levels")
    if min(out) < 2:
        raise MotionLabError(f"every level needs at least 2 values, got {out}", place="levels")
    if 2 in out and not preserve_symmetry:
        raise MotionLabError("a level of 2 needs preserve_symmetry=True; use 3 or more otherwise", place="levels")
    return out


def build_fsq(dim: int, levels: Sequence[int], *, preserve_symmetry: bool = False) -> _LibFSQ:
    """The library's ``FSQ`` for ``(B, T, dim)`` inputs with every relevant option set explicitly."""
    return _LibFSQ(
        levels=check_levels(levels, preserve_symmetry=preserve_symmetry),
        dim=dim,
        num_codebooks=1,
        keep_num_codebooks_dim=False,
        scale=None,
        channel_first=False,
        projection_has_bias=True,
        return_indices=True,
        force_quantization_f32=True,
        preserve_symmetry=bool(preserve_symmetry),
        noise_dropout=0.0,
        bound_hard_clamp=False,
        orthogonal_rotation=False,
    )


class FSQ(Quantizer):
    """Finite scalar quantizer: ``z`` (B, T, dim) -> one index per frame in ``[0, prod(levels))``.

    Args:
        dim: latent size D (projected linearly to ``len(levels)`` channels and back when different).
        levels: values per channel; codebook size = their product.
        preserve_symmetry: the symmetric rounding variant (allows levels of 2).
    """

    def __init__(self, dim: int, levels: Sequence[int] = (8, 5, 5, 5), *, preserve_symmetry: bool = False) -> None:
        levels = check_levels(levels, preserve_symmetry=preserve_symmetry)
        super().__init__(dim, (math.prod(levels),))
        self.levels = tuple(levels)
        self.fsq = build_fsq(dim, levels, preserve_symmetry=preserve_symmetry)

    def _quantize(self, z: Tensor):
        z_q, indices = self.fsq(z)
        return z_q, indices, None, {}

    def _decode(self, indices: Tensor) -> Tensor:
        return self.fsq.indices_to_codes(indices)
