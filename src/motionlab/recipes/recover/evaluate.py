"""``evaluate(run_dir)``: every recovery metric of a trained run on the held-out clips of both domains.

For each domain (``source`` = the corpus's clean synthetic tracks, ``target`` = its real-like tracks,
whose 3D is read here for evaluation only) the test clips' whole tracks go through the lifter; the
numbers are frame-weighted means over tracks, named ``<metric>_<domain>``:

* ``mpjpe`` (mm, hip-centre aligned, camera frame; after the camera tilt refitted to the 2D when
  ``infer.view_fit_deg > 0``, ``mpjpe_lifter`` without it), ``pa_mpjpe`` (mm, per-frame similarity alignment),
  ``accel_error`` (m/s^2, hip-centre aligned);
* world frame: ``wa_mpjpe100`` and ``w_mpjpe100`` (mm, per 100-frame chunk), ``rte`` (% of path length),
  ``jitter`` (m/s^3, of the recovered world joints; ``gt_jitter_<domain>`` is the truth's), ``foot_sliding``
  (mm per frame: horizontal motion of the predicted ankles and feet on frames where the truth's are in
  contact).

With a ``checkpoints/source_only.ckpt`` (the weights when adaptation began) the same numbers of that
model come as ``source_only/<name>``, and ``target_gain_pct`` / ``source_change_pct`` compare the two
(MPJPE). ``baseline_mpjpe_<domain>`` is the mean training pose, a floor every model must beat.
"""

from __future__ import annotations

from pathlib import Path
from typing import Dict, List

import numpy as np
import torch

from motionlab.recipes.recover import geometry as G
from motionlab.recipes.recover.data import Track

DOMAIN_NAMES = {"synthetic": "source", "real": "target"}


def predict(lifter, track: Track, view_fit_deg: float = 0.0, window: int = 64,
            domain: str = "target") -> Dict[str, np.ndarray]:
    """Run ``lifter`` on a whole track: ``cam (T, 22, 3)`` camera-frame joints, ``rel``, ``world``
    ``(T, 22, 3)`` gravity-aligned world joints and ``root (T, 3)``. With ``view_fit_deg > 0`` the
    camera-frame joints are turned by the camera tilt refitted to the track's 2D on windows of
    ``window`` frames (:func:`~motionlab.recipes.recover.adapt.refit_track_view`; no labels);
    ``cam_lifter`` keeps the lifter's own. ``domain`` picks the lifter's input stage when it has one per
    domain (``model.domain_inputs``)."""
    from motionlab.recipes.recover.adapt import refit_track_view

    with torch.no_grad():
        feat = torch.from_numpy(track.feat)[None]
        box = torch.from_numpy(track.box)[None]
        out = lifter(feat, box, domain=domain)
        parts = G.split(out)
        cam_lifter = G.camera_joints(parts, box)
        if view_fit_deg > 0:
            parts = dict(parts, rel=refit_track_view(out, feat, box, view_fit_deg, window))
        cam = G.camera_joints(parts, box)
        world, root = G.world_joints(parts)
    return {"cam": cam[0].double().numpy(), "rel": parts["rel"][0].double().numpy(),
            "cam_lifter": cam_lifter[0].double().numpy(),
            "world": world[0].double().numpy(), "root": root[0].double().numpy(), "out": out[0].numpy()}


def track_metrics(pred: Dict[str, np.ndarray], track: Track) -> Dict[str, float]:
    """Every metric of one labelled track (see the module docstring)."""
    from motionlab.eval.metrics import accel_error, jitter, mpjpe, pa_mpjpe, rte, w_mpjpe, wa_mpjpe
    from motionlab.eval.metrics.recovery import contact_foot_sliding

    cam_gt = np.einsum("tij,tnj->tni", track.R, track.world - track.C[:, None])
    out = {"mpjpe": mpjpe(pred["cam"], cam_gt, root=G.HIPS), "pa_mpjpe": pa_mpjpe(pred["cam"], cam_gt),
           "mpjpe_lifter": mpjpe(pred.get("cam_lifter", pred["cam"]), cam_gt, root=G.HIPS),
           "accel_error": accel_error(pred["cam"], cam_gt, track.fps, root=G.HIPS),
           "wa_mpjpe100": wa_mpjpe(pred["world"], track.world), "w_mpjpe100": w_mpjpe(pred["world"], track.world),
           "jitter": jitter(pred["world"], track.fps), "gt_jitter": jitter(track.world, track.fps),
           "foot_sliding": contact_foot_sliding(pred["world"][:, FEET], track.world[:, FEET], track.fps)}
    path = np.linalg.norm(np.diff(track.world[:, 0], axis=0), axis=-1).sum()
    out["rte"] = rte(pred["root"], track.world[:, 0]) if path > 0.05 else float("nan")
    return out


