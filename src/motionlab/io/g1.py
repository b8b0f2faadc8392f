"""Unitree G1 motion files: Unitree CSV, BeyondMimic npz, seulzx npz and GMR pkl.

Every reader returns a :class:`~motionlab.robots.motion.RobotMotion` (root position in m, root
quaternion **w first**, 29 joint angles in rad in **Unitree order**, Z up); every writer takes one,
resolves its joints **by name** and writes atomically (temporary file + ``os.replace``). Bad input
raises one :class:`~motionlab.errors.MotionLabError` naming the file, the place (line, key, frame)
and the problem.

Formats (see the project notes on formats):

* ``unitree-csv``: no header, 36 columns per row: root x y z, root quaternion **x y z w**, 29 joint
  angles (Unitree order). The file carries no frame rate: 30 fps by convention.
* ``beyondmimic``: the npz of whole_body_tracking's ``csv_to_npz.py``: ``fps`` = [50], ``joint_pos``
  / ``joint_vel`` (T, 29) in **Isaac order**, ``body_pos_w`` / ``body_quat_w`` (w first) /
  ``body_lin_vel_w`` (each body's centre-of-mass velocity, as Isaac Lab reports it) /
  ``body_ang_vel_w`` (T, 30, .) in Isaac body order. Written arrays are float32
  as in that converter; motionlab also adds ``joint_names`` and ``body_names`` (ignored by loaders
  that read only the keys above).
* ``seulzx``: the robot keys of ``beyondmimic`` plus ``smplx_pose_body`` (T, 21, 6) stored as
  ``R[..., :2].reshape(6)``, i.e. the first two columns flattened **row by row**
  ``(R00, R01, R10, R11, R20, R21)``; motionlab's 6D is column by column ``(R00, R10, R20, R01, R11,
  R21)``, so the readers/writers convert explicitly and ``RobotMotion.extras["smplx_pose_body"]`` is
  in motionlab's 6D. ``robot_keypoints_trans`` (T, 5, 3) and ``robot_keypoints_rot`` (T, 5, 6) are
  kept verbatim when present.
* ``gmr-pkl``: a pickled dict ``fps``, ``root_pos`` (T, 3), ``root_rot`` (T, 4) **x y z w**,
  ``dof_pos`` (T, 29) Unitree order (plus ``local_body_pos``/``link_body_list``, written as None).
"""

from __future__ import annotations

import functools
import io
import os
import pickle
import re
import zipfile
from pathlib import Path
from typing import Any, Callable, Dict, Optional, Sequence, Union

import numpy as np

from motionlab.core.files import atomic_write_bytes, check_frame_rate, load_npz, read_bytes, save_npz
from motionlab.core.rotations import (
    quat_conjugate,
    quat_fix_continuity,
    quat_multiply,
    quat_to_axis_angle,
    quat_wxyz_to_xyzw,
    quat_xyzw_to_wxyz,
)
from motionlab.errors import MotionLabError, choices_error
from motionlab.robots.g1 import (
    G1_JOINT_NAMES,
    ISAAC_BODY_NAMES,
    ISAAC_JOINT_NAMES,
    isaac_to_unitree,
    unitree_to_isaac,
)
from motionlab.robots.motion import RobotMotion

PathLike = Union[str, os.PathLike]

#: Format names handled here (the same names as in :mod:`motionlab.io.formats`).
G1_FORMATS = ("unitree-csv", "beyondmimic", "seulzx", "gmr-pkl")

_NUM_COLUMNS = 36
#: Plausibility bounds on values read from files: positions (m) and joint angles (rad) beyond these
#: are damaged data (they would also overflow the float32 arrays written by the converters).
MAX_POSITION_M = 1.0e4
MAX_ANGLE_RAD = 1.0e3
#: A stored quaternion's norm must lie in this range (unit quaternions, loosely): others are damaged.
QUAT_NORM_RANGE = (0.5, 2.0)
#: A number as the CSV writers print it: ASCII digits only (no ``1_000``, no non-ASCII digits).
_NUMBER = re.compile(r"[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?", re.ASCII)
_BM_KEYS = ("joint_pos", "joint_vel", "body_pos_w", "body_quat_w", "body_lin_vel_w", "body_ang_vel_w")


