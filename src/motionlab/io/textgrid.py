"""Word alignments in Praat TextGrid files (long and short text formats).

Reading uses motionlab's own strict parser (:func:`read_textgrid`), because the lenient readers
accept damaged files silently (a truncated tier, a wrong ``intervals: size`` or tier count, an
``xmax`` before the last interval come back as fewer words). Like Praat, it reads the file as a
sequence of values (numbers, quoted strings, ``<exists>`` flags) and ignores the labels around them,
so the long and the short text formats are one grammar. Text may be UTF-8 or UTF-16 (with its BOM).
Binary TextGrids are refused (save them from Praat as text). Writing uses praatio.

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
import re
from dataclasses import dataclass, field
from typing import Dict, Iterable, List, NamedTuple, Optional, Sequence, Tuple, Union

import numpy as np

from motionlab.core.files import atomic_path, read_bytes
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


# --- reading -----------------------------------------------------------------------------------------

_TG_TOKEN = re.compile(r'"((?:[^"]|"")*)"|<(\w+)>|\[[^\]\n]*\]|([^\s"<\[]+)')
_TG_NUMBER = re.compile(r"[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?", re.ASCII)
_TG_LABEL = re.compile(r"[A-Za-z_?:=]+")  # xmin, =, intervals:, size, item, tiers? ...
_EPS = 1e-9


@dataclass
class Tier:
    """One tier: ``kind`` ``"interval"`` (entries ``(start, end, text)``) or ``"point"`` (``(time, mark)``)."""

    name: str
    kind: str
    xmin: float
    xmax: float
    entries: List[tuple] = field(default_factory=list)


@dataclass
class TextGrid:
    """A parsed TextGrid: its time range (s) and its tiers in file order."""

    xmin: float
    xmax: float
    tiers: List[Tier] = field(default_factory=list)


class _Tokens:
    """The values of a Praat text file: ``("num", float)``, ``("str", text)``, ``("flag", name)`` or
    ``("bad", text)`` (a value that is not a number, e.g. ``nan``), each with its line."""

    def __init__(self, text: str, path) -> None:
        self.path = path
        self.items: List[Tuple[str, object, int]] = []
        line_starts = [0] + [m.end() for m in re.finditer("\n", text)]
        import bisect

        for m in _TG_TOKEN.finditer(text):
            line = bisect.bisect_right(line_starts, m.start())
            if m.group(1) is not None:
                self.items.append(("str", m.group(1).replace('""', '"'), line))
            elif m.group(2) is not None:
                self.items.append(("flag", m.group(2), line))
            elif m.group(3) is not None:
                word = m.group(3)
                if _TG_NUMBER.fullmatch(word):
                    self.items.append(("num", float(word), line))
                elif not _TG_LABEL.fullmatch(word) or word.lower().strip(":=") in ("nan", "inf", "infinity"):
                    self.items.append(("bad", word, line))
        self.i = 0
        self.last_line = text.count("\n") + 1

    def _take(self, kind: str, what: str, where: str) -> Tuple[object, int]:
        if self.i >= len(self.items):
            raise MotionLabError(f"the file ends while reading {what} (truncated file?)", file=self.path,
                                 place=where)
        k, value, line = self.items[self.i]
        if k != kind:
            r = repr(str(value))
            shown = (r if len(r) <= 40 else r[:36] + "...'") if k != "num" else f"the number {value:g}"
            want = {"num": "a number", "str": "a quoted string", "flag": "<exists> or <absent>"}[kind]
            raise MotionLabError(f"{what} must be {want}, found {shown}", file=self.path, place=f"{where}, line {line}")
        self.i += 1
        return value, line

    def number(self, what: str, where: str) -> float:
        value, line = self._take("num", what, where)
        if not math.isfinite(value):
            raise MotionLabError(f"{what} is not finite", file=self.path, place=f"{where}, line {line}")
        return float(value)

    def count(self, what: str, where: str) -> int:
        value = self.number(what, where)
        if value < 0 or value != int(value) or value > 1e8:
            raise MotionLabError(f"{what} must be a whole number, got {value:g}", file=self.path, place=where)
        return int(value)

    def string(self, what: str, where: str) -> str:
        return str(self._take("str", what, where)[0])

    def flag(self, what: str, where: str) -> str:
        return str(self._take("flag", what, where)[0])

    def rest(self) -> Optional[Tuple[str, object, int]]:
        return self.items[self.i] if self.i < len(self.items) else None


def _decode(raw: bytes, path) -> str:
    if raw.startswith(b"ooBinaryFile"):
        raise MotionLabError("a binary TextGrid: save it from Praat as a text file", file=path, place="line 1")
    if raw.startswith((b"\xff\xfe", b"\xfe\xff")):
        try:
            return raw.decode("utf-16")
        except UnicodeDecodeError as e:
            raise MotionLabError("damaged UTF-16 text", file=path, place=f"byte {e.start}") from None
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as e:
        raise MotionLabError("not UTF-8 or UTF-16 text", file=path, place=f"byte {e.start}") from None


def read_textgrid(path: PathLike) -> TextGrid:
    """Parse and check a text TextGrid (long or short format) strictly.

    Checked: the header (``File type = "ooTextFile"``, ``Object class = "TextGrid"``), that every
    tier and interval the file declares is there (no truncation, right ``size`` counts, nothing left
    over), finite times with ``xmin <= xmax``, intervals in order without overlaps, every interval
    inside its tier and every tier inside the grid. Errors name the tier, the interval and the line.
    """
    tok = _Tokens(_decode(read_bytes(path), path), path)
    ftype = tok.string("the file type", "header")
    if ftype.startswith("ooBinaryFile"):
        raise MotionLabError("a binary TextGrid: save it from Praat as a text file", file=path, place="header")
    if not ftype.startswith("ooTextFile"):
        raise MotionLabError(f"file type {ftype!r} is not a Praat text file ('ooTextFile')", file=path, place="header")
    oclass = tok.string("the object class", "header")
    if oclass != "TextGrid":
        raise MotionLabError(f"a Praat {oclass!r} object, not a TextGrid", file=path, place="header")
    xmin = tok.number("xmin", "header")
    xmax = tok.number("xmax", "header")
    if xmax < xmin:
        raise MotionLabError(f"xmax {xmax:g} is before xmin {xmin:g}", file=path, place="header")
    grid = TextGrid(xmin, xmax)
    if tok.flag("the tiers flag", "header") == "exists":
        n_tiers = tok.count("the number of tiers", "header")
        for t in range(n_tiers):
            grid.tiers.append(_read_tier(tok, t, n_tiers, grid, path))
    extra = tok.rest()
    if extra is not None:
        raise MotionLabError(f"more content after the {len(grid.tiers)} tier(s) the file declares (a wrong tier "
                             "count or interval size?)", file=path, place=f"line {extra[2]}")
    return grid


def _read_tier(tok: _Tokens, t: int, n_tiers: int, grid: TextGrid, path) -> Tier:
    where = f"tier {t + 1} of {n_tiers}"
    nxt = tok.rest()
    if nxt is not None and nxt[0] != "str" and t > 0:
        raise MotionLabError("expected the class of the next tier, found more entries (is the previous tier's "
                             "size right?)", file=path, place=f"{where}, line {nxt[2]}")
    cls = tok.string("the tier class", where)
    if cls not in ("IntervalTier", "TextTier"):
        raise choices_error("tier class", cls, ("IntervalTier", "TextTier"), file=path, place=where)
    name = tok.string("the tier name", where)
    where = f"tier {t + 1} ({name!r})"
    txmin, txmax = tok.number("xmin", where), tok.number("xmax", where)
    if txmax < txmin:
        raise MotionLabError(f"xmax {txmax:g} is before xmin {txmin:g}", file=path, place=where)
    if txmin < grid.xmin - _EPS or txmax > grid.xmax + _EPS:
        raise MotionLabError(f"spans {txmin:g}..{txmax:g} s, outside the TextGrid's {grid.xmin:g}..{grid.xmax:g} s",
                             file=path, place=where)
    tier = Tier(name, "interval" if cls == "IntervalTier" else "point", txmin, txmax)
    n = tok.count("the number of entries", where)
    prev = txmin
    for k in range(n):
        at = f"{where}, {'interval' if tier.kind == 'interval' else 'point'} {k + 1} of {n}"
        if tier.kind == "interval":
            a, b = tok.number("xmin", at), tok.number("xmax", at)
            text = tok.string("text", at)
            if b < a:
                raise MotionLabError(f"ends at {b:g} s before it starts at {a:g} s", file=path, place=at)
            if a < prev - _EPS:
                raise MotionLabError(f"starts at {a:g} s, before the previous interval ends ({prev:g} s): "
                                     "intervals overlap", file=path, place=at)
            if b > txmax + _EPS:
                raise MotionLabError(f"ends at {b:g} s, after the tier's xmax {txmax:g} s", file=path, place=at)
            tier.entries.append((a, b, text))
            prev = b
        else:
            time = tok.number("time", at)
            mark = tok.string("mark", at)
            if time < prev - _EPS or time > txmax + _EPS:
                raise MotionLabError(f"time {time:g} s is out of order or outside the tier ({txmin:g}..{txmax:g} s)",
                                     file=path, place=at)
            tier.entries.append((time, mark))
            prev = time
    return tier


def read_words(path: PathLike, tier: Optional[str] = None) -> List[Word]:
    """Words of ``tier`` (default: the first interval tier), empty intervals dropped, in time order.

    The file is checked strictly first (see :func:`read_textgrid`)."""
    grid = read_textgrid(path)
    interval_tiers = [t.name for t in grid.tiers if t.kind == "interval"]
    if tier is None:
        if not interval_tiers:
            raise MotionLabError(f"no interval tier (tiers: {[t.name for t in grid.tiers]})", file=path, place="tiers")
        tier = interval_tiers[0]
    elif tier not in interval_tiers:
        err = choices_error("interval tier", tier, interval_tiers)
        raise MotionLabError(err.problem, file=path, place="tiers")
    chosen = next(t for t in grid.tiers if t.kind == "interval" and t.name == tier)
    return [Word(float(a), float(b), label.strip()) for a, b, label in chosen.entries if label.strip()]


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
