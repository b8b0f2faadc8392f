"""``motionlab tune``: hyper-parameter search over any recipe with Optuna, on one machine or many.

A search-space file (YAML; ``configs/tune/<recipe>.yaml`` is the default for a recipe) reads::

    recipe: predictor
    base: predictor/tiny.yaml            # optional: config file(s), beside this file or in motionlab/configs
    overrides: [train.max_epochs=12]     # optional dotted overrides for every trial
    metric: free_GeoDeg                  # a key of the recipe's evaluate() result (metrics.json)
    direction: minimize                  # or maximize
    prune_on: val/free_GeoDeg            # optional: a validation value reported every validation (median pruning)
    pruner: {startup_trials: 3, warmup_steps: 2}
    space:
      train.lr: {type: loguniform, low: 3.0e-4, high: 3.0e-3}
      loss.w_rot_delta_root: {type: uniform, low: 0.5, high: 2.0}
      model.hidden: {type: categorical, choices: [128, 256]}
      data.batch_size: {type: int, low: 16, high: 64, step: 16}
      freerun_stage_schedule[2].trainer.freerun_weight: {type: uniform, low: 0.3, high: 0.45}

Keys are config keys; ``name[i]`` indexes a list (stage-schedule entries). Sampler: TPE (seeded); pruner:
median. Every trial is an ordinary run folder ``<out>/trials/trial_<n>`` (``trial.json`` beside its
config holds the sampled values); the study lives in Optuna's storage: ``sqlite:///<out>/study.db`` by
default, or any database URL (``postgresql://user@host/db``) shared by workers on many machines, each
running the same command. ``--workers K`` starts K local worker processes that split the machine's
cores (torch threads = cores / K). The trial budget ``--trials N`` is shared: trials are ranked by
their storage id and a worker whose trial ranks past N marks it ``budget_exceeded`` and stops, so N
trials run, none twice. At the end ``<out>`` holds ``best.yaml`` (the best trial's resolved config),
``study.json`` (every trial: number, state, value, params, run folder) and ``plots/history.png``,
``plots/importance.png`` (Optuna's matplotlib plots).
"""

from __future__ import annotations

import copy
import json
import logging
import os
import re
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Dict, List, Optional, Sequence, Union

from motionlab.errors import MotionLabError, choices_error

log = logging.getLogger("motionlab.tune")

PathLike = Union[str, "os.PathLike[str]"]
KINDS = ("loguniform", "uniform", "int", "categorical")
OVERFLOW = "budget_exceeded"

__all__ = ["TuneSpec", "load_space", "set_path", "apply_params", "run_study", "write_study_report", "cpu_count",
           "default_space", "add_parser", "normalize_url"]


@dataclass
class TuneSpec:
    """A parsed search-space file (see the module docstring)."""

    recipe: str
    space: Dict[str, Dict[str, Any]]
    base: List[Path] = field(default_factory=list)
    overrides: List[str] = field(default_factory=list)
    metric: str = "val/loss"
    direction: str = "minimize"
    prune_on: str = ""
    pruner: Dict[str, int] = field(default_factory=dict)
    file: Optional[Path] = None


def _configs_dir() -> Path:
    return Path(__file__).resolve().parents[1] / "configs"


def default_space(recipe: str) -> Path:
    """``configs/tune/<recipe>.yaml`` of the package."""
    path = _configs_dir() / "tune" / f"{recipe}.yaml"
    if not path.is_file():
        raise MotionLabError(f"recipe {recipe!r} has no packaged search space; pass --space FILE", file=path)
    return path


