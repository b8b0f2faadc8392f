"""Evaluation of a ``t2m`` run on held-out captions (the T2M / HumanML3D protocol) with baselines.

For each replication, a motion is generated for every held-out window's caption (at the window's
length); the generated features are de-normalised with the generator's statistics and given raw to the
:class:`~motionlab.eval.learned.LearnedEvaluator`, which re-normalises them with the evaluator's own.
Per replication: FID (generated vs held-out real embeddings), R-precision top-1/2/3 in batches of
``eval.batch`` (32; fewer held-out windows: one batch of all), MM-Dist, Diversity (``eval.diversity_pairs``
pairs); once: MModality (``eval.mm_samples`` motions for each of ``eval.mm_texts`` captions). Weight-free:
Frechet distances of kinetic and geometric features of the recovered joints, foot skating, ground
penetration, bone-length std and jerk. Every value is the mean over replications with its 95% interval
(``<name>_ci95``).

``fid_pooled``: the motions of all replications (R x N) against the held-out set, next to the same for the
random baseline (more generated samples lower the estimator's finite-sample floor).

Rows in the same table: ``real_*`` (the held-out motions themselves: the evaluator's ceiling),
``baseline_mean_*`` (the training mean pose and velocity for every caption) and ``baseline_random_*`` (a
random training window for each caption: real motion that ignores the text; its FID is the real-vs-real
floor, training against held-out real motion at the same sample size). ``r_precision_top*_chance``
is ``k / batch``. ``seam_ratio`` measures a motion 2.5 windows long joined by in-painting, next to
``seam_ratio_no_inpaint`` (the same windows generated independently and concatenated).
"""

from __future__ import annotations

import os
import sys
import time
from typing import Any, Dict, List, Optional, Sequence, Union

import numpy as np

from motionlab.core.body import SMPL22_PARENTS
from motionlab.errors import MotionLabError
from motionlab.eval.metrics import (
    bone_length_std, diversity, foot_skating_ratio, frechet_distance, geometric_features, ground_penetration,
    kinetic_features, mean_ci95, mean_jerk, multimodal_distance, multimodality, r_precision, seam_discontinuity,
    speed_and_turn,
)

PathLike = Union[str, os.PathLike]
FEET = [7, 10, 8, 11]


def _physical(raw: np.ndarray, lengths: Sequence[int], fps: float) -> Dict[str, Any]:
    """Weight-free features and physical measures of raw feature windows (each cut to its length)."""
    from motionlab.recipes.t2m.tool import positions_zup

    kin, geo, skate, pen, bones, jerk = [], [], [], [], [], []
    for x, n in zip(raw, lengths):
        p = positions_zup(x[:n])
        kin.append(kinetic_features(p, fps))
        geo.append(geometric_features(p, fps))
        skate.append(foot_skating_ratio(p[:, [10, 11]], fps))
        pen.append(ground_penetration(p[:, FEET]).fraction)
        bones.append(bone_length_std(p, SMPL22_PARENTS))
        jerk.append(mean_jerk(p, fps))
    return {"kin": np.array(kin), "geo": np.array(geo), "foot_skating": float(np.mean(skate)),
            "penetration": float(np.mean(pen)), "bone_length_std_mm": 1000.0 * float(np.mean(bones)),
            "jerk": float(np.mean(jerk))}


def _row(ev, raw: np.ndarray, lengths: np.ndarray, text_f: np.ndarray, real_f: np.ndarray, real_phys,
         fps: float, batch: int, pairs: int, seed: int, with_fid: bool = True,
         keep: Optional[List[np.ndarray]] = None) -> Dict[str, float]:
    """Every per-replication metric of one set of raw windows paired with the held-out captions (``keep``: a
    list the motion embeddings are appended to)."""
    mf = ev.motion_features(raw, lengths)
    if keep is not None:
        keep.append(mf)
    order = np.random.default_rng(seed).permutation(len(mf))
    rp = r_precision(text_f[order], mf[order], top_k=3, batch=batch)
    phys = _physical(raw, lengths, fps)
    out = {"r_precision_top1": rp[0], "r_precision_top2": rp[1], "r_precision_top3": rp[2],
           "mm_dist": multimodal_distance(text_f, mf), "diversity": diversity(mf, pairs, seed=seed),
           "foot_skating": phys["foot_skating"], "penetration": phys["penetration"],
           "bone_length_std_mm": phys["bone_length_std_mm"], "jerk": phys["jerk"]}
    if with_fid:
        out["fid"] = frechet_distance(mf, real_f)
        out["fid_kinetic"] = frechet_distance(_scaled(phys["kin"], real_phys["kin"]), _scaled(real_phys["kin"]))
        out["fid_geometric"] = frechet_distance(_scaled(phys["geo"], real_phys["geo"]), _scaled(real_phys["geo"]))
    return {k: float(v) for k, v in out.items()}


