"""2D keypoints: COCO-17 <-> H36M-17, keypoint files, missing detections, broken files."""

from __future__ import annotations

import json

import numpy as np
import pytest

from io_fuzz import array_variants, byte_variants, check_contract, json_variants
from motionlab.errors import MotionLabError
from motionlab.io.keypoints import (
    COCO17_NAMES,
    H36M17_NAMES,
    Keypoints2D,
    coco_to_h36m,
    h36m_to_coco,
    read_keypoints,
    write_keypoints,
)

C = COCO17_NAMES.index
H = H36M17_NAMES.index


def person(T=1, seed=0):
    rng = np.random.default_rng(seed)
    xy = rng.uniform(0, 640, size=(T, 17, 2))
    conf = rng.uniform(0.2, 1.0, size=(T, 17))
    return xy, conf


def test_names():
    assert len(COCO17_NAMES) == len(H36M17_NAMES) == 17
    assert COCO17_NAMES[0] == "nose" and COCO17_NAMES[5] == "left_shoulder" and COCO17_NAMES[16] == "right_ankle"
    assert H36M17_NAMES[0] == "pelvis" and H36M17_NAMES[1] == "right_hip" and H36M17_NAMES[10] == "head"


def test_coco_to_h36m_hand_values():
    kp = np.zeros((17, 3))
    kp[:, 2] = 0.9
    kp[C("left_hip")] = [10, 100, 0.8]
    kp[C("right_hip")] = [30, 100, 0.6]
    kp[C("left_shoulder")] = [0, 50, 0.7]
    kp[C("right_shoulder")] = [40, 50, 0.5]
    kp[C("nose")] = [21, 20, 0.95]
    kp[C("left_ear")] = [14, 22, 0.3]
    kp[C("right_ear")] = [28, 24, 0.4]
    kp[C("left_knee")] = [11, 140, 0.9]
    h = coco_to_h36m(kp, conf_last=True)
    np.testing.assert_allclose(h[H("pelvis")], [20, 100, 0.6])
    np.testing.assert_allclose(h[H("thorax")], [20, 50, 0.5])
    np.testing.assert_allclose(h[H("spine")], [20, 75, 0.5])
    np.testing.assert_allclose(h[H("neck")], [21, 20, 0.95])
    np.testing.assert_allclose(h[H("head")], [21, 23, 0.3])
    np.testing.assert_allclose(h[H("left_knee")], [11, 140, 0.9])
    # without conf_last every channel is a coordinate (2D or 3D)
    np.testing.assert_allclose(coco_to_h36m(kp)[H("pelvis")], [20, 100, 0.7])


def test_h36m_to_coco_face_and_fixpoint():
    h = np.zeros((17, 2))
    h[H("head")] = [20, 30]
    h[H("neck")] = [20, 40]
    h[H("left_shoulder")] = [0, 50]
    h[H("right_shoulder")] = [40, 50]
    c = h36m_to_coco(h)
    np.testing.assert_allclose(c[C("left_ear")], [12, 30])   # head + 0.2 * (ls - rs)
    np.testing.assert_allclose(c[C("right_ear")], [28, 30])
    np.testing.assert_allclose(c[C("left_eye")], [16.8, 36])  # 0.4 of the way nose -> ear
    np.testing.assert_allclose(c[C("nose")], [20, 40])
    # body joints survive COCO -> H36M -> COCO exactly; derived H36M joints are a fixpoint
    xy, conf = person(T=5, seed=1)
    kp = np.concatenate([xy, conf[..., None]], axis=-1)
    back = h36m_to_coco(coco_to_h36m(kp, conf_last=True), conf_last=True)
    body = [C(n) for n in COCO17_NAMES[5:]] + [C("nose")]
    np.testing.assert_allclose(back[:, body], kp[:, body])
    h1 = coco_to_h36m(xy)
    np.testing.assert_allclose(coco_to_h36m(h36m_to_coco(h1)), h1, atol=1e-9)
    with pytest.raises(MotionLabError, match="17"):
        coco_to_h36m(np.zeros((5, 16, 2)))


def test_read_layouts(tmp_path):
    xy, conf = person(T=3, seed=2)
    frames = [[[*xy[t, j], conf[t, j]] for j in range(17)] for t in range(3)]
    (tmp_path / "list.json").write_text(json.dumps(frames))
    a = read_keypoints(tmp_path / "list.json")
    assert a.fps is None and a.image_size is None
    np.testing.assert_array_equal(a.xy, xy)
    np.testing.assert_array_equal(a.conf, conf)
    flat = {"fps": 25, "image_size": [640, 480],
            "frames": [{"keypoints": [v for p in f for v in p]} for f in frames]}
    (tmp_path / "flat.json").write_text(json.dumps(flat))
    b = read_keypoints(tmp_path / "flat.json")
    assert b.fps == 25 and b.image_size == (640, 480)
    np.testing.assert_array_equal(b.xy, xy)
    assert read_keypoints(tmp_path / "flat.json", fps=50).fps == 50
    np.savez(tmp_path / "k.npz", keypoints=np.concatenate([xy, conf[..., None]], -1), fps=30)
    c = read_keypoints(tmp_path / "k.npz")
    assert c.fps == 30
    np.testing.assert_array_equal(c.conf, conf)