# -- shared helpers --------------------------------------------------------------------------------
def _reader(fmt: str) -> Callable:
    """Turn any unexpected failure inside a reader into a one-line MotionLabError naming the file."""

    def deco(fn: Callable) -> Callable:
        @functools.wraps(fn)
        def wrapper(path: PathLike, *args, **kwargs):
            try:
                return fn(path, *args, **kwargs)
            except MotionLabError as e:
                raise e.with_file(path) from None
            except OSError as e:
                from motionlab.core.files import os_problem

                raise MotionLabError(os_problem(e), file=path, place="path") from None
            except (ValueError, TypeError, IndexError, KeyError, AttributeError, OverflowError, EOFError,
                    pickle.UnpicklingError, zipfile.BadZipFile, RecursionError, UnicodeDecodeError, MemoryError):
                raise MotionLabError(f"damaged or unexpected content for a {fmt} file", file=path,
                                     place="content") from None

        return wrapper

    return deco


def _check_fps(fps: Any, *, file=None, place: str = "fps") -> float:
    return check_frame_rate(fps, file=file, place=place)


def _dtype_name(raw: Any) -> str:
    dt = getattr(raw, "dtype", None)
    if dt is None:
        return type(raw).__name__
    kind = {"U": "text", "S": "bytes", "c": "complex numbers", "O": "Python objects", "b": "booleans",
            "V": "raw records", "M": "dates", "m": "time spans"}.get(dt.kind)
    return f"{kind} (dtype {dt})" if kind else f"dtype {dt}"


def _array(data: Dict[str, Any], key: str, tail: Sequence[Optional[int]], path: PathLike,
           bound: Optional[float] = None) -> np.ndarray:
    """``data[key]`` as float64 of shape ``(T, *tail)`` (None = any size), finite and, with ``bound``,
    within ``[-bound, bound]``; errors name the key. Only real numbers are accepted: text, bytes,
    booleans, complex numbers and objects are refused (nothing is converted or dropped silently)."""
    if key not in data:
        raise MotionLabError(f"missing key (found: {', '.join(sorted(map(str, data))) or 'none'})",
                             file=path, place=f"key {key!r}")
    raw = data[key]
    if isinstance(raw, np.ndarray):
        arr = raw
    else:  # lists from a pickle: only Python/numpy numbers
        try:
            arr = np.asarray(raw)
        except (TypeError, ValueError):  # ragged lists
            raise MotionLabError("not a rectangular array of numbers", file=path, place=f"key {key!r}") from None
    if arr.dtype.kind not in "iuf":
        raise MotionLabError(f"expected real numbers, got {_dtype_name(arr)}", file=path, place=f"key {key!r}")
    arr = arr.astype(np.float64)
    shape_ok = arr.ndim == 1 + len(tail) and all(t is None or s == t for s, t in zip(arr.shape[1:], tail))
    if not shape_ok:
        want = "(T, " + ", ".join("B" if t is None else str(t) for t in tail) + ")"
        raise MotionLabError(f"expected shape {want}, got {arr.shape}", file=path, place=f"key {key!r}")
    if arr.shape[0] == 0:
        raise MotionLabError("no frames", file=path, place=f"key {key!r}")
    flat = arr.reshape(arr.shape[0], -1)
    bad = ~np.isfinite(flat).all(axis=1)
    if bad.any():
        raise MotionLabError("non-finite values (NaN or inf)", file=path,
                             place=f"key {key!r} frame {int(np.argmax(bad))}")
    if bound is not None:
        big = (np.abs(flat) > bound).any(axis=1)
        if big.any():
            t = int(np.argmax(big))
            raise MotionLabError(f"value {np.abs(flat[t]).max():.3g} is beyond the plausible range "
                                 f"(|x| <= {bound:g})", file=path, place=f"key {key!r} frame {t}")
    return arr


