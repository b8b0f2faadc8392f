"""SMPL-X / BEAT2 npz files <-> :class:`~motionlab.core.motion.Motion` on the SMPL-22 body.

File layout (BEAT2 ``smplxflame_30``, AMASS): ``poses`` ``(T, 165)`` axis-angle (radians) of the
55 SMPL-X joints (root, 21 body joints, jaw, two eyes, 15 + 15 finger joints; SMPL+H ``(T, 156)``,
SMPL ``(T, 72)`` and body-only ``(T, 66)`` are read too: the first 22 joints are always the body),
``trans`` ``(T, 3)`` metres, ``betas`` ``(<=300,)``, ``expressions`` ``(T, 100)``,
``mocap_frame_rate`` (AMASS: ``mocap_framerate``), ``model``, ``gender``. No model files are needed:
joint positions come from motionlab's canonical SMPL-22 skeleton (``smpl22_skeleton()``).

Axis conventions and the conversion
-----------------------------------
* SMPL's rest pose (the model's own frame) stands up along +Y, faces +Z, its left on +X.
* The data's world frame is Y up for BEAT2/SMPL-X (``up="y"``) and Z up for AMASS (``up="z"``).
* motionlab's world is Z up; its canonical SMPL-22 rest pose faces +X with its left on +Y.

Let ``W`` map the data world into motionlab's world: ``M = [[1,0,0],[0,0,-1],[0,1,0]]``
(Blender's Y-up -> Z-up, ``(x, y, z) -> (x, -z, y)``) for ``up="y"``, the identity for ``up="z"``.
Let ``A = C M`` map SMPL's rest frame onto the canonical rest frame: after ``M`` the SMPL rest pose
faces -Y with its left on +X, and ``C`` (+90 deg about Z) turns it to face +X with its left on +Y.
``A (x, y, z) = (z, x, y)``: forward +Z -> +X, left +X -> +Y, up +Y -> +Z; canonical offsets
correspond to SMPL-frame offsets ``o_smpl = A^T o_ml``.

Requiring motionlab's FK to give ``W`` times SMPL's FK (world rotations ``G'_j = W G_j A^T``) yields

* body joints: ``R'_j = A R_j A^T`` (a fixed change of basis);
* root: ``R'_0 = W R_0 A^T`` (for ``up="y"``: ``M R_0 M^T C^T``);
* root position: ``W (trans + pelvis_offset)``.

SMPL poses the pelvis at ``trans + J_0(betas)`` (``J_0`` the shaped template's pelvis, which only the
licence-gated model file knows), so ``pelvis_offset`` (data frame, metres) defaults to zero: the root
trajectory is then ``W trans``, off from the true pelvis by a constant per subject. It is kept in
``meta["smplx"]["pelvis_offset"]`` and subtracted again on write.

Round trip
----------
``read_smplx_npz`` keeps the file's ``poses``, ``trans`` and ``expressions`` (and any other per-frame
array) in ``motion.extras`` (``smplx_<key>``), and every other array (``betas``, ``gender``, ``model``,
frame rate ...) with its dtype in ``motion.meta["smplx"]["arrays"]``. ``write_smplx_npz`` writes the
stored arrays back verbatim when the body motion is unchanged (so the file comes back exactly);
otherwise it writes the body (joints 0-21) from the Motion and keeps the rest (hands, face,
expressions) from the extras, which :meth:`Motion.resample` interpolates linearly. A Motion from
anywhere else (any skeleton with the 22 SMPL names and motionlab's canonical rest orientation) is
written with zero hands/jaw/eyes, zero ``expressions (T, 100)``, zero ``betas (300,)``, gender
``neutral`` and model ``smplx2020``.
"""

from __future__ import annotations

import os
from typing import Any, Dict, List, Optional, Sequence, Union

import numpy as np

