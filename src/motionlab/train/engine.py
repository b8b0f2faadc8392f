"""The training engine every recipe reuses: ``train``, ``evaluate`` and ``load_run`` over a run folder.

A run folder holds::

    config.yaml            the resolved config (reload with load_config(recipe.config_cls, ...))
    run.json               recipe name, package version, creation time, resumptions
    normalization*.npz     statistics written by the data module's ``save_stats(run_dir)``
    checkpoints/last.ckpt  written atomically every ``train.checkpoint_every`` steps and at the end
    metrics.csv            Lightning's CSVLogger (rows past a resume point are dropped on resume)
    tensorboard/           TensorBoard events
    history.json           train/val metrics every ``train.log_every`` steps, events, status, the summary
    plots/training.png     loss and main validation metrics over steps (``train.plots``)
    metrics.json           written by ``evaluate``

While it trains, ``train`` shows progress (``train.progress``, see :mod:`motionlab.train.progress`) and
at the end prints a summary: steps, wall time, the main validation metrics next to their baselines and
where the run's files are (see :mod:`motionlab.train.summary` for how a recipe declares them).

``train`` resumes from ``checkpoints/last.ckpt`` when it exists: model, optimizer, schedule, EMA,
loop counters, the training loader's position and the random states are restored, so on CPU with
``train.deterministic`` a killed-and-resumed run ends with the same weights as an uninterrupted one.
Checkpoints are read with ``weights_only=True``.
"""

from __future__ import annotations

import csv
import json
import logging
import os
import sys
import time
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Dict, Iterator, List, Optional, Sequence, Union

import torch

from motionlab.config import CONFIG_FILE, apply_overrides, config_diff, load_config, save_config
from motionlab.core.files import atomic_write_text
from motionlab.errors import MotionLabError
from motionlab.recipes.base import Recipe
from motionlab.train.checkpoint import CHECKPOINT_DIR, LAST, load_checkpoint
from motionlab.train.config import TrainConfig

log = logging.getLogger("motionlab.train")

RUN_FILE = "run.json"
METRICS_FILE = "metrics.json"

# settings that may change when a run is resumed; anything else must match the saved config
RESUME_SAFE = (
    "train.max_steps", "train.max_epochs", "train.progress", "train.log_every", "train.checkpoint_every",
    "train.num_devices", "train.num_nodes", "train.strategy", "train.accelerator", "train.val_every",
    "train.val_batches", "train.nan_max_bad_steps", "train.plots", "data.num_workers", "data.cache_dir",
)

SUMMARY_KINDS = ("full", "line", "none")

_QUIET = (
    ".*does not have many workers.*",
    ".*exists and is not empty.*",
    ".*smaller than the logging interval.*",
    ".*Found current_model_state in the checkpoint.*",
    ".*is not a valid `ModelCheckpoint`.*",
    ".*The `srun` command is available.*",
    ".*isinstance\\(treespec, LeafSpec\\).*",
)


def _quiet_lightning_banners() -> None:
    """Lightning's start-up banners (accelerator lists, tips) say nothing about the run: hide them."""
    for name in ("lightning.pytorch.utilities.rank_zero", "lightning.pytorch.accelerators.cuda",
                 "lightning.fabric.utilities.rank_zero"):
        logging.getLogger(name).setLevel(logging.WARNING)


# --- helpers -----------------------------------------------------------------------------------


def resolve_recipe(recipe: Union[str, Recipe]) -> Recipe:
    """A :class:`Recipe` object from itself or its registered name."""
    if isinstance(recipe, Recipe):
        return recipe
    from motionlab.recipes.registry import get_recipe

    return get_recipe(recipe)


def _recipe_of_run(run_dir: Path) -> Recipe:
    info = _read_run_info(run_dir)
    name = info.get("recipe")
    if not isinstance(name, str):
        raise MotionLabError("no recipe name recorded", file=run_dir / RUN_FILE, place="recipe")
    return resolve_recipe(name)


def _read_run_info(run_dir: Path) -> Dict[str, Any]:
    path = Path(run_dir) / RUN_FILE
    if not path.is_file():
        raise MotionLabError("not a motionlab run folder (no run.json)", file=run_dir)
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as e:
        raise MotionLabError(f"unreadable run info ({e})", file=path) from None


def _write_json(obj: Any, path: Path) -> None:
    atomic_write_text(path, json.dumps(obj, indent=1, default=lambda x: x.item() if hasattr(x, "item") else str(x)))


