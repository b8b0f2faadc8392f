"""The text-to-motion part of ``motionlab demo``: a tiny t2m model and its evaluator, prompts rendered with
their captions, the measured speed and turn of each generated motion, and the metric table."""

from __future__ import annotations

from pathlib import Path
from typing import Dict, List, Sequence

import numpy as np

from motionlab.demo import DemoContext

PROMPTS = ("a person walks forward", "a person runs forward", "a person walks forward, then turns left",
           "a person walks forward, then turns right")
BASELINES = ("Baselines: *random training motion* is real motion that ignores the text (a training window drawn at "
             "random for each caption): its FID is the real-vs-real floor (training against held-out real motion at "
             "the same sample size; FID compares motion distributions and never reads the text), and it fails on "
             "R-precision; *fid_pooled* compares the motions of every replication together with the held-out set, "
             "which lowers that floor; *mean motion* is the training mean pose for every caption; "
             "*real held-out* is the evaluator's ceiling on retrieval.")
TABLE = ("fid", "fid_pooled", "r_precision_top1", "r_precision_top3", "mm_dist", "diversity", "fid_kinetic", "fid_geometric",
         "foot_skating", "bone_length_std_mm", "jerk")


STAND = "a person stands still, shifting their weight and breathing"
DEMO_T2M_STEPS = 500  # training steps of the demo's t2m model


def motion_summary(features: np.ndarray, fps: float) -> Dict[str, float]:
    """Mean ground speed of the pelvis (m/s) and heading change from start to end (deg, left positive) of
    raw 263-d features (:func:`motionlab.eval.metrics.t2m.speed_and_turn`): what a prompt about walking,
    running or turning should change."""
    from motionlab.eval.metrics import speed_and_turn
    from motionlab.recipes.t2m.tool import positions_zup

    speed, turn = speed_and_turn(positions_zup(features), fps)
    return {"speed_m_s": speed, "turn_deg": turn}


def prompt_check_lines(run: Path, prompts: Sequence[str], samples: int = 3, seed: int = 0) -> List[str]:
    """The prompt check as a markdown table: each prompt's generated speed and heading change next to the
    held-out real clips with that caption (:func:`motionlab.recipes.t2m.evaluate.prompt_check`)."""
    from motionlab.recipes.t2m.evaluate import prompt_check

    def cells(v: Sequence[float], fmt: str) -> str:
        return " / ".join(format(x, fmt) for x in v) if v else "-"

    rows = ["| prompt | speed (m/s) | heading change (deg) | real speed | real heading change | obeyed |",
            "|---|---|---|---|---|---|"]
    for r in prompt_check(run, prompts, samples=samples, seed=seed):
        ok = "-" if r["obeyed"] is None else f"{round(r['obeyed'] * samples)}/{samples}"
        rows.append(f"| {r['prompt']} | {cells(r['speed'], '.2f')} | {cells(r['turn'], '+.0f')} | "
                    f"{cells(r['real_speed'], '.2f')} | {cells(r['real_turn'], '+.0f')} | {ok} |")
    return ["Prompt check: %d samples of 6 s per prompt; real = the held-out clips with exactly that caption; "
            "obeyed = samples whose heading change is within 45 deg of the real clips' mean and whose speed is within "
            "max(0.3 m/s, 35%%) of theirs." % samples, "", *rows]


def section(ctx: DemoContext, t2m_steps: int = DEMO_T2M_STEPS, evaluator_steps: int = 300) -> List[str]:
    """Train both tiny runs, generate and render the prompts, evaluate.

    They train on the built-in *small* corpus (the tiny configs' default, written once into the cache): the
    demo's tiny corpus holds two turning clips, too few to learn left from right."""
    from motionlab.recipes.t2m.tool import generate, render_features
    from motionlab.recipes.t2m_evaluator.demo import similarity_lines, train_demo_evaluator
    from motionlab.train.engine import evaluate, train

    ev = train_demo_evaluator(ctx, evaluator_steps)
    run = Path(train("t2m", config_path=ctx.configs / "t2m" / "tiny.yaml",
                     overrides=[f"train.max_steps={t2m_steps}", "train.val_every=-1",
                               # at 500 steps the conditional heading turns too little: guide it like the rest
                               "diffusion.heading_guidance=-1"],
                     run_dir=ctx.out / "runs" / "t2m"))
    feats = generate(run, list(PROMPTS), 120, seed=ctx.seed)
    fps = 20.0
    render_features(list(feats), list(PROMPTS), ctx.media / "t2m.gif", fps)
    rows = []
    for p, f in zip(PROMPTS, feats):
        s = motion_summary(f, fps)
        rows.append(f"| {p} | {s['speed_m_s']:.2f} | {s['turn_deg']:+.0f} |")
    m = evaluate(run, evaluator=ev, replications=2)
    table = []
    for k in TABLE:
        cells = []
        for prefix in ("", "baseline_random_", "baseline_mean_", "real_"):
            v = m.get(prefix + k)
            ci = m.get(prefix + k + "_ci95")
            cells.append("-" if v is None else (f"{v:.3g} +- {ci:.2g}" if ci else f"{v:.3g}"))
        table.append(f"| {k} | " + " | ".join(cells) + " |")
    return ["## Text to motion (tiny diffusion model)", "",
            f"A transformer denoiser (x0 prediction, DDIM {m['sampler_steps']} steps, guidance {m['guidance']:g}) "
            f"trained for {t2m_steps} steps on the corpus captions; its contrastive evaluator for "
            f"{evaluator_steps}. Four prompts, 6 s each (left to right):", "",
            "![four prompts](media/t2m.gif)", "",
            "| prompt | pelvis speed (m/s) | heading change (deg, + = left) |", "|---|---|---|", *rows, "",
            *prompt_check_lines(run, (*PROMPTS, STAND), seed=ctx.seed), "",
            f"Held-out captions ({m['held_out_windows']} windows, R-precision in one batch of "
            f"{m['r_precision_batch']}: chance top-1 {m['r_precision_top1_chance']:.2f}, top-3 "
            f"{m['r_precision_top3_chance']:.2f}; seam ratio {m['seam_ratio']:.2f} with in-painting vs "
            f"{m['seam_ratio_no_inpaint']:.2f} without):", "",
            "| metric | t2m | random training motion | mean motion | real held-out |", "|---|---|---|---|---|",
            *table, "", BASELINES, "", *similarity_lines(ev, PROMPTS, feats)]
