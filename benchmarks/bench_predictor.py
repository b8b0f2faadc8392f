"""Stepper speed: frames per second for a batch of characters (real-time control of many characters),
against a constant-velocity extrapolation of the same states for scale.

Builds the stepper of a config (default: the packaged tiny predictor; ``--run RUN`` uses a trained run's
model; speed does not depend on the weights), steps ``--batch`` characters for ``--frames`` frames with
``torch.no_grad`` on ``--threads`` CPU threads, and prints character-frames per second of both, their ratio,
and how many characters run at 30 fps in real time.

Run: ``python benchmarks/bench_predictor.py [--batch 256] [--frames 200] [--threads 2] [--run RUN]``
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import torch


def _stepper(run):
    if run:
        from motionlab.train.engine import load_run

        return load_run(run).model
    from pathlib import Path

    from motionlab.config import load_config
    from motionlab.recipes.predictor.config import PredictorConfig
    from motionlab.recipes.predictor.model import build_stepper

    cfg = load_config(PredictorConfig, Path(__file__).resolve().parents[1] / "src" / "motionlab" / "configs"
                      / "predictor" / "tiny.yaml")
    return build_stepper(cfg.model).eval()


def bench_model(model, batch: int, frames: int) -> float:
    x = torch.randn(batch, model.stats_mean.numel()) * 0.1
    prev, cur = x.clone(), x.clone()
    cmd = torch.tensor([[1.2, 0.0, 0.3]]).repeat(batch, 1)
    with torch.no_grad():
        for _ in range(5):
            model.step_raw(cur, prev, cmd)
        t0 = time.perf_counter()
        for _ in range(frames):
            prev, cur = cur, model.step_raw(cur, prev, cmd)
        return batch * frames / (time.perf_counter() - t0)


def bench_constant_velocity(batch: int, frames: int, state_dim: int = 141) -> float:
    """Constant-velocity extrapolation of every state channel (the cheapest predictor there is)."""
    x = torch.randn(batch, state_dim)
    prev, cur = x.clone(), x.clone()
    t0 = time.perf_counter()
    with torch.no_grad():
        for _ in range(frames):
            prev, cur = cur, 2 * cur - prev
    return batch * frames / (time.perf_counter() - t0)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--batch", type=int, default=256)
    ap.add_argument("--frames", type=int, default=200)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--run", default=None)
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    model = _stepper(args.run)
    n = sum(p.numel() for p in model.parameters())
    fps_model = max(bench_model(model, args.batch, args.frames) for _ in range(args.repeats))
    fps_cv = max(bench_constant_velocity(args.batch, args.frames) for _ in range(args.repeats))
    print(f"stepper ({n / 1e6:.2f} M parameters), {args.batch} characters, {args.threads} threads:")
    print(f"  stepper            {fps_model:12,.0f} character-frames/s  ({fps_model / args.batch:,.0f} batched steps/s; "
          f"{fps_model / 30:,.0f} characters in real time at 30 fps)")
    print(f"  constant velocity  {fps_cv:12,.0f} character-frames/s")
    print(f"  ratio              {fps_cv / fps_model:12.1f}x  (constant velocity / stepper)")
    np.testing.assert_array_less(0, fps_model)


if __name__ == "__main__":
    main()