from motionlab.core.body import SMPL22_NAMES, smpl22_skeleton
from motionlab.core.files import check_frame_rate, load_npz, save_npz
from motionlab.core.motion import Motion
from motionlab.core.rotations import (
    axis_angle_to_matrix,
    matrix_to_axis_angle,
    matrix_to_quat,
    quat_geodesic_angle,
    quat_to_matrix,
    Y_UP_TO_Z_UP,
)
from motionlab.errors import MotionLabError, choices_error

PathLike = Union[str, os.PathLike]

_HAND = ["index1", "index2", "index3", "middle1", "middle2", "middle3", "pinky1", "pinky2", "pinky3",
         "ring1", "ring2", "ring3", "thumb1", "thumb2", "thumb3"]
#: The 55 SMPL-X joints in the order of ``poses`` (3 numbers each).
SMPLX_JOINT_NAMES: List[str] = (
    list(SMPL22_NAMES) + ["jaw", "left_eye_smplhf", "right_eye_smplhf"]
    + [f"left_{h}" for h in _HAND] + [f"right_{h}" for h in _HAND]
)

#: Y-up -> Z-up world map ``(x, y, z) -> (x, -z, y)``.
M_YUP_TO_ZUP = Y_UP_TO_Z_UP  # the one Y-up -> Z-up map (core.rotations)
#: +90 deg about Z: turns the mapped SMPL rest pose (facing -Y) to motionlab's (facing +X).
C_REST_TURN = np.array([[0.0, -1.0, 0.0], [1.0, 0.0, 0.0], [0.0, 0.0, 1.0]])
#: SMPL rest frame -> canonical rest frame, ``C M``: ``(x, y, z) -> (z, x, y)``.
A_SMPL_TO_CANONICAL = C_REST_TURN @ M_YUP_TO_ZUP

_POSE_WIDTHS = {165: "SMPL-X", 156: "SMPL+H", 72: "SMPL", 66: "SMPL body"}
_NON_FRAME_KEYS = {"betas", "mocap_frame_rate", "mocap_framerate", "model", "gender"}
_FPS_KEYS = ("mocap_frame_rate", "mocap_framerate")
_MAX_META_SIZE = 4096


def world_map(up: str) -> np.ndarray:
    """``W``: the data world -> motionlab world (``up="y"``: Blender's map, ``up="z"``: identity)."""
    if up not in ("y", "z"):
        raise choices_error("up axis", up, ("y", "z"))
    return M_YUP_TO_ZUP.copy() if up == "y" else np.eye(3)


def smplx_to_local_rot(body_aa: np.ndarray, up: str = "y") -> np.ndarray:
    """SMPL axis-angles ``(..., 22, 3)`` (root first) -> motionlab local rotations ``(..., 22, 3, 3)``."""
    W, A = world_map(up), A_SMPL_TO_CANONICAL
    R = axis_angle_to_matrix(np.asarray(body_aa, dtype=np.float64))
    out = A @ R @ A.T
    out[..., 0, :, :] = W @ R[..., 0, :, :] @ A.T
    return out


def local_rot_to_smplx(local_rot: np.ndarray, up: str = "y") -> np.ndarray:
    """motionlab local rotations ``(..., 22, 3, 3)`` -> SMPL axis-angles ``(..., 22, 3)`` (inverse)."""
    W, A = world_map(up), A_SMPL_TO_CANONICAL
    R = np.asarray(local_rot, dtype=np.float64)
    out = A.T @ R @ A
    out[..., 0, :, :] = W.T @ R[..., 0, :, :] @ A
    return matrix_to_axis_angle(out)


# --- reading ---------------------------------------------------------------------------------------


def _numeric(a: np.ndarray, key: str, path) -> np.ndarray:
    if a.dtype.kind not in "biuf":
        raise MotionLabError(f"expected numbers, got dtype {a.dtype}", file=path, place=f"key {key!r}")
    return a


