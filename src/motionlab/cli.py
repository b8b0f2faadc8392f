"""The ``motionlab`` command line: it parses arguments, looks names up and calls library functions.

Every command's work lives in a library module so that it can be used from Python too.
"""

from __future__ import annotations

import argparse
import json
import sys
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import List, Optional

from motionlab.errors import MotionLabError
from motionlab.recipes.base import resolve_target


def _positive(text: str) -> float:
    """argparse type: a frame rate, a number within the valid range (1-1000 fps)."""
    from motionlab.core.files import FPS_RANGE

    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
    lo, hi = FPS_RANGE
    if not (lo <= value <= hi):
        raise argparse.ArgumentTypeError(f"{text!r} is outside the valid range {lo:g}-{hi:g} fps")
    return value


def _bvh_units(text: str):
    from motionlab.io.bvh import parse_units

    try:
        return parse_units(text)
    except MotionLabError as e:
        raise argparse.ArgumentTypeError(e.problem) from None


def add_bvh_units_option(parser: argparse.ArgumentParser) -> None:
    """``--units`` for a command that reads BVH files: every BVH the command reads (through
    :func:`motionlab.io.formats.read_file`) takes this length unit; other formats ignore it."""
    parser.add_argument("--units", dest="bvh_units", type=_bvh_units, default=None, metavar="UNITS",
                        help="length unit of BVH input: auto (default: the unit that makes the body about "
                             "1.7 m tall), m, cm, mm, inch, or metres per file unit (CMU's scale: 0.056444)")


def add_overwrite_option(parser: argparse.ArgumentParser) -> None:
    """``--overwrite`` for a command that writes files: replace an existing read-only output."""
    parser.add_argument("--overwrite", action="store_true",
                        help="replace an existing output file even if it is read-only")


@contextmanager
def _io_context(args: argparse.Namespace):
    """What the shared options set for the command's reads and writes (``--units``, ``--overwrite``),
    and notes about files (:class:`~motionlab.errors.MotionLabNote`) printed as one line each."""
    import warnings

    from motionlab.errors import MotionLabNote

    with ExitStack() as stack:
        if getattr(args, "bvh_units", None) is not None:
            from motionlab.io.formats import reading_options

            stack.enter_context(reading_options(units=args.bvh_units))
        if getattr(args, "overwrite", False):
            from motionlab.core.files import allow_overwrite

            stack.enter_context(allow_overwrite())
        stack.enter_context(warnings.catch_warnings())
        shown = warnings.showwarning

        def show(message, category, filename, lineno, file=None, line=None):
            if issubclass(category, MotionLabNote):
                print(f"motionlab: note: {' '.join(str(message).split())}", file=sys.stderr)
            else:
                shown(message, category, filename, lineno, file, line)

        warnings.showwarning = show
        yield


def _print_json(obj) -> None:
    print(json.dumps(obj, indent=2, sort_keys=True, default=str))


#: Commands that belong to one recipe (``motionlab retarget``, ...): "module:function" of a function
#: ``add_parser(subparsers)`` that registers the command; each lives in ``recipes/<name>/cli.py`` and
#: imports its heavy modules only when the command runs.
RECIPE_COMMANDS: List[str] = [
    "motionlab.recipes.retarget.cli:add_parser",
    "motionlab.recipes.predictor.cli:add_parser",
    "motionlab.train.tune:add_parser",
    "motionlab.recipes.t2m.cli:add_parser",
    "motionlab.recipes.t2m_evaluator.cli:add_parser",
    "motionlab.recipes.recover.cli:add_parser",
    "motionlab.recipes.gesture.cli:add_parser",
]


# --- info --------------------------------------------------------------------------------------


def cmd_info(args: argparse.Namespace) -> int:
    from motionlab.info import environment_info, format_info

    info = environment_info()
    if args.json:
        _print_json(info)
    else:
        print(format_info(info))
    return 0


# --- data --------------------------------------------------------------------------------------


def cmd_data_inspect(args: argparse.Namespace) -> int:
    from motionlab.io.formats import format_summary, inspect_file

    summary = inspect_file(args.file, format=args.format)
    if args.json:
        _print_json(summary)
    else:
        print(format_summary(summary))
    return 0


def cmd_data_convert(args: argparse.Namespace) -> int:
    from motionlab.io.formats import convert_file

    out = convert_file(args.input, args.output, fps=args.fps, format=args.format, in_format=args.in_format)
    print(f"wrote {out}")
    return 0


def cmd_data_synth(args: argparse.Namespace) -> int:
    from motionlab.data.synth.corpus import generate_corpus

    manifest = generate_corpus(args.out, scale=args.scale, seed=args.seed, progress=True)
    print(f"wrote {len(manifest['clips'])} clips to {args.out}")
    return 0


