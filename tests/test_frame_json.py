"""Frame JSON of the character predictor: 6D convention, angular velocity, round trips, broken files."""

from __future__ import annotations

import json

import numpy as np
import pytest

from io_fuzz import array_variants, byte_variants, check_contract, json_variants
from motionlab.core.rotations import euler_to_matrix, matrix_to_rot6d, rot6d_to_matrix
from motionlab.errors import MotionLabError
from motionlab.io.frame_json import json_to_npz, npz_to_json, read_frame_json, read_frame_npz, write_frame_json


def make_doc(T=4, N=3, seed=0, fps=60):
    rng = np.random.default_rng(seed)
    R = euler_to_matrix(rng.uniform(-1, 1, size=(T, N, 3)), "ZYX")
    frames = []
    for t in range(T):
        frames.append({
            "RootYaw": float(rng.uniform(-3, 3)),
            "RootVelocityXY": [float(v) for v in rng.normal(size=2)],
            "BoneRotations": [[float(v) for v in r] for r in matrix_to_rot6d(R[t])],
            "FootEvidence": {"L": {"soft_contact_score": float(rng.uniform())},
                             "R": {"soft_contact_score": float(rng.uniform())}},
        })
    return {"FPS": fps, "Frames": frames}


def dump(path, doc):
    path.write_text(json.dumps(doc))
    return path


def test_6d_is_first_two_columns(tmp_path):
    # Rz(+90 deg) maps x -> y: columns (0, 1, 0) and (-1, 0, 0)
    doc = make_doc(T=1, N=1)
    doc["Frames"][0]["BoneRotations"] = [[0, 1, 0, -1, 0, 0]]
    a = read_frame_json(dump(tmp_path / "a.json", doc))
    R = rot6d_to_matrix(a["rot6d"][0, 0])
    np.testing.assert_allclose(R, [[0, -1, 0], [1, 0, 0], [0, 0, 1]], atol=1e-12)
    np.testing.assert_allclose(R @ [1, 0, 0], [0, 1, 0], atol=1e-12)
    # and the writer stores columns as well
    write_frame_json(tmp_path / "b.json", {**a, "rot6d": matrix_to_rot6d(euler_to_matrix(np.array([[[0, 0, 0.5]]]), "XYZ"))})
    d = json.loads((tmp_path / "b.json").read_text())["Frames"][0]["BoneRotations"][0]
    np.testing.assert_allclose(d, [np.cos(0.5), np.sin(0.5), 0, -np.sin(0.5), np.cos(0.5), 0], atol=1e-12)


def test_angvel_is_local_and_in_rad_per_s(tmp_path):
    theta, fps = 0.1, 50
    Rx = euler_to_matrix(np.array([np.pi / 2, 0, 0]), "XYZ")
    Rz = euler_to_matrix(np.array([0, 0, theta]), "XYZ")
    doc = make_doc(T=3, N=1, fps=fps)
    for t, R in enumerate([Rx, Rx @ Rz, Rx @ Rz @ Rz]):
        doc["Frames"][t]["BoneRotations"] = [matrix_to_rot6d(R).tolist()]
    a = read_frame_json(dump(tmp_path / "a.json", doc))
    # local frame: about the bone's own z, not the world's (which would be -y after Rx)
    np.testing.assert_allclose(a["angvel"][:, 0], [[0, 0, theta * fps]] * 3, atol=1e-9)
    one = read_frame_json(dump(tmp_path / "one.json", make_doc(T=1)))
    assert one["angvel"].shape == (1, 3, 3) and not one["angvel"].any()


def test_read_layout_and_values(tmp_path):
    doc = make_doc(T=5, N=4)
    doc["BoneNames"] = ["a", "b", "c", "d"]
    a = read_frame_json(dump(tmp_path / "a.json", doc))
    assert float(a["fps"]) == 60 and a["rot6d"].shape == (5, 4, 6) and a["angvel"].shape == (5, 4, 3)
    assert a["root_yaw"][2] == doc["Frames"][2]["RootYaw"]
    assert list(a["root_vel"][3]) == doc["Frames"][3]["RootVelocityXY"]
    assert a["soft_contacts"][1, 1] == doc["Frames"][1]["FootEvidence"]["R"]["soft_contact_score"]
    assert list(a["bone_names"]) == ["a", "b", "c", "d"]