def _scaled(x: np.ndarray, ref: Optional[np.ndarray] = None) -> np.ndarray:
    """Features standardised with the statistics of ``ref`` (the real set), as AIST++ does before its FIDs."""
    r = x if ref is None else ref
    return (x - r.mean(0)) / np.maximum(r.std(0), 1e-6)


def _aggregate(rows: List[Dict[str, float]], prefix: str = "") -> Dict[str, float]:
    out = {}
    for k in rows[0]:
        m, ci = mean_ci95([r[k] for r in rows])
        out[f"{prefix}{k}"] = m
        out[f"{prefix}{k}_ci95"] = ci
    return out


def _generate_all(gen, texts: List[str], num_frames: int, steps: int, seed: int, chunk: int = 64,
                  lengths: Optional[Sequence[int]] = None) -> np.ndarray:
    """Raw ``(N, num_frames, F)`` motions for ``texts``; with ``lengths``, motion ``i`` is generated with
    ``lengths[i]`` frames (as its held-out window has) and padded with its last frame, like the real windows."""
    from motionlab.recipes.t2m.tool import generate_normalised

    lengths = np.full(len(texts), num_frames) if lengths is None else np.asarray(lengths, np.int64)
    out = np.zeros((len(texts), num_frames, gen.model.feature_dim), np.float32)
    for n in np.unique(lengths):
        idx = np.flatnonzero(lengths == n)
        for i in range(0, len(idx), chunk):
            part = idx[i:i + chunk]
            x, _ = generate_normalised(gen, [texts[j] for j in part], int(n), steps=steps,
                                       seed=seed * 7919 + int(n) * 131 + i)
            out[part, :n] = gen.normalizer.denormalize(x.numpy())
            out[part, n:] = out[part, n - 1:n]
    return out


def _seam(gen, text: str, steps: int) -> Dict[str, float]:
    from motionlab.recipes.t2m.tool import generate_normalised, positions_zup

    W, ov = gen.cfg.data.window, gen.cfg.infer.overlap
    T = int(2.5 * W)
    x, seams = generate_normalised(gen, [text], T, steps=steps, seed=11)
    pos = positions_zup(gen.normalizer.denormalize(x[0].numpy()))
    # no in-painting: independent windows of the same new frames, concatenated
    pieces, s = [], []
    n_new = W - ov
    total = 0
    k = 0
    while total < T:
        y, _ = generate_normalised(gen, [text], W, steps=steps, seed=100 + k)
        y = gen.normalizer.denormalize(y[0].numpy())
        take = W if k == 0 else min(n_new, T - total)
        pieces.append(y[:take])
        total += take
        if total < T:
            s.append(total)
        k += 1
    naive = positions_zup(np.concatenate(pieces)[:T])
    fps = gen.fps
    return {"seam_ratio": seam_discontinuity(pos, seams, fps), "seam_ratio_no_inpaint": seam_discontinuity(naive, s, fps)}


