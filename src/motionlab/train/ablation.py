"""Multi-seed ablations: every variant x seed trained with the engine, evaluated, tabulated and plotted.

An ablation file (YAML) reads::

    recipe: tokenizer
    base: tokenizer/tiny.yaml        # base config file(s): relative to this file, else to motionlab/configs
    config: {train: {max_steps: 200}} # optional mapping applied to the base for every variant
    overrides: [data.batch_size=32]   # optional dotted overrides for every variant
    seeds: [42, 1024, 999]            # default seeds (``--seeds N`` takes the first N, or 0..N-1)
    threads: 1                        # optional: torch CPU threads during the ablation (restored after);
                                      # 1 keeps small models fast on a busy CPU
    variants:
      - name: ResNet+EMA
        config: {model: {encoder: resnet, quantizer: ema, quantizer_kwargs: {codebook_size: 512}}}
        overrides: []                 # optional, applied after ``config``
    report:                           # all optional
      columns: [{key: recon_mse, label: Recon}, {key: dead_code_ratio, label: DCR %, scale: 100}]
      curves: {val/recon_mse: Recon, val/perplexity: Perplexity}
      log_curves: [val/recon_mse]
      loss_terms: {train/recon: Recon, train/vq: VQ}
      radar: {recon_mse: Recon, perplexity: PPL, mean_jerk: Jerk}
      tsne: true                      # needs the recipe module to define export_latents(run_dir, split)
      tsne_split: test
      caption: Tokenizer ablation.

A ``config`` mapping replaces dict-valued fields (such as ``model.quantizer_kwargs``) wholesale, so a
variant that switches quantizer does not inherit the base's quantizer options. The train seed of a
run is ``train.seed = seed``.

Output folder::

    runs/<variant>/seed_<seed>/   engine run folders (config.yaml, checkpoints/, history.json, metrics.json)
    results.json                  one entry per run: variant, seed, final metrics, metric history
    table.md, table.tex           mean +- std per variant (best in bold)
    plots/                        curve_*.png, loss_breakdown.png, radar.png, radar_log.png, tsne.png

It is resumable: a run whose ``metrics.json`` exists is not trained again (its config must equal the
one the ablation file now gives, except resume-safe settings), and an interrupted run resumes from
its last checkpoint.
"""

from __future__ import annotations

import dataclasses
import importlib
import json
import logging
import os
import re
import time
from pathlib import Path
from typing import Any, Dict, List, Mapping, Optional, Sequence, Tuple, Union

import numpy as np

from motionlab.errors import MotionLabError

log = logging.getLogger("motionlab.ablation")

PathLike = Union[str, "os.PathLike[str]"]

__all__ = ["AblationSpec", "Variant", "load_ablation", "resolve_seeds", "variant_config", "run_ablation",
           "collect_history", "write_report", "report_ablation"]


@dataclasses.dataclass
class Variant:
    """One arm of an ablation: a name, a config mapping and dotted overrides."""

    name: str
    config: Dict[str, Any] = dataclasses.field(default_factory=dict)
    overrides: List[str] = dataclasses.field(default_factory=list)


@dataclasses.dataclass
class AblationSpec:
    """A parsed ablation file (see the module docstring)."""

    recipe: str
    base: List[Path]
    variants: List[Variant]
    config: Dict[str, Any] = dataclasses.field(default_factory=dict)
    overrides: List[str] = dataclasses.field(default_factory=list)
    seeds: List[int] = dataclasses.field(default_factory=list)
    report: Dict[str, Any] = dataclasses.field(default_factory=dict)
    threads: int = 0  # 0 = leave torch's thread count alone
    file: Optional[Path] = None


def _configs_dir() -> Path:
    return Path(__file__).resolve().parents[1] / "configs"


def _strings(value: Any, place: str, file: Path) -> List[str]:
    if value is None:
        return []
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise MotionLabError("must be a list of key=value strings", file=file, place=place)
    return list(value)


def _mapping(value: Any, place: str, file: Path) -> Dict[str, Any]:
    if value is None:
        return {}
    if not isinstance(value, Mapping):
        raise MotionLabError("must be a mapping of config keys", file=file, place=place)
    return dict(value)


