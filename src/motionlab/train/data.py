"""A training loader whose order depends only on (seed, epoch, rank) and that resumes mid-epoch.

Recipes return :class:`ResumableLoader` from their data module's ``train_dataloader``. Lightning sees
that it is *stateful* (``state_dict``/``load_state_dict``), saves its position in every checkpoint and
restores it on resume, so a killed-and-resumed run sees exactly the batches an uninterrupted one sees.
It shards the permutation across DDP ranks itself (Lightning only injects samplers into plain
``DataLoader``s), and never draws from the global random generators.
"""

from __future__ import annotations

import math
from typing import Any, Callable, Dict, Iterator, List, Optional

import torch
from torch.utils.data import DataLoader, Dataset


def _dist_info() -> tuple:
    if torch.distributed.is_available() and torch.distributed.is_initialized():
        return torch.distributed.get_world_size(), torch.distributed.get_rank()
    return 1, 0


class EpochSampler:
    """Indices of one rank for a given epoch: a seeded permutation (or ``range``), padded and strided.

    ``set_epoch`` is called by Lightning at the start of every epoch.
    """

    def __init__(self, num_items: int, shuffle: bool = True, seed: int = 0) -> None:
        self.num_items = int(num_items)
        self.shuffle = shuffle
        self.seed = int(seed)
        self.epoch = 0

    def set_epoch(self, epoch: int) -> None:
        self.epoch = int(epoch)

    def indices(self, epoch: Optional[int] = None) -> List[int]:
        epoch = self.epoch if epoch is None else epoch
        if self.shuffle:
            g = torch.Generator().manual_seed(self.seed * 1_000_003 + epoch)
            order = torch.randperm(self.num_items, generator=g).tolist()
        else:
            order = list(range(self.num_items))
        world, rank = _dist_info()
        if world > 1 and order:
            order = order + order[: (-len(order)) % world]
            order = order[rank::world]
        return order


class ResumableLoader:
    """Batches of ``dataset`` in an order fixed by ``(seed, epoch, rank)``; resumable mid-epoch.

    Args:
        dataset: a map-style dataset.
        batch_size: items per batch (per rank).
        shuffle: a new seeded permutation every epoch.
        seed: the order's seed (use the run's ``train.seed``).
        drop_last: drop the last incomplete batch.
        num_workers, collate_fn, pin_memory: passed to the per-epoch ``DataLoader`` (whose worker seeds
            come from a generator seeded by ``(seed, epoch, rank)``).
    """

    def __init__(self, dataset: Dataset, batch_size: int, *, shuffle: bool = True, seed: int = 0,
                 drop_last: bool = False, num_workers: int = 0, collate_fn: Optional[Callable] = None,
                 pin_memory: bool = False) -> None:
        if batch_size < 1:
            raise ValueError(f"batch_size must be >= 1, got {batch_size}")
        self.dataset = dataset
        self.batch_size = int(batch_size)
        self.drop_last = drop_last
        self.num_workers = num_workers
        self.collate_fn = collate_fn
        self.pin_memory = pin_memory
        self.sampler = EpochSampler(len(dataset), shuffle, seed)  # type: ignore[arg-type]
        self._running_epoch = 0
        self._done = 0
        self._skip_epoch: Optional[int] = None
        self._skip = 0

    def _batches(self, order: List[int]) -> List[List[int]]:
        out = [order[i:i + self.batch_size] for i in range(0, len(order), self.batch_size)]
        if self.drop_last and out and len(out[-1]) < self.batch_size:
            out.pop()
        return out

    def __len__(self) -> int:
        world, _ = _dist_info()
        n = math.ceil(self.sampler.num_items / world) if world > 1 else self.sampler.num_items
        return n // self.batch_size if self.drop_last else math.ceil(n / self.batch_size)

    def __iter__(self) -> Iterator[Any]:
        # a generator: the epoch is read at the first ``next``, after Lightning's ``set_epoch``
        epoch = self.sampler.epoch
        skip = self._skip if self._skip_epoch == epoch else 0
        self._skip_epoch, self._skip = None, 0
        batches = self._batches(self.sampler.indices(epoch))[skip:]
        world, rank = _dist_info()
        g = torch.Generator().manual_seed((self.sampler.seed * 1_000_003 + epoch) * 4099 + rank)
        loader = DataLoader(self.dataset, batch_sampler=batches, num_workers=self.num_workers,
                            collate_fn=self.collate_fn, pin_memory=self.pin_memory, generator=g)
        self._running_epoch, self._done = epoch, skip
        for batch in loader:
            self._done += 1
            yield batch

    def state_dict(self) -> Dict[str, int]:
        """Position: the epoch being iterated and how many of its batches were handed out."""
        return {"epoch": int(self._running_epoch), "batches_done": int(self._done)}

    def load_state_dict(self, state: Dict[str, int]) -> None:
        """Resume: the next iteration of ``state["epoch"]`` skips its first ``batches_done`` batches."""
        self.sampler.set_epoch(int(state.get("epoch", 0)))
        self._skip_epoch = int(state.get("epoch", 0))
        self._skip = int(state.get("batches_done", 0))
