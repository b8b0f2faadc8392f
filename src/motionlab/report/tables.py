"""Ablation tables: mean +- std per variant over seeds, as Markdown and as booktabs LaTeX.

The input is a list of :class:`RunResult` (one per trained run: variant name, seed, final metrics,
metric history); ``results.json`` of :func:`motionlab.train.ablation.run_ablation` holds exactly these
as dicts (:meth:`RunResult.to_dict`). Each table cell is ``mean +- std`` over the seeds of a variant
(sample standard deviation, ``ddof=1``; 0 with a single seed). The best mean of a column is printed
in bold (every tied best when several share it); the column header carries an arrow saying which
direction is better, taken from a directions dict (``"lower"`` / ``"higher"``, the convention of
:data:`motionlab.eval.metrics.METRIC_DIRECTIONS`). A metric with no direction gets no arrow and no bold.
A variant without a metric shows a dash.

Numbers are printed with one number of decimals per column, chosen so that the smallest non-zero
mean of the column keeps three significant digits (between 1 and 6 decimals), unless a
:class:`Column` fixes it. LaTeX output needs ``\\usepackage{booktabs}``; names are escaped.
"""

from __future__ import annotations

import json
import math
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Dict, Iterable, List, Mapping, Optional, Sequence, Tuple, Union

import numpy as np

from motionlab.errors import MotionLabError

History = Dict[str, List[Tuple[float, float]]]

__all__ = [
    "RunResult", "Column", "Summary", "load_results", "save_results", "variant_order", "summarize",
    "best_variants", "column_decimals", "markdown_table", "latex_table", "latex_escape", "write_tables",
]


@dataclass
class RunResult:
    """One finished run of an ablation.

    ``metrics``: final metric name -> value. ``history``: metric name -> list of ``(step, value)``
    pairs in training order (steps are optimizer steps or epochs, whichever the run logged).
    """

    variant: str
    seed: int
    metrics: Dict[str, float]
    history: History = field(default_factory=dict)

    def to_dict(self) -> Dict[str, Any]:
        """A JSON-friendly dict (``history`` values as ``[[step, value], ...]``)."""
        return {
            "variant": self.variant,
            "seed": int(self.seed),
            "metrics": {k: float(v) for k, v in self.metrics.items()},
            "history": {k: [[float(s), float(v)] for s, v in pts] for k, pts in self.history.items()},
        }

    @classmethod
    def from_dict(cls, d: Mapping[str, Any], place: str = "result") -> "RunResult":
        """The inverse of :meth:`to_dict`; a malformed entry is a :class:`MotionLabError` at ``place``."""
        if not isinstance(d, Mapping):
            raise MotionLabError(f"expected a mapping, got {type(d).__name__}", place=place)
        for key in ("variant", "seed", "metrics"):
            if key not in d:
                raise MotionLabError(f"missing key {key!r}", place=place)
        if not isinstance(d["metrics"], Mapping):
            raise MotionLabError("'metrics' must be a mapping of name -> number", place=f"{place}.metrics")
        try:
            metrics = {str(k): float(v) for k, v in d["metrics"].items() if v is not None}
            history = {
                str(k): [(float(p[0]), float(p[1])) for p in pts]
                for k, pts in dict(d.get("history") or {}).items()
            }
            seed = int(d["seed"])
        except (TypeError, ValueError, IndexError) as exc:
            raise MotionLabError(f"malformed numbers ({exc})", place=place) from None
        return cls(variant=str(d["variant"]), seed=seed, metrics=metrics, history=history)


@dataclass
class Column:
    """One table column: metric ``key``, printed ``label``, a ``scale`` applied to mean and std
    (e.g. 100 for a ratio shown in %), and optional fixed ``decimals``."""

    key: str
    label: Optional[str] = None
    scale: float = 1.0
    decimals: Optional[int] = None

    @property
    def title(self) -> str:
        return self.label if self.label is not None else self.key


ColumnsArg = Optional[Sequence[Union[str, Column]]]
#: variant -> metric -> (mean, std, number of seeds)
Summary = Dict[str, Dict[str, Tuple[float, float, int]]]


