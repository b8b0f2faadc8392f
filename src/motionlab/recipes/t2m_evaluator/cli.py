"""``motionlab t2m-score``: the command line of the text-motion evaluator (arguments only; the work is
:func:`motionlab.recipes.t2m_evaluator.tool.score_files`)."""

from __future__ import annotations

import argparse
from typing import List


def _texts(args: argparse.Namespace) -> List[str]:
    texts = list(args.text or [])
    if args.texts:
        from motionlab.recipes.t2m.tool import read_prompts

        texts += read_prompts(args.texts)
    if not texts:
        raise argparse.ArgumentTypeError("give captions with --text (repeatable) or --texts FILE")
    return texts


def run(args: argparse.Namespace) -> int:
    from motionlab.recipes.t2m_evaluator.tool import score_files

    try:
        texts = _texts(args)
    except argparse.ArgumentTypeError as e:
        args.parser.error(str(e))
    print(score_files(args.evaluator, args.motion, texts))
    return 0


def add_parser(sub) -> None:
    """Register ``motionlab t2m-score`` on the ``motionlab`` subparsers."""
    s = sub.add_parser("t2m-score", help="rank captions for motion files with a trained t2m_evaluator run")
    s.add_argument("motion", nargs="+", help="motion files: .npy 263-d features, t2m .npz, .bvh, motionlab npz")
    s.add_argument("--evaluator", required=True, help="run folder of a trained t2m_evaluator")
    s.add_argument("--text", action="append", help="a caption (repeatable)")
    s.add_argument("--texts", default=None, help="a .txt file of captions, one a line")
    s.set_defaults(fn=run, parser=s)
