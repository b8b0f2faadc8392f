"""Inference of a trained ``t2m`` run: texts -> motion features, any length, BVH/npy/video output.

* :func:`generate` - the Python API: ``generate(run_dir, text, num_frames)`` returns raw (de-normalised)
  263-d features ``(num_frames, 263)`` for one text, ``(B, num_frames, 263)`` for a list.
* Longer than a training window: windows of ``data.window`` frames, each sharing ``infer.overlap`` frames
  with the previous one; those frames are in-painted from the previous window at every denoising step
  (:func:`motionlab.recipes.t2m.model.sample`), so the windows join without a seam.
* :func:`t2m_prompts` - the command line's work: one prompt or a prompts file -> BVH (SMPL-22 fitted to the
  recovered joints), ``.npy`` features or ``.npz`` joint positions, and optionally a captioned video.
"""

from __future__ import annotations

import os
import re
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Dict, List, Optional, Sequence, Tuple, Union

import numpy as np
import torch

from motionlab.errors import MotionLabError
from motionlab.io import humanml3d as hml

PathLike = Union[str, os.PathLike]
OUTPUT_EXT = (".bvh", ".npy", ".npz")


@dataclass
class Generator:
    """A loaded ``t2m`` run: the EMA weights' denoiser, its config and normalisation."""

    run_dir: Path
    cfg: object
    model: torch.nn.Module
    normalizer: object
    ema: bool

    @property
    def fps(self) -> float:
        return float(self.cfg.data.fps)


_LOADED: Dict[Tuple[str, float], Generator] = {}


def load_generator(run_dir: PathLike) -> Generator:
    """The run's denoiser (EMA weights when the run averaged) in eval mode; cached per run folder and
    checkpoint time, so repeated calls reuse it (and its text-embedding cache)."""
    from motionlab.train.engine import load_run

    run_dir = Path(run_dir)
    ckpt = run_dir / "checkpoints" / "last.ckpt"
    key = (str(run_dir.resolve()), ckpt.stat().st_mtime if ckpt.exists() else 0.0)
    if key in _LOADED:
        return _LOADED[key]
    run = load_run(run_dir)
    if run.recipe.name != "t2m":
        raise MotionLabError(f"not a t2m run (recipe {run.recipe.name!r})", file=run_dir)
    norm = run.stats.get("humanml3d")
    if norm is None:
        raise MotionLabError("run folder has no normalization_humanml3d.npz", file=run_dir)
    if getattr(run.cfg.model, "root_repr", "rate") == "absolute":
        from motionlab.recipes.t2m.data import RootCodec

        norm = RootCodec(norm)
    model = run.module.model.eval()
    gen = Generator(run_dir, run.cfg, model, norm, bool(run.ema))
    _LOADED[key] = gen
    return gen


def _window_plan(num_frames: int, window: int, overlap: int) -> List[Tuple[int, int]]:
    """``[(start, length)]`` of the windows covering ``num_frames`` (each after the first begins
    ``window - overlap`` frames after the previous one; the last is shortened to end at ``num_frames``)."""
    if num_frames <= window:
        return [(0, num_frames)]
    if not 0 < overlap < window:
        raise MotionLabError(f"infer.overlap must lie in 1..{window - 1}, got {overlap}", place="infer.overlap")
    plan, start = [(0, window)], window - overlap
    while start + overlap < num_frames:
        plan.append((start, min(window, num_frames - start)))
        start += window - overlap
    return plan


def heading_scale(cfg, guidance: float) -> float:
    """The guidance scale of the root heading channel: ``diffusion.heading_guidance`` (-1: ``guidance``), never
    above ``guidance`` (so ``--guidance 1`` is the conditional prediction everywhere)."""
    hg = float(getattr(cfg.diffusion, "heading_guidance", -1.0))
    return guidance if hg < 0 else min(hg, guidance)


