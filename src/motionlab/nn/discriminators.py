"""Motion discriminators: the one sequence discriminator shared by recipes.

:class:`MotionDiscriminator` scores a motion sequence ``(B, T, D)`` (any per-frame pose features) as
real or implausible: a GRU over time, attention pooling (a learned score per frame, softmax over the
valid frames), and an MLP to one logit per sequence. ``confidence`` is ``sigmoid(logit)`` in [0, 1].
It works for any batch size and any length (1 included); an optional ``mask (B, T)`` excludes padded
frames from the pooling.
"""

from __future__ import annotations

from typing import Optional

import torch
from torch import Tensor, nn

from motionlab.errors import MotionLabError


class MotionDiscriminator(nn.Module):
    """GRU + attention pooling -> one logit per sequence.

    Args:
        in_dim: features per frame.
        hidden: GRU width (the pooled feature size).
        layers: GRU layers.
        bidirectional: read the sequence both ways (the pooled feature is ``2 * hidden``).
    """

    def __init__(self, in_dim: int, hidden: int = 64, layers: int = 1, bidirectional: bool = True) -> None:
        super().__init__()
        if in_dim < 1 or hidden < 1 or layers < 1:
            raise MotionLabError(f"in_dim, hidden and layers must be positive, got {in_dim}, {hidden}, {layers}")
        self.in_dim = int(in_dim)
        self.inp = nn.Sequential(nn.Linear(in_dim, hidden), nn.LeakyReLU(0.2))
        self.gru = nn.GRU(hidden, hidden, num_layers=layers, batch_first=True, bidirectional=bidirectional)
        width = hidden * (2 if bidirectional else 1)
        self.attn = nn.Sequential(nn.Linear(width, hidden), nn.Tanh(), nn.Linear(hidden, 1))
        self.head = nn.Sequential(nn.Linear(width, hidden), nn.LeakyReLU(0.2), nn.Linear(hidden, 1))

    def forward(self, x: Tensor, mask: Optional[Tensor] = None) -> Tensor:
        """``x (B, T, in_dim)`` -> logits ``(B,)``; ``mask (B, T)`` True where a frame counts."""
        if x.ndim != 3 or x.shape[-1] != self.in_dim or x.shape[1] < 1:
            raise MotionLabError(f"expected (batch, time >= 1, {self.in_dim}), got {tuple(x.shape)}", place="x")
        h, _ = self.gru(self.inp(x))
        score = self.attn(h).squeeze(-1)  # (B, T)
        if mask is not None:
            if mask.shape != score.shape:
                raise MotionLabError(f"mask must be {tuple(score.shape)}, got {tuple(mask.shape)}", place="mask")
            if not bool(mask.any(dim=1).all()):
                raise MotionLabError("every sequence needs at least one valid frame", place="mask")
            score = score.masked_fill(~mask.bool(), float("-inf"))
        w = torch.softmax(score, dim=1)
        pooled = (w.unsqueeze(-1) * h).sum(1)
        return self.head(pooled).squeeze(-1)

    def confidence(self, x: Tensor, mask: Optional[Tensor] = None) -> Tensor:
        """``(B,)`` probability in [0, 1] that each sequence is real motion."""
        return torch.sigmoid(self.forward(x, mask))
