"""BVH reader/writer: the traps of notes/formats.md, the public reference files, bvhio as an oracle,
an independent Y-up forward kinematics of written files, and a fuzz test of broken files."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Dict, List, Tuple

import numpy as np
import pytest
from scipy.spatial.transform import Rotation

from motionlab.core.body import smpl22_skeleton
from motionlab.core.motion import Motion
from motionlab.core.rotations import axis_angle_to_quat, quat_to_matrix
from motionlab.errors import MotionLabError
from motionlab.io.bvh import Y_UP_TO_Z_UP, auto_units, read_bvh, write_bvh

# --- helpers -------------------------------------------------------------------------------------


def _write(tmp_path: Path, text: str, name: str = "clip.bvh", newline: str = "\n") -> Path:
    path = tmp_path / name
    path.write_bytes(text.replace("\n", newline).encode("utf-8"))
    return path


def _to_zup(p: np.ndarray) -> np.ndarray:
    """Blender's mapping of Y-up points: (x, y, z) -> (x, -z, y)."""
    return np.stack([p[..., 0], -p[..., 2], p[..., 1]], axis=-1)


def _oracle(text: str) -> Tuple[List[str], np.ndarray]:
    """An independent BVH forward kinematics (Y up, file units): scipy Euler, positions replace offsets.

    Returns joint names and world positions ``(T, J, 3)``.
    """
    toks = text.split()
    i = toks.index("HIERARCHY") + 1
    names, parents, offsets, chans = [], [], [], []
    stack: List[int] = []
    while toks[i] != "MOTION":
        t = toks[i]
        if t in ("ROOT", "JOINT"):
            names.append(toks[i + 1])
            parents.append(stack[-1] if stack else -1)
            stack.append(len(names) - 1)
            i += 3  # name, '{'
        elif t == "End":
            stack.append(-2)
            i += 3  # Site, '{'
        elif t == "OFFSET":
            if stack[-1] >= 0:
                offsets.append([float(v) for v in toks[i + 1:i + 4]])
            i += 4
        elif t == "CHANNELS":
            n = int(toks[i + 1])
            chans.append(toks[i + 2:i + 2 + n])
            i += 2 + n
        elif t == "}":
            stack.pop()
            i += 1
        else:
            raise AssertionError(f"oracle cannot parse {t!r}")
    n_frames = int(toks[i + 2])
    data = np.array(toks[i + 6:], dtype=float).reshape(n_frames, -1)
    J = len(names)
    pos = np.zeros((n_frames, J, 3))
    rot = [None] * J
    col = 0
    for j in range(J):
        trans = np.tile(np.array(offsets[j]), (n_frames, 1))
        axes, angles = "", []
        for c in chans[j]:
            if c.endswith("position"):
                trans[:, "XYZ".index(c[0])] = data[:, col]
            else:
                axes += c[0]
                angles.append(data[:, col])
            col += 1
        local = Rotation.from_euler(axes, np.stack(angles, -1), degrees=True) if axes else Rotation.identity(n_frames)
        if parents[j] < 0:
            pos[:, j], rot[j] = trans, local
        else:
            p = parents[j]
            pos[:, j] = pos[:, p] + rot[p].apply(trans)
            rot[j] = rot[p] * local
    return names, pos


# Mixed per-joint orders (ZYX root, ZXY spine, ZYX leg), an End Site, a leaf without one.
MIXED = """HIERARCHY
ROOT Hips
{
  OFFSET 0 0 0
  CHANNELS 6 Xposition Yposition Zposition Zrotation Yrotation Xrotation
  JOINT Spine
  {
    OFFSET 0 10 0
    CHANNELS 3 Zrotation Xrotation Yrotation
    JOINT Chest
    {
      OFFSET 0 10 0
      CHANNELS 3 Zrotation Xrotation Yrotation
      End Site
      {
        OFFSET 0 5 0
      }
    }
  }
  JOINT Leg
  {
    OFFSET 5 -10 0
    CHANNELS 3 Zrotation Yrotation Xrotation
    JOINT Foot
    {
      OFFSET 0 -10 0
      CHANNELS 3 Zrotation Yrotation Xrotation
    }
  }
}
MOTION
Frames: 2
Frame Time: 0.0333333333
0 0 0 0 0 0 90 90 0 0 0 0 90 90 0 0 0 0
1 2 3 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0
"""


