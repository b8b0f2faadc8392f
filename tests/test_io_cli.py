"""Reader traps users met, one by one, through the command line and the Python API: format sniffing,
unreadable paths, frame-rate ranges, overflowing numbers, strict TextGrids, audio that is not what its
extension says, safe writes (read-only outputs, SIGTERM/SIGHUP) and ``--units`` for BVH."""

from __future__ import annotations

import json
import os
import pickle
import signal
import subprocess
import sys
import textwrap

import numpy as np
import pytest

from io_fuzz import run_cli, valid_files
from motionlab.errors import MotionLabError


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    return valid_files(tmp_path_factory.mktemp("io_cli"))


def _error(argv):
    rc, out, err = run_cli(argv)
    assert rc == 2, (rc, out, err)
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    return lines[0]


# --- paths and sniffing --------------------------------------------------------------------------


def test_folder_and_unreadable_file(tmp_path, monkeypatch, files):
    (tmp_path / "x.json").mkdir()
    assert _error(["data", "inspect", str(tmp_path / "x.json")]) == \
        f"motionlab: error: {tmp_path / 'x.json'}: path: is a folder, not a file"
    import motionlab.core.files as f

    def denied(*a, **k):
        raise PermissionError(13, "Permission denied", str(a[0]))

    monkeypatch.setattr(f, "open", denied, raising=False)
    line = _error(["data", "inspect", str(files["keypoints"])])
    assert line.endswith("path: permission denied: cannot read the file")


def test_json_sniffing_reads_the_keys_not_the_first_bytes(tmp_path, files):
    from motionlab.io.formats import detect_format

    doc = json.loads(files["frame-json"].read_text())
    doc["BoneNames"] = [f"{'x' * 2000}{i}" for i in range(len(doc["BoneNames"]))]  # 8 KB before Frames
    (tmp_path / "f.json").write_text(json.dumps(doc))
    assert detect_format(tmp_path / "f.json") == "frame-json"
    kp = json.loads(files["keypoints"].read_text())
    (tmp_path / "k.json").write_text(json.dumps({"meta": {"Frames": 3, "BoneRotations": []}, **kp}))
    assert detect_format(tmp_path / "k.json") == "keypoints"
    rc, out, err = run_cli(["data", "inspect", str(tmp_path / "k.json")])
    assert rc == 0 and "keypoints" in out, err


# --- numbers and frame rates ---------------------------------------------------------------------


@pytest.mark.parametrize("fps", [1e-300, 1e-4, 0.5, 1e6])
def test_beyondmimic_frame_rate_range(tmp_path, files, fps):
    with np.load(files["beyondmimic"]) as z:
        arrays = {k: z[k] for k in z.files}
    np.savez(tmp_path / "bm.npz", **dict(arrays, fps=np.array([fps])))
    line = _error(["data", "convert", str(tmp_path / "bm.npz"), str(tmp_path / "out.csv")])
    assert "key 'fps'" in line and "outside the valid range 1-1000 fps" in line
    assert not (tmp_path / "out.csv").exists()


def test_csv_numbers_are_strict(tmp_path, files):
    rows = files["unitree-csv"].read_text().splitlines()
    cells = rows[0].split(",")
    for value, expect in [("1e300", "beyond the plausible range"), ("1e308", "beyond the plausible range"),
                          ("1e400", "overflows"), ("\u0661\u0662", "not a number"), ("1_000", "not a number")]:
        c = list(cells)
        c[8] = value
        (tmp_path / "c.csv").write_text("\n".join([",".join(c)] + rows[1:]))
        line = _error(["data", "inspect", str(tmp_path / "c.csv")])
        assert "line 1 column 9" in line and expect in line, line
    c = list(cells)
    c[3:7] = ["1e300", "1e300", "0", "0"]
    (tmp_path / "q.csv").write_text("\n".join([",".join(c)] + rows[1:]))
    assert "not a unit quaternion" in _error(["data", "inspect", str(tmp_path / "q.csv")])


