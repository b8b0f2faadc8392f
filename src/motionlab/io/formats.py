"""The table of file formats: detection, reading, writing, inspection and conversion.

Each format lives in its own module (``io/bvh.py``, ``io/g1.py`` ...); this module only maps
names to those functions (a plain dict, filled here) and holds the generic ``inspect_file``
and ``convert_file`` used by ``motionlab data``.

Kinds of content:

* ``"human"``: a :class:`~motionlab.core.motion.Motion` (skeleton, root, local rotations);
* ``"robot"``: a :class:`~motionlab.robots.motion.RobotMotion` (G1 root + 29 joint angles);
* ``"keypoints"``, ``"audio"``, ``"words"``, ``"frames"``: other per-frame data.
"""

from __future__ import annotations

import contextvars
import importlib
import json
import re
import zipfile
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Dict, Iterator, List, Optional, Tuple

import numpy as np

from motionlab.errors import MotionLabError, choices_error


@dataclass(frozen=True)
class Format:
    name: str
    kind: str
    extensions: Tuple[str, ...]
    reader: str  # "module:function"
    writer: Optional[str]
    description: str


def _fn(ref: str) -> Callable:
    module, name = ref.split(":")
    return getattr(importlib.import_module(module), name)


FORMATS: Dict[str, Format] = {
    f.name: f
    for f in [
        Format("bvh", "human", (".bvh",), "motionlab.io.bvh:read_bvh", "motionlab.io.bvh:write_bvh",
               "Biovision hierarchy mocap (Y up, any units, per-joint Euler orders)"),
        Format("npz", "human", (".npz",), "motionlab.io.npz:load_motion_npz", "motionlab.io.npz:save_motion_npz",
               "motionlab motion npz (Z up, metres, w-first quaternions, world positions)"),
        Format("smplx", "human", (".npz",), "motionlab.io.smplx:read_smplx_npz", "motionlab.io.smplx:write_smplx_npz",
               "SMPL-X / BEAT2 npz (axis-angle poses of 55 joints, Y up)"),
        Format("unitree-csv", "robot", (".csv",), "motionlab.io.g1:read_unitree_csv",
               "motionlab.io.g1:write_unitree_csv", "Unitree G1 retargeted CSV (36 columns, 30 fps, xyzw root)"),
        Format("beyondmimic", "robot", (".npz",), "motionlab.io.g1:read_beyondmimic_npz",
               "motionlab.io.g1:write_beyondmimic_npz", "BeyondMimic / whole_body_tracking npz (50 fps, Isaac order)"),
        Format("seulzx", "robot", (".npz",), "motionlab.io.g1:read_seulzx_npz", "motionlab.io.g1:write_seulzx_npz",
               "seulzx paired SMPL-X + G1 npz (Isaac order, 50 fps)"),
        Format("gmr-pkl", "robot", (".pkl",), "motionlab.io.g1:read_gmr_pkl", "motionlab.io.g1:write_gmr_pkl",
               "GMR pickle (root xyzw, Unitree order)"),
        Format("keypoints", "keypoints", (".json", ".npz"), "motionlab.io.keypoints:read_keypoints",
               "motionlab.io.keypoints:write_keypoints", "COCO-17 2D keypoint tracks (x, y, confidence)"),
        Format("frame-json", "frames", (".json",), "motionlab.io.frame_json:read_frame_json",
               "motionlab.io.frame_json:write_frame_json", "character-predictor frame JSON"),
        Format("audio", "audio", (".wav", ".flac", ".ogg", ".mp3"), "motionlab.io.audio:read_audio",
               "motionlab.io.audio:write_audio", "audio (libsndfile; the container is read from the content)"),
        Format("textgrid", "words", (".textgrid",), "motionlab.io.textgrid:read_words",
               "motionlab.io.textgrid:write_words", "Praat TextGrid word tier"),
    ]
}


def npz_keys(path) -> set:
    """The array names in an npz archive (without reading the arrays); one-line errors."""
    from motionlab.core.files import check_input_file, os_problem

    check_input_file(path)
    try:
        with zipfile.ZipFile(path) as z:
            return {n[:-4] if n.endswith(".npy") else n for n in z.namelist()}
    except zipfile.BadZipFile:
        raise MotionLabError("not an npz archive (no readable zip structure)", file=path, place="archive") from None
    except OSError as e:
        raise MotionLabError(os_problem(e), file=path, place="path") from None
    except Exception:  # damaged central directory (ValueError, struct.error, ...)
        raise MotionLabError("not an npz archive (damaged zip structure)", file=path, place="archive") from None


