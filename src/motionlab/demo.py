"""``motionlab demo``: the main job, end to end on the built-in synthetic corpus.

Steps (each prints its progress and time):

1. write the tiny synthetic corpus as ordinary files;
2. profile it;
3. draw it: a walk with foot contacts, the same clip on the G1, a talking clip with its
   waveform, a dyadic pair, 2D keypoints in both domains;
4. each learning system's section (:data:`DEMO_SECTIONS`): the tiny tokenizer ablation, a tiny
   learned retargeter applied to a held-out BVH, ...;
5. ``report.md`` gathering all of it.

``quick=True`` skips the learning systems (a minute instead of several).
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from dataclasses import dataclass
from typing import Dict, List, Optional, Tuple

from motionlab.recipes.base import resolve_target



@dataclass
class DemoContext:
    """What a recipe's demo section gets: the corpus folder and its manifest clips, the output folder
    (``media/`` for pictures and videos, ``runs/`` for run folders), the packaged configs and the seed."""

    corpus: Path
    clips: List[Dict]
    out: Path
    seed: int = 0

    @property
    def media(self) -> Path:
        path = self.out / "media"
        path.mkdir(parents=True, exist_ok=True)
        return path

    @property
    def configs(self) -> Path:
        return Path(__file__).parent / "configs"


#: The learning systems' sections, in report order: (what the step prints, "module:function" of a
#: ``section(ctx: DemoContext) -> List[str]`` returning Markdown lines, the registered recipes it trains and
#: shows). Each lives in ``recipes/<name>/demo.py`` and trains only tiny configs (the whole demo stays under
#: 10 minutes on 2 cores).
DEMO_SECTIONS: List[Tuple[str, str, Tuple[str, ...]]] = [
    ("tiny tokenizer ablation (6 variants x 2 seeds)", "motionlab.recipes.tokenizer.demo:section", ("tokenizer",)),
    ("tiny learned retargeter and a retargeted clip", "motionlab.recipes.retarget.demo:section", ("retarget",)),
    ("tiny character-motion predictor: horizon curves and a commanded free run",
     "motionlab.recipes.predictor.demo:section", ("predictor",)),
    ("tiny encoder pre-training for the predictor, loaded by path",
     "motionlab.recipes.predictor.demo:pretrain_section", ("predictor_pretrain",)),
    ("tiny text-to-motion diffusion: prompts rendered, metric table", "motionlab.recipes.t2m.demo:section",
     ("t2m", "t2m_evaluator")),
    ("the text-motion evaluator's report card", "motionlab.recipes.t2m_evaluator.demo:section", ("t2m_evaluator",)),
    ("tiny speech-to-gesture model: a talking clip with sound, metric table", "motionlab.recipes.gesture.demo:section",
     ("gesture",)),
    ("tiny dyadic responder: a reply to a held-out partner, metric table", "motionlab.recipes.gesture.demo:dyadic_section",
     ("dyadic",)),
    ("2D keypoints -> 3D motion adapted to real-like detections: video and table",
     "motionlab.recipes.recover.demo:section", ("recover",)),
]

#: Registered recipes that no demo section trains yet, with the reason (the demo's 10-minute budget).
NOT_IN_DEMO: Dict[str, str] = {}


class _Progress:
    def __init__(self, total: int) -> None:
        self.total = total
        self.step = 0
        self.t0 = time.perf_counter()

    def __call__(self, what: str) -> None:
        self.step += 1
        print(f"[{self.step}/{self.total}] {what} (t={time.perf_counter() - self.t0:.0f}s)", flush=True)


def pick_clip(clips: List[Dict], kind: str, style: Optional[str] = None, split: Optional[str] = None) -> Optional[Dict]:
    for c in clips:
        if c["kind"] == kind and (style is None or c.get("style") == style) and (split is None or c.get("split") == split):
            return c
    return None


def _profile_table(prof: Dict) -> str:
    rows = [
        ("clips", f"{prof['clips']}"),
        ("frames", f"{prof['frames']} ({prof['duration_s']['total']:.0f} s)"),
        ("kinds", ", ".join(f"{k} {v}" for k, v in prof["kinds"].items())),
        ("styles", ", ".join(f"{k} {v}" for k, v in prof["styles"].items())),
        ("splits", ", ".join(f"{k} {v}" for k, v in prof["splits"].items())),
        ("root speed m/s (mean / p95 / max)", "{mean:.2f} / {p95:.2f} / {max:.2f}".format(**prof["root_speed_mps"])),
        ("yaw rate deg/s (mean / p95 / max)", "{mean:.1f} / {p95:.1f} / {max:.1f}".format(**prof["yaw_rate_degps"])),
    ]
    return "| | |\n|---|---|\n" + "\n".join(f"| {a} | {b} |" for a, b in rows)


def _quality_table(corpus: Path, clips: List[Dict]) -> str:
    """Foot skating, penetration and G1 limits of the corpus, measured with the metrics module."""
    from motionlab.core.body import FEET
    from motionlab.eval import metrics
    from motionlab.io.g1 import read_unitree_csv
    from motionlab.io.npz import load_motion_npz
    from motionlab.robots.g1 import limit_violations

    skate, lowest, viol = [], [], []
    for c in clips:
        m = load_motion_npz(corpus / c["files"]["human"])
        pos = m.positions()
        if c["kind"] == "locomotion":
            feet = pos[:, m.skeleton.indices(list(FEET))]
            skate.append(metrics.foot_skating_ratio(feet, m.fps))
        lowest.append(float(pos[..., 2].min()))
        viol.append(limit_violations(read_unitree_csv(corpus / c["files"]["robot"]).joint_pos)[0])
    return ("| check | value |\n|---|---|\n"
            f"| foot skating ratio, locomotion (max over clips) | {100 * max(skate):.2f}% |\n"
            f"| lowest joint above the floor | {100 * min(lowest):.1f} cm |\n"
            f"| G1 frames outside the official limits | {100 * max(viol):.2f}% |")


def _pictures(corpus: Path, clips: List[Dict], out: Path) -> List[str]:
    from motionlab.core.body import FEET
    from motionlab.io.audio import read_audio
    from motionlab.io.g1 import read_unitree_csv
    from motionlab.io.npz import load_motion_npz
    from motionlab.report.render import figure_from_motion, figure_from_robot, filmstrip, render

    media = out / "media"
    media.mkdir(parents=True, exist_ok=True)
    md: List[str] = []

    walk = pick_clip(clips, "locomotion", "walk") or pick_clip(clips, "locomotion")
    m = load_motion_npz(corpus / walk["files"]["human"])
    body = figure_from_motion(m, "SMPL-22 body", feet=FEET)
    robot = figure_from_robot(read_unitree_csv(corpus / walk["files"]["robot"]), "Unitree G1 (analytic mapping)")
    filmstrip([body], media / "walk.png", m.fps, count=5, caption=walk["caption"])
    render([body, robot], media / "walk_g1.gif", m.fps, caption=walk["caption"])
    md += [f"### Locomotion: \"{walk['caption']}\"", "",
           "Frames of the body with its foot contacts (orange), and the same clip on the G1:", "",
           "![walk](media/walk.png)", "", "![walk and G1](media/walk_g1.gif)", ""]

    talk = pick_clip(clips, "talking")
    if talk is not None:
        tm = load_motion_npz(corpus / talk["files"]["human"])
        audio = read_audio(corpus / talk["files"]["audio"])
        fig = figure_from_motion(tm, "talking")
        filmstrip([fig], media / "talk.png", tm.fps, count=5, caption=talk["caption"], audio=audio)
        render([fig], media / "talk.mp4", tm.fps, caption=talk["caption"], audio=audio, max_seconds=6)
        md += [f"### Speech and gestures: \"{talk['caption']}\"", "",
               "Gesture strokes follow the syllable onsets of the synthetic voice (waveform below, playhead in red):", "",
               "![talk](media/talk.png)", "", "[video with sound-aligned waveform](media/talk.mp4)", ""]

    pair = [c for c in clips if c["kind"] == "dyadic"][:2]
    if len(pair) == 2:
        a = load_motion_npz(corpus / pair[0]["files"]["human"])
        b = load_motion_npz(corpus / pair[1]["files"]["human"])
        audio = read_audio(corpus / pair[0]["files"]["audio"])
        figs = [figure_from_motion(a, pair[0]["id"]), figure_from_motion(b, pair[1]["id"])]
        render(figs, media / "dyadic.gif", a.fps, caption=pair[0]["caption"], audio=audio, max_seconds=8)
        md += ["### A dyadic pair with turn-taking", "", "![dyadic](media/dyadic.gif)", ""]

    kp_png = _keypoint_picture(corpus, walk, media / "keypoints.png")
    if kp_png:
        md += ["### 2D keypoints in two domains", "",
               "COCO-17 projections from random cameras: clean (\"synthetic\") and detector-like (\"real\": "
               "noise, jitter, dropped joints with low confidence, other intrinsics):", "",
               "![keypoints](media/keypoints.png)", ""]
    return md


def _keypoint_picture(corpus: Path, clip: Dict, out: Path) -> Optional[Path]:
    import matplotlib

    matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt

    from motionlab.io.keypoints import read_keypoints

    files = clip["files"]
    if "keypoints_synthetic" not in files or "keypoints_real" not in files:
        return None
    pairs = [(5, 7), (7, 9), (6, 8), (8, 10), (5, 6), (5, 11), (6, 12), (11, 12), (11, 13), (13, 15), (12, 14),
             (14, 16), (0, 5), (0, 6)]
    fig, axes = plt.subplots(1, 2, figsize=(8, 4), dpi=100)
    for ax, key, title in zip(axes, ("keypoints_synthetic", "keypoints_real"), ("synthetic domain", "real-like domain")):
        kp = read_keypoints(corpus / files[key])
        t = len(kp.xy) // 2
        xy, conf = kp.xy[t], kp.conf[t]
        for i, j in pairs:
            if conf[i] > 0.2 and conf[j] > 0.2:
                ax.plot(xy[[i, j], 0], xy[[i, j], 1], "-", color="#1f77b4", lw=2)
        sc = ax.scatter(xy[:, 0], xy[:, 1], c=conf, cmap="viridis", vmin=0, vmax=1, s=25, zorder=3)
        if kp.image_size:
            ax.set_xlim(0, kp.image_size[0])
            ax.set_ylim(kp.image_size[1], 0)
        else:
            ax.invert_yaxis()
        ax.set_aspect("equal")
        ax.set_title(title, fontsize=9)
    fig.colorbar(sc, ax=axes, shrink=0.7, label="confidence")
    fig.savefig(out)
    plt.close(fig)
    return out


def run_demo(out="motionlab_demo", quick: bool = False, seed: int = 0) -> Path:
    """Run the demo into ``out`` and return the path of ``report.md``."""
    from motionlab.data.profile import profile_dataset
    from motionlab.data.synth.corpus import generate_corpus

    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    steps = 4 if quick else 4 + len(DEMO_SECTIONS)
    progress = _Progress(steps)
    progress("writing the tiny synthetic corpus")
    corpus = out / "corpus"
    manifest = generate_corpus(corpus, scale="tiny", seed=seed, progress=True)
    clips = manifest["clips"]
    progress(f"profiling {len(clips)} clips")
    prof = profile_dataset(corpus)
    (out / "profile.json").write_text(json.dumps(prof, indent=2, sort_keys=True))
    md = ["# motionlab demo", "",
          "Everything below was produced on this machine from the built-in synthetic corpus by `motionlab demo`.", "",
          "## The synthetic corpus", "", f"Written to `{corpus.name}/` as ordinary files (npz, BVH, wav, TextGrid, "
          "Unitree CSV, BeyondMimic npz, keypoints) with `manifest.json`; profile (`motionlab data profile`):", "",
          _profile_table(prof), "", "Physical checks, measured with `motionlab.eval.metrics`:", "",
          _quality_table(corpus, clips), ""]
    progress("rendering bodies, the G1, speech and keypoints")
    md += _pictures(corpus, clips, out)
    if not quick:
        ctx = DemoContext(corpus=corpus, clips=clips, out=out, seed=seed)
        for what, target, _recipes in DEMO_SECTIONS:
            progress(what)
            md += resolve_target(target)(ctx)
    progress("writing the report")
    report = out / "report.md"
    report.write_text("\n".join(md) + "\n")
    return report
