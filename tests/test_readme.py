"""The README's Python example runs as written, on files shaped like the ones it names."""

import re
from pathlib import Path

import numpy as np

README = Path(__file__).resolve().parents[1] / "README.md"


def _python_blocks():
    return re.findall(r"```python\n(.*?)```", README.read_text(), flags=re.S)


def test_readme_python_example_runs(tmp_path, monkeypatch):
    from motionlab.core.body import smpl22_skeleton
    from motionlab.core.motion import Motion
    from motionlab.core.rotations import axis_angle_to_quat
    from motionlab.core.skeleton import Skeleton
    from motionlab.io.bvh import write_bvh
    from motionlab.io.g1 import write_unitree_csv
    from motionlab.robots.g1 import G1_LOWER, G1_UPPER
    from motionlab.robots.motion import RobotMotion

    # a LAFAN1-named BVH (centimetres on disk) and a Unitree CSV
    lafan = {"pelvis": "Hips", "left_hip": "LeftUpLeg", "right_hip": "RightUpLeg", "spine1": "Spine",
             "left_knee": "LeftLeg", "right_knee": "RightLeg", "spine2": "Spine1", "left_ankle": "LeftFoot",
             "right_ankle": "RightFoot", "spine3": "Spine2", "left_foot": "LeftToe", "right_foot": "RightToe",
             "neck": "Neck", "left_collar": "LeftShoulder", "right_collar": "RightShoulder", "head": "Head",
             "left_shoulder": "LeftArm", "right_shoulder": "RightArm", "left_elbow": "LeftForeArm",
             "right_elbow": "RightForeArm", "left_wrist": "LeftHand", "right_wrist": "RightHand"}
    s = smpl22_skeleton()
    sk = Skeleton([lafan[n] for n in s.names], s.parents, s.offsets, s.end_sites)
    T = 60
    aa = np.zeros((T, 22, 3))
    aa[:, 1, 1] = 0.4 * np.sin(np.arange(T) / 5)
    root = np.stack([np.arange(T) * 0.04, np.zeros(T), np.full(T, 0.93)], 1)
    write_bvh(tmp_path / "walk.bvh", Motion(30, sk, root, axis_angle_to_quat(aa)))
    q = np.tile((G1_LOWER + G1_UPPER) / 2, (T, 1))
    write_unitree_csv(tmp_path / "dance1_subject2.csv",
                      RobotMotion(30, root * [1, 1, 0.8], np.tile([1.0, 0, 0, 0], (T, 1)), q))

    blocks = _python_blocks()
    assert blocks, "the README has no python example"
    monkeypatch.chdir(tmp_path)
    for code in blocks:
        exec(compile(code, str(README), "exec"), {"__name__": "readme"})
    assert (tmp_path / "dance1_subject2.npz").exists()
