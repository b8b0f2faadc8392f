"""Evaluation of a trained predictor run: free-run rollouts against the zero- and constant-velocity baselines.

:func:`evaluate` cuts the held-out split (``cfg.eval.split``) into windows of 2 seed frames + the longest
horizon (``eval.horizons_s``, default up to 2 s), rolls the model out with the true future controls
(desired velocity and yaw rate, as a game or robot controller would give them) and its own soft phase,
and reports, for the model (``free_*``), the teacher-forced one-step errors (``teacher_*``) and two
baselines that extrapolate the last seed frame:

* ``zero_velocity``: the pose is frozen and nothing moves (root velocity and yaw rate 0);
* ``constant_velocity``: every joint keeps turning at its last angular velocity and the root keeps its
  last heading-frame velocity and yaw rate.

Names: ``<who>_<metric>`` (mean over all rollout frames) and ``<who>_<metric>@<h>s`` at each horizon, with
``<metric>`` in GeoDeg, YawAbsDeg, RootVelMAE, FootContact; ``free_teacher_gap`` (free-run GeoDeg over the
validation horizon / teacher GeoDeg: the guide's check, < 2 is good); ``control_speed_error_rel`` and
``control_heading_error_deg`` (a free run commanded with a constant speed and turn rate against the
command; see :func:`control_following`). ``plots/horizon.png`` draws the curves.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Dict, Tuple

import numpy as np
import torch

from motionlab.core.rotations import axis_angle_to_matrix, matrix_to_axis_angle, matrix_to_rot6d
from motionlab.errors import MotionLabError
from motionlab.eval import metrics as M
from motionlab.recipes.predictor.measures import per_step_errors, rotations, summary

METRICS = ("GeoDeg", "YawAbsDeg", "RootVelMAE", "FootContact")
PREDICTOR_DIRECTIONS: Dict[str, str] = {f"{w}_{m}": "lower" for w in ("free", "teacher", "zero_velocity",
                                                                        "constant_velocity") for m in METRICS}
PREDICTOR_DIRECTIONS.update({"free_teacher_gap": "lower", "control_speed_error_rel": "lower",
                             "control_heading_error_deg": "lower"})


def zero_velocity(prev: np.ndarray, cur: np.ndarray, H: int) -> np.ndarray:
    """``(N, H, D)``: the seed frame repeated with root velocity and yaw rate set to 0."""
    out = np.repeat(cur[:, None], H, axis=1).copy()
    out[..., 1:4] = 0.0
    return out


def constant_velocity(prev: np.ndarray, cur: np.ndarray, H: int) -> np.ndarray:
    """``(N, H, D)``: rotations ``R_cur (R_prev^T R_cur)^k``, root velocity/yaw rate/height, contacts and
    phase held at the seed frame's."""
    Rp, Rc = rotations(prev), rotations(cur)
    w = matrix_to_axis_angle(np.swapaxes(Rp, -1, -2) @ Rc)  # (N, 22, 3) per-frame step
    out = np.repeat(cur[:, None], H, axis=1).copy()
    k = np.arange(1, H + 1, dtype=np.float64)[None, :, None, None]
    R = Rc[:, None] @ axis_angle_to_matrix(w[:, None] * k)
    out[..., 4:136] = matrix_to_rot6d(R).reshape(*out.shape[:2], 132)
    return out


def _windows(cfg, H: int, split: str) -> np.ndarray:
    from motionlab.data.dataset import WindowData

    data = WindowData(replace(cfg.data, window=H + 2, stride=cfg.eval.stride))
    x = np.asarray(data.arrays[f"{split}__character"], dtype=np.float64)
    if len(x) == 0:
        raise MotionLabError(f"no {split} windows of {H + 2} frames (clips too short or no {split} clips)",
                             place="eval.split")
    if cfg.eval.max_windows > 0:
        x = x[:cfg.eval.max_windows]
    return x


def model_rollout(model, raw: np.ndarray, H: int, control_frames: int) -> Tuple[np.ndarray, np.ndarray]:
    """Free run over windows ``raw (N, 2 + H, D)`` seeded with their first two frames, the true future
    controls and the model's own phase; and the teacher-forced one-step predictions. Raw in, raw out."""
    from motionlab.recipes.predictor.model import controls_from_states, rollout

    with torch.no_grad():
        x = model.normalize(torch.as_tensor(raw, dtype=torch.float32))
        c = controls_from_states(x, control_frames)
        free = rollout(model, x[:, 0], x[:, 1], c[:, 1:1 + H])["states"]
        teach = model(x[:, 1:-1], x[:, :-2], c[:, 1:-1])["next"]
        return model.denormalize(free).double().numpy(), model.denormalize(teach).double().numpy()


