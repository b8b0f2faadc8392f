"""Shared helpers of the gesture and dyadic tests: a BEAT2-layout folder made from corpus clips and a
short training run."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import List


def write_beat2_folder(corpus: Path, out: Path, dyadic: bool = False) -> Path:
    """A folder in the published BEAT2 layout (smplxflame_30/, wave16k/, textgrid/, train_test_split.csv)
    holding the corpus's talking clips as speaker 2 and its dyadic pairs as speaker 3 ``_speaker1/2`` takes."""
    manifest = json.loads((corpus / "manifest.json").read_text())
    for d in ("smplxflame_30", "wave16k", "textgrid"):
        (out / d).mkdir(parents=True, exist_ok=True)
    rows: List[str] = ["id,type"]
    for n, c in enumerate(manifest["clips"]):
        if c["kind"] == "talking" and not dyadic:
            tid = f"2_scott_0_{n}_{n}"
        elif c["kind"] == "dyadic":
            tid = f"3_solomon_0_{c['pair'].split('_')[1]}_{c['pair'].split('_')[1]}_speaker{c['speaker']}"
        else:
            continue
        f = c["files"]
        shutil.copy(corpus / f["smplx"], out / "smplxflame_30" / f"{tid}.npz")
        shutil.copy(corpus / f["audio"], out / "wave16k" / f"{tid}.wav")
        shutil.copy(corpus / f["words"], out / "textgrid" / f"{tid}.TextGrid")
        rows.append(f"{tid},{c['split']}")
    (out / "train_test_split.csv").write_text("\n".join(rows) + "\n")
    return out


def quick_overrides(root: Path, cache: Path, steps: int = 24, vq_steps: int = 12) -> List[str]:
    """Overrides for a seconds-long run that exercises both phases."""
    return [f"data.root={root}", f"data.cache_dir={cache}", "data.batch_size=4", f"model.vq.steps={vq_steps}",
            f"train.max_steps={steps}", "train.progress=none", "train.log_every=4"]