@torch.no_grad()
def generate_normalised(gen: Generator, texts: List[str], num_frames: int, steps: Optional[int] = None,
                        guidance: Optional[float] = None, seed: int = 0, sampler: Optional[str] = None,
                        overlap: Optional[int] = None) -> Tuple[torch.Tensor, List[int]]:
    """``(normalised features (B, num_frames, 263), seams)``: windowed sampling with in-painted overlaps;
    ``seams`` lists the first new frame of every window after the first."""
    from motionlab.recipes.t2m.model import make_scheduler, sample

    cfg = gen.cfg
    steps = int(steps or cfg.diffusion.sample_steps)
    guidance = float(cfg.diffusion.guidance if guidance is None else guidance)
    heading_guidance = heading_scale(cfg, guidance)
    overlap = int(cfg.infer.overlap if overlap is None else overlap)
    if num_frames < 2:
        raise MotionLabError(f"needs at least 2 frames, got {num_frames}", place="num_frames")
    sched = make_scheduler(cfg, sampler)
    g = torch.Generator().manual_seed(int(seed))
    B, F = len(texts), gen.model.feature_dim
    out = torch.zeros(B, num_frames, F)
    seams: List[int] = []
    # absolute headings are relative to each window's first frame: the overlap is turned to start at 0 before
    # in-painting and the new window turned back to continue the previous one
    absolute = hasattr(gen.normalizer, "shift_heading")
    for k, (start, length) in enumerate(_window_plan(num_frames, cfg.data.window, overlap)):
        known = mask = None
        turn = torch.zeros(B)
        if k > 0:
            ov = min(overlap, num_frames - start)
            known = torch.zeros(B, length, F)
            known[:, :ov] = out[:, start:start + ov]
            if absolute:
                turn = gen.normalizer.heading(out[:, start])
                known[:, :ov] = gen.normalizer.shift_heading(known[:, :ov], -turn)
            mask = torch.zeros(B, length, dtype=torch.bool)
            mask[:, :ov] = True
            seams.append(start + ov)
        x = sample(gen.model, sched, texts, length, steps, guidance, g, known, mask,
                   heading_guidance=heading_guidance).cpu()
        out[:, start:start + length] = gen.normalizer.shift_heading(x, turn) if absolute and k > 0 else x
    return out, [s for s in seams if s < num_frames]


def generate(run_dir: PathLike, text: Union[str, Sequence[str]], num_frames: int, steps: Optional[int] = None,
             guidance: Optional[float] = None, seed: int = 0, sampler: Optional[str] = None) -> np.ndarray:
    """Raw 263-d features for ``text`` (a string: ``(num_frames, 263)``; a list: ``(B, num_frames, 263)``),
    at the run's fps (``cfg.data.fps``), by DDIM (``steps``, default ``diffusion.sample_steps``) or DDPM
    with classifier-free guidance ``guidance`` (default ``diffusion.guidance``)."""
    gen = load_generator(run_dir)
    texts = [text] if isinstance(text, str) else [str(t) for t in text]
    if not texts or any(not t.strip() for t in texts):
        raise MotionLabError("empty prompt", place="text")
    x, _ = generate_normalised(gen, texts, int(num_frames), steps, guidance, seed, sampler)
    raw = gen.normalizer.denormalize(x.numpy()).astype(np.float32)
    return raw[0] if isinstance(text, str) else raw


def positions_zup(features: np.ndarray) -> np.ndarray:
    """``(T, 22, 3)`` joint positions (m, Z up, on the floor) of raw 263-d features."""
    p = hml.positions_to_zup(hml.recover_from_ric(np.asarray(features, dtype=np.float64)))
    return p


def write_motion(features: np.ndarray, path: PathLike, fps: float) -> str:
    """Write raw features as ``.bvh`` (fitted SMPL-22), ``.npy`` (the features) or ``.npz`` (positions)."""
    path = Path(path)
    ext = path.suffix.lower()
    path.parent.mkdir(parents=True, exist_ok=True)
    if ext == ".bvh":
        err = hml.features_to_bvh(features, path, fps=fps)
        return f"{path} (SMPL-22 fitted, mean joint error {err * 1000:.1f} mm)"
    if ext == ".npy":
        np.save(path, np.asarray(features, np.float32))
        return f"{path} (263-d features at {fps:g} fps)"
    if ext == ".npz":
        np.savez(path, positions=positions_zup(features), fps=fps, features=np.asarray(features, np.float32))
        return f"{path} (joint positions, Z up, {fps:g} fps)"
    raise MotionLabError(f"unknown output type {ext!r}; valid: {', '.join(OUTPUT_EXT)}", file=path)