def _check_finite(a: np.ndarray, key: str, path, per_frame: bool = True) -> None:
    flat = a.reshape(a.shape[0], -1) if (per_frame and a.ndim) else a.reshape(1, -1)
    bad = ~np.isfinite(flat.astype(np.float64)).all(axis=1)
    if bad.any():
        where = f", frame {int(np.argmax(bad))}" if per_frame else ""
        raise MotionLabError("non-finite values (NaN or inf)", file=path, place=f"key {key!r}{where}")


def _to_meta(a: np.ndarray) -> Optional[Dict[str, Any]]:
    """A JSON-friendly exact record of a small array, or None when it cannot be kept."""
    if a.size > _MAX_META_SIZE:
        return None
    if a.dtype.kind in "biuf":
        value: Any = a.tolist()
    elif a.dtype.kind == "U":
        value = a.tolist()
    elif a.dtype.kind == "S":
        value = np.vectorize(lambda b: b.decode("latin-1"), otypes=[object])(a).tolist() if a.size else []
    else:
        return None
    return {"dtype": a.dtype.str, "shape": list(a.shape), "value": value}


def _from_meta(rec: Dict[str, Any]) -> np.ndarray:
    dtype = np.dtype(rec["dtype"])
    value = rec["value"]
    if dtype.kind == "S":
        value = np.vectorize(lambda s: s.encode("latin-1"), otypes=[object])(np.array(value, dtype=object)) \
            if np.size(value) else value
    return np.array(value, dtype=dtype).reshape(rec["shape"])


def _scalar_str(a: np.ndarray) -> Optional[str]:
    if a.size != 1 or a.dtype.kind not in "US":
        return None
    v = a.reshape(-1)[0]
    return v.decode("latin-1") if isinstance(v, bytes) else str(v)