def _check_quats(q: np.ndarray, path: PathLike, place: Callable[[int], str]) -> np.ndarray:
    """Rows of ``q (T, 4)`` must be (loosely) unit quaternions; returns them normalised."""
    scale = np.abs(q).max(axis=-1, keepdims=True)
    norms = np.linalg.norm(q / np.where(scale > 0, scale, 1.0), axis=-1) * scale[..., 0]
    lo, hi = QUAT_NORM_RANGE
    bad = ~((norms >= lo) & (norms <= hi))
    if bad.any():
        t = int(np.argmax(bad))
        what = "zero root quaternion" if norms[t] < 1e-8 else \
            f"root quaternion of norm {norms[t]:.3g} is not a unit quaternion (norm {lo:g}-{hi:g} expected)"
        raise MotionLabError(what, file=path, place=place(t))
    return q / norms[:, None]


def _same_frames(path: PathLike, arrays: Dict[str, np.ndarray]) -> int:
    counts = {k: v.shape[0] for k, v in arrays.items()}
    if len(set(counts.values())) > 1:
        listed = ", ".join(f"{k}={n}" for k, n in counts.items())
        raise MotionLabError(f"frame counts differ: {listed}", file=path)
    return next(iter(counts.values()))


def _names(data: Dict[str, Any], key: str, path: PathLike) -> Optional[tuple]:
    if key not in data:
        return None
    arr = np.asarray(data[key])
    if arr.ndim != 1 or arr.dtype.kind not in "US":
        raise MotionLabError(f"expected a 1-D array of names, got dtype {arr.dtype} shape {arr.shape}",
                             file=path, place=f"key {key!r}")
    return tuple(str(n) for n in arr.tolist())


def _unitree(motion: RobotMotion, path: PathLike) -> RobotMotion:
    """The motion with its joints by name in Unitree order (all 29 G1 joints must be there)."""
    if tuple(motion.joint_names) == G1_JOINT_NAMES:
        return motion
    unknown = [n for n in motion.joint_names if n not in G1_JOINT_NAMES]
    if unknown:
        raise choices_error("G1 joint", unknown[0], G1_JOINT_NAMES, file=path, place="joint_names")
    missing = [n for n in G1_JOINT_NAMES if n not in motion.joint_names]
    if missing:
        raise MotionLabError(f"the motion lacks G1 joints: {', '.join(missing)}", file=path, place="joint_names")
    return motion.reorder(G1_JOINT_NAMES)


def _to_unitree_columns(joint_pos: np.ndarray, names: Optional[tuple], path: PathLike) -> np.ndarray:
    """Joint columns stored in Isaac order (or named by ``names``) -> Unitree order."""
    if names is None:
        return isaac_to_unitree(joint_pos)
    if len(names) != joint_pos.shape[1]:
        raise MotionLabError(f"{len(names)} joint names for {joint_pos.shape[1]} columns", file=path,
                             place="key 'joint_names'")
    lookup = {n: i for i, n in enumerate(names)}
    for n in names:
        if n not in G1_JOINT_NAMES:
            raise choices_error("G1 joint", n, G1_JOINT_NAMES, file=path, place="key 'joint_names'")
    missing = [n for n in G1_JOINT_NAMES if n not in lookup]
    if missing:
        raise MotionLabError(f"missing joints: {', '.join(missing)}", file=path, place="key 'joint_names'")
    return joint_pos[:, [lookup[n] for n in G1_JOINT_NAMES]]


# -- 6D conventions of the seulzx file ----------------------------------------------------------------
def rot6d_rows_to_motionlab(d6: np.ndarray) -> np.ndarray:
    """seulzx 6D ``R[..., :2].reshape(6)`` = ``(R00, R01, R10, R11, R20, R21)`` -> motionlab 6D
    ``(R00, R10, R20, R01, R11, R21)`` (first two columns, column by column). Shape ``(..., 6)``."""
    d6 = np.asarray(d6)
    return np.swapaxes(d6.reshape(*d6.shape[:-1], 3, 2), -1, -2).reshape(*d6.shape[:-1], 6)


