"""BVH motion capture files: read one into a :class:`Motion`, write a :class:`Motion` as one.

BVH facts this module follows (see ``notes/formats.md``):

* tokens are split on any whitespace (spaces, tabs, CRLF, blank lines); a joint name is every
  token on the ``ROOT``/``JOINT`` line before ``{`` (``mixamorig:Hips`` is one name);
* each joint has its own channel list; rotation channels are **intrinsic Euler angles in channel
  order, in degrees** (``Zrotation Yrotation Xrotation`` means ``R = Rz @ Ry @ Rx``); a joint with
  fewer than three rotation channels rotates about those axes only;
* position channels **replace** the OFFSET component they name, on the root and on any other joint
  (Blender, bvhio and LAFAN1 agree); the root's world position is its position channels;
* ``End Site`` offsets are kept; a leaf joint may have none.

Conventions at the boundary: BVH is Y up, motionlab is Z up. A BVH point ``(x, y, z)`` becomes
``(x, -z, y)`` (Blender's importer with its default axes); rotations are conjugated by the same
fixed matrix ``M``: ``R_zup = M @ R_yup @ M.T``. Lengths are converted to metres with a scale
(``meta["scale"]``, metres per file unit).

Reading keeps in ``Motion.meta`` what writing needs to give back the same file layout:
``format`` ("bvh"), ``source``, ``units`` and ``scale``, ``units_rule`` ("auto" or "given"),
``up_axis`` ("Y", the file's), ``frame_time`` (seconds), ``bvh_channels`` (joint name -> channel
list), ``bvh_orders`` (joint name -> 3-letter intrinsic order used for its rotation) and
``bvh_no_end_site`` (names of leaf joints that had no End Site).
"""

from __future__ import annotations

import os
import re
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Dict, List, Optional, Sequence, Tuple, Union

import numpy as np

from motionlab.core.files import FPS_RANGE, atomic_write_text, os_problem
from motionlab.core.motion import Motion
from motionlab.core.rotations import Y_UP_TO_Z_UP, euler_to_quat, matrix_to_euler, quat_fix_continuity
from motionlab.core.skeleton import Skeleton
from motionlab.errors import MotionLabError, choices_error

PathLike = Union[str, os.PathLike]
Units = Union[str, float]

__all__ = ["read_bvh", "write_bvh", "units_scale", "parse_units", "UNIT_SCALES", "Y_UP_TO_Z_UP"]

#: Metres per file unit for the named units ``read_bvh``/``write_bvh`` accept.
UNIT_SCALES: Dict[str, float] = {"m": 1.0, "cm": 0.01, "mm": 0.001, "inch": 0.0254}

#: Body height (m) the ``"auto"`` unit rule aims for.
TYPICAL_HEIGHT_M = 1.7

# Blender's BVH import mapping is core.rotations.Y_UP_TO_Z_UP, (x, y, z) -> (x, -z, y).

# The same mapping as a signed permutation (exact, and cheaper than batched 3x3 products):
# out[i] = sign[i] * in[perm[i]].
_Y2Z = (np.array([0, 2, 1]), np.array([1.0, -1.0, 1.0]))
_Z2Y = (np.array([0, 2, 1]), np.array([1.0, 1.0, -1.0]))

CHANNEL_NAMES = ("Xposition", "Yposition", "Zposition", "Xrotation", "Yrotation", "Zrotation")
_CHANNEL_LOOKUP = {c.lower(): c for c in CHANNEL_NAMES}
_KEYWORDS = {"HIERARCHY", "ROOT", "JOINT", "OFFSET", "CHANNELS", "END", "SITE", "MOTION", "{", "}"}
_ORDERS = ("XYZ", "XZY", "YXZ", "YZX", "ZXY", "ZYX")

_TOKEN = re.compile(r"[{}]|[^\s{}]+")
#: A number as BVH writers print it: ASCII digits only (no ``1_000``, no non-ASCII digits, no hex).
_NUMBER_TEXT = re.compile(r"[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?|[+-]?(?:inf|infinity|nan)",
                          re.ASCII | re.IGNORECASE)
_NUMBER_BYTES = re.compile(_NUMBER_TEXT.pattern.encode("ascii"), re.ASCII | re.IGNORECASE)
#: Plausibility bounds on channel values: positions beyond this many metres and angles beyond this many
#: degrees are damaged data.
MAX_POSITION_M = 1.0e5
MAX_ANGLE_DEG = 1.0e6
_MOTION = re.compile(rb"(?<!\S)MOTION(?!\S)")
_FRAMES = re.compile(rb"[ \t\r\n\f\v]*Frames[ \t]*:[ \t]*(\S*)", re.IGNORECASE)
_FRAME_TIME = re.compile(rb"[ \t\r\n\f\v]*Frame[ \t]+Time[ \t]*:[ \t]*(\S*)", re.IGNORECASE)
_NON_SPACE = re.compile(rb"\S")
_SPACE_TABLE = np.zeros(256, dtype=bool)
_SPACE_TABLE[[32, 9, 10, 13, 11, 12]] = True  # the bytes bytes.split() treats as whitespace

