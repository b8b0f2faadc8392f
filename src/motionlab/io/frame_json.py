"""The character-motion predictor's frame JSON <-> arrays (and npz).

JSON layout::

    {"FPS": 60,
     "BoneNames": ["pelvis", ...],                  # optional
     "Frames": [{"RootYaw": yaw,                    # radians
                 "RootVelocityXY": [vx, vy],        # m/s in the ground plane
                 "BoneRotations": [[6 floats] x N], # parent-relative rotation of each bone
                 "FootEvidence": {"L": {"soft_contact_score": s}, "R": {"soft_contact_score": s}}},
                ...]}

6D convention: each ``BoneRotations`` entry is the **first two columns** of the bone's rotation
matrix, column by column: ``(R00, R10, R20, R01, R11, R21)`` (Zhou et al. 2019, roma, motionlab's
:func:`~motionlab.core.rotations.matrix_to_rot6d`). Reading a rows-convention file as columns gives
the inverse rotation; a test pins the convention on a hand-made rotation.

Arrays (``read_frame_json`` and the npz):

* ``fps`` float; ``rot6d`` ``(T, N, 6)`` as stored (not re-orthonormalised);
* ``angvel`` ``(T, N, 3)`` rad/s, each bone's angular velocity relative to its parent, expressed in
  the bone's own (local) frame: ``log(R_t^T R_{t+1}) * fps`` (forward difference, axis-angle log
  of the Gram-Schmidt-orthonormalised rotations); the last frame repeats the one before it, and a
  one-frame clip has zeros. It is derived, so the JSON does not store it;
* ``root_yaw`` ``(T,)`` rad; ``root_vel`` ``(T, 2)`` m/s; ``soft_contacts`` ``(T, 2)`` columns (L, R);
* ``bone_names`` ``(N,)`` strings when given.
"""

from __future__ import annotations

import json
import math
import os
from typing import Any, Dict, List, Optional, Sequence, Union

import numpy as np

from motionlab.core.files import atomic_write_text, check_frame_rate, load_json, load_npz, save_npz
from motionlab.core.rotations import matrix_to_axis_angle, rot6d_to_matrix
from motionlab.errors import MotionLabError

PathLike = Union[str, os.PathLike]

FEET = ("L", "R")


def angular_velocity(rot6d: np.ndarray, fps: float) -> np.ndarray:
    """``(T, N, 6)`` column-6D rotations -> ``(T, N, 3)`` local angular velocity in rad/s.

    ``log(R_t^T R_{t+1}) * fps`` for ``t < T-1``; the last frame repeats frame ``T-2``.
    """
    rot6d = _rescaled(np.asarray(rot6d, dtype=np.float64))
    T = rot6d.shape[0]
    out = np.zeros(rot6d.shape[:-1] + (3,))
    if T < 2:
        return out
    R = rot6d_to_matrix(rot6d)
    rel = np.swapaxes(R[:-1], -1, -2) @ R[1:]
    out[:-1] = matrix_to_axis_angle(rel) * fps
    out[-1] = out[-2]
    return out


def _rescaled(rot6d: np.ndarray) -> np.ndarray:
    """Divide each 6D vector by its largest magnitude (same rotation; no overflow in norms)."""
    scale = np.abs(rot6d).max(axis=-1, keepdims=True)
    return rot6d / np.where(scale > 0, scale, 1.0)


def _number(v: Any, path, place: str) -> float:
    if isinstance(v, bool) or not isinstance(v, (int, float)):
        raise MotionLabError(f"expected a number, got {type(v).__name__}", file=path, place=place)
    x = float(v)
    if not math.isfinite(x):
        raise MotionLabError("non-finite number", file=path, place=place)
    return x


def _numbers(v: Any, n: int, path, place: str) -> List[float]:
    if not isinstance(v, list) or len(v) != n:
        got = f"{len(v)} items" if isinstance(v, list) else type(v).__name__
        raise MotionLabError(f"expected a list of {n} numbers, got {got}", file=path, place=place)
    return [_number(x, path, f"{place}[{i}]") for i, x in enumerate(v)]


def _check_rot6d(rot6d: np.ndarray, path, where) -> None:
    """Both 6D columns must be non-zero and not parallel (else no rotation is defined)."""
    r = _rescaled(rot6d)
    a, b = r[..., :3], r[..., 3:]
    na, nb = np.linalg.norm(a, axis=-1), np.linalg.norm(b, axis=-1)
    cross = np.linalg.norm(np.cross(a, b), axis=-1)
    bad = (na < 1e-8) | (nb < 1e-8) | (cross < 1e-6 * np.maximum(na * nb, 1e-30))
    if bad.any():
        t, j = (int(i) for i in np.argwhere(bad)[0])
        raise MotionLabError("degenerate 6D rotation (a zero or parallel column)", file=path, place=where(t, j))


