"""Retargeting speed: motionlab's learned retargeter (windowed network + root + FK) in frames per second.

Measured on the CPU with 2 threads, on synthetic locomotion clips (30 fps):

* batch: many 10 s clips through one batched network pass (``Retargeter.batch``);
* single: one 10 s clip, end to end (``Retargeter.__call__``), i.e. the latency a user sees;
* the batch again without the planted-feet leg IK (``infer.contacts=false``): the IK's cost as a ratio;
* peer, measured in the same run: a per-frame optimisation retargeter in the style of GMR (bounded
  least squares on G1 FK keypoints against the scaled human joints, warm-started frame to frame,
  scipy). GMR itself reports 35-70 frames/s on a large CPU (its paper); printed for reference.

Usage: ``python benchmarks/bench_retarget.py [--run RUN_DIR] [--clips 64]``. Without ``--run`` a model
of each packaged size (tiny, default) is trained for a few steps into a temporary folder (speed does
not depend on training). Target: >= 10,000 frames/s in batch.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import numpy as np
import torch

GMR_PUBLISHED_FPS = (35.0, 70.0)


def quick_run(size: str, folder: Path) -> Path:
    """A run folder of the packaged ``retarget/<size>.yaml`` architecture, trained for 2 steps."""
    from motionlab.recipes.registry import get_recipe
    from motionlab.train.engine import train

    cfg = get_recipe("retarget").default_config_path().with_name(f"{size}.yaml")
    return train("retarget", run_dir=folder / size, config_path=cfg,
                 overrides=["train.max_steps=2", "train.val_every=-1", "train.progress=none", "data.synth_scale=tiny",
                            "train.accelerator=cpu", "train.ema_decay=0.0"])


def clips(n: int, seconds: float = 10.0):
    from motionlab.data.synth.locomotion import LOCOMOTION_STYLES, generate_locomotion

    return [generate_locomotion(np.random.default_rng([7, i]), LOCOMOTION_STYLES[1 + i % 5], seconds) for i in range(n)]


def optimisation_peer(human, frames: int = 40) -> float:
    """Frames/s of a per-frame bounded least-squares IK on 12 keypoints (hips, knees, ankles, shoulders,
    elbows, wrists; root-relative, scaled by the pelvis-height ratio), warm-started frame to frame, with a
    batched finite-difference Jacobian (one FK call per Jacobian)."""
    from scipy.optimize import least_squares

    from motionlab.robots.g1 import G1_BODY_NAMES, G1_LOWER, G1_PELVIS_HEIGHT, G1_UPPER
    from motionlab.robots.g1_fk import g1_fk

    pairs = [("left_hip", "left_hip_roll_link"), ("right_hip", "right_hip_roll_link"),
             ("left_knee", "left_knee_link"), ("right_knee", "right_knee_link"),
             ("left_ankle", "left_ankle_roll_link"), ("right_ankle", "right_ankle_roll_link"),
             ("left_shoulder", "left_shoulder_roll_link"), ("right_shoulder", "right_shoulder_roll_link"),
             ("left_elbow", "left_elbow_link"), ("right_elbow", "right_elbow_link"),
             ("left_wrist", "left_wrist_yaw_link"), ("right_wrist", "right_wrist_yaw_link")]
    hi = [human.skeleton.index(a) for a, _ in pairs]
    ri = [G1_BODY_NAMES.index(b) for _, b in pairs]
    pos, rot = human.fk()
    scale = G1_PELVIS_HEIGHT / 0.97
    q = np.zeros(29)
    t0 = time.perf_counter()
    for t in range(frames):
        target = ((pos[t, hi] - pos[t, :1]) @ rot[t, 0]) * scale  # pelvis frame

        def residual(x):
            p, _ = g1_fk(np.zeros(3), np.array([1.0, 0.0, 0.0, 0.0]), x, order="mujoco")
            return (p[ri] - target).ravel()

        def jacobian(x, eps=1e-5):  # forward differences, all 29 perturbations in one batched FK call
            xs = np.concatenate([x[None], x[None] + eps * np.eye(29)])
            p, _ = g1_fk(np.zeros(3), np.array([1.0, 0.0, 0.0, 0.0]), xs, order="mujoco")
            r = p[:, ri].reshape(30, -1)
            return ((r[1:] - r[:1]) / eps).T

        q = least_squares(residual, np.clip(q, G1_LOWER, G1_UPPER), jac=jacobian, bounds=(G1_LOWER, G1_UPPER),
                          max_nfev=30).x
    return frames / (time.perf_counter() - t0)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--run", default=None, help="a trained retarget run (default: quick runs of tiny and default)")
    ap.add_argument("--clips", type=int, default=64)
    args = ap.parse_args()
    torch.set_num_threads(2)
    from motionlab.recipes.retarget.tool import Retargeter

    batch_clips = clips(args.clips)
    single = batch_clips[0]
    peer = optimisation_peer(single)
    with tempfile.TemporaryDirectory() as tmp:
        runs = {"given": Path(args.run)} if args.run else {s: quick_run(s, Path(tmp)) for s in ("tiny", "default")}
        print(f"{'model':<8} {'params':>8} {'batch frames/s':>15} {'single 10 s clip':>22} {'vs peer':>9} "
              f"{'no leg IK':>10} {'IK cost':>8}")
        for name, run in runs.items():
            rt = Retargeter(run)
            params = sum(p.numel() for p in rt.model.parameters())
            rt.batch(batch_clips[:4])  # warm-up
            fps_batch, fps_plain = _batch_fps(rt, batch_clips, True), _batch_fps(rt, batch_clips, False)
            rt.cfg.infer.contacts = True
            best = min(_timed(rt, single) for _ in range(3))
            print(f"{name:<8} {params / 1e6:>7.2f}M {fps_batch:>15,.0f} {single.num_frames / best:>10,.0f} fr/s "
                  f"({best * 1e3:.0f} ms) {fps_batch / peer:>8.0f}x {fps_plain:>10,.0f} {fps_plain / fps_batch:>7.2f}x")
    print("no leg IK: the same batch with infer.contacts=false; "
          "IK cost: how many times longer the batch takes with the planted-feet leg IK")
    print(f"peer: per-frame optimisation IK (scipy least squares, same FK, same machine): {peer:.1f} frames/s")
    print(f"GMR (optimisation-based, published, large CPU): {GMR_PUBLISHED_FPS[0]:.0f}-{GMR_PUBLISHED_FPS[1]:.0f} "
          "frames/s; target for motionlab batch: >= 10,000 frames/s")


def _batch_fps(rt, batch, contacts: bool, repeats: int = 3) -> float:
    """Frames/s of one batched pass over ``batch`` with the planted-feet leg IK on or off: wall-clock time,
    best of ``repeats`` passes (the best pass is the one least disturbed by other load on the machine).

    Wall time, not process CPU time: with 2 threads, CPU time counts both threads (and any spin-waiting
    between parallel regions), which would understate the speed a user sees."""
    rt.cfg.infer.contacts = contacts
    frames = sum(c.num_frames for c in batch)
    best = float("inf")
    for _ in range(repeats):
        t0 = time.perf_counter()
        rt.batch(batch)
        best = min(best, time.perf_counter() - t0)
    return frames / best


def _timed(rt, clip) -> float:
    t0 = time.perf_counter()
    rt(clip)
    return time.perf_counter() - t0


if __name__ == "__main__":
    main()