def rot6d_motionlab_to_rows(d6: np.ndarray) -> np.ndarray:
    """Inverse of :func:`rot6d_rows_to_motionlab`."""
    d6 = np.asarray(d6)
    return np.swapaxes(d6.reshape(*d6.shape[:-1], 2, 3), -1, -2).reshape(*d6.shape[:-1], 6)


# -- Unitree CSV ---------------------------------------------------------------------------------------
@_reader("Unitree CSV")
def read_unitree_csv(path: PathLike, fps: float = 30.0) -> RobotMotion:
    """Read a Unitree retargeted CSV (36 columns, root quaternion x y z w). ``fps``: the file has none.

    Blank lines are skipped; errors name the 1-based line.
    """
    fps = _check_fps(fps, file=path, place="argument fps")
    raw = read_bytes(path)
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as e:
        raise MotionLabError("not UTF-8 text", file=path, place=f"byte {e.start}") from None
    rows, lines = [], []
    for lineno, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        cells = line.split(",")
        if len(cells) != _NUM_COLUMNS:
            raise MotionLabError(f"expected {_NUM_COLUMNS} comma-separated columns (root xyz, quat xyzw, "
                                 f"29 joints), got {len(cells)}", file=path, place=f"line {lineno}")
        for col, c in enumerate(cells, start=1):
            if not _NUMBER.fullmatch(c.strip()):
                shown = c.strip()[:40]
                what = "an empty cell" if not shown else f"not a number: {shown!r}"
                if shown.lower().lstrip("+-") in ("inf", "infinity", "nan"):
                    what = f"non-finite value {shown!r}"
                raise MotionLabError(what, file=path, place=f"line {lineno} column {col}")
        arr = np.array([float(c) for c in cells])
        if not np.isfinite(arr).all():
            col = int(np.argmax(~np.isfinite(arr))) + 1
            raise MotionLabError("number too large (overflows to infinity)", file=path,
                                 place=f"line {lineno} column {col}")
        for lo_col, hi_col, bound, what in ((0, 3, MAX_POSITION_M, "root position (m)"),
                                            (7, 36, MAX_ANGLE_RAD, "joint angle (rad)")):
            big = np.abs(arr[lo_col:hi_col]) > bound
            if big.any():
                col = lo_col + int(np.argmax(big)) + 1
                raise MotionLabError(f"{what} {arr[col - 1]:.3g} is beyond the plausible range (|x| <= {bound:g})",
                                     file=path, place=f"line {lineno} column {col}")
        rows.append(arr)
        lines.append(lineno)
    if not rows:
        raise MotionLabError("empty file: no rows", file=path, place="line 1")
    data = np.stack(rows)
    quat = _check_quats(data[:, 3:7], path, lambda t: f"line {lines[t]} columns 4-7")
    return RobotMotion(
        fps=fps,
        root_pos=data[:, 0:3],
        root_quat=quat_xyzw_to_wxyz(quat),
        joint_pos=data[:, 7:],
        joint_names=G1_JOINT_NAMES,
        meta={"source": os.fspath(path), "format": "unitree-csv"},
    )


def write_unitree_csv(path: PathLike, motion: RobotMotion, fps: Optional[float] = 30.0) -> None:
    """Write a Unitree CSV (no header, 36 columns, quaternion x y z w, 9 significant digits).

    The format has no frame-rate field and is read as 30 fps: the motion is resampled to ``fps``
    first (BeyondMimic scheme); ``fps=None`` writes the frames as they are.
    """
    m = _unitree(motion, path)
    if fps is not None:
        m = m.resample(_check_fps(fps, file=path))
    table = np.concatenate([m.root_pos, quat_wxyz_to_xyzw(m.root_quat), m.joint_pos], axis=1)
    buf = io.StringIO()
    np.savetxt(buf, table, fmt="%.9g", delimiter=",")
    atomic_write_bytes(path, buf.getvalue().encode("utf-8"))