def test_robot_arrays_must_be_real_numbers(tmp_path, files):
    with np.load(files["beyondmimic"]) as z:
        arrays = {k: z[k] for k in z.files}
    np.savez(tmp_path / "c.npz", **dict(arrays, joint_pos=arrays["joint_pos"] + 1j))
    assert "key 'joint_pos': expected real numbers, got complex numbers" in _error(
        ["data", "inspect", str(tmp_path / "c.npz")])
    np.savez(tmp_path / "s.npz", **dict(arrays, fps=np.array(["50"])))
    assert "key 'fps': frame rate must be a number" in _error(["data", "inspect", str(tmp_path / "s.npz")])
    gmr = pickle.loads(files["gmr-pkl"].read_bytes())
    (tmp_path / "g.pkl").write_bytes(pickle.dumps(dict(gmr, fps="30")))
    assert "frame rate must be a number" in _error(["data", "inspect", str(tmp_path / "g.pkl")])
    (tmp_path / "n.pkl").write_bytes(b"plain text\nover two lines\n")
    assert _error(["data", "inspect", str(tmp_path / "n.pkl")]).endswith(
        "pickle: not a pickle file (no pickle protocol header)")


# --- TextGrid ------------------------------------------------------------------------------------


def test_textgrid_damage_is_named(tmp_path, files):
    from motionlab.io.textgrid import read_words

    good = files["textgrid"].read_text()
    cases = {
        "binary": (good.replace('"ooTextFile"', '"ooBinaryFile"'), "binary TextGrid"),
        "truncated": (good[:good.index("intervals [4]")], "ends while reading"),
        "size": (good.replace("intervals: size = 5", "intervals: size = 4"), "more content after"),
        "tiers": (good.replace("size = 1 \n", "size = 2 \n", 1), "ends while reading"),
        "xmax": (good.replace("xmax = 1 \n", "xmax = 0.5 \n", 1), "outside the TextGrid"),
        "overlap": (good.replace("xmin = 0.4 ", "xmin = 0.3 ", 1), "intervals overlap"),
    }
    for name, (text, expect) in cases.items():
        p = tmp_path / f"{name}.TextGrid"
        p.write_text(text)
        with pytest.raises(MotionLabError, match=expect) as e:
            read_words(p)
        assert e.value.file == str(p) and e.value.place and "\n" not in str(e.value), name
    assert [w.text for w in read_words(files["textgrid"])] == ["hello", "world"]


# --- audio ---------------------------------------------------------------------------------------


def test_truncated_wav_is_an_error(tmp_path, files):
    raw = files["audio"].read_bytes()
    (tmp_path / "cut.wav").write_bytes(raw[:-1000])
    line = _error(["data", "inspect", str(tmp_path / "cut.wav")])
    assert "data chunk: truncated file: the data chunk declares 1600 samples per channel but the file holds 1100" \
        in line


def test_mp3_named_wav_is_read_as_mp3_with_a_note(tmp_path):
    sf = pytest.importorskip("soundfile")
    if "MP3" not in sf.available_formats():
        pytest.skip("libsndfile without MP3")
    p = tmp_path / "speech.wav"
    sf.write(p, (0.3 * np.sin(np.arange(16000) * 0.05)).astype(np.float32), 16000, format="MP3")
    rc, out, err = run_cli(["data", "inspect", "--json", str(p)])
    assert rc == 0, err
    summary = json.loads(out)
    assert summary["container"].startswith("MP3") and summary["codec"].startswith("MPEG_LAYER_III")
    assert summary["sample_rate"] == 16000 and summary["channels"] == 1 and abs(summary["duration_s"] - 1) < 0.1
    assert "not WAV as its extension says" in summary["note"]
    from motionlab.errors import MotionLabNote
    from motionlab.io.audio import read_audio

    with pytest.warns(MotionLabNote, match="read as MP3"):
        y, sr = read_audio(p)
    assert sr == 16000 and len(y) > 15000


# --- writing -------------------------------------------------------------------------------------


def test_read_only_output_needs_overwrite(tmp_path, files):
    out = tmp_path / "out.csv"
    out.write_text("old\n")
    out.chmod(0o444)
    line = _error(["data", "convert", str(files["gmr-pkl"]), str(out)])
    assert line == f"motionlab: error: {out}: path: the existing output file is read-only; pass --overwrite to " \
                   "replace it (in Python: within motionlab.core.files.allow_overwrite())"
    assert out.read_text() == "old\n"
    rc, _, err = run_cli(["data", "convert", str(files["gmr-pkl"]), str(out), "--overwrite"])
    assert rc == 0, err
    assert out.read_text() != "old\n"
    assert [p.name for p in tmp_path.iterdir()] == ["out.csv"]


_WRITER = textwrap.dedent("""
    import os, sys, time
    from motionlab.core.files import atomic_path
    with atomic_path(sys.argv[1]) as tmp:
        with open(tmp, "w") as f:
            f.write("partial")
        print(tmp, flush=True)
        time.sleep(float(sys.argv[2]) if len(sys.argv) > 2 else 60)
""")


