"""Adaptive weights for multi-task losses.

Every balancer is an ``nn.Module`` (so its parameters/buffers live in the LightningModule, are optimised
and checkpointed) called as ``total, weights = balancer(losses)`` with ``losses`` a dict of scalar
tensors; ``weights`` (name -> float) is for logging (``adaptive/<name>``).

* ``fixed``: constant weights (default 1).
* ``uncertainty``: homoscedastic uncertainty weighting (Kendall, Gal & Cipolla, CVPR 2018): one learned
  log-variance ``s_i`` per loss, ``total = sum(0.5 * exp(-s_i) * L_i + 0.5 * s_i)``.
* ``dwa``: dynamic weight average (Liu, Johns & Davison, CVPR 2019), per step with smoothed losses:
  ``w_i = K * softmax(r_i / T)``, ``r_i`` the ratio of a loss's slow and slower running means.
* ``gradnorm``: a light GradNorm (Chen et al., ICML 2018): weights move multiplicatively toward equal
  gradient norms on shared parameters, scaled by each task's relative progress ``(L_i / L_i(0))^alpha``;
  no second-order terms; weights sum to ``K``.
"""

from __future__ import annotations

from typing import Dict, Iterable, Optional, Sequence, Tuple

import torch
from torch import Tensor, nn

from motionlab.errors import MotionLabError, choices_error


class LossBalancer(nn.Module):
    """Base class: fixed names; ``forward(losses) -> (total, weights)``."""

    def __init__(self, names: Sequence[str]) -> None:
        super().__init__()
        if not names or len(set(names)) != len(names):
            raise MotionLabError(f"adaptive loss needs distinct loss names, got {list(names)}")
        self.names = list(names)

    def _check(self, losses: Dict[str, Tensor]) -> None:
        missing = [n for n in self.names if n not in losses]
        if missing:
            raise MotionLabError(f"missing losses {missing}; the balancer expects {self.names}")

    def weights(self) -> Tensor:
        raise NotImplementedError

    def forward(self, losses: Dict[str, Tensor], shared: Optional[Iterable[Tensor]] = None) -> Tuple[Tensor, Dict[str, float]]:
        self._check(losses)
        w = self.weights().detach().clone()  # a copy: balancers update their weights in place afterwards
        total = sum(w[i] * losses[n] for i, n in enumerate(self.names))
        return total, {n: float(w[i]) for i, n in enumerate(self.names)}


class FixedWeights(LossBalancer):
    def __init__(self, names: Sequence[str], weights: Optional[Dict[str, float]] = None) -> None:
        super().__init__(names)
        weights = weights or {}
        self.register_buffer("w", torch.tensor([float(weights.get(n, 1.0)) for n in self.names]))

    def weights(self) -> Tensor:
        return self.w


class UncertaintyWeighting(LossBalancer):
    """Learned log-variances ``s_i``; the reported weight is the effective ``0.5 * exp(-s_i)``."""

    def __init__(self, names: Sequence[str], init_log_var: float = 0.0) -> None:
        super().__init__(names)
        self.log_var = nn.Parameter(torch.full((len(self.names),), float(init_log_var)))

    def weights(self) -> Tensor:
        return 0.5 * torch.exp(-self.log_var)

    def forward(self, losses, shared=None):
        self._check(losses)
        s = self.log_var
        total = sum(0.5 * torch.exp(-s[i]) * losses[n] + 0.5 * s[i] for i, n in enumerate(self.names))
        w = self.weights().detach()
        return total, {n: float(w[i]) for i, n in enumerate(self.names)}