def cmd_data_profile(args: argparse.Namespace) -> int:
    from motionlab.data.profile import format_profile, profile_dataset

    if getattr(args, "write_config", None):
        from motionlab.data.profile import write_profile_config

        for line in write_profile_config(args.dir, args.write_config, base=args.base, recipe=args.recipe):
            print(line)
        return 0
    prof = profile_dataset(args.dir)
    if args.json:
        _print_json(prof)
    else:
        print(format_profile(prof))
    return 0


def cmd_data_render(args: argparse.Namespace) -> int:
    from motionlab.report.render import render_files

    out = render_files(args.files, args.output, fps=args.fps, caption=args.caption, mjcf=args.mjcf)
    print(f"wrote {out}")
    return 0


# --- learning ----------------------------------------------------------------------------------


def cmd_train(args: argparse.Namespace) -> int:
    from motionlab.train.engine import train

    overrides = list(args.overrides or ())
    if args.train_units is not None:
        from motionlab.config import describe_config
        from motionlab.recipes.registry import get_recipe

        rec = get_recipe(args.recipe)
        if not any(k.key == "data.units" for k in describe_config(rec.config_cls)):
            raise MotionLabError(f"--units: recipe {args.recipe!r} reads no BVH files (its config has no "
                                 "data.units key); recipes that do: tokenizer, retarget, predictor")
        from motionlab.io.bvh import parse_units

        parse_units(args.train_units)  # a bad unit is an error before anything is built
        overrides.append(f"data.units={args.train_units}")
    run_dir = train(args.recipe, config_path=args.config, overrides=overrides, run_dir=args.run_dir)
    print(f"run folder: {run_dir}")
    return 0


def _recipe_config(recipe: str, config: Optional[str], overrides: List[str]):
    """(recipe, resolved config, where its values came from) for ``config`` and ``train --help``."""
    from motionlab.config import apply_overrides, load_config
    from motionlab.recipes.registry import get_recipe

    rec = get_recipe(recipe)
    path = config or rec.default_config_path()
    cfg = apply_overrides(load_config(rec.config_cls, path), list(overrides or ()))
    origin = [f"defaults of {rec.config_cls.__name__}"]
    if path is not None:
        origin.append(str(path) if config else f"the packaged {rec.default_config}")
    if overrides:
        origin.append("overrides " + " ".join(overrides))
    return rec, cfg, ", then ".join(origin)


def cmd_config(args: argparse.Namespace) -> int:
    from motionlab.config import describe_config, find_config_keys, format_config_keys, to_dict
    from motionlab.recipes.registry import get_recipe, recipe_names

    if args.list or args.recipe is None:
        for name in recipe_names():
            print(f"{name:<16} {get_recipe(name).description}".rstrip())
        if args.recipe is None and not args.list:
            print("\n`motionlab config RECIPE` lists a recipe's config keys")
        return 0
    rec, cfg, origin = _recipe_config(args.recipe, args.config, args.overrides)
    keys = describe_config(cfg)
    if args.find:
        keys = find_config_keys(keys, args.find)
        if not keys:
            raise MotionLabError(f"no config key of {rec.name} mentions {args.find!r} in its name or meaning")
    if args.json:
        _print_json([k.__dict__ for k in keys])
    elif args.yaml:
        import yaml

        print(yaml.safe_dump(to_dict(cfg), sort_keys=False, default_flow_style=None), end="")
    else:
        print(f"# {rec.name}: {rec.description}" if rec.description else f"# {rec.name}")
        print(f"# values: {origin}; override any key with key=value, e.g. motionlab train {rec.name} train.lr=1e-3")
        print(format_config_keys(keys, sections_only=args.sections))
    return 0


class _TrainHelp(argparse.Action):
    """``train [RECIPE] --help``: the usual help, then the recipe's config keys (or the recipes)."""

    def __init__(self, option_strings, dest=argparse.SUPPRESS, default=argparse.SUPPRESS, help=None):
        super().__init__(option_strings, dest=dest, default=default, nargs=0, help=help)

    def __call__(self, parser, namespace, values, option_string=None):
        parser.print_help()
        recipe = getattr(namespace, "recipe", None)
        from motionlab.recipes.registry import recipe_names

        if not recipe:
            print(f"\nrecipes: {', '.join(recipe_names())}; `motionlab train RECIPE --help` lists a recipe's "
                  "config keys")
            parser.exit(0)
        try:
            from motionlab.config import describe_config, format_config_keys

            rec, cfg, origin = _recipe_config(recipe, getattr(namespace, "config", None), [])
        except MotionLabError as err:
            parser.exit(2, f"motionlab: error: {err}\n")
        print(f"\nconfig keys of {rec.name} ({origin}); override any with key=value.")
        print(f"`motionlab config {rec.name} [-c FILE] [key=value ...]` prints them for a given config.\n")
        print(format_config_keys(describe_config(cfg)))
        parser.exit(0)