def evaluate(run_dir: PathLike, evaluator: Optional[PathLike] = None, replications: Optional[int] = None,
             steps: Optional[int] = None, split: Optional[str] = None, stride: Optional[int] = None) -> Dict[str, Any]:
    """Metrics of a ``t2m`` run on held-out captions (module docstring). ``evaluator``: a ``t2m_evaluator``
    run folder (default: ``eval.evaluator`` of the run's config); without one only the weight-free metrics are
    computed. ``split``: ``test``, ``val`` or ``heldout`` (both); default ``test`` when it holds one R-precision
    batch (32 windows), else ``heldout``. ``stride``: frames between the held-out windows' starts (default
    ``eval.stride``, 0 = ``data.stride``); the training windows of the random baseline keep ``data.stride``."""
    from motionlab.eval.learned import LearnedEvaluator
    from motionlab.recipes.t2m.data import CaptionData
    from motionlab.recipes.t2m.tool import load_generator

    t0 = time.time()
    gen = load_generator(run_dir)
    cfg, e = gen.cfg, gen.cfg.eval
    evaluator = evaluator or e.evaluator or None
    R = int(replications or e.replications)
    steps = int(steps or e.steps or cfg.diffusion.sample_steps)
    data = CaptionData(cfg.data)
    split = split or data.held_out_split()
    stride = int(stride or getattr(e, "stride", 0) or cfg.data.stride)
    ds = data.dataset(split, random_caption=False, stride=stride)
    N = len(ds)
    if N < 4:
        raise MotionLabError(f"only {N} held-out windows in split {split!r}; need at least 4", file=run_dir)
    W = cfg.data.window
    lengths = np.array([int(ds.index[i][2]) for i in range(N)])
    texts = [ds.caption(i, 0) for i in range(N)]
    real = np.zeros((N, W, data.normalizer.mean.shape[0]), np.float32)
    for i in range(N):
        real[i, :lengths[i]] = ds.raw(i)
        real[i, lengths[i]:] = ds.raw(i)[-1]
    fps = gen.fps
    batch = min(int(e.batch), N)
    pairs = int(e.diversity_pairs)
    out: Dict[str, Any] = {"split": split, "held_out_windows": N, "held_out_stride": stride, "replications": R, "sampler_steps": steps,
                           "guidance": float(cfg.diffusion.guidance), "r_precision_batch": batch,
                           "ema_weights": bool(gen.ema)}
    for k in (1, 2, 3):
        out[f"r_precision_top{k}_chance"] = k / batch
    real_phys = _physical(real, lengths, fps)
    ev = None
    if evaluator:
        ev = LearnedEvaluator(evaluator, stream="humanml3d")
        text_f = ev.text_features(texts)
        real_f = ev.motion_features(real, lengths)
        out["evaluator"] = str(evaluator)
    else:
        print("t2m eval: no --evaluator given: only the weight-free metrics", file=sys.stderr)
    train = data.dataset("train", random_caption=False)
    mean_window = np.broadcast_to(data.normalizer.mean, real.shape).astype(np.float32)
    rows: Dict[str, List[Dict[str, float]]] = {"": [], "baseline_mean_": [], "baseline_random_": []}
    pooled: Dict[str, List[np.ndarray]] = {k: [] for k in rows}
    for r in range(R):
        raw = _generate_all(gen, texts, W, steps, seed=r, lengths=lengths)
        rng = np.random.default_rng(1000 + r)
        pick = rng.integers(0, len(train), N)
        rand = np.zeros_like(real)
        rlen = np.zeros(N, np.int64)
        for i, j in enumerate(pick):
            x = train.raw(int(j))
            rlen[i] = len(x)
            rand[i, :len(x)] = x
            rand[i, len(x):] = x[-1]
        sets = {"": (raw, lengths), "baseline_mean_": (mean_window, lengths), "baseline_random_": (rand, rlen)}
        for prefix, (x, ln) in sets.items():
            if ev is not None:
                rows[prefix].append(_row(ev, x, ln, text_f, real_f, real_phys, fps, batch, pairs, seed=r,
                                         keep=pooled[prefix]))
            else:
                phys = _physical(x, ln, fps)
                rows[prefix].append({
                    "fid_kinetic": frechet_distance(_scaled(phys["kin"], real_phys["kin"]), _scaled(real_phys["kin"])),
                    "fid_geometric": frechet_distance(_scaled(phys["geo"], real_phys["geo"]), _scaled(real_phys["geo"])),
                    **{k: phys[k] for k in ("foot_skating", "penetration", "bone_length_std_mm", "jerk")}})
        print(f"t2m eval: replication {r + 1}/{R} ({time.time() - t0:.0f} s)", file=sys.stderr, flush=True)
    for prefix, rr in rows.items():
        out.update(_aggregate(rr, prefix))
    if ev is not None and R > 1:
        # the motions of every replication against the held-out set: R x N samples on the generated side,
        # which lowers the finite-sample floor of the estimator (the random baseline's FID) as well
        for prefix in ("", "baseline_random_"):
            out[f"{prefix}fid_pooled"] = float(frechet_distance(np.concatenate(pooled[prefix]), real_f))
    if ev is not None:
        real_row = _row(ev, real, lengths, text_f, real_f, real_phys, fps, batch, pairs, seed=0, with_fid=False)
        out.update({f"real_{k}": v for k, v in real_row.items()})
        distinct = list(dict.fromkeys(texts))[:int(e.mm_texts)]
        K = int(e.mm_samples)
        mm = _generate_all(gen, [t for t in distinct for _ in range(K)], W, steps, seed=R + 1)
        emb = ev.motion_features(mm).reshape(len(distinct), K, -1)
        out["multimodality"] = multimodality(emb, n_pairs=min(10, K))
        out["mm_texts"] = len(distinct)
    else:
        out["real_bone_length_std_mm"] = real_phys["bone_length_std_mm"]
        out["real_foot_skating"] = real_phys["foot_skating"]
        out["real_jerk"] = real_phys["jerk"]
    out.update(_seam(gen, texts[0], steps))
    out["eval_seconds"] = round(time.time() - t0, 1)
    return out


