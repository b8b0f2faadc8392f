"""Learning-rate schedules as picklable multiplicative factors for ``torch.optim.lr_scheduler.LambdaLR``.

Factors are objects (not closures) holding only numbers, so a scheduler's ``state_dict`` stays loadable
with ``torch.load(weights_only=True)``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from motionlab.errors import MotionLabError


@dataclass
class WarmupCosine:
    """lr factor at optimizer step ``s`` (0-based): linear warmup, then cosine decay to a floor.

    * ``s < warmup``: ``start + (1 - start) * s / warmup``;
    * ``warmup <= s <= total``: ``floor + (1 - floor) * (1 + cos(pi * (s - warmup) / (total - warmup))) / 2``;
    * ``s > total``: ``floor``.
    """

    total: int
    warmup: int = 0
    start: float = 0.1
    floor: float = 0.01

    def __post_init__(self) -> None:
        if self.total < 1:
            raise MotionLabError(f"schedule length must be >= 1 step, got {self.total}")
        if self.warmup < 0 or self.warmup > self.total:
            raise MotionLabError(f"warmup steps must lie in [0, {self.total}], got {self.warmup}")
        if not (0.0 <= self.floor <= 1.0) or not (0.0 <= self.start <= 1.0):
            raise MotionLabError(f"warmup start and floor must lie in [0, 1], got {self.start}, {self.floor}")

    def __call__(self, step: int) -> float:
        if step < self.warmup:
            return self.start + (1.0 - self.start) * step / self.warmup
        span = self.total - self.warmup
        if span <= 0:
            return 1.0 if step <= self.total else self.floor
        t = min(max(step - self.warmup, 0), span) / span
        return self.floor + (1.0 - self.floor) * 0.5 * (1.0 + math.cos(math.pi * t))


def warmup_cosine(optimizer, total_steps: int, warmup_steps: int = 0, start: float = 0.1, floor: float = 0.01):
    """A ``LambdaLR`` applying :class:`WarmupCosine`; step it once per optimizer step."""
    from torch.optim.lr_scheduler import LambdaLR

    return LambdaLR(optimizer, WarmupCosine(int(total_steps), int(warmup_steps), float(start), float(floor)))
