"""The command line, used as a person would: inspect, convert, render, info, and its errors."""

import json
import shutil
import subprocess

import numpy as np
import pytest

from motionlab.cli import main
from motionlab.core.body import smpl22_skeleton
from motionlab.core.motion import Motion
from motionlab.core.rotations import axis_angle_to_quat


def _walk(T=45, fps=30.0):
    s = smpl22_skeleton()
    t = np.arange(T) / fps
    aa = np.zeros((T, 22, 3))
    aa[:, 1, 1] = 0.5 * np.sin(2 * np.pi * t)  # left hip swings about the lateral axis
    aa[:, 2, 1] = -0.5 * np.sin(2 * np.pi * t)
    aa[:, 4, 1] = 0.4 + 0.3 * np.sin(2 * np.pi * t)
    root = np.stack([1.2 * t, np.zeros(T), np.full(T, 0.93)], 1)
    return Motion(fps, s, root, axis_angle_to_quat(aa), meta={"caption": "a person walks"})


def _robot(T=60):
    from motionlab.robots.g1 import G1_LOWER, G1_UPPER
    from motionlab.robots.motion import RobotMotion

    rng = np.random.default_rng(0)
    q = G1_LOWER + (G1_UPPER - G1_LOWER) * (0.5 + 0.2 * np.sin(np.arange(T)[:, None] / 7 + rng.uniform(0, 6, 29)))
    yaw = np.arange(T) * 0.01
    quat = np.stack([np.cos(yaw / 2), 0 * yaw, 0 * yaw, np.sin(yaw / 2)], 1)
    root = np.stack([np.arange(T) * 0.02, np.zeros(T), np.full(T, 0.78)], 1)
    return RobotMotion(30.0, root, quat, q)


def test_info_json(capsys):
    assert main(["info", "--json"]) == 0
    info = json.loads(capsys.readouterr().out)
    assert info["motionlab"] and "torch" in info and "mujoco" in info["packages"]


def test_inspect_and_convert_bvh_npz(tmp_path, capsys):
    from motionlab.io.bvh import write_bvh

    m = _walk()
    write_bvh(tmp_path / "walk.bvh", m)
    assert main(["data", "inspect", str(tmp_path / "walk.bvh"), "--json"]) == 0
    summary = json.loads(capsys.readouterr().out)
    assert summary["format"] == "bvh" and summary["frames"] == 45 and summary["joints"] == 22
    assert summary["fps"] == pytest.approx(30.0)
    assert sorted(summary["joint_names"]) == sorted(m.skeleton.names)  # BVH keeps depth-first order

    assert main(["data", "convert", str(tmp_path / "walk.bvh"), str(tmp_path / "walk.npz")]) == 0
    assert main(["data", "convert", str(tmp_path / "walk.npz"), str(tmp_path / "back.bvh"), "--fps", "60"]) == 0
    capsys.readouterr()
    with np.load(tmp_path / "walk.npz") as z:
        pos = z["positions"]
        names = [str(n) for n in z["joint_names"]]
        assert z["local_quat"].shape == (45, 22, 4)
    order = [names.index(n) for n in m.skeleton.names]  # joint order resolved by name
    np.testing.assert_allclose(pos[:, order], m.positions(), atol=1e-5 * 1.7)  # metres, Z up
    assert main(["data", "inspect", str(tmp_path / "back.bvh"), "--json"]) == 0
    back = json.loads(capsys.readouterr().out)
    assert back["fps"] == pytest.approx(60.0) and back["frames"] == 88  # arange(0, 44/30, 1/60)


def test_g1_round_trip_through_cli(tmp_path):
    from motionlab.io.g1 import read_unitree_csv, write_unitree_csv

    r = _robot()
    write_unitree_csv(tmp_path / "clip.csv", r)
    assert main(["data", "convert", str(tmp_path / "clip.csv"), str(tmp_path / "clip.npz"), "--format", "beyondmimic"]) == 0
    with np.load(tmp_path / "clip.npz") as z:
        assert int(np.asarray(z["fps"]).reshape(-1)[0]) == 50 and z["joint_pos"].shape == (99, 29)  # arange(0, 59/30, 1/50)
    assert main(["data", "convert", str(tmp_path / "clip.csv"), str(tmp_path / "same.npz"), "--format", "beyondmimic",
                 "--fps", "30"]) == 0
    assert main(["data", "convert", str(tmp_path / "same.npz"), str(tmp_path / "back.csv")]) == 0
    back = read_unitree_csv(tmp_path / "back.csv")
    np.testing.assert_allclose(back.joint_pos, r.joint_pos, atol=1e-6)
    # any motion can become a BVH for Blender: the robot as its body tree
    assert main(["data", "convert", str(tmp_path / "clip.csv"), str(tmp_path / "robot.bvh")]) == 0
    assert (tmp_path / "robot.bvh").stat().st_size > 1000


