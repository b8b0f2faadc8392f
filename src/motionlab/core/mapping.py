"""Name-based mapping of other skeletons onto the canonical SMPL-22 body.

Two functions:

* :func:`map_to_smpl22` resolves which source joint plays each SMPL-22 joint, by name (an alias
  table covering LAFAN1, CMU BVH, Mixamo, the older "Chest/UpArm/LowArm" BVH rigs and SMPL/SMPL-X
  names; matching ignores case, ``_``/``-``/``.``/spaces and any ``prefix:`` such as ``mixamorig:``)
  and, when the parents are known, by structure (the spine is the chain between the hips and the neck).
* :func:`to_smpl22` re-expresses a :class:`Motion` on :func:`~motionlab.core.body.smpl22_skeleton`
  scaled to the source's size. Each SMPL-22 joint's world rotation is the mapped source joint's
  world rotation times a fixed rest-alignment rotation ``A_j``, the rotation that best carries the
  SMPL rest directions of the joint's bones onto the source's rest directions of the same bones
  (Kabsch fit; one bone: the smallest such rotation). Rest-pose differences (T-pose vs A-pose) and
  bone-axis conventions cancel, so the SMPL bones point where the source's bones point.

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
from motionlab.core.rotations import matrix_to_quat, quat_fix_continuity, quat_slerp, quat_to_matrix
from motionlab.errors import MotionLabError

__all__ = ["normalize_joint_name", "map_to_smpl22", "to_smpl22", "REQUIRED_SMPL22"]

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


def to_smpl22(motion: Motion) -> Motion:
    """``motion`` re-expressed on the SMPL-22 body (see the module docstring).

    The target skeleton is ``smpl22_skeleton(scale)`` with ``scale`` matching the source's
    ankle-to-head path length; the root position is the source pelvis/hips position; extras
    and metadata are kept (``meta["smpl22_mapping"]`` records the joint mapping). Bone directions
    in world space follow the source's bones exactly where the mapped source joints are parent and
    child; across skipped source joints (CMU's ``LHipJoint``, ``Neck1``, extra spine joints) they
    follow the upper joint's rotation.
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

    src_rest, _ = src.rest_fk()  # identity world rotations: world vectors are local vectors too
    tgt_rest, _ = target.rest_fk()
    children = {j: [c for c in range(len(SMPL22_NAMES)) if SMPL22_PARENTS[c] == j] for j in range(len(SMPL22_NAMES))}

    def mapped_below(c: int) -> Optional[int]:
        while SMPL22_NAMES[c] not in mapping:
            if len(children[c]) != 1:
                return None
            c = children[c][0]
        return c

    align: Dict[int, np.ndarray] = {}
    for j, name in enumerate(SMPL22_NAMES):
        if name not in mapping:
            continue
        us, vs = [], []
        for c in children[j]:
            d = mapped_below(c)
            if d is None:
                continue
            u = _unit(tgt_rest[d] - tgt_rest[j])
            v = _unit(src_rest[sidx[SMPL22_NAMES[d]]] - src_rest[sidx[name]])
            if u is not None and v is not None:
                us.append(u)
                vs.append(v)
        if not us:  # a leaf: use end sites / the source's children when both sides have a tip
            u = _unit(target.end_sites[j]) if j in target.end_sites else None
            s = sidx[name]
            tip = src.end_sites.get(s)
            if tip is None:
                kids = src.children(s)
                tip = np.mean(src.offsets[kids], axis=0) if kids else None
            v = _unit(tip) if tip is not None else None
            if u is not None and v is not None:
                us, vs = [u], [v]
        if us:
            align[j] = _fit_rotation(np.array(us), np.array(vs))
        else:
            p = SMPL22_PARENTS[j]
            align[j] = align.get(p, np.eye(3)) if p >= 0 else np.eye(3)

    _, src_world = motion.fk()
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
    src_pos = motion.positions()
    meta = dict(motion.meta)
    meta["smpl22_mapping"] = dict(mapping)
    root = src_pos[:, sidx["pelvis"]].copy()
    out = replace(motion, skeleton=target, root_pos=root, local_quat=quat,
                  joint_pos=None, extras={k: v.copy() for k, v in motion.extras.items()}, meta=meta)
    if T:
        # the two bodies' legs differ in length: keep the feet where the source's feet are, so the
        # clip's floor contact (and with it foot-skating and penetration numbers) survives the mapping
        feet = [n for n in ("left_ankle", "right_ankle", "left_foot", "right_foot") if n in mapping]
        if feet:
            src_low = src_pos[:, [sidx[n] for n in feet], 2].min()
            tgt_low = out.positions()[:, [tix[n] for n in feet], 2].min()
            out.root_pos[:, 2] += src_low - tgt_low
    return out
