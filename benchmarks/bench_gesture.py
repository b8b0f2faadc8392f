"""Generation speed of a gesture run as multiples of real time for 60 s of speech (chunked inference,
64-frame chunks, decoding once), on the CPU threads given by OMP_NUM_THREADS. Target: >= 60x on 2 cores.

    OMP_NUM_THREADS=2 python benchmarks/bench_gesture.py RUN_DIR [--seconds 60] [--passes N]

Without RUN_DIR a model of the tiny config with untrained weights is timed (same compute). Printed: wall
time and the process's CPU time (user + sys; on a machine shared with other jobs the CPU time is the
fairer number), for the run's inference settings and, as a peer measured in the same run, for the
chunks generated one after another (``model.infer_passes=0``).
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np
import torch


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("run", nargs="?", default=None)
    ap.add_argument("--seconds", type=float, default=60.0)
    ap.add_argument("--config", default=None, help="config YAML when no run is given (default: gesture/tiny.yaml)")
    ap.add_argument("--passes", type=int, default=None, help="batched inference passes (default: the config's)")
    a = ap.parse_args()
    from motionlab.data.speech_features import SPEECH_SR
    from motionlab.data.synth.speech import generate_speech
    from motionlab.recipes.gesture.data import speech_arrays
    from motionlab.recipes.gesture.infer import generate_sequence, infer_options

    rng = np.random.default_rng(0)
    sp = generate_speech(rng, a.seconds)
    if a.run:
        from motionlab.train.engine import load_run

        run = load_run(a.run)
        cfg, model = run.cfg, run.model
    else:
        from motionlab.config import load_config
        from motionlab.recipes.gesture.config import GestureConfig
        from motionlab.recipes.gesture.model import build_gesture_model

        path = a.config or Path(__file__).resolve().parents[1] / "src/motionlab/configs/gesture/tiny.yaml"
        cfg = load_config(GestureConfig, path)
        model = build_gesture_model(cfg).eval()
    fps = cfg.data.fps
    T = int(a.seconds * fps)
    speech_arrays(sp.samples[: 2 * SPEECH_SR], SPEECH_SR, fps, int(2 * fps))  # warm up librosa's compiled code
    w0, c0 = time.perf_counter(), time.process_time()
    audio, afeat = speech_arrays(sp.samples, SPEECH_SR, fps, T)
    feat = (time.perf_counter() - w0, time.process_time() - c0)
    cond = {"audio": audio, "afeat": afeat, "word": np.zeros(T, np.int64)}
    seed = {p: np.zeros((cfg.model.seed_frames, d), np.float32) for p, d in model.dims.items()}
    opts = infer_options(cfg)
    if a.passes is not None:
        opts["passes"] = a.passes
    print(f"{a.seconds:.0f} s of speech ({T} frames), {torch.get_num_threads()} threads; "
          f"speech features {feat[0]:.2f} s wall, {feat[1]:.2f} s CPU")
    for name, o in (("sequential chunks (peer)", {**opts, "passes": 0}), (f"passes={opts['passes']}", opts)):
        generate_sequence(model, {k: v[:256] for k, v in cond.items()}, seed, **o)  # warm up
        w0, c0 = time.perf_counter(), time.process_time()
        out = generate_sequence(model, cond, seed, **o)
        gen = (time.perf_counter() - w0, time.process_time() - c0)
        wall, cpu = feat[0] + gen[0], feat[1] + gen[1]
        print(f"  {name}: {len(out['starts'])} chunks, generation + decoding {gen[0]:.2f} s wall, {gen[1]:.2f} s CPU; "
              f"{a.seconds / wall:.1f}x real time by wall clock, {a.seconds / cpu:.1f}x by CPU time (target >= 60x)")

if __name__ == "__main__":
    main()
