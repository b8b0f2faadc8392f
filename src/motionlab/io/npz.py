"""motionlab's own motion npz: everything another tool needs, readable with plain numpy.

Keys:

=====================  ==============  ======================================================
key                    shape           meaning
=====================  ==============  ======================================================
``format``             ()              ``"motionlab.motion"``
``format_version``     ()              1
``joint_names``        (J,)            unicode strings
``parents``            (J,)            parent index, -1 for the root (int64)
``offsets``            (J, 3)          rest offsets from the parent, metres
``end_site_joints``    (E,)            joints that have an End Site (int64)
``end_site_offsets``   (E, 3)          their End Site offsets, metres
``fps``                ()              frames per second
``root_pos``           (T, 3)          root position, metres, Z up
``local_quat``         (T, J, 4)       local rotations, quaternions **w first**
``positions``          (T, J, 3)       world joint positions by forward kinematics, metres, Z up
``joint_pos``          (T, J, 3)       optional per-frame local translations (NaN = use the offset)
``extra.<name>``       (T, ...)        per-frame extras (contacts, G1 joint angles ...)
``meta``               ()              JSON string of the metadata (an object)
``conventions``        ()              JSON string: up axis, units, quaternion order, 6D layout
=====================  ==============  ======================================================

Files are written atomically (a temporary file in the same folder, then ``os.replace``) and read
with ``allow_pickle=False``. Every defect of a file (a missing key, a wrong shape or dtype, NaN
rows, frame counts that disagree, an empty clip, truncated or non-zip bytes) raises one
:class:`~motionlab.errors.MotionLabError` naming the file and the key (and frame) at fault.
On load ``positions`` is checked for shape but not used (the Motion recomputes it).
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any, Dict, Tuple, Union

import numpy as np

from motionlab.core.files import check_frame_rate, load_npz, save_npz
from motionlab.core.motion import Motion
from motionlab.core.skeleton import Skeleton
from motionlab.errors import MotionLabError

__all__ = ["save_motion_npz", "load_motion_npz", "FORMAT", "VERSION", "CONVENTIONS"]

FORMAT = "motionlab.motion"
VERSION = 1
CONVENTIONS = {"up_axis": "Z", "units": "m", "time": "s", "quaternion": "wxyz", "rot6d": "first two columns",
               "handedness": "right", "forward": "+X", "left": "+Y"}
_CHECKED_CONVENTIONS = ("up_axis", "units", "quaternion")
_REQUIRED = ("format", "format_version", "joint_names", "parents", "offsets", "fps", "root_pos", "local_quat")

PathLike = Union[str, os.PathLike]


def _json_value(x: Any) -> Any:
    if isinstance(x, np.generic):
        return x.item()
    if isinstance(x, np.ndarray):
        return x.tolist()
    if isinstance(x, Path):
        return str(x)
    raise TypeError(f"{type(x).__name__} is not JSON-serialisable")


def save_motion_npz(path: PathLike, motion: Motion) -> None:
    """Write ``motion`` to ``path`` (see the module docstring for the keys), atomically.

    ``motion.meta`` must be JSON-serialisable (numpy scalars/arrays and paths are converted);
    extras must be plain numeric/bool/string arrays (no pickles).
    """
    sk = motion.skeleton
    ends = sorted(sk.end_sites)
    try:
        meta = json.dumps(motion.meta, sort_keys=True, default=_json_value, allow_nan=True)
    except (TypeError, ValueError) as e:
        raise MotionLabError(f"metadata cannot be stored as JSON ({e})", file=path, place="key 'meta'") from None
    arrays = {
        "format": np.array(FORMAT),
        "format_version": np.array(VERSION, dtype=np.int64),
        "joint_names": np.array(sk.names, dtype=np.str_),
        "parents": sk.parents.astype(np.int64),
        "offsets": sk.offsets.astype(np.float64),
        "end_site_joints": np.array(ends, dtype=np.int64),
        "end_site_offsets": np.array([sk.end_sites[j] for j in ends], dtype=np.float64).reshape(-1, 3),
        "fps": np.array(float(motion.fps)),
        "root_pos": motion.root_pos.astype(np.float64),
        "local_quat": motion.local_quat.astype(np.float64),
        "positions": motion.positions().astype(np.float64),
        "meta": np.array(meta),
        "conventions": np.array(json.dumps(CONVENTIONS, sort_keys=True)),
    }
    if motion.joint_pos is not None:
        arrays["joint_pos"] = motion.joint_pos.astype(np.float64)
    for name, value in motion.extras.items():
        value = np.asarray(value)
        if value.dtype.kind not in "biufcUS":
            raise MotionLabError(f"extra {name!r} has dtype {value.dtype} and cannot be stored without pickle",
                                 file=path, place=f"key 'extra.{name}'")
        arrays[f"extra.{name}"] = value
    save_npz(path, arrays)


class _Reader:
    """Typed, shape-checked access to the arrays of one file; errors name the file and key."""

    def __init__(self, path: Path, arrays: Dict[str, np.ndarray]) -> None:
        self.path, self.z = path, arrays

    def error(self, key: str, problem: str, frame: int = None) -> MotionLabError:
        place = f"key {key!r}" + (f", frame {frame}" if frame is not None else "")
        return MotionLabError(problem, file=self.path, place=place)

    def get(self, key: str) -> np.ndarray:
        if key not in self.z:
            raise self.error(key, f"missing key (a motionlab npz needs {', '.join(_REQUIRED)})")
        return self.z[key]

    def text(self, key: str) -> str:
        a = self.get(key)
        if a.shape != () or a.dtype.kind not in "US":
            raise self.error(key, f"expected a string scalar, got dtype {a.dtype} shape {a.shape}")
        v = a.item()
        if isinstance(v, bytes):
            try:
                v = v.decode("utf-8")
            except UnicodeDecodeError:
                raise self.error(key, "bytes are not UTF-8") from None
        return v

    def json_object(self, key: str) -> Dict[str, Any]:
        try:
            obj = json.loads(self.text(key))
        except ValueError as e:  # JSONDecodeError is a ValueError; MotionLabError passes through
            if isinstance(e, MotionLabError):
                raise
            msg = getattr(e, "msg", "damaged text")
            raise self.error(key, f"not valid JSON ({msg[:1].lower() + msg[1:]})") from None
        if not isinstance(obj, dict):
            raise self.error(key, f"expected a JSON object, got {type(obj).__name__}")
        return obj

    def integers(self, key: str, shape: Tuple[int, ...]) -> np.ndarray:
        a = self.get(key)
        self.shape(key, a, shape)
        if a.dtype.kind in "iu":
            return a.astype(np.int64)
        if a.dtype.kind == "f" and np.isfinite(a).all() and (np.mod(a, 1) == 0).all():
            return a.astype(np.int64)
        raise self.error(key, f"expected integers, got dtype {a.dtype}")

    def floats(self, key: str, shape: Tuple[int, ...], finite: bool = True, per_frame: bool = False) -> np.ndarray:
        a = self.get(key)
        if a.dtype.kind not in "iuf":
            raise self.error(key, f"expected real numbers, got dtype {a.dtype}")
        self.shape(key, a, shape)
        a = a.astype(np.float64)
        if finite and a.size and not np.isfinite(a).all():
            rows = ~np.isfinite(a.reshape(a.shape[0], -1)).all(axis=1) if a.ndim else np.ones(1, bool)
            row = int(np.argmax(rows))
            if per_frame:
                raise self.error(key, "non-finite values", row)
            raise self.error(key, "non-finite values" + (f" in row {row}" if a.ndim else ""))
        return a

    def shape(self, key: str, a: np.ndarray, shape: Tuple[int, ...]) -> None:
        """``shape`` entries of -1 are free; a mismatch names the expected layout."""
        if len(a.shape) != len(shape) or any(s != -1 and s != d for s, d in zip(shape, a.shape)):
            want = "(" + ", ".join("*" if s == -1 else str(s) for s in shape) + ")"
            raise self.error(key, f"shape {a.shape}, expected {want}")


def load_motion_npz(path: PathLike) -> Motion:
    """Read a motionlab npz into a :class:`Motion`.

    ``meta["source"]`` is set to ``path``. Raises :class:`MotionLabError` (file, key, frame,
    problem) for anything malformed; no other exception type escapes.
    """
    path = Path(path)
    r = _Reader(path, load_npz(path))
    fmt = r.text("format")
    if fmt != FORMAT:
        raise r.error("format", f"format is {fmt!r}, not {FORMAT!r}")
    version = r.integers("format_version", ())
    if not 1 <= int(version) <= VERSION:
        raise r.error("format_version", f"version {int(version)} is not supported (this motionlab reads 1..{VERSION})")
    if "conventions" in r.z:
        conv = r.json_object("conventions")
        for k in _CHECKED_CONVENTIONS:
            if k in conv and conv[k] != CONVENTIONS[k]:
                raise r.error("conventions", f"{k} is {conv[k]!r}; motionlab npz files use {CONVENTIONS[k]!r}")

    names_arr = r.get("joint_names")
    if names_arr.ndim != 1 or names_arr.dtype.kind not in "US" or names_arr.size == 0:
        raise r.error("joint_names", f"expected a non-empty 1-D array of strings, got dtype {names_arr.dtype} "
                                     f"shape {names_arr.shape}")
    try:
        names = [n.decode("utf-8") if isinstance(n, bytes) else str(n) for n in names_arr.tolist()]
    except UnicodeDecodeError:
        raise r.error("joint_names", "bytes are not UTF-8") from None
    J = len(names)
    parents = r.integers("parents", (J,))
    offsets = r.floats("offsets", (J, 3))
    fps = check_frame_rate(r.get("fps"), file=path, place="key 'fps'")
    root = r.floats("root_pos", (-1, 3), per_frame=True)
    T = root.shape[0]
    if T == 0:
        raise r.error("root_pos", "the clip has no frames")
    quat = r.floats("local_quat", (T, J, 4), per_frame=True)
    norms = np.linalg.norm(quat, axis=-1)
    if (norms < 1e-6).any():
        t, j = (int(i) for i in np.argwhere(norms < 1e-6)[0])
        raise r.error("local_quat", f"zero-length quaternion for joint {names[j]!r}", t)
    if "positions" in r.z:
        r.floats("positions", (T, J, 3), finite=False)
    joint_pos = None
    if "joint_pos" in r.z:
        joint_pos = r.floats("joint_pos", (T, J, 3), finite=False)
        if np.isinf(joint_pos).any():
            raise r.error("joint_pos", "infinite values (NaN means: use the offset)",
                          int(np.argwhere(np.isinf(joint_pos))[0][0]))

    ends: Dict[int, np.ndarray] = {}
    if "end_site_joints" in r.z or "end_site_offsets" in r.z:
        ej = r.integers("end_site_joints", (-1,))
        eo = r.floats("end_site_offsets", (len(ej), 3))
        for i, j in enumerate(ej.tolist()):
            if not 0 <= j < J:
                raise r.error("end_site_joints", f"End Site on joint {j}, but there are {J} joints")
            ends[j] = eo[i]

    meta = r.json_object("meta") if "meta" in r.z else {}
    meta["source"] = os.fspath(path)

    extras: Dict[str, np.ndarray] = {}
    for key in r.z:
        if key.startswith("extra."):
            a = r.z[key]
            if a.ndim == 0 or a.shape[0] != T:
                raise r.error(key, f"shape {a.shape}: an extra needs one row per frame ({T})")
            extras[key[len("extra."):]] = a

    try:
        skeleton = Skeleton(names, parents, offsets, ends)
    except MotionLabError as e:
        raise MotionLabError(e.problem, file=path, place="keys 'joint_names'/'parents'") from None
    try:
        return Motion(fps, skeleton, root, quat / norms[..., None], joint_pos=joint_pos, extras=extras, meta=meta)
    except MotionLabError as e:
        raise MotionLabError(e.problem, file=path, place=e.place or "archive") from None
