"""Broken-file generators for the io fuzz tests (imported by tests/test_*_io.py; not a test module).

Each reader is held to one contract: on a broken file it either returns a valid result or raises
MotionLabError naming the file and a place, never any other exception.
"""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any, Callable, Dict, List

import numpy as np

from motionlab.errors import MotionLabError


def byte_variants(data: bytes, rng: np.random.Generator, n_trunc: int = 30, n_flip: int = 30) -> List[bytes]:
    """Truncations, random byte flips, garbage, empty."""
    out = [b"", b"\x00" * 64, b"garbage, not a file of this kind\n", rng.bytes(512)]
    cuts = sorted(set(rng.integers(1, max(len(data) - 1, 2), size=n_trunc).tolist()))
    out += [data[:c] for c in cuts]
    for _ in range(n_flip):
        b = bytearray(data)
        for pos in rng.integers(0, len(b), size=int(rng.integers(1, 6))):
            b[pos] = int(rng.integers(0, 256))
        out.append(bytes(b))
    return out


def array_variants(arrays: Dict[str, np.ndarray], rng: np.random.Generator) -> List[Dict[str, Any]]:
    """For every key: dropped, empty, scalar, string, object, reshaped, one frame short, NaN, inf."""
    out = []
    for key, a in arrays.items():
        base = {k: v for k, v in arrays.items() if k != key}
        out.append(base)
        bad_values = [np.zeros((0,) + a.shape[1:]), np.array(3.0), np.array("text"), np.array([{"x": 1}], dtype=object),
                      np.zeros((2, 2, 2, 2)), np.array([1.0, 2.0])]
        if a.ndim >= 1 and a.shape[0] > 1:
            bad_values.append(a[:-1])
            bad_values.append(np.swapaxes(a, 0, -1) if a.ndim > 1 else a[None])
        if a.dtype.kind == "f" and a.size:
            for v in (np.nan, np.inf, -np.inf):
                b = a.copy()
                b.reshape(-1)[int(rng.integers(0, a.size))] = v
                bad_values.append(b)
        out += [dict(base, **{key: v}) for v in bad_values]
    return out


def _paths(doc: Any, prefix=()) -> List[tuple]:
    found = [prefix]
    if isinstance(doc, dict):
        for k, v in doc.items():
            found += _paths(v, prefix + (k,))
    elif isinstance(doc, list):
        for i, v in enumerate(doc[:3]):
            found += _paths(v, prefix + (i,))
    return found


def json_variants(doc: Any, rng: np.random.Generator, n: int = 150) -> List[str]:
    """Random structural damage: a value deleted or replaced by null, a string, NaN, a huge number,
    an empty or wrong-length list, an object ..."""
    paths = _paths(doc)[1:]
    replacements = [None, "x", [], {}, float("nan"), float("inf"), 1e308, -1, 0, True, [1, 2], [[1, 2, 3]], {"a": 1}]
    out = []
    for _ in range(n):
        d = copy.deepcopy(doc)
        path = paths[int(rng.integers(0, len(paths)))]
        parent = d
        for p in path[:-1]:
            parent = parent[p]
        last = path[-1]
        if rng.random() < 0.25:
            if isinstance(parent, dict):
                del parent[last]
            else:
                parent.pop(last)
        else:
            parent[last] = copy.deepcopy(replacements[int(rng.integers(0, len(replacements)))])
        out.append(json.dumps(d))
    return out


def check_contract(reader: Callable[[Path], Any], path: Path, validate: Callable[[Any], None] = lambda r: None) -> str:
    """Run ``reader(path)``: it must return (and pass ``validate``) or raise a MotionLabError that
    names ``path`` and a place. Returns ``"ok"`` or ``"error"``."""
    try:
        result = reader(path)
    except MotionLabError as e:
        assert e.file == str(path), f"error does not name the file: {e}"
        assert e.place, f"error does not name a place: {e}"
        return "error"
    validate(result)
    return "ok"