def _scan_string(text: str, i: int) -> int:
    """Index just after the JSON string starting at ``text[i] == '"'`` (or len(text) if unterminated)."""
    j = i + 1
    n = len(text)
    while j < n:
        c = text[j]
        if c == "\\":
            j += 2
            continue
        if c == '"':
            return j + 1
        j += 1
    return n


_JSON_STOPS = re.compile(r'["{}\[\],]')
_JSON_STOPS_DEEP = re.compile(r'["{}\[\]]')  # inside nested values commas do not matter


def json_top_keys(text: str) -> Optional[List[str]]:
    """The keys of the top-level JSON object in ``text``, in order, read by scanning (nested values
    are skipped, not parsed, so any size works). ``None`` when the top level is not an object, e.g.
    a list; a damaged document gives the keys found before the damage."""
    i, n = 0, len(text)
    while i < n and text[i] in " \t\r\n\ufeff":
        i += 1
    if i >= n or text[i] != "{":
        return None
    keys: List[str] = []
    depth, expect_key, i = 1, True, i + 1
    while True:
        m = (_JSON_STOPS if depth == 1 else _JSON_STOPS_DEEP).search(text, i)
        if m is None:
            return keys
        c = m.group()
        if c == '"':
            end = _scan_string(text, m.start())
            if depth == 1 and expect_key:
                try:
                    keys.append(json.loads(text[m.start():end]))
                except ValueError:
                    return keys
                expect_key = False
            i = end
            continue
        if c in "{[":
            depth += 1
        elif c in "}]":
            depth -= 1
            if depth == 0:
                return keys
        elif depth == 1:  # a comma between members
            expect_key = True
        i = m.end()


def _json_kind(path: Path) -> str:
    """``frame-json`` or ``keypoints`` from the JSON's top-level keys (the whole document is scanned)."""
    from motionlab.core.files import read_bytes

    raw = read_bytes(path)
    text = raw.decode("utf-8-sig", errors="replace")
    keys = json_top_keys(text)
    if keys is None:
        return "keypoints"  # a bare list of frames is a keypoint track
    if "Frames" in keys or "FPS" in keys or "BoneNames" in keys:
        return "frame-json"
    return "keypoints"


def detect_format(path) -> str:
    """The format name of ``path`` from its extension and, for npz/json, its keys."""
    from motionlab.core.files import check_input_file

    path = Path(path)
    check_input_file(path)
    ext = path.suffix.lower()
    if ext == ".npz":
        keys = npz_keys(path)
        if "format" in keys and "local_quat" in keys:
            return "npz"
        if "smplx_pose_body" in keys:
            return "seulzx"
        if "body_pos_w" in keys or ("joint_pos" in keys and "fps" in keys):
            return "beyondmimic"
        if "poses" in keys and "trans" in keys:
            return "smplx"
        if "keypoints" in keys:
            return "keypoints"
        shown = ", ".join(sorted(keys)[:12]) + (" ..." if len(keys) > 12 else "")
        raise MotionLabError(f"npz with keys [{shown}] matches no known format", file=path, place="archive")
    if ext == ".json":
        return _json_kind(path)
    for f in FORMATS.values():
        if ext in f.extensions:
            return f.name
    exts = sorted({e for f in FORMATS.values() for e in f.extensions})
    raise MotionLabError(f"unknown file extension {ext!r}; known: {', '.join(exts)}", file=path, place="path")


def get_format(name: str) -> Format:
    if name not in FORMATS:
        raise choices_error("format", name, FORMATS)
    return FORMATS[name]


_READ_OPTIONS: contextvars.ContextVar[Dict[str, Any]] = contextvars.ContextVar("motionlab_read_options",
                                                                               default={})

#: Reading options :func:`reading_options` may set, and the formats whose reader takes each.
READ_OPTIONS = {"units": ("bvh",)}


