"""Write the built-in synthetic corpus as a folder of ordinary files motionlab reads.

Layout (``<id>`` is the clip id; files of one clip share the stem so they pair by name)::

    motion/<id>.npz            SMPL-22 body motion (motionlab npz, Z up, w-first quaternions)
    bvh/<id>.bvh               the same motion as BVH (Y up at the file boundary)
    robot/<id>.csv             paired Unitree G1 clip (Unitree CSV, 30 fps)
    robot_bm/<id>.npz          the same G1 clip as a BeyondMimic npz (50 fps, Isaac order)
    smplx/<id>.npz             talking, listening and dyadic clips as BEAT2-format SMPL-X npz: the same body plus
                               fingers, jaw, eyes (``poses`` (T, 165)) and ``expressions`` (T, 100) (manifest version 2)
    audio/<id>.wav             16 kHz voice of the person (talking and dyadic clips)
    words/<id>.TextGrid        word intervals of that voice
    keypoints/synthetic/<id>.npz, keypoints/real/<id>.npz      COCO-17 tracks of the two domains
    cameras/synthetic/<id>.npz, cameras/real/<id>.npz          their cameras and 3D ground truth
    captions.json              {id: caption}
    manifest.json              every clip: id, kind, style, files, frames, fps, duration, caption, split, meta

Listening clips also have ``partner_audio`` / ``partner_words`` (the voice heard); each dyadic
clip names its ``partner`` clip (``<pair>_speaker1`` / ``<pair>_speaker2``) and that clip's files.
Splits are by clip (a dyadic pair stays together), stratified by kind, from the seed.

Everything is a pure function of ``(scale, seed)``: per-clip generators are seeded with
``numpy.random.default_rng([seed, clip index])``, JSON is written with sorted keys and no
timestamps, so the same seed gives byte-identical files.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any, Callable, Dict, List, Optional, Tuple

import numpy as np

from motionlab.errors import MotionLabError, choices_error

SCALES: Dict[str, Dict[str, Any]] = {
    # clips per kind: locomotion per style, talking, listening, dyadic pairs; duration range (s)
    "tiny": {"loco_per_style": 2, "talking": 6, "listening": 4, "pairs": 4, "loco_dur": (4.0, 6.0), "talk_dur": (6.0, 8.0)},
    "small": {"loco_per_style": 24, "talking": 60, "listening": 30, "pairs": 30, "loco_dur": (4.0, 8.0), "talk_dur": (6.0, 10.0)},
    "large": {"loco_per_style": 240, "talking": 600, "listening": 300, "pairs": 300, "loco_dur": (4.0, 10.0), "talk_dur": (8.0, 16.0)},
}
FPS = 30.0
SPLIT_FRACTIONS = (0.7, 0.15, 0.15)
MANIFEST = "manifest.json"
#: 2: talking, listening and dyadic clips also have ``smplx`` (hands, jaw, expressions)
MANIFEST_VERSION = 2


def _json_text(obj: Any) -> str:
    return json.dumps(obj, sort_keys=True, indent=1, ensure_ascii=True, allow_nan=False) + "\n"


def _clean(v: Any) -> Any:
    """JSON-safe copy of metadata with floats rounded to 6 decimals."""
    if isinstance(v, dict):
        return {str(k): _clean(x) for k, x in v.items()}
    if isinstance(v, (list, tuple)):
        return [_clean(x) for x in v]
    if isinstance(v, (bool, np.bool_)):
        return bool(v)
    if isinstance(v, (int, np.integer)):
        return int(v)
    if isinstance(v, (float, np.floating)):
        return round(float(v), 6)
    return v if v is None else str(v)


def _plan(scale: str) -> List[Tuple[str, str]]:
    """``[(kind, style)]`` of every clip (dyadic pairs count once)."""
    from motionlab.data.synth.locomotion import LOCOMOTION_STYLES

    if scale not in SCALES:
        raise choices_error("corpus scale", scale, SCALES)
    cfg = SCALES[scale]
    plan = [("locomotion", s) for _ in range(cfg["loco_per_style"]) for s in LOCOMOTION_STYLES]
    plan += [("talking", "talking")] * cfg["talking"]
    plan += [("listening", "listening")] * cfg["listening"]
    plan += [("dyadic", "dyadic")] * cfg["pairs"]
    return plan


def _splits(groups: List[Tuple[str, str]], seed: int) -> Dict[str, str]:
    """Split group ids (a clip or a dyadic pair) per kind: ``{group: split}``."""
    out: Dict[str, str] = {}
    kinds = sorted({k for _, k in groups})
    for kind in kinds:
        ids = sorted(g for g, k in groups if k == kind)
        rng = np.random.default_rng([seed, 7919, kinds.index(kind)])
        order = [ids[i] for i in rng.permutation(len(ids))]
        n = len(order)
        n_val = max(1, int(round(SPLIT_FRACTIONS[1] * n))) if n >= 3 else 0
        n_test = max(1, int(round(SPLIT_FRACTIONS[2] * n))) if n >= 3 else (1 if n == 2 else 0)
        for i, g in enumerate(order):
            out[g] = "val" if i < n_val else ("test" if i < n_val + n_test else "train")
    return out


class _Writer:
    """Writes one clip's files and returns their manifest paths (relative, POSIX)."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def path(self, folder: str, name: str) -> Tuple[Path, str]:
        p = self.root / folder / name
        p.parent.mkdir(parents=True, exist_ok=True)
        return p, f"{folder}/{name}"

    def motion(self, cid: str, motion, rng: np.random.Generator) -> Dict[str, str]:
        from motionlab.data.synth.keypoints import coco_points, keypoints_for
        from motionlab.data.synth.robot import body_to_g1
        from motionlab.core.files import save_npz
        from motionlab.io.bvh import write_bvh
        from motionlab.io.g1 import write_beyondmimic_npz, write_unitree_csv
        from motionlab.io.keypoints import write_keypoints
        from motionlab.io.npz import save_motion_npz

        files = {}
        p, rel = self.path("motion", f"{cid}.npz")
        save_motion_npz(p, motion)
        files["human"] = rel
        p, rel = self.path("bvh", f"{cid}.bvh")
        write_bvh(p, motion)
        files["bvh"] = rel
        robot = body_to_g1(motion)
        p, rel = self.path("robot", f"{cid}.csv")
        write_unitree_csv(p, robot, fps=None)
        files["robot"] = rel
        p, rel = self.path("robot_bm", f"{cid}.npz")
        write_beyondmimic_npz(p, robot)
        files["robot_beyondmimic"] = rel
        pts = coco_points(motion)
        for domain in ("synthetic", "real"):
            kp = keypoints_for(rng, motion, domain, pts)
            p, rel = self.path(f"keypoints/{domain}", f"{cid}.npz")
            write_keypoints(p, kp.keypoints)
            files[f"keypoints_{domain}"] = rel
            p, rel = self.path(f"cameras/{domain}", f"{cid}.npz")
            save_npz(p, kp.arrays())
            files[f"camera_{domain}"] = rel
        files["keypoints"] = files["keypoints_real"]
        return files

    def smplx(self, cid: str, motion, rng: np.random.Generator, own=None, partner=None) -> Dict[str, str]:
        from motionlab.data.synth.gesture import face_and_hands, smplx_motion
        from motionlab.io.smplx import write_smplx_npz

        pose, expr = face_and_hands(rng, motion.num_frames, motion.fps, own=own, partner=partner,
                                    lag=float(motion.meta.get("lag", 0.3)))
        p, rel = self.path("smplx", f"{cid}.npz")
        write_smplx_npz(p, smplx_motion(motion, pose, expr))
        return {"smplx": rel}

    def speech(self, cid: str, speech, prefix: str = "") -> Dict[str, str]:
        from motionlab.io.audio import write_audio
        from motionlab.io.textgrid import Word, write_words

        files = {}
        p, rel = self.path("audio", f"{cid}.wav")
        write_audio(p, speech.samples, speech.sr)
        files[f"{prefix}audio"] = rel
        p, rel = self.path("words", f"{cid}.TextGrid")
        write_words(p, [Word(float(a), float(b), str(w)) for a, b, w in speech.words], duration=speech.duration)
        files[f"{prefix}words"] = rel
        return files


