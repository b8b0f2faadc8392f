"""motionlab's own npz: round trip, plain-numpy readability, and a fuzz of broken files."""

from __future__ import annotations

import io
import json
import zipfile

import numpy as np
import pytest

from motionlab.core.body import smpl22_skeleton
from motionlab.core.motion import Motion
from motionlab.core.rotations import axis_angle_to_quat
from motionlab.errors import MotionLabError
from motionlab.io.npz import load_motion_npz, save_motion_npz

T = 15


def make_motion(joint_pos: bool = True) -> Motion:
    sk = smpl22_skeleton()
    rng = np.random.default_rng(0)
    J = sk.num_joints
    jp = None
    if joint_pos:
        jp = np.full((T, J, 3), np.nan)
        jp[:, 3] = sk.offsets[3] * 1.1  # a stretched spine on every frame
    return Motion(
        30.0, sk, rng.normal(size=(T, 3)), axis_angle_to_quat(rng.normal(scale=0.4, size=(T, J, 3))),
        joint_pos=jp,
        extras={"contacts": rng.random((T, 2)) > 0.5, "phase": np.linspace(0, 1, T), "word_id": np.arange(T)},
        meta={"caption": "a person waves", "style": {"speed": 1.5}, "count": np.int64(3)},
    )


def test_round_trip(tmp_path):
    m = make_motion()
    path = tmp_path / "clip.npz"
    save_motion_npz(path, m)
    back = load_motion_npz(path)
    assert back.skeleton == m.skeleton and back.skeleton.end_sites.keys() == m.skeleton.end_sites.keys()
    for j, v in m.skeleton.end_sites.items():
        assert np.array_equal(back.skeleton.end_sites[j], v)
    assert back.fps == m.fps
    assert np.array_equal(back.root_pos, m.root_pos)
    assert np.allclose(back.local_quat, m.local_quat, atol=1e-15)
    assert np.array_equal(back.joint_pos, m.joint_pos, equal_nan=True)
    assert set(back.extras) == {"contacts", "phase", "word_id"}
    for k, v in m.extras.items():
        assert back.extras[k].dtype == v.dtype and np.array_equal(back.extras[k], v)
    assert back.meta["caption"] == "a person waves" and back.meta["style"] == {"speed": 1.5} and back.meta["count"] == 3
    assert back.meta["source"] == str(path)
    assert np.allclose(back.positions(), m.positions())
    assert [p.name for p in tmp_path.iterdir()] == ["clip.npz"]  # no temporary file left behind


def test_plain_numpy_reads_it(tmp_path):
    m = make_motion(joint_pos=False)
    path = tmp_path / "clip.npz"
    save_motion_npz(path, m)
    z = np.load(path, allow_pickle=False)
    assert str(z["format"]) == "motionlab.motion" and int(z["format_version"]) == 1
    assert list(z["joint_names"]) == m.skeleton.names
    assert z["local_quat"].shape == (T, 22, 4) and z["positions"].shape == (T, 22, 3)
    assert np.allclose(z["positions"], m.positions())
    assert np.allclose(z["local_quat"][:, :, 0] ** 2 + (z["local_quat"][:, :, 1:] ** 2).sum(-1), 1.0)  # w first
    conv = json.loads(str(z["conventions"]))
    assert conv["up_axis"] == "Z" and conv["units"] == "m" and conv["quaternion"] == "wxyz"
    assert "first two columns" in conv["rot6d"]
    assert json.loads(str(z["meta"]))["caption"] == "a person waves"
    assert "joint_pos" not in z.files and "extra.phase" in z.files


def test_failed_save_leaves_the_old_file(tmp_path):
    path = tmp_path / "clip.npz"
    save_motion_npz(path, make_motion())
    before = path.read_bytes()
    bad = make_motion()
    bad.meta["oops"] = object()
    with pytest.raises(MotionLabError, match="meta"):
        save_motion_npz(path, bad)
    bad = make_motion()
    bad.extras["obj"] = np.array([object()] * T)
    with pytest.raises(MotionLabError, match="extra.obj"):
        save_motion_npz(path, bad)
    assert path.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["clip.npz"]