# Channel values are written with this many decimals (degrees, file units).
_DECIMALS = 6


# --- conventions -------------------------------------------------------------------------------


def _map_vec(v: np.ndarray, how: Tuple[np.ndarray, np.ndarray]) -> np.ndarray:
    perm, sign = how
    return v[..., perm] * sign


def _map_mat(R: np.ndarray, how: Tuple[np.ndarray, np.ndarray]) -> np.ndarray:
    """``A @ R @ A.T`` for the signed permutation ``A`` described by ``how``."""
    perm, sign = how
    return R[..., perm[:, None], perm[None, :]] * (sign[:, None] * sign[None, :])


def parse_units(text: str) -> Units:
    """A ``--units`` value: ``auto``, a name of :data:`UNIT_SCALES` or metres per file unit (a number,
    e.g. ``0.056444`` for CMU's own scale). Raises MotionLabError listing the choices."""
    text = str(text).strip()
    if text == "auto" or text in UNIT_SCALES:
        return text
    if _NUMBER_TEXT.fullmatch(text):
        name, scale = units_scale(float(text))
        return scale if name == "custom" else name
    raise choices_error("BVH units", text, list(UNIT_SCALES) + ["auto", "<metres per file unit>"])


def units_scale(units: Units) -> Tuple[str, float]:
    """``(name, metres per file unit)`` for a unit name in :data:`UNIT_SCALES` or a positive float.

    A float gives the name ``"custom"`` unless it equals a named scale.
    """
    if isinstance(units, str):
        if units not in UNIT_SCALES:
            raise choices_error("BVH units", units, list(UNIT_SCALES) + ["auto"])
        return units, UNIT_SCALES[units]
    if isinstance(units, bool) or not isinstance(units, (int, float, np.floating, np.integer)):
        raise MotionLabError(f"units must be one of {sorted(UNIT_SCALES)}, 'auto' or a positive number, got {units!r}")
    scale = float(units)
    if not np.isfinite(scale) or scale <= 0:
        raise MotionLabError(f"a units scale must be a positive number (metres per file unit), got {units!r}")
    for name, s in UNIT_SCALES.items():
        if scale == s:
            return name, s
    return "custom", scale


def auto_units(size: float) -> Tuple[str, float]:
    """The unit rule of ``read_bvh(units="auto")``.

    ``size`` is the largest extent, along any axis, of the rest pose (joints and End Sites) in file
    units. The rule picks, among m, inch, cm and mm, the unit that brings this size closest to
    :data:`TYPICAL_HEIGHT_M` (1.7 m) on a log scale. The boundaries are therefore about 10.7
    (m below), 107 (inch below), 538 (cm below) and mm above. A skeleton of size 0 is taken as metres.
    (CMU's files are in inches-like units and come out as inches; give ``units=0.056444`` for CMU's
    own scale.)
    """
    if not np.isfinite(size) or size <= 0:
        return "m", 1.0
    best = min(UNIT_SCALES.items(), key=lambda kv: abs(np.log(size * kv[1] / TYPICAL_HEIGHT_M)))
    return best


# --- reading: the hierarchy --------------------------------------------------------------------


@dataclass
class _Joint:
    name: str
    parent: int
    line: int
    offset: Optional[np.ndarray] = None
    channels: List[str] = field(default_factory=list)
    channels_seen: bool = False
    end_site: Optional[np.ndarray] = None
    has_end_site: bool = False
    has_children: bool = False


class _Cursor:
    """Header tokens with their line numbers, and errors that name the file and line."""

    def __init__(self, tokens: List[Tuple[str, int]], path: str, end_line: int) -> None:
        self.tokens = tokens
        self.i = 0
        self.path = path
        self.end_line = end_line

    def peek(self) -> Optional[Tuple[str, int]]:
        return self.tokens[self.i] if self.i < len(self.tokens) else None

    def take(self, missing: str) -> Tuple[str, int]:
        if self.i >= len(self.tokens):
            raise self.error(missing, self.end_line)
        tok = self.tokens[self.i]
        self.i += 1
        return tok

    def error(self, problem: str, line: int) -> MotionLabError:
        return MotionLabError(problem, file=self.path, place=f"line {line}")


def _q(text: str, limit: int = 40) -> str:
    """``repr(text)`` cut to about ``limit`` characters (damaged files hold long runs of junk)."""
    r = repr(text)
    return r if len(r) <= limit else r[: limit - 4] + "...'"


