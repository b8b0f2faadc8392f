"""Progress of training and of other long work: a rich bar in a terminal, a plain line every few seconds
elsewhere (log files, pipes, CI, notebooks that are not terminals).

``train.progress`` (see :class:`~motionlab.train.config.TrainConfig`) chooses, and whatever it says the
run is never silent unless asked:

==========  ===========================================================================================
``auto``    a rich bar over the run's optimizer steps when the output is a terminal, plain lines otherwise
``rich``    the rich bar (plain lines when the output is not a terminal)
``tqdm``    Lightning's tqdm bar (plain lines when the output is not a terminal)
``plain``   plain lines every ``train.progress_every_s`` seconds, in a terminal too
``none``    no bar: plain lines, as ``plain``
``silent``  nothing at all (no progress, no summary), for programs that report on their own
==========  ===========================================================================================

A plain line reads ``step 120/600 (20%) | epoch 3 | loss 0.1234 | 3.2 steps/s | 37s | ETA 2m30s``,
where ``loss`` is the mean training loss since the previous line and the rate counts the steps of this
process (a resumed run starts counting where it resumed); validations add a line of their metrics.
Progress goes to standard error, so that standard output keeps what a command produces.

:class:`ProgressLine` is the same plain-line reporter for loops that are not Lightning fits (an
evaluation over many clips); :class:`RunProgress` reports the runs of a study (an ablation's variants x
seeds): a line when each starts and ends, with its time, metrics and the study's ETA, and a closing count.
"""

from __future__ import annotations

import math
import os
import sys
import time
from typing import Any, Dict, Mapping, Optional, Sequence, TextIO

from lightning.pytorch.callbacks import Callback

from motionlab.errors import MotionLabError

PROGRESS_KINDS = ("auto", "rich", "tqdm", "plain", "none", "silent")

__all__ = ["PROGRESS_KINDS", "resolve_progress", "is_terminal", "format_duration", "format_value",
           "ProgressLine", "PlainProgress", "RichProgress", "training_progress", "loss_of", "RunProgress"]


def is_terminal(stream: Optional[TextIO] = None) -> bool:
    """Whether ``stream`` (default standard error) is an interactive terminal that can draw a bar."""
    stream = sys.stderr if stream is None else stream
    try:
        tty = bool(stream.isatty())
    except (AttributeError, ValueError):
        return False
    return tty and os.environ.get("TERM", "") != "dumb"


def resolve_progress(kind: str, stream: Optional[TextIO] = None) -> str:
    """What ``train.progress`` means on this output: ``"rich"``, ``"tqdm"``, ``"plain"`` or ``"silent"``."""
    if kind not in PROGRESS_KINDS:
        raise MotionLabError(f"unknown train.progress {kind!r}; valid choices: {', '.join(PROGRESS_KINDS)}",
                             place="train.progress")
    if kind == "silent":
        return "silent"
    if kind in ("plain", "none") or not is_terminal(stream):
        return "plain"
    if kind in ("auto", "rich"):
        try:
            import rich  # noqa: F401

            return "rich"
        except ImportError:
            if kind == "rich":
                raise MotionLabError("train.progress=rich needs the 'rich' package", place="train.progress") from None
            return "plain"
    return "tqdm"


def format_duration(seconds: float) -> str:
    """``"42s"``, ``"3m05s"``, ``"2h07m"`` (``"?"`` for an unknown or infinite time)."""
    if seconds is None or not math.isfinite(seconds) or seconds < 0:
        return "?"
    s = int(round(seconds))
    if s < 60:
        return f"{s}s"
    if s < 3600:
        return f"{s // 60}m{s % 60:02d}s"
    return f"{s // 3600}h{(s % 3600) // 60:02d}m"