# --- the traps -----------------------------------------------------------------------------------


def test_mixed_orders_are_intrinsic_in_channel_order(tmp_path):
    m = read_bvh(_write(tmp_path, MIXED), units="m")
    assert m.joint_names == ["Hips", "Spine", "Chest", "Leg", "Foot"]
    assert m.meta["bvh_orders"] == {"Hips": "ZYX", "Spine": "ZXY", "Chest": "ZXY", "Leg": "ZYX", "Foot": "ZYX"}
    pos = m.positions()
    # Hand-computed, Y up: Spine = Rz(90) Rx(90) turns Chest's (0,10,0) into (0,0,10);
    # Leg = Rz(90) Ry(90) turns Foot's (0,-10,0) into (10,0,0).
    expect_y = {"Chest": (0, 10, 10), "Foot": (15, -10, 0), "Leg": (5, -10, 0), "Spine": (0, 10, 0)}
    for name, p in expect_y.items():
        np.testing.assert_allclose(pos[0, m.skeleton.index(name)], _to_zup(np.array(p, float)), atol=1e-12)
    # Frame 1: root moved to (1, 2, 3) Y up, rest pose.
    np.testing.assert_allclose(m.root_pos[1], [1, -3, 2])
    np.testing.assert_allclose(pos[1, m.skeleton.index("Foot")], _to_zup(np.array([6.0, -18.0, 3.0])))
    # Local rotations are the Y-up ones conjugated by the axis map.
    R_y = Rotation.from_euler("ZXY", [90, 90, 0], degrees=True).as_matrix()
    np.testing.assert_allclose(quat_to_matrix(m.local_quat[0, 1]), Y_UP_TO_Z_UP @ R_y @ Y_UP_TO_Z_UP.T, atol=1e-12)


def test_axis_map_is_blenders():
    np.testing.assert_allclose(Y_UP_TO_Z_UP @ np.array([1.0, 2.0, 3.0]), [1.0, -3.0, 2.0])
    assert np.isclose(np.linalg.det(Y_UP_TO_Z_UP), 1.0)


def test_position_channels_on_a_non_root_joint_replace_the_offset(tmp_path):
    text = """HIERARCHY
ROOT Hips
{
  OFFSET 0 0 0
  CHANNELS 6 Xposition Yposition Zposition Zrotation Yrotation Xrotation
  JOINT Arm
  {
    OFFSET 0 10 0
    CHANNELS 6 Xposition Yposition Zposition Zrotation Yrotation Xrotation
    JOINT Hand
    {
      OFFSET 0 4 0
      CHANNELS 3 Zrotation Yrotation Xrotation
      End Site
      {
        OFFSET 0 1 0
      }
    }
  }
}
MOTION
Frames: 1
Frame Time: 0.01
0 0 0 0 0 0 1 20 3 0 0 0 0 0 0
"""
    m = read_bvh(_write(tmp_path, text), units="m")
    pos = m.positions()[0]
    np.testing.assert_allclose(pos[1], _to_zup(np.array([1.0, 20.0, 3.0])))  # not (1, 30, 3)
    np.testing.assert_allclose(pos[2], _to_zup(np.array([1.0, 24.0, 3.0])))
    assert m.joint_pos is not None
    assert np.isnan(m.joint_pos[:, [0, 2]]).all() and np.isfinite(m.joint_pos[:, 1]).all()
    # Written back, the joint keeps its 6 channels and the positions survive.
    out = tmp_path / "out.bvh"
    write_bvh(out, m)
    assert "CHANNELS 6 Xposition Yposition Zposition Zrotation Yrotation Xrotation" in out.read_text().split("JOINT Arm")[1]
    np.testing.assert_allclose(read_bvh(out, units="m").positions(), m.positions(), atol=1e-9)


