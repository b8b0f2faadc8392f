"""The :class:`Motion` container: one clip of skeletal motion in motionlab's conventions."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any, Dict, Optional, Sequence, Tuple

import numpy as np

from motionlab.core.resample import lerp_frames, resample_extras, resample_times, slerp_frames
from motionlab.core.rotations import matrix_to_quat, quat_fix_continuity, quat_to_matrix
from motionlab.core.skeleton import Skeleton
from motionlab.errors import MotionLabError


@dataclass
class Motion:
    """A clip: ``T`` frames of a :class:`Skeleton` at ``fps``.

    World frame: right-handed, Z up, metres. Quaternions w first.

    Attributes:
        fps: frames per second.
        skeleton: the kinematic tree.
        root_pos: ``(T, 3)`` world position of the root joint.
        local_quat: ``(T, J, 4)`` rotation of each joint relative to its parent (root: world).
        joint_pos: optional ``(T, J, 3)`` per-frame local translations that replace the rest
            offsets where not NaN (BVH position channels on non-root joints).
        extras: per-frame arrays ``(T, ...)`` such as ``contacts`` or ``g1_joint_pos``;
            float arrays are interpolated on resampling, others sampled at the nearest frame.
        meta: free metadata: ``source`` file, ``format``, original ``units`` and ``up_axis``,
            ``caption``, ``style`` ... (JSON-serialisable values).
    """

    fps: float
    skeleton: Skeleton
    root_pos: np.ndarray
    local_quat: np.ndarray
    joint_pos: Optional[np.ndarray] = None
    extras: Dict[str, np.ndarray] = field(default_factory=dict)
    meta: Dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.fps = float(self.fps)
        if not np.isfinite(self.fps) or self.fps <= 0:
            raise MotionLabError(f"fps must be a positive number, got {self.fps}")
        self.root_pos = np.asarray(self.root_pos, dtype=np.float64)
        self.local_quat = np.asarray(self.local_quat, dtype=np.float64)
        T, J = (self.root_pos.shape[0] if self.root_pos.ndim else 0), self.skeleton.num_joints
        if self.root_pos.shape != (T, 3):
            raise MotionLabError(f"root_pos must be (T, 3), got {self.root_pos.shape}")
        if self.local_quat.shape != (T, J, 4):
            raise MotionLabError(f"local_quat must be ({T}, {J}, 4) for {J} joints, got {self.local_quat.shape}")
        if self.joint_pos is not None:
            self.joint_pos = np.asarray(self.joint_pos, dtype=np.float64)
            if self.joint_pos.shape != (T, J, 3):
                raise MotionLabError(f"joint_pos must be ({T}, {J}, 3), got {self.joint_pos.shape}")
        extras = {}  # a dict of its own: copies made by replace() must not share it
        for k, v in self.extras.items():
            v = np.asarray(v)
            if v.shape[:1] != (T,):
                raise MotionLabError(f"extra {k!r} has {v.shape[0] if v.ndim else 0} frames, the motion has {T}")
            extras[str(k)] = v
        self.extras = extras
        source = self.meta.get("source")
        for name, arr in (("root_pos", self.root_pos), ("local_quat", self.local_quat)):
            bad = ~np.isfinite(arr.reshape(T, -1)).all(axis=1) if T else np.zeros(0, dtype=bool)
            if bad.any():
                raise MotionLabError(f"{name} has non-finite values", place=f"frame {int(np.argmax(bad))}",
                                     file=source)
        if T:
            zero = (np.linalg.norm(self.local_quat, axis=-1) < 1e-6).any(axis=1)
            if zero.any():
                raise MotionLabError("local_quat has a zero-length quaternion (not a rotation)",
                                     place=f"frame {int(np.argmax(zero))}", file=source)

    # -- basic queries ---------------------------------------------------------------------------
    @property
    def num_frames(self) -> int:
        return int(self.root_pos.shape[0])

    def __len__(self) -> int:
        return self.num_frames

    @property
    def duration(self) -> float:
        """Seconds covered by the samples, ``(T - 1) / fps``."""
        return max(self.num_frames - 1, 0) / self.fps

    @property
    def joint_names(self):
        return self.skeleton.names

    # -- slicing and resampling ------------------------------------------------------------------
    def slice(self, start: int = 0, stop: Optional[int] = None, step: int = 1) -> "Motion":
        """Frames ``start:stop:step`` (a step > 1 also divides fps)."""
        if int(step) < 1:
            raise MotionLabError(f"slice step must be a positive integer, got {step}")
        s = slice(start, stop, step)
        return replace(
            self,
            fps=self.fps / step,
            root_pos=self.root_pos[s].copy(),
            local_quat=self.local_quat[s].copy(),
            joint_pos=None if self.joint_pos is None else self.joint_pos[s].copy(),
            extras={k: v[s].copy() for k, v in self.extras.items()},
            meta=dict(self.meta),
        )

    def __getitem__(self, s: slice) -> "Motion":
        if not isinstance(s, slice):
            raise TypeError("Motion supports slicing only, e.g. motion[10:50]")
        start, stop, step = s.indices(self.num_frames)
        return self.slice(start, stop, step)

    def resample(self, fps: float) -> "Motion":
        """The clip at another frame rate (slerp rotations, lerp positions; see core.resample)."""
        times = resample_times(self.num_frames, self.fps, fps)
        if len(times) == self.num_frames and np.isclose(fps, self.fps):
            return self.slice(0)  # a full copy, like every other result
        extras = resample_extras(self.extras, times, self.fps)
        joint_pos = None
        if self.joint_pos is not None:
            joint_pos = lerp_frames(self.joint_pos, times, self.fps)
        return replace(
            self,
            fps=float(fps),
            root_pos=lerp_frames(self.root_pos, times, self.fps),
            local_quat=slerp_frames(self.local_quat, times, self.fps),
            joint_pos=joint_pos,
            extras=extras,
            meta=dict(self.meta),
        )

    # -- kinematics ------------------------------------------------------------------------------
    def local_matrices(self) -> np.ndarray:
        """``(T, J, 3, 3)`` local rotation matrices."""
        return quat_to_matrix(self.local_quat)

    def fk(self) -> Tuple[np.ndarray, np.ndarray]:
        """World joint positions ``(T, J, 3)`` and rotations ``(T, J, 3, 3)``."""
        return self.skeleton.fk(self.local_matrices(), self.root_pos, self.joint_pos)

    def positions(self) -> np.ndarray:
        """World joint positions ``(T, J, 3)`` in metres, Z up."""
        return self.fk()[0]

    def velocities(self) -> np.ndarray:
        """World joint velocities ``(T, J, 3)`` in m/s (central differences, one-sided at the ends)."""
        pos = self.positions()
        if self.num_frames < 2:
            return np.zeros_like(pos)
        return np.gradient(pos, axis=0) * self.fps

    def foot_contacts(
        self,
        feet: Sequence[str],
        height: float = 0.05,
        speed: float = 0.5,
        floor: Optional[float] = None,
    ) -> np.ndarray:
        """``(T, len(feet))`` booleans: foot below ``height`` m above the floor and slower than ``speed`` m/s.

        ``floor`` defaults to the lowest height any of the feet reaches in the clip.
        """
        idx = self.skeleton.indices(feet)
        pos = self.positions()[:, idx]
        vel = np.linalg.norm(np.gradient(pos, axis=0) * self.fps, axis=-1) if self.num_frames > 1 else np.zeros(pos.shape[:2])
        z0 = pos[..., 2].min() if floor is None else floor
        return (pos[..., 2] - z0 < height) & (vel < speed)

    def with_rotations(self, local_rot: np.ndarray) -> "Motion":
        """A copy with new local rotation matrices ``(T, J, 3, 3)``."""
        q = quat_fix_continuity(matrix_to_quat(np.asarray(local_rot, dtype=np.float64)), dim=0)
        return replace(self, local_quat=q, meta=dict(self.meta))