def read_smplx_npz(
    path: PathLike,
    up: Optional[str] = None,
    fps: Optional[float] = None,
    pelvis_offset: Optional[Sequence[float]] = None,
) -> Motion:
    """Read an SMPL-X / BEAT2 (or AMASS) npz into a Motion on motionlab's SMPL-22 body.

    Args:
        path: the npz file.
        up: the data's up axis, ``"y"`` (BEAT2, SMPL-X exports) or ``"z"`` (AMASS). ``None`` decides
            from the frame-rate key: AMASS writes ``mocap_framerate`` (Z up), BEAT2 ``mocap_frame_rate``
            (Y up); the choice is recorded in ``meta["up_axis"]``.
        fps: frame rate to use instead of the file's ``mocap_frame_rate`` (needed when it has none).
        pelvis_offset: ``(3,)`` metres in the data frame added to ``trans`` (SMPL's ``J_0``); default 0.

    Returns:
        A Motion (Z up, metres, facing +X at rest) whose ``extras`` hold ``smplx_poses``,
        ``smplx_trans``, ``smplx_expressions`` ... and whose ``meta["smplx"]`` holds everything
        needed to write the file back exactly (see the module docstring).
    """
    arrays = load_npz(path)
    if up is None:
        up = "z" if ("mocap_framerate" in arrays and "mocap_frame_rate" not in arrays) else "y"
    W = world_map(up)
    for key in ("poses", "trans"):
        if key not in arrays:
            raise MotionLabError(f"missing key {key!r} (keys: {sorted(arrays)})", file=path, place=f"key {key!r}")
    poses = _numeric(arrays["poses"], "poses", path)
    if poses.ndim != 2 or poses.shape[1] not in _POSE_WIDTHS:
        widths = ", ".join(f"{w} ({n})" for w, n in _POSE_WIDTHS.items())
        raise MotionLabError(f"poses must be (T, width) with width one of {widths}; got shape {poses.shape}",
                             file=path, place="key 'poses'")
    T = poses.shape[0]
    if T == 0:
        raise MotionLabError("no frames", file=path, place="key 'poses'")
    _check_finite(poses, "poses", path)
    trans = _numeric(arrays["trans"], "trans", path)
    if trans.shape != (T, 3):
        raise MotionLabError(f"trans must be ({T}, 3) to match poses, got {trans.shape}", file=path,
                             place="key 'trans'")
    _check_finite(trans, "trans", path)

    extras: Dict[str, np.ndarray] = {}
    stored: Dict[str, Dict[str, Any]] = {}
    dropped: List[str] = []
    for key, a in arrays.items():
        if key in ("poses", "trans"):
            extras[f"smplx_{key}"] = a
            continue
        if key == "expressions" or (key not in _NON_FRAME_KEYS and a.ndim >= 1 and a.shape[0] == T
                                    and a.dtype.kind in "biuf"):
            _numeric(a, key, path)
            if a.ndim < 1 or a.shape[0] != T:
                raise MotionLabError(f"must have {T} frames like poses, got shape {a.shape}", file=path,
                                     place=f"key {key!r}")
            _check_finite(a, key, path)
            extras[f"smplx_{key}"] = a
            continue
        if a.dtype.kind in "biuf":
            _check_finite(a, key, path, per_frame=False)
        rec = _to_meta(a)
        if rec is None:
            if key in _NON_FRAME_KEYS:
                raise MotionLabError(f"unexpected array of dtype {a.dtype} and shape {a.shape}", file=path,
                                     place=f"key {key!r}")
            dropped.append(key)
        else:
            stored[key] = rec
    if "betas" in arrays:
        b = _numeric(arrays["betas"], "betas", path)
        if not (b.ndim == 1 or (b.ndim == 2 and b.shape[0] == 1)):
            raise MotionLabError(f"betas must be (N,) or (1, N), got {b.shape}", file=path, place="key 'betas'")
    for key in ("model", "gender"):
        if key in arrays and _scalar_str(arrays[key]) is None:
            raise MotionLabError(f"expected one string, got dtype {arrays[key].dtype} shape {arrays[key].shape}",
                                 file=path, place=f"key {key!r}")

    file_fps = None
    for key in _FPS_KEYS:
        if key in arrays:
            a = arrays[key]
            file_fps = check_frame_rate(a, file=path, place=f"key {key!r}")
            break
    use_fps = check_frame_rate(fps, file=path, place="argument fps") if fps is not None else file_fps
    if use_fps is None:
        raise MotionLabError("no frame rate in the file: pass fps=", file=path, place="key 'mocap_frame_rate'")

    offset = np.zeros(3) if pelvis_offset is None else np.asarray(pelvis_offset, dtype=np.float64).reshape(-1)
    if offset.shape != (3,) or not np.isfinite(offset).all():
        raise MotionLabError(f"pelvis_offset must be 3 finite numbers, got {pelvis_offset!r}", file=path,
                             place="argument pelvis_offset")

    body = poses[:, :66].astype(np.float64).reshape(T, 22, 3)
    local = smplx_to_local_rot(body, up)
    root_pos = (trans.astype(np.float64) + offset) @ W.T
    meta = {
        "source": os.fspath(path),
        "format": "smplx",
        "up_axis": up.upper(),
        "units": "m",
        "smplx": {
            "keys": list(arrays),
            "arrays": stored,
            "dropped_keys": dropped,
            "pelvis_offset": offset.tolist(),
            "pose_width": int(poses.shape[1]),
        },
    }
    for key in ("gender", "model"):
        if key in arrays:
            meta[key] = _scalar_str(arrays[key])
    try:
        return Motion(use_fps, smpl22_skeleton(), root_pos, matrix_to_quat(local), extras=extras, meta=meta)
    except MotionLabError as e:
        raise MotionLabError(e.problem, file=path, place=e.place or "motion") from None


# --- writing ---------------------------------------------------------------------------------------


