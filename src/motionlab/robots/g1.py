"""The Unitree G1 (29 DoF, rev 1.0) as data: joint names, orders, limits and the kinematic tree.

The facts come from the official model (unitreerobotics/unitree_ros, ``g1_29dof_rev_1_0.xml``
for bodies, joint axes, position limits and the bodies' inertials (centre of mass, mass); the URDF of the same folder for velocity limits) and
are stored in the package file ``g1_29dof.json``; nothing here needs the model files at run time.

Orders
------
* **Unitree order** (:data:`G1_JOINT_NAMES`): MuJoCo ``qpos[7:]``, DDS motor index, Unitree CSV,
  GMR pkl. It is also the depth-first order of the MJCF bodies: joint ``i`` moves body ``i + 1``.
* **Isaac order** (:data:`ISAAC_ORDER`): Isaac Lab / BeyondMimic, a breadth-first walk of the
  kinematic tree (children visited in MJCF order). ``isaac = unitree[..., ISAAC_ORDER]``.
* **Isaac body order** (:data:`ISAAC_BODY_NAMES`): the same breadth-first walk over the 30 bodies,
  starting at ``pelvis`` (BeyondMimic's ``body_pos_w`` layout).

Limits
------
:data:`G1_LOWER` / :data:`G1_UPPER` are the official MJCF ranges (rad). :data:`G1_VELOCITY_LIMITS`
are the official URDF ``<limit velocity>`` values (rad/s): 32 hip pitch/yaw and waist yaw, 20 hip
roll and knee, 30 ankles and waist roll/pitch, 37 shoulders, elbows and wrist roll, 22 wrist
pitch/yaw (the 32/20/30/37/22 groups of the metrics notes). Some IK models ship narrower limits;
metrics that use these say "official limits". Velocity-limit violations: pass
:data:`G1_VELOCITY_LIMITS` to :func:`motionlab.eval.metrics.velocity_limit_violations`.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Dict, List, Tuple, Union

import numpy as np
import torch

from motionlab.errors import MotionLabError, choices_error

Array = Union[np.ndarray, torch.Tensor]

_DATA = json.loads((Path(__file__).with_name("g1_29dof.json")).read_text(encoding="utf-8"))


def _frozen(a) -> np.ndarray:
    a = np.array(a, dtype=np.float64)
    a.setflags(write=False)
    return a


#: Model name of the description.
G1_MODEL: str = _DATA["model"]

# -- bodies (MJCF depth-first order) -------------------------------------------------------------
#: 30 body names in MJCF (depth-first) order; ``pelvis`` first, then the body of each joint.
G1_BODY_NAMES: Tuple[str, ...] = tuple(b["name"] for b in _DATA["bodies"])
_BODY_INDEX: Dict[str, int] = {n: i for i, n in enumerate(G1_BODY_NAMES)}
#: Parent index of each body (``-1`` for the pelvis), MJCF order.
G1_BODY_PARENTS: Tuple[int, ...] = tuple(
    -1 if b["parent"] is None else _BODY_INDEX[b["parent"]] for b in _DATA["bodies"]
)
#: ``(30, 3)`` position of each body in its parent's frame (m). The pelvis row is its standing
#: placement in the model (``0 0 0.793``); FK replaces it by the root position.
G1_BODY_OFFSETS: np.ndarray = _frozen([b["pos"] for b in _DATA["bodies"]])
#: ``(30, 3)`` centre of mass of each body in its own frame (m) and ``(30,)`` its mass (kg): the
#: ``<inertial pos= mass=>`` of the official MJCF (Isaac Lab reports body velocities at these points).
G1_BODY_COMS: np.ndarray = _frozen([b["com"] for b in _DATA["bodies"]])
G1_BODY_MASSES: np.ndarray = _frozen([b["mass"] for b in _DATA["bodies"]])
_q = np.array([b["quat"] for b in _DATA["bodies"]], dtype=np.float64)
#: ``(30, 4)`` rest rotation of each body in its parent's frame, w first, normalised (as MuJoCo does).
G1_BODY_REST_QUATS: np.ndarray = _frozen(_q / np.linalg.norm(_q, axis=-1, keepdims=True))

# -- joints (Unitree order) ------------------------------------------------------------------------
#: 29 joint names in Unitree order (each ends in ``_joint``).
G1_JOINT_NAMES: Tuple[str, ...] = tuple(j["name"] for j in _DATA["joints"])
_JOINT_INDEX: Dict[str, int] = {n: i for i, n in enumerate(G1_JOINT_NAMES)}
#: Body moved by each joint (index into :data:`G1_BODY_NAMES`); equals ``joint index + 1``.
G1_JOINT_BODY: Tuple[int, ...] = tuple(_BODY_INDEX[j["body"]] for j in _DATA["joints"])
#: ``(29, 3)`` unit rotation axis of each joint in its body's frame.
G1_JOINT_AXES: np.ndarray = _frozen([j["axis"] for j in _DATA["joints"]])
#: ``(29,)`` official lower / upper position limits (rad), Unitree order.
G1_LOWER: np.ndarray = _frozen([j["range"][0] for j in _DATA["joints"]])
G1_UPPER: np.ndarray = _frozen([j["range"][1] for j in _DATA["joints"]])
#: ``(29,)`` official velocity limits (rad/s, URDF ``<limit velocity>``), Unitree order.
G1_VELOCITY_LIMITS: np.ndarray = _frozen([j["velocity_limit"] for j in _DATA["joints"]])
#: Pelvis height (m) of the model standing with straight legs.
G1_PELVIS_HEIGHT: float = float(_DATA["standing_pelvis_height"])

assert len(G1_JOINT_NAMES) == 29 and len(G1_BODY_NAMES) == 30
assert G1_JOINT_BODY == tuple(range(1, 30)), "joint i must move body i + 1"


def _breadth_first(parents: Tuple[int, ...]) -> List[int]:
    """Breadth-first order of a tree given by parent indices (children in index order)."""
    children: Dict[int, List[int]] = {}
    for i, p in enumerate(parents):
        children.setdefault(p, []).append(i)
    order, frontier = [], list(children.get(-1, []))
    while frontier:
        order.extend(frontier)
        frontier = [c for b in frontier for c in children.get(b, [])]
    return order


#: Isaac body order as indices into :data:`G1_BODY_NAMES` (breadth-first from the pelvis).
ISAAC_BODY_ORDER: Tuple[int, ...] = tuple(_breadth_first(G1_BODY_PARENTS))
#: 30 body names in Isaac / BeyondMimic order.
ISAAC_BODY_NAMES: Tuple[str, ...] = tuple(G1_BODY_NAMES[i] for i in ISAAC_BODY_ORDER)
#: Parent of each Isaac-order body as an index into :data:`ISAAC_BODY_NAMES` (``-1`` for the pelvis).
ISAAC_BODY_PARENTS: Tuple[int, ...] = tuple(
    -1 if G1_BODY_PARENTS[b] < 0 else ISAAC_BODY_ORDER.index(G1_BODY_PARENTS[b]) for b in ISAAC_BODY_ORDER
)
#: Isaac joint order: ``isaac[k] = unitree[ISAAC_ORDER[k]]`` (the joints of the non-root
#: bodies in breadth-first order).
ISAAC_ORDER: Tuple[int, ...] = tuple(G1_JOINT_BODY.index(b) for b in ISAAC_BODY_ORDER[1:])
#: Inverse permutation: ``unitree[k] = isaac[UNITREE_FROM_ISAAC[k]]``.
UNITREE_FROM_ISAAC: Tuple[int, ...] = tuple(int(i) for i in np.argsort(ISAAC_ORDER))
#: 29 joint names in Isaac order.
ISAAC_JOINT_NAMES: Tuple[str, ...] = tuple(G1_JOINT_NAMES[i] for i in ISAAC_ORDER)

#: The 14 bodies BeyondMimic tracks (keypoint MPJPE), in its order.
BEYONDMIMIC_KEYPOINT_BODIES: Tuple[str, ...] = (
    "pelvis",
    "left_hip_roll_link", "left_knee_link", "left_ankle_roll_link",
    "right_hip_roll_link", "right_knee_link", "right_ankle_roll_link",
    "torso_link",
    "left_shoulder_roll_link", "left_elbow_link", "left_wrist_yaw_link",
    "right_shoulder_roll_link", "right_elbow_link", "right_wrist_yaw_link",
)

#: The 23-DoF G1 variant: the 29 joints without waist roll/pitch and wrist pitch/yaw (Unitree order).
G1_23DOF_NAMES: Tuple[str, ...] = tuple(
    n for n in G1_JOINT_NAMES
    if n not in {"waist_roll_joint", "waist_pitch_joint", "left_wrist_pitch_joint", "left_wrist_yaw_joint",
                 "right_wrist_pitch_joint", "right_wrist_yaw_joint"}
)


# -- lookups ---------------------------------------------------------------------------------------
def joint_index(name: str) -> int:
    """Unitree index of a joint name (full name, ending in ``_joint``)."""
    try:
        return _JOINT_INDEX[name]
    except KeyError:
        raise choices_error("G1 joint", name, G1_JOINT_NAMES) from None


def body_index(name: str) -> int:
    """Index of a body name in :data:`G1_BODY_NAMES` (MJCF order)."""
    try:
        return _BODY_INDEX[name]
    except KeyError:
        raise choices_error("G1 body", name, G1_BODY_NAMES) from None


def _check_last_axis(x: Array, n: int, what: str) -> None:
    if x.ndim < 1 or x.shape[-1] != n:
        raise MotionLabError(f"{what} must have {n} values on the last axis, got shape {tuple(x.shape)}")


def _take_last(x: Array, idx: Tuple[int, ...]) -> Array:
    if isinstance(x, torch.Tensor):
        return x[..., torch.as_tensor(idx, device=x.device)]
    return np.asarray(x)[..., list(idx)]


def unitree_to_isaac(x: Array) -> Array:
    """Reorder ``(..., 29)`` per-joint values from Unitree to Isaac order (numpy or torch)."""
    if not isinstance(x, torch.Tensor):
        x = np.asarray(x)
    _check_last_axis(x, 29, "joint values")
    return _take_last(x, ISAAC_ORDER)


def isaac_to_unitree(x: Array) -> Array:
    """Reorder ``(..., 29)`` per-joint values from Isaac to Unitree order (numpy or torch)."""
    if not isinstance(x, torch.Tensor):
        x = np.asarray(x)
    _check_last_axis(x, 29, "joint values")
    return _take_last(x, UNITREE_FROM_ISAAC)


# -- limits ----------------------------------------------------------------------------------------
def clamp_to_limits(q: Array) -> Array:
    """Clamp ``(..., 29)`` joint angles (rad, Unitree order) into the official position limits."""
    if isinstance(q, torch.Tensor):
        _check_last_axis(q, 29, "joint angles")
        lo = torch.tensor(G1_LOWER, dtype=q.dtype, device=q.device)
        hi = torch.tensor(G1_UPPER, dtype=q.dtype, device=q.device)
        return torch.clamp(q, lo, hi)
    q = np.asarray(q, dtype=np.float64)
    _check_last_axis(q, 29, "joint angles")
    return np.clip(q, G1_LOWER, G1_UPPER)


def _violations(excess: np.ndarray) -> Tuple[float, np.ndarray]:
    frames = excess.reshape(-1, 29)
    if frames.shape[0] == 0:
        return 0.0, np.zeros(29)
    fraction = float((frames > 0).any(axis=1).mean())
    return fraction, frames.max(axis=0)


def limit_violations(q: Array, tol: float = 0.0) -> Tuple[float, np.ndarray]:
    """Position-limit violations of ``(..., 29)`` joint angles (rad, Unitree order).

    Returns ``(fraction of frames with any joint outside [lower - tol, upper + tol],
    (29,) largest excess per joint in rad, 0 where never violated)`` against the official limits.
    """
    q = q.detach().cpu().numpy() if isinstance(q, torch.Tensor) else np.asarray(q, dtype=np.float64)
    _check_last_axis(q, 29, "joint angles")
    excess = np.maximum(np.maximum(q - G1_UPPER, G1_LOWER - q) - tol, 0.0)
    return _violations(excess)

