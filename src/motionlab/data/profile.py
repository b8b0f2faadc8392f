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
            "max": float(x.max())}


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
