"""Where clips come from: the built-in synthetic corpus or a folder of real files.

A :class:`Clip` names one take and the file that holds each *kind* of its content (``human``
motion, ``robot`` motion, ``audio``, ``words``, ``keypoints``). Human and robot files of one take
are paired by clip name (the file stem), as paired datasets name them (the public LAFAN1 G1 set
was retargeted from the LAFAN1 BVH files, so the names match).
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Dict, List, Optional

from motionlab.errors import MotionLabError

HUMAN_EXT = (".bvh",)
ROBOT_EXT = (".csv", ".pkl")
MANIFEST = "manifest.json"


@dataclass
class Clip:
    id: str
    files: Dict[str, Path] = field(default_factory=dict)
    split: Optional[str] = None
    style: str = "unknown"
    meta: Dict = field(default_factory=dict)


def default_cache_dir() -> Path:
    """``$MOTIONLAB_CACHE`` or ``~/.cache/motionlab``."""
    return Path(os.environ.get("MOTIONLAB_CACHE", Path.home() / ".cache" / "motionlab"))


def builtin_corpus(scale: str = "tiny", seed: int = 0) -> Path:
    """The synthetic corpus folder, generated once into the cache directory and reused."""
    from motionlab.data.synth.corpus import generate_corpus

    from motionlab.data.cache import code_fingerprint

    # a new generator writes a new folder: a corpus made by older code is never reused
    folder = default_cache_dir() / "synth" / f"{scale}-seed{seed}-{code_fingerprint('data/synth')[:10]}"
    if not (folder / MANIFEST).exists():
        generate_corpus(folder, scale=scale, seed=seed)
    return folder


def _npz_kind(path: Path) -> Optional[str]:
    from motionlab.io.formats import FORMATS, detect_format

    try:
        return FORMATS[detect_format(path)].kind
    except MotionLabError:
        return None


def scan_folder(root) -> List[Clip]:
    """Clips of a folder: a corpus manifest if there is one, else every motion file found."""
    root = Path(root)
    if not root.is_dir():
        raise MotionLabError("not a folder", file=root)
    if (root / MANIFEST).exists():
        return read_manifest(root)
    clips: Dict[str, Clip] = {}
    for path in sorted(root.rglob("*")):
        if not path.is_file():
            continue
        cid = path.relative_to(root).with_suffix("").as_posix()  # subject1/walk and subject2/walk differ
        ext = path.suffix.lower()
        if ext in HUMAN_EXT:
            kind = "human"
        elif ext in ROBOT_EXT:
            kind = "robot"
        elif ext == ".npz":
            kind = _npz_kind(path)
            if kind not in ("human", "robot"):
                continue
            if kind == "robot" and _is_seulzx(path):
                # a seulzx file holds both sides of the pair
                clip = clips.setdefault(cid, Clip(cid))
                clip.files["human"] = path
        elif ext == ".wav":
            kind = "audio"
        elif ext.lower() == ".textgrid":
            kind = "words"
        else:
            continue
        clip = clips.setdefault(cid, Clip(cid))
        clip.files.setdefault(kind, path)
    if not clips:
        raise MotionLabError("no motion files found (looked for .bvh, .npz, .csv, .pkl)", file=root)
    return [clips[k] for k in sorted(clips)]


def _is_seulzx(path: Path) -> bool:
    from motionlab.io.formats import detect_format

    try:
        return detect_format(path) == "seulzx"
    except MotionLabError:
        return False


def read_manifest(root) -> List[Clip]:
    """Clips listed in a corpus ``manifest.json`` (paths relative to the folder)."""
    root = Path(root)
    path = root / MANIFEST
    try:
        manifest = json.loads(path.read_text())
        out = []
        for entry in manifest["clips"]:
            files = {k: root / v for k, v in entry.get("files", {}).items()}
            out.append(Clip(str(entry["id"]), files, entry.get("split"), str(entry.get("style", entry.get("kind", "unknown"))),
                            {k: v for k, v in entry.items() if k not in ("files",)}))
        return out
    except (OSError, ValueError, KeyError, TypeError) as e:
        raise MotionLabError(f"unreadable corpus manifest ({e})", file=path) from None


def pair_folders(human_root, robot_root) -> List[Clip]:
    """Pairs of a folder of human files and a folder of robot files, matched by clip name."""
    human = {c.id: c for c in scan_folder(human_root) if "human" in c.files}
    robot = {c.id: c for c in scan_folder(robot_root) if "robot" in c.files}
    common = sorted(set(human) & set(robot))
    if not common:
        raise MotionLabError(
            f"no clip names in common between {len(human)} human and {len(robot)} robot files "
            f"(e.g. {sorted(human)[:3]} vs {sorted(robot)[:3]})", file=human_root)
    return [Clip(c, {"human": human[c].files["human"], "robot": robot[c].files["robot"]}) for c in common]