def read_frame_json(path: PathLike) -> Dict[str, np.ndarray]:
    """Parse a frame JSON into arrays (see the module docstring for keys, shapes and units)."""
    doc = load_json(path)
    if not isinstance(doc, dict):
        raise MotionLabError(f"top level must be an object, got {type(doc).__name__}", file=path, place="document")
    if "FPS" not in doc:
        raise MotionLabError("missing key 'FPS'", file=path, place="FPS")
    fps = check_frame_rate(doc["FPS"], file=path, place="FPS")
    frames = doc.get("Frames")
    if not isinstance(frames, list):
        raise MotionLabError("missing or non-list 'Frames'", file=path, place="Frames")
    if not frames:
        raise MotionLabError("no frames", file=path, place="Frames")
    T = len(frames)
    n_bones: Optional[int] = None
    yaw, vel, cont = np.zeros(T), np.zeros((T, 2)), np.zeros((T, 2))
    rots: List[List[List[float]]] = []
    for t, fr in enumerate(frames):
        p = f"Frames[{t}]"
        if not isinstance(fr, dict):
            raise MotionLabError(f"frame must be an object, got {type(fr).__name__}", file=path, place=p)
        for key in ("RootYaw", "RootVelocityXY", "BoneRotations", "FootEvidence"):
            if key not in fr:
                raise MotionLabError(f"missing key {key!r}", file=path, place=f"{p}.{key}")
        yaw[t] = _number(fr["RootYaw"], path, f"{p}.RootYaw")
        vel[t] = _numbers(fr["RootVelocityXY"], 2, path, f"{p}.RootVelocityXY")
        bones = fr["BoneRotations"]
        if not isinstance(bones, list) or not bones:
            raise MotionLabError("BoneRotations must be a non-empty list", file=path, place=f"{p}.BoneRotations")
        if n_bones is None:
            n_bones = len(bones)
        elif len(bones) != n_bones:
            raise MotionLabError(f"{len(bones)} bones, frame 0 has {n_bones}", file=path, place=f"{p}.BoneRotations")
        rots.append([_numbers(b, 6, path, f"{p}.BoneRotations[{j}]") for j, b in enumerate(bones)])
        feet = fr["FootEvidence"]
        if not isinstance(feet, dict):
            raise MotionLabError("FootEvidence must be an object", file=path, place=f"{p}.FootEvidence")
        for k, side in enumerate(FEET):
            place = f"{p}.FootEvidence.{side}.soft_contact_score"
            foot = feet.get(side)
            if not isinstance(foot, dict) or "soft_contact_score" not in foot:
                raise MotionLabError("missing soft_contact_score", file=path, place=place)
            cont[t, k] = _number(foot["soft_contact_score"], path, place)
    rot6d = np.array(rots, dtype=np.float64)
    _check_rot6d(rot6d, path, lambda t, j: f"Frames[{t}].BoneRotations[{j}]")
    out = {"fps": np.array(fps), "rot6d": rot6d, "angvel": angular_velocity(rot6d, fps), "root_yaw": yaw,
           "root_vel": vel, "soft_contacts": cont}
    if "BoneNames" in doc:
        names = doc["BoneNames"]
        if not isinstance(names, list) or len(names) != n_bones or not all(isinstance(n, str) for n in names):
            raise MotionLabError(f"BoneNames must be a list of {n_bones} strings", file=path, place="BoneNames")
        out["bone_names"] = np.array(names, dtype=str)
    return out


