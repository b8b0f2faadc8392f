"""The end-of-training summary: steps, wall time, the main validation metrics next to their baselines, and
where the run folder, its metrics and plots are.

How a recipe declares what the summary shows (all optional; see :class:`motionlab.train.module.RecipeModule`):

* ``main_metrics`` (class attribute of the LightningModule): the validation metrics the summary leads
  with, as logged (``"val/recon_mse"``; the ``val/`` may be left out). Empty: every ``val/...`` metric of
  the last validation.
* ``self.log_baseline(label, metric, value)`` in validation: the value a baseline (``label``, e.g.
  ``"mean_pose"``) reaches on the same validation data for ``metric``; logged as
  ``val/baseline/<label>/<metric>`` and shown next to ``val/<metric>`` with the model/baseline ratio.
* ``summary_metrics(val)`` (method): override for anything else; it returns :class:`MetricRow` s.

The summary is stored in ``history.json`` (``"summary"``), printed by :func:`motionlab.train.engine.train`,
and can be rebuilt from a run folder alone with :func:`summarize_run`.
"""

from __future__ import annotations

import json
import math
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Dict, List, Mapping, Optional, Sequence

from motionlab.train.progress import format_duration, format_value

BASELINE_PREFIX = "val/baseline/"
PLOTS_DIR = "plots"
TRAINING_PLOT = "training.png"

__all__ = ["BASELINE_PREFIX", "MetricRow", "TrainingSummary", "baseline_key", "metric_rows", "summarize_run",
           "format_summary", "summary_line", "run_files"]


@dataclass
class MetricRow:
    """One metric of the summary: its logged ``name``, ``value`` and ``baselines`` (label -> value)."""

    name: str
    value: float
    baselines: Dict[str, float] = field(default_factory=dict)


def baseline_key(label: str, metric: str) -> str:
    """Logged name of baseline ``label``'s value of ``metric``: ``val/baseline/<label>/<metric>``."""
    metric = metric[len("val/"):] if metric.startswith("val/") else metric
    return f"{BASELINE_PREFIX}{label}/{metric}"


def _as_val(name: str) -> str:
    return name if name.startswith("val") else f"val/{name}"


def metric_rows(val: Mapping[str, Any], main: Sequence[str] = ()) -> List[MetricRow]:
    """Rows of the summary from one validation's metrics: the ``main`` ones (as logged, ``val/`` optional)
    in that order, else every ``val/...`` metric; each with the baselines logged for it."""
    numbers: Dict[str, float] = {}
    for k, v in val.items():
        try:
            numbers[str(k)] = float(v)
        except (TypeError, ValueError):
            continue
    baselines: Dict[str, Dict[str, float]] = {}
    for k, v in numbers.items():
        if k.startswith(BASELINE_PREFIX):
            label, _, metric = k[len(BASELINE_PREFIX):].partition("/")
            if metric:
                baselines.setdefault(f"val/{metric}", {})[label] = v
    names = [_as_val(m) for m in main if _as_val(m) in numbers]
    if not names:
        names = [k for k in numbers if k.startswith("val") and not k.startswith(BASELINE_PREFIX)]
    return [MetricRow(n, numbers[n], dict(baselines.get(n, {}))) for n in names]


@dataclass
class TrainingSummary:
    """How a training run went (see the module docstring); ``files`` maps what to where in the run folder."""

    recipe: str
    run_dir: str
    status: str
    steps: int
    target_steps: Optional[int] = None
    epochs: Optional[int] = None  # epochs begun
    wall_time_s: float = math.nan  # the whole run, resumptions included
    session_time_s: float = math.nan  # this process only
    steps_per_s: float = math.nan  # this process only
    resumed_from: Optional[int] = None
    val_step: Optional[int] = None
    metrics: List[MetricRow] = field(default_factory=list)
    files: Dict[str, str] = field(default_factory=dict)
    error: str = ""

    def to_dict(self) -> Dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> "TrainingSummary":
        d = dict(d)
        d["metrics"] = [MetricRow(**m) for m in d.get("metrics", [])]
        known = set(cls.__dataclass_fields__)
        return cls(**{k: v for k, v in d.items() if k in known})

    def metric(self, name: str) -> Optional[MetricRow]:
        """The row of ``name`` (``val/`` optional), or ``None``."""
        name = _as_val(name)
        return next((m for m in self.metrics if m.name == name), None)


def run_files(run_dir: Path) -> Dict[str, str]:
    """What a run folder holds, by role: config, checkpoint, metrics, history, tensorboard, plots, stats."""
    run_dir = Path(run_dir)
    out: Dict[str, str] = {}
    for role, name in (("config", "config.yaml"), ("checkpoint", "checkpoints/last.ckpt"), ("metrics", "metrics.csv"),
                       ("history", "history.json"), ("evaluation", "metrics.json"), ("tensorboard", "tensorboard")):
        if (run_dir / name).exists():
            out[role] = str(run_dir / name)
    plots = sorted((run_dir / PLOTS_DIR).glob("*.png")) if (run_dir / PLOTS_DIR).is_dir() else []
    if plots:
        out["plots"] = ", ".join(str(p) for p in plots)
    stats = sorted(run_dir.glob("normalization*.npz"))
    if stats:
        out["statistics"] = ", ".join(str(p) for p in stats)
    return out


