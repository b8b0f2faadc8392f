"""The default optimizer and schedule of every recipe: AdamW + warmup/cosine stepped per optimizer step."""

from __future__ import annotations

from typing import Any, Dict, Iterable, List, Optional

import torch
from torch import nn

from motionlab.train.config import TrainConfig
from motionlab.train.schedules import warmup_cosine


def param_groups(module: nn.Module, weight_decay: float) -> List[Dict[str, Any]]:
    """Two AdamW groups: matrices/kernels decay; biases, norm scales and other 1-D tensors do not."""
    decay, no_decay = [], []
    for _, p in module.named_parameters():
        if not p.requires_grad:
            continue
        (decay if p.ndim >= 2 else no_decay).append(p)
    groups = [{"params": decay, "weight_decay": weight_decay}, {"params": no_decay, "weight_decay": 0.0}]
    return [g for g in groups if g["params"]]


def make_optimizer(module: nn.Module, cfg: TrainConfig) -> torch.optim.Optimizer:
    """AdamW over ``module``'s trainable parameters with ``cfg.lr``, ``cfg.betas``, ``cfg.weight_decay``."""
    return torch.optim.AdamW(param_groups(module, cfg.weight_decay), lr=cfg.lr, betas=tuple(cfg.betas))


def total_steps(cfg: TrainConfig, trainer: Optional[Any] = None) -> int:
    """Schedule length: ``cfg.max_steps`` or, for epoch-limited runs, the trainer's estimate."""
    if cfg.max_steps > 0:
        return int(cfg.max_steps)
    if trainer is not None:
        est = trainer.estimated_stepping_batches
        if est != float("inf"):
            return max(1, int(est))
    return 1


def configure_optimization(module: nn.Module, cfg: TrainConfig, trainer: Optional[Any] = None,
                           params: Optional[Iterable] = None) -> Dict[str, Any]:
    """What a LightningModule's ``configure_optimizers`` returns: AdamW and a per-step warmup/cosine."""
    opt = make_optimizer(module, cfg) if params is None else torch.optim.AdamW(
        params, lr=cfg.lr, betas=tuple(cfg.betas), weight_decay=cfg.weight_decay)
    n = total_steps(cfg, trainer)
    sched = warmup_cosine(opt, n, min(cfg.warmup_steps, n), cfg.warmup_start, cfg.min_lr_ratio)
    return {"optimizer": opt, "lr_scheduler": {"scheduler": sched, "interval": "step", "frequency": 1}}