@pytest.mark.parametrize("sig", ["SIGTERM", "SIGHUP"])
def test_signal_during_write_leaves_no_temp_file(tmp_path, sig):
    if not hasattr(signal, sig):
        pytest.skip(f"no {sig} here")
    out = tmp_path / "clip.csv"
    signum = getattr(signal, sig)
    # the writer starts with the signal at its default action: under nohup the test process ignores SIGHUP, the
    # child would inherit that, and atomic_path rightly keeps an ignored signal ignored
    proc = subprocess.Popen([sys.executable, "-c", _WRITER, str(out)], stdout=subprocess.PIPE, text=True,
                            preexec_fn=lambda: signal.signal(signum, signal.SIG_DFL))
    tmp = proc.stdout.readline().strip()
    assert os.path.exists(tmp)
    proc.send_signal(getattr(signal, sig))
    assert proc.wait(timeout=30) == -getattr(signal, sig)  # the signal still ends the process as usual
    assert list(tmp_path.iterdir()) == [] and not out.exists()


@pytest.mark.skipif(not hasattr(signal, "SIGHUP"), reason="no SIGHUP here")
def test_ignored_hangup_during_write_stays_ignored(tmp_path):
    """Under nohup (SIGHUP ignored) a hang-up neither ends the process nor loses the file being written."""
    out = tmp_path / "clip.csv"
    proc = subprocess.Popen([sys.executable, "-c", _WRITER, str(out), "1"], stdout=subprocess.PIPE, text=True,
                            preexec_fn=lambda: signal.signal(signal.SIGHUP, signal.SIG_IGN))
    assert os.path.exists(proc.stdout.readline().strip())
    proc.send_signal(signal.SIGHUP)
    assert proc.wait(timeout=30) == 0
    assert out.read_text() == "partial" and list(tmp_path.iterdir()) == [out]


# --- checkpoints ---------------------------------------------------------------------------------


class _Payload:
    def __reduce__(self):
        return (os.getcwd, ())


def test_unsafe_checkpoint_is_one_line(tmp_path):
    import torch

    from motionlab.train.checkpoint import load_checkpoint

    torch.save({"state_dict": {}, "extra": _Payload()}, tmp_path / "bad.ckpt")
    with pytest.raises(MotionLabError) as e:
        load_checkpoint(tmp_path / "bad.ckpt")
    assert "not a safe checkpoint" in str(e.value) and "\n" not in str(e.value)
    assert "weights_only=False" not in str(e.value)


# --- --units -------------------------------------------------------------------------------------


def test_units_option_reaches_every_bvh_read(tmp_path, files):
    from motionlab.io.bvh import read_bvh
    from motionlab.io.formats import read_file, reading_options

    rc, out, err = run_cli(["data", "inspect", "--json", "--units", "inch", str(files["bvh"])])
    assert rc == 0, err
    summary = json.loads(out)
    assert summary["source_units"] == "inch" and summary["units_rule"] == "given"
    want = read_bvh(files["bvh"], units="inch").skeleton.height()
    assert abs(summary["skeleton_height_m"] - want) < 1e-9
    rc, out, err = run_cli(["data", "inspect", "--json", str(files["bvh"])])
    assert json.loads(out)["units_rule"].startswith("auto")
    # the same option through any caller of read_file (what --units on retarget relies on)
    with reading_options(units=0.056444):
        name, motion = read_file(files["bvh"])
        _, robot = read_file(files["unitree-csv"])  # other formats ignore it
    assert motion.meta["scale"] == 0.056444 and robot.num_frames == 12
    rc, _, err = run_cli(["data", "convert", "--units", "mm", str(files["bvh"]), str(tmp_path / "o.npz")])
    assert rc == 0, err
    from motionlab.io.npz import load_motion_npz

    assert abs(load_motion_npz(tmp_path / "o.npz").skeleton.height() - read_bvh(files["bvh"], units="mm")
               .skeleton.height()) < 1e-9
    rc, _, err = run_cli(["data", "inspect", "--units", "furlong", str(files["bvh"])])
    assert rc == 2 and "valid choices" in err
    from motionlab.cli import build_parser

    args = build_parser().parse_args(["retarget", "in.bvh", "--run", "r", "-o", "o.npz", "--units", "inch"])
    assert args.bvh_units == "inch"