def _is_launcher_rank_zero() -> bool:
    """True outside the extra processes that Lightning's ``ddp`` launcher starts."""
    return int(os.environ.get("LOCAL_RANK", 0)) == 0 and int(os.environ.get("NODE_RANK", 0)) == 0


def train_section(cfg: Any) -> TrainConfig:
    """``cfg.train``, checked: every recipe config carries a :class:`TrainConfig` as ``train``."""
    tcfg = getattr(cfg, "train", None)
    if not isinstance(tcfg, TrainConfig):
        raise MotionLabError(f"config {type(cfg).__name__} has no 'train' section of type TrainConfig")
    if tcfg.max_steps <= 0 and tcfg.max_epochs <= 0:
        raise MotionLabError("set train.max_steps or train.max_epochs to a positive number", place="train")
    if tcfg.ema_decay > 0 and tcfg.ema_start_step < 0:
        raise MotionLabError(f"train.ema_start_step must be >= 0, got {tcfg.ema_start_step}",
                             place="train.ema_start_step")
    if tcfg.ema_decay > 0 and tcfg.max_steps > 0 and tcfg.ema_start_step >= tcfg.max_steps:
        raise MotionLabError(
            f"train.ema_start_step={tcfg.ema_start_step} is not below train.max_steps={tcfg.max_steps}: the EMA "
            f"would never average anything; lower train.ema_start_step or set train.ema_decay=0",
            place="train.ema_start_step")
    return tcfg


def resolve_precision(requested: str, accelerator: str) -> str:
    """A precision the device supports: ``auto`` -> bf16-mixed on GPUs with bf16, else 32; 16-mixed
    needs a GPU (falls back to 32 on CPU); bf16-mixed on a GPU without bf16 becomes 16-mixed."""
    cuda = accelerator in ("gpu", "cuda") and torch.cuda.is_available()
    bf16 = cuda and torch.cuda.is_bf16_supported()
    if requested == "auto":
        return "bf16-mixed" if bf16 else "32"
    if requested == "16-mixed" and not cuda:
        log.warning("train.precision=16-mixed needs a GPU; using 32")
        return "32"
    if requested == "bf16-mixed" and cuda and not bf16:
        log.warning("this GPU has no bf16; using 16-mixed")
        return "16-mixed"
    if requested not in ("32", "bf16-mixed", "16-mixed"):
        raise MotionLabError(f"unknown train.precision {requested!r}; valid choices: auto, 32, bf16-mixed, 16-mixed")
    return requested


def _accelerator(tcfg: TrainConfig) -> str:
    if tcfg.accelerator == "auto":
        return "gpu" if torch.cuda.is_available() else "cpu"
    if tcfg.accelerator not in ("cpu", "gpu", "cuda"):
        raise MotionLabError(f"unknown train.accelerator {tcfg.accelerator!r}; valid choices: auto, cpu, gpu")
    return tcfg.accelerator


def _strategy(tcfg: TrainConfig, accelerator: str):
    name = tcfg.strategy
    if name == "auto" and (tcfg.num_devices > 1 or tcfg.num_nodes > 1):
        name = "ddp"
    methods = {"ddp": "popen", "ddp_spawn": "spawn", "ddp_fork": "fork"}
    if name in methods:
        from lightning.pytorch.strategies import DDPStrategy

        backend = "gloo" if accelerator == "cpu" else None
        return DDPStrategy(start_method=methods[name], process_group_backend=backend)
    if name not in ("auto", "single_device"):
        raise MotionLabError(f"unknown train.strategy {name!r}; valid choices: auto, ddp, ddp_spawn, ddp_fork")
    return name


def _resolve_config(rec: Recipe, cfg: Any, run_dir: Path, config_path, overrides: Sequence[str],
                    resuming: bool) -> Any:
    saved_path = run_dir / CONFIG_FILE
    saved = load_config(rec.config_cls, saved_path) if saved_path.is_file() else None
    if cfg is not None:
        if not isinstance(cfg, rec.config_cls):
            raise MotionLabError(f"recipe {rec.name!r} expects a {rec.config_cls.__name__} config, "
                                 f"got {type(cfg).__name__}")
    elif config_path is not None:
        cfg = load_config(rec.config_cls, config_path)
    elif saved is not None:
        cfg = saved
    else:
        cfg = load_config(rec.config_cls, rec.default_config_path())
    cfg = apply_overrides(cfg, list(overrides or ()))
    if resuming and saved is not None:
        changed = [k for k in config_diff(saved, cfg) if not k.startswith(RESUME_SAFE)]
        if changed:
            raise MotionLabError(
                f"cannot resume with a different config; changed: {', '.join(changed)} "
                f"(use a new run folder, or only change {', '.join(RESUME_SAFE)})", file=saved_path)
    return cfg


