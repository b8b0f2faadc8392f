"""Evaluation, reconstruction and latent export of a trained tokenizer run (from its run folder).

:func:`evaluate` measures the WHOLE evaluation split (``cfg.eval.split``, default ``test``):

==========================  ======================================================================
``recon_mse``               MSE of reconstructed vs true normalised features
``vel_error``               MSE of their first differences along time (normalised, per frame)
``mean_jerk``               mean jerk magnitude of the reconstructions: joint positions (m/s^3) for
                            ``body`` (after decoding features), joint angles (rad/s^3) for G1 features;
                            ``mean_jerk_gt`` is the same on the true windows
``jerk_gap``                ``|mean_jerk / mean_jerk_gt - 1|`` (the ranked one: a lower raw jerk also
                            rewards over-smoothing; 0 = the ground truth's jerk)
``perplexity``              code usage over the whole split, mean over levels (see :mod:`.measures`)
``perplexity_joint``        perplexity of the level tuple (= ``perplexity`` for one level)
``dead_code_ratio``         fraction of codebook entries never used over the whole split, mean over levels
``perplexity/<l>`` ...      per level (``perplexity/<l>``, ``dead_code_ratio/<l>``), multi-level quantizers
``train_perplexity`` ...    ``train_perplexity``, ``train_perplexity_joint``, ``train_dead_code_ratio``:
                            the same usage over the training windows (at most ``TRAIN_USAGE_WINDOWS``,
                            evenly spaced). A held-out split of a few clips cannot visit every code of a
                            codebook that the training windows use fully; a collapsed codebook is dead
                            on both
``mpjpe``                   mm, pelvis-aligned positions of the decoded features: the 22 joints for
                            ``body``; for G1 features the 14 BeyondMimic keypoint bodies by G1 forward
                            kinematics (see :func:`.measures.mpjpe_positions`); on at most
                            ``MPJPE_WINDOWS`` evenly spaced windows
``baseline_*``              the mean-pose baseline (every frame = the training mean) on the same windows
==========================  ======================================================================
"""

from __future__ import annotations

import os
from typing import Any, Dict, Tuple, Union

import numpy as np
import torch

from motionlab.errors import MotionLabError
from motionlab.eval import metrics as M
from motionlab.recipes.tokenizer.config import stream_of
from motionlab.recipes.tokenizer.measures import (mean_jerk_windows, motion_label, motion_quantities, mpjpe_positions,
                                                  usage_metrics)

#: MPJPE is measured on at most about this many evenly spaced windows (forward kinematics per frame)
MPJPE_WINDOWS = 1024
#: training-split code usage is measured on at most about this many evenly spaced training windows
TRAIN_USAGE_WINDOWS = 4096

#: direction of every metric :func:`evaluate` reports under a fixed name (for tables and radar charts)
TOKENIZER_DIRECTIONS: Dict[str, str] = {
    "recon_mse": "lower", "vel_error": "lower", "mean_jerk": "none", "mean_jerk_gt": "none", "jerk_gap": "lower",
    "perplexity": "higher", "perplexity_joint": "higher", "dead_code_ratio": "lower", "mpjpe": "lower",
    "train_perplexity": "higher", "train_perplexity_joint": "higher", "train_dead_code_ratio": "lower",
    "baseline_recon_mse": "lower", "baseline_vel_error": "lower", "baseline_mpjpe": "lower",
}


def _load(run_dir):
    from motionlab.train.engine import load_run

    run = load_run(run_dir, recipe="tokenizer")
    stream = stream_of(run.cfg)
    if stream not in run.stats:
        raise MotionLabError(f"run has no normalisation statistics for stream {stream!r}", file=run_dir)
    return run, stream, run.stats[stream]


def _windows(cfg, stream: str, split: str):
    from motionlab.data.dataset import WindowData
    from motionlab.data.windows import SPLITS

    if split not in SPLITS:
        raise MotionLabError(f"unknown split {split!r}; valid: {', '.join(SPLITS)}", place="eval.split")
    data = WindowData(cfg.data)
    x = np.asarray(data.arrays[f"{split}__{stream}"], dtype=np.float32)
    if len(x) == 0:
        raise MotionLabError(f"the {split} split has no windows", place="eval.split")
    return data, x, np.asarray(data.arrays[f"{split}__label"])


