"""Planted G1 feet: stance soles pinned in the world by a batched leg IK once the root is placed.

The network predicts joint angles for a root that follows the scaled human root (as the paired data
are made), but its legs are not exactly consistent with that root: a planted foot drifts (on the
tiny corpus's held-out clips at 0.18 m/s on average with the scaled human root, 0.11 m/s with the
root stepping with the stance feet, :mod:`.root`) and, in a pelvis turn that the hip yaw does not
follow, both planted feet twist, which no root step can undo. This post-process holds them:

1. **contacts** from the human input (:func:`motionlab.data.character_state.estimate_soft_contacts`:
   the lowest foot point within 3 cm of the floor and slower than 0.3 m/s, soft) above 0.5, per
   foot, in runs of at least 2 frames;
2. **pin runs**: each contact run (its frames where the robot's sole is below ``high``, 10 cm: a
   foot the network lifted is left alone), extended on either side while the robot's sole stays
   below ``low`` (5 cm, the skating metric's contact band), so a foot does not catch up with the
   network's path while it is still on the ground; never past the midpoint to the next run of that
   foot, and where two runs meet the anchor eases from one to the next;
3. **anchors**: over a pin run the sole centre keeps one horizontal position and the foot one heading,
   their means over the run (height, pitch and roll stay free: heel and toe still roll); the target
   eases from the network's foot to the anchor over ``blend_s`` on either side (raised cosine), so
   the leg joints do not jump where a foot lands or lifts;
4. **IK**: the 6 joints of each leg (hip pitch/roll/yaw, knee, ankle pitch/roll) minimise the
   squared distance to the target (sole centre in m, heading as 0.1 m per rad) plus ``prior`` times
   the squared change from the network's angles (rad^2), by damped Gauss-Newton on the analytic
   Jacobian of motionlab's G1 FK (revolute joints: ``axis x (point - joint)``), all frames and both
   legs at once, projected into the official joint limits after each step. The prior keeps the legs
   close to what the network predicted: a foot that the network lets drift fast is slowed to a few
   mm/s rather than wrenched into place, which measured better for skating and joint error alike.

Only frames with a target move; the root, the waist and the arms are not changed.
"""

from __future__ import annotations

from typing import Dict, List, NamedTuple, Tuple

import numpy as np

from motionlab.core.motion import Motion
from motionlab.data.features import heading_yaw
from motionlab.recipes.retarget.root import G1_SOLE_POINTS

#: Unitree indices of the 6 leg joints (hip pitch, roll, yaw, knee, ankle pitch, roll), left then right.
LEG_JOINTS = ((0, 1, 2, 3, 4, 5), (6, 7, 8, 9, 10, 11))
#: MJCF-order body indices of the two ``*_ankle_roll_link`` bodies (joint ``i`` moves body ``i + 1``).
FOOT_BODIES = (6, 12)
#: The point of the foot that IK places: the centre of the four sole points (ankle-roll-link frame, m).
SOLE_CENTRE = np.array([0.035, 0.0, -0.035])


def human_contacts(human: Motion, threshold: float = 0.5, min_frames: int = 2) -> np.ndarray:
    """``(T, 2)`` booleans (left, right): the human's foot is planted (soft contact above ``threshold``,
    in runs of at least ``min_frames`` frames). A skeleton without SMPL-22 feet gives no contacts."""
    from motionlab.data.character_state import estimate_soft_contacts

    try:
        c = estimate_soft_contacts(human) > threshold
    except (KeyError, ValueError, IndexError):  # no feet or toe end sites to measure
        return np.zeros((human.num_frames, 2), dtype=bool)
    for f in range(c.shape[1]):
        for a, b in contact_runs(c[:, f]):
            if b - a < min_frames:
                c[a:b, f] = False
    return c


def contact_runs(contact: np.ndarray) -> List[Tuple[int, int]]:
    """Half-open ``[start, end)`` frame ranges where ``contact (T,)`` is True."""
    c = np.concatenate([[False], np.asarray(contact, dtype=bool), [False]])
    edges = np.flatnonzero(np.diff(c.astype(np.int8)))
    return [(int(a), int(b)) for a, b in zip(edges[::2], edges[1::2])]