def load_ablation(file: PathLike) -> AblationSpec:
    """Read and check an ablation YAML file."""
    import yaml

    path = Path(file)
    if not path.is_file():
        raise MotionLabError("ablation file not found", file=path)
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as e:
        mark = getattr(e, "problem_mark", None)
        raise MotionLabError(f"invalid YAML: {getattr(e, 'problem', None) or e}", file=path,
                             place=f"line {mark.line + 1}" if mark is not None else None) from None
    if not isinstance(data, Mapping):
        raise MotionLabError("an ablation file must hold a mapping", file=path)
    known = {"recipe", "base", "config", "overrides", "seeds", "variants", "report", "description", "threads"}
    unknown = sorted(set(data) - known)
    if unknown:
        raise MotionLabError(f"unknown key(s) {unknown}; valid keys: {', '.join(sorted(known))}", file=path)
    if not isinstance(data.get("recipe"), str):
        raise MotionLabError("missing 'recipe' (a registered recipe name)", file=path, place="recipe")
    bases = data.get("base") or []
    bases = [bases] if isinstance(bases, str) else bases
    if not isinstance(bases, list) or not all(isinstance(b, str) for b in bases):
        raise MotionLabError("must be a config file path or a list of them", file=path, place="base")
    base_paths = []
    for b in bases:
        for cand in (path.parent / b, _configs_dir() / b):
            if cand.is_file():
                base_paths.append(cand.resolve())
                break
        else:
            raise MotionLabError(f"base config {b!r} found neither beside the ablation file nor in the package",
                                 file=path, place="base")
    raw_variants = data.get("variants")
    if not isinstance(raw_variants, list) or not raw_variants:
        raise MotionLabError("needs a non-empty list of variants", file=path, place="variants")
    variants, names = [], set()
    for i, v in enumerate(raw_variants):
        place = f"variants[{i}]"
        if not isinstance(v, Mapping) or not isinstance(v.get("name"), str) or not v["name"].strip():
            raise MotionLabError("each variant needs a 'name'", file=path, place=place)
        extra = sorted(set(v) - {"name", "config", "overrides"})
        if extra:
            raise MotionLabError(f"unknown key(s) {extra}; valid keys: name, config, overrides", file=path, place=place)
        if v["name"] in names:
            raise MotionLabError(f"duplicate variant name {v['name']!r}", file=path, place=place)
        names.add(v["name"])
        variants.append(Variant(v["name"], _mapping(v.get("config"), f"{place}.config", path),
                                _strings(v.get("overrides"), f"{place}.overrides", path)))
    seeds = data.get("seeds") or []
    if not isinstance(seeds, list) or not all(isinstance(s, int) and not isinstance(s, bool) for s in seeds):
        raise MotionLabError("must be a list of integers", file=path, place="seeds")
    threads = data.get("threads", 0)
    if not isinstance(threads, int) or isinstance(threads, bool) or threads < 0:
        raise MotionLabError(f"must be a non-negative integer, got {threads!r}", file=path, place="threads")
    return AblationSpec(recipe=data["recipe"], base=base_paths, variants=variants, threads=threads,
                        config=_mapping(data.get("config"), "config", path),
                        overrides=_strings(data.get("overrides"), "overrides", path), seeds=list(seeds),
                        report=_mapping(data.get("report"), "report", path), file=path)


def resolve_seeds(seeds: Union[int, Sequence[int], None], spec: AblationSpec) -> List[int]:
    """Seeds to run: a list as given; an int ``N`` -> the file's first ``N`` seeds (padded with
    ``0, 1, ...`` not already listed); ``None`` -> the file's seeds (or ``[0]``)."""
    if seeds is None:
        return list(spec.seeds) or [0]
    if isinstance(seeds, int) and not isinstance(seeds, bool):
        if seeds < 1:
            raise MotionLabError(f"--seeds must be at least 1, got {seeds}", place="seeds")
        out = list(spec.seeds[:seeds])
        k = 0
        while len(out) < seeds:
            if k not in out:
                out.append(k)
            k += 1
        return out
    out = [int(s) for s in seeds]
    if not out or len(set(out)) != len(out):
        raise MotionLabError(f"seeds must be a non-empty list of distinct integers, got {list(seeds)}", place="seeds")
    return out


