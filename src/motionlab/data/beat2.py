"""A BEAT2 folder read as it is published (``beat_english_v2.0.0``)::

    smplxflame_30/<id>.npz       SMPL-X poses (T, 165), trans, betas, expressions (T, 100), 30 fps
    wave16k/<id>.wav             16 kHz mono speech
    textgrid/<id>.TextGrid       word alignments (first interval tier)
    train_test_split.csv         ``id,type`` with type train / val / test / additional

``<id>`` is ``<speaker>_<name>_<session>_<a>_<b>`` (``2_scott_0_1_1``): the speaker is the integer
before the first underscore. Dyadic takes come as ``<pair>_speaker1`` / ``<pair>_speaker2`` files
matched by name (the ``_speakerN`` suffix removed), cut to the same frames by the caller.

A take with a missing wav or TextGrid, or a dyadic take without its partner, is one
:class:`~motionlab.errors.MotionLabError` naming the file and the problem; with ``skip_missing`` it is
skipped instead and one warning lists what was skipped.
"""

from __future__ import annotations

import csv
import re
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Dict, List, Optional, Sequence

from motionlab.errors import MotionLabError

MOTION_DIR, AUDIO_DIR, WORDS_DIR, SPLIT_FILE = "smplxflame_30", "wave16k", "textgrid", "train_test_split.csv"
SPLIT_TYPES = ("train", "val", "test", "additional")
_PAIR = re.compile(r"^(?P<pair>.+)_speaker(?P<k>[12])$")


@dataclass
class Take:
    """One recorded take: its files, split, speaker id and (dyadic) the partner take's id."""

    id: str
    motion: Path
    audio: Path
    words: Optional[Path]
    split: str
    speaker: int
    kind: str = "talking"
    partner: Optional[str] = None


def speaker_of(take_id: str) -> int:
    """The speaker id of a BEAT2 take name (the integer before the first underscore)."""
    head = take_id.split("_", 1)[0]
    if not head.isdigit():
        raise MotionLabError(f"take name {take_id!r} does not start with a speaker id (e.g. 2_scott_0_1_1)",
                             place="take id")
    return int(head)


def read_split_file(path: Path) -> Dict[str, str]:
    """``{id: type}`` of ``train_test_split.csv`` (header ``id,type``)."""
    try:
        with open(path, newline="", encoding="utf-8") as f:
            rows = list(csv.DictReader(f))
    except OSError as e:
        raise MotionLabError(f"cannot read the split file ({e})", file=path) from None
    out = {}
    for k, row in enumerate(rows):
        if row.get("id") is None or row.get("type") is None:
            raise MotionLabError("the split file needs the columns id,type", file=path, place=f"row {k + 2}")
        t = row["type"].strip().lower()
        if t not in SPLIT_TYPES:
            raise MotionLabError(f"unknown split type {t!r}; valid: {', '.join(SPLIT_TYPES)}", file=path,
                                 place=f"row {k + 2}")
        out[row["id"].strip()] = t
    return out


def scan_beat2(root, speakers: Sequence[int] = (), dyadic: bool = False, use_additional: bool = False,
               require_words: bool = True, skip_missing: bool = False) -> List[Take]:
    """Takes of a BEAT2 folder (see the module docstring), sorted by id.

    ``speakers``: keep these speaker ids (``[]`` = all). ``dyadic``: keep only ``_speaker1/_speaker2``
    takes whose partner exists and set ``partner``. ``use_additional``: "additional" takes join the
    training split (else they are left out). ``require_words``: a missing TextGrid is an error (else
    the take gets no words).
    """
    root = Path(root)
    mdir = root / MOTION_DIR
    if not mdir.is_dir():
        raise MotionLabError(f"not a BEAT2 folder: no {MOTION_DIR}/ inside", file=root)
    split_path = root / SPLIT_FILE
    if not split_path.is_file():
        raise MotionLabError(f"not a BEAT2 folder: no {SPLIT_FILE}", file=root)
    splits = read_split_file(split_path)
    keep = {int(s) for s in speakers}
    skipped: List[str] = []
    takes: Dict[str, Take] = {}
    for npz in sorted(mdir.glob("*.npz")):
        tid = npz.stem
        if tid not in splits:
            continue
        kind = splits[tid]
        if kind == "additional":
            if not use_additional:
                continue
            kind = "train"
        spk = speaker_of(tid)
        if keep and spk not in keep:
            continue
        wav = root / AUDIO_DIR / f"{tid}.wav"
        tg = root / WORDS_DIR / f"{tid}.TextGrid"
        problem = None
        if not wav.is_file():
            problem = (wav, "missing speech file")
        elif require_words and not tg.is_file():
            problem = (tg, "missing TextGrid of the words")
        if problem is not None:
            if not skip_missing:
                raise MotionLabError(f"{problem[1]} for take {tid} (pass data.skip_missing=true to skip such takes)",
                                     file=problem[0])
            skipped.append(f"{tid} ({problem[1]})")
            continue
        takes[tid] = Take(tid, npz, wav, tg if tg.is_file() else None, kind, spk)
    if dyadic:
        out: Dict[str, Take] = {}
        for tid, take in takes.items():
            m = _PAIR.match(tid)
            if m is None:
                continue
            other = f"{m.group('pair')}_speaker{3 - int(m.group('k'))}"
            if other not in takes:
                where = root / MOTION_DIR / f"{other}.npz"
                if not skip_missing:
                    raise MotionLabError(f"dyadic take {tid} has no usable partner {other}", file=where)
                skipped.append(f"{tid} (no partner {other})")
                continue
            take.kind, take.partner = "dyadic", other
            out[tid] = take
        takes = out
    if skipped:
        warnings.warn(f"BEAT2 folder {root}: skipped {len(skipped)} take(s): {', '.join(skipped)}", stacklevel=2)
    if not takes:
        raise MotionLabError("no usable takes" + (f" for speakers {sorted(keep)}" if keep else "")
                             + (" with a _speaker1/_speaker2 partner" if dyadic else ""), file=root)
    return [takes[k] for k in sorted(takes)]


def is_beat2_folder(root) -> bool:
    root = Path(root)
    return (root / MOTION_DIR).is_dir() and (root / SPLIT_FILE).is_file()
