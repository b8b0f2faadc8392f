"""Inference of a trained ``t2m_evaluator`` run: how well motions match captions.

* :func:`similarity` - the Python API: cosine similarities ``(N motions, K texts)`` of raw 263-d feature
  sequences (any length) and captions in the evaluator's shared space.
* :func:`read_motion_features` - raw ``(T, 263)`` features of a motion file: ``.npy`` features (what
  ``motionlab t2m --format npy`` writes), a t2m ``.npz`` (its ``features``), or any motion file motionlab reads
  (BVH, motionlab npz, ...), converted with :func:`motionlab.io.humanml3d.features_from_motion`.
* :func:`score_files` - what ``motionlab t2m-score`` runs: every file against every caption, best first.

A sequence longer than the evaluator's training window is embedded window by window (``data.window`` frames
every half window) and the unit embeddings are averaged and re-normalised. Similarities compare only within
one evaluator run (see :mod:`motionlab.eval.learned`).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import List, Sequence, Union

import numpy as np

from motionlab.errors import MotionLabError
from motionlab.io import humanml3d as hml

PathLike = Union[str, os.PathLike]


def read_motion_features(path: PathLike, fps: float = hml.FPS) -> np.ndarray:
    """Raw ``(T, 263)`` features of a motion file at ``fps`` (see the module docstring)."""
    from motionlab.io.formats import read_file

    path = Path(path)
    if not path.is_file():
        raise MotionLabError("motion file not found", file=path)
    ext = path.suffix.lower()
    if ext == ".npy":
        return hml.read_features(path)
    if ext == ".npz":
        with np.load(path, allow_pickle=False) as z:
            if "features" in z.files:
                x = np.asarray(z["features"], np.float32)
                if x.ndim != 2 or x.shape[1] != hml.FEATURE_DIM:
                    raise MotionLabError(f"'features' must be (T, {hml.FEATURE_DIM}), got {x.shape}", file=path)
                return x
    _, motion = read_file(path)
    try:
        return hml.features_from_motion(motion, fps)
    except MotionLabError as e:
        raise e.with_file(path) from None


def _embed(ev, motion: np.ndarray, window: int) -> np.ndarray:
    """Unit embedding ``(D,)`` of one raw sequence ``(T, 263)``: whole, or the mean over its windows."""
    T = len(motion)
    if T <= window:
        return ev.motion_features(motion[None])[0]
    starts = list(range(0, T - window + 1, max(1, window // 2)))
    if starts[-1] != T - window:
        starts.append(T - window)
    e = ev.motion_features(np.stack([motion[s:s + window] for s in starts])).mean(0)
    return e / max(float(np.linalg.norm(e)), 1e-12)


def similarity(run_dir: PathLike, texts: Sequence[str], motions: Sequence[np.ndarray]) -> np.ndarray:
    """Cosine similarities ``(N, K)`` of ``N`` raw feature sequences ``(T_i, 263)`` (20 fps, any length
    of at least 2 frames) and ``K`` captions in the evaluator of ``run_dir`` (1 = same direction)."""
    from motionlab.eval.learned import LearnedEvaluator

    texts = [str(t) for t in texts]
    if not texts or any(not t.strip() for t in texts):
        raise MotionLabError("give at least one non-empty caption", place="texts")
    if not len(motions):
        raise MotionLabError("give at least one motion", place="motions")
    ev = LearnedEvaluator(run_dir, stream="humanml3d")
    window = int(ev.run.cfg.data.window)
    m = np.stack([_embed(ev, np.asarray(x, np.float32), window) for x in motions])
    t = ev.text_features(texts)
    return m @ t.T


def score_files(run_dir: PathLike, paths: Sequence[PathLike], texts: Sequence[str]) -> str:
    """A report: for every motion file, the captions ordered by similarity (best first)."""
    from motionlab.train.engine import load_run

    fps = float(load_run(run_dir).cfg.data.fps)
    motions = [read_motion_features(p, fps) for p in paths]
    sim = similarity(run_dir, texts, motions)
    head = f"text-motion similarity in the evaluator {run_dir} (cosine; compare only within one evaluator run)"
    lines: List[str] = [head]
    for p, row in zip(paths, sim):
        order = np.argsort(-row)
        lines.append(f"{p}: best {texts[order[0]]!r}")
        lines.extend(f"  {row[k]:+.3f}  {texts[k]}" for k in order)
    return "\n".join(lines)