def _tokenize(text: str) -> List[Tuple[str, int]]:
    return [(t, n) for n, line in enumerate(text.split("\n"), start=1) for t in _TOKEN.findall(line)]


def _number(cur: _Cursor, what: str) -> float:
    tok, line = cur.take(f"the file ends while reading {what} (truncated?)")
    if not _NUMBER_TEXT.fullmatch(tok):
        raise cur.error(f"{what} must be a number, found {_q(tok)}", line)
    value = float(tok)
    if not np.isfinite(value):
        raise cur.error(f"{what} is not finite ({_q(tok)})", line)
    return value


def _name(cur: _Cursor, keyword: str, line: int) -> str:
    if cur.peek() is None:
        raise cur.error(f"the file ends after {keyword} (truncated?)", line)
    parts = []
    while (nxt := cur.peek()) is not None and nxt[1] == line and nxt[0] not in "{}":
        parts.append(cur.take("")[0])
    if not parts:
        raise cur.error(f"{keyword} without a joint name", line)
    return " ".join(parts)


def _open(cur: _Cursor, what: str) -> None:
    tok, line = cur.take(f"the file ends before the '{{' of {what} (truncated?)")
    if tok != "{":
        raise cur.error(f"expected '{{' to open {what}, found {_q(tok)}", line)


def _channels(cur: _Cursor, joint: _Joint, line: int) -> List[str]:
    tok, cline = cur.take(f"the file ends while reading the CHANNELS of joint {joint.name!r} (truncated?)")
    if not re.fullmatch(r"0*[0-6]", tok):
        raise cur.error(f"CHANNELS of joint {joint.name!r} needs a channel count from 0 to 6, found {_q(tok)}", cline)
    count = int(tok)
    out: List[str] = []
    for k in range(count):
        tok, tline = cur.take(f"the file ends while reading the CHANNELS of joint {joint.name!r} (truncated?)")
        name = _CHANNEL_LOOKUP.get(tok.lower())
        if name is None:
            if tok.upper() in _KEYWORDS:
                raise cur.error(f"CHANNELS of joint {joint.name!r} declares {count} channels but lists {k}", tline)
            raise choices_error("BVH channel", tok, CHANNEL_NAMES, file=cur.path, place=f"line {tline}")
        if name in out:
            raise cur.error(f"channel {name} listed twice for joint {joint.name!r}", tline)
        out.append(name)
    return out


def _parse_hierarchy(cur: _Cursor) -> List[_Joint]:
    """Parse ``HIERARCHY ROOT ... }`` into joints in file (depth-first) order."""
    tok, line = cur.take("missing HIERARCHY: the file starts with MOTION")
    if tok.upper() != "HIERARCHY":
        raise cur.error(f"missing HIERARCHY: a BVH file starts with 'HIERARCHY', found {_q(tok)}", line)
    tok, line = cur.take("the file ends after HIERARCHY (truncated?)")
    if tok.upper() != "ROOT":
        raise cur.error(f"expected 'ROOT <name>' after HIERARCHY, found {_q(tok)}", line)
    joints = [_Joint(_name(cur, "ROOT", line), -1, line)]
    _open(cur, f"joint {joints[0].name!r}")
    names = {joints[0].name: line}
    # stack entries: (joint index, is_end_site, line of the '{')
    stack: List[Tuple[int, bool, int]] = [(0, False, line)]
    while stack:
        j, in_end, open_line = stack[-1]
        joint = joints[j]
        what = f"the End Site of joint {joint.name!r}" if in_end else f"joint {joint.name!r}"
        tok, line = cur.take(
            f"unbalanced braces: the '{{' of {what} (line {open_line}) is never closed (truncated file?)"
        )
        key = tok.upper()
        if key == "OFFSET":
            if (joint.end_site if in_end else joint.offset) is not None:
                raise cur.error(f"a second OFFSET in {what}", line)
            off = np.array([_number(cur, f"OFFSET of {what}") for _ in range(3)])
            if in_end:
                joint.end_site = off
            else:
                joint.offset = off
        elif key == "}":
            if (joint.end_site if in_end else joint.offset) is None:
                raise cur.error(f"{what} has no OFFSET", line)
            stack.pop()
        elif in_end:
            raise cur.error(f"unexpected {_q(tok)} in {what}: only OFFSET is allowed there", line)
        elif key == "CHANNELS":
            if joint.channels_seen:
                raise cur.error(f"a second CHANNELS line in joint {joint.name!r}", line)
            joint.channels = _channels(cur, joint, line)
            joint.channels_seen = True
        elif key == "JOINT":
            name = _name(cur, "JOINT", line)
            if name in names:
                raise cur.error(f"duplicate joint name {name!r} (first on line {names[name]})", line)
            names[name] = line
            _open(cur, f"joint {name!r}")
            joint.has_children = True
            joints.append(_Joint(name, j, line))
            stack.append((len(joints) - 1, False, line))
        elif key == "END":
            nxt, nline = cur.take("the file ends after 'End' (truncated?)")
            if nxt.upper() != "SITE":
                raise cur.error(f"expected 'End Site', found 'End {nxt}'", nline)
            if joint.has_end_site:
                raise cur.error(f"a second End Site in joint {joint.name!r}", line)
            joint.has_end_site = True
            _open(cur, f"the End Site of joint {joint.name!r}")
            stack.append((j, True, line))
        elif key == "{":
            raise cur.error(f"unbalanced braces: unexpected '{{' in {what}", line)
        else:
            raise cur.error(f"unexpected {_q(tok)} in {what} (expected OFFSET, CHANNELS, JOINT, End Site or '}}')", line)
    return joints


