"""``motionlab t2m``: the command line of the text-to-motion recipe (arguments only; the work is
:func:`motionlab.recipes.t2m.tool.t2m_prompts`)."""

from __future__ import annotations

import argparse



def _seconds(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
    if not 0 < value < 3600:
        raise argparse.ArgumentTypeError(f"{text!r} must be between 0 and 3600 seconds")
    return value


def run(args: argparse.Namespace) -> int:
    from motionlab.recipes.t2m.tool import t2m_prompts

    print(t2m_prompts(args.prompt, args.run, seconds=args.seconds, output=args.output, out_dir=args.out_dir,
                      render=args.render, steps=args.steps, guidance=args.guidance, seed=args.seed,
                      sampler=args.sampler, fmt=args.format))
    return 0


def add_parser(sub) -> None:
    """Register ``motionlab t2m`` on the ``motionlab`` subparsers."""
    s = sub.add_parser("t2m", help="generate motion from a text prompt (or a file of prompts, one a line)")
    s.add_argument("prompt", help="a prompt, or a .txt file with one prompt a line")
    s.add_argument("--run", required=True, help="run folder of a trained t2m model")
    s.add_argument("--seconds", type=_seconds, default=6.0, help="length of each motion (default 6)")
    s.add_argument("-o", "--output", default=None, help="output file for one prompt: .bvh, .npy or .npz")
    s.add_argument("--out-dir", default=None, help="folder for a prompts file's outputs")
    s.add_argument("--format", default="bvh", choices=["bvh", "npy", "npz"], help="file type in --out-dir")
    s.add_argument("--render", default=None, help="also write a captioned video (mp4/gif)")
    s.add_argument("--steps", type=int, default=None, help="DDIM steps (default: the run's diffusion.sample_steps)")
    s.add_argument("--guidance", type=float, default=None, help="classifier-free guidance scale")
    s.add_argument("--sampler", default=None, choices=["ddim", "ddpm"])
    s.add_argument("--seed", type=int, default=0)
    s.set_defaults(fn=run)