def format_value(v: Any) -> str:
    """A metric value in 4 significant digits (``"nan"``/``"inf"`` as such; non-numbers as text)."""
    try:
        f = float(v)
    except (TypeError, ValueError):
        return str(v)
    if not math.isfinite(f):
        return str(f)
    if f == 0 or 1e-3 <= abs(f) < 1e5:
        return f"{f:.4g}"
    return f"{f:.3e}"


def loss_of(outputs: Any, metrics: Mapping[str, Any]) -> Optional[float]:
    """The training loss of a batch: from what ``training_step`` returned, else the logged ``train/loss``."""
    value = outputs.get("loss") if isinstance(outputs, Mapping) else outputs
    if value is None:
        for key in ("train/loss", "loss", "train_loss"):
            if key in metrics:
                value = metrics[key]
                break
    if value is None:
        return None
    try:
        return float(value.detach().float().mean().cpu()) if hasattr(value, "detach") else float(value)
    except (TypeError, ValueError, RuntimeError):
        return None


class ProgressLine:
    """Plain progress of a loop of ``total`` units: a line at the start, then at most one every
    ``every_s`` seconds and one at the end, ``<label> 3/12 (25%) | <extra> | 0.5 it/s | 1m02s | ETA 3m06s``.

    >>> p = ProgressLine("evaluating clips", 40)   # doctest: +SKIP
    >>> for clip in clips: ...; p.update(1)        # doctest: +SKIP
    """

    def __init__(self, label: str, total: Optional[int] = None, every_s: float = 5.0, unit: str = "it",
                 stream: Optional[TextIO] = None, done: int = 0, quiet_start: bool = False) -> None:
        """``quiet_start``: no line at the start, only once ``every_s`` have passed (and then at the end):
        a loop that finishes quickly prints nothing."""
        self.label = label
        self.total = total if total and total > 0 else None
        self.every_s = max(0.0, float(every_s))
        self.unit = unit
        self.stream = stream
        self.done = int(done)
        self._start_done = self.done
        self._t0 = time.monotonic()
        self._last = self._t0 if quiet_start else -math.inf
        self.quiet_start = quiet_start
        self.lines = 0

    def rate(self) -> float:
        dt = time.monotonic() - self._t0
        return (self.done - self._start_done) / dt if dt > 0 else 0.0

    def eta_s(self) -> float:
        rate = self.rate()
        if self.total is None or rate <= 0:
            return math.nan
        return max(0, self.total - self.done) / rate

    def text(self, extra: Sequence[str] = ()) -> str:
        count = f"{self.done}/{self.total} ({100.0 * self.done / self.total:.0f}%)" if self.total else f"{self.done}"
        parts = [f"{self.label} {count}".strip(), *[e for e in extra if e]]
        rate = self.rate()
        if self.done > self._start_done:
            parts.append(f"{rate:.3g} {self.unit}/s" if rate >= 0.1 else f"{1 / rate:.3g} s/{self.unit}")
        parts.append(format_duration(time.monotonic() - self._t0))
        if self.total is not None and self.done < self.total:
            parts.append(f"ETA {format_duration(self.eta_s())}")
        return " | ".join(parts)

    def print(self, text: str) -> None:
        stream = self.stream if self.stream is not None else sys.stderr
        print(text, file=stream, flush=True)
        self.lines += 1

    def due(self) -> bool:
        return time.monotonic() - self._last >= self.every_s

    def update(self, n: int = 1, extra: Sequence[str] = (), force: bool = False) -> bool:
        """Count ``n`` more units; print a line when one is due (or ``force``, or at the end). Returns
        whether a line was printed."""
        self.done += int(n)
        last = self.total is not None and self.done >= self.total
        if last and self.quiet_start and not self.lines and not force:
            return False  # it was quick: nothing to say
        if force or last or self.due():
            self._last = time.monotonic()
            self.print(self.text(extra))
            return True
        return False


# --- training ----------------------------------------------------------------------------------


