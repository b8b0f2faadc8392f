"""An ablation spread over many workers through Optuna's storage (``motionlab ablate FILE --storage URL``).

The variants x seeds of an ablation are the cells of one grid study (named after the ablation file unless
``study`` is given). A worker claims a cell by adding a RUNNING trial that carries the cell's name in one
atomic insert; when two workers claim the same cell, the claim with the lower storage id wins and the
other is withdrawn (``duplicate`` claim, state FAIL) before anything is trained, so every run is done
once. A running claim refreshes its ``heartbeat`` every ``heartbeat_s`` seconds; a claim silent for
``stale_after_s`` seconds belongs to an interrupted worker: the next worker marks it ``stale`` and
claims the cell again, and the engine resumes that run from its last checkpoint in the (shared) output
folder. When every cell is complete, the worker that finished last (or ``motionlab ablate FILE --report``)
writes the merged ``results.json``, tables and plots from the metrics stored in the study and the run
folders it can see.
"""

from __future__ import annotations

import json
import logging
import os
import socket
import threading
import time
from pathlib import Path
from typing import Dict, List, Optional, Sequence, Tuple

from motionlab.errors import MotionLabError

log = logging.getLogger("motionlab.ablation")

CELL = "cell"
HEARTBEAT = "heartbeat"
WITHDRAWN = ("duplicate", "stale")


def cell_name(variant: str, seed: int) -> str:
    return f"{variant}|seed={int(seed)}"


def _study(storage: str, name: str):
    import optuna

    from motionlab.train.tune import normalize_url

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    storage = normalize_url(storage)
    try:
        return optuna.create_study(storage=storage, study_name=name, load_if_exists=True, direction="minimize")
    except Exception as e:
        if type(e).__name__ in ("OperationalError", "ArgumentError", "NoSuchModuleError"):
            raise MotionLabError(f"cannot open the study storage ({str(e).splitlines()[0]})", place=storage) from None
        raise


def _live(trials, cell: str, stale_after_s: float, now: float):
    """Trials of ``cell`` that still count: complete ones and running ones with a fresh heartbeat."""
    from optuna.trial import TrialState

    out = []
    for t in trials:
        if t.user_attrs.get(CELL) != cell or any(t.user_attrs.get(w) for w in WITHDRAWN):
            continue
        if t.state == TrialState.COMPLETE:
            out.append(t)
        elif t.state == TrialState.RUNNING:
            out.append(t)
    return out


def _heartbeat_age(t, now: float) -> float:
    return now - float(t.user_attrs.get(HEARTBEAT, 0.0))


class _Beat:
    """A thread refreshing a trial's heartbeat until stopped."""

    def __init__(self, study, trial_id: int, every: float) -> None:
        self.study, self.trial_id, self.every = study, trial_id, every
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self) -> None:
        while not self.stop.wait(self.every):
            try:
                self.study._storage.set_trial_user_attr(self.trial_id, HEARTBEAT, time.time())
            except Exception as e:  # a lost connection must not kill the training
                log.warning("heartbeat failed: %s", e)

    def close(self) -> None:
        self.stop.set()
        self.thread.join(timeout=5)


def claim(study, cell: str, stale_after_s: float) -> Optional[int]:
    """Claim ``cell``: the trial number of this worker's claim, or ``None`` (done, or another worker has it)."""
    from optuna.trial import TrialState, create_trial

    now = time.time()
    trials = study.get_trials(deepcopy=False)
    for t in _live(trials, cell, stale_after_s, now):
        if t.state == TrialState.COMPLETE:
            return None
        if _heartbeat_age(t, now) <= stale_after_s:
            return None
        study._storage.set_trial_user_attr(t._trial_id, "stale", True)  # an interrupted worker's claim
        study._storage.set_trial_state_values(t._trial_id, state=TrialState.FAIL)
        log.info("cell %s: claim of trial %d is stale; taking it over", cell, t.number)
    me = f"{socket.gethostname()}:{os.getpid()}"
    study.add_trial(create_trial(state=TrialState.RUNNING,
                                 user_attrs={CELL: cell, HEARTBEAT: time.time(), "worker": me}))
    mine = max((t for t in study.get_trials(deepcopy=False)
                if t.user_attrs.get(CELL) == cell and t.user_attrs.get("worker") == me
                and t.state == TrialState.RUNNING), key=lambda t: t._trial_id)
    time.sleep(0.2)  # concurrent claims have committed by now
    rivals = [t for t in _live(study.get_trials(deepcopy=False), cell, stale_after_s, time.time())
              if t._trial_id != mine._trial_id]
    if any(t.state == TrialState.COMPLETE or t._trial_id < mine._trial_id for t in rivals):
        study._storage.set_trial_user_attr(mine._trial_id, "duplicate", True)
        study._storage.set_trial_state_values(mine._trial_id, state=TrialState.FAIL)
        return None
    return mine.number