def test_render_gif(tmp_path):
    from motionlab.io.bvh import write_bvh
    from motionlab.io.g1 import write_unitree_csv

    write_bvh(tmp_path / "walk.bvh", _walk(20))
    write_unitree_csv(tmp_path / "g1.csv", _robot(20))
    out = tmp_path / "side.gif"
    assert main(["data", "render", str(tmp_path / "walk.bvh"), str(tmp_path / "g1.csv"), "-o", str(out)]) == 0
    import imageio.v2 as imageio

    frames = imageio.mimread(out)
    assert len(frames) == 7  # 20 frames at 30 fps drawn every 3rd frame: exact 100 ms GIF delays
    from PIL import Image

    assert Image.open(out).info["duration"] == 100  # plays at the clip's true speed
    img = np.asarray(frames[3])[..., :3]
    assert img.std() > 5  # something is drawn, not a blank canvas


def test_bad_input_exits_2_with_a_clear_message(tmp_path, capsys):
    bad = tmp_path / "broken.bvh"
    bad.write_text("HIERARCHY\nROOT Hips\n{\n OFFSET 0 0\n")
    assert main(["data", "inspect", str(bad)]) == 2
    err = capsys.readouterr().err
    assert "broken.bvh" in err and "line" in err
    assert main(["data", "inspect", str(tmp_path / "nothing.xyz")]) == 2
    good = tmp_path / "good.bvh"
    from motionlab.io.bvh import write_bvh

    write_bvh(good, _walk(10))
    for fps in ("nan", "inf", "-5", "0", "abc"):  # argparse rejects them: exit status 2, a usage line
        with pytest.raises(SystemExit) as exit_info:
            main(["data", "convert", str(good), str(tmp_path / "o.bvh"), "--fps", fps])
        assert exit_info.value.code == 2
    (tmp_path / "folder.bvh").mkdir()
    assert main(["data", "convert", str(good), str(tmp_path / "folder.bvh")]) == 2  # a folder, not a file
    assert "folder" in capsys.readouterr().err
    assert main(["data", "convert", str(bad), str(tmp_path / "out.bvh")]) == 2
    assert not (tmp_path / "out.bvh").exists()


