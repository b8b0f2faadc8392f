"""Name-based mapping of other skeletons onto the canonical SMPL-22 body.

Two functions:

* :func:`map_to_smpl22` resolves which source joint plays each SMPL-22 joint, by name (an alias
  table covering LAFAN1, CMU BVH, Mixamo, the older "Chest/UpArm/LowArm" BVH rigs and SMPL/SMPL-X
  names; matching ignores case, ``_``/``-``/``.``/spaces and any ``prefix:`` such as ``mixamorig:``)
  and, when the parents are known, by structure (the spine is the chain between the hips and the neck).
* :func:`to_smpl22` re-expresses a :class:`Motion` on :func:`~motionlab.core.body.smpl22_skeleton`
  scaled to the source's size, keeping the person's posture in the world. Each SMPL-22 joint's
  world rotation is the mapped source joint's world rotation times a fixed rest-alignment rotation
  ``A_j`` (:func:`rest_alignment`): one frame fit for the trunk (an upright rest trunk maps onto the
  upright SMPL trunk, whatever the rig's hip, spine and clavicle placement, e.g. CMU's zero-length
  ``LowerBack``), a heading-only turn for the flat rest feet, and for the limbs the rotation that
  points each SMPL bone where the source's bone points (T-pose vs A-pose, splayed rest legs). The
  root is placed so the SMPL hip joints' midpoint is the source's, and raised frame by frame so the
  lowest foot point is at the source's height (feet on the floor stay on it).

Ambiguous names are resolved by context: ``LeftFoot`` is the ankle unless an ankle joint exists
(then it is the toe, SMPL style); ``LeftShoulder`` is the collar when an arm joint (``LeftArm``,
``LeftUpArm``) exists, otherwise the shoulder. CMU's ``LHipJoint`` is skipped (``LeftUpLeg`` sits
at the hip). Joints a skeleton lacks are filled in: spine joints and the neck are interpolated
(slerp of world rotations) between their mapped neighbours, a missing toe follows the ankle and
a missing collar follows the chest. The pelvis, hips, knees, ankles, shoulders, elbows, wrists and
head are required.
"""

from __future__ import annotations

import re
from dataclasses import replace
from typing import Dict, List, Optional, Sequence

import numpy as np

from motionlab.core.body import SMPL22_NAMES, SMPL22_PARENTS, smpl22_skeleton
from motionlab.core.motion import Motion
from motionlab.core.rotations import matrix_to_quat, quat_fix_continuity, quat_slerp, quat_to_matrix, rot6d_to_matrix
from motionlab.errors import MotionLabError

__all__ = ["normalize_joint_name", "map_to_smpl22", "to_smpl22", "rest_alignment", "REQUIRED_SMPL22"]

REQUIRED_SMPL22 = (
    "pelvis", "left_hip", "right_hip", "left_knee", "right_knee", "left_ankle", "right_ankle",
    "head", "left_shoulder", "right_shoulder", "left_elbow", "right_elbow", "left_wrist", "right_wrist",
)

# Candidate names per side, best first, written for the left side with "{s}" = the side word.
# Each template is expanded to "left..."/"l..."/"...l" forms (and right) by _side_forms.
_SIDE_ALIASES: Dict[str, List[str]] = {
    "hip": ["upleg", "thigh", "upperleg", "hip"],
    "knee": ["leg", "lowleg", "lowerleg", "knee", "shin", "calf"],
    "ankle_explicit": ["ankle"],
    "ankle_foot": ["foot"],
    "toe": ["toebase", "toe", "toes", "ball", "toe0"],
    "collar_explicit": ["collar", "clavicle"],
    "arm": ["arm", "uparm", "upperarm"],
    "shoulder_word": ["shoulder"],
    "elbow": ["forearm", "lowarm", "lowerarm", "elbow"],
    "wrist": ["wrist", "hand"],  # SMPL-24 has both: L_Hand lies beyond the wrist
}
_SPINE_ORDER = ["lowerback", "spine", "spine0", "spine1", "spine2", "spine3", "spine4", "spine5",
                "torso", "abdomen", "chest", "chest1", "chest2", "chest3", "chest4", "upperchest"]
