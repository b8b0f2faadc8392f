"""Metrics, baselines and latent plots of a trained ``retarget`` run (``motionlab eval RUN``).

On the held-out windows (the ``test`` split, else ``val``), with the run's normalisation statistics:

* the study's numbers: ``recon`` (robot -> robot) and ``cross`` (human -> robot) MSE on normalised
  joints; ``align``: the relative misalignment of the two encoders' continuous latents (their MSE
  after dividing both by the robot latent's per-channel std over the set: scale-free, 0 = identical,
  2 = unrelated) and ``align_raw`` the raw latent MSE (scale-dependent, the study's number);
  ``nce`` (InfoNCE of pooled window latents of a seeded random subset of at most
  :data:`NCE_WINDOWS` windows, windows of one clip not negatives of each other); ``vel``
  (first-difference MSE of the cross output); ``jerk`` (mean ``|third difference| * fps^3`` of the
  cross output's joint angles, rad/s^3), ``jerk_gt`` (the same on the ground truth) and
  ``jerk_gap`` = ``|jerk / jerk_gt - 1|`` (the ranked one: lower raw jerk also rewards
  over-smoothing); code usage over the whole set by :func:`motionlab.eval.metrics.usage_summary`
  (human path, the inference path; ``robot_`` prefix: robot path): ``perplexity`` (mean over
  levels), ``perplexity_joint`` (of the level tuple), ``dead_code_ratio`` (mean over levels) and
  per level ``perplexity/<l>``, ``dead_code_ratio/<l>``;
* joint-space error of the cross output (rad, MAE and RMSE, overall and per joint), keypoint MPJPE
  (mm) of the 14 BeyondMimic bodies from G1 FK with the pelvis fixed (root-relative);
* baselines on the same windows: ``mean_pose`` (the training mean of every joint) and
  ``nearest_neighbour`` (the robot window paired with the nearest training human window);
* domain overlap of the pooled latents: logistic-regression accuracy ``domain_overlap_classifier``
  and k-NN mixing ``domain_overlap_knn`` (0.5 = perfectly overlapping domains; not ranked, noise
  goes below 0.5), and the ranked ``domain_separability`` = ``|accuracy - 0.5| * 2`` (and
  ``domain_separability_knn``): 0 = full overlap, 1 = separate; t-SNE plots coloured by domain and
  by motion style;

and on the held-out *clips*, through the whole tool (:class:`~.tool.Retargeter`: windows, blending,
limits, root): joint MAE, keypoint MPJPE root-relative and global, limit and velocity-limit
violations before clamping (after the smooth limits) and of the network's own output
(``clip_network_limit_violation_frames``), those of the final output (``clip_output_limit_violation_frames``,
after the planted-feet leg IK), robot foot skating, the ground truth's and their gap
``clip_foot_skating_gap``, seam discontinuity; with ``infer.contacts`` the same joint MAE, MPJPE and
skating without the leg IK (suffix ``_no_contacts``: the root then steps with the stance feet) and the
fraction of foot-frames pinned (``clip_contact_frames``).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Dict, List, Optional

import numpy as np
import torch

from motionlab.errors import MotionLabError


#: Windows (at most) of the seeded random subset the evaluation InfoNCE is measured on.
NCE_WINDOWS = 1024

#: Direction of every metric :func:`evaluate` reports under a fixed name (tables, radar charts).
#: The raw domain accuracies carry no direction (below 0.5 is noise, not better overlap): rank
#: ``domain_separability``. Raw ``jerk`` likewise: rank ``jerk_gap``.
RETARGET_DIRECTIONS: Dict[str, str] = {
    "recon": "lower", "cross": "lower", "align": "lower", "align_raw": "lower", "nce": "lower", "vel": "lower",
    "jerk": "none", "jerk_gt": "none", "jerk_gap": "lower",
    "perplexity": "higher", "perplexity_joint": "higher", "dead_code_ratio": "lower",
    "robot_perplexity": "higher", "robot_perplexity_joint": "higher", "robot_dead_code_ratio": "lower",
    "domain_overlap_classifier": "none", "domain_overlap_knn": "none",
    "domain_separability": "lower", "domain_separability_knn": "lower",
    **{f"{p}{k}": "lower" for p in ("cross_", "recon_", "baseline_mean_pose_", "baseline_nearest_neighbour_")
       for k in ("joint_mae_rad", "joint_rmse_rad", "nmse", "mpjpe_mm")},
    **{f"clip_{k}": "lower" for k in ("joint_mae_rad", "mpjpe_global_mm", "mpjpe_root_relative_mm",
                                       "limit_violation_frames", "network_limit_violation_frames", "limit_max_excess_rad", "velocity_violation_steps",
                                       "velocity_max_excess_rad_s", "foot_skating_ratio", "foot_skating_gap",
                                       "seam_discontinuity_acc", "output_limit_violation_frames",
                                       "joint_mae_rad_no_contacts", "mpjpe_global_mm_no_contacts",
                                       "mpjpe_root_relative_mm_no_contacts", "foot_skating_ratio_no_contacts")},
    "clip_foot_skating_ratio_gt": "none", "clip_contact_frames": "none",
}


def _batched(model, xh: np.ndarray, xr: np.ndarray, batch: int = 256) -> Dict[str, np.ndarray]:
    keys = ("recon", "cross", "z_h", "z_r", "indices_h", "indices_r")
    parts: Dict[str, List[np.ndarray]] = {k: [] for k in keys}
    with torch.inference_mode():
        for i in range(0, len(xh), batch):
            out = model(torch.from_numpy(np.asarray(xh[i:i + batch], np.float32)),
                        torch.from_numpy(np.asarray(xr[i:i + batch], np.float32)))
            for k in keys:
                parts[k].append(out[k].float().numpy() if out[k].is_floating_point() else out[k].numpy())
    return {k: np.concatenate(v) for k, v in parts.items()}


def _usage(quantizer, indices: np.ndarray, prefix: str) -> Dict[str, float]:
    """:func:`motionlab.eval.metrics.usage_summary` of ``(N, S)`` or ``(N, S, L)`` indices, keys prefixed."""
    from motionlab.eval.metrics import usage_summary

    sizes = list(quantizer.codebook_sizes)
    idx = indices.reshape(-1, len(sizes)) if len(sizes) > 1 else indices.reshape(-1)
    return {f"{prefix}{k}": v for k, v in usage_summary(idx, sizes).items()}


def domain_separability(accuracy: float) -> float:
    """``|accuracy - 0.5| * 2`` of a two-domain accuracy (or k-NN mixing) on the 0.5..1 scale:
    0 = full overlap, 1 = fully separable; chance-level noise on either side of 0.5 counts alike."""
    return abs(float(accuracy) - 0.5) * 2.0


def _keypoints(q: np.ndarray) -> np.ndarray:
    """``(..., 14, 3)`` BeyondMimic keypoint bodies from joint angles with the pelvis fixed at the origin."""
    from motionlab.robots.g1 import BEYONDMIMIC_KEYPOINT_BODIES, ISAAC_BODY_NAMES
    from motionlab.robots.g1_fk import g1_fk

    flat = q.reshape(-1, 29)
    pos, _ = g1_fk(np.zeros(3), np.array([1.0, 0.0, 0.0, 0.0]), flat, order="isaac")
    idx = [ISAAC_BODY_NAMES.index(n) for n in BEYONDMIMIC_KEYPOINT_BODIES]
    return pos[:, idx].reshape(q.shape[:-1] + (14, 3))


def _joint_scores(pred: np.ndarray, gt: np.ndarray, norm, prefix: str) -> Dict[str, float]:
    """Joint MAE/RMSE (rad), normalised MSE and root-relative keypoint MPJPE (mm) of ``(N, W, 29)``."""
    from motionlab.eval.metrics import joint_mae, joint_rmse, mpjpe

    out = {f"{prefix}joint_mae_rad": joint_mae(pred, gt).overall, f"{prefix}joint_rmse_rad": joint_rmse(pred, gt).overall,
           f"{prefix}nmse": float(np.mean(((pred - gt) / norm.std) ** 2))}
    sub = slice(None, None, max(1, len(pred) // 512))  # FK on at most ~512 windows
    out[f"{prefix}mpjpe_mm"] = mpjpe(_keypoints(pred[sub]), _keypoints(gt[sub]))
    return out


def _nearest_neighbour(train_h: np.ndarray, train_r: np.ndarray, test_h: np.ndarray, max_train: int = 20000
                       ) -> np.ndarray:
    """Robot windows paired with the nearest training human windows (Euclidean on normalised features)."""
    step = max(1, len(train_h) // max_train)
    bank = torch.from_numpy(np.ascontiguousarray(train_h[::step].reshape(len(train_h[::step]), -1), np.float32))
    robots = train_r[::step]
    out = []
    for i in range(0, len(test_h), 256):
        q = torch.from_numpy(np.ascontiguousarray(test_h[i:i + 256].reshape(len(test_h[i:i + 256]), -1), np.float32))
        out.append(robots[torch.cdist(q, bank).argmin(dim=1).numpy()])
    return np.concatenate(out)


def relative_misalignment(z_h: np.ndarray, z_r: np.ndarray, eps: float = 1e-6) -> float:
    """MSE of latents ``(..., D)`` after dividing both by the per-channel std of ``z_r`` over all
    leading axes (the evaluation counterpart of
    :func:`~motionlab.recipes.retarget.model.standardised_latent_mse`): 0 = identical, 2 = unrelated."""
    zh = np.asarray(z_h, np.float64).reshape(-1, np.shape(z_h)[-1])
    zr = np.asarray(z_r, np.float64).reshape(-1, np.shape(z_r)[-1])
    s = np.sqrt(zr.var(axis=0) + eps)
    return float(np.mean(((zh - zr) / s) ** 2))


def nce_subset(n: int, max_windows: int, seed: int = 0) -> np.ndarray:
    """Sorted indices of a seeded random subset of ``min(n, max_windows)`` of ``n`` windows (not the
    first ones, which come in clip order and would mostly be overlapping windows of a few clips)."""
    if n <= max_windows:
        return np.arange(n)
    return np.sort(np.random.default_rng(seed).choice(n, size=max_windows, replace=False))


def window_metrics(rt, data, split: str) -> Dict[str, Any]:
    """The study's metrics, joint errors and baselines on the windows of ``split``; also returns the
    pooled latents and style labels under ``"_latents"`` (removed before saving)."""
    from motionlab.eval.metrics import domain_overlap, jerk_gap, mean_jerk
    from motionlab.recipes.retarget.model import info_nce

    hk, rk = rt.human_key, rt.robot_key
    xh = rt.norm_h(np.asarray(data.arrays[f"{split}__{hk}"], np.float32)).astype(np.float32)
    xr = rt.norm_r(np.asarray(data.arrays[f"{split}__{rk}"], np.float32)).astype(np.float32)
    if len(xh) == 0:
        raise MotionLabError(f"the {split} split has no windows to evaluate", place=split)
    out = _batched(rt.model, xh, xr)
    m: Dict[str, Any] = {"split": split, "windows": int(len(xh))}
    m["recon"] = float(np.mean((out["recon"] - xr) ** 2))
    m["cross"] = float(np.mean((out["cross"] - xr) ** 2))
    m["align"] = relative_misalignment(out["z_h"], out["z_r"])
    m["align_raw"] = float(np.mean((out["z_h"].astype(np.float64) - out["z_r"]) ** 2))
    ph, pr = out["z_h"].mean(axis=1), out["z_r"].mean(axis=1)
    clip_ids = np.asarray(data.arrays[f"{split}__clip"], np.int64) if f"{split}__clip" in data.arrays else None
    sub = nce_subset(len(ph), NCE_WINDOWS, seed=int(rt.cfg.train.seed))
    groups = torch.from_numpy(clip_ids[sub]) if clip_ids is not None and len(clip_ids) == len(ph) else None
    m["nce"] = float(info_nce(torch.from_numpy(ph[sub]), torch.from_numpy(pr[sub]), rt.cfg.loss.temperature,
                              groups=groups))
    m["vel"] = float(np.mean((np.diff(out["cross"], axis=1) - np.diff(xr, axis=1)) ** 2))
    gt = rt.norm_r.denormalize(xr.astype(np.float64))
    pred = rt.norm_r.denormalize(out["cross"].astype(np.float64))
    recon = rt.norm_r.denormalize(out["recon"].astype(np.float64))
    # (N, W, 29) -> time first: third difference along the window times fps^3, rad/s^3
    m["jerk"] = mean_jerk(np.swapaxes(pred, 0, 1), rt.fps, kind="angles")
    m["jerk_gt"] = mean_jerk(np.swapaxes(gt, 0, 1), rt.fps, kind="angles")
    m["jerk_gap"] = jerk_gap(m["jerk"], m["jerk_gt"])
    m.update(_usage(rt.model.quantizer, out["indices_h"], ""))
    m.update(_usage(rt.model.quantizer, out["indices_r"], "robot_"))
    m.update(_joint_scores(pred, gt, rt.norm_r, "cross_"))
    m.update(_joint_scores(recon, gt, rt.norm_r, "recon_"))
    from motionlab.eval.metrics import joint_mae, joint_rmse
    from motionlab.robots.g1 import G1_JOINT_NAMES

    m["cross_joint_mae_per_joint_rad"] = dict(zip(G1_JOINT_NAMES, map(float, joint_mae(pred, gt).per_joint)))
    m["cross_joint_rmse_per_joint_rad"] = dict(zip(G1_JOINT_NAMES, map(float, joint_rmse(pred, gt).per_joint)))
    # baselines on the same windows
    mean_pose = np.broadcast_to(rt.norm_r.mean.astype(np.float64), gt.shape)
    m.update(_joint_scores(np.array(mean_pose), gt, rt.norm_r, "baseline_mean_pose_"))
    th = rt.norm_h(np.asarray(data.arrays[f"train__{hk}"], np.float32))
    tr = np.asarray(data.arrays[f"train__{rk}"], np.float64)
    m.update(_joint_scores(_nearest_neighbour(th, tr, xh), gt, rt.norm_r, "baseline_nearest_neighbour_"))
    # latent overlap
    n = len(ph)
    if n >= 10:
        m["domain_overlap_classifier"] = domain_overlap(ph, pr, "classifier", folds=min(5, n // 2))
        m["domain_overlap_knn"] = domain_overlap(ph, pr, "knn", k=min(10, 2 * n - 1))
        m["domain_separability"] = domain_separability(m["domain_overlap_classifier"])
        m["domain_separability_knn"] = domain_separability(m["domain_overlap_knn"])
    m["_latents"] = (ph, pr, np.asarray(data.arrays[f"{split}__label"]))
    return m


def clip_metrics(rt, clips, max_clips: Optional[int] = 32) -> Dict[str, Any]:
    """Whole-tool metrics on held-out clips (see the module docstring), averaged over clips."""
    from motionlab.eval.metrics import foot_skating_ratio, joint_mae, mpjpe, seam_discontinuity
    from motionlab.io.formats import read_file
    from motionlab.recipes.retarget.root import g1_soles
    from motionlab.recipes.retarget.tool import read_human_file, window_starts
    from motionlab.robots.g1 import BEYONDMIMIC_KEYPOINT_BODIES, ISAAC_BODY_NAMES
    from motionlab.robots.g1_fk import g1_fk_motion

    clips = [c for c in clips if "human" in c.files and "robot" in c.files][: max_clips or None]
    if not clips:
        return {}
    humans = [read_human_file(c.files["human"]) for c in clips]
    results = rt.batch(humans, fps=rt.fps)
    plain = None
    if getattr(rt.cfg.infer, "contacts", False):  # the same clips without the planted-feet IK, for comparison
        rt.cfg.infer.contacts = False
        try:
            plain = rt.batch(humans, fps=rt.fps)
        finally:
            rt.cfg.infer.contacts = True
    kp = [ISAAC_BODY_NAMES.index(n) for n in BEYONDMIMIC_KEYPOINT_BODIES]
    rows: Dict[str, List[float]] = {}

    def add(k: str, v: float) -> None:
        rows.setdefault(k, []).append(float(v))

    for i, (c, (robot, report)) in enumerate(zip(clips, results)):
        _, gt = read_file(c.files["robot"])
        gt = gt.resample(rt.fps)
        T = min(gt.num_frames, robot.num_frames)
        if T < 4:
            continue
        gt = gt.slice(0, T)
        gp, _ = g1_fk_motion(gt, order="isaac")
        for suffix, (r, rep) in [("", (robot, report))] + ([("_no_contacts", plain[i])] if plain else []):
            pred = r.slice(0, T)
            add(f"joint_mae_rad{suffix}", joint_mae(pred.joint_pos, gt.joint_pos).overall)
            pp, _ = g1_fk_motion(pred, order="isaac")
            add(f"mpjpe_global_mm{suffix}", mpjpe(pp[:, kp], gp[:, kp]))
            add(f"mpjpe_root_relative_mm{suffix}", mpjpe(pp[:, kp], gp[:, kp], root=0))
            add(f"foot_skating_ratio{suffix}", rep["foot_skating_ratio"])
        add("output_limit_violation_frames", report["output_limit_violation_frames"])
        add("contact_frames", report["contact_frames"])
        add("limit_violation_frames", report["limit_violation_frames"])
        add("network_limit_violation_frames", report["network_limit_violation_frames"])
        add("limit_max_excess_rad", report["limit_max_excess_rad"])
        add("velocity_violation_steps", report["velocity_violation_steps"])
        add("velocity_max_excess_rad_s", report["velocity_max_excess_rad_s"])
        from motionlab.robots.g1_fk import g1_fk

        gpos, gquat = g1_fk(gt.root_pos, gt.root_quat, gt.joint_pos, order="isaac")
        soles = g1_soles(gpos, gquat)
        feet = soles.mean(axis=2)
        feet[..., 2] = soles[..., 2].min(axis=2) - soles[..., 2].min()
        add("foot_skating_ratio_gt", foot_skating_ratio(feet, rt.fps))
        seams = window_starts(T, rt.window, rt.overlap)[1:]
        if seams and min(seams) >= 2 and T - max(seams) >= 2:
            # a seam of the cross-fade is where a window's ramp starts, i.e. each later window's start
            add("seam_discontinuity_acc", seam_discontinuity(robot.joint_pos[:T], seams, rt.fps, order=2))
    out = {f"clip_{k}": float(np.mean(v)) for k, v in rows.items()} | {"clips": len(clips)}
    if "clip_foot_skating_ratio" in out and "clip_foot_skating_ratio_gt" in out:
        # the target: the robot's feet skate no more than the ground truth's (within 1 point)
        out["clip_foot_skating_gap"] = abs(out["clip_foot_skating_ratio"] - out["clip_foot_skating_ratio_gt"])
    return out


def plot_latents(ph: np.ndarray, pr: np.ndarray, labels: np.ndarray, styles: List[str], out_dir: Path,
                 max_points: int = 600) -> List[str]:
    """t-SNE of the pooled latents coloured by domain and by motion style (two PNG files)."""
    from motionlab.report.ablation_plots import plot_tsne

    step = max(1, len(ph) // max_points)
    ph, pr, labels = ph[::step], pr[::step], labels[::step]
    lat = np.concatenate([pr, ph])
    dom = np.repeat([0, 1], [len(pr), len(ph)])
    paths = [plot_tsne({"robot and human encoders": (lat, dom)}, out_dir / "tsne_domain.png",
                       label_names={0: "robot", 1: "human"},
                       title="t-SNE of pooled encoder latents, coloured by domain"),
             plot_tsne({"robot encoder": (pr, labels), "human encoder": (ph, labels),
                        "both": (lat, np.concatenate([labels, labels]))}, out_dir / "tsne_style.png",
                       label_names=dict(enumerate(styles)),
                       title="t-SNE of pooled encoder latents, coloured by motion style")]
    return [str(p) for p in paths]


def evaluate(run_dir, plots: bool = True, max_clips: Optional[int] = 32) -> Dict[str, Any]:
    """All metrics of a ``retarget`` run (see the module docstring); plots go to ``run_dir/plots``."""
    from motionlab.data.dataset import WindowData
    from motionlab.data.windows import assign_splits
    from motionlab.recipes.retarget.tool import Retargeter

    run_dir = Path(run_dir)
    rt = Retargeter(run_dir)
    data = WindowData(rt.cfg.data)
    split = "test" if len(data.arrays["test__label"]) else "val"
    metrics = window_metrics(rt, data, split)
    ph, pr, labels = metrics.pop("_latents")
    splits = assign_splits([c.id for c in data.clips], {c.id: c.split for c in data.clips if c.split},
                           seed=rt.cfg.data.split_seed)
    metrics.update(clip_metrics(rt, [c for c in data.clips if splits[c.id] == split], max_clips))
    if plots and len(ph) >= 4:
        try:
            metrics["plots"] = plot_latents(ph, pr, labels, data.styles, run_dir / "plots")
        except MotionLabError as e:
            metrics["plots_error"] = str(e)
    return metrics


def export_latents(run_dir, split: str = "test") -> Dict[str, Any]:
    """Pooled continuous latents of both encoders on the windows of ``split`` for a t-SNE coloured by
    domain: ``{"latents": (2N, D), "labels": (2N,) 0 = robot / 1 = human, "label_names": [...]}``
    (the hook :mod:`motionlab.train.ablation` calls)."""
    from motionlab.data.dataset import WindowData
    from motionlab.recipes.retarget.tool import Retargeter

    rt = Retargeter(run_dir)
    data = WindowData(rt.cfg.data)
    if not len(data.arrays[f"{split}__label"]):
        split = "val" if len(data.arrays["val__label"]) else "train"
    xh = rt.norm_h(np.asarray(data.arrays[f"{split}__{rt.human_key}"], np.float32)).astype(np.float32)
    xr = rt.norm_r(np.asarray(data.arrays[f"{split}__{rt.robot_key}"], np.float32)).astype(np.float32)
    out = _batched(rt.model, xh, xr)
    ph, pr = out["z_h"].mean(axis=1), out["z_r"].mean(axis=1)
    return {"latents": np.concatenate([pr, ph]).astype(np.float32),
            "labels": np.repeat(np.array([0, 1], np.int64), [len(pr), len(ph)]), "label_names": ["robot", "human"]}
