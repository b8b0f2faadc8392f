"""Text-to-motion inference speed: seconds per sample for 6 s of motion, and samples per second in a batch.

Measured on the CPU with 2 threads (``--threads``), for the packaged model sizes (tiny and
default), with classifier-free guidance (the conditional and unconditional passes batched together):

* single: one prompt, 6 s (120 frames at 20 fps), DDIM with 50 steps - the latency a user sees;
  target <= 1 s per sample for the tiny model;
* batch: ``--batch`` prompts at once, samples per second;
* peer, measured in the same run: the same network sampled by the full 1000-step DDPM chain, the way MDM
  samples (ratio printed).

Published inference times on HumanML3D (GPU, per sample; ../shared notes "Text-to-motion"), printed for context
only - different hardware and networks: MDM ~25 s (1000 steps), MLD 0.2 s, MotionLCM 0.03 s (1 step).

Usage: ``python benchmarks/bench_t2m.py [--run RUN_DIR] [--batch 16] [--ddpm]``. Without ``--run`` the
packaged architectures are built untrained (speed does not depend on the weights). ``--ddpm`` also times the
1000-step peer (slow: ~20x the DDIM time).
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import torch

PUBLISHED_S_PER_SAMPLE = {"MDM (1000 steps)": 25.0, "MLD": 0.2, "MotionLCM (1 step)": 0.03}
PROMPTS = ["a person walks forward", "a person runs forward quickly", "a person walks forward, then turns left",
           "a person side steps to the right"]


def build(size: str):
    """``(model, cfg)`` of the packaged ``t2m/<size>.yaml`` architecture, untrained, eval mode."""
    from motionlab.config import load_config
    from motionlab.recipes.registry import get_recipe
    from motionlab.recipes.t2m.model import build_denoiser

    rec = get_recipe("t2m")
    cfg = load_config(rec.config_cls, rec.default_config_path().with_name(f"{size}.yaml"))
    model = build_denoiser(cfg).eval()
    if hasattr(model.text, "set_vocabulary"):
        model.text.set_vocabulary(PROMPTS)
    return model, cfg


def time_sampling(model, cfg, texts, frames: int, sampler: str, steps: int, repeat: int = 1) -> float:
    """Best wall time (s) of ``repeat`` runs of sampling ``texts`` for ``frames`` frames."""
    from motionlab.recipes.t2m.model import make_scheduler, sample

    best = float("inf")
    for r in range(repeat):
        sched = make_scheduler(cfg, sampler)
        g = torch.Generator().manual_seed(r)
        t0 = time.perf_counter()
        sample(model, sched, list(texts), frames, steps=steps, guidance=cfg.diffusion.guidance, generator=g)
        best = min(best, time.perf_counter() - t0)
    return best


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--run", default=None, help="a trained t2m run folder (default: the packaged sizes, untrained)")
    ap.add_argument("--batch", type=int, default=16)
    ap.add_argument("--seconds", type=float, default=6.0)
    ap.add_argument("--steps", type=int, default=50)
    ap.add_argument("--ddpm", action="store_true", help="also time the 1000-step DDPM peer")
    ap.add_argument("--threads", type=int, default=2, help="torch threads (1 is faster on a loaded machine)")
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    if args.run:
        from motionlab.recipes.t2m.tool import load_generator

        gen = load_generator(Path(args.run))
        models = {Path(args.run).name: (gen.model, gen.cfg)}
    else:
        models = {size: build(size) for size in ("tiny", "default")}
    print(f"t2m sampling on CPU, {args.threads} thread(s), {args.seconds:g} s of motion, guidance on (batched cond + uncond)")
    for name, (model, cfg) in models.items():
        frames = int(round(args.seconds * cfg.data.fps))
        n = sum(p.numel() for p in model.parameters())
        with torch.no_grad():
            time_sampling(model, cfg, PROMPTS[:1], 8, "ddim", 2)  # warm-up
            single = time_sampling(model, cfg, PROMPTS[:1], frames, "ddim", args.steps, repeat=2)
            texts = [PROMPTS[i % len(PROMPTS)] for i in range(args.batch)]
            batch = time_sampling(model, cfg, texts, frames, "ddim", args.steps)
            line = (f"  {name:8s} ({n / 1e6:.2f} M params): DDIM-{args.steps} single {single:.2f} s/sample "
                    f"(target <= 1 s: {'met' if single <= 1.0 else 'missed'}); batch of {args.batch}: "
                    f"{args.batch / batch:.1f} samples/s")
            if args.ddpm:
                ddpm = time_sampling(model, cfg, PROMPTS[:1], frames, "ddpm", cfg.diffusion.train_steps)
                line += f"; DDPM-{cfg.diffusion.train_steps} peer {ddpm:.1f} s/sample ({ddpm / single:.0f}x slower)"
        print(line, flush=True)
    print("published per-sample inference on HumanML3D (GPU; context only): " +
          ", ".join(f"{k} {v:g} s" for k, v in PUBLISHED_S_PER_SAMPLE.items()))


if __name__ == "__main__":
    main()