# --- the command-line contract over every format ----------------------------------------------------
#
# ``valid_files`` writes one small good file per format; ``cli_variants`` damages them in ways a user
# meets (truncations, flipped bytes, wrong types, out-of-range numbers, format-specific traps) and
# ``run_cli`` runs ``motionlab data inspect`` / ``data convert`` in-process on each, returning what a
# user would see: the exit code, stdout and stderr (a traceback if one escaped).

import contextlib
import io as _io
import pickle
import traceback
from dataclasses import dataclass


def valid_files(folder: Path) -> Dict[str, Path]:
    """One small valid file per format, named by format."""
    from motionlab.core.body import smpl22_skeleton
    from motionlab.core.motion import Motion
    from motionlab.core.rotations import axis_angle_to_quat, axis_angle_to_matrix, matrix_to_rot6d
    from motionlab.io.audio import write_audio
    from motionlab.io.bvh import write_bvh
    from motionlab.io.frame_json import write_frame_json
    from motionlab.io.g1 import write_beyondmimic_npz, write_gmr_pkl, write_seulzx_npz, write_unitree_csv
    from motionlab.io.keypoints import Keypoints2D, write_keypoints
    from motionlab.io.npz import save_motion_npz
    from motionlab.io.smplx import write_smplx_npz
    from motionlab.io.textgrid import Word, write_words
    from motionlab.robots.g1 import G1_LOWER, G1_UPPER
    from motionlab.robots.motion import RobotMotion

    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(0)
    T, fps = 12, 30.0
    t = np.arange(T) / fps
    sk = smpl22_skeleton()
    aa = 0.3 * np.sin(2 * t[:, None, None] + rng.uniform(0, 6, (1, sk.num_joints, 3)))
    human = Motion(fps, sk, np.stack([0.5 * t, 0 * t, 0.9 + 0 * t], 1), axis_angle_to_quat(aa))
    mid, amp = (G1_LOWER + G1_UPPER) / 2, (G1_UPPER - G1_LOWER) / 4
    robot = RobotMotion(fps, np.stack([0.5 * t, 0.1 * np.sin(t), 0.78 + 0 * t], 1),
                        axis_angle_to_quat(np.stack([0 * t, 0 * t, 0.4 * t], 1)),
                        mid + amp * np.sin(2 * t[:, None] + rng.uniform(0, 6, 29)))
    paired = RobotMotion(fps, robot.root_pos, robot.root_quat, robot.joint_pos,
                         extras={"smplx_pose_body": matrix_to_rot6d(axis_angle_to_matrix(
                             rng.normal(scale=0.4, size=(T, 21, 3))))})
    files = {k: folder / n for k, n in [
        ("bvh", "clip.bvh"), ("npz", "motion.npz"), ("smplx", "smplx.npz"), ("unitree-csv", "g1.csv"),
        ("beyondmimic", "bm.npz"), ("seulzx", "seulzx.npz"), ("gmr-pkl", "gmr.pkl"),
        ("keypoints", "kp.json"), ("keypoints-npz", "kp.npz"), ("frame-json", "frames.json"),
        ("audio", "voice.wav"), ("textgrid", "words.TextGrid")]}
    write_bvh(files["bvh"], human)
    save_motion_npz(files["npz"], human)
    write_smplx_npz(files["smplx"], human)
    write_unitree_csv(files["unitree-csv"], robot, fps=None)
    write_beyondmimic_npz(files["beyondmimic"], robot, fps=50.0)
    write_seulzx_npz(files["seulzx"], paired, fps=50.0)
    write_gmr_pkl(files["gmr-pkl"], robot)
    kp = Keypoints2D(30.0, rng.uniform(10, 500, (T, 17, 2)), rng.uniform(0.5, 1.0, (T, 17)), (640, 480))
    write_keypoints(files["keypoints"], kp)
    write_keypoints(files["keypoints-npz"], kp)
    write_frame_json(files["frame-json"], {
        "fps": 60.0, "rot6d": matrix_to_rot6d(axis_angle_to_matrix(rng.normal(scale=0.3, size=(T, 4, 3)))),
        "root_yaw": rng.normal(size=T), "root_vel": rng.normal(size=(T, 2)),
        "soft_contacts": rng.uniform(0, 1, (T, 2)), "bone_names": ["a", "b", "c", "d"]})
    write_audio(files["audio"], (0.3 * np.sin(np.arange(1600) * 0.05)).astype(np.float32), 16000)
    write_words(files["textgrid"], [Word(0.1, 0.4, "hello"), Word(0.5, 0.9, "world")], duration=1.0)
    return files


