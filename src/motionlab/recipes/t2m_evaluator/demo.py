"""The text-motion evaluator's part of ``motionlab demo``: its own report card (how well it matches real
held-out motion to its caption) and its ranking of generated motions against their prompts.

The ``t2m`` demo section trains the evaluator and calls :func:`report_lines`; :func:`section` reuses that run
folder when it exists, so the evaluator is trained once."""

from __future__ import annotations

from pathlib import Path
from typing import List, Optional, Sequence

import numpy as np

from motionlab.demo import DemoContext

#: steps of the demo's evaluator run (the tiny config has 500; at 300 its report card stays far above chance)
DEMO_STEPS = 300


def train_demo_evaluator(ctx: DemoContext, steps: int = DEMO_STEPS, reuse: bool = False) -> Path:
    """The demo's evaluator run folder (``runs/t2m_evaluator``), trained on the tiny config; ``reuse``: keep a
    run that already has a checkpoint there (the one the ``t2m`` section trained)."""
    from motionlab.train.engine import train

    run = ctx.out / "runs" / "t2m_evaluator"
    if reuse and (run / "checkpoints" / "last.ckpt").is_file():
        return run
    return Path(train("t2m_evaluator", config_path=ctx.configs / "t2m_evaluator" / "tiny.yaml",
                      overrides=[f"train.max_steps={steps}", "train.val_every=-1"], run_dir=run))


def report_lines(run_dir, prompts: Optional[Sequence[str]] = None,
                 generated: Optional[Sequence[np.ndarray]] = None) -> List[str]:
    """Markdown: the evaluator's held-out R-precision and MM-Dist next to chance and shuffled captions; with
    ``prompts`` and their ``generated`` raw features, the cosine similarity of every motion to every prompt."""
    from motionlab.recipes.t2m_evaluator.evaluate import evaluate

    m = evaluate(run_dir)
    rows = [f"| R-precision top-{k} | {m[f'r_precision_top{k}']:.3f} | "
            f"{m[f'baseline_shuffled_r_precision_top{k}']:.3f} | {m[f'r_precision_top{k}_chance']:.3f} |"
            for k in (1, 2, 3)]
    rows.append(f"| MM-Dist | {m['mm_dist']:.3f} | {m['baseline_shuffled_mm_dist']:.3f} | - |")
    intro = (f"The evaluator's own report card: real held-out motion ({m['held_out_windows']} windows of the "
             f"{m['split']} split, {m['distinct_captions']} distinct captions, one batch of {m['r_precision_batch']}) "
             "against its true caption and against a shuffled one:")
    out = [intro, "",
           "| evaluator | true captions | shuffled captions | chance |", "|---|---|---|---|", *rows, ""]
    if prompts is not None and generated is not None:
        from motionlab.recipes.t2m_evaluator.tool import similarity

        sim = similarity(run_dir, list(prompts), list(generated))
        out += [("Cosine similarity of each generated motion (rows) to each prompt (columns) in the evaluator's "
                 "space (the diagonal should be the largest of its row):"), "",
                "| motion \\ prompt | " + " | ".join(f"{i + 1}" for i in range(len(prompts))) + " |",
                "|---|" + "---|" * len(prompts),
                *(f"| {i + 1}. {p} | " + " | ".join(f"{v:+.2f}" for v in row) + " |"
                  for i, (p, row) in enumerate(zip(prompts, sim))), ""]
    return out


def section(ctx: DemoContext) -> List[str]:
    """The report card of the demo's evaluator (trained here only if the t2m section has not)."""
    return ["## Text-motion evaluator", "", *report_lines(train_demo_evaluator(ctx, reuse=True))]