FEET = [G.SMPL22_NAMES.index(n) for n in ("left_ankle", "right_ankle", "left_foot", "right_foot")]


def domain_metrics(lifter, tracks: List[Track], view_fit_deg: float = 0.0, window: int = 64,
                   domain: str = "target") -> Dict[str, float]:
    """Frame-weighted means of :func:`track_metrics` over ``tracks`` (NaN entries skipped)."""
    sums: Dict[str, float] = {}
    weights: Dict[str, float] = {}
    for t in tracks:
        for k, v in track_metrics(predict(lifter, t, view_fit_deg, window, domain), t).items():
            if np.isfinite(v):
                sums[k] = sums.get(k, 0.0) + v * t.num_frames
                weights[k] = weights.get(k, 0.0) + t.num_frames
    return {k: sums[k] / weights[k] for k in sums}


def mean_pose_mpjpe(train_tracks: List[Track], tracks: List[Track]) -> float:
    """MPJPE (mm) of always answering the mean training pose (camera frame, hip-centred)."""
    from motionlab.eval.metrics import mpjpe

    mean = np.concatenate([t.target[:, : G.J * 3] for t in train_tracks]).mean(0).reshape(G.J, 3)
    errs, n = 0.0, 0
    for t in tracks:
        cam_gt = np.einsum("tij,tnj->tni", t.R, t.world - t.C[:, None])
        errs += mpjpe(np.broadcast_to(mean, cam_gt.shape), cam_gt, root=G.HIPS) * t.num_frames
        n += t.num_frames
    return errs / n


def evaluate(run_dir, split: str = "test") -> Dict[str, float]:
    """Metrics of the run in ``run_dir`` on ``split`` (see the module docstring)."""
    from motionlab.recipes.recover.data import corpus_tracks
    from motionlab.recipes.recover.lightning import SOURCE_ONLY_CKPT
    from motionlab.train.engine import load_run

    run_dir = Path(run_dir)
    run = load_run(run_dir)
    cfg = run.cfg
    tracks = corpus_tracks(cfg, (split,), ("synthetic", "real"), labelled_real=True)
    by_domain = {d: [t for t in tracks if t.domain == d] for d in DOMAIN_NAMES}
    models = {"": run.model}
    so = run_dir / "checkpoints" / SOURCE_ONLY_CKPT
    if so.is_file():
        models["source_only/"] = load_run(run_dir, checkpoint=so).model
    metrics: Dict[str, float] = {"step": float(run.step)}
    for prefix, lifter in models.items():
        lifter.eval()
        for dom, name in DOMAIN_NAMES.items():
            for k, v in domain_metrics(lifter, by_domain[dom], cfg.infer.view_fit_deg, cfg.data.window, name).items():
                metrics[f"{prefix}{k}_{name}"] = float(v)
    if "source_only/" in models:
        so_t, so_s = metrics["source_only/mpjpe_target"], metrics["source_only/mpjpe_source"]
        metrics["target_gain_pct"] = 100.0 * (so_t - metrics["mpjpe_target"]) / so_t
        metrics["source_change_pct"] = 100.0 * (metrics["mpjpe_source"] - so_s) / so_s
    train = [t for t in corpus_tracks(cfg, ("train",), ("synthetic",))]
    for dom, name in DOMAIN_NAMES.items():
        metrics[f"baseline_mpjpe_{name}"] = float(mean_pose_mpjpe(train, by_domain[dom]))
    metrics["test_frames"] = float(sum(t.num_frames for t in by_domain["real"]))
    return metrics
