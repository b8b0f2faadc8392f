"""Throughput of the cached, memory-mapped window loader against a plain in-memory numpy baseline.

Both iterate over the same windows (normalised float32 batches as torch tensors):

* motionlab: :class:`~motionlab.data.cache.ArrayCache` entry opened memory-mapped, through
  :class:`~motionlab.data.dataset.WindowDataset` and the training loader;
* baseline: the same array fully in RAM, normalised and sliced by numpy fancy indexing.

Run: ``python benchmarks/bench_loader.py [--windows 20000]``. Prints windows/s and the ratio.
"""

from __future__ import annotations

import argparse
import tempfile
import time

import numpy as np
import torch

from motionlab.data.cache import ArrayCache
from motionlab.data.dataset import WindowDataset, collate_batched
from motionlab.data.windows import Normalizer
from motionlab.train.data import ResumableLoader


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--windows", type=int, default=20000)
    ap.add_argument("--length", type=int, default=64)
    ap.add_argument("--dims", type=int, default=136)
    ap.add_argument("--batch", type=int, default=256)
    args = ap.parse_args()
    torch.set_num_threads(1)
    rng = np.random.default_rng(0)
    x = rng.normal(size=(args.windows, args.length, args.dims)).astype(np.float32)
    labels = rng.integers(0, 6, size=args.windows)
    norm = Normalizer.fit(x[: args.windows // 2])

    with tempfile.TemporaryDirectory() as tmp:
        cache = ArrayCache(tmp)
        t0 = time.perf_counter()
        arrays = cache.get_or_build("bench", lambda: {"train__body": x, "train__label": labels})
        t_build = time.perf_counter() - t0
        t0 = time.perf_counter()
        arrays = cache.get_or_build("bench", lambda: {"train__body": x, "train__label": labels})
        t_open = time.perf_counter() - t0

        ds = WindowDataset(arrays, "train", ["body"], {"body": norm})
        loader = ResumableLoader(ds, args.batch, shuffle=True, seed=0, collate_fn=collate_batched)
        t0 = time.perf_counter()
        n = 0
        for batch in loader:
            n += batch["body"].shape[0]
        t_ml = time.perf_counter() - t0

    perm = np.random.default_rng(0).permutation(args.windows)
    t0 = time.perf_counter()
    m = 0
    for i in range(0, args.windows, args.batch):
        idx = perm[i:i + args.batch]
        b = torch.from_numpy(norm(x[idx]))
        m += b.shape[0]
    t_np = time.perf_counter() - t0

    size_mb = x.nbytes / 2**20
    print(f"{args.windows} windows x {args.length} frames x {args.dims} features ({size_mb:.0f} MB), batch {args.batch}")
    print(f"cache build (write + checksum)   {t_build:8.2f} s")
    print(f"cache open (verify checksums)    {t_open:8.2f} s")
    print(f"motionlab cached loader          {n / t_ml:10.0f} windows/s")
    print(f"in-memory numpy baseline         {m / t_np:10.0f} windows/s")
    print(f"ratio motionlab / baseline       {t_np / t_ml * n / m:10.2f}x")


if __name__ == "__main__":
    main()