# --- reading: the motion block -----------------------------------------------------------------


def _line_of(raw: bytes, pos: int) -> int:
    return raw.count(b"\n", 0, pos) + 1


def _column_label(joints: List[_Joint], col: int) -> str:
    for jt in joints:
        if col < len(jt.channels):
            return f"{jt.name} {jt.channels[col]}"
        col -= len(jt.channels)
    return f"column {col}"


def _parse_motion(raw: bytes, pos: int, joints: List[_Joint], path: str) -> Tuple[float, np.ndarray]:
    """Parse ``Frames:``, ``Frame Time:`` and the frame values after ``MOTION`` (at ``pos``)."""

    def err(problem: str, at: int) -> MotionLabError:
        return MotionLabError(problem, file=path, place=f"line {_line_of(raw, at)}")

    m = _FRAMES.match(raw, pos)
    if m is None or not m.group(1):
        nxt = _NON_SPACE.search(raw, pos)
        raise err("expected 'Frames: <count>' after MOTION", nxt.start() if nxt else len(raw))
    frames_line = _line_of(raw, m.start(1))
    if not m.group(1).isdigit() or len(m.group(1)) > 12:
        shown = m.group(1)[:40].decode("latin-1")
        raise err(f"the frame count must be a whole number of at most 12 digits, found {shown!r}", m.start(1))
    n_frames = int(m.group(1))
    if n_frames == 0:
        raise err("the file holds no frames (Frames: 0)", m.start(1))
    t = _FRAME_TIME.match(raw, m.end())
    if t is None or not t.group(1):
        raise err("expected 'Frame Time: <seconds>' after the frame count", m.end() + 1)
    if not _NUMBER_BYTES.fullmatch(t.group(1)):
        raise err(f"Frame Time must be a number, found {t.group(1)[:40].decode('latin-1')!r}", t.start(1))
    frame_time = float(t.group(1))
    lo, hi = FPS_RANGE
    if not np.isfinite(frame_time) or frame_time <= 0:
        raise err(f"Frame Time must be a positive number of seconds, got {frame_time}", t.start(1))
    if not (lo <= 1.0 / frame_time <= hi):
        raise err(f"Frame Time {frame_time:g} s means {1.0 / frame_time:g} fps, outside the valid range "
                  f"{lo:g}-{hi:g} fps", t.start(1))

    n_cols = sum(len(jt.channels) for jt in joints)
    if n_cols == 0:
        raise err("no joint has any CHANNELS, so there is no motion to read", t.start(1))
    start = t.end()
    first_line = _line_of(raw, start)
    buf = np.frombuffer(raw, dtype=np.uint8, offset=start)
    # Values per line, vectorised: token starts are non-space bytes after a space (or first).
    space = _SPACE_TABLE[buf]
    begins = ~space
    begins[1:] &= space[:-1]
    tok_pos = np.flatnonzero(begins)
    tok_line = np.searchsorted(np.flatnonzero(buf == 10), tok_pos, side="right")
    counts = np.bincount(tok_line) if len(tok_line) else np.zeros(0, dtype=np.int64)
    data_lines = np.flatnonzero(counts)
    per_line = counts[data_lines]
    bad = np.flatnonzero(per_line != n_cols)
    if len(bad):
        k = int(bad[0])
        place = f"line {first_line + int(data_lines[k])}, frame {k}"
        found = int(per_line[k])
        cut = k == len(per_line) - 1 and found < n_cols and not raw.endswith(b"\n")
        hint = " (truncated file?)" if cut else ""
        raise MotionLabError(
            f"expected {n_cols} values (the sum of the CHANNELS counts), found {found}{hint}", file=path, place=place
        )
    if len(data_lines) != n_frames:
        hint = " (truncated file?)" if len(data_lines) < n_frames else ""
        raise MotionLabError(
            f"'Frames: {n_frames}' but the file holds {len(data_lines)} frames{hint}",
            file=path,
            place=f"line {frames_line}",
        )
    values: Optional[np.ndarray] = None
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            values = np.fromstring(raw[start:], dtype=np.float64, sep=" ")  # one C pass over the block
    except (ValueError, DeprecationWarning):
        values = None
    if values is None or values.size != n_frames * n_cols:
        values = _parse_values_slowly(raw[start:], first_line, n_cols, path)
    values = values.reshape(n_frames, n_cols)
    finite = np.isfinite(values)
    if not finite.all():
        k, c = (int(x) for x in np.argwhere(~finite)[0])
        kind = "NaN" if np.isnan(values[k, c]) else "infinite"
        raise MotionLabError(
            f"{kind} value for {_column_label(joints, c)}",
            file=path,
            place=f"line {first_line + int(data_lines[k])}, frame {k}",
        )
    return frame_time, values