def test_names_with_colons_are_whole_names(reference_dir, tmp_path):
    text = MIXED.replace("Hips", "mixamorig:Hips").replace("Spine", "mixamorig:Spine")
    m = read_bvh(_write(tmp_path, text))
    assert m.joint_names[:2] == ["mixamorig:Hips", "mixamorig:Spine"]
    free = read_bvh(reference_dir / "bvh" / "bvhpython_test_freebvh.bvh")
    assert free.skeleton.num_joints == 55 and free.joint_names[0] == "mixamorig:Hips"
    assert all(n.startswith("mixamorig:") for n in free.joint_names)


def test_crlf_tabs_and_blank_lines_read_like_the_clean_file(tmp_path):
    clean = read_bvh(_write(tmp_path, MIXED, "clean.bvh"), units="m")
    messy_text = MIXED.replace("  ", "\t").replace("MOTION\n", "MOTION\n\n  \n").replace("Frames: 2", "Frames:\t2")
    messy_text = messy_text.replace("0 0 0 0 0 0 90", "0\t0  0 0 0 0   90").replace("}\nMOTION", "}\n\nMOTION")
    messy = read_bvh(_write(tmp_path, messy_text + "\n\n", "messy.bvh", newline="\r\n"), units="m")
    assert messy.joint_names == clean.joint_names
    np.testing.assert_array_equal(messy.positions(), clean.positions())
    mac = read_bvh(_write(tmp_path, MIXED, "mac.bvh", newline="\r"), units="m")
    np.testing.assert_array_equal(mac.positions(), clean.positions())


def test_leaf_without_end_site(tmp_path):
    m = read_bvh(_write(tmp_path, MIXED), units="m")
    foot, chest = m.skeleton.index("Foot"), m.skeleton.index("Chest")
    assert foot not in m.skeleton.end_sites and m.meta["bvh_no_end_site"] == ["Foot"]
    np.testing.assert_allclose(m.skeleton.end_sites[chest], [0, 0, 5])  # (0,5,0) Y up
    out = tmp_path / "back.bvh"
    write_bvh(out, m)
    text = out.read_text()
    assert text.split("JOINT Foot")[1].split("MOTION")[0].count("End Site") == 0  # faithful
    # A motion that did not come from a BVH gets a real (non-zero) End Site on every leaf.
    plain = Motion(30, m.skeleton, m.root_pos, m.local_quat)
    write_bvh(out, plain)
    ends = re.findall(r"End Site\s*\{\s*OFFSET ([^\n]+)", out.read_text())
    assert len(ends) == 2
    assert all(np.linalg.norm(np.array(e.split(), float)) > 0 for e in ends)


def test_zero_end_site_is_written_along_the_bone(tmp_path):
    text = MIXED.replace("OFFSET 0 5 0", "OFFSET 0 0 0")
    m = read_bvh(_write(tmp_path, text), units="cm")
    out = tmp_path / "tip.bvh"
    write_bvh(out, m)
    end = re.search(r"End Site\s*\{\s*OFFSET ([^\n]+)", out.read_text()).group(1)
    tip = np.array(end.split(), float)
    assert np.linalg.norm(tip) > 0
    np.testing.assert_allclose(tip / np.linalg.norm(tip), [0, 1, 0], atol=1e-9)  # Chest's bone is +Y


