"""The guide's metric-driven config adjustments (``motionlab tune predictor --from-metrics RUN``).

From the last validation of a run (``metrics/valfree_epXXX.json``, the free-run numbers):

* ``YawAbsDeg`` above :data:`THRESHOLDS` -> more free-run weight (+0.05) and a longer horizon (+4 frames);
* ``RootVelMAE`` above its threshold -> more free-run weight (+0.05);
* ``GeoDeg`` (rotation error) above its threshold -> ``w_latent_consistency`` x1.5, ``w_fk_pos`` and
  ``w_rot_local`` x1.2;

applied to the global weights and to every stage that sets them (free-run weights only from the first
stage that uses free run on, so stage 1 stays teacher-forced). Each change is printed with the metric
that caused it.
"""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import List, Tuple

from motionlab.errors import MotionLabError

THRESHOLDS = {"YawAbsDeg": 5.0, "RootVelMAE": 0.05, "GeoDeg": 5.0}


def last_metrics(run_dir: Path, mode: str = "valfree") -> Tuple[int, dict]:
    files = sorted((Path(run_dir) / "metrics").glob(f"{mode}_ep*.json"))
    if not files:
        raise MotionLabError(f"no metrics/{mode}_epXXX.json: train the run (with validation) first", file=run_dir)
    data = json.loads(files[-1].read_text(encoding="utf-8"))
    return int(data.get("epoch", 0)), data


def _scale(obj, key: str, factor: float = 1.0, add: float = 0.0, ndigits: int = 4):
    old = obj[key] if isinstance(obj, dict) else getattr(obj, key)
    new = round(old * factor + add, ndigits)
    if isinstance(obj, dict):
        obj[key] = new
    else:
        setattr(obj, key, type(old)(new) if isinstance(old, int) else new)
    return old, new


def adjust_from_metrics(run_dir: Path, thresholds: dict = None):
    """``(adjusted config, printed changes)`` for a predictor run (module docstring)."""
    from motionlab.config import CONFIG_FILE, load_config
    from motionlab.recipes.predictor.config import PredictorConfig

    th = {**THRESHOLDS, **(thresholds or {})}
    cfg = load_config(PredictorConfig, Path(run_dir) / CONFIG_FILE)
    cfg = copy.deepcopy(cfg)
    epoch, m = last_metrics(run_dir)
    changes: List[str] = []

    def note(metric: str, what: str, old, new) -> None:
        changes.append(f"{metric}={m[metric]:.4g} > {th[metric]:g} (epoch {epoch}): {what} {old} -> {new}")

    def stages_with(key: str, freerun_only: bool = False):
        for i, s in enumerate(cfg.freerun_stage_schedule):
            if key in s.trainer and (not freerun_only or s.trainer.get("freerun_weight", 0) > 0):
                yield i, s.trainer
            for g, w in s.loss_groups.items():
                if key in w:
                    yield i, w

    def bump(metric: str, key: str, factor: float = 1.0, add: float = 0.0, freerun_only: bool = False) -> None:
        hit = False
        for i, where in stages_with(key, freerun_only):
            old, new = _scale(where, key, factor, add)
            note(metric, f"freerun_stage_schedule[{i}] {key}", old, new)
            hit = True
        if not hit or not cfg.freerun_stage_schedule:
            old, new = _scale(cfg.loss, key, factor, add)
            note(metric, f"loss.{key}", old, new)

    if m.get("YawAbsDeg", 0.0) > th["YawAbsDeg"]:
        bump("YawAbsDeg", "freerun_weight", add=0.05, freerun_only=True)
        bump("YawAbsDeg", "freerun_horizon", add=4, freerun_only=True)
    if m.get("RootVelMAE", 0.0) > th["RootVelMAE"]:
        bump("RootVelMAE", "freerun_weight", add=0.05, freerun_only=True)
    if m.get("GeoDeg", 0.0) > th["GeoDeg"]:
        bump("GeoDeg", "w_latent_consistency", factor=1.5)
        bump("GeoDeg", "w_fk_pos", factor=1.2)
        bump("GeoDeg", "w_rot_local", factor=1.2)
    if not changes:
        changes.append(f"every metric is within its threshold at epoch {epoch} ({', '.join(f'{k} <= {v:g}' for k, v in th.items())}): "
                       "no change")
    return cfg, changes