def run_grid(spec, seed_list: Sequence[int], out: Path, overrides: Sequence[str], storage: str,
             study_name: Optional[str] = None, heartbeat_s: float = 20.0, stale_after_s: float = 120.0) -> Path:
    """This worker's share of the grid study (module docstring); writes the report when the grid is done."""
    from optuna.trial import TrialState

    from motionlab.train.ablation import _run_one, _slug

    name = study_name or (Path(spec.file).stem if spec.file else spec.recipe)
    study = _study(storage, name)
    cells: List[Tuple[object, int]] = [(v, s) for v in spec.variants for s in seed_list]
    ran = 0
    for v, seed in cells:
        cell = cell_name(v.name, seed)
        number = claim(study, cell, stale_after_s)
        if number is None:
            continue
        trial = study.get_trials(deepcopy=False)[number]
        beat = _Beat(study, trial._trial_id, heartbeat_s)
        run_dir = out / "runs" / _slug(v.name) / f"seed_{seed}"
        try:
            print(f"grid {name!r}: {cell} claimed (trial {number}) -> {run_dir}", flush=True)
            result = _run_one(spec, v, seed, run_dir, overrides)
        except BaseException:
            beat.close()
            study._storage.set_trial_state_values(trial._trial_id, state=TrialState.FAIL)
            raise
        beat.close()
        storage_ = study._storage
        storage_.set_trial_user_attr(trial._trial_id, "metrics", result.metrics)
        storage_.set_trial_user_attr(trial._trial_id, "run_dir", str(run_dir.resolve()))
        first = next(iter(result.metrics.values()), 0.0)
        storage_.set_trial_state_values(trial._trial_id, state=TrialState.COMPLETE, values=[float(first)])
        ran += 1
    print(f"grid {name!r}: this worker ran {ran} of {len(cells)} runs", flush=True)
    if grid_done(study, cells):
        write_grid_report(spec, seed_list, out, storage, name)
    return out


def grid_done(study, cells) -> bool:
    from optuna.trial import TrialState

    complete = {t.user_attrs.get(CELL) for t in study.get_trials(deepcopy=False)
                if t.state == TrialState.COMPLETE and not any(t.user_attrs.get(w) for w in WITHDRAWN)}
    return all(cell_name(v.name, s) in complete for v, s in cells)


def grid_results(spec, seed_list: Sequence[int], out: Path, storage: Optional[str], study_name: Optional[str]):
    """``(results, run_dirs, missing cells)`` from the study (or, without storage, the run folders)."""
    from motionlab.report.tables import RunResult
    from motionlab.train.ablation import _slug, collect_history

    done: Dict[str, Dict] = {}
    if storage:
        from optuna.trial import TrialState

        study = _study(storage, study_name or (Path(spec.file).stem if spec.file else spec.recipe))
        for t in study.get_trials(deepcopy=False):
            if t.state == TrialState.COMPLETE and not any(t.user_attrs.get(w) for w in WITHDRAWN):
                done[t.user_attrs.get(CELL)] = dict(t.user_attrs.get("metrics") or {})
    results, run_dirs, missing = [], {}, []
    for v in spec.variants:
        for s in seed_list:
            run_dir = out / "runs" / _slug(v.name) / f"seed_{s}"
            run_dirs[(v.name, s)] = run_dir
            metrics = done.get(cell_name(v.name, s))
            if metrics is None and not storage and (run_dir / "metrics.json").is_file():
                raw = json.loads((run_dir / "metrics.json").read_text(encoding="utf-8"))
                metrics = {k: float(x) for k, x in raw.items() if isinstance(x, (int, float)) and not isinstance(x, bool)}
            if metrics is None:
                missing.append(cell_name(v.name, s))
                continue
            results.append(RunResult(v.name, int(s), metrics, collect_history(run_dir)))
    return results, run_dirs, missing


def write_grid_report(spec, seed_list: Sequence[int], out: Path, storage: Optional[str],
                      study_name: Optional[str] = None) -> Path:
    """The merged report of every finished cell (an error names the cells still missing)."""
    from motionlab.train.ablation import write_report

    results, run_dirs, missing = grid_results(spec, seed_list, out, storage, study_name)
    if not results:
        raise MotionLabError(f"no finished runs to report yet (missing: {', '.join(missing)})", file=out)
    if missing:
        log.warning("report without %d unfinished run(s): %s", len(missing), ", ".join(missing))
    seen = {k: d for k, d in run_dirs.items() if d.is_dir()}
    if len(seen) < len(run_dirs):  # run folders on other machines: no t-SNE from them
        spec.report = {**spec.report, "tsne": False}
    write_report(results, out, spec, run_dirs)
    print(f"ablation report: {out / 'table.md'} ({len(results)} runs"
          + (f", {len(missing)} missing" if missing else "") + ")", flush=True)
    return out