@dataclass
class Variant:
    """One damaged file: ``bad`` True = must be refused (exit 2); None = either a valid read or exit 2."""

    name: str
    path: Path
    bad: Optional[bool]
    convert_to: Optional[str] = None  # also run ``data convert`` to this extension


from typing import Optional  # noqa: E402  (kept next to its first use in this section)


def _npz_arrays(path: Path) -> Dict[str, np.ndarray]:
    with np.load(path, allow_pickle=False) as z:
        return {k: z[k] for k in z.files}


def _csv_variants(text: str) -> List[tuple]:
    lines = text.splitlines()
    cells = lines[0].split(",")
    out = []
    for name, value, col in [("huge", "1e300", 8), ("max", "1e308", 0), ("inf", "inf", 9), ("nan", "nan", 10),
                             ("arabic", "\u0661\u0662", 9), ("fullwidth", "\uff11\uff12", 12),
                             ("underscore", "1_000", 8), ("hex", "0x10", 8), ("empty", "", 8),
                             ("space", " ", 8), ("word", "knee", 8)]:
        c = list(cells)
        c[col] = value
        out.append((f"csv-{name}", "\n".join([",".join(c)] + lines[1:]) + "\n"))
    c = list(cells)
    c[3:7] = ["1e300", "1e300", "0", "0"]
    out.append(("csv-quat-1e300", "\n".join([",".join(c)] + lines[1:]) + "\n"))
    c = list(cells)
    c[3:7] = ["0", "0", "0", "0"]
    out.append(("csv-quat-zero", "\n".join([",".join(c)] + lines[1:]) + "\n"))
    out.append(("csv-35-columns", "\n".join([",".join(cells[:35])] + lines[1:]) + "\n"))
    out.append(("csv-header", "x,y,z,qx,qy,qz,qw," + ",".join(f"j{i}" for i in range(29)) + "\n" + text))
    out.append(("csv-semicolons", text.replace(",", ";")))
    return out


_TG_BROKEN = {
    "tg-binary": lambda s: s.replace('"ooTextFile"', '"ooBinaryFile"'),
    "tg-not-textgrid": lambda s: s.replace('"TextGrid"', '"Sound"', 1),
    "tg-size-more": lambda s: s.replace("intervals: size = 5", "intervals: size = 6"),
    "tg-size-less": lambda s: s.replace("intervals: size = 5", "intervals: size = 3"),
    "tg-tiers-more": lambda s: s.replace("size = 1 \n", "size = 2 \n", 1),
    "tg-tiers-zero": lambda s: s.replace("size = 1 \n", "size = 0 \n", 1),
    "tg-xmax-early": lambda s: s.replace("xmax = 1 \n", "xmax = 0.5 \n", 1),
    "tg-overlap": lambda s: s.replace("xmin = 0.4 ", "xmin = 0.3 ", 1),
    "tg-backwards": lambda s: s.replace("xmax = 0.4 ", "xmax = 0.05 ", 1),
    "tg-nan-time": lambda s: s.replace("xmax = 0.4 ", "xmax = nan ", 1),
    "tg-truncated-mid-tier": lambda s: s[:s.index("intervals [4]")],
    "tg-truncated-mid-interval": lambda s: s[:s.index("intervals [3]") + 40],
}


