"""FiLM: feature-wise linear modulation of hidden features by a conditioning vector (Perez et al., AAAI 2018).

``FiLM(cond_dim, features)(h, c) = h * (1 + gamma(c)) + beta(c)``. The projection starts at zero, so a
freshly built FiLM layer is the identity and conditioning is learned from there.
"""

from __future__ import annotations

from torch import Tensor, nn


class FiLM(nn.Module):
    """Scale and shift ``h (..., features)`` by ``c (..., cond_dim)`` (a small MLP gives gamma and beta).

    Args:
        cond_dim: size of the conditioning vector.
        features: size of the modulated features.
        hidden: width of the conditioning MLP (0: one linear layer).
    """

    def __init__(self, cond_dim: int, features: int, hidden: int = 0) -> None:
        super().__init__()
        self.features = int(features)
        if hidden > 0:
            self.net = nn.Sequential(nn.Linear(cond_dim, hidden), nn.SiLU(), nn.Linear(hidden, 2 * features))
        else:
            self.net = nn.Sequential(nn.Linear(cond_dim, 2 * features))
        last = self.net[-1]
        nn.init.zeros_(last.weight)
        nn.init.zeros_(last.bias)

    def forward(self, h: Tensor, c: Tensor) -> Tensor:
        gamma, beta = self.net(c).chunk(2, dim=-1)
        return h * (1.0 + gamma) + beta


__all__ = ["FiLM"]
