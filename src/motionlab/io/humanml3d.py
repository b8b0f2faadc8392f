"""HumanML3D folders and the 263-d feature layout of the text-to-motion literature.

A HumanML3D folder as distributed::

    new_joint_vecs/<id>.npy   (T, 263) float features (layout below), 20 fps
    new_joints/<id>.npy       (T, 22, 3) joint positions, Y up, metres (optional for reading)
    texts/<id>.txt            one caption per line: ``caption#tokens#start#end`` (start/end in seconds,
                              0.0 or NaN for the whole clip; tokens are ``word/POS`` pairs)
    Mean.npy, Std.npy         (263,) statistics of the training features
    train.txt, val.txt, test.txt   clip ids, one per line

Feature layout (``J = 22`` SMPL joints, Y up, each frame expressed in the root's heading frame, in
which the body faces +Z):

==========  ======  ======================================================================
slice       size    meaning
==========  ======  ======================================================================
``0``       1       increment to the next frame of the world->heading yaw about +Y, *half* the angle
                    (rad/frame; a body turning by +w about +Y gives -w/2)
``1:3``     2       root velocity to the next frame on the ground (x, z), m/frame, heading frame
``3``       1       root height, m
``4:67``    63      joints 1..21 relative to the root on the ground (height absolute), heading frame
``67:193``  126     joints 1..21 local rotations, column 6D (see below)
``193:259`` 66      joints 0..21 velocities to the next frame, m/frame, heading frame
``259:263`` 4       foot contacts: left ankle, left foot, right ankle, right foot (0/1)
==========  ======  ======================================================================

:func:`recover_from_ric` is the published inverse: it integrates the root from channels 0..3 and
places the ``ric`` joints around it. Features computed here by :func:`features_from_positions`
follow the same layout; their rotation channels hold motionlab's own parent-relative rotations
(mapped into the Y-up frame) when given, else zeros (the recovery never reads them).
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Dict, List, Optional, Sequence, Tuple, Union

import numpy as np
import torch

from motionlab.errors import MotionLabError

PathLike = Union[str, os.PathLike]

NUM_JOINTS = 22
FEATURE_DIM = 263
FPS = 20.0
# slices of the layout
ROOT = slice(0, 4)
RIC = slice(4, 4 + 21 * 3)
ROT = slice(67, 67 + 21 * 6)
VEL = slice(193, 193 + 22 * 3)
CONTACT = slice(259, 263)
FOOT_JOINTS = (7, 10, 8, 11)  # left ankle, left foot, right ankle, right foot (SMPL-22 indices)
SPLIT_FILES = {"train": "train.txt", "val": "val.txt", "test": "test.txt"}

#: Z-up (motionlab) -> Y-up (HumanML3D) point map: (x, y, z) -> (x, z, -y); the inverse of
#: :data:`motionlab.core.rotations.Y_UP_TO_Z_UP`.
Z_UP_TO_Y_UP = np.array([[1.0, 0.0, 0.0], [0.0, 0.0, 1.0], [0.0, -1.0, 0.0]])


def _yrot(theta, v):
    """Rotate ``v (..., 3)`` about +Y by ``theta (...)``: the quaternion ``(cos t/2, 0, sin t/2, 0)``."""
    lib = torch if isinstance(v, torch.Tensor) else np
    c, s = lib.cos(theta), lib.sin(theta)
    x, y, z = v[..., 0], v[..., 1], v[..., 2]
    return lib.stack([c * x + s * z, y, -s * x + c * z], -1)


def facing_angles(positions: np.ndarray) -> np.ndarray:
    """``(T,)`` world->heading yaw (rad about +Y) from hips and shoulders of ``(T, 22, 3)`` Y-up positions:
    rotating by it turns the body's forward (``up x (right - left)``) onto +Z."""
    across = (positions[:, 2] - positions[:, 1]) + (positions[:, 17] - positions[:, 16])
    fwd = np.cross(np.array([0.0, 1.0, 0.0]), across)
    return -np.arctan2(fwd[:, 0], fwd[:, 2])


