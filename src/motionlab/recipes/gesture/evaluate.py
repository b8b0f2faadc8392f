"""Evaluation of a trained ``gesture`` / ``dyadic`` run on held-out takes (``eval.split``, default
``heldout`` = val + test; runs on a synthetic corpus add every take of the same-scale built-in corpus at
``eval.extra_synth_seeds``, see :class:`TakePool`), every number next to three baselines:

* ``random_clip``: a random training take (its own motion, cut or tiled to the length);
* ``mean_pose``: every frame at the training mean of each part;
* ``shuffled_audio``: the model's own output for the speech of another held-out take (shuffled pairing);
* dyadic runs add ``partner_zeroed``: the same model with the partner's voice and motion set to zero.

Metrics (joint positions from the canonical SMPL-22 body, 30 fps):

=================  ==========================================================================================
``bc``             beat consistency (BEAT2 protocol, :func:`motionlab.eval.metrics.beat_consistency`): librosa
                   onsets of the take's own speech vs upper-body speed minima (threshold ``eval.bc_threshold``,
                   normalised by the training mean speed), frame-weighted over takes; higher is better
``fgd``            Frechet distance of 32-frame crops (stride 16) in the run's own motion-autoencoder space
                   (:class:`motionlab.eval.learned.LearnedEvaluator`; comparable only within motionlab)
``l1div``          L1 diversity of joint positions over all takes (m); ``gt_l1div`` for the real takes
``jerk``           mean jerk of joint positions (m/s^3); ``gt_jerk`` real
``foot_skating``   foot skating ratio (GMD protocol) of the feet
``seam_ratio``     velocity jump at chunk seams over the median inside chunks; ``seam_ratio_inside`` is the same
                   statistic half a chunk before each seam (what a seamless output scores; above 1, because
                   it takes the larger of two differences)
``pfd``, ``rpcc``  dyadic: P-FD on [person, partner] features and rPCC of motion energy vs the partner
=================  ==========================================================================================

Baseline numbers are ``baseline_<name>_<metric>``.
"""

from __future__ import annotations

import os
from typing import Any, Dict, List, Sequence, Union

import numpy as np

from motionlab.core.body import FEET, SMPL22_NAMES, UPPER_BODY
from motionlab.errors import MotionLabError
from motionlab.eval import metrics as M

GESTURE_DIRECTIONS: Dict[str, str] = {"bc": "higher", "fgd": "lower", "l1div": "none", "jerk": "none",
                                      "foot_skating": "lower", "seam_ratio": "lower",
                                      "seam_ratio_inside": "none", "pfd": "lower", "rpcc": "lower"}
BASELINES = ("random_clip", "mean_pose", "shuffled_audio")


def load(run_dir):
    """``(LoadedRun, GestureArrays)`` of a run folder."""
    from motionlab.recipes.gesture.data import GestureArrays
    from motionlab.train.engine import load_run

    run = load_run(run_dir)
    data = GestureArrays(run.cfg)
    # the statistics the model was trained with (saved in the run folder) normalise its inputs and outputs
    data.normalizers.update({p: run.stats[p] for p in data.parts if p in run.stats})
    return run, data


class TakePool:
    """The takes an evaluation draws on: those of the run's own data (``data``) and, for synthetic runs with
    ``eval.extra_synth_seeds``, every take of the same-scale built-in corpus at those seeds (other draws of the
    same generator that training never saw), indexed ``0..N-1`` in that order. Extra takes read their words
    with the run's vocabulary (unseen words are ``<unk>``), their speakers by name and their parts with the
    run's normalisation, so :meth:`clip` gives what the model was trained on. ``parts``, ``dims`` and
    ``normalizers`` are the run's; ``extra_seeds`` the seeds of the extra draws."""

    def __init__(self, data, extras: Sequence = ()) -> None:
        self.data = data
        self.parts, self.dims, self.normalizers = data.parts, data.dims, data.normalizers
        self.extra_seeds: List[int] = [int(d.cfg.data.synth_seed) for d in extras]
        self.entries = [(data, i) for i in range(len(data.ids))] + [(d, i) for d in extras for i in range(len(d.ids))]
        self.ids = [d.ids[i] if d is data else f"{d.cfg.data.synth_scale}-seed{d.cfg.data.synth_seed}/{d.ids[i]}"
                    for d, i in self.entries]
        self._words = {}
        for d in extras:
            lut = np.ones(max(d.vocab.values()) + 1, np.int64)  # 1 = <unk>
            for w, k in d.vocab.items():
                lut[k] = data.vocab.get(w, 1)
            self._words[id(d)] = lut

    def clips(self, split: str) -> List[int]:
        """Pool indices of the run's own takes of ``split``, followed by every extra take unless ``split`` is
        ``train``."""
        own = set(self.data.clips(split))
        return [k for k, (d, i) in enumerate(self.entries) if (i in own if d is self.data else split != "train")]

    def clip(self, k: int, normalized: bool = True) -> Dict[str, np.ndarray]:
        d, i = self.entries[k]
        out = d.clip(i, normalized)
        if d is not self.data:
            out["word"] = self._words[id(d)][out["word"]]
            name = d.speakers[int(out["speaker"])] if int(out["speaker"]) < len(d.speakers) else None
            out["speaker"] = np.int64(self.data.speakers.index(name) if name in self.data.speakers else 0)
        return out


