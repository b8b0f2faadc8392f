"""``motionlab retarget``: the command line of the retarget recipe (arguments only; the work is
:func:`motionlab.recipes.retarget.tool.retarget_file`)."""

from __future__ import annotations

import argparse

from motionlab.cli import _positive, add_bvh_units_option, add_overwrite_option


def run(args: argparse.Namespace) -> int:
    from motionlab.recipes.retarget.tool import retarget_file

    report = retarget_file(
        args.input, run_dir=args.run, output=args.output, format=args.format, fps=args.fps, render=args.render,
        mjcf=args.mjcf,
    )
    print(report)
    return 0


def add_parser(sub) -> None:
    """Register ``motionlab retarget`` on the ``motionlab`` subparsers."""
    s = sub.add_parser("retarget", help="retarget a human motion file onto the Unitree G1")
    s.add_argument("input")
    s.add_argument("--run", required=True, help="run folder of a trained retarget model")
    s.add_argument("-o", "--output", required=True)
    s.add_argument("--format", default=None, choices=["beyondmimic", "unitree-csv", "gmr-pkl", "npz"])
    s.add_argument("--fps", type=_positive, default=None)
    s.add_argument("--render", default=None, help="also write a side-by-side video (mp4/gif)")
    s.add_argument("--mjcf", default=None, help="render the robot with MuJoCo using this model file")
    add_bvh_units_option(s)
    add_overwrite_option(s)
    s.set_defaults(fn=run)