def features_from_positions(positions: np.ndarray, rot6d: Optional[np.ndarray] = None,
                            fps: float = FPS, contact_speed: float = 0.9) -> np.ndarray:
    """``(T - 1, 263)`` features of ``(T, 22, 3)`` Y-up joint positions (m) at ``fps``.

    The clip is first put on the floor, its root moved over the origin and turned to face +Z in its
    first frame (as the published processing does). ``rot6d``: optional ``(T, 21, 6)`` local rotations
    (column 6D, Y-up frame) for channels 67:193. Foot contact: the joint moves slower than
    ``contact_speed`` m/s to the next frame (0.9 m/s is the published 0.002 m^2 per frame at 20 fps).
    """
    p = np.asarray(positions, dtype=np.float64)
    if p.ndim != 3 or p.shape[1:] != (NUM_JOINTS, 3) or len(p) < 2:
        raise MotionLabError(f"positions must be (T >= 2, 22, 3), got {p.shape}", place="positions")
    p = p.copy()
    p[..., 1] -= p[..., 1].min()
    p[..., [0, 2]] -= p[:1, :1, [0, 2]]
    theta = facing_angles(p)
    p = _yrot(np.full(p.shape[:2], theta[0]), p)
    theta = np.unwrap(theta - theta[0])
    T = len(p)
    root = p[:, 0]
    ric = p.copy()
    ric[..., [0, 2]] -= root[:, None, [0, 2]]
    ric = _yrot(np.repeat(theta[:, None], NUM_JOINTS, 1), ric)
    vel_root = _yrot(theta[1:], root[1:] - root[:-1])
    local_vel = _yrot(np.repeat(theta[1:, None], NUM_JOINTS, 1), p[1:] - p[:-1])
    out = np.zeros((T - 1, FEATURE_DIM), np.float64)
    out[:, 0] = np.diff(theta) / 2.0
    out[:, 1:3] = vel_root[:, [0, 2]]
    out[:, 3] = root[:-1, 1]
    out[:, RIC] = ric[:-1, 1:].reshape(T - 1, -1)
    if rot6d is not None:
        r = np.asarray(rot6d, dtype=np.float64)
        if r.shape != (T, 21, 6):
            raise MotionLabError(f"rot6d must be ({T}, 21, 6), got {r.shape}", place="rot6d")
        out[:, ROT] = r[:-1].reshape(T - 1, -1)
    out[:, VEL] = local_vel.reshape(T - 1, -1)
    step = np.linalg.norm(p[1:, list(FOOT_JOINTS)] - p[:-1, list(FOOT_JOINTS)], axis=-1) * fps
    out[:, CONTACT] = (step < contact_speed).astype(np.float64)
    return out.astype(np.float32)


def _as_tensor(data):
    if isinstance(data, torch.Tensor):
        return data, False
    return torch.from_numpy(np.asarray(data, dtype=np.float64)), True


def recover_root(data):
    """``(yaw (..., T), root_pos (..., T, 3))`` integrated from features ``(..., T, 263)``: the world->heading
    yaw of every frame (0 at frame 0) and the root position (Y up). Numpy in, numpy out; torch keeps the
    autograd graph."""
    x, was_np = _as_tensor(data)
    half = x[..., 0]
    theta = 2.0 * torch.cumsum(torch.cat([torch.zeros_like(half[..., :1]), half[..., :-1]], -1), -1)
    step = torch.zeros_like(x[..., :3])
    step[..., 1:, 0] = x[..., :-1, 1]
    step[..., 1:, 2] = x[..., :-1, 2]
    pos = torch.cumsum(_yrot(-theta, step), -2)
    pos = torch.stack([pos[..., 0], x[..., 3], pos[..., 2]], -1)
    return (theta.numpy(), pos.numpy()) if was_np else (theta, pos)


def recover_from_ric(data, joints_num: int = NUM_JOINTS):
    """Joint positions ``(..., T, J, 3)`` (Y up, m) from features ``(..., T, 263)``: the root from
    :func:`recover_root`, the other joints from the ``ric`` channels rotated back to the world and
    shifted by the root on the ground (the published inverse). Numpy in, numpy out; torch keeps the graph."""
    if data.shape[-1] < 4 + (joints_num - 1) * 3:
        raise MotionLabError(f"features must have at least {4 + (joints_num - 1) * 3} channels, got {data.shape[-1]}",
                             place="data")
    x, was_np = _as_tensor(data)
    theta, root = recover_root(x)
    ric = x[..., 4:4 + (joints_num - 1) * 3].reshape(*x.shape[:-1], joints_num - 1, 3)
    world = _yrot(-theta[..., None].expand(ric.shape[:-1]), ric)
    ground = root * torch.tensor([1.0, 0.0, 1.0], dtype=root.dtype, device=root.device)
    out = torch.cat([root[..., None, :], world + ground[..., None, :]], -2)
    return out.numpy() if was_np else out


def positions_from_motion(motion) -> Tuple[np.ndarray, np.ndarray]:
    """``(positions (T, 22, 3), rot6d (T, 21, 6))`` of a SMPL-22 :class:`~motionlab.core.motion.Motion`
    in the Y-up frame (other skeletons are mapped onto SMPL-22 by joint names first)."""
    from motionlab.core.body import SMPL22_NAMES
    from motionlab.core.rotations import matrix_to_rot6d

    if list(motion.skeleton.names) != SMPL22_NAMES:
        from motionlab.core.mapping import to_smpl22

        motion = to_smpl22(motion)
    pos = motion.positions() @ Z_UP_TO_Y_UP.T
    R = motion.local_matrices()[:, 1:]
    R = Z_UP_TO_Y_UP @ R @ Z_UP_TO_Y_UP.T
    return pos, matrix_to_rot6d(R)