def _parse_values_slowly(block: bytes, first_line: int, n_cols: int, path: str) -> np.ndarray:
    """Token-by-token conversion; only used to locate a bad value when the fast pass fails."""
    out: List[float] = []
    frame = 0
    for n, line in enumerate(block.split(b"\n")):
        toks = line.split()
        if not toks:
            continue
        for tok in toks:
            if not _NUMBER_BYTES.fullmatch(tok):
                shown = tok[:40].decode("utf-8", errors="replace")
                raise MotionLabError(
                    f"non-numeric value {shown!r}", file=path, place=f"line {first_line + n}, frame {frame}"
                )
            out.append(float(tok))
        frame += 1
    return np.asarray(out, dtype=np.float64)


# --- reading: conversion -----------------------------------------------------------------------


def _rotation_order(channels: Sequence[str]) -> str:
    """The 3-letter intrinsic order of a channel list: its rotation axes, then the missing ones."""
    axes = [c[0] for c in channels if c.endswith("rotation")]
    return "".join(axes) + "".join(a for a in "XYZ" if a not in axes)


def _euler_to_quat_zup(angles: np.ndarray, orders: Sequence[str]) -> np.ndarray:
    """``(T, J, 3)`` BVH Euler angles (degrees, Y up) to ``(T, J, 4)`` w-first Z-up quaternions.

    Each joint uses its own intrinsic order. Conjugating a rotation by the axis map ``M`` maps
    its quaternion ``(w, v)`` to ``(w, M v)``. Signs are made continuous over time, ``w >= 0``
    on frame 0.
    """
    T, J = angles.shape[:2]
    quat = np.empty((T, J, 4))
    for order in sorted(set(orders)):
        idx = [j for j in range(J) if orders[j] == order]
        q = euler_to_quat(angles[:, idx], order, degrees=True)
        quat[:, idx, 0] = q[..., 0]
        quat[:, idx, 1:] = _map_vec(q[..., 1:], _Y2Z)
    quat[:, quat[0, :, 0] < 0] *= -1.0
    return quat_fix_continuity(quat, dim=0)


def _rest_size(parents: np.ndarray, offsets: np.ndarray, end_sites: Dict[int, np.ndarray]) -> float:
    """Largest extent along any axis of the rest pose (joints and End Sites), in file units."""
    pos = np.zeros_like(offsets)
    for j in range(1, len(parents)):
        pos[j] = pos[parents[j]] + offsets[j]
    pts = [pos] + [(pos[j] + e)[None] for j, e in end_sites.items()]
    allp = np.concatenate(pts, axis=0)
    return float(np.ptp(allp, axis=0).max())