def test_frame_time_is_written_with_ten_decimals(tmp_path):
    m = read_bvh(_write(tmp_path, MIXED), units="m")
    plain = Motion(30.0, m.skeleton, m.root_pos, m.local_quat)
    out = tmp_path / "ft.bvh"
    write_bvh(out, plain)
    line = next(ln for ln in out.read_text().splitlines() if ln.startswith("Frame Time:"))
    value = line.split(":")[1].strip()
    # At least 10 decimals (0.033333 would import at 30.0003 fps); all the digits 1/30 needs.
    assert value.startswith("0.0333333333") and len(value.split(".")[1]) >= 10
    assert abs(read_bvh(out).fps - 30.0) < 1e-9
    fast = Motion(120.0, m.skeleton, m.root_pos, m.local_quat)
    write_bvh(out, fast)
    assert "Frame Time: 0.0083333333" in out.read_text() and abs(read_bvh(out).fps - 120.0) < 1e-9
    write_bvh(out, Motion(50.0, m.skeleton, m.root_pos, m.local_quat))
    assert "Frame Time: 0.0200000000\n" in out.read_text()
    # A file's own frame time is kept as it was (here 0.033333 -> 30.0003 fps) on a faithful write.
    orig = read_bvh(_write(tmp_path, MIXED.replace("0.0333333333", "0.033333"), "six.bvh"), units="m")
    write_bvh(out, orig)
    assert "Frame Time: 0.0333330000\n" in out.read_text()


def test_written_file_matches_motionlab_positions_under_blenders_mapping(tmp_path):
    rng = np.random.default_rng(3)
    sk = smpl22_skeleton()
    T = 12
    aa = rng.normal(scale=0.6, size=(T, sk.num_joints, 3))
    root = np.cumsum(rng.normal(scale=0.02, size=(T, 3)), axis=0) + [0, 0, 0.9]
    motion = Motion(30, sk, root, axis_angle_to_quat(aa))
    out = tmp_path / "smpl.bvh"
    write_bvh(out, motion)
    text = out.read_text()
    # Default layout: 6 channels on the root, 3 ZYX elsewhere, centimetres.
    assert text.count("CHANNELS 6 Xposition Yposition Zposition Zrotation Yrotation Xrotation") == 1
    assert text.count("CHANNELS 3 Zrotation Yrotation Xrotation") == sk.num_joints - 1
    names, pos_y = _oracle(text)
    assert sorted(names) == sorted(sk.names)  # depth-first in the file; matched by name
    ours = motion.positions()[:, sk.indices(names)]
    tol = 1e-5 * sk.height()
    np.testing.assert_allclose(_to_zup(pos_y) * 0.01, ours, atol=tol)
    again = read_bvh(out)
    assert again.meta["units"] == "cm" and again.joint_names == names
    np.testing.assert_allclose(again.positions(), ours, atol=tol)
    # Another order for every joint: same positions.
    write_bvh(out, motion, order="ZXY")
    assert "Zrotation Xrotation Yrotation" in out.read_text()
    np.testing.assert_allclose(read_bvh(out).positions(), ours, atol=tol)
    with pytest.raises(MotionLabError, match="rotation order"):
        write_bvh(out, motion, order="zyx")


def test_fewer_than_three_rotation_channels(tmp_path):
    text = MIXED.replace("CHANNELS 3 Zrotation Xrotation Yrotation\n    JOINT Chest", "CHANNELS 1 Xrotation\n    JOINT Chest")
    text = text.replace("0 0 0 0 0 0 90 90 0 0 0 0 90 90 0", "0 0 0 0 0 0 30 0 0 0 90 90 0")
    text = text.replace("1 2 3 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0", "1 2 3 0 0 0 0 0 0 0 0 0 0 0 0 0")
    m = read_bvh(_write(tmp_path, text), units="m")
    R = quat_to_matrix(m.local_quat[0, 1])
    R_y = Rotation.from_euler("X", 30, degrees=True).as_matrix()
    np.testing.assert_allclose(R, Y_UP_TO_Z_UP @ R_y @ Y_UP_TO_Z_UP.T, atol=1e-12)
    out = tmp_path / "one.bvh"
    write_bvh(out, m)
    assert "CHANNELS 1 Xrotation" in out.read_text()  # kept, since the rotation fits
    np.testing.assert_allclose(read_bvh(out, units="m").positions(), m.positions(), atol=1e-9)