def _restore_history(run_dir: Path, resume_step: Optional[int]) -> Dict[str, Any]:
    path = run_dir / "history.json"
    if resume_step is None or not path.is_file():
        return {"train": [], "val": [], "events": []}
    try:
        hist = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {"train": [], "val": [], "events": []}
    for k in ("train", "val", "events"):
        hist[k] = [r for r in hist.get(k, []) if r.get("step") is None or r["step"] <= resume_step]
    hist.setdefault("resumed_from_step", []).append(resume_step)
    hist["wall_time_s_before"] = float(hist.get("wall_time_s", 0.0))
    return hist


def _old_csv_rows(run_dir: Path, resume_step: Optional[int]) -> List[Dict[str, str]]:
    path = run_dir / "metrics.csv"
    if resume_step is None or not path.is_file():
        return []
    rows = []
    with open(path, newline="", encoding="utf-8") as f:
        for row in csv.DictReader(f):
            try:
                if int(float(row.get("step") or 0)) >= resume_step:
                    continue
            except ValueError:
                continue
            rows.append({k: v for k, v in row.items() if v not in ("", None)})
    return rows


def _loggers(run_dir: Path, resume_step: Optional[int]) -> list:
    from lightning.pytorch.loggers import CSVLogger, TensorBoardLogger

    old_rows = _old_csv_rows(run_dir, resume_step) if _is_launcher_rank_zero() else []
    csv_logger = CSVLogger(save_dir=str(run_dir), name="", version="")
    if old_rows:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            csv_logger.experiment.metrics[:0] = old_rows  # CSVLogger rewrites metrics.csv: keep earlier rows
    loggers = [csv_logger]
    try:
        kwargs = {"purge_step": resume_step} if resume_step else {}
        loggers.append(TensorBoardLogger(save_dir=str(run_dir), name="tensorboard", version="",
                                         default_hp_metric=False, **kwargs))
    except ModuleNotFoundError:
        log.info("tensorboard is not installed: only metrics.csv is written")
    return loggers


# --- train -------------------------------------------------------------------------------------