def prompt_check(run_dir: PathLike, prompts: Sequence[str], samples: int = 3, num_frames: int = 120,
                 seed: int = 0, steps: Optional[int] = None, guidance: Optional[float] = None) -> List[Dict[str, Any]]:
    """Whether prompts move the body as they say: per prompt, ``samples`` generated motions of ``num_frames``
    frames (one batch, seed ``seed``) and the held-out clips (val and test) whose caption is the prompt.

    Each row: ``prompt``; ``speed`` / ``turn`` (lists over the samples: the pelvis's mean ground speed in m/s
    and the heading change from start to end in degrees, left positive, :func:`~motionlab.eval.metrics.t2m.speed_and_turn`);
    ``real_speed`` / ``real_turn`` (the same of each held-out clip with that caption, whole clips; empty when
    none) and ``train_clips`` (training clips with exactly that caption)."""
    from motionlab.recipes.t2m.data import load_clips
    from motionlab.recipes.t2m.tool import generate_normalised, load_generator, positions_zup

    gen = load_generator(run_dir)
    prompts = [str(p) for p in prompts]
    if samples < 1 or not prompts:
        raise MotionLabError(f"needs at least one prompt and one sample, got {len(prompts)} and {samples}",
                             place="prompt_check")
    x, _ = generate_normalised(gen, [p for p in prompts for _ in range(samples)], int(num_frames), steps, guidance, seed)
    raw = gen.normalizer.denormalize(x.numpy()).reshape(len(prompts), samples, int(num_frames), -1)
    clips = load_clips(gen.cfg.data)
    rows = []
    for p, group in zip(prompts, raw):
        gs = [speed_and_turn(positions_zup(f), gen.fps) for f in group]
        rs = [speed_and_turn(positions_zup(c.features), gen.fps) for c in clips
              if c.split in ("val", "test") and p in c.captions]
        rows.append({"prompt": p, "speed": [a for a, _ in gs], "turn": [b for _, b in gs],
                     "real_speed": [a for a, _ in rs], "real_turn": [b for _, b in rs],
                     "train_clips": sum(c.split == "train" and p in c.captions for c in clips)})
    for r in rows:
        r["obeyed"] = obeyed(r)
    return rows


def obeyed(row: Dict[str, Any], turn_tol: float = 45.0, speed_tol: float = 0.35) -> Optional[float]:
    """Fraction of a :func:`prompt_check` row's samples that move like its real held-out clips: heading change
    within ``turn_tol`` degrees of the clips' mean and speed within ``max(0.3 m/s, speed_tol x`` their mean
    ``)`` (walking ~1.1 m/s and running ~3.2 m/s are told apart, standing ~0 from both); None without real
    clips."""
    if not row["real_speed"]:
        return None
    rs, rt = float(np.mean(row["real_speed"])), float(np.mean(row["real_turn"]))
    ok = [abs(v - rs) <= max(0.3, speed_tol * rs) and abs(t - rt) <= turn_tol for v, t in zip(row["speed"], row["turn"])]
    return float(np.mean(ok))
