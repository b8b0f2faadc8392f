"""Generation speed of a gesture run as multiples of real time for 60 s of speech (chunked inference,
64-frame chunks, decoding once), on the CPU threads given by OMP_NUM_THREADS. Target: >= 60x on 2 cores.

    OMP_NUM_THREADS=2 python benchmarks/bench_gesture.py RUN_DIR [--seconds 60]

Without RUN_DIR a model of the tiny config with untrained weights is timed (same compute).
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
    a = ap.parse_args()
    from motionlab.data.speech_features import SPEECH_SR
    from motionlab.data.synth.speech import generate_speech
    from motionlab.recipes.gesture.data import speech_arrays
    from motionlab.recipes.gesture.infer import generate_sequence

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
    t0 = time.perf_counter()
    audio, afeat = speech_arrays(sp.samples, SPEECH_SR, fps, T)
    t_feat = time.perf_counter() - t0
    cond = {"audio": audio, "afeat": afeat, "word": np.zeros(T, np.int64)}
    seed = {p: np.zeros((cfg.model.seed_frames, d), np.float32) for p, d in model.dims.items()}
    generate_sequence(model, {k: v[:128] for k, v in cond.items()}, seed)  # warm up
    t0 = time.perf_counter()
    with torch.no_grad():
        out = generate_sequence(model, cond, seed, chunk=cfg.model.chunk, seed_frames=cfg.model.seed_frames)
    t_gen = time.perf_counter() - t0
    total = t_feat + t_gen
    print(f"{a.seconds:.0f} s of speech ({T} frames, {len(out['starts'])} chunks), {torch.get_num_threads()} threads")
    print(f"  speech features {t_feat:.2f} s, generation + decoding {t_gen:.2f} s")
    print(f"  {a.seconds / total:.1f}x real time (target >= 60x)")


if __name__ == "__main__":
    main()
