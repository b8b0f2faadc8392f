"""The tokenizer's part of ``motionlab demo``."""

from __future__ import annotations

from pathlib import Path
from typing import List

from motionlab.demo import DemoContext


def section(ctx: DemoContext) -> List[str]:
    """The tiny tokenizer ablation (6 variants x 2 seeds) with its table and plots."""
    corpus, out = ctx.corpus, ctx.out
    from motionlab.train.ablation import run_ablation

    cfg = ctx.configs / "ablation" / "tokenizer_tiny.yaml"
    abl = run_ablation(cfg, seeds=2, out_dir=out / "ablation_tokenizer", overrides=[f"data.root={corpus}"])
    abl = Path(abl)
    table = (abl / "table.md").read_text()
    plots = sorted(p.relative_to(out).as_posix() for p in (abl / "plots").glob("*.png"))
    md = ["## Tokenizer ablation (tiny: 6 variants x 2 seeds)", "",
          "Held-out metrics, mean +- std over seeds (best in bold). `motionlab ablate "
          "src/motionlab/configs/ablation/tokenizer.yaml --seeds 3 --out DIR` runs the study-scale version.", "",
          table, ""]
    md += [f"![{Path(p).stem}]({p})" for p in plots]
    return md + [""]
