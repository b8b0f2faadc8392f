"""Gestures for user files with a trained run (the Python API behind ``motionlab gesture`` and
``motionlab dyadic``): any speech file (wav/flac/ogg, any rate and channel count; resampled to 16 kHz
mono) -> SMPL-X motion, audio-only (no ground-truth motion needed: the seed frames are the training mean
pose, ``model.seed_pose``, or the first frames of ``--seed`` npz), words from an optional TextGrid."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Dict, Optional, Union

import numpy as np

from motionlab.errors import MotionLabError

PathLike = Union[str, os.PathLike]


def _speech(path: PathLike, fps: float, frames: Optional[int] = None):
    from motionlab.data.speech_features import load_speech
    from motionlab.recipes.gesture.data import audio_frames, speech_arrays

    y, sr = load_speech(path)
    T = audio_frames(len(y), sr, fps) if frames is None else frames
    if T < 1:
        raise MotionLabError("speech file shorter than one motion frame", file=path)
    audio, afeat = speech_arrays(y, sr, fps, T)
    return y, sr, audio, afeat


def generate_motion(run_dir: PathLike, audio: PathLike, words: Optional[PathLike] = None,
                    seed: Optional[PathLike] = None, speaker: int = 0, partner_motion: Optional[PathLike] = None,
                    partner_audio: Optional[PathLike] = None, zero_partner: bool = False, run=None) -> Dict[str, Any]:
    """Generate motion for a speech file. Returns ``{"motion": Motion, "samples", "sr", "words", "starts"}``.

    Dyadic runs need ``partner_motion`` (an SMPL-X / BEAT2 npz) and ``partner_audio``; both people are cut to
    the shorter of the two.
    """
    from motionlab.io.textgrid import read_words, words_to_frames
    from motionlab.recipes.gesture.data import load_vocab, read_motion
    from motionlab.recipes.gesture.infer import denormalize_parts, generate_sequence, infer_options, seed_parts
    from motionlab.recipes.gesture.parts import assemble_motion, part_features
    from motionlab.train.engine import load_run

    run = run or load_run(run_dir)
    cfg = run.cfg
    fps = cfg.data.fps
    parts = list(cfg.model.parts)
    missing = [p for p in parts if p not in run.stats]
    if missing:
        raise MotionLabError(f"run has no normalisation statistics for parts {missing}", file=run_dir)
    norms = {p: run.stats[p] for p in parts}
    y, sr, a, af = _speech(audio, fps)
    T = len(a)
    cond: Dict[str, np.ndarray] = {}
    if cfg.model.dyadic:
        if partner_motion is None or partner_audio is None:
            raise MotionLabError("a dyadic run needs the partner's motion (--partner-motion) and voice "
                                 "(--partner-audio)", file=run_dir)
        pf = part_features(read_motion(partner_motion, fps), cfg.data.num_expressions)
        T = min(T, len(pf["upper"]))
        _, _, pa, paf = _speech(partner_audio, fps, frames=T)
        pm = np.concatenate([pf[p][:T] for p in parts], axis=1)
        mean = np.concatenate([norms[p].mean for p in parts])
        std = np.concatenate([norms[p].std for p in parts])
        cond.update(p_motion=((pm - mean) / std).astype(np.float32), p_audio=pa, p_afeat=paf)
    cond.update(audio=a[:T], afeat=af[:T])
    word_list = []
    if words is not None:
        word_list = read_words(words)
        cond["word"] = words_to_frames(word_list, fps, T, load_vocab(run.run_dir)).astype(np.int64)
    else:
        cond["word"] = np.zeros(T, np.int64)
    seed_motion = read_motion(seed, fps) if seed is not None else None
    sp = seed_parts(norms, parts, fps, cfg.data.num_expressions, seed=seed_motion, frames=cfg.model.seed_frames,
                    pose=cfg.model.seed_pose)
    gen = generate_sequence(run.model, cond, sp, speaker=speaker, zero_partner=zero_partner, **infer_options(cfg))
    raw = denormalize_parts(gen, norms, parts)
    motion = assemble_motion(raw, fps, root=raw["root"])
    motion.meta.update(source=os.fspath(audio), caption=f"generated from {Path(audio).name}")
    return {"motion": motion, "samples": y, "sr": sr, "words": [tuple(w) for w in word_list], "starts": gen["starts"],
            "frames": T}


def gesture_file(audio: PathLike, run_dir: PathLike, output: PathLike, words: Optional[PathLike] = None,
                 seed: Optional[PathLike] = None, speaker: int = 0, npz_format: str = "beat2",
                 render: Optional[PathLike] = None, partner_motion: Optional[PathLike] = None,
                 partner_audio: Optional[PathLike] = None) -> str:
    """Generate and write motion for ``audio`` (see :func:`generate_motion`); returns a report."""
    import time

    from motionlab.data.speech_features import load_backends
    from motionlab.recipes.gesture.export import render_talk, write_output
    from motionlab.train.engine import load_run

    t0 = time.perf_counter()
    run = load_run(run_dir)
    load_backends()  # a start-up cost, not generation
    loaded = time.perf_counter() - t0
    t0 = time.perf_counter()
    res = generate_motion(run_dir, audio, words=words, seed=seed, speaker=speaker, partner_motion=partner_motion,
                          partner_audio=partner_audio, run=run)
    took = time.perf_counter() - t0
    motion = res["motion"]
    what = write_output(output, motion, npz_format)
    dur = motion.num_frames / motion.fps
    lines = [f"wrote {output}: {what}",
             f"  {motion.num_frames} frames at {motion.fps:g} fps ({dur:.1f} s) in {len(res['starts'])} chunks; "
             f"generated in {took:.2f} s ({dur / max(took, 1e-9):.0f}x real time; run and libraries loaded in "
             f"{loaded:.2f} s)"]
    if render is not None:
        extra = []
        if partner_motion is not None:
            from motionlab.recipes.gesture.data import read_motion
            from motionlab.report.render import figure_from_motion

            extra = [figure_from_motion(read_motion(partner_motion, motion.fps).slice(0, motion.num_frames), "partner")]
        render_talk(motion, render, (res["samples"], res["sr"]), res["words"], caption=Path(audio).name,
                    extra_figures=extra)
        lines.append(f"  video: {render}")
    return "\n".join(lines)


def generate(run_dir: PathLike, inputs: Any):
    """``Recipe.generate``: ``inputs`` is a speech file path or a dict of :func:`generate_motion` arguments;
    returns the generated Motion."""
    if isinstance(inputs, (str, os.PathLike)):
        return generate_motion(run_dir, inputs)["motion"]
    if isinstance(inputs, dict):
        return generate_motion(run_dir, **inputs)["motion"]
    raise MotionLabError("inputs must be a speech file path or a dict of generate_motion arguments", place="inputs")