def _total_steps(trainer) -> Optional[int]:
    if trainer.max_steps is not None and trainer.max_steps > 0:
        return int(trainer.max_steps)
    try:
        est = trainer.estimated_stepping_batches
    except Exception:  # no loader length (an iterable dataset): the total is unknown
        return None
    return int(est) if est is not None and math.isfinite(est) and est > 0 else None


def _val_text(metrics: Mapping[str, Any], limit: int = 8) -> str:
    items = []
    for k, v in metrics.items():
        if not str(k).startswith("val") or str(k).startswith("val/baseline/"):
            continue
        try:
            f = float(v)
        except (TypeError, ValueError):
            continue
        items.append(f"{k} {format_value(f)}")
    more = f" (+{len(items) - limit} more)" if len(items) > limit else ""
    return ", ".join(items[:limit]) + more


class _StepProgress(Callback):
    """What both reporters share: the step counter, the mean loss since the last report, rank zero only."""

    def __init__(self, every_s: float = 5.0, stream: Optional[TextIO] = None, label: str = "") -> None:
        self.every_s = float(every_s)
        self.stream = stream
        self.label = label
        self._loss_sum = 0.0
        self._loss_n = 0
        self.last_loss: Optional[float] = None

    def _active(self, trainer) -> bool:
        return bool(getattr(trainer, "is_global_zero", True))

    def _take_loss(self) -> Optional[float]:
        if self._loss_n:
            self.last_loss = self._loss_sum / self._loss_n
        self._loss_sum, self._loss_n = 0.0, 0
        return self.last_loss

    def _add_loss(self, trainer, outputs) -> None:
        loss = loss_of(outputs, trainer.callback_metrics)
        if loss is not None:
            self._loss_sum += loss
            self._loss_n += 1


class PlainProgress(_StepProgress):
    """Plain lines: one when training starts, then at most one every ``every_s`` seconds (and at the last
    step), each with steps, epoch, mean loss since the previous line, steps/s, elapsed time and ETA; one
    line with the metrics of every validation."""

    def __init__(self, every_s: float = 5.0, stream: Optional[TextIO] = None, label: str = "") -> None:
        super().__init__(every_s, stream, label)
        self.line: Optional[ProgressLine] = None

    def on_train_start(self, trainer, pl_module) -> None:
        if not self._active(trainer):
            return
        self.line = ProgressLine("step", _total_steps(trainer), self.every_s, unit="steps", stream=self.stream,
                                 done=int(trainer.global_step))
        self.line._last = time.monotonic()  # the first step line comes after the first interval (or at step 1)
        self._first = True

    def on_train_batch_end(self, trainer, pl_module, outputs, batch, batch_idx) -> None:
        if self.line is None:
            return
        self._add_loss(trainer, outputs)
        step = int(trainer.global_step)
        n = step - self.line.done
        self.line.done = step
        end = self.line.total is not None and step >= self.line.total
        if n <= 0 and not end:
            return
        if self._first or end or self.line.due():
            self._first = False
            self.line._last = time.monotonic()
            loss = self._take_loss()
            extra = [f"epoch {int(trainer.current_epoch)}"]
            if loss is not None:
                extra.append(f"loss {format_value(loss)}")
            self.line.print(self.line.text(extra))

    def on_validation_start(self, trainer, pl_module) -> None:
        if self.line is None or trainer.sanity_checking:
            return
        total = trainer.num_val_batches
        total = sum(total) if isinstance(total, (list, tuple)) else total
        self._val = ProgressLine(f"validating at step {int(trainer.global_step)}:",
                                 int(total) if total is not None and math.isfinite(total) else None,
                                 self.every_s, unit="batches", stream=self.stream, quiet_start=True)

    def on_validation_batch_end(self, trainer, pl_module, outputs, batch, batch_idx, dataloader_idx=0) -> None:
        val = getattr(self, "_val", None)
        if val is not None:  # a line only when a validation takes longer than the interval
            val.update(1)

    def on_validation_end(self, trainer, pl_module) -> None:
        if self.line is None or trainer.sanity_checking:
            return
        self._val = None
        self.line._last = time.monotonic()  # the next step line comes an interval after the validation
        text = _val_text(trainer.callback_metrics)
        if text:
            self.line.print(f"validation at step {int(trainer.global_step)}: {text}")