def test_joint_order_resolved_by_name(tmp_path):
    xy, conf = person(T=2, seed=3)
    perm = np.random.default_rng(0).permutation(17)
    kp = np.concatenate([xy, conf[..., None]], -1)[:, perm]
    np.savez(tmp_path / "p.npz", keypoints=kp, joint_names=np.array(COCO17_NAMES)[perm])
    np.testing.assert_array_equal(read_keypoints(tmp_path / "p.npz").xy, xy)
    doc = {"joint_names": [COCO17_NAMES[i] for i in perm], "frames": kp.tolist()}
    (tmp_path / "p.json").write_text(json.dumps(doc))
    np.testing.assert_array_equal(read_keypoints(tmp_path / "p.json").conf, conf)
    doc["joint_names"][0] = "tail"
    (tmp_path / "q.json").write_text(json.dumps(doc))
    with pytest.raises(MotionLabError, match="17 COCO names") as e:
        read_keypoints(tmp_path / "q.json")
    assert e.value.place == "joint_names"


def test_missing_detections(tmp_path):
    xy, conf = person(T=4, seed=4)
    frames = [{"keypoints": [[*xy[t, j], conf[t, j]] for j in range(17)]} for t in range(4)]
    frames[1] = {"keypoints": []}            # no detection
    frames[2]["keypoints"][5] = [None, None, 0.9]  # null joint
    frames[3]["keypoints"][7][0] = float("nan")    # NaN written by Python's json
    frames[3]["keypoints"][8][2] = 0.0             # zero confidence
    (tmp_path / "m.json").write_text(json.dumps({"fps": 30, "frames": frames}))
    k = read_keypoints(tmp_path / "m.json")
    assert np.isfinite(k.xy).all()
    assert (k.conf[1] == 0).all() and (k.xy[1] == 0).all()
    assert k.conf[2, 5] == 0 and (k.xy[2, 5] == 0).all() and k.conf[2, 6] == conf[2, 6]
    assert k.conf[3, 7] == 0 and k.conf[3, 8] == 0 and (k.xy[3, 8] == 0).all()
    assert (k.conf > 0).sum() == 4 * 17 - 17 - 3


@pytest.mark.parametrize("ext", [".json", ".npz"])
def test_write_read_round_trip(tmp_path, ext):
    xy, conf = person(T=6, seed=5)
    conf[2, 3] = 0
    kp = Keypoints2D(60.0, xy, conf, (1920, 1080), {"camera": "a"})
    write_keypoints(tmp_path / f"k{ext}", kp)
    back = read_keypoints(tmp_path / f"k{ext}")
    assert back.fps == 60 and back.image_size == (1920, 1080)
    xy[2, 3] = 0
    np.testing.assert_array_equal(back.xy, xy)
    np.testing.assert_array_equal(back.conf, conf)
    with pytest.raises(MotionLabError, match="extension"):
        write_keypoints(tmp_path / "k.txt", kp)


def test_fuzz_broken_files(tmp_path):
    rng = np.random.default_rng(6)
    xy, conf = person(T=3, seed=6)
    doc = {"fps": 30, "image_size": [640, 480],
           "frames": [{"keypoints": [v for j in range(17) for v in (*xy[t, j], conf[t, j])]} for t in range(3)]}
    blobs = [t.encode() for t in json_variants(doc, rng, n=150)]
    blobs += byte_variants(json.dumps(doc).encode(), rng)
    outcomes = []

    def valid(k):
        assert isinstance(k, Keypoints2D) and k.xy.shape[1:] == (17, 2) and np.isfinite(k.xy).all()
        assert np.isfinite(k.conf).all() and (k.conf >= 0).all() and k.num_frames > 0

    for i, b in enumerate(blobs):
        p = tmp_path / f"j{i}.json"
        p.write_bytes(b)
        outcomes.append(check_contract(read_keypoints, p, valid))
    good = {"keypoints": np.concatenate([xy, conf[..., None]], -1), "fps": np.array(30.0),
            "image_size": np.array([640, 480]), "joint_names": np.array(COCO17_NAMES)}
    with open(tmp_path / "good.npz", "wb") as f:
        np.savez(f, **good)
    variants = array_variants(good, rng)
    blobs = byte_variants((tmp_path / "good.npz").read_bytes(), rng)
    for i, v in enumerate(variants):
        p = tmp_path / f"n{i}.npz"
        with open(p, "wb") as f:
            np.savez(f, **v)
        outcomes.append(check_contract(read_keypoints, p, valid))
    for i, b in enumerate(blobs):
        p = tmp_path / f"b{i}.npz"
        p.write_bytes(b)
        outcomes.append(check_contract(read_keypoints, p, valid))
    assert len(outcomes) >= 250
    assert outcomes.count("error") >= 0.3 * len(outcomes)
