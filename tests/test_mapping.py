"""Name mapping onto SMPL-22 and retargeting a motion onto the SMPL-22 body."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.spatial.transform import Rotation

from motionlab.core.body import SMPL22_NAMES, SMPL22_PARENTS, smpl22_skeleton
from motionlab.core.mapping import map_to_smpl22, normalize_joint_name, to_smpl22
from motionlab.core.motion import Motion
from motionlab.core.rotations import matrix_to_quat, quat_slerp, quat_to_matrix
from motionlab.core.skeleton import Skeleton
from motionlab.errors import MotionLabError

LAFAN = dict(zip(SMPL22_NAMES, [
    "Hips", "LeftUpLeg", "RightUpLeg", "Spine", "LeftLeg", "RightLeg", "Spine1", "LeftFoot", "RightFoot",
    "Spine2", "LeftToe", "RightToe", "Neck", "LeftShoulder", "RightShoulder", "Head", "LeftArm", "RightArm",
    "LeftForeArm", "RightForeArm", "LeftHand", "RightHand"]))
CMU = dict(zip(SMPL22_NAMES, [
    "Hips", "LeftUpLeg", "RightUpLeg", "LowerBack", "LeftLeg", "RightLeg", "Spine", "LeftFoot", "RightFoot",
    "Spine1", "LeftToeBase", "RightToeBase", "Neck", "LeftShoulder", "RightShoulder", "Head", "LeftArm",
    "RightArm", "LeftForeArm", "RightForeArm", "LeftHand", "RightHand"]))
MIXAMO = {k: "mixamorig:" + v for k, v in LAFAN.items()}
MIXAMO.update(left_foot="mixamorig:LeftToeBase", right_foot="mixamorig:RightToeBase")
CMU_NAMES_31 = ("Hips LHipJoint LeftUpLeg LeftLeg LeftFoot LeftToeBase RHipJoint RightUpLeg RightLeg RightFoot "
                "RightToeBase LowerBack Spine Spine1 Neck Neck1 Head LeftShoulder LeftArm LeftForeArm LeftHand "
                "LeftFingerBase LeftHandIndex1 LThumb RightShoulder RightArm RightForeArm RightHand RightFingerBase "
                "RightHandIndex1 RThumb").split()


def test_normalize_joint_name():
    assert normalize_joint_name("mixamorig:LeftUpLeg") == "leftupleg"
    assert normalize_joint_name("Left_Up-Leg") == "leftupleg"
    assert normalize_joint_name("Bip01 L Thigh") == "lthigh"
    assert normalize_joint_name("ns:rig:HEAD") == "head"


@pytest.mark.parametrize("table", [LAFAN, CMU, MIXAMO])
def test_name_tables_map_back(table):
    names = list(table.values())
    assert map_to_smpl22(names) == table
    assert map_to_smpl22(names[::-1]) == table  # order does not matter
    assert map_to_smpl22([n.upper().replace("LEFT", "LEFT_") for n in names]) == {
        k: v.upper().replace("LEFT", "LEFT_") for k, v in table.items()}


def test_cmu_full_hierarchy_and_smpl_names():
    par = {"LHipJoint": "Hips", "LeftUpLeg": "LHipJoint", "LeftLeg": "LeftUpLeg", "LeftFoot": "LeftLeg",
           "LeftToeBase": "LeftFoot", "LowerBack": "Hips", "Spine": "LowerBack", "Spine1": "Spine",
           "Neck": "Spine1", "Neck1": "Neck", "Head": "Neck1", "LeftShoulder": "Spine1", "LeftArm": "LeftShoulder",
           "LeftForeArm": "LeftArm", "LeftHand": "LeftForeArm", "LeftFingerBase": "LeftHand",
           "LeftHandIndex1": "LeftFingerBase", "LThumb": "LeftHand"}
    par.update({k.replace("Left", "Right").replace("LH", "RH").replace("LT", "RT"):
                v.replace("Left", "Right").replace("LH", "RH") for k, v in par.items()})
    parents = [-1] + [CMU_NAMES_31.index(par[n]) for n in CMU_NAMES_31[1:]]
    assert map_to_smpl22(CMU_NAMES_31, parents) == CMU
    assert map_to_smpl22(CMU_NAMES_31) == CMU
    # SMPL / SMPL-X names map to themselves ("foot" is the toe when an ankle exists)
    smplx = SMPL22_NAMES + ["jaw", "left_eye_smplhf", "left_index1", "left_thumb1", "right_middle2"]
    assert map_to_smpl22(smplx, SMPL22_PARENTS + [15, 15, 20, 20, 21]) == {n: n for n in SMPL22_NAMES}


def test_other_bvh_rigs():
    # old "Chest / UpArm / LowArm" rigs: one spine joint, no toes
    m = map_to_smpl22("Hips Chest Neck Head LeftCollar LeftUpArm LeftLowArm LeftHand RightCollar RightUpArm "
                      "RightLowArm RightHand LeftUpLeg LeftLowLeg LeftFoot RightUpLeg RightLowLeg RightFoot".split())
    assert m["spine3"] == "Chest" and "spine1" not in m and "left_foot" not in m
    assert m["left_shoulder"] == "LeftUpArm" and m["left_ankle"] == "LeftFoot" and m["left_collar"] == "LeftCollar"
    # a rig with collars: "LeftShoulder" is then the shoulder; with ankles, no toe
    m = map_to_smpl22("Hips Chest Chest2 LeftCollar LeftShoulder LeftElbow LeftWrist RightCollar RightShoulder "
                      "RightElbow RightWrist Neck Head LeftHip LeftKnee LeftAnkle RightHip RightKnee RightAnkle".split())
    assert (m["spine1"], m["spine3"]) == ("Chest", "Chest2") and "spine2" not in m
    assert m["left_shoulder"] == "LeftShoulder" and m["left_ankle"] == "LeftAnkle" and m["left_hip"] == "LeftHip"


def test_missing_hands_error_lists_joints_and_names():
    names = [n for n in LAFAN.values() if not n.endswith("Hand")]
    with pytest.raises(MotionLabError) as err:
        map_to_smpl22(names)
    msg = str(err.value)
    assert "left_wrist" in msg and "right_wrist" in msg and "left_elbow" not in msg
    assert "LeftForeArm" in msg and "Hips" in msg  # the names seen


def test_names_that_are_not_a_body():
    names = list(LAFAN.values())
    parents = [-1] + [0] * (len(names) - 1)  # everything hangs off the hips: knees are not below hips
    with pytest.raises(MotionLabError, match="not below"):
        map_to_smpl22(names, parents)


# --- retargeting ---------------------------------------------------------------------------------


def base_motion(seed: int = 0, T: int = 12, identity_spine: bool = False) -> Motion:
    sk = smpl22_skeleton()
    rng = np.random.default_rng(seed)
    aa = rng.normal(scale=0.5, size=(T, 22, 3))
    if identity_spine:
        aa[:, [3, 6, 13, 14]] = 0.0  # spine1, spine2 and the collars do not bend
    q = matrix_to_quat(Rotation.from_rotvec(aa.reshape(-1, 3)).as_matrix().reshape(T, 22, 3, 3))
    return Motion(30.0, sk, rng.normal(size=(T, 3)) + [0, 0, 1.0], q, extras={"phase": np.arange(T) / T},
                  meta={"caption": "test"})


#: SMPL-22 joints whose rest orientation is a body part standing upright or neutral (trunk, neck, head,
#: collars) or flat (feet) in every rig: a disguise turns them together (trunk) or about the vertical only (feet).
TRUNK = [0, 3, 6, 9, 12, 13, 14, 15]
FEET = [7, 8, 10, 11]


def disguise(m: Motion, names: dict, scale: float = 1.0, insert: dict = None, seed: int = 1,
             C: np.ndarray = None, shift: dict = None) -> Motion:
    """The same motion on a skeleton with other names, another rest pose and other bone axes.

    Every joint j gets its own frame C_j (random: another bone-axis convention, one frame shared
    by the trunk joints and a turn about the vertical for the feet, so the rest body still has a
    straight trunk and flat feet; the shoulders also turn the arms down 45 degrees: an A-pose rest).
    Local rotations become C_p^T L C_j and offsets C_p^T o, so world positions are unchanged (times
    ``scale``). ``insert`` maps an SMPL joint to the name of an extra joint placed just above it
    (zero offset, identity rotation). ``C`` gives the frames instead (22, 3, 3); ``shift`` adds a
    vector (parent frame, metres before ``scale``) to a joint's offset: another rig's joint placement.
    """
    insert, shift = insert or {}, shift or {}
    rng = np.random.default_rng(seed)
    if C is None:
        C = Rotation.random(22, random_state=rng).as_matrix()
        C[TRUNK] = C[0]
        C[FEET] = Rotation.from_euler("z", rng.uniform(-np.pi, np.pi, (4, 1))).as_matrix()
        C[[10, 11]] = C[[7, 8]]
        apose = Rotation.from_euler("x", [[45.0], [-45.0]], degrees=True).as_matrix()
        C[[16, 17]] = apose @ C[[16, 17]]
    L = quat_to_matrix(m.local_quat)
    src_names, src_parents, src_offsets, local = [], [], [], []
    where = {}
    for j, smpl in enumerate(SMPL22_NAMES):
        p = SMPL22_PARENTS[j]
        parent_src = where[p] if p >= 0 else -1
        Cp = C[p] if p >= 0 else np.eye(3)
        if smpl in insert:
            src_names.append(insert[smpl])
            src_parents.append(parent_src)
            src_offsets.append(np.zeros(3))
            local.append(np.tile(np.eye(3), (m.num_frames, 1, 1)))
            parent_src = len(src_names) - 1
        where[j] = len(src_names)
        src_names.append(names[smpl])
        src_parents.append(parent_src)
        src_offsets.append(Cp.T @ (m.skeleton.offsets[j] + shift.get(smpl, 0.0)) * scale)
        local.append(Cp.T @ L[:, j] @ C[j])
    ends = {where[j]: C[j].T @ e * scale for j, e in m.skeleton.end_sites.items()}
    sk = Skeleton(src_names, src_parents, np.array(src_offsets), ends)
    return Motion(m.fps, sk, m.root_pos * scale, matrix_to_quat(np.stack(local, axis=1)),
                  extras=dict(m.extras), meta=dict(m.meta))


def bone_directions(pos: np.ndarray, idx: list) -> np.ndarray:
    """Unit directions of the 21 SMPL bones from joint positions gathered in SMPL order."""
    p = pos[:, idx]
    d = p[:, 1:] - p[:, SMPL22_PARENTS[1:]]
    return d / np.linalg.norm(d, axis=-1, keepdims=True)


@pytest.mark.parametrize("table, scale, insert", [
    (LAFAN, 1.0, None),
    (CMU, 1.13, {"left_hip": "LHipJoint", "right_hip": "RHipJoint", "head": "Neck1"}),
    (MIXAMO, 100.0, None),
])
def test_retarget_follows_source_bone_directions(table, scale, insert):
    m = base_motion()
    src = disguise(m, table, scale=scale, insert=insert)
    assert np.allclose(src.positions()[:, [src.skeleton.index(table[n]) for n in SMPL22_NAMES]],
                       m.positions() * scale, atol=1e-9)  # the disguise keeps the motion
    out = to_smpl22(src)
    assert out.skeleton.names == SMPL22_NAMES and out.num_frames == m.num_frames
    assert out.skeleton.height() == pytest.approx(smpl22_skeleton().height() * scale, rel=1e-9)
    src_idx = [src.skeleton.index(table[n]) for n in SMPL22_NAMES]
    got = bone_directions(out.positions(), list(range(22)))
    want = bone_directions(src.positions(), src_idx)
    assert np.abs(got - want).max() < 1e-6
    hips = src.positions()[:, src.skeleton.index(table["pelvis"])]
    assert np.allclose(out.root_pos[:, :2], hips[:, :2])  # the root follows the source hips on the ground
    # ... and its height keeps the lowest foot where the source's lowest foot is, frame by frame
    feet = ["left_ankle", "right_ankle", "left_foot", "right_foot"]
    src_low = src.positions()[:, [src.skeleton.index(table[n]) for n in feet], 2].min(axis=1)
    assert np.allclose(out.positions()[:, [SMPL22_NAMES.index(n) for n in feet], 2].min(axis=1), src_low, atol=1e-9)
    # joints whose bones fix the rotation fully (pelvis, chest) get the original world rotation back
    _, w_out = out.fk()
    _, w_base = m.fk()
    assert np.allclose(w_out[:, [0, 9]], w_base[:, [0, 9]], atol=1e-9)
    assert np.array_equal(out.extras["phase"], m.extras["phase"]) and out.meta["caption"] == "test"
    assert out.meta["smpl22_mapping"] == table


def test_smpl22_maps_to_itself():
    m = base_motion(3)
    out = to_smpl22(m)
    assert np.allclose(np.abs((out.local_quat * m.local_quat).sum(-1)), 1.0, atol=1e-9)
    assert np.allclose(out.positions(), m.positions(), atol=1e-9)


def test_fewer_spine_joints_are_interpolated():
    m = base_motion(5, identity_spine=True)  # the joints removed below do not bend: the source is exact
    keep = [n for n in SMPL22_NAMES if n not in ("spine1", "spine2", "left_collar", "right_collar")]
    sub, idx = m.skeleton.subset(keep)
    Ls = quat_to_matrix(m.local_quat)[:, idx]
    names = {n: LAFAN[n] for n in keep}
    names["spine3"] = "Chest"
    src = Motion(30.0, Skeleton([names[n] for n in keep], sub.parents, sub.offsets, sub.end_sites),
                 m.root_pos, matrix_to_quat(Ls))
    assert np.allclose(src.positions(), m.positions()[:, idx], atol=1e-9)
    out = to_smpl22(src)
    _, w = out.fk()
    _, w_base = m.fk()
    assert np.allclose(w[:, 9], w_base[:, 9], atol=1e-9)  # the chest
    q0, q9 = matrix_to_quat(w[:, 0]), matrix_to_quat(w[:, 9])
    for j, t in ((3, 1 / 3), (6, 2 / 3)):  # spine1, spine2 between pelvis and chest
        assert np.allclose(w[:, j], quat_to_matrix(quat_slerp(q0, q9, np.full(len(q0), t))), atol=1e-9)
    assert np.allclose(w[:, 13], w[:, 9]) and np.allclose(w[:, 14], w[:, 9])  # collars follow the chest
    # the limbs still point where the source's limbs point
    pos, spos = out.positions(), src.positions()
    for a, b in (("left_knee", "left_ankle"), ("right_elbow", "right_wrist"), ("neck", "head")):
        d = pos[:, SMPL22_NAMES.index(b)] - pos[:, SMPL22_NAMES.index(a)]
        e = spos[:, keep.index(b)] - spos[:, keep.index(a)]
        assert np.allclose(d / np.linalg.norm(d, axis=-1, keepdims=True),
                           e / np.linalg.norm(e, axis=-1, keepdims=True), atol=1e-9)


def test_retarget_without_hands_raises_naming_the_file():
    m = disguise(base_motion(), LAFAN)
    keep = [n for n in m.skeleton.names if not n.endswith("Hand")]
    sub, idx = m.skeleton.subset(keep)
    src = Motion(30.0, sub, m.root_pos, m.local_quat[:, idx], meta={"source": "clip.bvh"})
    with pytest.raises(MotionLabError) as err:
        to_smpl22(src)
    assert "clip.bvh" in str(err.value) and "left_wrist" in str(err.value)


@pytest.mark.parametrize("file", ["fairmotion_pfnn_hierarchy.bvh", "bvhpython_test_freebvh.bvh",
                                  "bvhpython_test_mocapbank.bvh", "bvhio_example.bvh"])
def test_real_rigs_limbs_follow_the_source(reference_dir, file):
    """CMU, Mixamo and two older rigs from the reference files: the limbs point where the source's do."""
    bvh = pytest.importorskip("motionlab.io.bvh")
    path = reference_dir / "bvh" / file
    if not path.is_file():
        pytest.skip(f"{file} not in the reference folder")
    src = bvh.read_bvh(path)
    out = to_smpl22(src)
    mapping = out.meta["smpl22_mapping"]
    sp, tp = src.positions(), out.positions()
    limbs = [("left_hip", "left_knee"), ("left_knee", "left_ankle"), ("right_knee", "right_ankle"),
             ("left_shoulder", "left_elbow"), ("left_elbow", "left_wrist"), ("right_elbow", "right_wrist")]
    for a, b in limbs:
        d = tp[:, SMPL22_NAMES.index(b)] - tp[:, SMPL22_NAMES.index(a)]
        e = sp[:, src.skeleton.index(mapping[b])] - sp[:, src.skeleton.index(mapping[a])]
        d /= np.linalg.norm(d, axis=-1, keepdims=True)
        e /= np.linalg.norm(e, axis=-1, keepdims=True)
        assert np.abs(d - e).max() < 1e-6, (a, b)
    # the hip joints' midpoint is the source's on the ground (rigs put their root joint elsewhere)
    mid = lambda p, a, b: 0.5 * (p[:, a] + p[:, b])  # noqa: E731
    assert np.allclose(mid(tp, 1, 2)[:, :2], mid(sp, src.skeleton.index(mapping["left_hip"]),
                                                 src.skeleton.index(mapping["right_hip"]))[:, :2], atol=1e-9)
    # the posture: the SMPL pelvis-to-head line at rest, carried by the SMPL pelvis rotation, is the
    # source's rest pelvis-to-head line carried by the source root's rotation
    _, sw = src.fk()
    _, tw = out.fk()
    rest, _ = src.skeleton.rest_fk()
    up = rest[src.skeleton.index(mapping["head"])] - rest[src.skeleton.index(mapping["pelvis"])]
    src_up = sw[:, src.skeleton.index(mapping["pelvis"])] @ (up / np.linalg.norm(up))
    trest, _ = out.skeleton.rest_fk()
    tgt_up = tw[:, 0] @ ((trest[15] - trest[0]) / np.linalg.norm(trest[15] - trest[0]))
    assert np.degrees(np.arccos(np.clip(np.sum(src_up * tgt_up, axis=-1), -1, 1))).max() < 0.01
    if file != "bvhio_example.bvh":  # one spine bone there: SMPL spreads its chest bend over spine1-3
        top = "neck" if "neck" in mapping else "head"
        d = tp[:, SMPL22_NAMES.index(top)] - tp[:, 0]
        e = sp[:, src.skeleton.index(mapping[top])] - sp[:, src.skeleton.index(mapping["pelvis"])]
        cos = np.sum(d * e, axis=-1) / np.linalg.norm(d, axis=-1) / np.linalg.norm(e, axis=-1)
        assert np.degrees(np.arccos(np.clip(cos, -1, 1))).max() < 4.0
    # the lowest foot point (joints and End Sites) at the source's height, frame by frame
    from motionlab.core.mapping import _lowest_foot_point

    feet = [n for n in ("left_ankle", "right_ankle", "left_foot", "right_foot") if n in mapping]
    src_low = _lowest_foot_point(src.skeleton, sp, sw, [src.skeleton.index(mapping[n]) for n in feet])
    tgt_low = _lowest_foot_point(out.skeleton, tp, tw, [7, 8, 10, 11])
    assert np.allclose(src_low, tgt_low, atol=1e-9)