@torch.no_grad()
def _run_model(model, xn: np.ndarray, batch_size: int) -> Tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Reconstructions, indices and time-pooled encoder latents of normalised windows ``xn (N, T, C)``."""
    recon, idx, lat = [], [], []
    for i in range(0, len(xn), batch_size):
        out = model(torch.from_numpy(np.ascontiguousarray(xn[i:i + batch_size])))
        recon.append(out["recon"].numpy())
        idx.append(out["indices"].numpy())
        lat.append(out["z_e"].mean(dim=1).numpy())
    return np.concatenate(recon), np.concatenate(idx), np.concatenate(lat)


def evaluate(run_dir: Union[str, os.PathLike]) -> Dict[str, Any]:
    """Metrics of a trained tokenizer over the whole ``cfg.eval.split`` (see the module docstring)."""
    run, stream, norm = _load(run_dir)
    cfg, model = run.cfg, run.model
    _, x, _ = _windows(cfg, stream, cfg.eval.split)
    xn = np.asarray(norm(x), dtype=np.float32)
    recon_n, idx, _ = _run_model(model, xn, cfg.eval.batch_size)
    q = model.quantizer
    out: Dict[str, Any] = {
        "recon_mse": M.recon_mse(recon_n, xn),
        "vel_error": M.recon_mse(np.diff(recon_n, axis=1), np.diff(xn, axis=1)),
        "baseline_recon_mse": float(np.mean(xn.astype(np.float64) ** 2)),
        "baseline_vel_error": float(np.mean(np.diff(xn.astype(np.float64), axis=1) ** 2)),
    }
    flat = (lambda i: i.reshape(-1, q.num_levels) if q.multi_level else i.reshape(-1))
    out.update(usage_metrics(flat(idx), q.codebook_sizes))
    if cfg.eval.split != "train":  # the same usage on the training windows (see the module docstring)
        _, x_tr, _ = _windows(cfg, stream, "train")
        x_tr = x_tr[:: max(1, len(x_tr) // TRAIN_USAGE_WINDOWS)]
        _, idx_tr, _ = _run_model(model, np.asarray(norm(x_tr), dtype=np.float32), cfg.eval.batch_size)
        train_usage = usage_metrics(flat(idx_tr), q.codebook_sizes)
        out.update({f"train_{k}": train_usage[k] for k in ("perplexity", "perplexity_joint", "dead_code_ratio")})
    fps = cfg.data.fps
    recon_raw = norm.denormalize(recon_n.astype(np.float64))
    q_pred, kind = motion_quantities(recon_raw, stream, fps)
    q_true, _ = motion_quantities(x.astype(np.float64), stream, fps)
    out["mean_jerk"] = mean_jerk_windows(q_pred, kind, fps)
    out["mean_jerk_gt"] = mean_jerk_windows(q_true, kind, fps)
    out["jerk_gap"] = M.jerk_gap(out["mean_jerk"], out["mean_jerk_gt"])
    sub = slice(None, None, max(1, len(x) // MPJPE_WINDOWS))
    if kind == "positions":  # the jerk's joint positions serve the MPJPE too
        p_pred, p_true = q_pred[sub], q_true[sub]
    else:
        p_pred = mpjpe_positions(recon_raw[sub], stream, fps)
        p_true = None if p_pred is None else mpjpe_positions(x[sub].astype(np.float64), stream, fps)
    if p_pred is not None:
        out["mpjpe"] = M.mpjpe(p_pred, p_true, root=0)
        mean_pose = np.broadcast_to(np.asarray(norm.mean, np.float64), x.shape[1:])[None]
        p_base = mpjpe_positions(mean_pose, stream, fps)
        out["baseline_mpjpe"] = M.mpjpe(np.broadcast_to(p_base, p_true.shape), p_true, root=0)
    out.update({"num_windows": int(len(x)), "num_tokens": int(idx.shape[0] * idx.shape[1]),
                "codebook_size": int(sum(q.codebook_sizes)), "step": int(run.step), "split": cfg.eval.split,
                "stream": stream})
    return out


def export_latents(run_dir: Union[str, os.PathLike], split: str = "test") -> Dict[str, Any]:
    """Encoder latents ``z_e`` (before quantisation) mean-pooled over time, for a t-SNE.

    Returns ``{"latents": (N, D) float32, "labels": (N,) int64, "label_names": [str]}`` for every
    window of ``split``. A window's label is its clip's style (the corpus manifest's); a clip of a
    plain folder has none, and is labelled by the motion its file name names
    (:func:`.measures.motion_label`: ``dance1_subject2`` -> ``dance``).
    """
    run, stream, norm = _load(run_dir)
    data, x, styles = _windows(run.cfg, stream, split)
    _, _, lat = _run_model(run.model, np.asarray(norm(x), dtype=np.float32), run.cfg.eval.batch_size)
    clip = np.asarray(data.arrays.get(f"{split}__clip", np.zeros(0)), dtype=np.int64)
    if len(clip) == len(x):
        names = [c.style if c.style != "unknown" else motion_label(c.id) for c in data.clips]
        per_window = [names[i] for i in clip]
    else:  # a window cache without clip indices: the styles alone
        per_window = [data.styles[i] for i in styles]
    label_names = sorted(set(per_window))
    labels = np.array([label_names.index(n) for n in per_window], dtype=np.int64)
    return {"latents": lat.astype(np.float32), "labels": labels, "label_names": label_names}