# -- BeyondMimic npz -----------------------------------------------------------------------------------
def _so3_derivative(quat: np.ndarray, dt: float) -> np.ndarray:
    """World angular velocity ``(T, ..., 3)`` of w-first quaternions ``(T, ..., 4)`` sampled every ``dt``.

    Central difference ``axis_angle(q[t+1] * conj(q[t-1])) / (2 dt)`` with the first and last values
    repeated (as whole_body_tracking's converter); two frames use one forward difference, one frame 0.
    """
    T = quat.shape[0]
    if T < 2:
        return np.zeros(quat.shape[:-1] + (3,))
    q = quat_fix_continuity(quat, dim=0)
    if T == 2:
        w = quat_to_axis_angle(quat_multiply(q[1:], quat_conjugate(q[:1]))) / dt
        return np.concatenate([w, w], axis=0)
    w = quat_to_axis_angle(quat_multiply(q[2:], quat_conjugate(q[:-2]))) / (2.0 * dt)
    return np.concatenate([w[:1], w, w[-1:]], axis=0)


def _gradient(x: np.ndarray, dt: float) -> np.ndarray:
    """``torch.gradient`` / ``np.gradient`` along time (central inside, one-sided at the ends)."""
    if x.shape[0] < 2:
        return np.zeros_like(x)
    return np.gradient(x, dt, axis=0)


def beyondmimic_arrays(motion: RobotMotion, fps: float = 50.0) -> Dict[str, np.ndarray]:
    """The arrays of a BeyondMimic npz for ``motion`` resampled to ``fps``.

    Resampling as whole_body_tracking's ``csv_to_npz.py``: ``times = arange(0, (N-1)/fps_in,
    1/fps_out)``, lerp for root position and joints, slerp for the root quaternion (so 300 frames at
    30 fps become 499 at 50 fps, and the last input frame is not sampled). Velocities as the converter
    sets them in Isaac Sim and reads them back: root linear velocity and joint velocities by
    ``np.gradient`` along time (= ``torch.gradient``), root angular velocity by the central quaternion
    difference; Isaac Lab applies the root velocity to the pelvis centre of mass and reports every
    body's ``body_lin_vel_w`` at its **centre of mass** (the official MJCF inertials,
    :data:`~motionlab.robots.g1.G1_BODY_COMS`) and ``body_ang_vel_w`` from the joint velocities; both
    follow here from :func:`~motionlab.robots.g1_fk.g1_body_velocities`. Body poses come from
    motionlab's G1 FK (Isaac Sim's body frames are the MJCF body frames). Float arrays are float32,
    ``fps`` is ``[fps]``.
    """
    from motionlab.robots.g1_fk import g1_body_velocities, g1_fk

    m = _unitree(motion, motion.meta.get("source")).resample(_check_fps(fps, place="argument fps"))
    dt = 1.0 / m.fps
    body_pos, body_quat = g1_fk(m.root_pos, m.root_quat, m.joint_pos, order="isaac")
    joint_vel = _gradient(m.joint_pos, dt)
    lin_vel, ang_vel = g1_body_velocities(m.root_pos, m.root_quat, m.joint_pos, _gradient(m.root_pos, dt),
                                          _so3_derivative(m.root_quat, dt), joint_vel, order="isaac")
    out_fps = int(round(m.fps)) if float(m.fps).is_integer() else m.fps
    arrays = {
        "fps": np.array([out_fps]),
        "joint_pos": unitree_to_isaac(m.joint_pos),
        "joint_vel": unitree_to_isaac(joint_vel),
        "body_pos_w": body_pos,
        "body_quat_w": body_quat,
        "body_lin_vel_w": lin_vel,
        "body_ang_vel_w": ang_vel,
    }
    arrays = {k: (v.astype(np.float32) if k != "fps" else v) for k, v in arrays.items()}
    arrays["joint_names"] = np.array(ISAAC_JOINT_NAMES)
    arrays["body_names"] = np.array(ISAAC_BODY_NAMES)
    return arrays