_PELVIS = ["hips", "pelvis", "hip"]
_NECK = ["neck", "neck0", "lowerneck", "neckbase", "neck1"]
_HEAD = ["head"]
_SPINE_SLOTS = ("spine1", "spine2", "spine3")
_CHAIN = ("pelvis", "spine1", "spine2", "spine3", "neck", "head")


def normalize_joint_name(name: str) -> str:
    """Lower case, without any ``prefix:``, ``Bip01`` prefix, or ``_ - . space`` characters."""
    base = str(name).rsplit(":", 1)[-1].lower()
    base = re.sub(r"[\s_\-.|]+", "", base)
    return re.sub(r"^bip0*1", "", base)


def _side_forms(words: Sequence[str], side: str) -> List[str]:
    full, short = ("left", "l") if side == "left" else ("right", "r")
    out = [full + w for w in words]
    out += [short + w for w in words] + [w + short for w in words] + [w + full for w in words]
    return out


def _pick(candidates: Sequence[str], lookup: Dict[str, str], used: set) -> Optional[str]:
    for c in candidates:
        src = lookup.get(c)
        if src is not None and src not in used:
            return src
    return None


def map_to_smpl22(names: Sequence[str], parents: Optional[Sequence[int]] = None) -> Dict[str, str]:
    """Which source joint plays each SMPL-22 joint.

    Args:
        names: the source joint names (any of the supported naming schemes).
        parents: optional ``(J,)`` parent indices of those joints; with them the spine is the
            chain of joints between the hips and the neck (else spine names are ordered by a
            table: LowerBack < Spine < Spine1 < Spine2 < Chest < UpperChest).

    Returns:
        ``{smpl_name: source_name}`` for every SMPL-22 joint found. Spine joints beyond three are
        merged (first, middle and last kept); missing spine/neck/collar/toe joints are absent from
        the dict (:func:`to_smpl22` fills them in).

    Raises:
        MotionLabError: when a required joint (see ``REQUIRED_SMPL22``) cannot be found; the
            message lists the missing SMPL joints and the source names seen.
    """
    names = [str(n) for n in names]
    lookup: Dict[str, str] = {}
    for n in names:
        lookup.setdefault(normalize_joint_name(n), n)
    used: set = set()
    out: Dict[str, str] = {}

    def take(smpl: str, candidates: Sequence[str]) -> None:
        src = _pick(candidates, lookup, used)
        if src is not None:
            out[smpl] = src
            used.add(src)

    take("pelvis", _PELVIS)
    for side in ("left", "right"):
        forms = {k: _side_forms(v, side) for k, v in _SIDE_ALIASES.items()}
        take(f"{side}_hip", forms["hip"])
        take(f"{side}_knee", forms["knee"])
        explicit_ankle = _pick(forms["ankle_explicit"], lookup, used)
        if explicit_ankle is not None:  # SMPL style: "foot" is then the toe joint
            take(f"{side}_ankle", forms["ankle_explicit"])
            take(f"{side}_foot", forms["ankle_foot"] + forms["toe"])
        else:
            take(f"{side}_ankle", forms["ankle_foot"])
            take(f"{side}_foot", forms["toe"])
        has_arm = _pick(forms["arm"], lookup, used) is not None
        if _pick(forms["collar_explicit"], lookup, used) is not None:
            take(f"{side}_collar", forms["collar_explicit"])
        elif has_arm:  # LAFAN1 / CMU / Mixamo: "LeftShoulder" is the clavicle
            take(f"{side}_collar", forms["shoulder_word"])
        take(f"{side}_shoulder", forms["arm"] + forms["shoulder_word"])
        take(f"{side}_elbow", forms["elbow"])
        take(f"{side}_wrist", forms["wrist"])
    take("head", _HEAD)
    take("neck", _NECK)

    missing = [n for n in REQUIRED_SMPL22 if n not in out]
    if missing:
        raise MotionLabError(
            f"cannot map the skeleton onto SMPL-22: no joint found for {', '.join(missing)}; "
            f"source joints seen: {', '.join(names)}",
            place="joint names",
        )

    # the spine: by structure when parents are given, else by name
    if parents is not None:
        par = np.asarray(parents, dtype=np.int64)
        if par.shape != (len(names),):
            raise MotionLabError(f"{len(names)} joint names but parents of shape {par.shape}", place="parents")
        index = {n: i for i, n in enumerate(names)}
        _check_ancestry(out, index, par)
        top = index[out.get("neck", out["head"])]
        chain: List[str] = []
        j = int(par[top])
        while j >= 0 and j != index[out["pelvis"]]:
            chain.append(names[j])
            j = int(par[j])
        chain.reverse()
        chain = [c for c in chain if c not in used]
    else:
        chain = [lookup[s] for s in _SPINE_ORDER if s in lookup and lookup[s] not in used]
    k = len(chain)
    if k >= 3:
        picks = [chain[round(i * (k - 1) / 2)] for i in range(3)]
        out.update(zip(_SPINE_SLOTS, picks))
    elif k == 2:
        out["spine1"], out["spine3"] = chain
    elif k == 1:
        out["spine3"] = chain[0]
    return {n: out[n] for n in SMPL22_NAMES if n in out}


