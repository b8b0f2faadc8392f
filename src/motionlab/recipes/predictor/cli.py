"""``motionlab predict``: the command line of the predictor recipe (arguments only; the work is
:func:`motionlab.recipes.predictor.tool.predict_motion` and :func:`~motionlab.recipes.predictor.tool.export_stepper`)."""

from __future__ import annotations

import argparse


def run(args: argparse.Namespace) -> int:
    from motionlab.errors import MotionLabError
    from motionlab.recipes.predictor.tool import export_stepper, predict_motion

    if args.export:
        out = export_stepper(args.run, args.export)
        print(f"wrote {out} and {out}.json (TorchScript stepper: torch.jit.load)")
        if not args.output and not args.render:
            return 0
    if not args.output and not args.render:
        raise MotionLabError("nothing to write: give -o OUT.bvh|OUT.npz and/or --render OUT.mp4", place="-o")
    pred = predict_motion(args.run, seed_clip=args.seed_clip, frames=args.frames, control=args.control,
                          output=args.output, render=args.render)
    print(pred)
    return 0


def add_parser(sub) -> None:
    """Register ``motionlab predict`` on the ``motionlab`` subparsers."""
    s = sub.add_parser("predict", help="free-run a trained character-motion predictor under speed/turn commands")
    s.add_argument("--run", required=True, help="run folder of a trained predictor")
    s.add_argument("--seed-clip", default=None, help="motion to continue (BVH, npz, SMPL-X, frame JSON); "
                                                     "default: the training mean pose")
    s.add_argument("--frames", type=int, default=300)
    s.add_argument("--control", default="speed=1.2", help="e.g. 'speed=1.4,turn=30' (m/s, deg/s; side=m/s)")
    s.add_argument("-o", "--output", default=None, help="OUT.bvh or OUT.npz")
    s.add_argument("--render", default=None, help="also write a video (mp4/gif) with the commanded path")
    s.add_argument("--export", default=None, help="write the stepper as TorchScript (OUT.pt + OUT.pt.json)")
    s.set_defaults(fn=run)
