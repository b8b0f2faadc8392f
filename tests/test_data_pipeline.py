"""Windows, splits, normalisation and the verified on-disk cache."""

import numpy as np
import pytest

from motionlab.data.cache import ArrayCache, cache_key
from motionlab.data.windows import Normalizer, assign_splits, make_windows, split_of, window_starts
from motionlab.errors import MotionLabError


def test_window_starts_and_windows():
    assert window_starts(10, 4, 3).tolist() == [0, 3, 6]
    assert window_starts(3, 4, 1).tolist() == []
    a = np.arange(10)[:, None] * np.ones((1, 2))
    b = 100 + np.arange(6)[:, None] * np.ones((1, 2))
    w, idx = make_windows([a, b], 4, 2)
    # clip a: starts 0, 2, 4, 6; clip b: starts 0, 2
    assert idx.tolist() == [[0, 0], [0, 2], [0, 4], [0, 6], [1, 0], [1, 2]]
    assert w.shape == (6, 4, 2)
    np.testing.assert_array_equal(w[3, :, 0], [6, 7, 8, 9])
    np.testing.assert_array_equal(w[5, :, 0], [102, 103, 104, 105])
    with pytest.raises(MotionLabError):
        make_windows([np.zeros((2, 1))], 4, 1)
    with pytest.raises(MotionLabError):
        make_windows([np.zeros((5, 1)), np.zeros((5, 2))], 4, 1)


def test_splits_are_by_clip_and_stable():
    ids = [f"clip{i:03d}" for i in range(200)]
    s1 = assign_splits(ids)
    s2 = assign_splits(list(reversed(ids)))
    assert s1 == s2  # independent of listing order
    counts = {k: sum(v == k for v in s1.values()) for k in ("train", "val", "test")}
    assert 130 < counts["train"] < 190 and counts["val"] > 5 and counts["test"] > 5
    assert split_of("x", seed=0) == split_of("x", seed=0)
    # manifest splits win
    assert assign_splits(["a", "b"], {"a": "test", "b": "train"}) == {"a": "test", "b": "train"}
    # tiny sets still get a train and a held-out clip
    two = assign_splits(["a", "b"], {"a": "train", "b": "train"})
    assert sorted(two.values()) == ["test", "train"]
    with pytest.raises(MotionLabError):
        assign_splits(["a"], {"a": "bogus"})


def test_windows_of_one_clip_never_cross_splits():
    ids = [f"c{i}" for i in range(30)]
    clips = [np.random.default_rng(i).normal(size=(50, 3)) for i in range(30)]
    splits = assign_splits(ids)
    seen = {}
    for split in ("train", "val", "test"):
        members = [i for i, c in enumerate(ids) if splits[c] == split]
        if not members:
            continue
        _, idx = make_windows([clips[i] for i in members], 16, 4)
        for k in idx[:, 0]:
            seen.setdefault(ids[members[k]], set()).add(split)
    assert all(len(v) == 1 for v in seen.values())


def test_normalizer_fits_train_only_and_round_trips(tmp_path):
    rng = np.random.default_rng(0)
    train = rng.normal(3.0, 2.0, size=(100, 8, 4))
    n = Normalizer.fit(train)
    np.testing.assert_allclose(n.mean, train.reshape(-1, 4).mean(0), rtol=1e-5)
    z = n(train.astype(np.float32))
    assert abs(float(z.mean())) < 1e-4 and abs(float(z.std()) - 1.0) < 1e-3
    np.testing.assert_allclose(n.denormalize(z), train, atol=1e-4)
    const = Normalizer.fit(np.ones((10, 3)))
    assert np.all(const.std > 0)  # floored, never a division by zero
    n.save(tmp_path / "stats.npz")
    m = Normalizer.load(tmp_path / "stats.npz")
    np.testing.assert_array_equal(m.mean, n.mean)
    with pytest.raises(MotionLabError):
        Normalizer.load(tmp_path / "missing.npz")


def _builder(counter):
    def build():
        counter.append(1)
        return {"windows": np.arange(4096, dtype=np.float32).reshape(64, 64), "labels": np.arange(64)}
    return build


def test_cache_reuses_verified_entries(tmp_path):
    cache = ArrayCache(tmp_path)
    builds = []
    a = cache.get_or_build("k1", _builder(builds))
    b = cache.get_or_build("k1", _builder(builds))
    assert len(builds) == 1
    assert isinstance(b["windows"], np.memmap)
    np.testing.assert_array_equal(a["windows"], b["windows"])