@contextmanager
def reading_options(**options: Any) -> Iterator[None]:
    """Within this block, :func:`read_file` passes these options to every reader that takes them,
    whoever calls it (``units="inch"`` for every BVH read by a command: what ``--units`` sets).
    Options left None are not set; explicit ``read_file`` keyword arguments win."""
    unknown = set(options) - set(READ_OPTIONS)
    if unknown:
        raise choices_error("reading option", sorted(unknown)[0], READ_OPTIONS)
    merged = dict(_READ_OPTIONS.get())
    merged.update({k: v for k, v in options.items() if v is not None})
    token = _READ_OPTIONS.set(merged)
    try:
        yield
    finally:
        _READ_OPTIONS.reset(token)


def read_file(path, format: Optional[str] = None, **kwargs) -> Tuple[str, Any]:
    """Read ``path`` with its (detected) format. Returns ``(format name, object)``.

    Options set by :func:`reading_options` reach the readers that take them (BVH ``units``).
    """
    name = format or detect_format(path)
    fmt = get_format(name)
    for key, value in _READ_OPTIONS.get().items():
        if name in READ_OPTIONS.get(key, ()) and key not in kwargs:
            kwargs[key] = value
    return name, _fn(fmt.reader)(path, **kwargs)


def write_file(path, obj, format: Optional[str] = None, **kwargs) -> str:
    """Write ``obj`` to ``path`` in ``format`` (default: from the extension). Returns the format name."""
    path = Path(path)
    if format is None:
        ext = path.suffix.lower()
        defaults = {".bvh": "bvh", ".npz": "npz", ".csv": "unitree-csv", ".pkl": "gmr-pkl", ".wav": "audio",
                    ".textgrid": "textgrid"}
        if ext not in defaults:
            raise MotionLabError(f"cannot tell the output format from {ext!r}: pass --format "
                                 f"(one of {', '.join(sorted(FORMATS))})", file=path)
        format = defaults[ext]
    fmt = get_format(format)
    if fmt.writer is None:
        raise MotionLabError(f"format {format!r} can be read but not written", file=path)
    _fn(fmt.writer)(path, obj, **kwargs)
    return format


# --- inspection ------------------------------------------------------------------------------------


def _range(a: np.ndarray) -> list:
    a = np.asarray(a, dtype=np.float64)
    return [float(np.nanmin(a)), float(np.nanmax(a))] if a.size else []


def inspect_file(path, format: Optional[str] = None) -> Dict[str, Any]:
    """A JSON-friendly summary of a file: format, fps, frames, duration, joints, units, ranges
    (audio: container, codec, rate, channels, duration, as read from the content)."""
    import warnings

    from motionlab.errors import MotionLabNote

    with warnings.catch_warnings():  # the summary states the note itself
        warnings.simplefilter("ignore", MotionLabNote)
        name, obj = read_file(path, format)
    fmt = FORMATS[name]
    out: Dict[str, Any] = {"file": str(path), "format": name, "kind": fmt.kind, "description": fmt.description}
    if fmt.kind == "human":
        pos = obj.positions()
        out.update(
            fps=obj.fps, frames=obj.num_frames, duration_s=obj.duration, joints=obj.num_frames and obj.skeleton.num_joints,
            joint_names=list(obj.skeleton.names), units="m (converted on read)", up_axis="Z (converted on read)",
            source_units=obj.meta.get("units"), source_up_axis=obj.meta.get("up_axis"),
            **({"source_scale_m_per_unit": obj.meta.get("scale"), "units_rule": (
                "auto (the unit that makes the rest pose about 1.7 m tall; set --units to choose)"
                if obj.meta.get("units_rule") == "auto" else "given")} if name == "bvh" else {}),
            skeleton_height_m=obj.skeleton.height(),
            ranges={"root_x": _range(obj.root_pos[:, 0]), "root_y": _range(obj.root_pos[:, 1]),
                    "root_z": _range(obj.root_pos[:, 2]), "joint_height": _range(pos[..., 2])},
            extras=sorted(obj.extras),
        )
    elif fmt.kind == "robot":
        from motionlab.robots.g1 import limit_violations

        frac, excess = limit_violations(obj.joint_pos)
        out.update(
            fps=obj.fps, frames=obj.num_frames, duration_s=(obj.num_frames - 1) / obj.fps,
            joints=len(obj.joint_names), joint_names=list(obj.joint_names), units="m, rad", up_axis="Z",
            quaternion="w first (converted on read)",
            ranges={"root_z": _range(obj.root_pos[:, 2]), "joint_pos": _range(obj.joint_pos)},
            limit_violation_frames=float(frac), limit_max_excess_rad=float(np.max(excess)) if np.size(excess) else 0.0,
            extras=sorted(obj.extras),
        )
    elif fmt.kind == "keypoints":
        out.update(fps=obj.fps, frames=int(obj.xy.shape[0]), duration_s=(obj.xy.shape[0] - 1) / obj.fps if obj.fps else None,
                   joints=int(obj.xy.shape[1]), units="pixels", mean_confidence=float(np.mean(obj.conf)),
                   ranges={"x": _range(obj.xy[..., 0]), "y": _range(obj.xy[..., 1])})
    elif fmt.kind == "audio":
        from motionlab.io.audio import audio_info

        samples, sr = obj
        info = audio_info(path)
        out.update(container=f"{info['container']} ({info['container_info']})",
                   codec=f"{info['codec']} ({info['codec_info']})", sample_rate=sr, channels=info["channels"],
                   samples=int(len(samples)), duration_s=len(samples) / sr,
                   ranges={"amplitude (mono mix)": _range(samples)})
        if info["note"]:
            out["note"] = info["note"]
    elif fmt.kind == "words":
        out.update(words=len(obj), duration_s=float(max((w.end for w in obj), default=0.0)),
                   first_words=[w.text for w in obj[:10]])
    elif fmt.kind == "frames":
        T = int(obj["rot6d"].shape[0])
        out.update(fps=float(obj["fps"]), frames=T, duration_s=(T - 1) / float(obj["fps"]),
                   bones=int(obj["rot6d"].shape[1]))
        out.update({f"shape_{k}": list(np.shape(v)) for k, v in obj.items() if np.ndim(v) > 0})
    return out