def test_units(tmp_path):
    assert auto_units(1.7)[0] == "m" and auto_units(67.0)[0] == "inch"
    assert auto_units(170.0)[0] == "cm" and auto_units(1700.0)[0] == "mm"
    path = _write(tmp_path, MIXED)  # rest size 35 units: inches by the rule
    auto = read_bvh(path)
    assert (auto.meta["units"], auto.meta["scale"], auto.meta["units_rule"]) == ("inch", 0.0254, "auto")
    cm = read_bvh(path, units="cm")
    assert cm.meta["scale"] == 0.01 and cm.meta["units_rule"] == "given"
    np.testing.assert_allclose(cm.positions(), read_bvh(path, units="m").positions() * 0.01)
    custom = read_bvh(path, units=0.056444)
    assert custom.meta["units"] == "custom" and custom.meta["scale"] == 0.056444
    # Written back in the file's own units.
    out = tmp_path / "inch.bvh"
    write_bvh(out, auto)
    assert "OFFSET 5.000000 -10.000000 0.000000" in out.read_text()
    with pytest.raises(MotionLabError, match="units"):
        read_bvh(path, units="furlong")
    with pytest.raises(MotionLabError):
        read_bvh(path, units=-1.0)


def test_failed_write_leaves_the_old_file(tmp_path):
    m = read_bvh(_write(tmp_path, MIXED), units="m")
    out = tmp_path / "keep.bvh"
    write_bvh(out, m)
    before = out.read_bytes()
    bad = Motion(30, type(m.skeleton)(["a b"] + m.joint_names[1:], m.skeleton.parents, m.skeleton.offsets),
                 m.root_pos, m.local_quat)
    with pytest.raises(MotionLabError, match="cannot be written"):
        write_bvh(out, bad)
    assert out.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []


# --- reference files -----------------------------------------------------------------------------


def _reference_files(reference_dir: Path) -> List[Path]:
    files = sorted((reference_dir / "bvh").glob("*.bvh"))
    if not files:
        pytest.skip("no reference BVH files")
    return files


def test_reference_files_read_write_reread(reference_dir, tmp_path):
    for f in _reference_files(reference_dir):
        m = read_bvh(f)
        out = tmp_path / f.name
        write_bvh(out, m)
        back = read_bvh(out)
        assert back.joint_names == m.joint_names, f.name
        assert back.meta["bvh_channels"] == m.meta["bvh_channels"], f.name
        assert back.meta["units"] == m.meta["units"] and back.fps == m.fps, f.name
        tol = 1e-5 * m.skeleton.height()
        np.testing.assert_allclose(back.positions(), m.positions(), atol=tol, err_msg=f.name)
        names, pos_y = _oracle(out.read_text())  # the written file under Blender's mapping
        np.testing.assert_allclose(_to_zup(pos_y) * m.meta["scale"], m.positions(), atol=tol, err_msg=f.name)


def test_reference_file_facts(reference_dir):
    bvh = reference_dir / "bvh"
    if not bvh.is_dir():
        pytest.skip("no reference BVH files")
    cases: Dict[str, Tuple[int, int, str]] = {
        "fairmotion_sinusoidal.bvh": (120, 4, "XYZ"),
        "fairmotion_pfnn_hierarchy.bvh": (60, 31, "ZYX"),
        "bvhio_example.bvh": (2, 18, "ZXY"),
        "bvhpython_test_mocapbank.bvh": (455, 19, "ZXY"),
        "bvhpython_test_freebvh.bvh": (69, 55, "ZYX"),
    }
    for name, (frames, joints, order) in cases.items():
        if not (bvh / name).exists():
            continue
        m = read_bvh(bvh / name)
        assert (m.num_frames, m.skeleton.num_joints) == (frames, joints), name
        assert set(m.meta["bvh_orders"].values()) == {order}, name
    pfnn = read_bvh(bvh / "fairmotion_pfnn_hierarchy.bvh")
    assert pfnn.meta["units"] == "m" and 1.0 < pfnn.skeleton.height() < 2.0
    sin = read_bvh(bvh / "fairmotion_sinusoidal.bvh")
    assert sin.meta["bvh_no_end_site"] == ["child3"] and sin.fps == 60.0