def read_bvh(path: PathLike, units: Units = "auto") -> Motion:
    """Read a BVH file as a :class:`Motion` in motionlab's conventions (Z up, metres, w-first quaternions).

    Args:
        path: the ``.bvh`` file.
        units: the file's length unit: ``"m"``, ``"cm"``, ``"mm"``, ``"inch"``, a float (metres per
            file unit), or ``"auto"`` (see :func:`auto_units`: the unit that makes the rest pose
            about 1.7 m tall). The choice is recorded in ``meta["units"]`` and ``meta["scale"]``.

    Returns:
        A Motion with ``fps = 1 / Frame Time``; joints in file order (depth first), End Sites in
        ``skeleton.end_sites``, root position channels in ``root_pos``, position channels of other
        joints in ``joint_pos`` (``(T, J, 3)``, NaN for joints without them; ``None`` when no
        non-root joint has any), and the file layout in ``meta`` (see the module docstring).

    Raises:
        MotionLabError: naming the file, the line (and frame) and the problem, for any malformed
        input: empty file, missing HIERARCHY or MOTION, unbalanced braces, unknown channels, a
        frame count that disagrees with ``Frames:``, a line with the wrong number of values,
        non-numeric, NaN or infinite values, a truncated file.
    """
    spath = os.fspath(path)
    if not (isinstance(units, str) and units == "auto"):
        try:
            unit_name, scale = units_scale(units)
        except MotionLabError as e:
            raise e.with_file(spath) from None
    try:
        raw = Path(path).read_bytes()
    except OSError as e:
        raise MotionLabError(os_problem(e), file=spath, place="path") from None
    if raw.startswith(b"\xef\xbb\xbf"):
        raw = raw[3:]
    if b"\n" not in raw and b"\r" in raw:  # classic Mac line ends
        raw = raw.replace(b"\r", b"\n")
    if not raw.strip():
        raise MotionLabError("empty file", file=spath, place="line 1")

    m = _MOTION.search(raw)
    header_end = m.start() if m else len(raw)
    header = raw[:header_end]
    try:
        text = header.decode("utf-8")
    except UnicodeDecodeError:
        text = header.decode("latin-1")
    cur = _Cursor(_tokenize(text), spath, _line_of(raw, header_end))
    joints = _parse_hierarchy(cur)
    extra = cur.peek()
    if extra is not None:
        tok, line = extra
        if tok == "}":
            raise cur.error("unbalanced braces: a '}' after the ROOT joint is closed", line)
        if tok.upper() == "ROOT":
            raise cur.error("a second ROOT: files with several skeletons are not supported", line)
        what = "expected MOTION" if m else "missing MOTION section"
        raise cur.error(f"unexpected {_q(tok)} after the hierarchy ({what})", line)
    if m is None:
        raise MotionLabError("missing MOTION section after the hierarchy", file=spath, place=f"line {cur.end_line}")
    frame_time, values = _parse_motion(raw, m.end(), joints, spath)
    return _to_motion(joints, frame_time, values, units, spath)


def _to_motion(joints: List[_Joint], frame_time: float, data: np.ndarray, units: Units, spath: str) -> Motion:
    T, J = data.shape[0], len(joints)
    names = [jt.name for jt in joints]
    parents = np.array([jt.parent for jt in joints], dtype=np.int64)
    offsets_y = np.stack([jt.offset for jt in joints])
    ends_y = {j: jt.end_site for j, jt in enumerate(joints) if jt.end_site is not None}
    if isinstance(units, str) and units == "auto":
        unit_name, scale = auto_units(_rest_size(parents, offsets_y, ends_y))
        rule = "auto"
    else:
        unit_name, scale = units_scale(units)
        rule = "given"

    # Gather channels into per-joint arrays with fancy indexing (no loop over frames).
    orders = [_rotation_order(jt.channels) for jt in joints]
    rj, rs, rc, pj, pc, pcol = [], [], [], [], [], []
    col = 0
    for j, jt in enumerate(joints):
        for ch in jt.channels:
            if ch.endswith("rotation"):
                rj.append(j), rs.append(orders[j].index(ch[0])), rc.append(col)
            else:
                pj.append(j), pc.append("XYZ".index(ch[0])), pcol.append(col)
            col += 1
    for cols, bound, what in ((rc, MAX_ANGLE_DEG, "degrees"), (pcol, MAX_POSITION_M / scale, "file units")):
        big = np.abs(data[:, cols]) > bound if cols else np.zeros((T, 0), bool)
        if big.any():
            k, c = (int(x) for x in np.argwhere(big)[0])
            raise MotionLabError(f"value {data[k, cols[c]]:.3g} {what} for {_column_label(joints, cols[c])} is "
                                 f"beyond the plausible range (|x| <= {bound:.3g})", file=spath, place=f"frame {k}")
    angles = np.zeros((T, J, 3))
    angles[:, rj, rs] = data[:, rc]
    local_quat = _euler_to_quat_zup(angles, orders)

    trans_y = np.broadcast_to(offsets_y, (T, J, 3)).copy()
    trans_y[:, pj, pc] = data[:, pcol]
    root_pos = _map_vec(trans_y[:, 0], _Y2Z) * scale
    moved = sorted({j for j in pj if j != 0})
    joint_pos = None
    if moved:
        joint_pos = np.full((T, J, 3), np.nan)
        joint_pos[:, moved] = _map_vec(trans_y[:, moved], _Y2Z) * scale

    skeleton = Skeleton(
        names,
        parents,
        _map_vec(offsets_y, _Y2Z) * scale,
        {j: _map_vec(e, _Y2Z) * scale for j, e in ends_y.items()},
    )
    meta = {
        "format": "bvh",
        "source": spath,
        "units": unit_name,
        "scale": float(scale),
        "units_rule": rule,
        "up_axis": "Y",
        "frame_time": float(frame_time),
        "bvh_channels": {jt.name: list(jt.channels) for jt in joints},
        "bvh_orders": {jt.name: orders[j] for j, jt in enumerate(joints)},
        "bvh_no_end_site": [jt.name for jt in joints if not jt.has_children and not jt.has_end_site],
    }
    try:
        return Motion(1.0 / frame_time, skeleton, root_pos, local_quat, joint_pos=joint_pos, meta=meta)
    except MotionLabError as e:
        raise e.with_file(spath) from None