def _check_ancestry(mapping: Dict[str, str], index: Dict[str, int], par: np.ndarray) -> None:
    """Each mapped SMPL joint's source joint must descend from its SMPL parent's source joint."""
    for j, smpl in enumerate(SMPL22_NAMES):
        p = SMPL22_PARENTS[j]
        while p >= 0 and SMPL22_NAMES[p] not in mapping:
            p = SMPL22_PARENTS[p]
        if p < 0 or smpl not in mapping:
            continue
        child, anc = index[mapping[smpl]], index[mapping[SMPL22_NAMES[p]]]
        a = int(par[child])
        while a >= 0 and a != anc:
            a = int(par[a])
        if a != anc:
            raise MotionLabError(
                f"joint {mapping[smpl]!r} (SMPL {smpl}) is not below {mapping[SMPL22_NAMES[p]]!r} "
                f"(SMPL {SMPL22_NAMES[p]}) in the source hierarchy; the names do not describe a body",
                place="joint names",
            )


# --- motion retargeting ------------------------------------------------------------------------------


def _fit_rotation(u: np.ndarray, v: np.ndarray) -> np.ndarray:
    """Rotation ``A`` with ``A u_i ~ v_i`` for unit rows ``u, v (k, 3)`` (Kabsch; k = 1: the smallest)."""
    if len(u) >= 2:
        U, S, Vt = np.linalg.svd(v.T @ u)
        if S[1] > 1e-6 * S[0]:
            d = np.sign(np.linalg.det(U @ Vt)) or 1.0
            return U @ np.diag([1.0, 1.0, d]) @ Vt
    a, b = u[0], v[0]
    axis = np.cross(a, b)
    s, c = np.linalg.norm(axis), float(np.dot(a, b))
    if s < 1e-12:
        if c > 0:
            return np.eye(3)
        perp = np.cross(a, [1.0, 0.0, 0.0])
        if np.linalg.norm(perp) < 1e-6:
            perp = np.cross(a, [0.0, 1.0, 0.0])
        perp /= np.linalg.norm(perp)
        return 2.0 * np.outer(perp, perp) - np.eye(3)  # 180 degrees about a perpendicular axis
    k = axis / s
    K = np.array([[0, -k[2], k[1]], [k[2], 0, -k[0]], [-k[1], k[0], 0]])
    return np.eye(3) + s * K + (1 - c) * (K @ K)


def _unit(x: np.ndarray) -> Optional[np.ndarray]:
    n = np.linalg.norm(x)
    return x / n if n > 1e-9 else None


def _path_length(parents: np.ndarray, offsets: np.ndarray, a: int, b: int) -> float:
    """Sum of bone lengths on the tree path between joints ``a`` and ``b``."""
    def up(j):
        path = [j]
        while parents[path[-1]] >= 0:
            path.append(int(parents[path[-1]]))
        return path

    pa, pb = up(a), up(b)
    common = next(j for j in pa if j in set(pb))
    bones = pa[: pa.index(common)] + pb[: pb.index(common)]
    return float(sum(np.linalg.norm(offsets[j]) for j in bones))