def load_space(file: PathLike, recipe: Optional[str] = None) -> TuneSpec:
    """Read and check a search-space file; ``recipe`` (if given) must match its ``recipe``."""
    import yaml

    path = Path(file)
    if not path.is_file():
        raise MotionLabError("search-space file not found", file=path)
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except yaml.YAMLError as e:
        raise MotionLabError(f"invalid YAML: {getattr(e, 'problem', None) or e}", file=path) from None
    known = {"recipe", "base", "overrides", "metric", "direction", "prune_on", "pruner", "space", "description"}
    unknown = sorted(set(data) - known)
    if unknown:
        raise MotionLabError(f"unknown key(s) {unknown}; valid keys: {', '.join(sorted(known))}", file=path)
    name = data.get("recipe", recipe)
    if not isinstance(name, str):
        raise MotionLabError("missing 'recipe'", file=path, place="recipe")
    if recipe is not None and name != recipe:
        raise MotionLabError(f"this search space is for recipe {name!r}, not {recipe!r}", file=path, place="recipe")
    if data.get("direction", "minimize") not in ("minimize", "maximize"):
        raise choices_error("direction", data.get("direction"), ("minimize", "maximize"), file=path, place="direction")
    space = data.get("space")
    if not isinstance(space, dict) or not space:
        raise MotionLabError("needs a non-empty mapping 'space' of config key -> distribution", file=path, place="space")
    for key, d in space.items():
        place = f"space.{key}"
        if not isinstance(d, dict) or d.get("type") not in KINDS:
            raise choices_error("distribution type", (d or {}).get("type") if isinstance(d, dict) else d, KINDS,
                                file=path, place=place)
        if d["type"] == "categorical":
            if not isinstance(d.get("choices"), list) or not d["choices"]:
                raise MotionLabError("categorical needs a non-empty list 'choices'", file=path, place=place)
        else:
            try:
                lo, hi = float(d["low"]), float(d["high"])
            except (KeyError, TypeError, ValueError):
                raise MotionLabError(f"{d['type']} needs numbers 'low' and 'high'", file=path, place=place) from None
            if not lo < hi or (d["type"] == "loguniform" and lo <= 0):
                raise MotionLabError(f"needs low < high (and low > 0 for loguniform), got {lo}, {hi}", file=path,
                                     place=place)
    bases = data.get("base") or []
    bases = [bases] if isinstance(bases, str) else list(bases)
    base_paths = []
    for b in bases:
        for cand in (path.parent / b, _configs_dir() / b):
            if cand.is_file():
                base_paths.append(cand.resolve())
                break
        else:
            raise MotionLabError(f"base config {b!r} found neither beside the file nor in the package", file=path,
                                 place="base")
    pr = data.get("pruner") or {}
    return TuneSpec(recipe=name, space=space, base=base_paths, overrides=list(data.get("overrides") or []),
                    metric=str(data.get("metric", "val/loss")), direction=data.get("direction", "minimize"),
                    prune_on=str(data.get("prune_on") or ""), pruner={k: int(v) for k, v in pr.items()}, file=path)


# --- config paths ---------------------------------------------------------------------------------

_PART = re.compile(r"^([A-Za-z_][A-Za-z0-9_]*)((?:\[\d+\])*)$")


def _parts(key: str) -> List[Union[str, int]]:
    out: List[Union[str, int]] = []
    for part in key.split("."):
        m = _PART.match(part)
        if not m:
            raise MotionLabError(f"bad config key {key!r} (use a.b.c or list[i].field)", place=key)
        out.append(m.group(1))
        out += [int(i) for i in re.findall(r"\[(\d+)\]", m.group(2))]
    return out


def set_path(cfg: Any, key: str, value: Any) -> Any:
    """A copy of dataclass config ``cfg`` with ``key`` (dotted, ``name[i]`` for list items) set to ``value``;
    checked like any config (unknown keys and wrong types are errors)."""
    from motionlab.config import from_dict, to_dict

    d = to_dict(cfg)
    node: Any = d
    parts = _parts(key)
    for i, p in enumerate(parts[:-1]):
        try:
            node = node[p]
        except (KeyError, IndexError, TypeError):
            where = ".".join(str(x) for x in parts[:i + 1])
            if isinstance(node, list):
                raise MotionLabError(f"index {p} is past the {len(node)} entries of the list", place=key) from None
            valid = ", ".join(map(str, node)) if isinstance(node, dict) else "none"
            raise MotionLabError(f"unknown key {where!r}; valid keys here: {valid}", place=key) from None
    last = parts[-1]
    if isinstance(node, list) and (not isinstance(last, int) or last >= len(node)):
        raise MotionLabError(f"index {last} is past the {len(node)} entries of the list", place=key)
    node[last] = copy.deepcopy(value)
    return from_dict(type(cfg), d)