def features_from_motion(motion, fps: float = FPS) -> np.ndarray:
    """``(T' - 1, 263)`` features of a motionlab clip resampled to ``fps`` (the ``humanml3d`` stream)."""
    m = motion.resample(fps) if abs(motion.fps - fps) > 1e-6 else motion
    pos, r6 = positions_from_motion(m)
    return features_from_positions(pos, r6, fps=fps)


def positions_to_zup(positions) -> np.ndarray:
    """Y-up positions ``(..., 3)`` to motionlab's Z-up frame."""
    return np.asarray(positions, dtype=np.float64) @ Z_UP_TO_Y_UP


# --- reading a folder ---------------------------------------------------------------------------------------


@dataclass
class Caption:
    """One caption line: the text, its tokens and the span of the clip it describes (s; None = whole)."""

    text: str
    tokens: List[str] = field(default_factory=list)
    start: Optional[float] = None
    end: Optional[float] = None


def _time(value: str, path: Path, line: int) -> Optional[float]:
    try:
        t = float(value)
    except ValueError:
        raise MotionLabError(f"start/end {value!r} is not a number", file=path, place=f"line {line}") from None
    if math.isnan(t) or t == 0.0:
        return None
    return t


def read_captions(path: PathLike) -> List[Caption]:
    """Captions of one ``texts/<id>.txt`` (``caption#tokens#start#end`` per line; blank lines skipped)."""
    path = Path(path)
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as e:
        raise MotionLabError(f"unreadable caption file ({e})", file=path) from None
    out = []
    for i, line in enumerate(lines, 1):
        if not line.strip():
            continue
        parts = line.strip().split("#")
        if len(parts) != 4 or not parts[0].strip():
            raise MotionLabError(f"expected 'caption#tokens#start#end', got {len(parts)} field(s): {line[:60]!r}",
                                 file=path, place=f"line {i}")
        start, end = _time(parts[2], path, i), _time(parts[3], path, i)
        if start is not None and end is not None and end <= start:
            raise MotionLabError(f"end {end} is not after start {start}", file=path, place=f"line {i}")
        out.append(Caption(parts[0].strip(), parts[1].split(), start, end))
    if not out:
        raise MotionLabError("no captions", file=path)
    return out


def read_features(path: PathLike) -> np.ndarray:
    """``(T, 263)`` features of one ``new_joint_vecs/<id>.npy``, checked."""
    path = Path(path)
    try:
        x = np.load(path, allow_pickle=False)
    except (OSError, ValueError) as e:
        raise MotionLabError(f"unreadable feature file ({e})", file=path) from None
    if x.ndim != 2 or x.shape[1] != FEATURE_DIM:
        raise MotionLabError(f"expected (frames, {FEATURE_DIM}) features, got shape {x.shape}", file=path)
    if not np.isfinite(x).all():
        bad = int(np.argwhere(~np.isfinite(x))[0, 0])
        raise MotionLabError("NaN or infinite values", file=path, place=f"frame {bad}")
    return x.astype(np.float32)


def is_humanml3d(root: PathLike) -> bool:
    """Whether ``root`` looks like a HumanML3D folder (``new_joint_vecs/`` and ``texts/``)."""
    root = Path(root)
    return (root / "new_joint_vecs").is_dir() and (root / "texts").is_dir()


@dataclass
class HumanML3DClip:
    id: str
    split: str
    features: Path
    captions: List[Caption]


def read_split_ids(root: PathLike) -> Dict[str, List[str]]:
    """Clip ids of each split from ``train.txt``/``val.txt``/``test.txt`` (missing files: empty)."""
    root = Path(root)
    out: Dict[str, List[str]] = {}
    for split, name in SPLIT_FILES.items():
        p = root / name
        out[split] = [s.strip() for s in p.read_text().splitlines() if s.strip()] if p.is_file() else []
    if not any(out.values()):
        raise MotionLabError("no split files (train.txt, val.txt, test.txt)", file=root)
    return out


