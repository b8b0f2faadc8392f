"""Ablation pictures: training curves with seed bands, a loss breakdown, radar charts and a t-SNE.

All functions take :class:`~motionlab.report.tables.RunResult` lists (or latents for the t-SNE),
write PNG files with matplotlib's Agg backend (imported inside the functions) and return the paths.

Radar normalisation (outward = better; the best variant of each metric sits on the outer ring 1):

* ``scale="linear"``: the ratio to the best mean, ``best / value`` for lower-is-better metrics and
  ``value / best`` for higher-is-better ones, in ``(0, 1]``; half as good = 0.5.
* ``scale="log"``: ``1 / (1 + d)`` where ``d = |log10(value / best)|`` is how many decades a
  variant is from the best: 1 at the best, 0.5 one decade away, 1/3 two decades away. It keeps
  metrics that span orders of magnitude (perplexity, dead-code ratio) readable.

Means that are zero or negative are clamped to ``1e-6 x`` the largest ``|mean|`` of that metric
before taking ratios, so a lower-is-better metric whose best is 0 gives every other variant a
near-zero score (it is that many times worse). Metrics without a known direction are skipped.
"""

from __future__ import annotations

import logging
import math
import os
import re
from pathlib import Path
from typing import Dict, List, Mapping, Optional, Sequence, Tuple, Union

import numpy as np

from motionlab.errors import MotionLabError
from motionlab.report.tables import RunResult, summarize, variant_order

PathLike = Union[str, os.PathLike]

log = logging.getLogger("motionlab.report")

__all__ = ["history_band", "plot_curves", "plot_loss_breakdown", "radar_scores", "plot_radar", "plot_tsne",
           "tsne_embed"]


def _plt():
    import matplotlib

    matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt

    return plt