def _check_arrays(arrays: Dict[str, Any], path) -> Dict[str, np.ndarray]:
    """Validate arrays for writing / from an npz; returns float64 copies (and bone_names)."""
    for key in ("fps", "rot6d", "root_yaw", "root_vel", "soft_contacts"):
        if key not in arrays:
            raise MotionLabError(f"missing key {key!r}", file=path, place=f"key {key!r}")
    out: Dict[str, np.ndarray] = {}
    for key in ("fps", "rot6d", "root_yaw", "root_vel", "soft_contacts", "angvel"):
        if key not in arrays:
            continue
        a = np.asarray(arrays[key])
        if a.dtype.kind not in "biuf":
            raise MotionLabError(f"expected numbers, got dtype {a.dtype}", file=path, place=f"key {key!r}")
        a = a.astype(np.float64)
        if not np.isfinite(a).all():
            bad = np.argwhere(~np.isfinite(a.reshape(a.shape[0], -1) if a.ndim else a.reshape(1, 1)))[0][0]
            raise MotionLabError("non-finite values", file=path, place=f"key {key!r}, frame {int(bad)}")
        out[key] = a
    out["fps"] = np.array(check_frame_rate(out["fps"], file=path, place="key 'fps'"))
    r = out["rot6d"]
    if r.ndim != 3 or r.shape[2] != 6 or r.shape[0] == 0 or r.shape[1] == 0:
        raise MotionLabError(f"rot6d must be (T, N, 6) with T, N > 0, got {r.shape}", file=path, place="key 'rot6d'")
    T, N = r.shape[:2]
    want = {"root_yaw": (T,), "root_vel": (T, 2), "soft_contacts": (T, 2), "angvel": (T, N, 3)}
    for key, shape in want.items():
        if key in out and out[key].shape != shape:
            raise MotionLabError(f"must be {shape} to match rot6d {r.shape}, got {out[key].shape}", file=path,
                                 place=f"key {key!r}")
    _check_rot6d(r, path, lambda t, j: f"key 'rot6d', frame {t}, bone {j}")
    if "bone_names" in arrays and arrays["bone_names"] is not None:
        names = np.asarray(arrays["bone_names"])
        if names.dtype.kind not in "US" or names.shape != (N,):
            raise MotionLabError(f"bone_names must be {N} strings, got dtype {names.dtype} shape {names.shape}",
                                 file=path, place="key 'bone_names'")
        out["bone_names"] = names.astype(str)
    return out


def write_frame_json(path: PathLike, arrays: Dict[str, Any]) -> None:
    """Write arrays (``fps``, ``rot6d``, ``root_yaw``, ``root_vel``, ``soft_contacts``, optional
    ``bone_names``) as a frame JSON, atomically. ``angvel`` is derived data and not written.
    Numbers are written with full float64 precision (``repr``), so a round trip is exact."""
    a = _check_arrays(arrays, path)
    frames = []
    for t in range(a["rot6d"].shape[0]):
        frames.append({
            "RootYaw": float(a["root_yaw"][t]),
            "RootVelocityXY": [float(x) for x in a["root_vel"][t]],
            "BoneRotations": [[float(x) for x in b] for b in a["rot6d"][t]],
            "FootEvidence": {s: {"soft_contact_score": float(a["soft_contacts"][t, k])} for k, s in enumerate(FEET)},
        })
    fps = float(a["fps"])
    doc: Dict[str, Any] = {"FPS": int(fps) if fps.is_integer() else fps}
    if "bone_names" in a:
        doc["BoneNames"] = [str(n) for n in a["bone_names"]]
    doc["Frames"] = frames
    atomic_write_text(path, json.dumps(doc, separators=(",", ":"), allow_nan=False))


def read_frame_npz(path: PathLike) -> Dict[str, np.ndarray]:
    """Read (and validate) a frame npz written by :func:`json_to_npz`."""
    return _check_arrays(load_npz(path), path)


def json_to_npz(json_path: PathLike, npz_path: PathLike,
                bone_names: Optional[Sequence[str]] = None) -> Dict[str, np.ndarray]:
    """Convert a frame JSON to an npz (float64; keys as :func:`read_frame_json`, plus ``rot6d_convention``).

    ``bone_names`` (N names) override the file's ``BoneNames``. Returns the arrays written.
    """
    arrays = read_frame_json(json_path)
    if bone_names is not None:
        names = list(bone_names)
        if len(names) != arrays["rot6d"].shape[1]:
            raise MotionLabError(f"{len(names)} bone names for {arrays['rot6d'].shape[1]} bones", file=json_path,
                                 place="argument bone_names")
        arrays["bone_names"] = np.array(names, dtype=str)
    out = dict(arrays)
    out["rot6d_convention"] = np.array("columns")
    out["angvel_convention"] = np.array("local, log(R_t^T R_t+1) * fps, rad/s")
    save_npz(npz_path, out)
    return arrays


def npz_to_json(npz_path: PathLike, json_path: PathLike) -> None:
    """Convert a frame npz back to the frame JSON (the JSON round trip is exact)."""
    arrays = load_npz(npz_path)
    conv = arrays.get("rot6d_convention")
    if conv is not None and str(conv) != "columns":
        raise MotionLabError(f"rot6d_convention {str(conv)!r} is not 'columns'", file=npz_path,
                             place="key 'rot6d_convention'")
    write_frame_json(json_path, _check_arrays(arrays, npz_path))
