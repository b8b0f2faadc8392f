"""The :class:`RobotMotion` container: one clip of a floating-base robot (Unitree G1 by default)."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any, Dict, Optional, Sequence, Tuple

import numpy as np

from motionlab.core.resample import lerp_frames, resample_extras, resample_times, slerp_frames
from motionlab.errors import MotionLabError, choices_error
from motionlab.robots.g1 import G1_JOINT_NAMES


@dataclass
class RobotMotion:
    """``T`` frames of a robot: root pose plus joint angles, at ``fps``.

    World frame: right-handed, Z up, metres. Quaternions w first.

    Attributes:
        fps: frames per second.
        root_pos: ``(T, 3)`` world position of the root body (G1: ``pelvis``), m.
        root_quat: ``(T, 4)`` world rotation of the root body, **w first**; normalised on creation.
        joint_pos: ``(T, J)`` joint angles in rad, columns in ``joint_names`` order
            (G1 default: the 29 joints in Unitree order).
        joint_names: the ``J`` joint names of the columns.
        extras: per-frame arrays ``(T, ...)`` carried along (e.g. ``smplx_pose_body`` ``(T, 21, 6)``);
            on resampling, float arrays whose key ends in ``quat`` are slerped (w first, last axis 4),
            other float arrays linearly interpolated, others sampled at the nearest frame.
        meta: free metadata (``source``, ``format`` ...).
    """

    fps: float
    root_pos: np.ndarray
    root_quat: np.ndarray
    joint_pos: np.ndarray
    joint_names: Tuple[str, ...] = G1_JOINT_NAMES
    extras: Dict[str, np.ndarray] = field(default_factory=dict)
    meta: Dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        src = self.meta.get("source")
        try:
            self.fps = float(self.fps)
        except (TypeError, ValueError):
            raise MotionLabError(f"fps must be a number, got {self.fps!r}", file=src, place="fps") from None
        if not np.isfinite(self.fps) or self.fps <= 0:
            raise MotionLabError(f"fps must be a positive number, got {self.fps}", file=src, place="fps")
        self.joint_names = tuple(str(n) for n in self.joint_names)
        if len(set(self.joint_names)) != len(self.joint_names):
            raise MotionLabError("joint_names has duplicates", file=src, place="joint_names")
        arrays = {}
        for name in ("root_pos", "root_quat", "joint_pos"):
            try:
                arrays[name] = np.asarray(getattr(self, name), dtype=np.float64)
            except (TypeError, ValueError):
                raise MotionLabError("not a rectangular array of numbers", file=src, place=name) from None
        T = arrays["root_pos"].shape[0] if arrays["root_pos"].ndim else 0
        J = len(self.joint_names)
        for name, shape in (("root_pos", (T, 3)), ("root_quat", (T, 4)), ("joint_pos", (T, J))):
            if arrays[name].shape != shape:
                raise MotionLabError(f"must have shape {shape} (T frames, {J} joints), got {arrays[name].shape}",
                                     file=src, place=name)
            bad = ~np.isfinite(arrays[name].reshape(T, -1)).all(axis=1)
            if bad.any():
                raise MotionLabError(f"{name} has non-finite values", file=src, place=f"frame {int(np.argmax(bad))}")
        quat = arrays["root_quat"]
        scale = np.abs(quat).max(axis=-1, keepdims=True) if T else np.ones((0, 1))
        with np.errstate(over="ignore", under="ignore"):  # scaled first: no overflow for huge entries
            norms = np.linalg.norm(quat / np.where(scale > 0, scale, 1.0), axis=-1) * scale[..., 0]
        if (norms < 1e-8).any():
            raise MotionLabError("root_quat has a zero quaternion", file=src,
                                 place=f"frame {int(np.argmax(norms < 1e-8))}")
        self.root_pos = arrays["root_pos"]
        self.root_quat = (quat / np.where(scale > 0, scale, 1.0)) / (norms / scale[..., 0])[:, None] if T else quat
        self.joint_pos = arrays["joint_pos"]
        extras = {}
        for k, v in dict(self.extras).items():
            v = np.asarray(v)
            if v.ndim == 0 or v.shape[0] != T:
                raise MotionLabError(f"has {v.shape[0] if v.ndim else 0} frames, the motion has {T}",
                                     file=src, place=f"extra {k!r}")
            extras[str(k)] = v
        self.extras = extras
        self.meta = dict(self.meta)

    # -- queries ---------------------------------------------------------------------------------
    @property
    def num_frames(self) -> int:
        return int(self.root_pos.shape[0])

    def __len__(self) -> int:
        return self.num_frames

    @property
    def num_joints(self) -> int:
        return len(self.joint_names)

    @property
    def duration(self) -> float:
        """Seconds covered by the samples, ``(T - 1) / fps``."""
        return max(self.num_frames - 1, 0) / self.fps

    def joint(self, name: str) -> np.ndarray:
        """``(T,)`` angles of one joint, by name."""
        return self.joint_pos[:, self._indices([name])[0]]

    # -- reordering ------------------------------------------------------------------------------
    def _indices(self, names: Sequence[str]) -> list:
        lookup = {n: i for i, n in enumerate(self.joint_names)}
        out = []
        for n in names:
            if n not in lookup:
                raise choices_error("joint", n, self.joint_names, file=self.meta.get("source"))
            out.append(lookup[n])
        return out

    def reorder(self, names: Sequence[str]) -> "RobotMotion":
        """The clip with joint columns in the order of ``names`` (a subset is allowed), by name."""
        names = tuple(names)
        idx = self._indices(names)
        if len(set(names)) != len(names):
            raise MotionLabError("names has duplicates", file=self.meta.get("source"), place="joint_names")
        return replace(self, joint_pos=self.joint_pos[:, idx].copy(), joint_names=names,
                       extras=dict(self.extras), meta=dict(self.meta))

    # -- slicing and resampling ------------------------------------------------------------------
    def slice(self, start: int = 0, stop: Optional[int] = None, step: int = 1) -> "RobotMotion":
        """Frames ``start:stop:step`` (a step > 1 also divides fps)."""
        if step < 1:
            raise MotionLabError(f"step must be >= 1, got {step}")
        s = slice(start, stop, step)
        return replace(
            self,
            fps=self.fps / step,
            root_pos=self.root_pos[s].copy(),
            root_quat=self.root_quat[s].copy(),
            joint_pos=self.joint_pos[s].copy(),
            extras={k: v[s].copy() for k, v in self.extras.items()},
            meta=dict(self.meta),
        )

    def __getitem__(self, s: slice) -> "RobotMotion":
        if not isinstance(s, slice):
            raise TypeError("RobotMotion supports slicing only, e.g. motion[10:50]")
        start, stop, step = s.indices(self.num_frames)
        return self.slice(start, stop, step)

    def resample(self, fps: float) -> "RobotMotion":
        """The clip at another rate, BeyondMimic's scheme (see :mod:`motionlab.core.resample`).

        Sample times ``arange(0, (T - 1) / fps_in, 1 / fps_out)``; joint angles and root position
        interpolated linearly, root quaternion by slerp (300 frames at 30 fps -> 499 at 50).
        """
        times = resample_times(self.num_frames, self.fps, fps)
        if len(times) == self.num_frames and np.isclose(fps, self.fps):
            return self.slice(0)  # a full copy, like every other result
        extras = resample_extras(self.extras, times, self.fps)
        return replace(
            self,
            fps=float(fps),
            root_pos=lerp_frames(self.root_pos, times, self.fps),
            root_quat=slerp_frames(self.root_quat, times, self.fps),
            joint_pos=lerp_frames(self.joint_pos, times, self.fps),
            extras=extras,
            meta=dict(self.meta),
        )