def scan_humanml3d(root: PathLike, splits: Sequence[str] = ("train", "val", "test")) -> List[HumanML3DClip]:
    """The clips of a HumanML3D folder listed in its split files that have both features and captions."""
    root = Path(root)
    if not is_humanml3d(root):
        raise MotionLabError("not a HumanML3D folder (needs new_joint_vecs/ and texts/)", file=root)
    ids = read_split_ids(root)
    out = []
    for split in splits:
        for cid in ids.get(split, []):
            f, t = root / "new_joint_vecs" / f"{cid}.npy", root / "texts" / f"{cid}.txt"
            if f.is_file() and t.is_file():
                out.append(HumanML3DClip(cid, split, f, read_captions(t)))
    if not out:
        raise MotionLabError("no clip of the split files has both new_joint_vecs/<id>.npy and texts/<id>.txt",
                             file=root)
    return out


def read_mean_std(root: PathLike) -> Optional[Tuple[np.ndarray, np.ndarray]]:
    """``(Mean, Std)`` of a HumanML3D folder, or ``None`` when it has no ``Mean.npy``/``Std.npy``."""
    root = Path(root)
    if not (root / "Mean.npy").is_file() or not (root / "Std.npy").is_file():
        return None
    mean, std = np.load(root / "Mean.npy"), np.load(root / "Std.npy")
    for name, a in (("Mean.npy", mean), ("Std.npy", std)):
        if a.shape != (FEATURE_DIM,):
            raise MotionLabError(f"expected shape ({FEATURE_DIM},), got {a.shape}", file=root / name)
    return mean.astype(np.float32), std.astype(np.float32)


# --- BVH export -------------------------------------------------------------------------------------------------


def fit_smpl22(positions: np.ndarray, fps: float = FPS, iters: int = 300, lr: float = 0.05):
    """A SMPL-22 :class:`~motionlab.core.motion.Motion` (Z up) whose FK matches ``(T, 22, 3)`` Y-up positions.

    The skeleton keeps the canonical rest directions with each bone scaled to the median length seen in
    the positions; the root follows the pelvis; local rotations (column 6D, all frames at once) are fitted
    by Adam to the joint positions with a small smoothness term. Returns ``(motion, mpjpe_m)``.
    """
    from motionlab.core.body import smpl22_skeleton
    from motionlab.core.kinematics import forward_kinematics
    from motionlab.core.motion import Motion
    from motionlab.core.rotations import matrix_to_quat, quat_fix_continuity, rot6d_to_matrix

    p = positions_to_zup(positions)
    if p.ndim != 3 or p.shape[1:] != (NUM_JOINTS, 3):
        raise MotionLabError(f"positions must be (T, 22, 3), got {p.shape}", place="positions")
    sk = smpl22_skeleton()
    par = np.asarray(sk.parents)
    lengths = np.median(np.linalg.norm(p[:, 1:] - p[:, par[1:]], axis=-1), axis=0)
    off = sk.offsets.copy()
    rest = np.linalg.norm(off[1:], axis=-1)
    off[1:] *= (lengths / np.maximum(rest, 1e-9))[:, None]
    end_sites = {j: v * (lengths[j - 1] / max(rest[j - 1], 1e-9)) for j, v in sk.end_sites.items()}
    from motionlab.core.skeleton import Skeleton

    skel = Skeleton(list(sk.names), par, off, end_sites)
    target = torch.tensor(p, dtype=torch.float32)
    T = len(p)
    d6 = torch.tensor([1.0, 0, 0, 0, 1, 0]).repeat(T, NUM_JOINTS, 1).requires_grad_(True)
    offs = torch.tensor(off, dtype=torch.float32)
    opt = torch.optim.Adam([d6], lr=lr)
    for _ in range(iters):
        R = rot6d_to_matrix(d6)
        pos, _ = forward_kinematics(R, target[:, 0], list(par), offs)
        loss = ((pos - target) ** 2).sum(-1).mean()
        if T > 1:
            loss = loss + 1e-3 * ((d6[1:] - d6[:-1]) ** 2).mean()
        opt.zero_grad()
        loss.backward()
        opt.step()
    with torch.no_grad():
        R = rot6d_to_matrix(d6)
        pos, _ = forward_kinematics(R, target[:, 0], list(par), offs)
        err = float((pos - target).norm(dim=-1).mean())
    q = quat_fix_continuity(matrix_to_quat(R.detach().double().numpy()), dim=0)
    return Motion(fps, skel, p[:, 0].copy(), q, meta={"source": "humanml3d positions"}), err


def features_to_bvh(features: np.ndarray, path: PathLike, fps: float = FPS) -> float:
    """Write raw (de-normalised) 263-d features as a BVH of a fitted SMPL-22 skeleton; returns the fit's
    mean joint error (m)."""
    from motionlab.io.bvh import write_bvh

    pos = recover_from_ric(np.asarray(features, dtype=np.float64))
    motion, err = fit_smpl22(pos, fps=fps)
    write_bvh(path, motion)
    return err
