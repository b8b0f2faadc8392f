"""Word alignments in Praat TextGrid files (long and short text formats, via praatio).

A word is ``Word(start, end, text)`` with times in seconds. BEAT2 and MFA put the words in the
first interval tier; empty intervals (silences, label ``""`` or blanks) are dropped on read and
refilled on write.

Frame labels: frame ``t`` at ``fps`` is the instant ``t / fps`` (the frame's first audio sample,
as in :func:`motionlab.io.audio.frame_to_sample`) and gets the word with ``start <= t/fps < end``.
Vocabulary ids: ``0`` = silence (``<sil>``), ``1`` = unknown (``<unk>``), words from 2 on in sorted
order. Words are matched after ``strip().lower()``.
"""

from __future__ import annotations

import math
import os
from typing import Dict, Iterable, List, NamedTuple, Optional, Sequence, Union

import numpy as np

from motionlab.core.files import atomic_path
from motionlab.errors import MotionLabError, choices_error

PathLike = Union[str, os.PathLike]

SILENCE, UNKNOWN = "<sil>", "<unk>"


class Word(NamedTuple):
    """One aligned word: ``start`` and ``end`` in seconds, ``text`` as in the file."""

    start: float
    end: float
    text: str


def _normal(text: str) -> str:
    return text.strip().lower()


def read_words(path: PathLike, tier: Optional[str] = None) -> List[Word]:
    """Words of ``tier`` (default: the first interval tier), empty intervals dropped, in time order."""
    from praatio import textgrid

    if not os.path.isfile(path):
        raise MotionLabError("no such file", file=path, place="path")
    try:
        tg = textgrid.openTextgrid(os.fspath(path), includeEmptyIntervals=False, reportingMode="silence")
    except Exception as e:  # praatio raises many types for malformed files
        raise MotionLabError(f"not a readable TextGrid ({type(e).__name__}: {e})", file=path, place="document") from None
    interval_tiers = [n for n in tg.tierNames if isinstance(tg.getTier(n), textgrid.IntervalTier)]
    if tier is None:
        if not interval_tiers:
            raise MotionLabError(f"no interval tier (tiers: {list(tg.tierNames)})", file=path, place="tiers")
        tier = interval_tiers[0]
    elif tier not in interval_tiers:
        err = choices_error("interval tier", tier, interval_tiers)
        raise MotionLabError(err.problem, file=path, place="tiers")
    words = []
    for i, (start, end, label) in enumerate(tg.getTier(tier).entries):
        place = f"tier {tier!r}, interval {i}"
        if not (math.isfinite(start) and math.isfinite(end)) or end < start:
            raise MotionLabError(f"bad interval times {start}..{end}", file=path, place=place)
        if label.strip():
            words.append(Word(float(start), float(end), label.strip()))
    return words


def _check_words(words: Sequence[Word], duration: float, path) -> List[Word]:
    out = []
    prev_end = 0.0
    for i, w in enumerate(words):
        try:
            start, end, text = float(w[0]), float(w[1]), str(w[2])
        except (TypeError, ValueError, IndexError):
            raise MotionLabError(f"expected (start, end, text), got {w!r}", file=path, place=f"word {i}") from None
        if not (math.isfinite(start) and math.isfinite(end)) or not 0 <= start < end <= duration:
            raise MotionLabError(f"times {start}..{end} must satisfy 0 <= start < end <= duration {duration}",
                                 file=path, place=f"word {i}")
        if start < prev_end - 1e-9:
            raise MotionLabError(f"starts at {start} before the previous word ends ({prev_end})", file=path,
                                 place=f"word {i}")
        if not text.strip() or "\n" in text or '"' in text:
            raise MotionLabError(f"word text {text!r} must be non-empty, one line, without quotes", file=path,
                                 place=f"word {i}")
        out.append(Word(start, end, text.strip()))
        prev_end = end
    return out


def write_words(path: PathLike, words: Sequence[Word], duration: Optional[float] = None, tier: str = "words",
                format: str = "long") -> None:
    """Write words as one interval tier of a TextGrid (``format`` ``"long"`` or ``"short"``), atomically.

    ``duration`` (s) is the TextGrid's end; default the last word's end. Gaps become empty intervals.
    """
    from praatio import textgrid

    if format not in ("long", "short"):
        raise choices_error("TextGrid format", format, ("long", "short"))
    if duration is None:
        duration = max((float(w[1]) for w in words), default=0.0)
    duration = float(duration)
    if not math.isfinite(duration) or duration <= 0:
        raise MotionLabError(f"duration must be positive, got {duration}", file=path, place="argument duration")
    checked = _check_words(words, duration, path)
    tg = textgrid.Textgrid()
    tg.addTier(textgrid.IntervalTier(tier, [(w.start, w.end, w.text) for w in checked], 0.0, duration))
    with atomic_path(path) as tmp:
        tg.save(tmp, format=f"{format}_textgrid", includeBlankSpaces=True, minTimestamp=0.0,
                maxTimestamp=duration, reportingMode="silence")


def build_vocab(word_lists: Iterable[Sequence[Union[Word, str]]]) -> Dict[str, int]:
    """A vocabulary over many clips: ``{"<sil>": 0, "<unk>": 1, word: 2, ...}`` (words sorted, normalised)."""
    seen = set()
    for words in word_lists:
        for w in words:
            text = _normal(w if isinstance(w, str) else w[2])
            if text:
                seen.add(text)
    seen -= {SILENCE, UNKNOWN}
    vocab = {SILENCE: 0, UNKNOWN: 1}
    for i, text in enumerate(sorted(seen)):
        vocab[text] = i + 2
    return vocab


def words_to_frames(words: Sequence[Word], fps: float, num_frames: int, vocab: Dict[str, int]) -> np.ndarray:
    """``(num_frames,)`` int64 word ids per motion frame (0 = silence, 1 = not in ``vocab``)."""
    if not fps > 0 or num_frames < 0:
        raise MotionLabError(f"need fps > 0 and num_frames >= 0, got fps={fps}, num_frames={num_frames}",
                             place="words_to_frames")
    ids = np.zeros(int(num_frames), dtype=np.int64)
    times = np.arange(int(num_frames)) / float(fps)
    unk = vocab.get(UNKNOWN, 1)
    for w in words:
        start, end, text = float(w[0]), float(w[1]), w[2]
        ids[(times >= start) & (times < end)] = vocab.get(_normal(text), unk)
    return ids