def write_beyondmimic_npz(path: PathLike, motion: RobotMotion, fps: float = 50.0) -> None:
    """Write a BeyondMimic / whole_body_tracking npz (see :func:`beyondmimic_arrays`)."""
    save_npz(path, beyondmimic_arrays(motion, fps))


def _read_robot_npz(path: PathLike, data: Dict[str, np.ndarray], fmt: str) -> RobotMotion:
    joint_pos = _array(data, "joint_pos", (29,), path, MAX_ANGLE_RAD)
    body_pos = _array(data, "body_pos_w", (None, 3), path, MAX_POSITION_M)
    body_quat = _array(data, "body_quat_w", (None, 4), path)
    _same_frames(path, {"joint_pos": joint_pos, "body_pos_w": body_pos, "body_quat_w": body_quat})
    if body_pos.shape[1] != body_quat.shape[1] or body_pos.shape[1] == 0:
        raise MotionLabError(f"body_pos_w has {body_pos.shape[1]} bodies, body_quat_w {body_quat.shape[1]}",
                             file=path, place="key 'body_quat_w'")
    fps = _check_fps(data["fps"], file=path, place="key 'fps'") if "fps" in data else 50.0
    body_names = _names(data, "body_names", path)
    root = 0
    if body_names is not None:
        if len(body_names) != body_pos.shape[1]:
            raise MotionLabError(f"{len(body_names)} body names for {body_pos.shape[1]} bodies", file=path,
                                 place="key 'body_names'")
        if "pelvis" not in body_names:
            raise MotionLabError("no 'pelvis' body (the root)", file=path, place="key 'body_names'")
        root = body_names.index("pelvis")
    root_quat = _check_quats(body_quat[:, root], path, lambda t: f"key 'body_quat_w' frame {t}")
    joints = _to_unitree_columns(joint_pos, _names(data, "joint_names", path), path)
    return RobotMotion(
        fps=fps,
        root_pos=body_pos[:, root],
        root_quat=root_quat,
        joint_pos=joints,
        joint_names=G1_JOINT_NAMES,
        meta={"source": os.fspath(path), "format": fmt, "fps_in_file": "fps" in data},
    )


@_reader("BeyondMimic npz")
def read_beyondmimic_npz(path: PathLike) -> RobotMotion:
    """Read a BeyondMimic npz: root = ``pelvis`` body (index 0 unless ``body_names`` says otherwise),
    joints from ``joint_pos`` (Isaac order unless ``joint_names`` is present). Velocities are not
    read (they follow from the poses). A missing ``fps`` means 50 (the tracker's 0.02 s step)."""
    return _read_robot_npz(path, load_npz(path), "beyondmimic")


# -- seulzx npz ----------------------------------------------------------------------------------------
@_reader("seulzx npz")
def read_seulzx_npz(path: PathLike) -> RobotMotion:
    """Read a seulzx paired npz: the robot as :func:`read_beyondmimic_npz`, plus
    ``extras["smplx_pose_body"]`` (T, 21, 6) in **motionlab 6D** (converted from the file's row-by-row
    layout) and, when present, ``robot_keypoints_trans`` (T, 5, 3) / ``robot_keypoints_rot`` (T, 5, 6)
    verbatim."""
    data = load_npz(path)
    motion = _read_robot_npz(path, data, "seulzx")
    extras = {"smplx_pose_body": rot6d_rows_to_motionlab(_array(data, "smplx_pose_body", (21, 6), path))}
    for key, tail in (("robot_keypoints_trans", (5, 3)), ("robot_keypoints_rot", (5, 6))):
        if key in data:
            extras[key] = _array(data, key, tail, path)
    _same_frames(path, {"joint_pos": motion.joint_pos, **extras})
    motion.extras = extras
    return motion


