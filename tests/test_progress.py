"""Progress lines and bars, the end-of-training summary, and the cache's rebuild messages."""

from __future__ import annotations

import contextlib
import io
import json
import re
import time

import lightning as L
import numpy as np
import pytest
import torch
from test_engine import ToyConfig, ToyData, ToyModule, toy_cfg, toy_evaluate

from motionlab.data.cache import ArrayCache, cache_key
from motionlab.errors import MotionLabError
from motionlab.recipes.base import Recipe
from motionlab.train.callbacks import NonFiniteTraining
from motionlab.train.engine import train
from motionlab.train.progress import (ProgressLine, RichProgress, RunProgress, format_duration, format_value,
                                      resolve_progress, training_progress)
from motionlab.train.summary import (MetricRow, TrainingSummary, baseline_key, format_summary, metric_rows,
                                     summarize_run, summary_line)

STEP_LINE = re.compile(r"^step (\d+)/(\d+) \(\d+%\) \| epoch \d+ \| loss \S+ \| \S+ steps/s \| \S+( \| ETA \S+)?$")


class BaselineToy(ToyModule):
    """The toy regression with a declared main metric and a baseline (predicting 0)."""

    main_metrics = ("val/loss",)

    def validation_step(self, batch, batch_idx):
        x, y = batch
        self.log("val/loss", torch.nn.functional.mse_loss(self.model(x), y), on_epoch=True)
        self.log("val/other", 1.0, on_epoch=True)
        self.log_baseline("zero", "loss", y.pow(2).mean(), batch_size=len(y))


class Slow(L.Callback):
    """Makes every step take at least ``dt`` seconds, so that periodic lines have time to come due."""

    def __init__(self, dt: float) -> None:
        self.dt = dt

    def on_train_batch_end(self, trainer, pl_module, outputs, batch, batch_idx):
        time.sleep(self.dt)


BTOY = Recipe(name="btoy", config_cls=ToyConfig, build=lambda cfg: (BaselineToy(cfg), ToyData(cfg)),
              evaluate=lambda run_dir: toy_evaluate(run_dir))


def _run(recipe, run_dir, *overrides, callbacks=(), **kw):
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        train(recipe, toy_cfg(*overrides), run_dir=run_dir, callbacks=callbacks, **kw)
    return out.getvalue(), err.getvalue()


@pytest.fixture(scope="module")
def plain_run(tmp_path_factory):
    """One toy run, not in a terminal, with a line due every 0.1 s while steps take 0.03 s."""
    run = tmp_path_factory.mktemp("plain") / "run"
    out, err = _run(BTOY, run, "train.progress=auto", "train.progress_every_s=0.1", "train.plots=true",
                    callbacks=[Slow(0.03)])
    return run, out, err


# --- progress -----------------------------------------------------------------------------------


class _Tty(io.StringIO):
    def isatty(self):
        return True


def test_progress_kinds_follow_the_output(monkeypatch):
    monkeypatch.setenv("TERM", "xterm")
    pipe, tty = io.StringIO(), _Tty()
    for kind in ("auto", "rich", "tqdm", "plain", "none"):
        assert resolve_progress(kind, pipe) == "plain"  # a log file or a pipe always gets plain lines
    assert resolve_progress("auto", tty) == "rich" and resolve_progress("rich", tty) == "rich"
    assert resolve_progress("tqdm", tty) == "tqdm" and resolve_progress("none", tty) == "plain"
    assert resolve_progress("silent", tty) == "silent" and training_progress("silent", stream=tty) == (None, False)
    monkeypatch.setenv("TERM", "dumb")
    assert resolve_progress("auto", tty) == "plain"
    with pytest.raises(MotionLabError, match="valid choices: auto, rich, tqdm, plain, none, silent"):
        resolve_progress("loud", pipe)


def test_formatting():
    assert [format_duration(s) for s in (0.4, 42, 185, 7620, float("nan"))] == ["0s", "42s", "3m05s", "2h07m", "?"]
    assert [format_value(v) for v in (0.123456, 0, 12345.6, 1e-5, float("inf"))] == ["0.1235", "0", "1.235e+04",
                                                                                     "1.000e-05", "inf"]


def test_progress_line_prints_at_start_when_due_and_at_the_end():
    buf = io.StringIO()
    p = ProgressLine("clips", total=10, every_s=3600, unit="clips", stream=buf)
    printed = [p.update(1) for _ in range(10)]
    assert printed == [True] + [False] * 8 + [True]  # the first, then nothing due for an hour, then the last
    lines = buf.getvalue().splitlines()
    assert lines[0].startswith("clips 1/10 (10%) | ") and "ETA" in lines[0]
    assert lines[1].startswith("clips 10/10 (100%) | ") and "ETA" not in lines[1]
    p2 = ProgressLine("runs", total=3, every_s=0, stream=buf)
    assert all(p2.update(1, extra=["x"]) for _ in range(3))