# --- writing -----------------------------------------------------------------------------------


def _format_frame_time(ft: float) -> str:
    """At least 10 decimals (``0.0333333333``), more when the value needs them to round-trip."""
    s = f"{ft:.10f}"
    if float(s) != ft:
        s = np.format_float_positional(ft, unique=True, trim="-")
        if "." not in s:
            s += "."
        s += "0" * max(0, 10 - len(s.split(".")[1]))
    return s


def _check_order(order: Optional[str]) -> Optional[str]:
    if order is None:
        return None
    if not isinstance(order, str) or order not in _ORDERS:
        raise choices_error("BVH rotation order (intrinsic, channel order)", str(order), _ORDERS)
    return order


def _tip(skeleton: Skeleton, j: int) -> np.ndarray:
    """A short End Site along the bone into joint ``j`` (Z up, metres) when none is known."""
    k = j
    while k > 0:
        off = skeleton.offsets[k]
        n = float(np.linalg.norm(off))
        if n > 1e-9:
            return off * 0.25
        k = int(skeleton.parents[k])
    return np.array([0.0, 0.0, 0.05])


def write_bvh(path: PathLike, motion: Motion, order: Optional[str] = None, *, units: Optional[Units] = None) -> None:
    """Write ``motion`` as a BVH file (Y up), atomically (a temporary file, then ``os.replace``).

    A motion read from a BVH (``meta["format"] == "bvh"``) is written back in its own units and
    with its own per-joint channel lists and rotation orders (``meta["bvh_channels"]``), matched
    by joint name. Any other motion gets ``Xposition Yposition Zposition`` + 3 rotation channels
    on the root and on joints whose ``joint_pos`` is set, 3 rotation channels elsewhere, ZYX
    order, centimetres. A channel list is widened only where it could not hold the motion (a
    joint with fewer than 3 rotation channels that now rotates about other axes, or a translation
    that differs from the OFFSET where no position channel exists).

    Args:
        path: the output file.
        motion: the clip (Z up, metres).
        order: an intrinsic rotation order for every joint (``"ZYX"``, ``"ZXY"``, ...) instead of
            the file's or the default.
        units: the output length unit (a name of :data:`UNIT_SCALES` or metres per unit) instead
            of the file's or centimetres.

    End Sites are written with their real offsets; where unknown or zero, a tip a quarter of the
    bone long along the bone. Leaf joints that had no End Site in the source file get none.
    ``Frame Time`` is written with at least 10 decimals. Euler angles are unwrapped over time.
    """
    spath = os.fspath(path)
    try:
        text = _bvh_text(motion, _check_order(order), units)
    except MotionLabError as e:
        raise e.with_file(spath) from None
    atomic_write_text(spath, text)