def test_reference_positions_equal_bvhios(reference_dir):
    bvhio = pytest.importorskip("bvhio")
    for f in _reference_files(reference_dir):
        m = read_bvh(f)
        root = bvhio.readAsHierarchy(str(f))
        layout = root.layout()
        idx = [m.skeleton.index(j.Name) for j, _, _ in layout]
        frames = sorted(set(np.linspace(0, m.num_frames - 1, 6).astype(int).tolist()))
        ref = []
        for k in frames:
            root.loadPose(k)
            ref.append([tuple(j.PositionWorld) for j, _, _ in layout])
        ref = _to_zup(np.asarray(ref, dtype=float)) * m.meta["scale"]
        # bvhio computes in float32: compare to 1e-5 of the body's height.
        np.testing.assert_allclose(m.positions()[frames][:, idx], ref, atol=1e-5 * m.skeleton.height(), err_msg=f.name)


# --- errors --------------------------------------------------------------------------------------

ERROR_CASES = {
    "empty": ("", "empty file"),
    "blank": ("  \n\n\t\n", "empty file"),
    "no_hierarchy": (MIXED.replace("HIERARCHY\n", ""), "HIERARCHY"),
    "only_motion": (MIXED[MIXED.index("MOTION"):], "missing HIERARCHY"),
    "no_motion": (MIXED.split("MOTION")[0], "missing MOTION"),
    "unclosed_brace": (MIXED.replace("      }\n    }\n  }\n  JOINT Leg", "      }\n    }\n  JOINT Leg"), "unbalanced braces"),
    "extra_brace": (MIXED.replace("}\nMOTION", "}\n}\nMOTION"), "unbalanced braces"),
    "unknown_channel": (MIXED.replace("Zrotation Xrotation Yrotation\n    JOINT", "Zrotation Xrotatoin Yrotation\n    JOINT"), "unknown BVH channel 'Xrotatoin'"),
    "channel_count": (MIXED.replace("CHANNELS 3 Zrotation Yrotation Xrotation\n    JOINT Foot", "CHANNELS 4 Zrotation Yrotation Xrotation\n    JOINT Foot"), "declares 4 channels"),
    "frames_mismatch": (MIXED.replace("Frames: 2", "Frames: 3"), "'Frames: 3' but the file holds 2 frames"),
    "too_many_frames": (MIXED + MIXED.splitlines()[-1] + "\n", "holds 3 frames"),
    "wrong_count": (MIXED.replace("1 2 3 0 0 0 0", "1 2 3 0 0 0"), "expected 18 values (the sum of the CHANNELS counts), found 17"),
    "non_numeric": (MIXED.replace("1 2 3 0", "1 2 x3 0"), "non-numeric value 'x3'"),
    "nan": (MIXED.replace("1 2 3 0", "1 nan 3 0"), "NaN value for Hips Yposition"),
    "inf": (MIXED.replace("1 2 3 0", "1 2 inf 0"), "infinite value"),
    "truncated_line": (MIXED[:-20], "truncated"),
    "truncated_header": (MIXED[:200], "the file ends after JOINT (truncated?)"),
    "truncated_in_braces": (MIXED[:330], "is never closed (truncated file?)"),
    "bad_offset": (MIXED.replace("OFFSET 0 10 0", "OFFSET 0 ten 0", 1), "must be a number"),
    "bad_frames": (MIXED.replace("Frames: 2", "Frames: two"), "whole number"),
    "huge_frames": (MIXED.replace("Frames: 2", "Frames: " + "9" * 5000), "at most 12 digits"),
    "odd_channel_count": (MIXED.replace("CHANNELS 3", "CHANNELS \u00b2", 1), "channel count from 0 to 6"),
    "bad_frame_time": (MIXED.replace("Frame Time: 0.0333333333", "Frame Time: -1"), "positive"),
    "duplicate_name": (MIXED.replace("JOINT Leg", "JOINT Spine"), "duplicate joint name"),
    "two_roots": (MIXED.split("MOTION")[0] + MIXED.split("MOTION")[0].replace("HIERARCHY\n", "") + "MOTION" + MIXED.split("MOTION")[1], "second ROOT"),
}