# --- fuzz: every broken variant raises MotionLabError naming the file and the key -------------------


def good_arrays(tmp_path) -> dict:
    path = tmp_path / "good.npz"
    save_motion_npz(path, make_motion())
    with np.load(path, allow_pickle=False) as z:
        return {k: z[k] for k in z.files}


def _set(key, value):
    return lambda a: {**a, key: value(a[key]) if callable(value) else value}


def _drop(key):
    return lambda a: {k: v for k, v in a.items() if k != key}


def _nan_at(key, index):
    def f(a):
        v = a[key].astype(np.float64).copy()
        v[index] = np.nan
        return {**a, key: v}
    return f


VARIANTS = {
    **{f"missing {k}": (_drop(k), k) for k in
       ("format", "format_version", "joint_names", "parents", "offsets", "fps", "root_pos", "local_quat")},
    "missing end_site_offsets": (_drop("end_site_offsets"), "end_site_offsets"),
    "wrong format": (_set("format", np.array("other.motion")), "format"),
    "format not a string": (_set("format", np.arange(3)), "format"),
    "future version": (_set("format_version", np.array(2)), "format_version"),
    "version not an integer": (_set("format_version", np.array(1.5)), "format_version"),
    "names 2-D": (_set("joint_names", lambda v: v.reshape(2, -1)), "joint_names"),
    "names numeric": (_set("joint_names", np.arange(22.0)), "joint_names"),
    "names empty": (_set("joint_names", np.array([], dtype=np.str_)), "joint_names"),
    "duplicate names": (_set("joint_names", lambda v: np.array(["a"] * len(v))), "joint_names"),
    "parents short": (_set("parents", lambda v: v[:-1]), "parents"),
    "parents fractional": (_set("parents", lambda v: v + 0.5), "parents"),
    "parents cycle": (_set("parents", lambda v: np.where(np.arange(len(v)) == 4, 7, v)), "parents"),
    "parents strings": (_set("parents", lambda v: v.astype(str)), "parents"),
    "offsets (J, 2)": (_set("offsets", lambda v: v[:, :2]), "offsets"),
    "offsets NaN": (_nan_at("offsets", (5, 1)), "offsets"),
    "fps zero": (_set("fps", np.array(0.0)), "fps"),
    "fps NaN": (_set("fps", np.array(np.nan)), "fps"),
    "fps vector": (_set("fps", np.array([30.0, 30.0])), "fps"),
    "fps text": (_set("fps", np.array("thirty")), "fps"),
    "root_pos (T, 2)": (_set("root_pos", lambda v: v[:, :2]), "root_pos"),
    "root_pos NaN row": (_nan_at("root_pos", (7, 2)), "root_pos"),
    "root_pos inf": (_set("root_pos", lambda v: np.where(np.arange(T)[:, None] == 3, np.inf, v)), "root_pos"),
    "root_pos complex": (_set("root_pos", lambda v: v.astype(np.complex128)), "root_pos"),
    "local_quat NaN row": (_nan_at("local_quat", (9, 4, 0)), "local_quat"),
    "local_quat zero": (_set("local_quat", lambda v: np.where(np.arange(T)[:, None, None] == 2, 0.0, v)),
                        "local_quat"),
    "local_quat (T, J, 3)": (_set("local_quat", lambda v: v[..., :3]), "local_quat"),
    "local_quat fewer frames": (_set("local_quat", lambda v: v[:-1]), "local_quat"),
    "local_quat fewer joints": (_set("local_quat", lambda v: v[:, :-1]), "local_quat"),
    "positions more frames": (_set("positions", lambda v: np.concatenate([v, v[:1]])), "positions"),
    "joint_pos fewer frames": (_set("joint_pos", lambda v: v[:-2]), "joint_pos"),
    "joint_pos inf": (_set("joint_pos", lambda v: np.where(np.isnan(v), np.inf, v)), "joint_pos"),
    "extra fewer frames": (_set("extra.phase", lambda v: v[:-1]), "extra.phase"),
    "extra scalar": (_set("extra.phase", np.array(1.0)), "extra.phase"),
    "empty clip": (lambda a: {**a, "root_pos": a["root_pos"][:0], "local_quat": a["local_quat"][:0],
                              "positions": a["positions"][:0], "joint_pos": a["joint_pos"][:0],
                              **{k: v[:0] for k, v in a.items() if k.startswith("extra.")}}, "root_pos"),
    "end site on missing joint": (_set("end_site_joints", lambda v: v + 100), "end_site_joints"),
    "end site offsets short": (_set("end_site_offsets", lambda v: v[:-1]), "end_site_offsets"),
    "meta not JSON": (_set("meta", np.array("{caption: 1")), "meta"),
    "meta a list": (_set("meta", np.array("[1, 2]")), "meta"),
    "meta numeric": (_set("meta", np.array(3.0)), "meta"),
    "conventions Y up": (_set("conventions", np.array(json.dumps({"up_axis": "Y"}))), "conventions"),
    "conventions xyzw": (_set("conventions", np.array(json.dumps({"quaternion": "xyzw"}))), "conventions"),
}