def _flatten(cfg: Any, mapping: Mapping[str, Any], prefix: str = "") -> List[str]:
    """Dotted overrides for a nested mapping; recursion stops at non-dataclass fields (so dict-valued
    fields are replaced as a whole)."""
    import yaml

    out = []
    for key, value in mapping.items():
        dotted = f"{prefix}{key}"
        sub = getattr(cfg, str(key), None) if dataclasses.is_dataclass(cfg) else None
        if isinstance(value, Mapping) and dataclasses.is_dataclass(sub):
            out += _flatten(sub, value, dotted + ".")
        else:
            text = yaml.safe_dump(value, default_flow_style=True, width=1 << 30).strip()
            if text.endswith("..."):  # YAML's document-end marker after a plain scalar
                text = text[:-3].strip()
            out.append(f"{dotted}={text}")
    return out


def variant_config(spec: AblationSpec, variant: Variant, seed: int, overrides: Sequence[str] = ()) -> Any:
    """The resolved config of one run: base file(s), the file's ``config`` and ``overrides``, the
    variant's ``config`` and ``overrides``, the caller's ``overrides``, then ``train.seed=seed``."""
    from motionlab.config import apply_overrides, load_config
    from motionlab.recipes.registry import get_recipe

    rec = get_recipe(spec.recipe)
    cfg = load_config(rec.config_cls, spec.base or rec.default_config_path())
    steps = [("config", _flatten(cfg, spec.config)), ("overrides", spec.overrides),
             (f"variant {variant.name!r} config", None), (f"variant {variant.name!r} overrides", variant.overrides),
             ("command-line overrides", list(overrides)), ("seed", [f"train.seed={int(seed)}"])]
    for place, ovr in steps:
        if ovr is None:
            ovr = _flatten(cfg, variant.config)
        try:
            cfg = apply_overrides(cfg, ovr)
        except MotionLabError as e:
            raise MotionLabError(e.problem, file=spec.file, place=f"{place}: {e.place}" if e.place else place) from None
    return cfg


def _slug(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9.+-]+", "_", name).strip("_") or "variant"


def collect_history(run_dir: Path) -> Dict[str, List[Tuple[float, float]]]:
    """Metric histories of an engine run folder (``history.json``): every numeric ``train/...`` and
    ``val/...`` entry as ``key -> [(step, value), ...]``."""
    path = Path(run_dir) / "history.json"
    if not path.is_file():
        return {}
    try:
        hist = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    out: Dict[str, List[Tuple[float, float]]] = {}
    for section in ("train", "val"):
        for rec in hist.get(section, []):
            step = rec.get("step")
            if step is None:
                continue
            for k, v in rec.items():
                if k.startswith(section + "/") and isinstance(v, (int, float)) and np.isfinite(v):
                    out.setdefault(k, []).append((float(step), float(v)))
    return out


#: keys that change how a run is watched, not what it learns: a finished run is reused across them
OPERATIONAL = ("train.progress", "train.log_every", "train.checkpoint_every", "train.plots", "data.num_workers",
               "data.cache_dir")


def _finished_run_status(run_dir: Path, cfg: Any) -> str:
    """``"same"`` (reuse the finished run), ``"extend"`` (only resume-safe keys such as
    ``train.max_steps`` changed: train on from the checkpoint) or an error for any other change."""
    from motionlab.config import CONFIG_FILE, config_diff, load_config
    from motionlab.train.engine import RESUME_SAFE

    saved_path = run_dir / CONFIG_FILE
    if not saved_path.is_file():
        return "same"
    saved = load_config(type(cfg), saved_path)
    changed = [k for k in config_diff(saved, cfg) if not k.startswith(OPERATIONAL)]
    if not changed:
        return "same"
    unsafe = [k for k in changed if not k.startswith(RESUME_SAFE)]
    if unsafe:
        raise MotionLabError(f"this finished run was trained with a different config ({', '.join(unsafe)}); "
                             "use a new output folder or delete the run folder", file=run_dir)
    return "extend"