def test_plain_lines_come_every_few_seconds_with_steps_loss_rate_and_eta(plain_run):
    _, _, err = plain_run
    lines = err.splitlines()
    assert lines[0].startswith("btoy: training for 40 steps on cpu") and "run folder" in lines[0]
    steps = [int(m.group(1)) for m in map(STEP_LINE.match, lines) if m]
    assert steps[0] == 1 and steps[-1] == 40  # one line right away, one at the end
    assert 5 <= len(steps) < 30  # periodic: not every step (0.03 s steps, a line every 0.1 s)
    assert all(b > a for a, b in zip(steps, steps[1:]))
    assert any(" | ETA " in ln for ln in lines if STEP_LINE.match(ln))
    vals = [ln for ln in lines if ln.startswith("validation at step ")]
    assert len(vals) == 4 and "val/loss" in vals[-1] and "baseline" not in vals[-1]


def test_a_line_only_when_due(tmp_path):
    _, err = _run(BTOY, tmp_path / "r", "train.progress=none", "train.progress_every_s=3600", "train.max_steps=20")
    steps = [int(m.group(1)) for m in map(STEP_LINE.match, err.splitlines()) if m]
    assert steps == [1, 20]  # `none` means no bar, never silence: the first and the last step


def test_silent_is_silent(tmp_path):
    out, err = _run(BTOY, tmp_path / "r", "train.progress=silent", "train.max_steps=10")
    assert out == "" and err == ""
    hist = json.loads((tmp_path / "r" / "history.json").read_text())
    assert hist["summary"]["steps"] == 10  # still recorded
    assert not (tmp_path / "r" / "plots").exists()


def test_rich_bar_counts_optimizer_steps(tmp_path):
    from rich.console import Console

    buf = io.StringIO()
    bar = RichProgress(console=Console(file=buf, force_terminal=True, width=140))
    _run(BTOY, tmp_path / "r", "train.progress=silent", "train.max_steps=20", callbacks=[bar])
    text = re.sub(r"\x1b\[[0-9;?]*[A-Za-z]", "", buf.getvalue())
    assert "20/20" in text and "steps/s" in text and "loss" in text and "ETA" in text
    assert "validation at step 20: val/loss" in text


# --- summary ------------------------------------------------------------------------------------


def test_summary_shows_main_metrics_baselines_and_files(plain_run):
    run, out, _ = plain_run
    assert out.startswith("btoy completed: 40 steps in ")
    table = out.splitlines()
    head = next(ln for ln in table if ln.strip().startswith("validation at step 40"))
    assert head.split()[-2:] == ["model", "zero"]
    row = next(ln for ln in table if ln.strip().startswith("val/loss"))
    hist = json.loads((run / "history.json").read_text())
    last = hist["val"][-1]
    assert format_value(last["val/loss"]) in row and format_value(last["val/baseline/zero/loss"]) in row
    assert re.search(r"\(\d\.?\d*x\)", row)  # model / baseline
    assert not any(ln.strip().startswith("val/other") for ln in table)  # only the declared main metric
    assert f"run folder: {run}" in out and "checkpoints/last.ckpt" in out and "metrics.csv" in out
    assert str(run / "plots" / "training.png") in out and (run / "plots" / "training.png").stat().st_size > 5000
    s = hist["summary"]
    assert s["status"] == "completed" and s["steps"] == 40 and s["wall_time_s"] > 0 and s["steps_per_s"] > 0
    assert s["metrics"] == [{"name": "val/loss", "value": last["val/loss"],
                             "baselines": {"zero": last["val/baseline/zero/loss"]}}]
    # the model learned: far below the zero baseline
    assert last["val/loss"] < 0.2 * last["val/baseline/zero/loss"]
    again = summarize_run(run)  # from the folder alone: the same rows
    assert [m.name for m in again.metrics] == ["val/loss"] and again.metric("loss").baselines


