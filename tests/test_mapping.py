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


def disguise(m: Motion, names: dict, scale: float = 1.0, insert: dict = None, seed: int = 1) -> Motion:
    """The same motion on a skeleton with other names, another rest pose and other bone axes.

    Every joint j gets its own frame C_j (random: another bone-axis convention; the shoulders
    also turn the arms down 45 degrees: an A-pose rest). Local rotations become C_p^T L C_j and
    offsets C_p^T o, so world positions are unchanged (times ``scale``). ``insert`` maps an SMPL
    joint to the name of an extra joint placed just above it (zero offset, identity rotation).
    """
    insert = insert or {}
    rng = np.random.default_rng(seed)
    C = Rotation.random(22, random_state=rng).as_matrix()
    apose = Rotation.from_euler("x", [[45.0], [-45.0]], degrees=True).as_matrix()
    C[[16, 17]] = apose @ C[[16, 17]]
    L = quat_to_matrix(m.local_quat)
    src_names, src_parents, src_offsets, frames, local = [], [], [], [], []
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
        src_offsets.append(Cp.T @ m.skeleton.offsets[j] * scale)
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
    # ... and its height keeps the lowest foot where the source's lowest foot is
    feet = ["left_ankle", "right_ankle", "left_foot", "right_foot"]
    src_low = src.positions()[:, [src.skeleton.index(table[n]) for n in feet], 2].min()
    assert out.positions()[:, [SMPL22_NAMES.index(n) for n in feet], 2].min() == pytest.approx(src_low, abs=1e-9)
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
    assert np.allclose(out.root_pos[:, :2], sp[:, src.skeleton.index(mapping["pelvis"]), :2])
    feet = [n for n in ("left_ankle", "right_ankle", "left_foot", "right_foot") if n in mapping]
    src_low = sp[:, [src.skeleton.index(mapping[n]) for n in feet], 2].min()
    assert tp[:, [SMPL22_NAMES.index(n) for n in feet], 2].min() == pytest.approx(src_low, abs=1e-9)