def render_features(features: Sequence[np.ndarray], captions: Sequence[str], path: PathLike, fps: float) -> Path:
    """A video (mp4/gif) of one or more generated motions side by side, each titled by its caption."""
    from motionlab.core.body import SMPL22_PARENTS
    from motionlab.report.render import Figure, render

    figs = [Figure(positions_zup(f), list(SMPL22_PARENTS), title=c) for f, c in zip(features, captions)]
    caption = captions[0] if len(captions) == 1 else None
    return render(figs, path, fps, caption=caption)


def _slug(text: str, n: int = 40) -> str:
    return re.sub(r"[^a-z0-9]+", "_", text.lower()).strip("_")[:n] or "prompt"


def read_prompts(path: PathLike) -> List[str]:
    """Prompts of a text file, one a line (blank lines and ``#`` comments skipped)."""
    path = Path(path)
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as e:
        raise MotionLabError(f"unreadable prompts file ({e})", file=path) from None
    prompts = [ln.strip() for ln in lines if ln.strip() and not ln.strip().startswith("#")]
    if not prompts:
        raise MotionLabError("no prompts in the file", file=path)
    return prompts


def t2m_prompts(prompt: str, run_dir: PathLike, seconds: float = 6.0, output: Optional[PathLike] = None,
                out_dir: Optional[PathLike] = None, render: Optional[PathLike] = None, steps: Optional[int] = None,
                guidance: Optional[float] = None, seed: int = 0, sampler: Optional[str] = None,
                fmt: str = "bvh") -> str:
    """One prompt (or a file of prompts, one a line) -> motion files; returns a report.

    One prompt writes ``output`` (``.bvh``/``.npy``/``.npz``); a prompts file writes
    ``<out_dir>/<NN>_<words>.<fmt>`` for each. ``render``: a video of the prompt (one prompt) or a folder-less
    name for the side-by-side video of all prompts.
    """
    gen = load_generator(run_dir)
    if seconds <= 0:
        raise MotionLabError(f"--seconds must be positive, got {seconds}", place="seconds")
    is_file = Path(prompt).is_file() and Path(prompt).suffix.lower() in (".txt", ".prompts", "")
    prompts = read_prompts(prompt) if is_file else [prompt]
    if is_file and out_dir is None:
        raise MotionLabError("a prompts file needs --out-dir", file=prompt)
    if not is_file and output is None and out_dir is None:
        raise MotionLabError("give -o OUTPUT (.bvh, .npy or .npz) or --out-dir", place="output")
    T = max(2, int(round(seconds * gen.fps)))
    t0 = time.time()
    x, seams = generate_normalised(gen, prompts, T, steps, guidance, seed, sampler)
    raw = gen.normalizer.denormalize(x.numpy()).astype(np.float32)
    dt = time.time() - t0
    lines = [f"generated {len(prompts)} motion(s) of {T} frames ({T / gen.fps:.1f} s at {gen.fps:g} fps) in {dt:.1f} s"
             f" ({'EMA' if gen.ema else 'raw'} weights, {len(seams) + 1} window(s))"]
    targets = [Path(output)] if output is not None and not is_file else [
        Path(out_dir) / f"{i:02d}_{_slug(p)}.{fmt.lstrip('.')}" for i, p in enumerate(prompts)]
    for f, p, path in zip(raw, prompts, targets):
        lines.append(f"  {p!r} -> {write_motion(f, path, gen.fps)}")
    if render is not None:
        r = Path(render)
        if not r.parent.name and out_dir is not None and is_file:
            r = Path(out_dir) / r
        lines.append(f"  video -> {render_features(list(raw), prompts, r, gen.fps)}")
    if seams:
        from motionlab.eval.metrics import seam_discontinuity

        pos = positions_zup(raw[0])
        lines.append(f"  seam ratio (position steps at window joins / inside windows; 1 = seamless): "
                     f"{seam_discontinuity(pos, seams, gen.fps):.2f}")
    return "\n".join(lines)