#: SMPL-22 joints of the trunk: in every rig's rest pose the trunk stands upright, so they share one
#: rest alignment, fitted as a frame (the pelvis-to-head line, then the hip line) instead of bone by
#: bone: where a rig puts its hip joints, its first spine joint or its clavicles relative to the root,
#: and how its rest spine curves, are rig conventions, not posture.
_TRUNK = ("pelvis", "spine1", "spine2", "spine3")
#: Joints whose rest pose is the same neutral one in every rig (head level, shoulders not shrugged)
#: while their rest bones depend on where the rig puts the joints (CMU's ``Neck`` sits on the chest,
#: SMPL's at the base of the neck): they take the trunk's rest alignment, so a source at rest gives
#: the SMPL body at rest, and their motion relative to the chest carries over.
_NEUTRAL = ("neck", "head", "left_collar", "right_collar")
_FOOT_JOINTS = ("left_ankle", "right_ankle", "left_foot", "right_foot")


def _frame(up: np.ndarray, lateral: np.ndarray) -> np.ndarray:
    """Orthonormal frame ``(3, 3)``: columns ``up``, ``lateral`` made orthogonal to it, their cross product."""
    return rot6d_to_matrix(np.concatenate([up, lateral]))


def _yaw_between(u: np.ndarray, v: np.ndarray) -> np.ndarray:
    """Rotation about +Z carrying the ground projection of ``u`` onto that of ``v`` (identity if either is vertical)."""
    a, b = u[:2], v[:2]
    if np.linalg.norm(a) < 1e-9 or np.linalg.norm(b) < 1e-9:
        return np.eye(3)
    ang = np.arctan2(b[1], b[0]) - np.arctan2(a[1], a[0])
    c, s = np.cos(ang), np.sin(ang)
    return np.array([[c, -s, 0.0], [s, c, 0.0], [0.0, 0.0, 1.0]])


def _about_axis(u: np.ndarray, v: np.ndarray, axis: np.ndarray) -> np.ndarray:
    """Rotation about unit-ish ``axis`` carrying the projection of ``u`` on the plane normal to it onto
    that of ``v`` (identity when either projection is short: a bone along the axis)."""
    k = axis / np.linalg.norm(axis)
    a, b = u - np.dot(u, k) * k, v - np.dot(v, k) * k
    if np.linalg.norm(a) < 0.3 * np.linalg.norm(u) or np.linalg.norm(b) < 0.3 * np.linalg.norm(v):
        return np.eye(3)
    ang = np.arctan2(np.dot(np.cross(a, b), k), np.dot(a, b))
    K = np.array([[0, -k[2], k[1]], [k[2], 0, -k[0]], [-k[1], k[0], 0]])
    return np.eye(3) + np.sin(ang) * K + (1 - np.cos(ang)) * (K @ K)


def _tip(skeleton, j: int) -> Optional[np.ndarray]:
    """Rest offset of a leaf's tip from joint ``j``: its End Site, else the mean offset of its children."""
    tip = skeleton.end_sites.get(j)
    if tip is None:
        kids = skeleton.children(j)
        tip = np.mean(skeleton.offsets[kids], axis=0) if kids else None
    return tip if tip is not None and np.linalg.norm(tip) > 1e-9 else None