def apply_params(cfg: Any, params: Dict[str, Any]) -> Any:
    """``cfg`` with every sampled ``key -> value`` set (:func:`set_path`)."""
    for k, v in params.items():
        cfg = set_path(cfg, k, v)
    return cfg


def _suggest(trial, key: str, d: Dict[str, Any]) -> Any:
    kind = d["type"]
    if kind == "loguniform":
        return trial.suggest_float(key, float(d["low"]), float(d["high"]), log=True)
    if kind == "uniform":
        return trial.suggest_float(key, float(d["low"]), float(d["high"]))
    if kind == "int":
        return trial.suggest_int(key, int(d["low"]), int(d["high"]), step=int(d.get("step", 1)))
    return trial.suggest_categorical(key, list(d["choices"]))


def base_config(spec: TuneSpec, config: Optional[Sequence[PathLike]] = None, overrides: Sequence[str] = ()) -> Any:
    from motionlab.config import load_config
    from motionlab.recipes.registry import get_recipe

    rec = get_recipe(spec.recipe)
    files = list(config) if config else (spec.base or [rec.default_config_path()])
    return load_config(rec.config_cls, files, list(spec.overrides) + list(overrides))


# --- workers and storage --------------------------------------------------------------------------


def cpu_count() -> int:
    """Cores this process may use."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover
        return os.cpu_count() or 1


def threads_per_worker(workers: int) -> int:
    """torch threads per worker when ``workers`` share this machine: ``max(1, cores // workers)``."""
    return max(1, cpu_count() // max(1, int(workers)))


def storage_url(storage: Optional[str], out: Path) -> str:
    """The storage URL: as given, else ``sqlite:///<out>/study.db``."""
    if storage:
        return storage
    return f"sqlite:///{(out / 'study.db').resolve()}"


def normalize_url(url: str) -> str:
    """A storage URL SQLAlchemy can open here: ``postgresql://`` names the installed driver
    (``psycopg2``, the declared dependency, unless ``psycopg`` 3 is importable)."""
    import importlib.util

    if url.startswith(("postgresql://", "postgres://")):
        rest = url.split("://", 1)[1]
        driver = "psycopg" if importlib.util.find_spec("psycopg") else "psycopg2"
        return f"postgresql+{driver}://{rest}"
    return url


def open_study(url: str, name: str, direction: str = "minimize", seed: int = 0, pruner: Dict[str, int] = None,
               create: bool = True):
    """Load (or create) the study ``name`` in storage ``url`` (TPE sampler seeded, median pruner)."""
    import optuna

    pr = pruner or {}
    url = normalize_url(url)
    sampler = optuna.samplers.TPESampler(seed=seed + os.getpid() % 1000, n_startup_trials=pr.get("sampler_startup", 5))
    median = optuna.pruners.MedianPruner(n_startup_trials=pr.get("startup_trials", 3),
                                         n_warmup_steps=pr.get("warmup_steps", 2))
    try:
        if create:
            return optuna.create_study(storage=url, study_name=name, direction=direction, sampler=sampler,
                                       pruner=median, load_if_exists=True)
        return optuna.load_study(storage=url, study_name=name, sampler=sampler, pruner=median)
    except KeyError:
        raise MotionLabError(f"no study named {name!r} in the storage", place=url) from None
    except Exception as e:  # connection errors of the database driver
        if type(e).__name__ in ("OperationalError", "ArgumentError", "NoSuchModuleError"):
            raise MotionLabError(f"cannot open the study storage ({str(e).splitlines()[0]})", place=url) from None
        raise


def _rank(study, trial) -> int:
    """How many counted trials were created before ``trial`` (by storage id, so two workers agree)."""
    mine = trial._trial_id
    return sum(1 for t in study.get_trials(deepcopy=False)
               if t._trial_id < mine and t.user_attrs.get(OVERFLOW) is None)


class PruningCallback:
    """A Lightning callback reporting ``key`` after every validation to an Optuna trial, raising
    ``optuna.TrialPruned`` when the pruner says so."""

    def __new__(cls, trial, key: str):
        from lightning.pytorch.callbacks import Callback

        class _Pruning(Callback):
            def on_validation_end(self, trainer, pl_module) -> None:
                import optuna

                if trainer.sanity_checking:
                    return
                v = trainer.callback_metrics.get(key)
                if v is None:
                    return
                step = int(trainer.global_step)
                trial.report(float(v), step=step)
                if trial.should_prune():
                    raise optuna.TrialPruned(f"{key}={float(v):.4g} at step {step}")

        return _Pruning()


def _objective_value(metrics: Dict[str, Any], key: str, run_dir: Path) -> float:
    if key not in metrics:
        listed = ", ".join(sorted(k for k, v in metrics.items() if isinstance(v, (int, float))))
        raise MotionLabError(f"metric {key!r} is not in the evaluation; valid: {listed}", file=run_dir,
                             place="metric")
    return float(metrics[key])


def run_trial(study, spec: TuneSpec, base: Any, trial, out: Path) -> Optional[float]:
    """Sample, train and evaluate one trial in ``<out>/trials/trial_<n>``; returns the objective."""
    from motionlab.core.files import atomic_write_text
    from motionlab.train import engine

    params = {k: _suggest(trial, k, d) for k, d in spec.space.items()}
    cfg = apply_params(base, params)
    run_dir = out / "trials" / f"trial_{trial.number:04d}"
    run_dir.mkdir(parents=True, exist_ok=True)
    trial.set_user_attr("run_dir", str(run_dir.resolve()))
    trial.set_user_attr("host", os.uname().nodename if hasattr(os, "uname") else "")
    atomic_write_text(run_dir / "trial.json", json.dumps({"study": study.study_name, "number": trial.number,
                                                          "params": params}, indent=1))
    cbs = [PruningCallback(trial, spec.prune_on)] if spec.prune_on else []
    t0 = time.time()
    engine.train(spec.recipe, cfg=cfg, run_dir=run_dir, callbacks=cbs)
    metrics = engine.evaluate(run_dir, recipe=spec.recipe)
    value = _objective_value(metrics, spec.metric, run_dir)
    print(f"trial {trial.number}: {spec.metric}={value:.4g} in {time.time() - t0:.0f}s  {params}", flush=True)
    return value


def worker(spec: TuneSpec, url: str, study_name: str, trials: int, out: Path, base: Any, seed: int = 0) -> int:
    """One worker: claim trials of the shared budget until it is spent; returns how many this worker ran."""
    import optuna

    study = open_study(url, study_name, spec.direction, seed, spec.pruner)
    ran = 0
    while True:
        done = [t for t in study.get_trials(deepcopy=False) if t.user_attrs.get(OVERFLOW) is None]
        if len(done) >= trials:
            break
        trial = study.ask()
        time.sleep(0.2)  # let concurrent claims commit before ranking
        if _rank(study, trial) >= trials:
            trial.set_user_attr(OVERFLOW, True)
            study.tell(trial, state=optuna.trial.TrialState.FAIL)
            break
        try:
            value = run_trial(study, spec, base, trial, out)
        except optuna.TrialPruned as e:
            print(f"trial {trial.number}: pruned ({e})", flush=True)
            study.tell(trial, state=optuna.trial.TrialState.PRUNED)
        except MotionLabError as e:
            print(f"trial {trial.number}: failed ({e})", flush=True)
            trial.set_user_attr("error", str(e))
            study.tell(trial, state=optuna.trial.TrialState.FAIL)
        else:
            study.tell(trial, value)
        ran += 1
    return ran


def run_study(recipe: str, space: Optional[PathLike] = None, trials: int = 20, storage: Optional[str] = None,
              study: Optional[str] = None, out: Optional[PathLike] = None, workers: int = 1,
              config: Optional[Sequence[PathLike]] = None, overrides: Sequence[str] = (), seed: int = 0,
              threads: int = 0, report: bool = True) -> Path:
    """Run (or join) a study of ``trials`` trials; returns the output folder (module docstring).

    ``workers > 1`` starts that many local worker processes, each with ``cores / workers`` torch threads;
    ``threads`` sets this process's torch threads (0 = all cores, or its share when started as a worker).
    """
    import torch

    spec = load_space(space or default_space(recipe), recipe)
    name = study or (Path(spec.file).stem if spec.file else recipe)
    out = Path(out) if out is not None else Path("tune") / name
    out.mkdir(parents=True, exist_ok=True)
    url = storage_url(storage, out)
    base = base_config(spec, config, overrides)
    apply_params(base, {k: _first_value(d) for k, d in spec.space.items()})  # a bad key fails before any training
    open_study(url, name, spec.direction, seed, spec.pruner)  # create it once, before the workers race
    if workers > 1:
        per = threads_per_worker(workers)
        cmd = [sys.executable, "-m", "motionlab.cli", "tune", recipe, "--trials", str(trials), "--storage", url,
               "--study", name, "--out", str(out), "--threads", str(per), "--no-report"]
        if space:
            cmd += ["--space", str(space)]
        for c in config or ():
            cmd += ["-c", str(c)]
        env = dict(os.environ, OMP_NUM_THREADS=str(per), MKL_NUM_THREADS=str(per))
        print(f"tune: {workers} workers x {per} torch threads on {cpu_count()} cores, study {name!r} in {url}",
              flush=True)
        procs = [subprocess.Popen(cmd + ["--seed", str(seed + 1 + i)] + list(overrides), env=env)
                 for i in range(workers)]
        codes = [p.wait() for p in procs]
        if any(codes):
            raise MotionLabError(f"tune workers exited with codes {codes}", place=name)
    else:
        before = torch.get_num_threads()
        torch.set_num_threads(threads or before)
        try:
            n = worker(spec, url, name, trials, out, base, seed)
        finally:
            torch.set_num_threads(before)
        print(f"tune: this worker ran {n} trial(s)", flush=True)
    if report:
        write_study_report(url, name, out, spec)
    return out


def _first_value(d: Dict[str, Any]) -> Any:
    if d["type"] == "categorical":
        return d["choices"][0]
    return int(d["low"]) if d["type"] == "int" else float(d["low"])


def write_study_report(url: str, name: str, out: PathLike, spec: Optional[TuneSpec] = None) -> Dict[str, Any]:
    """``best.yaml``, ``study.json`` and ``plots/`` of a study (any worker may call it, any time)."""
    import optuna

    from motionlab.core.files import atomic_write_text

    out = Path(out)
    study = open_study(url, name, create=False)
    url = normalize_url(url)
    trials = [t for t in study.get_trials(deepcopy=False) if t.user_attrs.get(OVERFLOW) is None]
    rows = [{"number": t.number, "state": t.state.name, "value": t.value, "params": t.params,
             "run_dir": t.user_attrs.get("run_dir"), "duration_s": t.duration.total_seconds() if t.duration else None,
             "error": t.user_attrs.get("error")} for t in trials]
    complete = [t for t in trials if t.state == optuna.trial.TrialState.COMPLETE]
    summary: Dict[str, Any] = {"study": name, "storage": url.split("@")[-1], "direction": study.direction.name.lower(),
                               "metric": spec.metric if spec else None, "trials": rows,
                               "counts": {s: sum(r["state"] == s for r in rows)
                                          for s in ("COMPLETE", "PRUNED", "FAIL", "RUNNING")}}
    if complete:
        best = study.best_trial
        summary["best"] = {"number": best.number, "value": best.value, "params": best.params,
                           "run_dir": best.user_attrs.get("run_dir")}
        cfg_file = Path(best.user_attrs.get("run_dir", "")) / "config.yaml"
        if cfg_file.is_file():
            atomic_write_text(out / "best.yaml", cfg_file.read_text(encoding="utf-8"))
    atomic_write_text(out / "study.json", json.dumps(summary, indent=1, default=str))
    _plots(study, out / "plots", len(complete))
    if complete:
        print(f"tune: best trial {summary['best']['number']}: {summary['best']['value']:.4g} "
              f"{summary['best']['params']} -> {out / 'best.yaml'}", flush=True)
    return summary


def _plots(study, folder: Path, n_complete: int) -> None:
    import warnings

    import matplotlib

    matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt
    from optuna.visualization import matplotlib as ovm

    if n_complete == 0:
        return
    folder.mkdir(parents=True, exist_ok=True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # optuna marks its matplotlib plots experimental
        ax = ovm.plot_optimization_history(study)
        ax.figure.tight_layout()
        ax.figure.savefig(folder / "history.png", dpi=100)
        plt.close(ax.figure)
        if n_complete >= 2:
            try:
                ax = ovm.plot_param_importances(study)
                ax.figure.tight_layout()
                ax.figure.savefig(folder / "importance.png", dpi=100)
                plt.close(ax.figure)
            except (RuntimeError, ValueError) as e:  # e.g. every sampled value identical
                log.warning("no parameter-importance plot: %s", e)


# --- metric-driven adjustment ------------------------------------------------------------------


def from_metrics(run_dir: PathLike, output: PathLike) -> List[str]:
    """The recipe's metric-driven config adjustment of a finished run (``adjust_from_metrics`` in its
    ``tuning`` module), written as YAML to ``output``; returns the printed changes."""
    import importlib

    from motionlab.config import save_config
    from motionlab.train.engine import _recipe_of_run

    rec = _recipe_of_run(Path(run_dir))
    try:
        mod = importlib.import_module(f"motionlab.recipes.{rec.name.split('_')[0]}.tuning")
    except ModuleNotFoundError:
        raise MotionLabError(f"recipe {rec.name!r} has no metric-driven rules", file=run_dir) from None
    cfg, changes = mod.adjust_from_metrics(Path(run_dir))
    output = Path(output)
    save_config(cfg, output.parent, name=output.name)
    return changes


# --- command line ----------------------------------------------------------------------------------


def _cmd(args) -> int:
    if args.from_metrics:
        if not args.output:
            raise MotionLabError("--from-metrics needs -o OUT.yaml", place="-o")
        changes = from_metrics(args.from_metrics, args.output)
        for c in changes:
            print(c)
        print(f"wrote {args.output} ({len(changes)} change(s))")
        return 0
    out = run_study(args.recipe, space=args.space, trials=args.trials, storage=args.storage, study=args.study,
                    out=args.out, workers=args.workers, config=args.config, overrides=args.overrides,
                    seed=args.seed, threads=args.threads, report=not args.no_report)
    print(f"tune: {out}")
    return 0


def add_parser(sub) -> None:
    """Register ``motionlab tune`` on the ``motionlab`` subparsers."""
    s = sub.add_parser("tune", help="Optuna search over a recipe's config (SQLite or any database; many workers), "
                                    "or --from-metrics RUN: the guide's metric-driven adjustments")
    s.add_argument("recipe")
    s.add_argument("overrides", nargs="*", help="dotted key=value overrides for every trial")
    s.add_argument("--space", default=None, help="search-space YAML (default: configs/tune/<recipe>.yaml)")
    s.add_argument("-c", "--config", action="append", default=None, help="base config (default: the space's base)")
    s.add_argument("--trials", type=int, default=20, help="trials of the whole study (shared by every worker)")
    s.add_argument("--storage", default=None, help="Optuna storage URL (default: sqlite:///OUT/study.db)")
    s.add_argument("--study", default=None, help="study name (default: the space file's name)")
    s.add_argument("--out", default=None, help="output folder (default: tune/<study>)")
    s.add_argument("--workers", type=int, default=1, help="local worker processes (they split the cores)")
    s.add_argument("--threads", type=int, default=0, help=argparse_suppress())
    s.add_argument("--seed", type=int, default=0)
    s.add_argument("--no-report", action="store_true", help=argparse_suppress())
    s.add_argument("--from-metrics", default=None, metavar="RUN", help="adjust RUN's config from its metrics")
    s.add_argument("-o", "--output", default=None, help="with --from-metrics: the adjusted config YAML")
    s.set_defaults(fn=_cmd)


def argparse_suppress():
    import argparse

    return argparse.SUPPRESS