def test_summary_defaults_to_every_val_metric_and_one_line(tmp_path):
    rows = metric_rows({"val/a": 1.0, "val/b": 2.0, baseline_key("mean", "a"): 4.0, "step": 3})
    assert [(r.name, r.baselines) for r in rows] == [("val/a", {"mean": 4.0}), ("val/b", {})]
    assert [r.name for r in metric_rows({"val/a": 1.0, "val/b": 2.0}, ["b", "val/missing"])] == ["val/b"]
    s = TrainingSummary(recipe="x", run_dir=str(tmp_path), status="completed", steps=10, wall_time_s=65.0,
                        metrics=[MetricRow("val/a", 0.5, {"mean_pose": 2.0})])
    assert summary_line(s) == "x completed: 10 steps in 1m05s | val/a 0.5 (mean pose 2)"
    assert "0.25x" in format_summary(s)
    out, _ = _run(BTOY, tmp_path / "r", "train.max_steps=10", summary="line")
    assert len(out.splitlines()) == 1 and out.startswith("btoy completed: 10 steps in ")
    with pytest.raises(MotionLabError, match="valid choices: full, line, none"):
        train(BTOY, toy_cfg(), run_dir=tmp_path / "q", summary="loud")


def test_a_failed_run_still_says_how_far_it_got(tmp_path):
    with pytest.raises(NonFiniteTraining):
        _run(BTOY, tmp_path / "r", "nan_steps=[12,13,14,15,16]")
    hist = json.loads((tmp_path / "r" / "history.json").read_text())
    assert hist["summary"]["status"] == "diverged" and "NonFiniteTraining" in hist["summary"]["error"]
    out = format_summary(summarize_run(tmp_path / "r"))
    assert out.startswith("btoy diverged: ") and "stopped by: NonFiniteTraining" in out and "next:" not in out


# --- cache --------------------------------------------------------------------------------------


def test_cache_says_why_it_rebuilds(tmp_path):
    src = tmp_path / "clip.txt"
    src.write_text("1")
    msgs = []
    cache = ArrayCache(tmp_path / "cache", report=msgs.append)

    def get(desc):
        key = cache_key([src], desc)
        return key, cache.get_or_build(key, lambda: {"a": np.arange(4)}, desc, sources=[src], what="windows")

    d32 = {"config": {"window": 32, "fps": 30}, "code": "abc"}
    k1, _ = get(d32)
    get(d32)  # a hit: nothing said
    assert len(msgs) == 1 and msgs[0].startswith(f"cache: building windows {k1[:8]} in ")
    assert msgs[0].endswith("(missing: no entry for these inputs and settings yet)")
    k2, _ = get({"config": {"window": 64, "fps": 30}, "code": "abc"})
    assert msgs[1].endswith(f"(stale: settings changed since entry {k1[:8]}: config.window)")
    src.write_text("2")
    k3, _ = get({"config": {"window": 64, "fps": 30}, "code": "abc"})
    assert msgs[2].endswith(f"(stale: 1 source file(s) changed since entry {k2[:8]}: clip.txt)")
    f = cache.path(k3) / "a.npy"
    raw = bytearray(f.read_bytes())
    raw[-1] ^= 0xFF
    f.write_bytes(bytes(raw))
    _, arrays = get({"config": {"window": 64, "fps": 30}, "code": "abc"})
    assert msgs[3].endswith("(corrupted: the checksum of a.npy does not match)")
    np.testing.assert_array_equal(arrays["a"], np.arange(4))  # rebuilt, not read corrupted
    with open(f, "r+b") as h:
        h.truncate(10)
    get({"config": {"window": 64, "fps": 30}, "code": "abc"})
    assert re.search(r"\(corrupted: a\.npy is truncated \(10 of \d+ bytes\)\)$", msgs[4])
    assert len(msgs) == 5


# --- ablations ----------------------------------------------------------------------------------


def test_run_progress_lines_and_eta():
    buf = io.StringIO()
    runs = RunProgress(3, stream=buf, metric_keys=[{"key": "recon", "label": "Recon"}])
    runs.begin(variant="FSQ", seed=1)
    runs.end({"recon": 0.5, "other": 2.0})
    runs.begin(reused=True, variant="FSQ", seed=2)
    runs.end({"recon": 0.25})
    runs.begin(variant="VQ", seed=1)
    runs.end({"baseline_recon": 1.0, "ppl": 3.0})
    runs.close("ablation")
    lines = buf.getvalue().splitlines()
    assert lines[0] == "[1/3] variant=FSQ seed=1: training"
    assert re.match(r"^\[1/3\] variant=FSQ seed=1: trained in \d+s \| recon 0\.5 \| ETA \d+s$", lines[1])
    assert lines[2] == "[2/3] variant=FSQ seed=2: finished before, reading it"
    assert lines[3].startswith("[2/3] variant=FSQ seed=2: finished before | recon 0.25 | ETA ")
    assert re.match(r"^\[3/3\] variant=VQ seed=1: trained in \d+s \| ppl 3$", lines[5])  # no baselines, no ETA
    assert re.match(r"^ablation: 3 runs \(2 trained, 1 finished before\) in \d+s$", lines[6])