# --- posture: an upright walk on other rigs, written as BVH files ------------------------------------

SMPL_STYLE = dict(zip(SMPL22_NAMES, [
    "Pelvis", "L_Hip", "R_Hip", "Spine1", "L_Knee", "R_Knee", "Spine2", "L_Ankle", "R_Ankle", "Spine3",
    "L_Foot", "R_Foot", "Neck", "L_Collar", "R_Collar", "Head", "L_Shoulder", "R_Shoulder", "L_Elbow",
    "R_Elbow", "L_Wrist", "R_Wrist"]))


def _rx(deg: float) -> np.ndarray:
    return Rotation.from_euler("x", deg, degrees=True).as_matrix()


def rig(kind: str, m: Motion) -> tuple:
    """``(motion, units)``: the SMPL-22 clip ``m`` on a rig with the conventions of ``kind``.

    * ``cmu``: CMU names and layout in inches: zero-length ``LowerBack``, ``Neck`` and clavicles
      (``LeftShoulder``) on their parents, ``LHipJoint``/``RHipJoint``, the hip joints 5 cm in front
      of the root and the rest legs splayed 20 degrees (a V stance);
    * ``lafan``: LAFAN1 names in centimetres, hips higher, the toe joint further forward and lower;
    * ``mixamo``: ``mixamorig:`` names in centimetres, an A-pose rest (arms 45 degrees down) and a
      first spine bone leaning back;
    * ``smpl``: SMPL's own ``L_Hip``-style names in metres with an A-pose rest (30 degrees).
    """
    o = {n: m.skeleton.offsets[i] for i, n in enumerate(SMPL22_NAMES)}
    C = np.tile(np.eye(3), (22, 1, 1))
    ix = SMPL22_NAMES.index
    if kind == "cmu":
        shift = {"spine1": -o["spine1"], "spine2": o["spine1"], "neck": -o["neck"], "head": o["neck"],
                 "left_collar": -o["left_collar"], "left_shoulder": o["left_collar"],
                 "right_collar": -o["right_collar"], "right_shoulder": o["right_collar"],
                 "left_hip": np.array([0.05, 0.0, 0.0]), "right_hip": np.array([0.05, 0.0, 0.0])}
        for side, sign in (("left", -1.0), ("right", 1.0)):
            C[[ix(f"{side}_hip"), ix(f"{side}_knee")]] = _rx(sign * 20.0)
        src = disguise(m, CMU, insert={"left_hip": "LHipJoint", "right_hip": "RHipJoint", "head": "Neck1"},
                       C=C, shift=shift)
        return src, "inch"
    if kind == "lafan":
        up = np.array([0.02, 0.0, 0.02])
        toe = {side: 0.25 * o[f"{side}_foot"] * [1.0, 1.0, 0.0] + [0.0, 0.0, -0.03] for side in ("left", "right")}
        shift = {"left_hip": up, "right_hip": up, "left_foot": toe["left"], "right_foot": toe["right"]}
        return disguise(m, LAFAN, C=C, shift=shift), "cm"
    names, angle = (MIXAMO, 45.0) if kind == "mixamo" else (SMPL_STYLE, 30.0)
    for side, sign in (("left", 1.0), ("right", -1.0)):
        C[[ix(f"{side}_shoulder"), ix(f"{side}_elbow"), ix(f"{side}_wrist")]] = _rx(sign * angle)
    shift = {"spine1": np.array([-0.03, 0.0, 0.0]), "spine2": np.array([0.03, 0.0, 0.0])} if kind == "mixamo" else {}
    return disguise(m, names, C=C, shift=shift), ("cm" if kind == "mixamo" else "m")