def cmd_eval(args: argparse.Namespace) -> int:
    import time

    from motionlab.train.engine import METRICS_FILE, evaluate

    t0 = time.time()
    print(f"evaluating {args.run_dir} ...", file=sys.stderr, flush=True)
    metrics = evaluate(args.run_dir, **({"evaluator": args.evaluator} if getattr(args, "evaluator", None) else {}))
    _print_json(metrics)
    print(f"evaluated in {time.time() - t0:.1f} s: {Path(args.run_dir) / METRICS_FILE}", file=sys.stderr, flush=True)
    return 0


def cmd_ablate(args: argparse.Namespace) -> int:
    from motionlab.train.ablation import report_ablation, run_ablation

    if getattr(args, "report", False):
        out = Path(report_ablation(args.file, seeds=args.seeds, out_dir=args.out, storage=args.storage,
                                   study=args.study))
    else:
        out = Path(run_ablation(args.file, seeds=args.seeds, out_dir=args.out, overrides=args.overrides,
                                storage=getattr(args, "storage", None), study=getattr(args, "study", None)))
    table = out / "table.md"
    if table.is_file():  # the study's result: mean +- std per variant, best in bold
        print(table.read_text(encoding="utf-8").rstrip())
    print(f"ablation report: {table}")
    plots = sorted(p.name for p in (out / "plots").glob("*.png")) if (out / "plots").is_dir() else []
    print(f"  LaTeX {out / 'table.tex'}, every run's numbers {out / 'results.json'}, runs {out / 'runs'}")
    if plots:
        print(f"  plots in {out / 'plots'}: {', '.join(plots)}")
    return 0


def cmd_demo(args: argparse.Namespace) -> int:
    from motionlab.demo import run_demo

    report = run_demo(args.out, quick=args.quick)
    print(f"demo report: {report}")
    return 0


