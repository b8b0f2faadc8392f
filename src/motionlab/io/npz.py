"""motionlab's own motion npz: everything another tool needs, readable with plain numpy.

Keys:

=====================  ==============  ======================================================
key                    shape           meaning
=====================  ==============  ======================================================
``format``             ()              ``"motionlab.motion"``
``format_version``     ()              1
``joint_names``        (J,)            unicode strings
``parents``            (J,)            parent index, -1 for the root
``offsets``            (J, 3)          rest offsets from the parent, metres
``end_site_joints``    (E,)            joints that have an End Site
``end_site_offsets``   (E, 3)          their End Site offsets, metres
``fps``                ()              frames per second
``root_pos``           (T, 3)          root position, metres, Z up
``local_quat``         (T, J, 4)       local rotations, quaternions **w first**
``positions``          (T, J, 3)       world joint positions by forward kinematics, metres, Z up
``joint_pos``          (T, J, 3)       optional per-frame local translations (NaN = use the offset)
``extra.<name>``       (T, ...)        per-frame extras (contacts, G1 joint angles ...)
``meta``               ()              JSON string of the metadata
``conventions``        ()              JSON string: up axis, units, quaternion order, 6D layout
=====================  ==============  ======================================================

Files are written atomically and read without pickles.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from motionlab.core.files import load_npz, save_npz
from motionlab.core.motion import Motion
from motionlab.core.skeleton import Skeleton
from motionlab.errors import MotionLabError

FORMAT = "motionlab.motion"
VERSION = 1
CONVENTIONS = {"up_axis": "Z", "units": "m", "quaternion": "wxyz", "rot6d": "first two columns",
               "handedness": "right"}
_REQUIRED = ("joint_names", "parents", "offsets", "fps", "root_pos", "local_quat")


def save_motion_npz(path, motion: Motion) -> None:
    """Write ``motion`` to ``path`` (see the module docstring for the keys)."""
    sk = motion.skeleton
    ends = sorted(sk.end_sites)
    arrays = {
        "format": np.array(FORMAT),
        "format_version": np.array(VERSION),
        "joint_names": np.array(sk.names, dtype=np.str_),
        "parents": sk.parents.astype(np.int64),
        "offsets": sk.offsets.astype(np.float64),
        "end_site_joints": np.array(ends, dtype=np.int64),
        "end_site_offsets": np.array([sk.end_sites[j] for j in ends], dtype=np.float64).reshape(-1, 3),
        "fps": np.array(float(motion.fps)),
        "root_pos": motion.root_pos.astype(np.float64),
        "local_quat": motion.local_quat.astype(np.float64),
        "positions": motion.positions().astype(np.float64),
        "meta": np.array(json.dumps(motion.meta, sort_keys=True, default=str)),
        "conventions": np.array(json.dumps(CONVENTIONS, sort_keys=True)),
    }
    if motion.joint_pos is not None:
        arrays["joint_pos"] = motion.joint_pos.astype(np.float64)
    for name, value in motion.extras.items():
        if np.asarray(value).dtype == object:
            raise MotionLabError(f"extra {name!r} has dtype object and cannot be stored", file=path)
        arrays[f"extra.{name}"] = np.asarray(value)
    save_npz(path, arrays)


def _get(z, key, path, ndim=None):
    if key not in z:
        raise MotionLabError(f"missing key (a motionlab npz needs {', '.join(_REQUIRED)})", file=path,
                             place=f"key {key!r}")
    a = z[key]
    if ndim is not None and a.ndim != ndim:
        raise MotionLabError(f"expected {ndim} dimensions, got shape {a.shape}", file=path, place=f"key {key!r}")
    return a


def _finite(a, key, path):
    bad = ~np.isfinite(a.reshape(len(a), -1)).all(axis=1) if a.ndim >= 1 and len(a) else np.zeros(0, bool)
    if bad.any():
        raise MotionLabError("non-finite values", file=path, place=f"key {key!r}, frame {int(np.argmax(bad))}")


def load_motion_npz(path) -> Motion:
    """Read a motionlab npz into a :class:`Motion`; one clear error for anything malformed."""
    path = Path(path)
    z = load_npz(path)
    fmt = str(z["format"]) if "format" in z else None
    if fmt is not None and fmt != FORMAT:
        raise MotionLabError(f"format is {fmt!r}, not {FORMAT!r}", file=path, place="key 'format'")
    try:
        names = [str(n) for n in _get(z, "joint_names", path, 1)]
        parents = _get(z, "parents", path, 1).astype(np.int64)
        offsets = _get(z, "offsets", path, 2).astype(np.float64)
        fps = float(np.asarray(_get(z, "fps", path)).reshape(-1)[0])
        root = _get(z, "root_pos", path, 2).astype(np.float64)
        quat = _get(z, "local_quat", path, 3).astype(np.float64)
    except (TypeError, ValueError, IndexError) as e:
        raise MotionLabError(f"malformed array ({e})", file=path) from None
    J, T = len(names), len(root)
    if T == 0:
        raise MotionLabError("the clip has no frames", file=path, place="key 'root_pos'")
    for key, a, shape in (("parents", parents, (J,)), ("offsets", offsets, (J, 3)), ("root_pos", root, (T, 3)),
                          ("local_quat", quat, (T, J, 4))):
        if a.shape != shape:
            raise MotionLabError(f"shape {a.shape}, expected {shape} for {J} joints and {T} frames", file=path,
                                 place=f"key {key!r}")
    _finite(root, "root_pos", path)
    _finite(quat, "local_quat", path)
    if not np.isfinite(offsets).all():
        raise MotionLabError("non-finite offsets", file=path, place="key 'offsets'")
    norms = np.linalg.norm(quat, axis=-1)
    if (norms < 1e-6).any():
        t = int(np.argwhere(norms < 1e-6)[0][0])
        raise MotionLabError("zero quaternion", file=path, place=f"key 'local_quat', frame {t}")
    ends = {}
    if "end_site_joints" in z:
        ej, eo = z["end_site_joints"], z.get("end_site_offsets", np.zeros((0, 3)))
        if eo.shape != (len(ej), 3):
            raise MotionLabError(f"shape {eo.shape}, expected ({len(ej)}, 3)", file=path, place="key 'end_site_offsets'")
        ends = {int(j): eo[i] for i, j in enumerate(ej)}
        if any(not 0 <= j < J for j in ends):
            raise MotionLabError("End Site on a joint that does not exist", file=path, place="key 'end_site_joints'")
    meta = {}
    if "meta" in z:
        try:
            meta = json.loads(str(z["meta"]))
        except ValueError as e:
            raise MotionLabError(f"meta is not JSON ({e})", file=path, place="key 'meta'") from None
    extras = {k[len("extra."):]: z[k] for k in z if k.startswith("extra.")}
    joint_pos = z.get("joint_pos")
    try:
        skeleton = Skeleton(names, parents, offsets, ends)
        return Motion(fps, skeleton, root, quat / norms[..., None], joint_pos=joint_pos, extras=extras, meta=meta)
    except MotionLabError as e:
        raise e.with_file(path) from None