def _safe(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", name).strip("_") or "metric"


def _colors(n: int) -> List:
    plt = _plt()
    cmap = plt.get_cmap("tab10" if n <= 10 else "tab20")
    return [cmap(i % cmap.N) for i in range(n)]


def history_band(runs: Sequence[RunResult], key: str) -> Optional[Tuple[np.ndarray, np.ndarray, np.ndarray]]:
    """``(steps, mean, std)`` of metric ``key`` over the runs' histories: at each logged step, the mean
    and population std of the runs that logged it (a run that stopped early just leaves the band).
    ``None`` when no run logged ``key``."""
    by_step: Dict[float, List[float]] = {}
    for r in runs:
        for s, v in r.history.get(key, []):
            if math.isfinite(v):
                by_step.setdefault(float(s), []).append(float(v))
    if not by_step:
        return None
    steps = np.array(sorted(by_step))
    mean = np.array([np.mean(by_step[s]) for s in steps])
    std = np.array([np.std(by_step[s], ddof=1) if len(by_step[s]) > 1 else 0.0 for s in steps])  # as in the tables
    return steps, mean, std


def plot_curves(results: Sequence[RunResult], out_dir: PathLike,
                metrics: Union[Sequence[str], Mapping[str, str]],
                directions: Optional[Mapping[str, str]] = None, log_y: Sequence[str] = (),
                prefix: str = "curve_") -> List[Path]:
    """One PNG per metric (``<prefix><metric>.png``): each variant's mean over seeds as a line with a
    +- std band, against the logged step. ``metrics``: keys of the histories, or a mapping key -> label.
    ``log_y``: metrics drawn on a log y axis. Metrics no run logged are skipped."""
    plt = _plt()
    labels = dict(metrics) if isinstance(metrics, Mapping) else {k: k for k in metrics}
    directions = directions or {}
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    variants = variant_order(results)
    colors = _colors(len(variants))
    written: List[Path] = []
    for key, label in labels.items():
        bands = {v: history_band([r for r in results if r.variant == v], key) for v in variants}
        if all(b is None for b in bands.values()):
            continue
        fig, ax = plt.subplots(figsize=(6.4, 4.0))
        for v, c in zip(variants, colors):
            b = bands[v]
            if b is None:
                continue
            steps, mean, std = b
            ax.plot(steps, mean, color=c, label=v, lw=1.6)
            ax.fill_between(steps, mean - std, mean + std, color=c, alpha=0.2, lw=0)
        arrow = {"lower": " (lower is better)", "higher": " (higher is better)"}.get(directions.get(key, ""), "")
        ax.set_title(f"{label}{arrow}")
        ax.set_xlabel("step")
        ax.set_ylabel(label)
        if key in log_y:
            ax.set_yscale("log")
        ax.grid(alpha=0.3)
        ax.legend(fontsize=8)
        fig.tight_layout()
        path = out / f"{prefix}{_safe(key)}.png"
        fig.savefig(path, dpi=110)
        plt.close(fig)
        written.append(path)
    return written


def plot_loss_breakdown(results: Sequence[RunResult], out_path: PathLike,
                        loss_keys: Union[Sequence[str], Mapping[str, str]],
                        source: str = "history") -> Optional[Path]:
    """Grouped bars: for each variant, one bar per loss term (its final value, mean over seeds, with a
    std error bar). ``loss_keys``: history/metric keys or key -> label. ``source``: ``"history"``
    (last logged value of each run) or ``"metrics"`` (final metrics). The y axis is logarithmic
    when the terms span more than two decades. When no run has any of the terms (runs shorter than
    their logging interval) nothing is drawn: a warning is logged and ``None`` returned."""
    plt = _plt()
    labels = dict(loss_keys) if isinstance(loss_keys, Mapping) else {k: k for k in loss_keys}
    if source not in ("history", "metrics"):
        raise MotionLabError(f"source must be 'history' or 'metrics', got {source!r}", place="source")
    variants = variant_order(results)
    finals: Dict[Tuple[str, str], List[float]] = {}
    for r in results:
        for k in labels:
            if source == "history":
                pts = r.history.get(k)
                val = pts[-1][1] if pts else None
            else:
                val = r.metrics.get(k)
            if val is not None and math.isfinite(val):
                finals.setdefault((r.variant, k), []).append(float(val))
    keys = [k for k in labels if any((v, k) in finals for v in variants)]
    if not keys:  # e.g. runs shorter than train.log_every logged no training losses
        log.warning("no loss breakdown: no run logged any of the loss terms %s (a run shorter than "
                    "train.log_every logs none)", ", ".join(sorted(labels)))
        return None
    fig, ax = plt.subplots(figsize=(max(6.4, 1.2 * len(variants) + 2), 4.2))
    width = 0.8 / len(keys)
    x = np.arange(len(variants))
    positive, nonpositive = [], False
    for i, (k, c) in enumerate(zip(keys, _colors(len(keys)))):
        means = np.array([np.mean(finals[(v, k)]) if (v, k) in finals else np.nan for v in variants])
        stds = np.array([np.std(finals[(v, k)], ddof=1) if len(finals.get((v, k), ())) > 1 else 0.0
                         for v in variants])
        positive += [m for m in means if np.isfinite(m) and m > 0]
        nonpositive |= bool(np.any(means[np.isfinite(means)] <= 0))
        ax.bar(x + (i - (len(keys) - 1) / 2) * width, means, width, yerr=stds, color=c, label=labels[k],
               capsize=2)
    if positive and not nonpositive and max(positive) / min(positive) > 100:
        ax.set_yscale("log")
    ax.set_xticks(x)
    ax.set_xticklabels(variants, rotation=20, ha="right", fontsize=8)
    ax.set_ylabel("final value (mean ± std over seeds)")
    ax.set_title("Loss breakdown per variant")
    ax.grid(axis="y", alpha=0.3)
    ax.legend(fontsize=8)
    fig.tight_layout()
    path = Path(out_path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def radar_scores(results: Sequence[RunResult], metrics: Sequence[str], directions: Mapping[str, str],
                 scale: str = "linear") -> Tuple[List[str], List[str], np.ndarray]:
    """``(variants, metrics_used, scores (V, M))`` normalised as the module docstring says (outward =
    better, best = 1). Metrics without a direction or that no variant has are dropped; a variant
    missing a metric scores 0 there."""
    if scale not in ("linear", "log"):
        raise MotionLabError(f"radar scale must be 'linear' or 'log', got {scale!r}", place="scale")
    summary = summarize(results, metrics)
    variants = list(summary)
    used = [m for m in metrics if directions.get(m) in ("lower", "higher") and any(m in row for row in summary.values())]
    scores = np.zeros((len(variants), len(used)))
    for j, m in enumerate(used):
        means = np.array([summary[v][m][0] if m in summary[v] else np.nan for v in variants])
        floor = 1e-6 * max(np.nanmax(np.abs(means)), 1e-300)
        vals = np.where(np.isfinite(means), np.maximum(means, floor), np.nan)
        if directions[m] == "lower":
            ratio = vals / np.nanmin(vals)  # >= 1, 1 = best
        else:
            ratio = np.nanmax(vals) / vals
        s = 1.0 / ratio if scale == "linear" else 1.0 / (1.0 + np.abs(np.log10(ratio)))
        scores[:, j] = np.where(np.isfinite(s), s, 0.0)
    return variants, used, scores


def plot_radar(results: Sequence[RunResult], out_path: PathLike, metrics: Union[Sequence[str], Mapping[str, str]],
               directions: Mapping[str, str], scale: str = "linear") -> Path:
    """A radar chart of the variants over ``metrics`` (keys or key -> label), normalised with
    :func:`radar_scores` (``scale`` ``"linear"`` or ``"log"``; outward = better)."""
    plt = _plt()
    labels = dict(metrics) if isinstance(metrics, Mapping) else {k: k for k in metrics}
    variants, used, scores = radar_scores(results, list(labels), directions, scale)
    if len(used) < 3:
        raise MotionLabError(f"a radar chart needs at least 3 metrics with a direction, got {used}",
                             place="metrics")
    angles = np.linspace(0, 2 * np.pi, len(used), endpoint=False)
    closed = np.concatenate([angles, angles[:1]])
    fig = plt.figure(figsize=(6.4, 6.0))
    ax = fig.add_subplot(111, polar=True)
    for v, c, row in zip(variants, _colors(len(variants)), scores):
        vals = np.concatenate([row, row[:1]])
        ax.plot(closed, vals, color=c, lw=1.6, label=v)
        ax.fill(closed, vals, color=c, alpha=0.08)
    ax.set_xticks(angles)
    ax.set_xticklabels([labels[m] for m in used], fontsize=9)
    ax.set_ylim(0, 1.05)
    ax.set_yticks([0.25, 0.5, 0.75, 1.0])
    ax.set_yticklabels(["0.25", "0.5", "0.75", "1"], fontsize=7)
    title = ("ratio to best" if scale == "linear" else "1 / (1 + decades from best)")
    ax.set_title(f"Variants, outward = better ({title})", fontsize=10, pad=18)
    ax.legend(loc="upper right", bbox_to_anchor=(1.32, 1.1), fontsize=8)
    fig.tight_layout()
    path = Path(out_path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110, bbox_inches="tight")
    plt.close(fig)
    return path


def tsne_embed(latents: np.ndarray, seed: int = 0, perplexity: float = 30.0) -> np.ndarray:
    """2-D t-SNE (scikit-learn, PCA init) of ``latents (N, D)``; the perplexity is lowered to
    ``(N - 1) / 3`` for small sets. Needs ``N >= 4``. Runs on one OpenMP thread."""
    from sklearn.manifold import TSNE
    from threadpoolctl import threadpool_limits

    x = np.asarray(latents, dtype=np.float64)
    if x.ndim != 2 or x.shape[0] < 4:
        raise MotionLabError(f"t-SNE needs latents (N >= 4, D), got shape {x.shape}", place="latents")
    if not np.isfinite(x).all():
        raise MotionLabError("latents contain NaN or infinite values", place="latents")
    perp = float(min(perplexity, max(1.0, (x.shape[0] - 1) / 3.0)))
    # one OpenMP thread: Barnes-Hut's spin-waiting threads slow it down tenfold on a busy small machine
    with threadpool_limits(limits=1, user_api="openmp"):
        return TSNE(n_components=2, perplexity=perp, init="pca", random_state=seed).fit_transform(x)


def plot_tsne(panels: Mapping[str, Tuple[np.ndarray, np.ndarray]], out_path: PathLike,
              label_names: Optional[Mapping[int, str]] = None, seed: int = 0, max_points: int = 2000,
              title: str = "t-SNE of encoder latents, coloured by motion style") -> Path:
    """t-SNE scatter plots side by side, one panel per entry of ``panels``: title -> ``(latents (N, D),
    labels (N,) int)``; colours by label (names from ``label_names`` when given). At most ``max_points``
    points per panel (an evenly spaced subset) keep it quick."""
    plt = _plt()
    if not panels:
        raise MotionLabError("no latents to plot", place="panels")
    all_labels = sorted({int(l) for _, labs in panels.values() for l in np.asarray(labs).reshape(-1)})
    colors = dict(zip(all_labels, _colors(len(all_labels))))
    n = len(panels)
    cols = min(n, 3)
    rows = int(math.ceil(n / cols))
    fig, axes = plt.subplots(rows, cols, figsize=(4.2 * cols, 4.0 * rows), squeeze=False)
    for ax in axes.reshape(-1)[n:]:
        ax.axis("off")
    for ax, (name, (lat, labs)) in zip(axes.reshape(-1), panels.items()):
        lat = np.asarray(lat)
        labs = np.asarray(labs).reshape(-1).astype(int)
        if lat.shape[0] != labs.shape[0]:
            raise MotionLabError(f"{lat.shape[0]} latents but {labs.shape[0]} labels", place=f"panels[{name!r}]")
        if lat.shape[0] > max_points:
            keep = np.linspace(0, lat.shape[0] - 1, max_points).astype(int)
            lat, labs = lat[keep], labs[keep]
        xy = tsne_embed(lat, seed=seed)
        for l in np.unique(labs):
            m = labs == l
            name_l = (label_names or {}).get(int(l), str(int(l)))
            ax.scatter(xy[m, 0], xy[m, 1], s=6, color=colors[int(l)], label=name_l, alpha=0.8)
        ax.set_title(name, fontsize=9)
        ax.set_xticks([])
        ax.set_yticks([])
    handles, names = [], []
    for ax in axes.reshape(-1)[:n]:
        for h, nm in zip(*ax.get_legend_handles_labels()):
            if nm not in names:
                handles.append(h)
                names.append(nm)
    fig.legend(handles, names, loc="lower center", ncol=min(len(names), 6), fontsize=8, markerscale=2)
    fig.suptitle(title, fontsize=11)
    fig.tight_layout(rect=(0, 0.06, 1, 0.95))
    path = Path(out_path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path