def _entry(cid: str, kind: str, style: str, motion, files: Dict[str, str], caption: str, split: str,
           extra: Optional[Dict[str, Any]] = None) -> Dict[str, Any]:
    e = {"id": cid, "kind": kind, "style": style, "files": dict(sorted(files.items())), "frames": motion.num_frames,
         "fps": motion.fps, "duration": round(motion.num_frames / motion.fps, 6), "caption": caption, "split": split,
         "meta": _clean({k: v for k, v in motion.meta.items() if k not in ("caption", "source")})}
    e.update(extra or {})
    return e


def generate_corpus(out_dir, scale: str = "tiny", seed: int = 0, progress: bool = False,
                    clips_per_kind: Optional[int] = None) -> Dict[str, Any]:
    """Generate the synthetic corpus into ``out_dir`` and return its manifest (paths relative).

    ``scale``: ``"tiny"`` (30 clips of 4-8 s, seconds to write), ``"small"`` (a few hundred),
    ``"large"`` (thousands, minutes). The same ``(scale, seed)`` gives byte-identical files.
    ``clips_per_kind`` keeps only the first N planned clips (pairs) of each kind (and locomotion style): a quick subset
    whose clips are byte-identical to the same clips of the full corpus.
    """
    from motionlab.data.synth.captions import locomotion_caption, talking_caption
    from motionlab.data.synth.gesture import generate_dyadic, generate_listening, generate_talking
    from motionlab.data.synth.locomotion import generate_locomotion

    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
        raise MotionLabError(f"seed must be a non-negative integer, got {seed!r}", place="seed")
    plan = _plan(scale)
    cfg = SCALES[scale]
    root = Path(out_dir)
    root.mkdir(parents=True, exist_ok=True)
    writer = _Writer(root)
    groups = []
    for i, (kind, style) in enumerate(plan):
        tag = {"locomotion": "loco", "talking": "talk", "listening": "listen", "dyadic": "dyad"}[kind]
        groups.append((f"{tag}_{i:05d}", kind))
    split_of = _splits(groups, seed)
    entries: List[Dict[str, Any]] = []
    captions: Dict[str, str] = {}
    taken: Dict[str, int] = {}
    for i, ((kind, style), (gid, _)) in enumerate(zip(plan, groups)):
        if clips_per_kind is not None:
            taken[style] = taken.get(style, 0) + 1  # per locomotion style, else per kind
            if taken[style] > clips_per_kind:
                continue
        rng = np.random.default_rng([int(seed), i])
        split = split_of[gid]
        if kind == "locomotion":
            motion = generate_locomotion(rng, style, float(rng.uniform(*cfg["loco_dur"])), fps=FPS)
            cid = f"{gid}_{style}"
            cap = locomotion_caption(motion.meta)
            motion.meta.update(caption=cap, id=cid)
            files = writer.motion(cid, motion, rng)
            entries.append(_entry(cid, kind, style, motion, files, cap, split))
            captions[cid] = cap
        elif kind in ("talking", "listening"):
            dur = float(round(rng.uniform(*cfg["talk_dur"]), 2))
            fn: Callable = generate_talking if kind == "talking" else generate_listening
            motion, speech = fn(rng, dur, fps=FPS)
            cid = gid
            words = [w[2] for w in speech.words]
            cap = talking_caption(words, kind)
            motion.meta.update(caption=cap, id=cid, words=[list(w) for w in speech.words])
            files = writer.motion(cid, motion, rng)
            files.update(writer.smplx(cid, motion, np.random.default_rng([int(seed), i, 55]),
                                      own=speech if kind == "talking" else None,
                                      partner=speech if kind == "listening" else None))
            files.update(writer.speech(cid if kind == "talking" else f"{cid}.partner", speech,
                                       prefix="" if kind == "talking" else "partner_"))
            entries.append(_entry(cid, kind, kind, motion, files, cap, split))
            captions[cid] = cap
        else:
            dur = float(round(rng.uniform(*cfg["talk_dur"]), 2))
            pair = generate_dyadic(rng, dur, fps=FPS)
            ids = [f"{gid}_speaker1", f"{gid}_speaker2"]
            all_files = []
            for k, (motion, speech) in enumerate(pair):
                cap = talking_caption([w[2] for w in speech.words], "dyadic")
                motion.meta.update(caption=cap, id=ids[k], words=[list(w) for w in speech.words],
                                   speaker=k + 1, pair=gid)
                files = writer.motion(ids[k], motion, rng)
                files.update(writer.smplx(ids[k], motion, np.random.default_rng([int(seed), i, 55, k]), own=speech,
                                          partner=pair[1 - k][1]))
                files.update(writer.speech(ids[k], speech))
                all_files.append(files)
                captions[ids[k]] = cap
            for k, (motion, _) in enumerate(pair):
                other = all_files[1 - k]
                files = dict(all_files[k])
                files.update(partner_human=other["human"], partner_audio=other["audio"], partner_words=other["words"])
                entries.append(_entry(ids[k], kind, kind, motion, files, captions[ids[k]], split,
                                      {"pair": gid, "partner": ids[1 - k], "speaker": k + 1}))
        if progress:
            print(f"  clip {i + 1}/{len(plan)}: {entries[-1]['id']}", flush=True)
    manifest = {"format": "motionlab-synth-corpus", "version": MANIFEST_VERSION, "scale": scale, "seed": int(seed), "fps": FPS,
                "conventions": {"up": "Z", "units": "metres, seconds", "quaternion": "w first",
                                "body": "SMPL-22 canonical (faces +X, left +Y)", "robot": "Unitree G1 29 DoF"},
                "clips": entries}
    from motionlab.core.files import atomic_write_text

    atomic_write_text(root / "captions.json", _json_text(dict(sorted(captions.items()))))
    atomic_write_text(root / MANIFEST, _json_text(manifest))
    return manifest


def load_corpus(corpus_dir) -> Dict[str, Any]:
    """The manifest of a corpus folder with every file path made absolute."""
    root = Path(corpus_dir).resolve()
    path = root / MANIFEST
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
        for e in manifest["clips"]:
            e["files"] = {k: os.fspath(root / v) for k, v in e["files"].items()}
    except FileNotFoundError:
        raise MotionLabError("no manifest.json: not a synthetic corpus folder", file=path) from None
    except (OSError, ValueError, KeyError, TypeError) as e:
        raise MotionLabError(f"unreadable corpus manifest ({e})", file=path) from None
    return manifest