@pytest.mark.parametrize("name", sorted(VARIANTS))
def test_broken_arrays_raise_clear_errors(tmp_path, name):
    change, key = VARIANTS[name]
    arrays = change(good_arrays(tmp_path))
    path = tmp_path / "broken.npz"
    np.savez(path, **arrays)
    with pytest.raises(MotionLabError) as err:
        load_motion_npz(path)
    msg = str(err.value)
    assert "broken.npz" in msg, msg
    assert key in msg, msg


def _raw_variants(good: bytes) -> dict:
    out = {
        "empty file": b"",
        "text": b"hello, this is not a zip\n",
        "random bytes": np.random.default_rng(0).bytes(4096),
        "npy not npz": _npy_bytes(),
        "zip without arrays": _zip_bytes({"readme.txt": b"nothing here"}),
        "zip of a non-npy member named like a key": _zip_bytes({"root_pos.npy": b"\x93NUMPY garbage"}),
    }
    for cut in (1, 10, 30, 100, len(good) // 3, len(good) // 2, len(good) - 200, len(good) - 22, len(good) - 1):
        out[f"truncated at {cut}"] = good[:cut]
    rng = np.random.default_rng(1)
    for i in range(30):  # scattered corruption: any outcome but a foreign exception is acceptable
        b = bytearray(good)
        for pos in rng.integers(0, len(b), size=4):
            b[pos] ^= int(rng.integers(1, 256))
        out[f"flipped bytes {i}"] = bytes(b)
    return out


def _npy_bytes() -> bytes:
    buf = io.BytesIO()
    np.save(buf, np.zeros((3, 3)))
    return buf.getvalue()


def _zip_bytes(members: dict) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        for k, v in members.items():
            z.writestr(k, v)
    return buf.getvalue()


def test_broken_bytes_raise_only_motionlab_errors(tmp_path):
    good_path = tmp_path / "good.npz"
    save_motion_npz(good_path, make_motion())
    good = good_path.read_bytes()
    loaded = 0
    for name, data in _raw_variants(good).items():
        path = tmp_path / "broken.npz"
        path.write_bytes(data)
        try:
            load_motion_npz(path)
            loaded += 1
            assert name.startswith("flipped"), f"{name} loaded without error"
        except MotionLabError as e:
            assert "broken.npz" in str(e), (name, str(e))
            assert e.place, (name, str(e))
        except Exception as e:  # pragma: no cover - the assertion message is the point
            pytest.fail(f"{name}: {type(e).__name__} leaked: {e}")
    assert loaded < 30  # the zip CRCs catch almost every corruption


def test_missing_file(tmp_path):
    with pytest.raises(MotionLabError, match="no such file"):
        load_motion_npz(tmp_path / "absent.npz")


def test_pickled_object_array_is_refused(tmp_path):
    arrays = good_arrays(tmp_path)
    arrays["extra.objects"] = np.array([{"a": 1}] * T, dtype=object)
    path = tmp_path / "pickled.npz"
    np.savez(path, **arrays)
    with pytest.raises(MotionLabError, match="pickled.npz"):
        load_motion_npz(path)
