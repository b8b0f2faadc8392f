"""The text-motion evaluator's part of ``motionlab demo``: its own report card (how well it matches real
held-out motion to its caption) and its ranking of generated motions against their prompts.

The ``t2m`` demo section trains the evaluator (its FID/R-precision need it) and shows :func:`similarity_lines`;
:func:`section`, the next demo section, reuses that run folder for the report card, so the evaluator is trained once."""

from __future__ import annotations

from pathlib import Path
from typing import List, Sequence

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


def card_lines(run_dir) -> List[str]:
    """Markdown: the evaluator's own report card, its held-out R-precision and MM-Dist on real motion next to
    chance and shuffled captions."""
    from motionlab.recipes.t2m_evaluator.evaluate import evaluate

    m = evaluate(run_dir)
    rows = [f"| R-precision top-{k} | {m[f'r_precision_top{k}']:.3f} | "
            f"{m[f'baseline_shuffled_r_precision_top{k}']:.3f} | {m[f'r_precision_top{k}_chance']:.3f} |"
            for k in (1, 2, 3)]
    rows.append(f"| MM-Dist | {m['mm_dist']:.3f} | {m['baseline_shuffled_mm_dist']:.3f} | - |")
    intro = (f"Real held-out motion ({m['held_out_windows']} windows of the {m['split']} split, "
             f"{m['distinct_captions']} distinct captions, one batch of {m['r_precision_batch']}) against its true "
             "caption and against a shuffled one:")
    return [intro, "", "| evaluator | true captions | shuffled captions | chance |", "|---|---|---|---|", *rows, ""]


def similarity_lines(run_dir, prompts: Sequence[str], generated: Sequence[np.ndarray]) -> List[str]:
    """Markdown: the cosine similarity of every generated motion (raw features) to every prompt in the
    evaluator's space."""
    from motionlab.recipes.t2m_evaluator.tool import similarity

    sim = similarity(run_dir, list(prompts), list(generated))
    return [("Cosine similarity of each generated motion (rows) to each prompt (columns) in the evaluator's "
             "space (the diagonal should be the largest of its row):"), "",
            "| motion \\ prompt | " + " | ".join(f"{i + 1}" for i in range(len(prompts))) + " |",
            "|---|" + "---|" * len(prompts),
            *(f"| {i + 1}. {p} | " + " | ".join(f"{v:+.2f}" for v in row) + " |"
              for i, (p, row) in enumerate(zip(prompts, sim))), ""]


def section(ctx: DemoContext) -> List[str]:
    """The report card of the demo's evaluator (trained here only if the t2m section has not)."""
    run = train_demo_evaluator(ctx, reuse=True)
    return ["## Text-motion evaluator (`t2m_evaluator`, tiny)", "",
            "The contrastive text and motion encoders behind the t2m section's FID and R-precision, trained on the "
            f"same training split (`motionlab train t2m_evaluator`, run folder `{run.relative_to(ctx.out)}`). "
            "Its own report card:", "", *card_lines(run)]
