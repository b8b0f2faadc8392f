"""The :class:`Skeleton`: joint names, parents, rest offsets and end sites."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Dict, List, Sequence, Tuple

import numpy as np

from motionlab.core.kinematics import check_topology, forward_kinematics
from motionlab.errors import MotionLabError, choices_error


@dataclass
class Skeleton:
    """A kinematic tree in motionlab's world convention (Z up, metres).

    Attributes:
        names: joint names, unique.
        parents: ``(J,)`` parent index of each joint, ``-1`` for the root (joint 0);
            parents come before their children.
        offsets: ``(J, 3)`` rest offset of each joint from its parent, in the parent's frame.
        end_sites: ``{joint index: (3,) offset}`` of End Sites (leaf tips) where known.
    """

    names: List[str]
    parents: np.ndarray
    offsets: np.ndarray
    end_sites: Dict[int, np.ndarray] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.names = [str(n) for n in self.names]
        self.parents = check_topology(self.parents, self.names)
        self.offsets = np.asarray(self.offsets, dtype=np.float64)
        if self.offsets.shape != (len(self.names), 3):
            raise MotionLabError(
                f"offsets must be ({len(self.names)}, 3) for {len(self.names)} joints, got {self.offsets.shape}"
            )
        if len(self.parents) != len(self.names):
            raise MotionLabError(f"{len(self.names)} names but {len(self.parents)} parents")
        if len(set(self.names)) != len(self.names):
            dup = sorted({n for n in self.names if self.names.count(n) > 1})
            raise MotionLabError(f"duplicate joint names: {dup}")
        self.end_sites = {int(k): np.asarray(v, dtype=np.float64).reshape(3) for k, v in self.end_sites.items()}

    # -- queries -----------------------------------------------------------------------------------
    @property
    def num_joints(self) -> int:
        return len(self.names)

    def index(self, name: str) -> int:
        """Index of joint ``name``; a clear error listing the joints if absent."""
        try:
            return self.names.index(name)
        except ValueError:
            raise choices_error("joint", name, self.names) from None

    def indices(self, names: Sequence[str]) -> List[int]:
        return [self.index(n) for n in names]

    def children(self, j: int) -> List[int]:
        return [int(c) for c in np.nonzero(self.parents == j)[0]]

    def bone_lengths(self) -> np.ndarray:
        """``(J,)`` length of the offset of each joint from its parent (0 for the root)."""
        lengths = np.linalg.norm(self.offsets, axis=-1)
        lengths[0] = 0.0
        return lengths

    def height(self) -> float:
        """Vertical extent of the rest pose (Z up), a size scale for tolerances."""
        pos, _ = self.rest_fk()
        tips = [pos]
        for j, off in self.end_sites.items():
            tips.append((pos[j] + off)[None])
        allp = np.concatenate(tips, axis=0)
        return float(allp[:, 2].max() - allp[:, 2].min()) or float(np.ptp(allp, axis=0).max())

    def rest_fk(self) -> Tuple[np.ndarray, np.ndarray]:
        """World positions and rotations of the rest pose (identity rotations, root at origin)."""
        J = self.num_joints
        return forward_kinematics(np.tile(np.eye(3), (J, 1, 1)), np.zeros(3), self.parents, self.offsets)

    def fk(self, local_rot, root_pos, joint_pos=None):
        """Forward kinematics; see :func:`motionlab.core.kinematics.forward_kinematics`."""
        return forward_kinematics(local_rot, root_pos, self.parents, self.offsets, joint_pos)

    def subset(self, names: Sequence[str]) -> Tuple["Skeleton", List[int]]:
        """A skeleton on ``names`` (kept in this skeleton's order); removed joints fold into offsets.

        Returns the new skeleton and the kept indices. Only valid for the rest pose offsets when
        the removed joints carry identity rotations; callers compose rotations themselves.
        """
        keep = sorted(self.indices(names))
        if keep[0] != 0:
            raise MotionLabError("a subset must keep the root joint")
        rest_pos, _ = self.rest_fk()
        new_parents, new_offsets = [], []
        for j in keep:
            p = int(self.parents[j])
            while p != -1 and p not in keep:
                p = int(self.parents[p])
            new_parents.append(keep.index(p) if p != -1 else -1)
            new_offsets.append(rest_pos[j] - rest_pos[p] if p != -1 else self.offsets[j])
        ends = {keep.index(j): v for j, v in self.end_sites.items() if j in keep}
        return Skeleton([self.names[j] for j in keep], np.array(new_parents), np.array(new_offsets), ends), keep

    def scaled(self, factor: float) -> "Skeleton":
        return Skeleton(list(self.names), self.parents.copy(), self.offsets * factor,
                        {k: v * factor for k, v in self.end_sites.items()})

    def to_dict(self) -> dict:
        return {
            "joint_names": np.array(self.names),
            "parents": self.parents.copy(),
            "offsets": self.offsets.copy(),
        }

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Skeleton):
            return NotImplemented
        return (
            self.names == other.names
            and np.array_equal(self.parents, other.parents)
            and np.allclose(self.offsets, other.offsets)
        )