def _latents_fn(recipe: str):
    from motionlab.recipes.registry import RECIPES

    module = importlib.import_module(RECIPES[recipe].partition(":")[0])
    fn = getattr(module, "export_latents", None)
    if fn is None:
        pkg = module.__name__.rpartition(".")[0]
        try:
            fn = getattr(importlib.import_module(pkg + ".evaluate"), "export_latents", None)
        except ModuleNotFoundError:
            fn = None
    return fn


def _run_one(spec: AblationSpec, variant: Variant, seed: int, run_dir: Path, overrides: Sequence[str]):
    from motionlab.report.tables import RunResult
    from motionlab.train import engine

    cfg = variant_config(spec, variant, seed, overrides)
    metrics_path = run_dir / engine.METRICS_FILE
    status = _finished_run_status(run_dir, cfg) if metrics_path.is_file() else "train"
    if status == "same":
        log.info("skipping finished run %s", run_dir)
        metrics = json.loads(metrics_path.read_text(encoding="utf-8"))
    else:
        if status == "extend":  # e.g. more steps asked for: train on from the last checkpoint
            log.info("extending finished run %s", run_dir)
            metrics_path.unlink()
        t0 = time.time()
        engine.train(spec.recipe, cfg=cfg, run_dir=run_dir, resume=True, summary="none")  # RunProgress reports
        metrics = engine.evaluate(run_dir, recipe=spec.recipe)
        log.info("%s seed %d: trained and evaluated in %.1f s", variant.name, seed, time.time() - t0)
    numeric = {k: float(v) for k, v in metrics.items()
               if isinstance(v, (int, float)) and not isinstance(v, bool) and np.isfinite(v)}
    try:
        hist = json.loads((run_dir / "history.json").read_text(encoding="utf-8"))
        numeric["wall_time_s"] = float(hist.get("wall_time_s", np.nan))
    except (OSError, ValueError):
        pass
    return RunResult(variant.name, int(seed), numeric, collect_history(run_dir))


def write_report(results, out_dir: Path, spec: AblationSpec, run_dirs: Mapping[Tuple[str, int], Path]) -> None:
    """``results.json``, ``table.md``, ``table.tex`` and ``plots/`` of finished runs."""
    from motionlab.eval.metrics import METRIC_DIRECTIONS
    from motionlab.report import ablation_plots as ap
    from motionlab.report.tables import Column, save_results, write_tables

    rep = spec.report
    directions = dict(METRIC_DIRECTIONS)
    try:
        rec_dirs = importlib.import_module(f"motionlab.recipes.{spec.recipe}.evaluate")
        directions.update(getattr(rec_dirs, f"{spec.recipe.upper()}_DIRECTIONS", {}))
    except ModuleNotFoundError:
        pass
    directions.update(rep.get("directions") or {})
    save_results(results, out_dir / "results.json")
    cols_spec = rep.get("columns")
    if cols_spec:
        columns = [Column(c) if isinstance(c, str) else Column(str(c["key"]), c.get("label"), float(c.get("scale", 1.0)),
                                                                c.get("decimals")) for c in cols_spec]
    else:
        columns = [Column(k) for k in sorted({k for r in results for k in r.metrics if k in directions})]
    write_tables(results, out_dir, columns, directions, caption=str(rep.get("caption", "Ablation results.")),
                 label=str(rep.get("label", "tab:ablation")))
    plots = out_dir / "plots"
    plots.mkdir(parents=True, exist_ok=True)
    curve_dirs = {k: directions.get(k.split("/", 1)[-1], "") for r in results for k in r.history}
    curves = rep.get("curves") or sorted({k for r in results for k in r.history
                                          if k.startswith("val/") and not k.startswith("val/baseline/")})
    ap.plot_curves(results, plots, curves, curve_dirs, log_y=list(rep.get("log_curves") or []))
    loss_terms = rep.get("loss_terms") or sorted({k for r in results for k in r.history
                                                  if k.startswith("train/") and k != "train/loss"
                                                  and "perplexity" not in k and "quant_error" not in k})
    if loss_terms:
        ap.plot_loss_breakdown(results, plots / "loss_breakdown.png", loss_terms)
    radar = rep.get("radar") or {c.key: c.title for c in columns}
    try:
        ap.plot_radar(results, plots / "radar.png", radar, directions, scale="linear")
        ap.plot_radar(results, plots / "radar_log.png", radar, directions, scale="log")
    except MotionLabError as e:
        log.warning("no radar chart: %s", e)
    if rep.get("tsne", True):
        fn = _latents_fn(spec.recipe)
        if fn is None:
            log.warning("recipe %r has no export_latents: no t-SNE", spec.recipe)
            return
        split = str(rep.get("tsne_split", "test"))
        panels, names = {}, None
        for variant in dict.fromkeys(r.variant for r in results):
            seed = min(r.seed for r in results if r.variant == variant)
            run_dir = run_dirs[(variant, seed)]
            cache = run_dir / f"latents_{split}.npz"
            if cache.is_file():
                with np.load(cache, allow_pickle=False) as z:
                    lat, lab, names = z["latents"], z["labels"], [str(n) for n in z["label_names"]]
            else:
                out = fn(run_dir, split)
                lat, lab, names = out["latents"], out["labels"], list(out["label_names"])
                np.savez(cache, latents=lat, labels=lab, label_names=np.array(names))
            panels[f"{variant} (seed {seed})"] = (lat, lab)
        ap.plot_tsne(panels, plots / "tsne.png", dict(enumerate(names or [])))


