"""Dataset analysis: what a folder of motion holds (``motionlab data profile``).

Counts clips and frames, durations and frame rates, the distribution of root speed and heading
rate, and the clips per style, kind and split: the numbers to look at before training.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Dict, List

import numpy as np

from motionlab.data.features import heading_yaw
from motionlab.data.sources import scan_folder
from motionlab.errors import MotionLabError


def _stats(x: np.ndarray) -> Dict[str, float]:
    if x.size == 0:
        return {}
    return {"mean": float(x.mean()), "p50": float(np.percentile(x, 50)), "p95": float(np.percentile(x, 95)),
            "max": float(x.max()), "std": float(x.std())}


def _root_track(obj):
    """Root positions (T, 3) and rotation matrices (T, 3, 3) of a human or robot clip."""
    from motionlab.core.rotations import quat_to_matrix

    if hasattr(obj, "local_quat"):
        return obj.root_pos, quat_to_matrix(obj.local_quat[:, 0])
    return np.asarray(obj.root_pos), quat_to_matrix(np.asarray(obj.root_quat, dtype=np.float64))


def profile_dataset(root) -> Dict:
    """A JSON-friendly profile of every human/robot clip in ``root`` (a corpus or any folder)."""
    from motionlab.io.formats import read_file

    clips = scan_folder(root)
    speeds: List[np.ndarray] = []
    yaw_rates: List[np.ndarray] = []
    frames, durations, fps_seen = [], [], Counter()
    kinds, styles, splits, formats = Counter(), Counter(), Counter(), Counter()
    motion_clips = 0
    for clip in clips:
        kind = "human" if "human" in clip.files else ("robot" if "robot" in clip.files else None)
        kinds[clip.meta.get("kind", kind or "other")] += 1
        styles[clip.style] += 1
        splits[clip.split or "unassigned"] += 1
        if kind is None:
            continue
        name, obj = read_file(clip.files[kind])
        formats[name] += 1
        motion_clips += 1
        T = len(obj.root_pos)
        frames.append(T)
        durations.append((T - 1) / obj.fps)
        fps_seen[float(obj.fps)] += 1
        pos, rot = _root_track(obj)
        if T > 1:
            speeds.append(np.linalg.norm(np.diff(pos[:, :2], axis=0), axis=-1) * obj.fps)
            yaw_rates.append(np.abs(np.diff(np.unwrap(heading_yaw(rot)))) * obj.fps)
    if motion_clips == 0:
        raise MotionLabError("no human or robot motion clips to profile", file=root)
    sp = np.concatenate(speeds) if speeds else np.zeros(0)
    yr = np.degrees(np.concatenate(yaw_rates)) if yaw_rates else np.zeros(0)
    return {
        "root": str(root),
        "clips": len(clips),
        "motion_clips": motion_clips,
        "frames": int(sum(frames)),
        "duration_s": {"total": float(sum(durations)), **_stats(np.array(durations))},
        "fps": {str(k): v for k, v in sorted(fps_seen.items())},
        "root_speed_mps": _stats(sp),
        "yaw_rate_degps": _stats(yr),
        "moving_fraction": float((sp > 0.2).mean()) if sp.size else 0.0,
        "kinds": dict(sorted(kinds.items())),
        "styles": dict(sorted(styles.items())),
        "splits": dict(sorted(splits.items())),
        "formats": dict(sorted(formats.items())),
    }


def format_profile(p: Dict) -> str:
    lines = [f"{p['root']}: {p['clips']} clips ({p['motion_clips']} with motion), {p['frames']} frames, "
             f"{p['duration_s']['total']:.1f} s"]
    d = p["duration_s"]
    lines.append(f"  clip duration  mean {d['mean']:.2f} s  p50 {d['p50']:.2f}  p95 {d['p95']:.2f}  max {d['max']:.2f}")
    lines.append(f"  fps            {p['fps']}")
    for key, label in (("root_speed_mps", "root speed m/s"), ("yaw_rate_degps", "yaw rate deg/s")):
        s = p[key]
        if s:
            lines.append(f"  {label:<14} mean {s['mean']:.2f}  p50 {s['p50']:.2f}  p95 {s['p95']:.2f}  max {s['max']:.2f}")
    lines.append(f"  moving (>0.2 m/s) {100 * p['moving_fraction']:.0f}% of frames")
    for key in ("kinds", "styles", "splits", "formats"):
        lines.append(f"  {key:<14} " + ", ".join(f"{k}: {v}" for k, v in p[key].items()))
    return "\n".join(lines)


# --- the training guide's statistics and size-dependent defaults ----------------------------------

#: (upper frame count, name, settings) of the guide's small / medium / large data defaults
SIZE_DEFAULTS = (
    (1000, "small", {"train.lr": 1e-4, "data.batch_size": 4, "data.window": 40, "model.dropout": 0.3,
                     "train.weight_decay": 1e-4}),
    (10000, "medium", {"train.lr": 3e-4, "data.batch_size": 8, "data.window": 60, "model.dropout": 0.1,
                       "train.weight_decay": 1e-5}),
    (None, "large", {"train.lr": 5e-4, "data.batch_size": 16, "data.window": 120, "model.dropout": 0.05,
                     "train.weight_decay": 0.0}),
)


def guide_statistics(prof: Dict) -> Dict:
    """The training guide's dataset statistics from a :func:`profile_dataset` result.

    ``n_clips`` (clips with motion), ``total_frames``, ``avg_seq_len`` (frames per clip), ``yaw_mean_deg``
    (mean absolute heading rate, deg/s), ``speed_mean`` (mean planar root speed, m/s) and ``complexity`` in
    [0, 1]: half the style entropy (over ln 6, the corpus's six locomotion styles), a quarter the 95th
    percentile heading rate over 90 deg/s and a quarter the speed spread over 1 m/s (each capped at 1).
    """
    n = int(prof["motion_clips"])
    frames = int(prof["frames"])
    styles = np.array(list(prof["styles"].values()), dtype=np.float64)
    p = styles / styles.sum() if styles.sum() else np.ones(1)
    entropy = float(-(p * np.log(np.maximum(p, 1e-12))).sum())
    yaw, speed = prof.get("yaw_rate_degps") or {}, prof.get("root_speed_mps") or {}
    complexity = (0.5 * min(1.0, entropy / np.log(6)) + 0.25 * min(1.0, yaw.get("p95", 0.0) / 90.0)
                  + 0.25 * min(1.0, speed.get("std", 0.0) / 1.0))
    return {"n_clips": n, "total_frames": frames, "avg_seq_len": frames / max(n, 1),
            "yaw_mean_deg": float(yaw.get("mean", 0.0)), "speed_mean": float(speed.get("mean", 0.0)),
            "complexity": round(float(complexity), 4)}


def size_defaults(total_frames: int):
    """``(size name, settings, reason)`` of the guide's defaults for a dataset of ``total_frames`` frames."""
    lower = 0
    for limit, name, settings in SIZE_DEFAULTS:
        if limit is None or total_frames < limit:
            span = f">= {lower}" if limit is None else f"{lower}-{limit - 1}"
            return name, dict(settings), f"{total_frames} frames: {name} data ({span} frames)"
        lower = limit
    raise AssertionError("unreachable")


def write_profile_config(root, output, base=None, recipe: str = "predictor") -> List[str]:
    """Profile ``root`` and write a ``recipe`` config to ``output``: ``base`` (default: ``output`` when it
    exists, else the recipe's packaged default) with the guide's statistics in ``profile``, ``data.root``
    and the size-dependent defaults. Returns the printed lines (what was chosen and why)."""
    from motionlab.config import load_config, save_config
    from motionlab.recipes.registry import get_recipe
    from motionlab.train.tune import set_path

    rec = get_recipe(recipe)
    out = Path(output)
    base = base or (out if out.is_file() else rec.default_config_path())
    cfg = load_config(rec.config_cls, base)
    prof = profile_dataset(root)
    stats = guide_statistics(prof)
    size, settings, why = size_defaults(stats["total_frames"])
    lines = [f"profile of {root}: " + ", ".join(f"{k} {v:.4g}" if isinstance(v, float) else f"{k} {v}"
                                               for k, v in stats.items())]
    if hasattr(cfg, "profile"):
        for k, v in {**stats, "size": size}.items():
            cfg = set_path(cfg, f"profile.{k}", v)
    cfg = set_path(cfg, "data.root", str(Path(root).resolve()))
    for key, value in settings.items():
        try:
            cfg = set_path(cfg, key, value)
        except MotionLabError:
            continue  # a recipe without this setting
        lines.append(f"  {key} = {value}   ({why}: the guide's {size}-data default)")
    save_config(cfg, out.parent if str(out.parent) else ".", name=out.name)
    lines.append(f"wrote {out} (base: {base})")
    return lines