class RichProgress(_StepProgress):
    """A rich bar over the run's optimizer steps (not per epoch) with the mean loss, steps/s, elapsed
    time and ETA, and a transient bar while validating; validation metrics are printed above the bar."""

    def __init__(self, every_s: float = 0.5, stream: Optional[TextIO] = None, label: str = "",
                 console: Any = None) -> None:
        super().__init__(every_s, stream, label)
        self.console = console
        self._progress = None
        self._task = None
        self._val_task = None
        self._last_loss_t = 0.0

    def _make(self, trainer) -> None:
        from rich.console import Console
        from rich.progress import (BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn,
                                   TimeRemainingColumn)

        console = self.console or Console(file=self.stream if self.stream is not None else sys.stderr)
        self._progress = Progress(TextColumn("[bold]{task.description}"), BarColumn(), MofNCompleteColumn(),
                                  TextColumn("{task.fields[info]}"), TextColumn("{task.fields[rate]}"),
                                  TimeElapsedColumn(), TextColumn("ETA"), TimeRemainingColumn(),
                                  console=console, refresh_per_second=4)
        self._progress.start()
        self._t0 = time.monotonic()
        self._step0 = int(trainer.global_step)
        self._task = self._progress.add_task(self.label or "training", total=_total_steps(trainer),
                                             completed=self._step0, info="", rate="")

    def on_train_start(self, trainer, pl_module) -> None:
        if self._active(trainer):
            self._make(trainer)

    def on_train_batch_end(self, trainer, pl_module, outputs, batch, batch_idx) -> None:
        if self._progress is None:
            return
        self._add_loss(trainer, outputs)
        step = int(trainer.global_step)
        fields: Dict[str, str] = {}
        now = time.monotonic()
        if now - self._last_loss_t >= self.every_s:
            self._last_loss_t = now
            loss = self._take_loss()
            if loss is not None:
                fields["info"] = f"loss {format_value(loss)}"
            dt = now - self._t0
            if dt > 0 and step > self._step0:
                fields["rate"] = f"{(step - self._step0) / dt:.3g} steps/s"
        self._progress.update(self._task, completed=step, **fields)

    def on_validation_start(self, trainer, pl_module) -> None:
        if self._progress is None or trainer.sanity_checking:
            return
        total = trainer.num_val_batches
        total = sum(total) if isinstance(total, (list, tuple)) else total
        total = int(total) if total is not None and math.isfinite(total) else None
        self._val_task = self._progress.add_task("validating", total=total, info="", rate="")

    def on_validation_batch_end(self, trainer, pl_module, outputs, batch, batch_idx, dataloader_idx=0) -> None:
        if self._progress is not None and self._val_task is not None:
            self._progress.advance(self._val_task)

    def on_validation_end(self, trainer, pl_module) -> None:
        if self._progress is None or trainer.sanity_checking:
            return
        if self._val_task is not None:
            self._progress.remove_task(self._val_task)
            self._val_task = None
        text = _val_text(trainer.callback_metrics)
        if text:
            self._progress.console.print(f"validation at step {int(trainer.global_step)}: {text}",
                                         highlight=False, markup=False)

    def _stop(self) -> None:
        if self._progress is not None:
            self._progress.stop()
            self._progress = None

    def on_train_end(self, trainer, pl_module) -> None:
        self._stop()

    def on_exception(self, trainer, pl_module, exception: BaseException) -> None:
        self._stop()