def _tilt(v: np.ndarray) -> np.ndarray:
    """Degrees between vectors ``(..., 3)`` and the vertical."""
    return np.degrees(np.arccos(np.clip(v[..., 2] / np.linalg.norm(v, axis=-1), -1.0, 1.0)))


@pytest.fixture(scope="module")
def walk() -> Motion:
    from motionlab.data.synth.locomotion import generate_locomotion

    return generate_locomotion(np.random.default_rng(4), "walk", 4.0)


@pytest.mark.parametrize("kind", ["cmu", "lafan", "mixamo", "smpl"])
def test_upright_walk_stays_upright_on_every_rig(walk, kind, tmp_path):
    """A walk written on each rig family's conventions maps back to the same upright SMPL body and
    the same G1 robot, with the feet on the floor where the source's are."""
    from motionlab.core.rotations import geodesic_angle
    from motionlab.data.synth.robot import body_to_g1
    from motionlab.eval.metrics import foot_skating_ratio
    from motionlab.io.bvh import read_bvh, write_bvh

    src, units = rig(kind, walk)
    write_bvh(tmp_path / f"{kind}.bvh", src, units=units)
    src = read_bvh(tmp_path / f"{kind}.bvh", units=units)
    out = to_smpl22(src)
    mapping = out.meta["smpl22_mapping"]
    sp, _ = src.fk()
    tp, tw = out.fk()
    wp, ww = walk.fk()
    # the source stands upright (its pelvis-to-neck line within a few degrees of vertical) ...
    src_trunk = sp[:, src.skeleton.index(mapping["neck"])] - sp[:, src.skeleton.index(mapping["pelvis"])]
    assert _tilt(src_trunk).max() < 12.0 and _tilt(wp[:, 12] - wp[:, 0]).mean() < 6.0
    # ... and so does the SMPL body: the walk's own pelvis rotation and pelvis-to-neck line
    assert np.degrees(geodesic_angle(tw[:, 0], ww[:, 0])).max() < 0.5
    if kind == "lafan":  # the toe joint sits elsewhere: the feet stay flat, as the walk's
        assert np.degrees(geodesic_angle(tw[:, FEET], ww[:, FEET])).max() < 0.5
    assert np.abs(_tilt(tp[:, 12] - tp[:, 0]) - _tilt(wp[:, 12] - wp[:, 0])).max() < 1.0
    # every limb points where the walk's limbs point
    for a, b in (("left_hip", "left_knee"), ("left_knee", "left_ankle"), ("right_shoulder", "right_elbow"),
                 ("left_elbow", "left_wrist")) + ((("left_ankle", "left_foot"),) if kind != "lafan" else ()):
        d, e = tp[:, ix := SMPL22_NAMES.index(b)] - tp[:, SMPL22_NAMES.index(a)], wp[:, ix] - wp[:, SMPL22_NAMES.index(a)]
        cos = np.sum(d * e, axis=-1) / np.linalg.norm(d, axis=-1) / np.linalg.norm(e, axis=-1)
        assert np.degrees(np.arccos(np.clip(cos, -1, 1))).max() < 0.5, (a, b)
    # the lowest foot point is where the source's is, frame by frame; planted feet stay planted
    feet = [src.skeleton.index(mapping[n]) for n in ("left_ankle", "right_ankle", "left_foot", "right_foot")]
    assert np.abs(tp[:, FEET, 2].min(axis=1) - np.minimum(sp[:, feet, 2].min(axis=1), np.inf)).max() < 0.03
    contact = sp[:, feet, 2].min(axis=1) < sp[:, feet, 2].min() + 0.02
    assert contact.mean() > 0.3 and np.abs(tp[contact][:, FEET, 2].min(axis=1) - sp[contact][:, feet, 2].min(axis=1)).max() < 0.03
    toes = [SMPL22_NAMES.index(n) for n in ("left_foot", "right_foot")]
    src_toes = [src.skeleton.index(mapping[n]) for n in ("left_foot", "right_foot")]
    assert abs(foot_skating_ratio(tp[:, toes], out.fps) - foot_skating_ratio(sp[:, src_toes], src.fps)) <= 0.01
    # the analytic G1 mapping of the mapped body is the walk's own: an upright robot, same joints (up to
    # 0.05 rad where a rig's bone is not a turned SMPL bone: CMU's clavicle twists the arm ~2 degrees)
    want, got = body_to_g1(walk, clamp=False), body_to_g1(out, clamp=False)
    assert np.degrees(geodesic_angle(quat_to_matrix(got.root_quat), quat_to_matrix(want.root_quat))).max() < 0.5
    assert np.abs(got.joint_pos - want.joint_pos).max() < 0.05