def cli_variants(files: Dict[str, Path], folder: Path, rng: np.random.Generator, n_bytes: int = 8) -> List[Variant]:
    """Damaged copies of ``files`` (from :func:`valid_files`) in ``folder``: byte-level damage for every
    format, array damage for every npz key, value damage for CSV/JSON/TextGrid/pickle, and the traps
    users reported (each marked must-refuse)."""
    folder.mkdir(parents=True, exist_ok=True)
    out: List[Variant] = []
    counter = [0]

    def add(name: str, suffix: str, data, bad: Optional[bool], convert_to: Optional[str] = None) -> None:
        counter[0] += 1
        p = folder / f"v{counter[0]:04d}_{name}{suffix}"
        if isinstance(data, str):
            data = data.encode("utf-8")
        p.write_bytes(data)
        out.append(Variant(name, p, bad, convert_to))

    motion_kinds = {"bvh", "npz", "smplx", "unitree-csv", "beyondmimic", "seulzx", "gmr-pkl"}
    for fmt, path in files.items():
        raw = path.read_bytes()
        suffix = path.suffix
        conv = ".npz" if fmt in motion_kinds else None
        for i, b in enumerate(byte_variants(raw, rng, n_trunc=n_bytes, n_flip=n_bytes)):
            add(f"{fmt}-bytes{i}", suffix, b, True if len(b) < 8 or i < 3 else None, conv)
        if suffix == ".npz":
            arrays = _npz_arrays(path)
            vs = array_variants(arrays, rng)
            picks = rng.choice(len(vs), size=min(len(vs), 12), replace=False)
            for k in picks:
                buf = _io.BytesIO()
                np.savez(buf, **vs[int(k)])
                add(f"{fmt}-arrays{int(k)}", suffix, buf.getvalue(), None, conv)
        if suffix == ".json":
            doc = json.loads(raw)
            for i, text in enumerate(json_variants(doc, rng, n=10)):
                add(f"{fmt}-json{i}", suffix, text, None)

    # Unitree CSV cell values
    for name, text in _csv_variants(files["unitree-csv"].read_text()):
        add(name, ".csv", text, True, ".npz")

    # BeyondMimic / GMR: frame rates and array types
    bm = _npz_arrays(files["beyondmimic"])
    for name, fps in [("1e-300", [1e-300]), ("1e-4", [1e-4]), ("0.5", [0.5]), ("1e6", [1e6]), ("zero", [0]),
                      ("negative", [-50]), ("string", np.array(["50"])), ("two", [50, 50]), ("bool", [True])]:
        buf = _io.BytesIO()
        np.savez(buf, **dict(bm, fps=np.asarray(fps)))
        add(f"bm-fps-{name}", ".npz", buf.getvalue(), True, ".csv")
    for key in ("joint_pos", "body_pos_w", "body_quat_w"):
        for kind, value in [("str", bm[key].astype(str)), ("complex", bm[key] + 1j),
                            ("bytes", bm[key].astype("S8"))]:
            buf = _io.BytesIO()
            np.savez(buf, **dict(bm, **{key: value}))
            add(f"bm-{key}-{kind}", ".npz", buf.getvalue(), True, ".csv")
    gmr = pickle.loads(files["gmr-pkl"].read_bytes())
    for name, change in [("fps-string", {"fps": "30"}), ("fps-1e-300", {"fps": 1e-300}), ("fps-list", {"fps": [30, 30]}),
                         ("dof-str", {"dof_pos": gmr["dof_pos"].astype(str)}),
                         ("dof-complex", {"dof_pos": gmr["dof_pos"] + 1j}),
                         ("rot-list-str", {"root_rot": [["1", "0", "0", "0"]] * len(gmr["root_rot"])}),
                         ("rot-1e300", {"root_rot": np.tile([1e300, 1e300, 0, 0], (len(gmr["root_rot"]), 1))}),
                         ("pos-1e308", {"root_pos": gmr["root_pos"] * 1e308}), ("not-dict", None)]:
        payload = [1, 2] if change is None else dict(gmr, **change)
        add(f"gmr-{name}", ".pkl", pickle.dumps(payload, protocol=4), True, ".csv")
    add("gmr-not-pickle", ".pkl", b"this is not a pickle\n" * 3, True, ".csv")
    add("gmr-npz-renamed", ".pkl", files["beyondmimic"].read_bytes(), True, ".csv")

    # TextGrid structure
    tg = files["textgrid"].read_text()
    for name, fn in _TG_BROKEN.items():
        changed = fn(tg)
        assert changed != tg, f"textgrid variant {name} changed nothing"
        add(name, ".TextGrid", changed, True)

    # audio: a truncated data chunk, a foreign container under .wav
    wav = files["audio"].read_bytes()
    add("wav-cut-in-data", ".wav", wav[: len(wav) - 1000], True)
    add("wav-cut-odd", ".wav", wav[: len(wav) - 1001], True)

    # BVH values and frame times
    bvh = files["bvh"].read_text()
    head, motion = bvh.split("MOTION\n")
    lines = motion.split("\n")
    first = lines[2].split(" ")
    for name, value in [("underscore", "1_000"), ("arabic", "\u0661\u0662"), ("fullwidth", "\uff11\uff12"),
                        ("hex", "0x10"), ("inf", "inf"), ("huge", "1e300"), ("overflow", "1e400"), ("nan", "nan")]:
        row = list(first)
        row[4] = value
        add(f"bvh-value-{name}", ".bvh", head + "MOTION\n" + "\n".join(lines[:2] + [" ".join(row)] + lines[3:]), True,
            ".npz")
    for name, ft in [("1e-300", "1e-300"), ("10s", "10"), ("1e-4", "0.0001"), ("zero", "0"), ("word", "fast")]:
        add(f"bvh-frametime-{name}", ".bvh", head + "MOTION\n" + "\n".join(
            [lines[0], f"Frame Time: {ft}"] + lines[2:]), True, ".npz")
    add("bvh-offset-underscore", ".bvh", bvh.replace("OFFSET 0.000000", "OFFSET 0_0", 1), True)

    # JSON sniffing and containers
    (folder / "dir.json").mkdir(exist_ok=True)
    out.append(Variant("dir-named-json", folder / "dir.json", True))
    (folder / "dir.bvh").mkdir(exist_ok=True)
    out.append(Variant("dir-named-bvh", folder / "dir.bvh", True))
    kp_inf = json.loads(files["keypoints"].read_text())
    kp_inf["frames"][0]["keypoints"][0] = 1e400  # json writes Infinity
    add("kp-infinity", ".json", json.dumps(kp_inf), True)
    fj = json.loads(files["frame-json"].read_text())
    fj_nan = json.loads(files["frame-json"].read_text())
    fj_nan["Frames"][0]["RootYaw"] = 1e400  # json writes Infinity
    add("fj-infinity", ".json", json.dumps(fj_nan), True)
    for name, value in [("fps-1e-300", 1e-300), ("fps-1e6", 1e6), ("fps-string", "60")]:
        add(f"fj-{name}", ".json", json.dumps(dict(fj, FPS=value)), True)

    # valid files that a naive sniffer or reader refuses (must read: bad=False)
    from motionlab.core.rotations import axis_angle_to_matrix, matrix_to_rot6d
    from motionlab.io.frame_json import write_frame_json

    n_bones = 120
    long_names = folder / "valid_long_bonenames.json"
    write_frame_json(long_names, {
        "fps": 30.0, "rot6d": matrix_to_rot6d(axis_angle_to_matrix(rng.normal(scale=0.3, size=(3, n_bones, 3)))),
        "root_yaw": np.zeros(3), "root_vel": np.zeros((3, 2)), "soft_contacts": np.zeros((3, 2)),
        "bone_names": [f"character_rig:skeleton_root:{'spine_' * 6}{i:03d}" for i in range(n_bones)]})
    out.append(Variant("valid-fj-long-bonenames", long_names, False))
    kp = json.loads(files["keypoints"].read_text())
    add("valid-kp-nested-Frames", ".json", json.dumps({"source": {"Frames": 120, "FPS": 30}, **kp}), False)
    try:
        import soundfile as sf

        mp3 = folder / "valid_mp3_named.wav"
        sf.write(mp3, (0.3 * np.sin(np.arange(8000) * 0.05)).astype(np.float32), 16000, format="MP3")
        out.append(Variant("valid-mp3-as-wav", mp3, False))
    except Exception:  # libsndfile without MP3 support: nothing to test
        pass
    return out


