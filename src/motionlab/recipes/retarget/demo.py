"""The retargeter's part of ``motionlab demo``."""

from __future__ import annotations

from pathlib import Path
from typing import List

from motionlab.demo import DemoContext, pick_clip


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
    keys = [k for k in ("cross_joint_mae_rad", "joint_mae_rad", "mpjpe_keypoints_mm", "limit_violation_frames",
                        "domain_overlap", "baseline_mean_pose_joint_mae_rad", "baseline_nearest_neighbour_joint_mae_rad")
            if k in metrics]
    rows = "\n".join(f"| {k} | {metrics[k]:.4g} |" for k in keys) if keys else \
        "\n".join(f"| {k} | {v:.4g} |" for k, v in list(metrics.items())[:12] if isinstance(v, (int, float)))
    return ["## Learned retargeting to the Unitree G1 (tiny)", "",
            f"A held-out BVH (`{test['files']['bvh']}`) retargeted by a model trained for a minute on the corpus "
            "pairs, exported as a BeyondMimic npz at 50 fps:", "",
            "![human and G1](media/retarget.gif)", "", "| metric (held-out clips) | value |", "|---|---|", rows, "",
            f"```\n{report}\n```", ""]