ABLATION = """
recipe: btoy
config: {train: {max_steps: 12, val_every: 6, checkpoint_every: 6, plots: false}}
seeds: [0]
variants:
  - name: small
    config: {hidden: 4}
  - name: wide
    config: {hidden: 32}
report:
  columns: [{key: val_mse, label: MSE}]
  tsne: false
"""


def test_ablate_shows_each_run_and_ends_with_the_table(tmp_path, capsys, monkeypatch):
    from motionlab.cli import main
    from motionlab.recipes import registry

    monkeypatch.setitem(registry.RECIPES, "btoy", "test_progress:BTOY")
    (tmp_path / "a.yaml").write_text(ABLATION)
    argv = ["ablate", str(tmp_path / "a.yaml"), "--seeds", "1", "--out", str(tmp_path / "out")]
    assert main(argv) == 0
    captured = capsys.readouterr()
    err = captured.err.splitlines()
    assert "[1/2] variant=small seed=0: training" in err and "[2/2] variant=wide seed=0: training" in err
    done = [ln for ln in err if re.match(r"^\[\d/2\] variant=\w+ seed=0: trained in ", ln)]
    assert len(done) == 2 and " | val_mse " in done[0] and " | ETA " in done[0]
    assert any(STEP_LINE.match(ln) for ln in err)  # each run's own progress lines
    assert re.match(r"^ablation: 2 runs \(2 trained, 0 finished before\) in ", err[-1])
    out = captured.out
    assert "| small |" in out.replace("  ", " ") or "small" in out.splitlines()[2]
    assert f"ablation report: {tmp_path / 'out' / 'table.md'}" in out and "results.json" in out
    assert "btoy completed" not in out  # per-run summaries give way to the run lines
    assert main(argv) == 0  # again: nothing left to train
    err = capsys.readouterr().err
    assert "[1/2] variant=small seed=0: finished before, reading it" in err
    assert "ablation: 2 runs (0 trained, 2 finished before) in " in err
    run = tmp_path / "out" / "runs" / "wide" / "seed_0"
    assert main(["eval", str(run)]) == 0  # a long command too: says what it does and where it wrote
    err = capsys.readouterr().err.splitlines()
    assert err[0] == f"evaluating {run} ..." and re.match(rf"^evaluated in [\d.]+ s: {re.escape(str(run))}/metrics.json$",
                                                          err[-1])


def test_window_cache_names_the_changed_setting(tiny_corpus, tmp_path, capsys):
    from motionlab.data.dataset import DataConfig, WindowData

    cfg = DataConfig(root=str(tiny_corpus), window=32, stride=16, cache_dir=str(tmp_path / "cache"))
    first = WindowData(cfg)
    WindowData(cfg)  # a hit: silent
    err = capsys.readouterr().err.splitlines()
    assert len(err) == 1 and err[0].startswith(f"cache: building windows of {len(first.clips)} clips ")
    assert err[0].endswith("(missing: no entry for these inputs and settings yet)")
    WindowData(DataConfig(root=str(tiny_corpus), window=48, stride=16, cache_dir=str(tmp_path / "cache")))
    err = capsys.readouterr().err
    assert err.rstrip().endswith(f"(stale: settings changed since entry {first.key[:8]}: config.window)")


def test_quiet_start_says_nothing_when_quick_and_reports_long_loops():
    buf = io.StringIO()
    quick = ProgressLine("reading clips", total=5, every_s=3600, stream=buf, quiet_start=True)
    assert not any(quick.update(1) for _ in range(5)) and buf.getvalue() == ""
    slow = ProgressLine("reading clips", total=3, every_s=0.05, stream=buf, quiet_start=True)
    slow.update(1)
    time.sleep(0.06)
    assert slow.update(1) and slow.update(1)  # due after the interval, then the end
    assert [ln.split(" | ")[0] for ln in buf.getvalue().splitlines()] == ["reading clips 2/3 (67%)",
                                                                         "reading clips 3/3 (100%)"]


def test_long_validations_show_progress(tmp_path):
    class SlowVal(L.Callback):
        def on_validation_batch_start(self, *args, **kwargs):
            time.sleep(0.06)

    _, err = _run(BTOY, tmp_path / "r", "train.max_steps=10", "train.val_every=10",
                  "train.progress_every_s=0.05", callbacks=[SlowVal()])
    lines = err.splitlines()
    assert any(re.match(r"^validating at step 10: [12]/2 \(\d+%\) \| ", ln) for ln in lines)
    assert lines[-1].startswith("validation at step 10: val/loss ")