def load_results(path: Union[str, os.PathLike]) -> List[RunResult]:
    """Read a ``results.json`` (a JSON list of run dicts)."""
    path = Path(path)
    try:
        data = json.loads(path.read_text())
    except FileNotFoundError:
        raise MotionLabError("results file not found", file=path) from None
    except json.JSONDecodeError as exc:
        raise MotionLabError(f"not valid JSON ({exc.msg})", file=path, place=f"line {exc.lineno}") from None
    if not isinstance(data, list):
        raise MotionLabError("expected a JSON list of runs", file=path)
    try:
        return [RunResult.from_dict(d, place=f"entry {i}") for i, d in enumerate(data)]
    except MotionLabError as err:
        raise err.with_file(path) from None


def save_results(results: Sequence[RunResult], path: Union[str, os.PathLike]) -> Path:
    """Write ``results`` as a JSON list (atomically: a temporary file renamed into place)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps([r.to_dict() for r in results], indent=1))
    os.replace(tmp, path)
    return path


def variant_order(results: Sequence[RunResult]) -> List[str]:
    """Variant names in order of first appearance."""
    seen: Dict[str, None] = {}
    for r in results:
        seen.setdefault(r.variant, None)
    return list(seen)


def summarize(results: Sequence[RunResult], metrics: Optional[Iterable[str]] = None) -> Summary:
    """Mean, sample std (``ddof=1``; 0 for one seed) and seed count per variant and metric.

    ``metrics``: which to summarise (default: every metric any run has). Non-finite values are
    left out of the statistics.
    """
    if not results:
        raise MotionLabError("no run results to summarise")
    keys = list(metrics) if metrics is not None else sorted({k for r in results for k in r.metrics})
    out: Summary = {}
    for variant in variant_order(results):
        runs = [r for r in results if r.variant == variant]
        row: Dict[str, Tuple[float, float, int]] = {}
        for k in keys:
            vals = np.array([r.metrics[k] for r in runs if k in r.metrics], dtype=np.float64)
            vals = vals[np.isfinite(vals)]
            if vals.size == 0:
                continue
            std = float(vals.std(ddof=1)) if vals.size > 1 else 0.0
            row[k] = (float(vals.mean()), std, int(vals.size))
        out[variant] = row
    return out


def best_variants(summary: Summary, key: str, direction: Optional[str]) -> List[str]:
    """Variants whose mean of ``key`` is best (all ties) for ``direction`` ``"lower"``/``"higher"``;
    empty when the direction is unknown or no variant has the metric."""
    if direction not in ("lower", "higher"):
        return []
    means = {v: row[key][0] for v, row in summary.items() if key in row}
    if not means:
        return []
    target = min(means.values()) if direction == "lower" else max(means.values())
    return [v for v, m in means.items() if math.isclose(m, target, rel_tol=1e-9, abs_tol=1e-15)]


def column_decimals(values: Iterable[float]) -> int:
    """Decimals that keep three significant digits of the smallest non-zero ``|value|`` (1..6)."""
    nz = [abs(v) for v in values if v != 0 and math.isfinite(v)]
    if not nz:
        return 1
    digits = 3 - 1 - int(math.floor(math.log10(min(nz))))
    return int(min(6, max(1, digits)))


def _columns(summary: Summary, columns: ColumnsArg) -> List[Column]:
    if columns is None:
        columns = sorted({k for row in summary.values() for k in row})
    return [c if isinstance(c, Column) else Column(str(c)) for c in columns]


def _cells(summary: Summary, col: Column) -> Tuple[Dict[str, Tuple[str, str]], int]:
    """Formatted (mean, std) strings per variant for one column, and the decimals used."""
    rows = {v: row[col.key] for v, row in summary.items() if col.key in row}
    dec = col.decimals if col.decimals is not None else column_decimals(m * col.scale for m, _, _ in rows.values())
    return {v: (f"{m * col.scale:.{dec}f}", f"{s * col.scale:.{dec}f}") for v, (m, s, _) in rows.items()}, dec


def _seed_counts(summary: Summary) -> List[int]:
    return sorted({n for row in summary.values() for (_, _, n) in row.values()})


def markdown_table(results: Sequence[RunResult], columns: ColumnsArg = None,
                   directions: Optional[Mapping[str, str]] = None, method_header: str = "Method") -> str:
    """A GitHub-flavoured Markdown table: one row per variant, ``mean ± std`` cells, best in bold,
    ``↓``/``↑`` after a header when lower/higher is better."""
    directions = directions or {}
    summary = summarize(results, [c.key if isinstance(c, Column) else c for c in columns] if columns else None)
    cols = _columns(summary, columns)
    header = [method_header] + [c.title + {"lower": " ↓", "higher": " ↑"}.get(directions.get(c.key, ""), "")
                                for c in cols]
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join([" --- "] + [" :---: "] * len(cols)) + "|"]
    cells = [_cells(summary, c)[0] for c in cols]
    best = [set(best_variants(summary, c.key, directions.get(c.key))) for c in cols]
    for v in summary:
        row = [v.replace("|", "\\|")]
        for c, cc, b in zip(cols, cells, best):
            if v not in cc:
                row.append("–")
                continue
            text = f"{cc[v][0]} ± {cc[v][1]}"
            row.append(f"**{text}**" if v in b else text)
        lines.append("| " + " | ".join(row) + " |")
    counts = _seed_counts(summary)
    lines.append("")
    lines.append(f"Mean ± sample std over {'/'.join(map(str, counts))} seed(s) per variant; best in bold.")
    return "\n".join(lines) + "\n"


_LATEX_SPECIALS = {
    "\\": r"\textbackslash{}", "&": r"\&", "%": r"\%", "$": r"\$", "#": r"\#", "_": r"\_",
    "{": r"\{", "}": r"\}", "~": r"\textasciitilde{}", "^": r"\textasciicircum{}",
}


def latex_escape(text: str) -> str:
    """``text`` with LaTeX's special characters escaped for text mode."""
    return "".join(_LATEX_SPECIALS.get(ch, ch) for ch in str(text))