@pytest.mark.parametrize("damage", ["truncate", "flip", "delete_entry", "garbage_entry"])
def test_corrupted_cache_is_detected_and_rebuilt(tmp_path, damage):
    cache = ArrayCache(tmp_path)
    builds = []
    good = np.array(cache.get_or_build("k", _builder(builds))["windows"])
    f = cache.path("k") / "windows.npy"
    if damage == "truncate":
        data = f.read_bytes()
        f.write_bytes(data[: len(data) // 2])
    elif damage == "flip":
        data = bytearray(f.read_bytes())
        data[-100] ^= 0xFF  # a flipped byte inside the array data, same size
        f.write_bytes(bytes(data))
    elif damage == "delete_entry":
        (cache.path("k") / "entry.json").unlink()
    else:
        (cache.path("k") / "entry.json").write_text("{not json")
    assert cache.load("k") is None  # never silently read
    again = cache.get_or_build("k", _builder(builds))
    assert len(builds) == 2
    np.testing.assert_array_equal(again["windows"], good)


def test_cache_key_changes_with_inputs_and_settings(tmp_path):
    src = tmp_path / "a.txt"
    src.write_text("one")
    k1 = cache_key([src], {"window": 64})
    assert k1 == cache_key([src], {"window": 64})
    assert k1 != cache_key([src], {"window": 32})
    src.write_text("two")
    assert k1 != cache_key([src], {"window": 64})  # stale entries are never reused


def test_store_is_atomic_on_failure(tmp_path):
    cache = ArrayCache(tmp_path)
    with pytest.raises(MotionLabError):
        cache.store("bad", {"x": np.array([object()], dtype=object)})
    assert not cache.path("bad").exists()
    assert [p for p in tmp_path.iterdir()] == []  # no temporary folder left behind


def test_batched_fetch_equals_items_and_loader_order_is_seeded():
    import torch

    from motionlab.data.dataset import WindowDataset, collate_batched
    from motionlab.train.data import ResumableLoader

    rng = np.random.default_rng(1)
    arrays = {"train__body": rng.normal(size=(40, 8, 5)).astype(np.float32), "train__label": np.arange(40) % 3}
    ds = WindowDataset(arrays, "train", ["body"], {"body": Normalizer.fit(arrays["train__body"])})
    idx = [7, 3, 30, 3, 0]
    batch = ds.__getitems__(idx)
    for k, i in enumerate(idx):
        torch.testing.assert_close(batch["body"][k], ds[i]["body"])
        assert int(batch["label"][k]) == ds[i]["label"]
    a = [b["label"].tolist() for b in ResumableLoader(ds, 16, seed=3, collate_fn=collate_batched)]
    b = [b["label"].tolist() for b in ResumableLoader(ds, 16, seed=3, collate_fn=collate_batched)]
    assert a == b and sum(len(x) for x in a) == 40


def test_changed_splits_in_a_manifest_build_new_windows(tmp_path):
    """The window cache is keyed by each clip's split too: moving clips between splits is never stale."""
    import json

    from motionlab.core.body import smpl22_skeleton
    from motionlab.core.motion import Motion
    from motionlab.core.rotations import axis_angle_to_quat
    from motionlab.data.dataset import DataConfig, WindowData
    from motionlab.io.npz import save_motion_npz

    rng = np.random.default_rng(0)
    clips = []
    for i in range(6):
        aa = 0.2 * rng.normal(size=(1, 22, 3)) * np.ones((40, 1, 1))
        save_motion_npz(tmp_path / f"c{i}.npz", Motion(30, smpl22_skeleton(), np.zeros((40, 3)) + [0, 0, 0.9],
                                                        axis_angle_to_quat(aa)))
        clips.append({"id": f"c{i}", "files": {"human": f"c{i}.npz"}, "split": "train" if i < 4 else "test",
                      "style": "walk"})
    (tmp_path / "manifest.json").write_text(json.dumps({"clips": clips}))
    cfg = DataConfig(root=str(tmp_path), window=16, stride=8, cache_dir=str(tmp_path / "cache"))
    a = WindowData(cfg)
    assert (len(a.dataset("train")), len(a.dataset("test"))) == (16, 8)  # 4 windows per clip
    for c in clips:
        c["split"] = "test" if c["split"] == "train" else "train"
    (tmp_path / "manifest.json").write_text(json.dumps({"clips": clips}))
    b = WindowData(cfg)
    assert b.key != a.key
    assert (len(b.dataset("train")), len(b.dataset("test"))) == (8, 16)


def test_same_name_in_two_subfolders_is_two_clips(tmp_path):
    from motionlab.core.body import smpl22_skeleton
    from motionlab.core.motion import Motion
    from motionlab.data.sources import scan_folder
    from motionlab.io.bvh import write_bvh

    m = Motion(30, smpl22_skeleton(), np.zeros((5, 3)), np.tile([1.0, 0, 0, 0], (5, 22, 1)))
    for sub in ("subject1", "subject2"):
        (tmp_path / sub).mkdir()
        write_bvh(tmp_path / sub / "walk.bvh", m)
    assert [c.id for c in scan_folder(tmp_path)] == ["subject1/walk", "subject2/walk"]


def test_a_folder_of_real_files_is_a_dataset(tmp_path):
    """BVH and BEAT2-style npz files in one folder become body windows through the same pipeline;
    a folder of G1 CSV files becomes robot windows."""
    from motionlab.core.body import smpl22_skeleton
    from motionlab.core.motion import Motion
    from motionlab.core.rotations import axis_angle_to_quat
    from motionlab.data.dataset import DataConfig, WindowData
    from motionlab.io.bvh import write_bvh
    from motionlab.io.g1 import write_unitree_csv
    from motionlab.io.smplx import write_smplx_npz
    from motionlab.robots.g1 import G1_LOWER, G1_UPPER
    from motionlab.robots.motion import RobotMotion

    rng = np.random.default_rng(0)
    human, robot = tmp_path / "human", tmp_path / "robot"
    human.mkdir()
    robot.mkdir()
    for i in range(8):
        T = 60 + 5 * i
        aa = 0.3 * np.sin(np.arange(T)[:, None, None] / (4 + i) + rng.uniform(0, 6, (1, 22, 3)))
        root = np.stack([0.02 * np.arange(T), np.zeros(T), np.full(T, 0.93)], 1)
        m = Motion(30, smpl22_skeleton(), root, axis_angle_to_quat(aa))
        (write_bvh if i % 2 else write_smplx_npz)(human / (f"take{i}" + (".bvh" if i % 2 else ".npz")), m)
        q = G1_LOWER + (G1_UPPER - G1_LOWER) * (0.5 + 0.3 * np.sin(np.arange(T)[:, None] / 6 + rng.uniform(0, 6, 29)))
        write_unitree_csv(robot / f"take{i}.csv", RobotMotion(30, root, np.tile([1.0, 0, 0, 0], (T, 1)), q))

    body = WindowData(DataConfig(root=str(human), window=16, stride=8, cache_dir=str(tmp_path / "cache")))
    assert body.dims() == {"body": 136}
    assert sorted(c.files["human"].suffix for c in body.clips) == [".bvh"] * 4 + [".npz"] * 4
    n = sum(len(body.dataset(s)) for s in ("train", "val", "test"))
    assert n == sum((60 + 5 * i - 16) // 8 + 1 for i in range(8))  # every window of every clip, once
    batch = next(iter(body.loader("train")))
    assert batch["body"].shape[1:] == (16, 136) and np.isfinite(batch["body"].numpy()).all()

    g1 = WindowData(DataConfig(root=str(robot), streams=["g1_joints"], window=16, stride=8,
                               cache_dir=str(tmp_path / "cache")))
    assert g1.dims() == {"g1_joints": 29}
    paired = WindowData(DataConfig(root=str(human), paired_root=str(robot), streams=["body", "g1_joints"],
                                   window=16, stride=8, cache_dir=str(tmp_path / "cache")))
    assert len(paired.clips) == 8 and paired.dims() == {"body": 136, "g1_joints": 29}


def test_data_units_reach_the_bvh_reader_and_the_cache_key(tmp_path):
    """``data.units`` (``motionlab train --units``) reads a folder's BVH files in that unit, and a
    different unit is a different cache entry; a bad unit is one error listing the choices."""
    from motionlab.core.body import smpl22_skeleton
    from motionlab.core.motion import Motion
    from motionlab.data.dataset import DataConfig, WindowData, _load_stream
    from motionlab.data.sources import scan_folder
    from motionlab.errors import MotionLabError
    from motionlab.io.bvh import write_bvh

    T = 40
    root = np.stack([0.02 * np.arange(T), np.zeros(T), np.full(T, 0.93)], 1)
    m = Motion(30, smpl22_skeleton(), root, np.tile([1.0, 0, 0, 0], (T, 22, 1)))
    write_bvh(tmp_path / "take.bvh", m, units="cm")  # a body 1.7 m tall, in centimetres
    clip = scan_folder(tmp_path)[0]
    auto = _load_stream(clip, "body", 30.0)
    as_m = _load_stream(clip, "body", 30.0, "m")  # the same numbers read as metres: a 100x taller body
    assert not np.allclose(auto, as_m)
    np.testing.assert_allclose(_load_stream(clip, "body", 30.0, "cm"), auto, atol=1e-5)
    keys = {u: WindowData(DataConfig(root=str(tmp_path), window=16, units=u,
                                     cache_dir=str(tmp_path / "cache"))).key for u in ("auto", "cm")}
    assert keys["auto"] != keys["cm"]
    with pytest.raises(MotionLabError, match="data.units.*valid choices"):
        _load_stream(clip, "body", 30.0, "parsecs")