def _body_unchanged(motion: Motion, idx: List[int], up: str, offset: np.ndarray) -> bool:
    poses, trans = motion.extras.get("smplx_poses"), motion.extras.get("smplx_trans")
    T = motion.num_frames
    if poses is None or trans is None or poses.ndim != 2 or poses.shape[0] != T or poses.shape[1] < 66 \
            or trans.shape != (T, 3):
        return False
    q = matrix_to_quat(smplx_to_local_rot(poses[:, :66].astype(np.float64).reshape(T, 22, 3), up))
    if np.max(quat_geodesic_angle(q, motion.local_quat[:, idx])) > 1e-9:
        return False
    root = (trans.astype(np.float64) + offset) @ world_map(up).T
    return bool(np.allclose(root, motion.root_pos, rtol=0, atol=1e-9))


def write_smplx_npz(
    path: PathLike,
    motion: Motion,
    up: Optional[str] = None,
    pelvis_offset: Optional[Sequence[float]] = None,
) -> None:
    """Write a Motion with the 22 SMPL joint names as an SMPL-X npz (atomically).

    Args:
        path: output file (the name is kept as given).
        motion: joints resolved by name; extra joints are ignored. Its rest pose must be the
            canonical one (upright, facing +X), as for every motionlab SMPL-22 Motion.
        up: the up axis to write (``"y"`` for BEAT2 tools); default: the one it was read with, else ``"y"``.
        pelvis_offset: subtracted from the root position (default: the one it was read with, else 0).
    """
    try:
        idx = motion.skeleton.indices(SMPL22_NAMES)
    except MotionLabError as e:
        raise MotionLabError(f"not an SMPL-22 motion: {e.problem}", file=path, place="motion skeleton") from None
    info = motion.meta.get("smplx") if isinstance(motion.meta.get("smplx"), dict) else {}
    if up is None:
        up = str(motion.meta.get("up_axis", "y")).lower() if motion.meta.get("format") == "smplx" else "y"
    W = world_map(up)
    if pelvis_offset is None:
        pelvis_offset = info.get("pelvis_offset", (0.0, 0.0, 0.0))
    offset = np.asarray(pelvis_offset, dtype=np.float64).reshape(3)
    T = motion.num_frames
    if T == 0:
        raise MotionLabError("no frames to write", file=path, place="motion")

    out: Dict[str, np.ndarray] = {}
    if _body_unchanged(motion, idx, up, offset):
        poses, trans = motion.extras["smplx_poses"], motion.extras["smplx_trans"]
    else:
        body = local_rot_to_smplx(quat_to_matrix(motion.local_quat[:, idx]), up).reshape(T, 66)
        old = motion.extras.get("smplx_poses")
        if old is not None and old.ndim == 2 and old.shape[0] == T and old.shape[1] in _POSE_WIDTHS:
            poses = old.copy()
            poses[:, :66] = body
        else:
            poses = np.zeros((T, 165))
            poses[:, :66] = body
        old_t = motion.extras.get("smplx_trans")
        trans = motion.root_pos @ W - offset
        if old_t is not None and old_t.dtype.kind == "f":
            trans = trans.astype(old_t.dtype)
    out["poses"], out["trans"] = poses, trans
    for key, v in motion.extras.items():
        if key.startswith("smplx_") and key[6:] not in out:
            out[key[6:]] = v
    for key, rec in info.get("arrays", {}).items():
        out[key] = _from_meta(rec)
    fps_key = next((k for k in _FPS_KEYS if k in out), "mocap_frame_rate")
    old_fps = out.get(fps_key)
    if old_fps is None or not np.isclose(float(np.asarray(old_fps).reshape(-1)[0]), motion.fps, rtol=0, atol=1e-9):
        out[fps_key] = np.array(motion.fps)
    if not info:  # a clip from elsewhere: the BEAT2 defaults
        out.setdefault("expressions", np.zeros((T, 100)))
        out.setdefault("betas", np.zeros(300))
        out.setdefault("gender", np.array("neutral"))
        out.setdefault("model", np.array("smplx2020"))
    order = [k for k in info.get("keys", []) if k in out] + [k for k in out if k not in info.get("keys", [])]
    save_npz(path, {k: out[k] for k in order})