def take_pool(run, data) -> TakePool:
    """The :class:`TakePool` of a loaded run (its ``eval.extra_synth_seeds``, kept in ``extra_seeds``).

    A run trained on real data (a ``data.root`` folder without a ``manifest.json``, e.g. BEAT2) has no
    synthetic draws to add, and a seed equal to the training corpus's own would hold out its training takes:
    either is left out with a warning (the shipped tiny configs set the extra seeds, and any run of them must
    still evaluate)."""
    import copy
    import json
    import warnings
    from pathlib import Path

    from motionlab.recipes.gesture.data import GestureArrays

    cfg = run.cfg
    seeds = [int(s) for s in cfg.eval.extra_synth_seeds]
    scale, own = cfg.data.synth_scale, int(cfg.data.synth_seed)
    if seeds and cfg.data.root:
        manifest = Path(cfg.data.root) / "manifest.json"
        if not manifest.is_file():
            warnings.warn(f"eval.extra_synth_seeds {seeds} left out: the run was trained on {cfg.data.root}, not a "
                          "synthetic corpus (no manifest.json); only its own held-out takes are evaluated",
                          stacklevel=2)
            seeds = []
        else:
            meta = json.loads(manifest.read_text(encoding="utf-8"))
            scale, own = str(meta.get("scale", scale)), int(meta.get("seed", own))
    if own in seeds:
        warnings.warn(f"eval.extra_synth_seeds: seed {own} left out, it is the training corpus's own seed (its "
                      "training takes are not held out)", stacklevel=2)
        seeds = [s for s in seeds if s != own]
    extras = []
    for s in seeds:
        c = copy.deepcopy(cfg)
        c.data.root, c.data.synth_scale, c.data.synth_seed = "", scale, s
        d = GestureArrays(c)
        d.normalizers.update({p: data.normalizers[p] for p in data.parts})
        extras.append(d)
    return TakePool(data, extras)


def _fit(x: np.ndarray, T: int) -> np.ndarray:
    if len(x) >= T:
        return x[:T]
    reps = int(np.ceil(T / len(x)))
    return np.concatenate([x] * reps)[:T]


def generate_for_clip(run, data, i: int, speech_from: int = None, zero_partner: bool = False) -> Dict[str, Any]:
    """Raw parts, regressed root and chunk starts generated for take ``i`` (speech of ``speech_from``)."""
    from motionlab.recipes.gesture.infer import denormalize_parts, generate_sequence, infer_options, seed_parts

    cfg = run.cfg
    cond = data.clip(i)
    if speech_from is not None and speech_from != i:
        other = data.clip(speech_from)
        T = len(cond["audio"])
        for k in ("audio", "afeat", "word"):
            x = other[k][:T]
            cond[k] = np.concatenate([x, np.zeros((T - len(x),) + x.shape[1:], x.dtype)]) if len(x) < T else x
    seed = seed_parts(data.normalizers, data.parts, cfg.data.fps, cfg.data.num_expressions,
                      frames=cfg.model.seed_frames, pose=cfg.model.seed_pose)
    gen = generate_sequence(run.model, cond, seed, speaker=int(cond["speaker"]), zero_partner=zero_partner,
                            **infer_options(cfg))
    raw = denormalize_parts(gen, data.normalizers, data.parts)
    raw["starts"] = gen["starts"]
    return raw


def positions(parts: Dict[str, np.ndarray], fps: float, root: np.ndarray = None) -> np.ndarray:
    from motionlab.recipes.gesture.parts import assemble_motion

    return assemble_motion(parts, fps, root=root).positions()