def test_console_script_is_installed():
    exe = shutil.which("motionlab")
    if exe is None:
        pytest.skip("motionlab console script not on PATH (package not installed)")
    out = subprocess.run([exe, "--help"], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0 and "retarget" in out.stdout and "demo" in out.stdout


def test_convert_any_skeleton_to_smplx(tmp_path):
    """A LAFAN1-named BVH becomes a BEAT2-style npz through the name mapping onto SMPL-22."""
    from motionlab.core.skeleton import Skeleton
    from motionlab.io.bvh import write_bvh
    from motionlab.io.smplx import read_smplx_npz

    m = _walk()
    names = {"pelvis": "Hips", "left_hip": "LeftUpLeg", "right_hip": "RightUpLeg", "spine1": "Spine",
             "left_knee": "LeftLeg", "right_knee": "RightLeg", "spine2": "Spine1", "left_ankle": "LeftFoot",
             "right_ankle": "RightFoot", "spine3": "Spine2", "left_foot": "LeftToe", "right_foot": "RightToe",
             "neck": "Neck", "left_collar": "LeftShoulder", "right_collar": "RightShoulder", "head": "Head",
             "left_shoulder": "LeftArm", "right_shoulder": "RightArm", "left_elbow": "LeftForeArm",
             "right_elbow": "RightForeArm", "left_wrist": "LeftHand", "right_wrist": "RightHand"}
    sk = Skeleton([names[n] for n in m.skeleton.names], m.skeleton.parents, m.skeleton.offsets, m.skeleton.end_sites)
    write_bvh(tmp_path / "lafan.bvh", type(m)(m.fps, sk, m.root_pos, m.local_quat))
    assert main(["data", "convert", str(tmp_path / "lafan.bvh"), str(tmp_path / "beat.npz"), "--format", "smplx"]) == 0
    with np.load(tmp_path / "beat.npz") as z:
        assert z["poses"].shape == (45, 165) and z["trans"].shape == (45, 3)
    back = read_smplx_npz(tmp_path / "beat.npz")
    # the body's bone directions survive BVH -> SMPL-X (up to the unknown SMPL pelvis offset)
    p0, p1 = m.positions(), back.positions()
    d0 = p0[:, 4] - p0[:, 1]
    d1 = p1[:, 4] - p1[:, 1]
    cos = (d0 * d1).sum(-1) / np.linalg.norm(d0, axis=-1) / np.linalg.norm(d1, axis=-1)
    assert cos.min() > 0.999


# --- config listing -----------------------------------------------------------------------------


def test_config_lists_every_key_with_value_default_and_meaning(tmp_path, capsys):
    assert main(["config", "tokenizer", "train.max_steps=7"]) == 0
    out = capsys.readouterr().out
    line = next(ln for ln in out.splitlines() if ln.strip().startswith("train.max_steps ="))
    assert "= 7  (default: 1000)" in line and "# -1: limited by max_epochs only" in line
    assert any(ln.strip().startswith("data.window =") and "#" in ln for ln in out.splitlines())
    assert "model:" in out and "overrides train.max_steps=7" in out
    assert main(["config", "tokenizer", "--json"]) == 0
    keys = {k["key"]: k for k in json.loads(capsys.readouterr().out)}
    assert keys["train.lr"]["help"] and keys["model"]["section"] and "value" in keys["data.fps"]
    assert main(["config", "retarget", "--yaml", "train.lr=0.01"]) == 0
    (tmp_path / "c.yaml").write_text(capsys.readouterr().out)
    assert main(["config", "retarget", "-c", str(tmp_path / "c.yaml"), "--json"]) == 0
    assert {k["key"]: k for k in json.loads(capsys.readouterr().out)}["train.lr"]["value"] == 0.01
    assert main(["config", "retarget", "--find", "WARMUP"]) == 0
    found = [ln.split()[0] for ln in capsys.readouterr().out.splitlines() if not ln.startswith("#")]
    assert found == ["train:", "train.lr", "train.warmup_steps", "train.warmup_start"]  # by name or by meaning
    assert main(["config", "retarget", "--find", "no such thing"]) == 2
    assert "no config key of retarget mentions 'no such thing'" in capsys.readouterr().err
    assert main(["config"]) == 0
    listing = capsys.readouterr().out
    assert "tokenizer" in listing and "retarget" in listing


def test_config_of_every_registered_recipe(capsys):
    from motionlab.recipes.registry import recipe_names

    for name in recipe_names():
        assert main(["config", name]) == 0, name
        out = capsys.readouterr().out
        assert "train.max_steps = " in out and "train:" in out, name


def test_unknown_recipe_lists_the_valid_ones(capsys):
    assert main(["config", "nope"]) == 2
    err = capsys.readouterr().err
    assert "unknown recipe 'nope'" in err and "tokenizer" in err and "retarget" in err
    assert main(["train", "nope"]) == 2
    assert "valid choices" in capsys.readouterr().err


def test_train_help_lists_the_config_keys(capsys):
    with pytest.raises(SystemExit) as info:
        main(["train", "retarget", "--help"])
    assert info.value.code == 0
    out = capsys.readouterr().out
    assert "usage: motionlab train" in out and "motionlab config retarget" in out
    assert "train.max_steps = 600  (default: 1000)" in out and "loss.align = " in out
    with pytest.raises(SystemExit) as info:
        main(["train", "--help"])
    assert info.value.code == 0
    assert "recipes: " in capsys.readouterr().out
    with pytest.raises(SystemExit) as info:
        main(["train", "nope", "--help"])
    assert info.value.code == 2 and "unknown recipe 'nope'; valid choices: " in capsys.readouterr().err


def test_train_units_is_checked_before_anything_runs(capsys):
    assert main(["train", "gesture", "--units", "inch"]) == 2
    assert "reads no BVH files" in capsys.readouterr().err
    assert main(["train", "tokenizer", "--units", "parsecs"]) == 2
    assert "valid choices" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        main(["train", "tokenizer", "--help"])
    assert "data.units = auto" in capsys.readouterr().out