def format_summary(summary: Dict[str, Any]) -> str:
    lines = []
    for k, v in summary.items():
        if k == "joint_names":
            v = ", ".join(v[:12]) + (f", ... ({len(v)} in all)" if len(v) > 12 else "")
        lines.append(f"{k:<22} {v}")
    return "\n".join(lines)


# --- conversion ------------------------------------------------------------------------------------


def convert_file(input, output, fps: Optional[float] = None, format: Optional[str] = None,
                 in_format: Optional[str] = None) -> Path:
    """Read ``input``, optionally resample, write ``output``. Kinds must match (human or robot),
    except that any motion can become motionlab npz or BVH (a robot becomes its body tree)."""
    name, obj = read_file(input, in_format)
    kind = FORMATS[name].kind
    if kind not in ("human", "robot"):
        raise MotionLabError(f"{name} files hold {kind}, not motion: nothing to convert", file=input)
    if fps is not None:
        obj = obj.resample(fps)
    out_name = format
    if out_name is None:
        ext = Path(output).suffix.lower()
        if kind == "robot":
            # a seulzx pair stays a seulzx file: BeyondMimic has no place for its human half
            npz = "seulzx" if "smplx_pose_body" in obj.extras else "beyondmimic"
            out_name = {".csv": "unitree-csv", ".pkl": "gmr-pkl", ".npz": npz, ".bvh": "bvh"}.get(ext)
        else:
            out_name = {".bvh": "bvh", ".npz": "npz"}.get(ext)
        if out_name is None:
            raise MotionLabError(f"cannot tell the output format from {ext!r}; pass --format", file=output)
    out_kind = get_format(out_name).kind
    if kind == "robot" and out_kind == "human":
        from motionlab.robots.g1_fk import robot_to_motion

        obj = robot_to_motion(obj)
    elif out_name == "smplx":
        from motionlab.core.body import SMPL22_NAMES
        from motionlab.core.mapping import to_smpl22

        if list(obj.skeleton.names) != SMPL22_NAMES:  # SMPL-X poses live on the SMPL body layout
            obj = to_smpl22(obj)
    elif kind != out_kind:
        raise MotionLabError(
            f"cannot convert {kind} motion ({name}) to {out_kind} format {out_name!r}: "
            "retarget human motion to the robot with `motionlab retarget`", file=input)
    import inspect

    writer = _fn(get_format(out_name).writer)
    kwargs = {}
    if "fps" in inspect.signature(writer).parameters:
        # writers of fixed-rate formats resample to their default rate unless a rate was asked for
        kwargs["fps"] = fps if fps is not None else inspect.signature(writer).parameters["fps"].default
    write_file(output, obj, out_name, **kwargs)
    return Path(output)