def _split_concat(x: np.ndarray, data) -> Dict[str, np.ndarray]:
    out, k = {}, 0
    for p in data.parts:
        d = data.dims[p]
        out[p] = x[:, k:k + d]
        k += d
    return out


def _crops(x: np.ndarray, n: int, stride: int) -> List[np.ndarray]:
    return [x[s:s + n] for s in range(0, len(x) - n + 1, stride)]


def evaluate(run_dir: Union[str, os.PathLike]) -> Dict[str, Any]:
    """Metrics of a trained gesture or dyadic run (see the module docstring)."""
    from motionlab.data.speech_features import SPEECH_SR, samples_from_frames
    from motionlab.eval.learned import LearnedEvaluator

    run, data = load(run_dir)
    cfg = run.cfg
    data = take_pool(run, data)
    fps, E = cfg.data.fps, cfg.eval
    dyadic = bool(cfg.model.dyadic)
    held = data.clips(E.split)
    train = data.clips("train")
    if len(held) < 2:
        raise MotionLabError(f"evaluation needs at least 2 held-out takes (split {E.split!r} has {len(held)})",
                             place="eval.split")
    rng = np.random.default_rng(E.seed)
    real = {i: data.clip(i, normalized=False) for i in held}
    real_pos = {i: positions(real[i], fps) for i in held}
    train_raw = [data.clip(j, normalized=False) for j in train]
    train_pos = [positions(c, fps) for c in train_raw]
    mean_speed = np.mean(np.concatenate([np.linalg.norm(np.gradient(p, axis=0), axis=-1) * fps for p in train_pos]), 0)
    mean_speed = np.maximum(mean_speed, 1e-6)
    upper = [SMPL22_NAMES.index(n) for n in UPPER_BODY]
    feet = [SMPL22_NAMES.index(n) for n in FEET]

    methods: Dict[str, Dict[int, Dict[str, Any]]] = {"model": {}, "random_clip": {}, "mean_pose": {},
                                                      "shuffled_audio": {}}
    if dyadic:
        methods["partner_zeroed"] = {}
    for k, i in enumerate(held):
        T = len(real[i]["upper"])
        g = generate_for_clip(run, data, i)
        methods["model"][i] = {"pos": positions(g, fps, g["root"]), "parts": g, "starts": g["starts"]}
        j = int(rng.integers(len(train_raw)))
        rc = {p: _fit(train_raw[j][p], T) for p in data.parts}
        methods["random_clip"][i] = {"pos": positions(rc, fps), "parts": rc}
        mp = {p: np.tile(data.normalizers[p].mean, (T, 1)) for p in data.parts}
        methods["mean_pose"][i] = {"pos": positions(mp, fps), "parts": mp}
        s = generate_for_clip(run, data, i, speech_from=held[(k + 1) % len(held)])
        methods["shuffled_audio"][i] = {"pos": positions(s, fps, s["root"]), "parts": s, "starts": s["starts"]}
        if dyadic:
            z = generate_for_clip(run, data, i, zero_partner=True)
            methods["partner_zeroed"][i] = {"pos": positions(z, fps, z["root"]), "parts": z, "starts": z["starts"]}

    onsets = {i: M.audio_onsets(samples_from_frames(real[i]["audio"], SPEECH_SR, fps), SPEECH_SR) for i in held}
    evaluator = LearnedEvaluator(E.evaluator_run or run_dir, stream="motion")

    def concat(parts: Dict[str, np.ndarray]) -> np.ndarray:
        return np.concatenate([parts[p] for p in data.parts], axis=1)

    real_crops = [c for i in held for c in _crops(concat(real[i]), E.fgd_crop, E.fgd_crop // 2)]
    if len(real_crops) < 2:
        raise MotionLabError(f"held-out takes are too short for {E.fgd_crop}-frame FGD crops", place="eval.fgd_crop")
    real_feat = evaluator.motion_features(np.stack(real_crops))
    partner_feat = None
    if dyadic:
        partner_crops = [c for i in held for c in _crops(real[i]["p_motion"], E.fgd_crop, E.fgd_crop // 2)]
        partner_feat = evaluator.motion_features(np.stack(partner_crops))
        partner_pos = {i: positions(_split_concat(real[i]["p_motion"], data), fps) for i in held}

    def score(name: str) -> Dict[str, float]:
        res = methods[name]
        bcs, frames = [], []
        for i in held:
            b = M.beat_consistency(res[i]["pos"], fps, onsets[i], upper, threshold=E.bc_threshold, sigma=E.bc_sigma,
                                   skip_s=E.bc_skip_s, mean_speed=mean_speed)
            bcs.append(b)
            frames.append(len(res[i]["pos"]))
        out = {"bc": M.frame_weighted_mean(bcs, frames) if np.isfinite(bcs).any() else float("nan")}
        crops = [c for i in held for c in _crops(concat(res[i]["parts"]), E.fgd_crop, E.fgd_crop // 2)]
        feat = evaluator.motion_features(np.stack(crops))
        out["fgd"] = M.frechet_distance(feat, real_feat)
        out["l1div"] = M.l1_diversity([res[i]["pos"] for i in held])
        out["jerk"] = float(np.mean([M.mean_jerk(res[i]["pos"], fps, "positions") for i in held]))
        out["foot_skating"] = float(np.mean([M.foot_skating_ratio(res[i]["pos"][:, feet], fps,
                                                                  floor=float(real_pos[i][:, feet, 2].min()))
                                             for i in held]))
        seams = [res[i]["starts"][1:] + cfg.model.seed_frames for i in held if "starts" in res[i]
                 and len(res[i]["starts"]) > 1]
        if seams:
            vals = [M.seam_discontinuity(res[i]["pos"], res[i]["starts"][1:] + cfg.model.seed_frames, fps, order=2)
                    for i in held if len(res[i].get("starts", [])) > 1]
            out["seam_ratio"] = float(np.mean(vals))
            # the same statistic half a chunk before every seam, inside the chunks: what a seamless output scores
            half = cfg.model.chunk // 2
            inside = [M.seam_discontinuity(res[i]["pos"], res[i]["starts"][1:] + cfg.model.seed_frames - half, fps,
                                           order=2) for i in held if len(res[i].get("starts", [])) > 1]
            out["seam_ratio_inside"] = float(np.mean(inside))
        if dyadic:
            out["pfd"] = M.paired_frechet_distance(feat, partner_feat, real_feat, partner_feat)
            out["rpcc"] = float(np.mean([M.rpcc(res[i]["pos"], real_pos[i], partner_pos[i], fps) for i in held]))
            out["upper_mse"] = float(np.mean([np.mean((data.normalizers["upper"](res[i]["parts"]["upper"])
                                                       - data.normalizers["upper"](real[i]["upper"])) ** 2)
                                              for i in held]))
        return out

    metrics: Dict[str, Any] = dict(score("model"))
    for name in methods:
        if name != "model":
            for k, v in score(name).items():
                metrics[f"baseline_{name}_{k}"] = v
    gt_bc = [M.beat_consistency(real_pos[i], fps, onsets[i], upper, threshold=E.bc_threshold, sigma=E.bc_sigma,
                                skip_s=E.bc_skip_s, mean_speed=mean_speed) for i in held]
    metrics["gt_bc"] = M.frame_weighted_mean(gt_bc, [len(real_pos[i]) for i in held])
    metrics["gt_l1div"] = M.l1_diversity([real_pos[i] for i in held])
    metrics["gt_jerk"] = float(np.mean([M.mean_jerk(real_pos[i], fps, "positions") for i in held]))
    metrics.update({"num_takes": len(held), "frames": int(sum(len(real_pos[i]) for i in held)), "split": E.split,
                    "extra_synth_seeds": list(data.extra_seeds),
                    "step": int(run.step), "dyadic": dyadic, "fgd_evaluator": str(E.evaluator_run or run_dir)})
    return metrics


def metric_table(metrics: Dict[str, Any]) -> str:
    """A Markdown table: one row per method (model, baselines), one column per metric."""
    keys = [k for k in ("bc", "fgd", "l1div", "jerk", "foot_skating", "seam_ratio", "pfd", "rpcc") if k in metrics]
    rows = [("model", {k: metrics.get(k) for k in keys})]
    for name in [n for n in (*BASELINES, "partner_zeroed") if any(k.startswith(f"baseline_{n}_") for k in metrics)]:
        rows.append((name, {k: metrics.get(f"baseline_{name}_{k}") for k in keys}))
    rows.append(("real (held-out)", {"bc": metrics.get("gt_bc"), "l1div": metrics.get("gt_l1div"),
                                     "jerk": metrics.get("gt_jerk")}))
    head = "| method | " + " | ".join(keys) + " |\n|---|" + "---|" * len(keys)
    fmt = lambda v: "" if v is None else f"{v:.4g}"  # noqa: E731
    return head + "\n" + "\n".join(f"| {n} | " + " | ".join(fmt(r.get(k)) for k in keys) + " |" for n, r in rows)