def write_seulzx_npz(path: PathLike, motion: RobotMotion, fps: float = 50.0) -> None:
    """Write a seulzx npz: BeyondMimic arrays at ``fps`` plus ``smplx_pose_body`` (required in
    ``motion.extras``, motionlab 6D, written row by row) and the robot keypoints when present.
    Extras are resampled with the motion (linear interpolation of the 6D values)."""
    if "smplx_pose_body" not in motion.extras:
        raise MotionLabError("the motion has no extras['smplx_pose_body'] (T, 21, 6)", file=path,
                             place="smplx_pose_body")
    arrays = beyondmimic_arrays(motion, fps)
    m = motion.resample(_check_fps(fps))
    pose = np.asarray(m.extras["smplx_pose_body"], dtype=np.float64)
    if pose.shape[1:] != (21, 6):
        raise MotionLabError(f"expected (T, 21, 6), got {pose.shape}", file=path, place="smplx_pose_body")
    arrays["smplx_pose_body"] = rot6d_motionlab_to_rows(pose).astype(np.float32)
    for key in ("robot_keypoints_trans", "robot_keypoints_rot"):
        if key in m.extras:
            arrays[key] = np.asarray(m.extras[key], dtype=np.float32)
    save_npz(path, arrays)


# -- GMR pkl -------------------------------------------------------------------------------------------
_SAFE_GLOBALS = {
    ("numpy", "ndarray"),
    ("numpy", "dtype"),
    ("numpy.core.multiarray", "_reconstruct"),
    ("numpy.core.multiarray", "scalar"),
    ("numpy._core.multiarray", "_reconstruct"),
    ("numpy._core.multiarray", "scalar"),
    ("numpy.core.numeric", "_frombuffer"),
    ("numpy._core.numeric", "_frombuffer"),
    ("_codecs", "encode"),
    ("collections", "OrderedDict"),
}


class _Refused(Exception):
    """A pickle asked for a class outside the allowed set."""


class _SafeUnpickler(pickle.Unpickler):
    """An unpickler that builds only numpy arrays/dtypes/scalars and builtin containers."""

    def find_class(self, module: str, name: str):
        if (module, name) in _SAFE_GLOBALS or (module == "numpy.dtypes" and name.endswith("DType")):
            return super().find_class(module, name)
        raise _Refused(f"{module}.{name}")

    def persistent_load(self, pid):
        raise _Refused("a persistent object reference")


def _unpickle(raw: bytes, path: PathLike) -> Any:
    """The object in ``raw`` (a pickle) through :class:`_SafeUnpickler`; one-line errors."""
    if not raw:
        raise MotionLabError("empty file", file=path, place="pickle")
    if raw.startswith(b"PK"):
        raise MotionLabError("a zip archive (an npz?), not a pickle", file=path, place="pickle")
    if raw[:1] != b"\x80":
        raise MotionLabError("not a pickle file (no pickle protocol header)", file=path, place="pickle")
    try:
        return _SafeUnpickler(io.BytesIO(raw)).load()
    except _Refused as e:
        raise MotionLabError(f"refusing to load {e} (only numpy arrays and plain containers are allowed)",
                             file=path, place="pickle") from None
    except Exception:  # UnpicklingError, EOFError, ValueError, ... from damaged bytes
        raise MotionLabError("damaged or truncated pickle data", file=path, place="pickle") from None


@_reader("GMR pkl")
def read_gmr_pkl(path: PathLike) -> RobotMotion:
    """Read a GMR pickle (``fps``, ``root_pos``, ``root_rot`` x y z w, ``dof_pos`` Unitree order).

    Unpickling can execute code: this reader uses a restricted unpickler that only builds numpy
    arrays, dtypes and scalars and builtin containers, and refuses anything else. Still, read
    pickles only from sources you trust.
    """
    raw = read_bytes(path)
    data = _unpickle(raw, path)
    if not isinstance(data, dict):
        raise MotionLabError(f"expected a dict, got {type(data).__name__}", file=path, place="pickle")
    if "fps" not in data:
        raise MotionLabError("missing key", file=path, place="key 'fps'")
    fps = _check_fps(data["fps"], file=path, place="key 'fps'")
    arrays = {
        "root_pos": _array(data, "root_pos", (3,), path, MAX_POSITION_M),
        "root_rot": _array(data, "root_rot", (4,), path),
        "dof_pos": _array(data, "dof_pos", (29,), path, MAX_ANGLE_RAD),
    }
    _same_frames(path, arrays)
    arrays["root_rot"] = _check_quats(arrays["root_rot"], path, lambda t: f"key 'root_rot' frame {t}")
    return RobotMotion(
        fps=fps,
        root_pos=arrays["root_pos"],
        root_quat=quat_xyzw_to_wxyz(arrays["root_rot"]),
        joint_pos=arrays["dof_pos"],
        joint_names=G1_JOINT_NAMES,
        meta={"source": os.fspath(path), "format": "gmr-pkl"},
    )


