"""recover inputs: COCO keypoint results (several tracks), OpenPose frame folders (BODY_25 and COCO-18
mapped to COCO-17, several people), npz (T, 17, 3), and the bad-input errors (infinite values, no person)."""

from __future__ import annotations

import json

import numpy as np
import pytest

from motionlab.errors import MotionLabError
from motionlab.io.keypoints import BODY25_TO_COCO17, COCO17_NAMES, read_keypoints


def _person(T, seed, shift=0.0):
    rng = np.random.default_rng(seed)
    xy = rng.uniform(100, 500, size=(T, 17, 2)) + shift
    conf = rng.uniform(0.5, 1.0, size=(T, 17))
    return xy, conf


def _det(img, xy, conf, score=0.9, track=None):
    d = {"image_id": img, "category_id": 1, "score": score,
         "keypoints": [float(v) for j in range(17) for v in (*xy[j], conf[j])]}
    if track is not None:
        d["track_id"] = track
    return d


def test_coco_results_pick_longest_track_or_asked(tmp_path):
    a_xy, a_c = _person(6, 0)
    b_xy, b_c = _person(4, 1, shift=800)
    dets = [_det(t, a_xy[t], a_c[t], track=7) for t in range(6)]
    dets += [_det(t + 1, b_xy[t], b_c[t], track=3) for t in range(4)]
    del dets[2]  # track 7 missed frame 2: a frame with no detection
    (tmp_path / "r.json").write_text(json.dumps(dets))
    kp = read_keypoints(tmp_path / "r.json")
    assert kp.meta["track_id"] == 7 and "longest" in kp.meta["person"] and kp.num_frames == 6
    np.testing.assert_allclose(kp.xy[3], a_xy[3])
    assert (kp.conf[2] == 0).all()
    kp3 = read_keypoints(tmp_path / "r.json", person=3)
    assert kp3.num_frames == 4 and "asked" in kp3.meta["person"]
    np.testing.assert_allclose(kp3.xy[0], b_xy[0])
    with pytest.raises(MotionLabError, match="no track 9.*3, 7"):
        read_keypoints(tmp_path / "r.json", person=9)


def test_coco_results_without_track_ids_keep_the_best_score(tmp_path):
    a_xy, a_c = _person(3, 2)
    b_xy, b_c = _person(3, 3, shift=900)
    dets = [_det(t, a_xy[t], a_c[t], 0.9) for t in range(3)] + [_det(t, b_xy[t], b_c[t], 0.4) for t in range(3)]
    (tmp_path / "r.json").write_text(json.dumps(dets))
    kp = read_keypoints(tmp_path / "r.json")
    np.testing.assert_allclose(kp.xy, a_xy)


def _openpose_frame(people, ids=None):
    out = []
    for k, (xy, conf) in enumerate(people):
        body = np.zeros((25, 3))
        for c, b in enumerate(BODY25_TO_COCO17):
            body[b] = [*xy[c], conf[c]]
        body[1] = [1.0, 2.0, 0.9]  # neck: not in COCO-17
        p = {"pose_keypoints_2d": body.reshape(-1).tolist(), "face_keypoints_2d": []}
        p["person_id"] = [ids[k] if ids else -1]
        out.append(p)
    return {"version": 1.3, "people": out}


def test_openpose_folder_body25_and_people(tmp_path):
    a_xy, a_c = _person(5, 4)
    b_xy, b_c = _person(5, 5, shift=1000)
    a_c[1, 9] = 0.0  # OpenPose writes 0, 0, 0 for a joint it did not find
    folder = tmp_path / "op"
    folder.mkdir()
    for t in range(5):
        people = [(a_xy[t], a_c[t])] + ([(b_xy[t], b_c[t])] if t < 3 else [])
        if t % 2:
            people = people[::-1]  # order of people changes between frames
        (folder / f"video_{t:012d}_keypoints.json").write_text(json.dumps(_openpose_frame(people)))
    kp = read_keypoints(folder)
    assert kp.num_frames == 5 and "longest" in kp.meta["person"]
    a_exp = a_xy.copy()
    np.testing.assert_allclose(np.delete(kp.xy[1], 9, 0), np.delete(a_exp[1], 9, 0))
    np.testing.assert_allclose(kp.xy[4], a_xy[4])
    assert kp.conf[1, 9] == 0
    assert kp.joint_names == COCO17_NAMES


def test_openpose_person_ids(tmp_path):
    a_xy, a_c = _person(3, 6)
    b_xy, b_c = _person(3, 7, shift=1000)
    folder = tmp_path / "op"
    folder.mkdir()
    for t in range(3):
        (folder / f"f{t}_keypoints.json").write_text(
            json.dumps(_openpose_frame([(a_xy[t], a_c[t]), (b_xy[t], b_c[t])], ids=[11, 12])))
    np.testing.assert_allclose(read_keypoints(folder, person=12).xy, b_xy)
    bad = folder / "f3_keypoints.json"
    bad.write_text(json.dumps({"people": [{"pose_keypoints_2d": [0.0] * 60}]}))
    with pytest.raises(MotionLabError, match="75 .BODY_25. or 54") as e:
        read_keypoints(folder)
    assert "f3_keypoints.json" in str(e.value)


def test_npz_track(tmp_path):
    xy, conf = _person(4, 8)
    np.savez(tmp_path / "k.npz", keypoints=np.concatenate([xy, conf[..., None]], -1))
    kp = read_keypoints(tmp_path / "k.npz")
    np.testing.assert_allclose(kp.xy, xy)


@pytest.mark.parametrize("literal", ["1e400", "Infinity", "-Infinity"])
def test_infinite_coordinates_are_an_error_naming_the_frame(tmp_path, literal):
    xy, conf = _person(4, 9)
    frames = [{"keypoints": [[float(x), float(y), float(c)] for (x, y), c in zip(xy[t], conf[t])]} for t in range(4)]
    text = json.dumps({"fps": 30, "frames": frames})
    # replace the x of joint 6 in frame 2 by the literal
    doc = json.loads(text)
    doc["frames"][2]["keypoints"][6][0] = "__INF__"
    (tmp_path / "k.json").write_text(json.dumps(doc).replace('"__INF__"', literal))
    with pytest.raises(MotionLabError, match="infinite") as e:
        read_keypoints(tmp_path / "k.json")
    assert e.value.place == "frames[2]" and str(tmp_path / "k.json") in str(e.value)
    arr = np.concatenate([xy, conf[..., None]], -1)
    arr[3, 1, 0] = np.inf
    np.savez(tmp_path / "k.npz", keypoints=arr)
    with pytest.raises(MotionLabError, match="infinite") as e:
        read_keypoints(tmp_path / "k.npz")
    assert "frame 3" in e.value.place
