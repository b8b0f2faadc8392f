"""The curves of one training run (``plots/training.png`` of a run folder): the training loss and the main
validation metrics over optimizer steps, with the baselines logged for them as dashed lines."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any, Dict, List, Mapping, Sequence, Tuple

__all__ = ["plot_training"]


def _series(rows: Sequence[Mapping[str, Any]], key: str) -> Tuple[List[float], List[float]]:
    xs, ys = [], []
    for r in rows:
        v, step = r.get(key), r.get("step")
        if isinstance(v, (int, float)) and step is not None and math.isfinite(float(v)):
            xs.append(float(step))
            ys.append(float(v))
    return xs, ys


def plot_training(history: Mapping[str, Any], out_path, metrics: Sequence[str] = (),
                  baselines: Mapping[str, Mapping[str, float]] = None, max_panels: int = 4) -> Path:
    """Write the training curves of ``history`` (a run's ``history.json`` content) to ``out_path``.

    Args:
        history: ``{"train": [{step, train/loss, ...}], "val": [{step, val/..., ...}]}``.
        metrics: validation metrics to draw, one panel each (at most ``max_panels``).
        baselines: ``{metric: {baseline label: value}}`` drawn as horizontal dashed lines.
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    baselines = baselines or {}
    train_rows, val_rows = history.get("train", []), history.get("val", [])
    panels: List[Tuple[str, List[Tuple[str, Tuple[List[float], List[float]]]]]] = []
    loss = _series(train_rows, "train/loss")
    if loss[0]:
        curves = [("train", loss)]
        if _series(val_rows, "val/loss")[0]:
            curves.append(("val", _series(val_rows, "val/loss")))
        panels.append(("loss", curves))
    for m in list(metrics)[:max_panels]:
        s = _series(val_rows, m)
        if s[0] and m != "val/loss":
            panels.append((m, [("val", s)]))
    out = Path(out_path)
    out.parent.mkdir(parents=True, exist_ok=True)
    n = max(1, len(panels))
    fig, axes = plt.subplots(1, n, figsize=(3.6 * n, 3.0), squeeze=False)
    for ax, (title, curves) in zip(axes[0], panels):
        values: List[float] = []
        for label, (xs, ys) in curves:
            ax.plot(xs, ys, marker="o" if len(xs) < 12 else None, ms=3, lw=1.4, label=label)
            values += ys
        for j, (label, v) in enumerate(sorted((baselines.get(title) or {}).items())):
            ax.axhline(v, ls="--", lw=1.0, color=f"C{j + 2}", label=label.replace("_", " "))
            values.append(v)
        if values and min(values) > 0 and max(values) / min(values) > 30:
            ax.set_yscale("log")
        ax.set_title(title, fontsize=9)
        ax.set_xlabel("step", fontsize=8)
        ax.tick_params(labelsize=7)
        ax.legend(fontsize=7)
        ax.grid(alpha=0.3)
    if not panels:
        axes[0][0].text(0.5, 0.5, "nothing logged", ha="center", va="center")
        axes[0][0].set_axis_off()
    fig.tight_layout()
    fig.savefig(out, dpi=90)
    plt.close(fig)
    return out


def baselines_of(rows: Sequence[Any]) -> Dict[str, Dict[str, float]]:
    """``{metric: {label: value}}`` of summary rows (:class:`motionlab.train.summary.MetricRow`)."""
    return {r.name: dict(r.baselines) for r in rows if r.baselines}