# --- parser ------------------------------------------------------------------------------------


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="motionlab", description="Learning human motion: read, tokenize, "
                                "generate, retarget to Unitree G1, recover and measure motion.")
    sub = p.add_subparsers(dest="command", required=True, metavar="COMMAND")

    s = sub.add_parser("info", help="version and what is installed and usable")
    s.add_argument("--json", action="store_true")
    s.set_defaults(fn=cmd_info)

    data = sub.add_parser("data", help="inspect, convert, synthesise, profile and render motion files")
    dsub = data.add_subparsers(dest="data_command", required=True, metavar="ACTION")
    s = dsub.add_parser("inspect", help="format, fps, frames, joints, units and ranges of a file")
    s.add_argument("file")
    s.add_argument("--format", default=None, help="force the input format (default: detected)")
    s.add_argument("--json", action="store_true", help="machine-readable output")
    add_bvh_units_option(s)
    s.set_defaults(fn=cmd_data_inspect)
    s = dsub.add_parser("convert", help="convert between formats (any motion -> BVH / npz; G1 formats among themselves)")
    s.add_argument("input")
    s.add_argument("output")
    s.add_argument("--fps", type=_positive, default=None, help="resample to this frame rate")
    s.add_argument("--format", default=None, help="output format (default: from the extension)")
    s.add_argument("--in-format", default=None, help="input format (default: detected)")
    add_bvh_units_option(s)
    add_overwrite_option(s)
    s.set_defaults(fn=cmd_data_convert)
    s = dsub.add_parser("synth", help="write the built-in synthetic corpus")
    s.add_argument("out")
    s.add_argument("--scale", default="tiny", choices=["tiny", "small", "large"])
    s.add_argument("--seed", type=int, default=0)
    s.set_defaults(fn=cmd_data_synth)
    s = dsub.add_parser("profile", help="dataset statistics of a folder (clips, durations, speeds, styles)")
    s.add_argument("dir")
    s.add_argument("--json", action="store_true")
    s.add_argument("--write-config", default=None, metavar="OUT.yaml",
                   help="write the dataset statistics and the size-dependent defaults into a recipe config")
    s.add_argument("--base", default=None, help="with --write-config: the config to start from")
    s.add_argument("--recipe", default="predictor", help="with --write-config: the recipe (default predictor)")
    add_bvh_units_option(s)
    s.set_defaults(fn=cmd_data_profile)
    s = dsub.add_parser("render", help="stick-figure video of one or more motion files side by side")
    s.add_argument("files", nargs="+")
    s.add_argument("-o", "--output", required=True, help="OUT.mp4 or OUT.gif")
    s.add_argument("--fps", type=_positive, default=None)
    s.add_argument("--caption", default=None)
    s.add_argument("--mjcf", default=None, help="render G1 clips with MuJoCo using this model file")
    add_bvh_units_option(s)
    add_overwrite_option(s)
    s.set_defaults(fn=cmd_data_render)

    s = sub.add_parser("train", help="train a recipe into a run folder", add_help=False,
                       description="Train a recipe into a run folder, showing progress and ending with a summary. "
                       "`motionlab train RECIPE --help` (or `motionlab config RECIPE`) lists every config key "
                       "with its default and meaning.")
    s.add_argument("-h", "--help", action=_TrainHelp, help="show this help and the recipe's config keys")
    s.add_argument("recipe", help="a registered recipe (`motionlab config --list`)")
    s.add_argument("-c", "--config", default=None, help="YAML config (default: the recipe's default)")
    s.add_argument("overrides", nargs="*", help="dotted key=value overrides, e.g. train.max_steps=200")
    s.add_argument("--run-dir", default=None)
    s.add_argument("--units", dest="train_units", default=None, metavar="UNITS",
                   help="length unit of the BVH files in data.root (sets data.units): auto, m, cm, mm, inch, "
                        "or metres per file unit (CMU's scale: 0.056444)")
    s.set_defaults(fn=cmd_train)

    s = sub.add_parser("config", help="every config key of a recipe with its value, default and meaning")
    s.add_argument("recipe", nargs="?", default=None, help="a registered recipe")
    s.add_argument("-c", "--config", default=None, help="YAML config (default: the recipe's default)")
    s.add_argument("overrides", nargs="*", help="dotted key=value overrides, e.g. train.max_steps=200")
    s.add_argument("--sections", action="store_true", help="only the sections")
    s.add_argument("--find", default=None, metavar="TEXT", help="only keys whose name or meaning mentions TEXT")
    s.add_argument("--yaml", action="store_true", help="the resolved config as YAML (a file for -c)")
    s.add_argument("--json", action="store_true", help="machine-readable keys, values, defaults, meanings")
    s.add_argument("--list", action="store_true", help="list the registered recipes")
    s.set_defaults(fn=cmd_config)

    s = sub.add_parser("eval", help="evaluate a run folder; writes metrics.json")
    s.add_argument("run_dir")
    s.add_argument("--evaluator", default=None, help="a learned evaluator's run folder (t2m: a t2m_evaluator run)")
    s.set_defaults(fn=cmd_eval)

    s = sub.add_parser("ablate", help="multi-seed ablation from a YAML list of variants")
    s.add_argument("file")
    s.add_argument("--seeds", type=int, default=3)
    s.add_argument("--out", required=True)
    s.add_argument("overrides", nargs="*", help="overrides applied to every variant")
    s.add_argument("--storage", default=None, help="Optuna storage URL shared by workers on many machines "
                                                    "(each run claimed by one worker)")
    s.add_argument("--study", default=None, help="grid study name (default: the ablation file's name)")
    s.add_argument("--report", action="store_true", help="only write the merged tables and plots of finished runs")
    s.set_defaults(fn=cmd_ablate)

    for target in RECIPE_COMMANDS:
        resolve_target(target)(sub)

    s = sub.add_parser("demo", help="the main job: corpus, pictures, tiny trainings and a report")
    s.add_argument("--out", default="motionlab_demo")
    s.add_argument("--quick", action="store_true", help="skip the trainings (pictures and data only)")
    s.set_defaults(fn=cmd_demo)
    return p


def main(argv: Optional[List[str]] = None) -> int:
    parser = build_parser()
    args, extra = parser.parse_known_args(argv)
    if extra:
        # key=value overrides may come after options (`train tokenizer -c f.yaml train.lr=1e-3`)
        if hasattr(args, "overrides") and all("=" in e and not e.startswith("-") for e in extra):
            args.overrides = list(args.overrides or []) + extra
        else:
            parser.error(f"unrecognized arguments: {' '.join(extra)}")
    try:
        with _io_context(args):
            return int(args.fn(args) or 0)
    except MotionLabError as err:
        print(f"motionlab: error: {' '.join(str(err).split())}", file=sys.stderr)
        return 2
    except (PermissionError, IsADirectoryError, NotADirectoryError, FileNotFoundError) as err:
        from motionlab.core.files import os_problem  # a file the command could not open, in one line


        where = f"{err.filename}: " if getattr(err, "filename", None) else ""
        print(f"motionlab: error: {where}{os_problem(err)}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("motionlab: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:  # `motionlab config x | head`: the reader left; say nothing more
        import os

        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