class DynamicWeightAverage(LossBalancer):
    """``w = K * softmax(r / T)`` with ``r_i = fast_i / slow_i`` (running means with decays ``beta`` and
    ``sqrt(beta)``): a loss that stopped falling gets more weight. Updated in training mode only."""

    def __init__(self, names: Sequence[str], temperature: float = 2.0, beta: float = 0.9) -> None:
        super().__init__(names)
        self.temperature = float(temperature)
        self.beta = float(beta)
        k = len(self.names)
        self.register_buffer("fast", torch.zeros(k))
        self.register_buffer("slow", torch.zeros(k))
        self.register_buffer("count", torch.zeros((), dtype=torch.long))

    def weights(self) -> Tensor:
        k = len(self.names)
        if int(self.count) < 2:
            return torch.ones(k, device=self.fast.device)
        r = self.fast / self.slow.clamp_min(1e-12)
        return k * torch.softmax(r / self.temperature, dim=0)

    def forward(self, losses, shared=None):
        total, w = super().forward(losses)
        if self.training:
            cur = torch.stack([losses[n].detach().float() for n in self.names]).to(self.fast.device)
            if int(self.count) == 0:
                self.fast.copy_(cur)
                self.slow.copy_(cur)
            else:
                self.fast.mul_(self.beta).add_((1 - self.beta) * cur)
                bs = self.beta ** 0.5  # longer memory than the fast mean
                self.slow.mul_(bs).add_((1 - bs) * cur)
            self.count += 1
        return total, w


class GradNormLite(LossBalancer):
    """Weights steered toward balanced gradient norms on ``shared`` parameters (pass them when calling).

    Update per training call: ``g_i = |grad_shared(w_i L_i)|``, ``p_i = (L_i / L_i(0)) / mean(L / L(0))``,
    target ``t_i = mean(g) * p_i ** alpha``, ``w_i <- w_i * (t_i / g_i) ** rate``, renormalised to sum ``K``.
    """

    def __init__(self, names: Sequence[str], alpha: float = 1.5, rate: float = 0.1) -> None:
        super().__init__(names)
        self.alpha = float(alpha)
        self.rate = float(rate)
        k = len(self.names)
        self.register_buffer("w", torch.ones(k))
        self.register_buffer("initial", torch.zeros(k))

    def weights(self) -> Tensor:
        return self.w

    def forward(self, losses, shared=None):
        total, w = super().forward(losses)
        if self.training and shared is not None and torch.is_grad_enabled():
            params = [p for p in shared if p.requires_grad]
            cur = torch.stack([losses[n].detach().float() for n in self.names]).to(self.w.device)
            if bool((self.initial == 0).all()):
                self.initial.copy_(cur.clamp_min(1e-12))
            g = []
            for i, n in enumerate(self.names):
                if not losses[n].requires_grad:
                    g.append(torch.zeros((), device=self.w.device))
                    continue
                grads = torch.autograd.grad(self.w[i] * losses[n], params, retain_graph=True, allow_unused=True)
                sq = sum((gr.float() ** 2).sum() for gr in grads if gr is not None)
                g.append(torch.sqrt(torch.as_tensor(sq, device=self.w.device, dtype=torch.float32)))
            g = torch.stack(g)
            if bool(torch.isfinite(g).all()) and float(g.mean()) > 0:
                ratio = cur / self.initial
                progress = ratio / ratio.mean().clamp_min(1e-12)
                target = g.mean() * progress ** self.alpha
                new = self.w * (target / g.clamp_min(1e-12)) ** self.rate
                self.w.copy_(len(self.names) * new / new.sum())
        return total, w


BALANCERS = {"fixed": FixedWeights, "uncertainty": UncertaintyWeighting, "dwa": DynamicWeightAverage,
             "gradnorm": GradNormLite}


def build_balancer(method: str, names: Sequence[str], **kwargs) -> LossBalancer:
    """A balancer by name: ``fixed``, ``uncertainty``, ``dwa`` or ``gradnorm`` (kwargs go to its class)."""
    if method not in BALANCERS:
        raise choices_error("adaptive loss method", method, BALANCERS)
    return BALANCERS[method](names, **kwargs)


def reset_balancer(balancer: LossBalancer) -> None:
    """Put a balancer back to its initial state (e.g. at a training-stage boundary): GradNorm weights to 1
    and its reference losses cleared, DWA's running means cleared, uncertainty log-variances to 0."""
    with torch.no_grad():
        if isinstance(balancer, GradNormLite):
            balancer.w.fill_(1.0)
            balancer.initial.zero_()
        elif isinstance(balancer, DynamicWeightAverage):
            balancer.fast.zero_()
            balancer.slow.zero_()
            balancer.count.zero_()
        elif isinstance(balancer, UncertaintyWeighting):
            balancer.log_var.zero_()