def pin_runs(human_contact: np.ndarray, low: np.ndarray) -> List[Tuple[int, int]]:
    """Frame ranges ``[start, end)`` over which one foot is pinned: each run of the human's contact
    ``(T,)``, extended on either side while the robot's sole stays low (``low (T,)``), but never past
    the midpoint to the neighbouring contact run, so two steps never share one anchor (where two runs
    meet, :func:`foot_targets` eases from one anchor to the next)."""
    runs = contact_runs(human_contact)
    T = len(low)
    out = []
    for i, (a, b) in enumerate(runs):
        left = (runs[i - 1][1] + a + 1) // 2 if i > 0 else 0
        right = (b + runs[i + 1][0]) // 2 if i + 1 < len(runs) else T
        while a > left and low[a - 1]:
            a -= 1
        while b < right and low[b]:
            b += 1
        out.append((a, b))
    return out


def _wrap(a: np.ndarray) -> np.ndarray:
    return (a + np.pi) % (2.0 * np.pi) - np.pi


def foot_targets(sole: np.ndarray, heading: np.ndarray, runs: List[List[Tuple[int, int]]], blend: int
                 ) -> Tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per-frame targets of the sole centres and foot headings from the pin runs (steps 2-3 above).

    Args:
        sole: ``(T, 2, 3)`` world sole centre of each foot (m).
        heading: ``(T, 2)`` heading of each foot (rad).
        runs: per foot, the pin runs ``[start, end)``.
        blend: frames of easing on either side of a run.

    Returns:
        ``target_sole (T, 2, 3)`` (height unchanged: only the horizontal position is pinned),
        ``target_heading (T, 2)`` and ``weight (T, 2)`` (0 = free foot: the target is the current pose).
    """
    T = len(sole)
    total = np.zeros((T, 2))  # sum of the easing weights of the runs that reach each frame
    xy_sum = np.zeros((T, 2, 2))
    dir_sum = np.zeros((T, 2, 2))  # weighted (cos, sin) of the anchor headings
    ramp = 0.5 + 0.5 * np.cos(np.pi * np.arange(1, blend + 1) / (blend + 1))  # (blend,) from ~1 to ~0
    for f in range(2):
        for a, b in runs[f]:
            xy = sole[a:b, f, :2].mean(axis=0)
            h = np.array([np.cos(heading[a:b, f]).mean(), np.sin(heading[a:b, f]).mean()])
            lo, hi = max(0, a - blend), min(T, b + blend)
            w = np.zeros(hi - lo)
            w[a - lo:b - lo] = 1.0
            w[:a - lo] = ramp[:a - lo][::-1]
            w[b - lo:] = ramp[:hi - b]
            total[lo:hi, f] += w
            xy_sum[lo:hi, f] += w[:, None] * xy
            dir_sum[lo:hi, f] += w[:, None] * h / max(float(np.linalg.norm(h)), 1e-9)
    # where the easings of two runs overlap, the anchor moves smoothly from one to the other
    on = total > 0
    anchor_xy = np.where(on[..., None], xy_sum / np.maximum(total, 1e-12)[..., None], sole[..., :2])
    anchor_h = np.where(on, np.arctan2(dir_sum[..., 1], dir_sum[..., 0]), heading)
    weight = np.minimum(total, 1.0)
    target = np.array(sole, dtype=np.float64)
    target[..., :2] += weight[..., None] * (anchor_xy - sole[..., :2])
    target_heading = heading + weight * _wrap(anchor_h - heading)
    return target, target_heading, weight


class LegIK(NamedTuple):
    """Result of :func:`leg_ik`."""

    joint_pos: np.ndarray  #: (T, 29) rad, leg joints changed where active, inside the official limits
    lowest_sole: np.ndarray  #: (T, 2) height (m) of each foot's lowest sole point afterwards (NaN: not solved)
    foot_error_mm: float  #: mean remaining sole-centre distance to the target over the active legs
    foot_error_rad: float  #: mean remaining heading error over the active legs


def _lowest_sole(foot_pos: np.ndarray, foot_rot: np.ndarray) -> np.ndarray:
    """``(..., F)`` height of the lowest sole point of feet at ``(..., F, 3)`` with rotations ``(..., F, 3, 3)``."""
    return foot_pos[..., 2] + np.einsum("...ij,pj->...pi", foot_rot, G1_SOLE_POINTS)[..., 2].min(axis=-1)


def leg_ik(root_pos: np.ndarray, root_quat: np.ndarray, joint_pos: np.ndarray, target_sole: np.ndarray,
           target_heading: np.ndarray, active: np.ndarray, iters: int = 2, prior: float = 1e-2,
           damping: float = 1e-3, rot_scale: float = 0.1, max_step: float = 0.25) -> LegIK:
    """Leg joints that bring each foot's sole centre and heading onto its target (step 4 above).

    Args:
        root_pos, root_quat: ``(T, 3)``, ``(T, 4)`` the root (w first), unchanged.
        joint_pos: ``(T, 29)`` joint angles (rad, Unitree order) inside the official limits.
        target_sole: ``(T, 2, 3)`` target world position of each foot's sole centre (m).
        target_heading: ``(T, 2)`` target heading of each foot (rad about Z; pitch and roll are free).
        active: ``(T, 2)`` booleans: the legs to solve (the others keep their joints).
        iters: Gauss-Newton iterations (2 reach the regularised optimum to well under 1 mm here).
        prior: weight of the squared change from ``joint_pos`` (per rad^2, against m^2 of target error).
        damping: Levenberg damping added to the normal equations.
        rot_scale: metres a heading error of 1 rad counts as.
        max_step: largest change of one joint per iteration (rad; a longer step is scaled down whole).

    Returns:
        A :class:`LegIK`.
    """
    from motionlab.core.rotations import quat_to_matrix
    from motionlab.robots.g1 import G1_JOINT_AXES, G1_LOWER, G1_UPPER
    from motionlab.robots.g1_fk import g1_chain_fk

    q = np.array(joint_pos, dtype=np.float64)
    lowest = np.full(active.shape, np.nan)
    frames = np.flatnonzero(active.any(axis=1))
    if len(frames) == 0:
        return LegIK(q, lowest, 0.0, 0.0)
    rp, rr, qa = root_pos[frames], np.asarray(quat_to_matrix(root_quat[frames])), q[frames]
    legs = np.array(LEG_JOINTS)  # (2, 6)
    # the 12 leg bodies in MJCF order (body b is moved by joint b - 1): chain index = body - 1
    chain = tuple(int(b) for b in (legs + 1).ravel())
    feet = np.array(FOOT_BODIES) - 1
    on = active[frames]  # (N, 2)
    tp, th = target_sole[frames], target_heading[frames]
    axes = G1_JOINT_AXES[legs]  # (2, 6, 3) in each moved body's frame
    lo, hi = G1_LOWER[legs], G1_UPPER[legs]
    q0 = qa[:, legs].copy()
    eye = np.eye(6)
    for it in range(iters + 1):
        pos, rot = g1_chain_fk(rp, rr, qa, chain)
        fr = rot[:, feet]
        fp = pos[:, feet] + np.einsum("nfij,j->nfi", fr, SOLE_CENTRE)  # (N, 2, 3) sole centres
        e = np.concatenate([tp - fp, rot_scale * _wrap(th - heading_yaw(fr))[..., None]], axis=-1)  # (N, 2, 4)
        e[~on] = 0.0
        if it == iters:
            break
        jp, jr = pos[:, legs], rot[:, legs]  # (N, 2, 6, 3), (N, 2, 6, 3, 3): joint k moves chain body k
        a = np.einsum("nfkij,fkj->nfki", jr, axes)  # world joint axes
        x = fr[..., :, 0][:, :, None]  # (N, 2, 1, 3) forward axis of the foot
        dx = np.cross(a, x)  # its rate of change per joint
        dyaw = (x[..., 0] * dx[..., 1] - x[..., 1] * dx[..., 0]) / np.maximum(x[..., 0] ** 2 + x[..., 1] ** 2, 1e-6)
        jac = np.concatenate([np.cross(a, fp[:, :, None] - jp), rot_scale * dyaw[..., None]], axis=-1)  # (N, 2, 6, 4)
        lhs = np.einsum("nfki,nfli->nfkl", jac, jac) + (damping + prior) * eye
        rhs = np.einsum("nfki,nfi->nfk", jac, e) + prior * (q0 - qa[:, legs])
        step = np.linalg.solve(lhs, rhs[..., None])[..., 0]
        # a long step is shortened as a whole (its direction kept), so neighbouring frames stay alike
        step *= np.minimum(1.0, max_step / np.maximum(np.abs(step).max(axis=-1, keepdims=True), 1e-12))
        step[~on] = 0.0
        for f in range(2):
            qa[:, legs[f]] = np.clip(qa[:, legs[f]] + step[:, f], lo[f], hi[f])
    q[frames] = qa
    lowest[frames] = _lowest_sole(pos[:, feet], fr)
    err_p = np.linalg.norm(e[..., :3], axis=-1)[on]
    err_r = np.abs(e[..., 3])[on] / rot_scale
    return LegIK(q, lowest, float(err_p.mean() * 1e3), float(err_r.mean()))


def pin_stance_feet(human: Motion, root_pos: np.ndarray, root_quat: np.ndarray, joint_pos: np.ndarray,
                    blend_s: float = 0.1, low: float = 0.05, high: float = 0.1, iters: int = 2,
                    prior: float = 1e-2) -> Tuple[np.ndarray, np.ndarray, Dict[str, float]]:
    """Leg joints ``(T, 29)`` with the human's planted feet pinned in the world (the whole module).

    Args:
        human: the SMPL-22 clip at the robot's frame rate (``to_smpl22`` output, same frames).
        root_pos, root_quat: ``(T, 3)``, ``(T, 4)`` the robot's root (w first), not changed.
        joint_pos: ``(T, 29)`` joint angles (rad, Unitree order) inside the official limits.
        blend_s: easing time on either side of a pin run (s).
        low: sole height (m) below which a robot foot next to a contact run stays pinned.
        high: contact frames whose robot sole is higher than this (m) are not pinned (the network
            lifted the foot: pulling it down and across would take leg poses far from its own).
        iters: Gauss-Newton iterations of :func:`leg_ik`.
        prior: weight of the network's own leg angles in :func:`leg_ik`.

    Returns:
        The joints; ``(T,)`` the change of root height (m) that puts the lowest sole back where it was
        before the IK (heel and toe roll a little differently with the new legs); an info dict:
        ``contact_frames`` (fraction of foot-frames in a pin run), ``foot_error_mm`` /
        ``foot_error_rad`` (the IK's mean remaining distance to its targets).
    """
    from motionlab.core.rotations import quat_to_matrix
    from motionlab.robots.g1_fk import g1_chain_fk

    q = np.asarray(joint_pos, dtype=np.float64)
    T = len(q)
    contacts = human_contacts(human)
    if not contacts.any():
        return q.copy(), np.zeros(T), {"contact_frames": 0.0, "foot_error_mm": 0.0, "foot_error_rad": 0.0}
    pos, fr = g1_chain_fk(root_pos, np.asarray(quat_to_matrix(root_quat)), q, tuple(range(1, 13)))
    pos, fr = pos[:, np.array(FOOT_BODIES) - 1], fr[:, np.array(FOOT_BODIES) - 1]
    sole = pos + np.einsum("tfij,j->tfi", fr, SOLE_CENTRE)
    lowest = _lowest_sole(pos, fr)  # (T, 2)
    blend = max(0, int(round(blend_s * human.fps)))
    # a foot the network holds well above the floor while the human's is planted is not pulled down
    # across the room: only contact frames with the robot sole below ``high`` start a pin run
    runs = [pin_runs(contacts[:, f] & (lowest[:, f] < high), lowest[:, f] < low) for f in range(2)]
    tp, th, weight = foot_targets(sole, heading_yaw(fr), runs, blend)
    res = leg_ik(root_pos, root_quat, q, tp, th, weight > 0, iters=iters, prior=prior)
    after = np.where(np.isnan(res.lowest_sole), lowest, res.lowest_sole)
    dz = lowest.min(axis=1) - after.min(axis=1)
    pinned = np.zeros_like(contacts)
    for f in range(2):
        for a, b in runs[f]:
            pinned[a:b, f] = True
    return res.joint_pos, dz, {"contact_frames": float(pinned.mean()), "foot_error_mm": res.foot_error_mm,
                               "foot_error_rad": res.foot_error_rad}