def train(
    recipe: Union[str, Recipe],
    cfg: Any = None,
    run_dir: Union[None, str, os.PathLike] = None,
    *,
    config_path: Union[None, str, os.PathLike, Sequence] = None,
    overrides: Sequence[str] = (),
    callbacks: Sequence[Any] = (),
    resume: bool = True,
    summary: str = "full",
) -> Path:
    """Train ``recipe`` into ``run_dir`` and return the run folder.

    Args:
        recipe: a registered recipe name or a :class:`Recipe`.
        cfg: a resolved config (instance of ``recipe.config_cls``); if ``None`` it comes from
            ``config_path``, else the run folder's saved ``config.yaml``, else the recipe's default file.
        run_dir: the run folder (default ``runs/<recipe>-<time>`` in the working directory).
        config_path: YAML file(s) to load when ``cfg`` is ``None``.
        overrides: dotted ``key=value`` overrides applied last.
        callbacks: extra Lightning callbacks.
        resume: continue from ``checkpoints/last.ckpt`` when it exists (only resume-safe settings,
            see ``RESUME_SAFE``, may differ from the saved config).
        summary: what is printed at the end: ``"full"`` (the summary, on standard output), ``"line"`` (it on
            one line) or ``"none"``; ``train.progress=silent`` prints nothing either way. The summary is stored
            in ``history.json`` in every case.

    Raises:
        MotionLabError: bad config, or training stopped after ``train.nan_max_bad_steps`` non-finite steps
            in a row (:class:`motionlab.train.callbacks.NonFiniteTraining`).
    """
    import lightning as L

    from motionlab.train.callbacks import (AtomicCheckpointIO, LastCheckpoint, NonFiniteGuard, RandomStateKeeper,
                                           RunRecorder, ScheduleHorizon, make_ema)
    from motionlab.train.optim import total_steps
    from motionlab.train.progress import training_progress

    if summary not in SUMMARY_KINDS:
        raise MotionLabError(f"unknown summary {summary!r}; valid choices: {', '.join(SUMMARY_KINDS)}")
    t_start = time.time()
    rec = resolve_recipe(recipe)
    run_dir = Path(run_dir) if run_dir is not None else Path("runs") / f"{rec.name}-{time.strftime('%Y%m%d-%H%M%S')}"
    ckpt_path = run_dir / CHECKPOINT_DIR / LAST
    resuming = resume and ckpt_path.is_file()
    cfg = _resolve_config(rec, cfg, run_dir, config_path, overrides, resuming)
    tcfg = train_section(cfg)
    resume_step = int(load_checkpoint(ckpt_path).get("global_step", 0)) if resuming else None

    run_dir.mkdir(parents=True, exist_ok=True)
    (run_dir / CHECKPOINT_DIR).mkdir(exist_ok=True)
    if _is_launcher_rank_zero():
        save_config(cfg, run_dir)
        info = _read_run_info(run_dir) if (run_dir / RUN_FILE).is_file() else {}
        from motionlab import __version__

        info.update({"recipe": rec.name, "motionlab_version": __version__})
        info.setdefault("created", time.strftime("%Y-%m-%dT%H:%M:%S"))
        if resuming:
            info.setdefault("resumed", []).append({"from_step": resume_step, "at": time.strftime("%Y-%m-%dT%H:%M:%S")})
        _write_json(info, run_dir / RUN_FILE)

    L.seed_everything(tcfg.seed, workers=True, verbose=False)
    module, data = rec.build(cfg)

    accelerator = _accelerator(tcfg)
    precision = resolve_precision(tcfg.precision, accelerator)
    recorder = RunRecorder(run_dir, tcfg.log_every, _restore_history(run_dir, resume_step))
    cbs: List[Any] = [RandomStateKeeper(tcfg.seed), NonFiniteGuard(tcfg.nan_max_bad_steps, recorder, precision),
                      recorder]
    if resuming:  # the restored schedule keeps its saved length: stretch it to this run's max_steps
        cbs.append(ScheduleHorizon(lambda tr: total_steps(tcfg, tr), tcfg.warmup_steps))
    from lightning.pytorch.callbacks import LearningRateMonitor

    cbs.append(LearningRateMonitor(logging_interval="step"))
    if tcfg.ema_decay > 0:
        cbs.append(make_ema(tcfg.ema_decay, tcfg.ema_start_step))
    bar, lightning_bar = training_progress(tcfg.progress, tcfg.progress_every_s, label=rec.name)
    if bar is not None:
        cbs.append(bar)
    cbs.append(LastCheckpoint(ckpt_path, tcfg.checkpoint_every, recorder))
    cbs.extend(callbacks)

    val_kwargs: Dict[str, Any] = {}
    if tcfg.val_every > 0:
        val_kwargs = {"val_check_interval": tcfg.val_every, "check_val_every_n_epoch": None}
    elif tcfg.val_every < 0:
        val_kwargs = {"limit_val_batches": 0}
    if tcfg.val_batches > 0 and tcfg.val_every >= 0:
        val_kwargs["limit_val_batches"] = tcfg.val_batches

    _quiet_lightning_banners()
    trainer = L.Trainer(
        accelerator=accelerator,
        devices=tcfg.num_devices,
        num_nodes=tcfg.num_nodes,
        strategy=_strategy(tcfg, accelerator),
        precision=precision,
        max_steps=tcfg.max_steps if tcfg.max_steps > 0 else -1,
        max_epochs=tcfg.max_epochs if tcfg.max_epochs > 0 else (-1 if tcfg.max_steps > 0 else None),
        gradient_clip_val=(tcfg.grad_clip or None) if module.automatic_optimization else None,
        gradient_clip_algorithm="norm",
        deterministic="warn" if tcfg.deterministic else None,
        log_every_n_steps=max(1, tcfg.log_every),
        num_sanity_val_steps=0,
        default_root_dir=str(run_dir),
        logger=_loggers(run_dir, resume_step),
        callbacks=cbs,
        plugins=[AtomicCheckpointIO()],
        enable_progress_bar=lightning_bar,
        enable_model_summary=False,
        benchmark=False,
        **val_kwargs,
    )
    loud = tcfg.progress != "silent" and _is_launcher_rank_zero()
    if loud:
        print(_start_line(rec.name, module, tcfg, accelerator, precision, run_dir, resume_step), file=sys.stderr,
              flush=True)
    try:
        with warnings.catch_warnings():
            for pattern in _QUIET:
                warnings.filterwarnings("ignore", message=pattern)
            trainer.fit(module, datamodule=data, ckpt_path=str(ckpt_path) if resuming else None, weights_only=True)
    except BaseException:
        if _is_launcher_rank_zero():
            try:  # how far it got; never in the way of the error itself
                _finish(run_dir, rec.name, module, tcfg, t_start, resume_step, summary if loud else "none",
                        failed=True)
            except Exception as e:
                log.warning("no summary of the failed run: %s: %s", type(e).__name__, e)
        raise
    if _is_launcher_rank_zero():
        _finish(run_dir, rec.name, module, tcfg, t_start, resume_step, summary if loud else "none")
    return run_dir