def latex_table(results: Sequence[RunResult], columns: ColumnsArg = None,
                directions: Optional[Mapping[str, str]] = None, caption: str = "Ablation results.",
                label: str = "tab:ablation", method_header: str = "Method") -> str:
    """A booktabs ``table`` environment: ``mean $\\pm$ std`` cells, best in ``\\textbf``,
    ``$\\downarrow$``/``$\\uparrow$`` in headers. Caption and names are escaped; ``label`` is used
    as given (labels allow ``:``)."""
    directions = directions or {}
    summary = summarize(results, [c.key if isinstance(c, Column) else c for c in columns] if columns else None)
    cols = _columns(summary, columns)
    arrows = {"lower": r" $\downarrow$", "higher": r" $\uparrow$"}
    header = [latex_escape(method_header)] + [latex_escape(c.title) + arrows.get(directions.get(c.key, ""), "")
                                              for c in cols]
    cells = [_cells(summary, c)[0] for c in cols]
    best = [set(best_variants(summary, c.key, directions.get(c.key))) for c in cols]
    counts = "/".join(map(str, _seed_counts(summary)))
    out = [
        r"% requires \usepackage{booktabs}",
        r"\begin{table}[h]",
        r"\centering",
        r"\caption{" + latex_escape(caption) + f" Mean $\\pm$ std over {counts} seed(s); best in bold." + "}",
        r"\label{" + label + "}",
        r"\begin{tabular}{l" + " c" * len(cols) + "}",
        r"\toprule",
        " & ".join(header) + r" \\",
        r"\midrule",
    ]
    for v in summary:
        row = [latex_escape(v)]
        for cc, b in zip(cells, best):
            if v not in cc:
                row.append("--")
                continue
            text = f"{cc[v][0]} $\\pm$ {cc[v][1]}"
            row.append(r"\textbf{" + text + "}" if v in b else text)
        out.append(" & ".join(row) + r" \\")
    out += [r"\bottomrule", r"\end{tabular}", r"\end{table}"]
    return "\n".join(out) + "\n"


def write_tables(results: Sequence[RunResult], out_dir: Union[str, os.PathLike], columns: ColumnsArg = None,
                 directions: Optional[Mapping[str, str]] = None, caption: str = "Ablation results.",
                 label: str = "tab:ablation") -> Tuple[Path, Path]:
    """Write ``table.md`` and ``table.tex`` into ``out_dir``; returns their paths."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    md, tex = out / "table.md", out / "table.tex"
    md.write_text(markdown_table(results, columns, directions))
    tex.write_text(latex_table(results, columns, directions, caption=caption, label=label))
    return md, tex