def control_following(model, seed: np.ndarray, speed: float, turn_deg_s: float, frames: int, fps: float,
                      settle: int = 15) -> Dict[str, float]:
    """Free run of ``frames`` frames from seed frames ``(N, 2, D)`` (raw) commanded with a constant forward
    speed (m/s) and turn rate (deg/s); after ``settle`` frames the planar root speed is compared with the
    command (``speed_error_rel``) and so is the heading against ``turn * t`` (``heading_error_deg``,
    relative to the heading at the end of the settling time)."""
    from motionlab.recipes.predictor.model import rollout

    with torch.no_grad():
        x = model.normalize(torch.as_tensor(seed, dtype=torch.float32))
        cmd = torch.tensor([speed, 0.0, np.radians(turn_deg_s)], dtype=torch.float32)
        c = model.control_from_raw(cmd.expand(len(seed), frames, 3), torch.zeros(len(seed), frames, 3))
        out = model.denormalize(rollout(model, x[:, 0], x[:, 1], c)["states"]).double().numpy()
    v = np.linalg.norm(out[:, settle:, 1:3], axis=-1)
    yaw = np.cumsum(out[:, settle:, 3], axis=1) / fps
    want = np.radians(turn_deg_s) * np.arange(1, yaw.shape[1] + 1) / fps
    return {"speed_error_rel": M.speed_following_error(v.mean(axis=1), np.full(len(v), speed)),
            "heading_error_deg": M.heading_following_error(yaw, np.broadcast_to(want, yaw.shape)),
            "speed_mean": float(v.mean())}


def evaluate(run_dir) -> Dict[str, float]:
    """Metrics of a trained run (module docstring); writes ``plots/horizon.png`` and ``horizon.json``."""
    from motionlab.train.engine import load_run

    run = load_run(run_dir, recipe="predictor")
    cfg, model = run.cfg, run.model
    fps = cfg.data.fps
    H = int(round(max(cfg.eval.horizons_s) * fps))
    raw = _windows(cfg, H, cfg.eval.split)
    free, teach = model_rollout(model, raw, H, cfg.model.control_frames)
    truth = raw[:, 2:2 + H]
    runs = {"free": free, "zero_velocity": zero_velocity(raw[:, 0], raw[:, 1], H),
            "constant_velocity": constant_velocity(raw[:, 0], raw[:, 1], H)}
    out: Dict[str, float] = {"windows": float(len(raw)), "horizon_frames": float(H)}
    curves: Dict[str, Dict[str, Dict[float, float]]] = {}
    for who, pred in runs.items():
        err = per_step_errors(pred, truth, fps, free=True)
        curves[who] = {}
        for m in METRICS:
            out[f"{who}_{m}"] = float(err[m].mean())
            curves[who][m] = M.horizon_curve(err[m], fps, cfg.eval.horizons_s)
            for h, v in curves[who][m].items():
                out[f"{who}_{m}@{h:g}s"] = v
    t = summary(teach, raw[:, 2:], fps, free=False)
    out.update({f"teacher_{k}": v for k, v in t.items()})
    hv = min(cfg.eval.val_horizon, H)
    out["free_GeoDeg_val_horizon"] = float(per_step_errors(free[:, :hv], truth[:, :hv], fps, True)["GeoDeg"].mean())
    out["free_teacher_gap"] = out["free_GeoDeg_val_horizon"] / max(out["teacher_GeoDeg"], 1e-9)
    moving = raw[np.linalg.norm(raw[:, 1, 1:3], axis=-1) > 0.5]
    if len(moving):
        ctrl = control_following(model, moving[:, :2], 1.2, 0.0, int(3 * fps), fps)
        out.update({f"control_{k}": v for k, v in ctrl.items()})
    write_horizon(Path(run_dir), curves, cfg.eval.horizons_s)
    return out


def write_horizon(run_dir: Path, curves, horizons) -> Path:
    """``horizon.json`` and ``plots/horizon.png``: error against horizon, the model next to the baselines."""
    import json

    import matplotlib

    matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt

    from motionlab.core.files import atomic_write_text

    atomic_write_text(run_dir / "horizon.json", json.dumps(
        {w: {m: {f"{h:g}": v for h, v in c.items()} for m, c in d.items()} for w, d in curves.items()}, indent=1))
    (run_dir / "plots").mkdir(parents=True, exist_ok=True)
    fig, axes = plt.subplots(1, 3, figsize=(12, 3.6), dpi=100)
    names = {"free": "model (free run)", "zero_velocity": "zero velocity", "constant_velocity": "constant velocity"}
    for ax, (m, unit) in zip(axes, (("GeoDeg", "deg"), ("YawAbsDeg", "deg"), ("RootVelMAE", "m/s"))):
        for who, style in (("free", "o-"), ("zero_velocity", "s--"), ("constant_velocity", "^:")):
            c = curves[who][m]
            ax.plot(list(c), list(c.values()), style, label=names[who])
        ax.set_xlabel("horizon (s)")
        ax.set_ylabel(f"{m} ({unit})")
        ax.set_title(m)
        ax.grid(alpha=0.3)
    axes[0].legend(fontsize=8)
    fig.tight_layout()
    out = run_dir / "plots" / "horizon.png"
    fig.savefig(out)
    plt.close(fig)
    return out