def _bvh_text(motion: Motion, order: Optional[str], units: Optional[Units]) -> str:
    sk = motion.skeleton
    meta = motion.meta
    from_bvh = meta.get("format") == "bvh" and isinstance(meta.get("bvh_channels"), dict)
    if units is not None:
        if isinstance(units, str) and units == "auto":
            raise MotionLabError("units='auto' is only for reading; give a unit name or a scale to write")
        _, scale = units_scale(units)
    elif from_bvh and isinstance(meta.get("scale"), (int, float)) and meta["scale"] > 0:
        scale = float(meta["scale"])
    else:
        scale = UNIT_SCALES["cm"]
    layouts: Dict[str, List[str]] = meta.get("bvh_channels", {}) if from_bvh else {}
    no_end = set(meta.get("bvh_no_end_site", [])) if from_bvh else set()
    for name in sk.names:
        if not name or re.search(r"[\s{}]", name):
            raise MotionLabError(f"joint name {name!r} cannot be written to BVH (empty, whitespace or braces)")

    T, J = motion.num_frames, sk.num_joints
    offsets_y = _map_vec(sk.offsets, _Z2Y) / scale
    size = max(_rest_size(sk.parents, offsets_y, {}), 1e-12)
    tol = 1e-7 * size

    # Local translations each joint needs, Y up, file units.
    trans = np.broadcast_to(offsets_y, (T, J, 3)).copy()
    trans[:, 0] = _map_vec(motion.root_pos, _Z2Y) / scale
    moved = np.zeros(J, dtype=bool)
    if motion.joint_pos is not None:
        jp = _map_vec(motion.joint_pos, _Z2Y) / scale
        ok = np.isfinite(jp)
        trans = np.where(ok, jp, trans)
        trans[:, 0] = _map_vec(motion.root_pos, _Z2Y) / scale
        moved = ok.any(axis=(0, 2))
        moved[0] = False

    # Channel lists, then the rotation order each joint is decomposed in.
    chans: List[List[str]] = []
    for j, name in enumerate(sk.names):
        lay = layouts.get(name)
        if lay is None or not isinstance(lay, list) or not all(c in CHANNEL_NAMES for c in lay):
            pos = j == 0 or bool(moved[j])
            lay = ([c for c in CHANNEL_NAMES[:3]] if pos else []) + [f"{a}rotation" for a in (order or "ZYX")]
        elif order is not None:
            lay = [c for c in lay if c.endswith("position")] + [f"{a}rotation" for a in order]
        lay = list(lay)
        # A translation the channels cannot carry widens the list to all three positions.
        have = {"XYZ".index(c[0]) for c in lay if c.endswith("position")}
        missing = [k for k in range(3) if k not in have]
        if missing and np.abs(trans[:, j, missing] - offsets_y[j, missing]).max() > tol:
            lay = list(CHANNEL_NAMES[:3]) + [c for c in lay if c.endswith("rotation")]
        chans.append(lay)
    orders = [_rotation_order(c) for c in chans]
    local_y = _map_mat(motion.local_matrices(), _Z2Y)
    euler = np.empty((T, J, 3))
    for o in sorted(set(orders)):
        idx = [j for j in range(J) if orders[j] == o]
        euler[:, idx] = matrix_to_euler(local_y[:, idx], o, degrees=True)
    euler = np.unwrap(euler, period=360.0, axis=0) if T > 1 else euler
    for j in range(J):
        n_rot = sum(c.endswith("rotation") for c in chans[j])
        if n_rot < 3 and np.abs(euler[:, j, n_rot:]).max(initial=0.0) > 1e-6:
            chans[j] = [c for c in chans[j] if c.endswith("position")] + [f"{a}rotation" for a in orders[j]]

    # The hierarchy, depth first; the motion columns follow the same order.
    children = {j: [] for j in range(J)}
    for j in range(1, J):
        children[int(sk.parents[j])].append(j)
    out = ["HIERARCHY"]
    columns: List[np.ndarray] = []
    fmt = f"%.{_DECIMALS}f"

    def vec(v: np.ndarray) -> str:
        return " ".join(fmt % (float(x) + 0.0) for x in v)

    # Depth-first with an explicit stack: (joint, depth, closing?) so deep chains need no recursion.
    stack: List[Tuple[int, int, bool]] = [(0, 0, False)]
    while stack:
        j, depth, closing = stack.pop()
        pad = "\t" * depth
        if closing:
            end = sk.end_sites.get(j)
            if end is not None or (not children[j] and sk.names[j] not in no_end):
                if end is None or np.linalg.norm(end) < 1e-9:
                    end = _tip(sk, j)
                out.append(f"{pad}\tEnd Site")
                out.append(f"{pad}\t{{")
                out.append(f"{pad}\t\tOFFSET {vec(_map_vec(end, _Z2Y) / scale)}")
                out.append(f"{pad}\t}}")
            out.append(f"{pad}}}")
            continue
        out.append(f"{pad}{'ROOT' if j == 0 else 'JOINT'} {sk.names[j]}")
        out.append(f"{pad}{{")
        out.append(f"{pad}\tOFFSET {vec(offsets_y[j])}")
        out.append(f"{pad}\tCHANNELS {len(chans[j])} {' '.join(chans[j])}".rstrip())
        for c in chans[j]:
            if c.endswith("position"):
                columns.append(trans[:, j, "XYZ".index(c[0])])
            else:
                columns.append(euler[:, j, orders[j].index(c[0])])
        stack.append((j, depth, True))
        stack.extend((c, depth + 1, False) for c in reversed(children[j]))

    if from_bvh and isinstance(meta.get("frame_time"), float) and abs(1.0 / meta["frame_time"] - motion.fps) <= 1e-9 * motion.fps:
        frame_time = meta["frame_time"]
    else:
        frame_time = 1.0 / motion.fps
    out += ["MOTION", f"Frames: {T}", f"Frame Time: {_format_frame_time(frame_time)}"]
    data = np.stack(columns, axis=1) + 0.0 if columns else np.zeros((T, 0))
    row = " ".join([fmt] * data.shape[1]) + "\n"
    body = "".join(row % tuple(r) for r in data.tolist())
    return "\n".join(out) + "\n" + body

