"""``motionlab gesture`` and ``motionlab dyadic``: arguments only; the work is
:func:`motionlab.recipes.gesture.tool.gesture_file`."""

from __future__ import annotations

import argparse


def run(args: argparse.Namespace) -> int:
    from motionlab.recipes.gesture.tool import gesture_file

    print(gesture_file(args.audio, run_dir=args.run, output=args.output, words=args.words, seed=args.seed,
                       speaker=args.speaker, npz_format=args.format, render=args.render,
                       partner_motion=getattr(args, "partner_motion", None),
                       partner_audio=getattr(args, "partner_audio", None)))
    return 0


def _common(s) -> None:
    s.add_argument("--run", required=True, help="run folder of a trained model")
    s.add_argument("-o", "--output", required=True, help="OUT.npz (BEAT2 SMPL-X by default) or OUT.bvh")
    s.add_argument("--words", default=None, help="Praat TextGrid with the word alignment of the speech")
    s.add_argument("--seed", default=None, help="SMPL-X npz whose first frames seed the motion (default: the training mean pose, model.seed_pose)")
    s.add_argument("--speaker", type=int, default=0, help="speaker index of the training speakers (default 0)")
    s.add_argument("--format", default="beat2", choices=["beat2", "motionlab"], help="npz flavour")
    s.add_argument("--render", default=None, help="also write a video (mp4 with sound, or gif)")
    s.set_defaults(fn=run)


def add_parser(sub) -> None:
    """Register ``motionlab gesture`` and ``motionlab dyadic``."""
    s = sub.add_parser("gesture", help="speech file -> SMPL-X gestures with a trained gesture run")
    s.add_argument("audio", help="speech file (wav/flac/ogg, any rate/channels)")
    _common(s)
    s = sub.add_parser("dyadic", help="partner's voice and motion + own voice -> own motion (trained dyadic run)")
    s.add_argument("--audio", required=True, help="own speech file")
    s.add_argument("--partner-motion", required=True, help="the partner's SMPL-X / BEAT2 npz")
    s.add_argument("--partner-audio", required=True, help="the partner's speech file")
    _common(s)