def rest_alignment(src, mapping: Dict[str, str], target) -> Dict[int, np.ndarray]:
    """Rest-alignment rotations ``{SMPL joint index: A_j (3, 3)}`` from ``target`` (the SMPL-22 body)
    to the source skeleton ``src`` (both at rest: identity rotations, so world = local vectors).

    ``world_smpl_j = world_source_j @ A_j``, by kind of joint:

    * the trunk (:data:`_TRUNK`: pelvis, spine, chest): one rotation, the frame of the pelvis-to-head
      line and the hip line fitted onto the source's: an upright source rest
      pose gives the upright SMPL rest trunk whatever the rig's joint placement and spine curve;
    * the neck, the head and the collars (:data:`_NEUTRAL`): the trunk's rotation;
    * limbs (hips, knees, shoulders, elbows, wrists): the parent's rotation, then a turn about
      the body's forward axis (the frontal-plane difference: an A-pose arm, CMU's splayed rest legs),
      then the smallest rotation left, so the SMPL bone points where the source's points and the
      twist about it follows the parent's. A bone of zero length in the
      source (a joint on top of its child) is measured to the
      next mapped joint below that is not on top of it, on both bodies;
    * the feet (ankle and toe): the rest feet stand flat in every rig, so only the heading of the foot
      (ankle to toe on the ground) is matched, a rotation about the vertical;

    leaves (the wrists) point their tips (End Site, else the mean of their children) where the
    source's do; a joint with nothing to measure takes its parent's rotation.
    """
    src_rest, _ = src.rest_fk()
    tgt_rest, _ = target.rest_fk()
    sidx = {smpl: src.index(name) for smpl, name in mapping.items()}
    tix = {n: i for i, n in enumerate(SMPL22_NAMES)}
    size = max(float(np.ptp(src_rest, axis=0).max()), 1e-9)
    children = {j: [c for c in range(len(SMPL22_NAMES)) if SMPL22_PARENTS[c] == j] for j in range(len(SMPL22_NAMES))}

    def vectors(j: str, d: str):
        """(target, source) unit vectors from ``j`` to ``d``, descending past source joints on top of ``j``."""
        while True:
            v = src_rest[sidx[d]] - src_rest[sidx[j]] if d in sidx else None
            if v is not None and np.linalg.norm(v) > 1e-3 * size:
                u = tgt_rest[tix[d]] - tgt_rest[tix[j]]
                return u / np.linalg.norm(u), v / np.linalg.norm(v)
            below = [c for c in children[tix[d]]]
            if len(below) != 1:  # not a chain: take the first mapped child on the SMPL tree
                below = [c for c in below if SMPL22_NAMES[c] in sidx][:1]
            if not below:
                return None
            d = SMPL22_NAMES[below[0]]

    align: Dict[int, np.ndarray] = {}
    trunk: Optional[np.ndarray] = None
    for j, name in enumerate(SMPL22_NAMES):
        if name not in mapping:
            continue
        A = None
        if name in _TRUNK or name in _NEUTRAL:
            if trunk is None:
                up = vectors("pelvis", "head")
                lat = src_rest[sidx["left_hip"]] - src_rest[sidx["right_hip"]]
                if up is not None and np.linalg.norm(lat) > 1e-3 * size:
                    trunk = _frame(up[1], lat) @ _frame(up[0], tgt_rest[tix["left_hip"]] - tgt_rest[tix["right_hip"]]).T
                else:
                    trunk = np.eye(3)
            A = trunk
        elif name in _FOOT_JOINTS:
            side = name.split("_")[0]
            ankle = f"{side}_ankle"
            toe = vectors(ankle, f"{side}_foot") if f"{side}_foot" in sidx else None
            if toe is None:
                tip = _tip(src, sidx[ankle])
                toe = (tgt_rest[tix[f"{side}_foot"]] - tgt_rest[tix[ankle]], tip) if tip is not None else None
            if toe is not None:
                A = _yaw_between(toe[0], toe[1])
        else:
            bones = [vectors(name, SMPL22_NAMES[c]) for c in children[j]]
            bones = [b for b in bones if b is not None]
            if not bones:  # a leaf: its tip on both bodies
                u = target.end_sites.get(j)
                v = _tip(src, sidx[name])
                bones = [(u / np.linalg.norm(u), v / np.linalg.norm(v))] if u is not None and v is not None else []
            if bones:
                p = SMPL22_PARENTS[j]
                while p >= 0 and p not in align:
                    p = SMPL22_PARENTS[p]
                P = align[p] if p >= 0 else np.eye(3)
                us, vs = np.array([P @ b[0] for b in bones]), np.array([b[1] for b in bones])
                R = _about_axis(us[0], vs[0], P @ np.array([1.0, 0.0, 0.0])) if len(us) == 1 else np.eye(3)
                A = _fit_rotation(us @ R.T, vs) @ R @ P
        if A is None:
            p = SMPL22_PARENTS[j]
            A = align.get(p, np.eye(3)) if p >= 0 else np.eye(3)
        align[j] = A
    return align


def _lowest_foot_point(skeleton, pos: np.ndarray, rot: np.ndarray, joints: Sequence[int]) -> np.ndarray:
    """``(T,)`` height of the lowest of the foot ``joints`` and their End Sites (world ``pos``/``rot``)."""
    z = [pos[:, joints, 2]]
    for j in joints:
        if j in skeleton.end_sites:
            z.append((pos[:, j] + rot[:, j] @ skeleton.end_sites[j])[:, 2:3])
    return np.concatenate(z, axis=1).min(axis=1)