def write_gmr_pkl(path: PathLike, motion: RobotMotion) -> None:
    """Write a GMR pickle at the motion's own frame rate (float64 arrays, root quaternion x y z w)."""
    m = _unitree(motion, path)
    payload = {
        "fps": float(m.fps),
        "root_pos": np.ascontiguousarray(m.root_pos),
        "root_rot": np.ascontiguousarray(quat_wxyz_to_xyzw(m.root_quat)),
        "dof_pos": np.ascontiguousarray(m.joint_pos),
        "local_body_pos": None,
        "link_body_list": None,
    }
    atomic_write_bytes(path, pickle.dumps(payload, protocol=4))


# -- dispatch ------------------------------------------------------------------------------------------
def detect_g1_format(path: PathLike) -> str:
    """The G1 format of ``path`` from its extension (and, for ``.npz``, its keys)."""
    suffix = Path(path).suffix.lower()
    if suffix == ".csv":
        return "unitree-csv"
    if suffix == ".pkl":
        return "gmr-pkl"
    if suffix == ".npz":
        from motionlab.io.formats import npz_keys

        return "seulzx" if "smplx_pose_body" in npz_keys(path) else "beyondmimic"
    raise MotionLabError(f"cannot tell the G1 format from the extension {suffix or '(none)'!r}; valid formats: "
                         f"{', '.join(G1_FORMATS)} (.csv, .npz, .pkl)", file=path)


_READERS = {"unitree-csv": read_unitree_csv, "beyondmimic": read_beyondmimic_npz,
            "seulzx": read_seulzx_npz, "gmr-pkl": read_gmr_pkl}
_WRITERS = {"unitree-csv": write_unitree_csv, "beyondmimic": write_beyondmimic_npz,
            "seulzx": write_seulzx_npz, "gmr-pkl": write_gmr_pkl}


def read_g1(path: PathLike, format: Optional[str] = None, **kwargs) -> RobotMotion:
    """Read any G1 format (detected by :func:`detect_g1_format` unless ``format`` is given)."""
    fmt = format or detect_g1_format(path)
    if fmt not in _READERS:
        raise choices_error("G1 format", fmt, G1_FORMATS, file=path)
    return _READERS[fmt](path, **kwargs)


def write_g1(path: PathLike, motion: RobotMotion, format: Optional[str] = None, **kwargs) -> None:
    """Write ``motion`` in ``format`` (default from the extension: ``.csv`` Unitree CSV, ``.pkl`` GMR,
    ``.npz`` seulzx when the motion carries ``smplx_pose_body``, else BeyondMimic)."""
    fmt = format
    if fmt is None:
        suffix = Path(path).suffix.lower()
        fmt = {".csv": "unitree-csv", ".pkl": "gmr-pkl"}.get(suffix)
        if suffix == ".npz":
            fmt = "seulzx" if "smplx_pose_body" in motion.extras else "beyondmimic"
        if fmt is None:
            raise MotionLabError(f"cannot tell the G1 format from the extension {suffix or '(none)'!r}; "
                                 f"valid formats: {', '.join(G1_FORMATS)} (.csv, .npz, .pkl)", file=path)
    if fmt not in _WRITERS:
        raise choices_error("G1 format", fmt, G1_FORMATS, file=path)
    _WRITERS[fmt](path, motion, **kwargs)