@pytest.mark.parametrize("case", sorted(ERROR_CASES))
def test_errors_name_file_place_and_problem(tmp_path, case):
    text, problem = ERROR_CASES[case]
    path = _write(tmp_path, text, f"{case}.bvh")
    with pytest.raises(MotionLabError) as info:
        read_bvh(path)
    msg = str(info.value)
    assert problem in info.value.problem, msg
    assert info.value.file == str(path) and msg.startswith(str(path))
    assert re.fullmatch(r"line \d+(, frame \d+)?", info.value.place), msg


def test_error_places_are_exact(tmp_path):
    with pytest.raises(MotionLabError) as info:
        read_bvh(_write(tmp_path, MIXED.replace("1 2 3 0 0 0 0", "1 2 3 0 0 0")))
    assert info.value.place == "line 35, frame 1" and info.value.problem.endswith("found 17")  # not "truncated"
    with pytest.raises(MotionLabError) as info:
        read_bvh(_write(tmp_path, MIXED.replace("Zrotation Xrotation Yrotation\n    JOINT", "Zrotation Xrotatoin Yrotation\n    JOINT")))
    assert info.value.place == "line 9" and "Xrotation" in info.value.problem  # lists the valid ones
    with pytest.raises(MotionLabError) as info:
        read_bvh(tmp_path / "missing.bvh")
    assert "no such file" in str(info.value)


# --- fuzz ----------------------------------------------------------------------------------------


def _variants(text: str, rng: np.random.Generator) -> List[str]:
    tokens = re.findall(r"\S+|\s+", text)
    words = [i for i, t in enumerate(tokens) if not t.isspace()]
    out = []
    for _ in range(60):  # truncation at a random point
        out.append(text[: int(rng.integers(0, len(text)))])
    for _ in range(50):  # a deleted token
        k = words[int(rng.integers(len(words)))]
        out.append("".join(tokens[:k] + tokens[k + 1:]))
    for _ in range(50):  # a duplicated token
        k = words[int(rng.integers(len(words)))]
        out.append("".join(tokens[:k] + [tokens[k], " "] + tokens[k:]))
    garbage = ["{", "}", "@@", "JOINT", "End", "Site", "OFFSET", "CHANNELS", "MOTION", "Frames:", "1e999", "-", "\x00", "é"]
    for _ in range(40):  # garbage inserted
        k = words[int(rng.integers(len(words)))]
        out.append("".join(tokens[:k] + [str(rng.choice(garbage)), " "] + tokens[k:]))
    for _ in range(20):  # NaN / inf values
        k = words[int(rng.integers(len(words)))]
        out.append("".join(tokens[:k] + [str(rng.choice(["nan", "NaN", "inf", "-inf"]))] + tokens[k + 1:]))
    for n in (0, 1, 3, 10, -1):  # wrong counts
        out.append(text.replace("Frames: 2", f"Frames: {n}"))
        out.append(text.replace("CHANNELS 3 Zrotation Yrotation Xrotation", f"CHANNELS {n} Zrotation Yrotation Xrotation", 1))
    for _ in range(10):  # random bytes
        out.append(rng.bytes(int(rng.integers(1, 300))).decode("latin-1"))
    return out


def test_fuzz_only_motionlab_errors(tmp_path):
    rng = np.random.default_rng(0)
    variants = _variants(MIXED, rng)
    assert len(variants) >= 200
    errors = 0
    path = tmp_path / "fuzz.bvh"
    for text in variants:
        path.write_bytes(text.encode("latin-1", errors="replace"))
        try:
            m = read_bvh(path)
        except MotionLabError as e:
            errors += 1
            assert e.file == str(path)
        else:
            assert np.isfinite(m.positions()).all()
    assert errors > len(variants) // 2
