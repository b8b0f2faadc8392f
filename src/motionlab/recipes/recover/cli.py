"""``motionlab recover``: the command line of the recover recipe (arguments only; the work is
:func:`motionlab.recipes.recover.tool.recover_file`)."""

from __future__ import annotations

import argparse

from motionlab.cli import _positive


def _pixels(text: str) -> float:
    try:
        v = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
    if not 0 < v < 1e6:
        raise argparse.ArgumentTypeError(f"focal length must be positive pixels, got {text!r}")
    return v


def _size(text: str):
    try:
        w, h = (int(v) for v in text.lower().split("x"))
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected WIDTHxHEIGHT, e.g. 1920x1080, got {text!r}") from None
    if w <= 0 or h <= 0:
        raise argparse.ArgumentTypeError(f"image size must be positive, got {text!r}")
    return w, h


def run(args: argparse.Namespace) -> int:
    from motionlab.recipes.recover.tool import recover_file

    print(recover_file(args.input, run_dir=args.run, output=args.output, fps=args.fps, focal=args.focal,
                       render=args.render, person=args.person, image_size=args.image_size))
    return 0


def add_parser(sub) -> None:
    """Register ``motionlab recover`` on the ``motionlab`` subparsers."""
    s = sub.add_parser("recover", help="2D keypoint track -> 3D SMPL-22 motion (BVH / npz) with a trained run")
    s.add_argument("input", help="COCO-17 JSON, COCO results JSON, npz (T, 17, 3) or a folder of OpenPose JSON")
    s.add_argument("--run", required=True, help="run folder of a trained recover model")
    s.add_argument("-o", "--output", required=True, help=".bvh or .npz (motionlab npz)")
    s.add_argument("--render", default=None, help="also write a video: camera view and world side by side (mp4/gif)")
    s.add_argument("--fps", type=_positive, default=None, help="the track's frame rate (default: the file's, else 30)")
    s.add_argument("--focal", type=_pixels, default=None, help="focal length in pixels (default: image diagonal)")
    s.add_argument("--image-size", type=_size, default=None, help="WIDTHxHEIGHT when the file has none")
    s.add_argument("--person", default=None, help="track / person id when the file has several (default: longest)")
    s.set_defaults(fn=run)