def test_round_trips_are_exact(tmp_path):
    doc = make_doc(T=6, N=5, seed=3)
    src = dump(tmp_path / "a.json", doc)
    arrays = json_to_npz(src, tmp_path / "a.npz", bone_names=[f"bone{i}" for i in range(5)])
    back = read_frame_npz(tmp_path / "a.npz")
    for k in ("rot6d", "angvel", "root_yaw", "root_vel", "soft_contacts"):
        np.testing.assert_array_equal(back[k], arrays[k])
    with np.load(tmp_path / "a.npz") as z:
        assert str(z["rot6d_convention"]) == "columns"
    npz_to_json(tmp_path / "a.npz", tmp_path / "b.json")
    out = json.loads((tmp_path / "b.json").read_text())
    assert out["Frames"] == doc["Frames"] and out["FPS"] == 60 and out["BoneNames"][4] == "bone4"
    write_frame_json(tmp_path / "c.json", read_frame_json(tmp_path / "b.json"))
    assert (tmp_path / "c.json").read_text() == (tmp_path / "b.json").read_text()


def test_errors_name_place(tmp_path):
    doc = make_doc(T=4, N=3)
    doc["Frames"][2]["BoneRotations"].pop()
    with pytest.raises(MotionLabError, match="2 bones") as e:
        read_frame_json(dump(tmp_path / "a.json", doc))
    assert e.value.place == "Frames[2].BoneRotations" and e.value.file == str(tmp_path / "a.json")
    doc = make_doc(T=4, N=3)
    doc["Frames"][1]["BoneRotations"][2] = [0, 0, 0, 1, 0, 0]
    with pytest.raises(MotionLabError, match="degenerate") as e:
        read_frame_json(dump(tmp_path / "b.json", doc))
    assert e.value.place == "Frames[1].BoneRotations[2]"
    (tmp_path / "c.json").write_text('{"FPS": 60,\n "Frames": [}')
    with pytest.raises(MotionLabError, match="invalid JSON") as e:
        read_frame_json(tmp_path / "c.json")
    assert e.value.place.startswith("line 2")
    with pytest.raises(MotionLabError, match="bone names"):
        json_to_npz(dump(tmp_path / "d.json", make_doc()), tmp_path / "d.npz", bone_names=["x"])
    assert not (tmp_path / "d.npz").exists()


def test_failed_write_keeps_old_file(tmp_path):
    good = read_frame_json(dump(tmp_path / "a.json", make_doc()))
    write_frame_json(tmp_path / "out.json", good)
    before = (tmp_path / "out.json").read_text()
    bad = dict(good, rot6d=good["rot6d"].copy())
    bad["rot6d"][1, 1, 1] = np.nan
    with pytest.raises(MotionLabError, match="frame 1"):
        write_frame_json(tmp_path / "out.json", bad)
    assert (tmp_path / "out.json").read_text() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.json", "out.json"]


def test_fuzz_broken_files(tmp_path):
    rng = np.random.default_rng(1)
    doc = make_doc(T=3, N=2)
    texts = json_variants(doc, rng, n=150)
    blobs = byte_variants(json.dumps(doc).encode(), rng)
    outcomes = []

    def valid(a):
        for k in ("rot6d", "angvel", "root_yaw", "root_vel", "soft_contacts"):
            assert np.isfinite(a[k]).all()

    for i, data in enumerate([t.encode() for t in texts] + blobs):
        p = tmp_path / f"v{i}.json"
        p.write_bytes(data)
        outcomes.append(check_contract(read_frame_json, p, valid))
    # the npz side, through npz_to_json
    arrays = json_to_npz(dump(tmp_path / "good.json", doc), tmp_path / "good.npz")
    arrays = {k: v for k, v in arrays.items()}
    for i, v in enumerate(array_variants(arrays, rng)):
        p = tmp_path / f"n{i}.npz"
        with open(p, "wb") as f:
            np.savez(f, **v)
        outcomes.append(check_contract(lambda q: npz_to_json(q, tmp_path / "out.json"), p))
    assert len(outcomes) >= 200
    assert outcomes.count("error") >= 0.5 * len(outcomes)
