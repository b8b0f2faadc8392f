"""The tokenizer's part of ``motionlab demo``."""

from __future__ import annotations

from pathlib import Path
from typing import List

from motionlab.demo import DemoContext


def section(ctx: DemoContext) -> List[str]:
    """The tiny tokenizer ablation (6 variants x 2 seeds) with its table and plots."""
    out = ctx.out
    from motionlab.train.ablation import run_ablation

    cfg = ctx.configs / "ablation" / "tokenizer_tiny.yaml"
    # the tiny config's own corpus (tiny scale, seed 1), not the demo's: its training split holds
    # every locomotion style of its test split (see configs/tokenizer/tiny.yaml)
    abl = Path(run_ablation(cfg, seeds=2, out_dir=out / "ablation_tokenizer"))
    table = (abl / "table.md").read_text()
    plots = sorted(p.relative_to(out).as_posix() for p in (abl / "plots").glob("*.png"))
    md = ["## Tokenizer ablation (tiny: 6 variants x 2 seeds)", "",
          "The 29 G1 joint angles of the tiny synthetic corpus (seed 1), 32-frame windows, 200 steps per run. "
          "Held-out (test split) metrics, mean +- std over seeds (best in bold); Train DCR is the dead-code "
          "ratio over the training windows. `motionlab ablate src/motionlab/configs/ablation/tokenizer_small.yaml "
          "--seeds 1 --out DIR data.root=G1_CSV_FOLDER` runs the six variants on a folder of ~40 real G1 clips "
          "in about 20-25 minutes on 2 cores; `tokenizer.yaml` is the study-scale version.", "",
          table, ""]
    md += [f"![{Path(p).stem}]({p})" for p in plots]
    return md + [""]