def run_ablation(file: PathLike, seeds: Union[int, Sequence[int], None] = None, out_dir: PathLike = "ablation",
                 overrides: Sequence[str] = (), storage: Optional[str] = None, study: Optional[str] = None,
                 stale_after_s: float = 120.0) -> Path:
    """Train and evaluate every variant x seed of the ablation ``file`` into ``out_dir`` and write the
    results, tables and plots (see the module docstring). Returns ``out_dir``.

    Args:
        file: the ablation YAML.
        seeds: an int ``N`` (first ``N`` seeds of the file, else ``0..N-1``) or a list of seeds.
        out_dir: output folder (created; reused to resume).
        overrides: dotted ``key=value`` overrides applied to every run (after the variant's).
        storage: an Optuna storage URL: run this worker's share of the variants x seeds as one grid study
            shared with other workers (see :mod:`motionlab.train.grid`; ``study`` names it).
    """
    spec = load_ablation(file)
    seed_list = resolve_seeds(seeds, spec)
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    for v in spec.variants:  # resolve every config first: a typo fails before hours of training
        variant_config(spec, v, seed_list[0], overrides)
    if storage:
        from motionlab.train.grid import run_grid

        return run_grid(spec, seed_list, out, overrides, storage, study, stale_after_s=stale_after_s)
    import torch

    from motionlab.report.tables import save_results
    from motionlab.train.progress import RunProgress

    threads_before = torch.get_num_threads()
    if spec.threads:
        torch.set_num_threads(spec.threads)
    try:
        results, run_dirs = [], {}
        runs = RunProgress(len(spec.variants) * len(seed_list), metric_keys=spec.report.get("columns") or ())
        for v in spec.variants:
            for seed in seed_list:
                run_dir = out / "runs" / _slug(v.name) / f"seed_{seed}"
                run_dirs[(v.name, seed)] = run_dir
                runs.begin(reused=(run_dir / "metrics.json").is_file(), variant=v.name, seed=seed)
                results.append(_run_one(spec, v, seed, run_dir, overrides))
                runs.end(results[-1].metrics)
                save_results(results, out / "results.json")  # partial results survive an interruption
        write_report(results, out, spec, run_dirs)
        runs.close("ablation")
    finally:
        torch.set_num_threads(threads_before)
    return out


def report_ablation(file: PathLike, seeds: Union[int, Sequence[int], None] = None, out_dir: PathLike = "ablation",
                    storage: Optional[str] = None, study: Optional[str] = None) -> Path:
    """Write the merged results, tables and plots of the finished runs of an ablation (``--report``): from
    the grid study in ``storage`` when given, else from the run folders under ``out_dir``."""
    from motionlab.train.grid import write_grid_report

    spec = load_ablation(file)
    return write_grid_report(spec, resolve_seeds(seeds, spec), Path(out_dir), storage, study)