def summarize_run(run_dir, main: Sequence[str] = (), module: Any = None, recipe: str = "",
                  session_time_s: float = math.nan, session_steps: Optional[int] = None,
                  target_steps: Optional[int] = None) -> TrainingSummary:
    """The summary of a run folder from its ``history.json`` (and ``run.json``).

    ``module`` (the recipe's LightningModule) chooses the rows through its ``summary_metrics(val)``;
    without it ``main`` names them, else the stored summary's choice, else every validation metric.
    ``session_*`` describe this process (rate); without them the rate is over the whole run.
    """
    run_dir = Path(run_dir)
    hist: Dict[str, Any] = {}
    try:
        hist = json.loads((run_dir / "history.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        pass
    if not recipe:
        try:
            recipe = str(json.loads((run_dir / "run.json").read_text(encoding="utf-8")).get("recipe", ""))
        except (OSError, ValueError):
            recipe = ""
    vals = [v for v in hist.get("val", []) if any(str(k).startswith("val") for k in v)]
    last = vals[-1] if vals else {}
    metrics_only = {k: v for k, v in last.items() if str(k).startswith("val")}
    if module is not None and callable(getattr(module, "summary_metrics", None)):
        rows = list(module.summary_metrics(metrics_only))
    else:
        stored = (hist.get("summary") or {}).get("metrics") or []
        rows = metric_rows(metrics_only, list(main) or [m["name"] for m in stored])
    steps = int(hist.get("final_step", last.get("step", 0)) or 0)
    train_rows = hist.get("train", [])
    epochs = max([int(r.get("epoch", 0)) for r in train_rows + vals] or [0]) + 1 if (train_rows or vals) else None
    resumed = hist.get("resumed_from_step") or []
    total = float(hist.get("wall_time_s", math.nan))
    if session_steps is None:
        session_steps = steps - (int(resumed[-1]) if resumed else 0)
    if not math.isfinite(session_time_s):
        session_time_s = total - float(hist.get("wall_time_s_before", 0.0))
    rate = session_steps / session_time_s if session_time_s and session_time_s > 0 else math.nan
    return TrainingSummary(recipe=recipe, run_dir=str(run_dir), status=str(hist.get("status", "unknown")),
                           steps=steps, target_steps=target_steps, epochs=epochs, wall_time_s=total,
                           session_time_s=session_time_s, steps_per_s=rate,
                           resumed_from=int(resumed[-1]) if resumed else None,
                           val_step=int(last["step"]) if "step" in last else None, metrics=rows,
                           files=run_files(run_dir), error=str(hist.get("error", "")))


def _steps_text(s: TrainingSummary) -> str:
    if s.target_steps and s.target_steps != s.steps:
        return f"{s.steps} of {s.target_steps} steps"
    return f"{s.steps} steps"


def summary_line(s: TrainingSummary, limit: int = 3) -> str:
    """The summary on one line: status, steps, time and the first ``limit`` main metrics with baselines."""
    parts = [f"{s.recipe or 'run'} {s.status}: {_steps_text(s)} in {format_duration(s.wall_time_s)}"]
    for m in s.metrics[:limit]:
        text = f"{m.name} {format_value(m.value)}"
        if m.baselines:
            text += " (" + ", ".join(f"{label.replace('_', ' ')} {format_value(v)}" for label, v in m.baselines.items()) + ")"
        parts.append(text)
    return " | ".join(parts)


def _ratio(value: float, base: float) -> str:
    if not (math.isfinite(value) and math.isfinite(base)) or base == 0:
        return ""
    return f"{value / base:.2g}x"


def _relative(path: str, run_dir: str) -> str:
    try:
        return Path(path).relative_to(run_dir).as_posix()
    except ValueError:
        return path


def format_summary(s: TrainingSummary, limit: int = 12) -> str:
    """The summary as a few lines of plain text (see the module docstring)."""
    rate = f", {s.steps_per_s:.3g} steps/s" if math.isfinite(s.steps_per_s) else ""
    resumed = f", resumed from step {s.resumed_from}" if s.resumed_from is not None else ""
    lines = [f"{s.recipe or 'training'} {s.status}: {_steps_text(s)} in {format_duration(s.wall_time_s)}"
             f"{rate}{resumed}"]
    if s.error:
        lines.append(f"  stopped by: {s.error}")
    if s.metrics:
        labels = list(dict.fromkeys(label for m in s.metrics for label in m.baselines))
        rows = [[m.name, format_value(m.value)] + [
            (f"{format_value(m.baselines[b])} ({_ratio(m.value, m.baselines[b])})" if b in m.baselines else "-")
            for b in labels] for m in s.metrics[:limit]]
        head = [f"validation at step {s.val_step}" if s.val_step is not None else "validation", "model"]
        head += [b.replace("_", " ") for b in labels]
        widths = [max(len(r[i]) for r in rows + [head]) for i in range(len(head))]
        fmt = lambda r: "  " + "  ".join(c.ljust(w) if i == 0 else c.rjust(w)  # noqa: E731
                                        for i, (c, w) in enumerate(zip(r, widths)))
        lines.append(fmt(head).rstrip())
        lines += [fmt(r).rstrip() for r in rows]
        if len(s.metrics) > limit:
            lines.append(f"  ... {len(s.metrics) - limit} more in history.json")
        if labels:
            lines.append("  (baseline columns: the baseline's value on the same data, and model / baseline)")
    else:
        lines.append("  no validation metrics (train.val_every=-1, or no validation data)")
    lines.append(f"run folder: {s.run_dir}")
    f = s.files
    what = [_relative(f[k], s.run_dir) + ("/" if k == "tensorboard" else "")
            for k in ("config", "checkpoint", "metrics", "history", "tensorboard") if k in f]
    if what:
        lines.append(f"  holds {', '.join(what)}")
    if "plots" in f:
        lines.append(f"  plots: {f['plots']}")
    if "tensorboard" in f:
        lines.append(f"  curves: tensorboard --logdir {f['tensorboard']}")
    if s.status == "completed":
        lines.append(f"  next: motionlab eval {s.run_dir}  (test metrics and baselines -> metrics.json)")
    return "\n".join(lines)
