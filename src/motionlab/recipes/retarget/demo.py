"""The retargeter's part of ``motionlab demo``."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Dict, List, Optional

from motionlab.demo import DemoContext, pick_clip


def _fmt(metrics: Dict[str, Any], key: Optional[str], percent: bool = False) -> str:
    v = metrics.get(key) if key else None
    if not isinstance(v, (int, float)):
        return "-"
    return f"{100 * v:.1f}%" if percent else f"{v:.4g}"


def metric_rows(metrics: Dict[str, Any]) -> List[str]:
    """Markdown rows of the retargeting table: the learned model next to both baselines (and the
    ground truth where it has a value of its own), from :func:`~.evaluate.evaluate`'s metrics."""
    table = [
        ("joint MAE, windows (rad)", "cross_joint_mae_rad", "baseline_mean_pose_joint_mae_rad",
         "baseline_nearest_neighbour_joint_mae_rad", None, False),
        ("keypoint MPJPE, windows (mm)", "cross_mpjpe_mm", "baseline_mean_pose_mpjpe_mm",
         "baseline_nearest_neighbour_mpjpe_mm", None, False),
        ("joint MAE, whole clips (rad)", "clip_joint_mae_rad", None, None, None, False),
        ("frames outside the G1 limits before clamping", "clip_limit_violation_frames", None, None, None, True),
        ("... of the network's raw output", "clip_network_limit_violation_frames", None, None, None, True),
        ("robot foot skating", "clip_foot_skating_ratio", None, None, "clip_foot_skating_ratio_gt", True),
        ("... without the planted-feet leg IK", "clip_foot_skating_ratio_no_contacts", None, None, None, True),
        ("keypoint MPJPE, whole clips, global (mm)", "clip_mpjpe_global_mm", None, None, None, False),
    ]
    return [f"| {name} | {_fmt(metrics, a, p)} | {_fmt(metrics, b, p)} | {_fmt(metrics, c, p)} | {_fmt(metrics, g, p)} |"
            for name, a, b, c, g, p in table]


def section(ctx: DemoContext) -> List[str]:
    """A tiny learned retargeter, applied to a held-out BVH, with a side-by-side video."""
    corpus, clips, out = ctx.corpus, ctx.clips, ctx.out
    from motionlab.recipes.retarget.tool import retarget_file
    from motionlab.train.engine import evaluate, train

    run = Path(train("retarget", config_path=ctx.configs / "retarget" / "tiny.yaml",
                     overrides=[f"data.root={corpus}"], run_dir=out / "runs" / "retarget"))
    metrics = evaluate(run)
    test = pick_clip(clips, "locomotion", "walk", split="test") or pick_clip(clips, "locomotion", split="test") \
        or pick_clip(clips, "locomotion")
    media = out / "media"
    report = retarget_file(corpus / test["files"]["bvh"], run_dir=run, output=media / "retargeted.npz",
                           format="beyondmimic", render=media / "retarget.gif")
    rows = "\n".join(metric_rows(metrics))
    return ["## Learned retargeting to the Unitree G1 (tiny)", "",
            f"A held-out BVH (`{test['files']['bvh']}`) retargeted by a model trained for a minute on the corpus "
            "pairs, exported as a BeyondMimic npz at 50 fps:", "",
            "![human and G1](media/retarget.gif)", "",
            "| metric (held-out) | learned | mean pose | nearest neighbour | ground truth |", "|---|---|---|---|---|",
            rows, "",
            f"```\n{report}\n```", ""]