def run_cli(argv: List[str]) -> tuple:
    """``motionlab`` in-process: ``(exit code, stdout, stderr)``; an escaping exception is returned as
    exit code ``"traceback"`` with the traceback as stderr."""
    from motionlab.cli import main

    out, err = _io.StringIO(), _io.StringIO()
    try:
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            import warnings

            with warnings.catch_warnings():
                warnings.simplefilter("always")
                rc = main(argv)
    except SystemExit as e:
        rc = e.code
    except BaseException:  # noqa: B036  a traceback is exactly what the contract forbids
        return "traceback", out.getvalue(), err.getvalue() + traceback.format_exc()
    return rc, out.getvalue(), err.getvalue()


def _assert_finite_file(path: Path, where: str) -> None:
    """Every number in a written .npz / .csv is finite (and fits float32 where the file is float32)."""
    if path.suffix == ".npz":
        with np.load(path, allow_pickle=False) as z:
            for k in z.files:
                a = z[k]
                if a.dtype.kind in "fc":
                    assert np.isfinite(a).all(), f"{where}: non-finite values in key {k!r} of the output"
    elif path.suffix == ".csv":
        a = np.loadtxt(path, delimiter=",", ndmin=2)
        assert np.isfinite(a).all() and np.abs(a).max() < 3e38, f"{where}: non-finite values in the output"