def _start_line(name: str, module: Any, tcfg: TrainConfig, accelerator: str, precision: str, run_dir: Path,
                resume_step: Optional[int]) -> str:
    try:
        n = sum(p.numel() for p in module.parameters())
        params = f", {n / 1e6:.2f} M parameters" if n >= 1e4 else f", {n} parameters"
    except (AttributeError, RuntimeError, ValueError):  # e.g. lazy modules before their first batch
        params = ""
    goal = f"{tcfg.max_steps} steps" if tcfg.max_steps > 0 else f"{tcfg.max_epochs} epochs"
    start = f" from step {resume_step}" if resume_step else ""
    return (f"{name}: training for {goal}{start} on {accelerator} (precision {precision}){params}; "
            f"run folder {run_dir}")


def _finish(run_dir: Path, name: str, module: Any, tcfg: TrainConfig, t_start: float, resume_step: Optional[int],
            summary: str, failed: bool = False) -> None:
    """Store the run's summary in history.json, draw plots/training.png and print the summary."""
    from motionlab.train.summary import (PLOTS_DIR, TRAINING_PLOT, format_summary, run_files, summarize_run,
                                        summary_line)

    history_path = run_dir / "history.json"
    try:
        hist = json.loads(history_path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return  # nothing was recorded (it failed before training started): the error says it all
    final = int(hist.get("final_step", 0) or 0)
    target = tcfg.max_steps if tcfg.max_steps > 0 else None
    try:
        s = summarize_run(run_dir, module=module, recipe=name, session_time_s=time.time() - t_start,
                          session_steps=final - int(resume_step or 0), target_steps=target)
    except Exception as e:  # a recipe's summary_metrics failing must not hide the run's outcome
        log.warning("no summary: %s: %s", type(e).__name__, e)
        return
    if tcfg.plots and not failed and (hist.get("train") or hist.get("val")):
        try:
            from motionlab.report.training_plot import baselines_of, plot_training

            plot_training(hist, run_dir / PLOTS_DIR / TRAINING_PLOT, [m.name for m in s.metrics],
                          baselines_of(s.metrics))
            s.files = run_files(run_dir)
        except Exception as e:  # a plot must never cost the run
            log.warning("no training plot: %s: %s", type(e).__name__, e)
    hist["summary"] = s.to_dict()
    _write_json(hist, history_path)
    if summary == "full":
        print(format_summary(s), flush=True)
    elif summary == "line":
        print(summary_line(s), flush=True)


# --- after training ----------------------------------------------------------------------------


@dataclass
class LoadedRun:
    """A trained run: unpacks as ``cfg, module, stats``.

    ``module`` is the recipe's LightningModule in eval mode with the EMA parameters (and the raw buffers)
    when the run used EMA and had averaged at least once (else the raw weights); ``model`` is its plain ``nn.Module`` (``module.model``, or ``module`` itself);
    ``stats`` maps a stream name to its :class:`motionlab.data.windows.Normalizer` (``"default"`` for a
    plain ``normalization.npz``).
    """

    cfg: Any
    module: Any
    stats: Dict[str, Any]
    recipe: Recipe
    run_dir: Path
    step: int = 0
    ema: bool = False
    info: Dict[str, Any] = field(default_factory=dict)

    def __iter__(self) -> Iterator[Any]:
        return iter((self.cfg, self.module, self.stats))

    @property
    def model(self) -> Any:
        return getattr(self.module, "model", self.module)


def load_normalization(run_dir) -> Dict[str, Any]:
    """``normalization.npz`` / ``normalization_<stream>.npz`` of a run folder as Normalizers."""
    from motionlab.data.windows import Normalizer

    out = {}
    for path in sorted(Path(run_dir).glob("normalization*.npz")):
        stem = path.stem
        name = stem[len("normalization_"):] if stem.startswith("normalization_") else "default"
        out[name] = Normalizer.load(path)
    return out


def _weights_to_load(module: Any, ckpt: Dict[str, Any]) -> "tuple[Dict[str, Any], bool]":
    """(state dict, whether it holds EMA weights) for ``module`` from a checkpoint.

    With weight averaging the parameters come from the EMA model (``state_dict``) and the buffers from the
    raw model (``current_model_state``): buffers such as EMA codebooks are never averaged. When the
    averaging state says nothing was averaged yet (``n_averaged == 0``, e.g. the run stopped before
    ``train.ema_start_step``), ``state_dict`` is the untrained initial copy: the raw state is used.
    """
    raw = ckpt.get("current_model_state")
    if not isinstance(raw, dict):
        return ckpt["state_dict"], False
    n = (ckpt.get("averaging_state") or {}).get("n_averaged")
    if n is not None and int(n) == 0:
        return raw, False
    buffers = {name for name, _ in module.named_buffers()}
    state = {k: (raw[k] if k in buffers and k in raw else v) for k, v in ckpt["state_dict"].items()}
    return state, True


def load_run(run_dir, recipe: Union[None, str, Recipe] = None, checkpoint: Union[None, str, os.PathLike] = None,
             map_location: Any = "cpu") -> LoadedRun:
    """Rebuild a trained run from its folder (config, weights with ``weights_only=True``, statistics).

    Args:
        run_dir: the run folder.
        recipe: the recipe (default: the one named in ``run.json``).
        checkpoint: a checkpoint file (default ``checkpoints/last.ckpt``).
    """
    run_dir = Path(run_dir)
    rec = resolve_recipe(recipe) if recipe is not None else _recipe_of_run(run_dir)
    cfg = load_config(rec.config_cls, run_dir / CONFIG_FILE)
    ckpt_file = Path(checkpoint) if checkpoint is not None else run_dir / CHECKPOINT_DIR / LAST
    ckpt = load_checkpoint(ckpt_file, map_location=map_location)
    module = rec.make_model(cfg)
    state, ema = _weights_to_load(module, ckpt)
    try:
        module.load_state_dict(state, strict=True)
    except RuntimeError as e:
        raise MotionLabError(f"checkpoint does not fit the model built from config.yaml ({e})",
                             file=ckpt_file) from None
    module.eval()
    info = _read_run_info(run_dir) if (run_dir / RUN_FILE).is_file() else {}
    return LoadedRun(cfg=cfg, module=module, stats=load_normalization(run_dir), recipe=rec, run_dir=run_dir,
                     step=int(ckpt.get("global_step", 0)), ema=ema, info=info)


def evaluate(run_dir, recipe: Union[None, str, Recipe] = None, **options: Any) -> Dict[str, Any]:
    """Call the recipe's ``evaluate(run_dir, **options)``, write the result to ``run_dir/metrics.json`` and
    return it (``options``: recipe-specific, e.g. ``evaluator=`` for ``t2m``)."""
    run_dir = Path(run_dir)
    if not run_dir.is_dir():
        raise MotionLabError("run folder not found", file=run_dir)
    rec = resolve_recipe(recipe) if recipe is not None else _recipe_of_run(run_dir)
    if rec.evaluate is None:
        raise MotionLabError(f"recipe {rec.name!r} has no evaluate function")
    metrics = rec.evaluate(run_dir, **options)
    if not isinstance(metrics, dict):
        raise MotionLabError(f"recipe {rec.name!r} evaluate returned {type(metrics).__name__}, not a dict")
    _write_json(metrics, run_dir / METRICS_FILE)
    return metrics


def generate(run_dir, inputs: Any, recipe: Union[None, str, Recipe] = None) -> Any:
    """Call the recipe's ``generate(run_dir, inputs)``."""
    run_dir = Path(run_dir)
    rec = resolve_recipe(recipe) if recipe is not None else _recipe_of_run(run_dir)
    if rec.generate is None:
        raise MotionLabError(f"recipe {rec.name!r} has no generate function")
    return rec.generate(run_dir, inputs)
