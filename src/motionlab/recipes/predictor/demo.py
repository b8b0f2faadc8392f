"""The character-motion predictor's part of ``motionlab demo``: a tiny staged run, its free-run error over the
horizon next to the zero- and constant-velocity baselines, and a commanded free-run rollout video."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import List

from motionlab.demo import DemoContext, pick_clip


def section(ctx: DemoContext) -> List[str]:
    from motionlab.recipes.predictor.tool import predict_motion
    from motionlab.train.engine import evaluate, train

    run = Path(train("predictor", config_path=ctx.configs / "predictor" / "tiny.yaml",
                     overrides=[f"data.root={ctx.corpus}"], run_dir=ctx.out / "runs" / "predictor"))
    m = evaluate(run)
    media = ctx.media
    shutil.copyfile(run / "plots" / "horizon.png", media / "predictor_horizon.png")
    seed = pick_clip(ctx.clips, "locomotion", "walk", split="test") or pick_clip(ctx.clips, "locomotion", "walk")
    pred = predict_motion(run, seed_clip=ctx.corpus / seed["files"]["bvh"], frames=150,
                          control="speed=1.3,turn=25", output=media / "predicted.bvh",
                          render=media / "predictor_freerun.gif")
    rows = []
    for metric, unit in (("GeoDeg", "deg"), ("YawAbsDeg", "deg"), ("RootVelMAE", "m/s")):
        for h in (0.5, 1.0, 2.0):
            rows.append(f"| {metric} @ {h:g} s ({unit}) | {m[f'free_{metric}@{h:g}s']:.3g} | "
                        f"{m[f'zero_velocity_{metric}@{h:g}s']:.3g} | {m[f'constant_velocity_{metric}@{h:g}s']:.3g} |")
    return ["## Character motion prediction (tiny)", "",
            "An MLP stepper with FiLM controls trained in three stages (teacher forcing -> mixed -> free run) on "
            "the corpus locomotion; held-out free runs seeded with two true frames and the true future speed and "
            "turn commands:", "",
            "| held-out free run | model | zero velocity | constant velocity |", "|---|---|---|---|", *rows, "",
            f"Teacher-forced GeoDeg {m['teacher_GeoDeg']:.3g} deg; free-run / teacher gap {m['free_teacher_gap']:.2f}x; "
            f"commanded 1.2 m/s followed within {100 * m.get('control_speed_error_rel', float('nan')):.1f}%.", "",
            "![error over the horizon](media/predictor_horizon.png)", "",
            f"A free run continuing `{seed['files']['bvh']}` for 5 s, commanded 1.3 m/s and 25 deg/s "
            "(the thin line joins the pelvis to the commanded path):", "",
            "![free run](media/predictor_freerun.gif)", "", f"```\n{pred}\n```", ""]


def pretrain_section(ctx: DemoContext) -> List[str]:
    """A brief encoder pre-training (``predictor_pretrain``) and a predictor that loads its ``encoder.pt`` by path."""
    import torch

    from motionlab.config import load_config
    from motionlab.recipes.predictor.config import PredictorConfig
    from motionlab.recipes.predictor.lightning import PredictorModule
    from motionlab.train.engine import evaluate, train

    run = Path(train("predictor_pretrain", config_path=ctx.configs / "predictor_pretrain" / "tiny.yaml",
                     overrides=[f"data.root={ctx.corpus}", "train.max_steps=60"],
                     run_dir=ctx.out / "runs" / "predictor_pretrain"))
    m = evaluate(run)
    enc = run / "encoder.pt"
    cfg = load_config(PredictorConfig, ctx.configs / "predictor" / "tiny.yaml", [f"model.pretrained_encoder={enc}"])
    loaded = PredictorModule(cfg).model.encoder.state_dict()
    saved = torch.load(enc, map_location="cpu", weights_only=True)["encoder"]
    same = all(torch.equal(v, saved[k]) for k, v in loaded.items())
    return ["## Encoder pre-training for the predictor (`predictor_pretrain`, tiny)", "",
            "The predictor's motion encoder trained alone for 60 steps (two linear probes on its latent reconstruct "
            "the current frame and predict the next); held-out normalised MSE:", "",
            "| probe | encoder | repeat the frame |", "|---|---|---|",
            f"| reconstruct the current frame | {m['recon_mse']:.3g} | 0 |",
            f"| predict the next frame | {m['ahead_mse']:.3g} | {m['baseline_repeat_ahead_mse']:.3g} |", "",
            "(60 steps show the workflow, not a converged encoder: its probes are still behind repeating the frame.)",
            "",
            f"`model.pretrained_encoder={enc.relative_to(ctx.out)}` loads it into the tiny predictor "
            f"({'every encoder weight matches' if same else 'weights differ'}).", ""]