_RAW_EXCEPTION = ("Error:", "Error)", "Exception", "Traceback", "errno", "Errno")


def check_cli_contract(argv: List[str], path: Path, bad: Optional[bool]) -> str:
    """Run ``argv``; assert the contract and return ``"ok"`` (exit 0) or ``"error"`` (exit 2).

    Exit 2 must print exactly one line, ``motionlab: error: <path>: <place>: <problem>``, with no raw
    library exception in it; exit 0 must print no NaN/inf (inspect) and is allowed only when ``bad``
    is not True.
    """
    rc, out, err = run_cli(argv)
    where = f"{' '.join(argv)}"
    assert rc != "traceback", f"{where}: traceback\n{err}"
    assert bad is not False or rc == 0, f"{where}: refused a valid file\n{err}"
    if rc == 0:
        assert bad is not True, f"{where}: accepted a file that must be refused\n{out[:600]}"
        for token in ("NaN", "Infinity", "nan", " inf"):
            assert token not in out, f"{where}: non-finite value in the output\n{out[:600]}"
        if argv[:2] == ["data", "convert"]:
            _assert_finite_file(Path(argv[3]), where)
        return "ok"
    lines = [ln for ln in err.splitlines() if ln.strip() and not ln.startswith("motionlab: note:")]
    assert rc == 2, f"{where}: exit {rc}\n{err}"
    assert len(lines) == 1, f"{where}: {len(lines)} lines\n{err}"
    prefix = f"motionlab: error: {path}: "
    assert lines[0].startswith(prefix), f"{where}: does not name the file\n{lines[0]}"
    assert not any(tok in lines[0] for tok in _RAW_EXCEPTION), f"{where}: raw exception text\n{lines[0]}"
    return "error"