def to_smpl22(motion: Motion) -> Motion:
    """``motion`` re-expressed on the SMPL-22 body (see the module docstring).

    The target skeleton is ``smpl22_skeleton(scale)`` with ``scale`` matching the source's
    ankle-to-head path length; the root puts the SMPL hips' midpoint on the source's, raised per
    frame so the lowest foot point (ankle and toe joints, their End Sites) is at the source's height;
    extras and metadata are kept (``meta["smpl22_mapping"]`` records the joint mapping). Limb bones
    in world space point where the source's bones point; the trunk and the feet keep the source's
    posture (see :func:`rest_alignment`).
    """
    src = motion.skeleton
    try:
        mapping = map_to_smpl22(src.names, src.parents)
    except MotionLabError as e:
        raise e.with_file(motion.meta["source"]) if motion.meta.get("source") else e
    sidx = {smpl: src.index(name) for smpl, name in mapping.items()}
    base = smpl22_skeleton()
    T = motion.num_frames

    src_size = (_path_length(src.parents, src.offsets, sidx["left_ankle"], sidx["pelvis"])
                + _path_length(src.parents, src.offsets, sidx["pelvis"], sidx["head"]))
    tix = {n: i for i, n in enumerate(SMPL22_NAMES)}
    smpl_size = (_path_length(base.parents, base.offsets, tix["left_ankle"], tix["pelvis"])
                 + _path_length(base.parents, base.offsets, tix["pelvis"], tix["head"]))
    if src_size <= 0:
        raise MotionLabError("the source skeleton has zero size (all offsets zero)", place="skeleton offsets",
                             file=motion.meta.get("source"))
    target = smpl22_skeleton(src_size / smpl_size)

    align = rest_alignment(src, mapping, target)
    src_pos, src_world = motion.fk()
    world = np.zeros((T, len(SMPL22_NAMES), 3, 3))
    for j, A in align.items():
        world[:, j] = src_world[:, sidx[SMPL22_NAMES[j]]] @ A
    # joints the source lacks
    if T:
        for i, name in enumerate(_CHAIN):
            if name in mapping:
                continue
            lo = max(k for k in range(i) if _CHAIN[k] in mapping)
            hi = min(k for k in range(i + 1, len(_CHAIN)) if _CHAIN[k] in mapping)
            qa = matrix_to_quat(world[:, tix[_CHAIN[lo]]])
            qb = matrix_to_quat(world[:, tix[_CHAIN[hi]]])
            world[:, tix[name]] = quat_to_matrix(quat_slerp(qa, qb, np.full(T, (i - lo) / (hi - lo))))
        for side in ("left", "right"):
            if f"{side}_collar" not in mapping:
                world[:, tix[f"{side}_collar"]] = world[:, tix["spine3"]]
            if f"{side}_foot" not in mapping:
                world[:, tix[f"{side}_foot"]] = world[:, tix[f"{side}_ankle"]]

    local = world.copy()
    par = np.asarray(SMPL22_PARENTS)
    local[:, 1:] = np.swapaxes(world[:, par[1:]], -1, -2) @ world[:, 1:]
    quat = quat_fix_continuity(matrix_to_quat(local), dim=0) if T else np.zeros((0, len(SMPL22_NAMES), 4))
    meta = dict(motion.meta)
    meta["smpl22_mapping"] = dict(mapping)
    # the root: the SMPL hip joints' midpoint on the source's (rigs put their root joint at different
    # places between the hips), ...
    tgt_rest, _ = target.rest_fk()
    mid_rest = 0.5 * (tgt_rest[tix["left_hip"]] + tgt_rest[tix["right_hip"]])
    mid_src = 0.5 * (src_pos[:, sidx["left_hip"]] + src_pos[:, sidx["right_hip"]])
    root = mid_src - world[:, 0] @ mid_rest
    out = replace(motion, skeleton=target, root_pos=root, local_quat=quat,
                  joint_pos=None, extras={k: v.copy() for k, v in motion.extras.items()}, meta=meta)
    if T:
        # ... and, frame by frame, the lowest foot point (joints and End Sites of the ankles and toes)
        # at the height of the source's: the two bodies' legs differ in length, and a foot on the floor
        # in the input must stay on it (flight phases keep their height)
        src_low = _lowest_foot_point(src, src_pos, src_world, [sidx[n] for n in _FOOT_JOINTS if n in sidx])
        tpos, trot = out.fk()
        out.root_pos[:, 2] += src_low - _lowest_foot_point(target, tpos, trot, [tix[n] for n in _FOOT_JOINTS])
    return out