def training_progress(kind: str, every_s: float = 5.0, stream: Optional[TextIO] = None,
                      label: str = "") -> "tuple[Optional[Callback], bool]":
    """``(callback, is_lightning_bar)`` for ``train.progress`` on this output (see the module docstring);
    the callback is ``None`` for ``silent``, and ``is_lightning_bar`` says the trainer must enable its bar."""
    resolved = resolve_progress(kind, stream)
    if resolved == "silent":
        return None, False
    if resolved == "rich":
        return RichProgress(stream=stream, label=label), False
    if resolved == "tqdm":
        from lightning.pytorch.callbacks import TQDMProgressBar

        return TQDMProgressBar(), True
    return PlainProgress(every_s=every_s, stream=stream, label=label), False



class RunProgress:
    """Progress of a study's runs (standard error): ``[3/12] variant=FSQ seed=1: training`` when a run
    starts, ``[3/12] variant=FSQ seed=1: trained in 41s | recon_mse 0.1234 | ETA 6m10s`` when it ends
    (the ETA from the mean time of the runs trained so far), and :meth:`summary_text` at the end.

    >>> runs = RunProgress(12)                                   # doctest: +SKIP
    >>> runs.begin(variant="FSQ", seed=1); ...; runs.end(metrics)  # doctest: +SKIP
    """

    def __init__(self, total: int, stream: Optional[TextIO] = None, metric_keys: Sequence[str] = (),
                 limit: int = 3) -> None:
        self.total = int(total)
        self.stream = stream
        # names, or an ablation report's columns ({key: ..., label: ...})
        self.metric_keys = [str(k.get("key")) if isinstance(k, Mapping) else str(k) for k in metric_keys]
        self.limit = int(limit)
        self.index = 0
        self.trained: list = []  # durations of runs trained here (s)
        self.reused = 0
        self._t0 = time.monotonic()
        self._run_t0 = self._t0
        self._what = ""

    def _print(self, text: str) -> None:
        print(text, file=self.stream if self.stream is not None else sys.stderr, flush=True)

    def begin(self, reused: bool = False, **what: Any) -> None:
        """A run starts; ``what`` names it (``variant=..., seed=...``); ``reused``: a finished run is read back."""
        self.index += 1
        self._run_t0 = time.monotonic()
        self._reused = bool(reused)
        self._what = " ".join(f"{k}={v}" for k, v in what.items())
        self._print(f"[{self.index}/{self.total}] {self._what}: {'finished before, reading it' if reused else 'training'}")

    def _metrics_text(self, metrics: Mapping[str, Any]) -> list:
        keys = [k for k in self.metric_keys if k in metrics] or [
            k for k in metrics if not str(k).startswith("baseline") and k != "wall_time_s"]
        out = []
        for k in keys[: self.limit]:
            try:
                out.append(f"{k} {format_value(float(metrics[k]))}")
            except (TypeError, ValueError):
                continue
        return out

    def eta_s(self) -> float:
        left = self.total - self.index
        if left <= 0:
            return 0.0
        if not self.trained:
            return math.nan
        return left * sum(self.trained) / len(self.trained)

    def end(self, metrics: Optional[Mapping[str, Any]] = None) -> None:
        """The run that began last has ended, with these (final) ``metrics``."""
        dt = time.monotonic() - self._run_t0
        if self._reused:
            self.reused += 1
            head = "finished before"
        else:
            self.trained.append(dt)
            head = f"trained in {format_duration(dt)}"
        parts = [f"[{self.index}/{self.total}] {self._what}: {head}", *self._metrics_text(metrics or {})]
        if self.index < self.total:
            parts.append(f"ETA {format_duration(self.eta_s())}")
        self._print(" | ".join(parts))

    def close(self, what: str = "study") -> None:
        """Print :meth:`summary_text` after ``what``."""
        self._print(f"{what}: {self.summary_text()}")

    def summary_text(self) -> str:
        """``12 runs (10 trained, 2 finished before) in 8m12s``."""
        return (f"{self.index} run{'s' if self.index != 1 else ''} ({len(self.trained)} trained, {self.reused} "
                f"finished before) in {format_duration(time.monotonic() - self._t0)}")
