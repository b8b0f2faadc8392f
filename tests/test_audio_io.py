"""Audio files, frame/sample alignment and TextGrid word tiers."""

from __future__ import annotations

import numpy as np
import pytest
import soundfile as sf

from io_fuzz import byte_variants, check_contract
from motionlab.errors import MotionLabError
from motionlab.io.audio import frame_to_sample, read_audio, sample_to_frame, write_audio
from motionlab.io.textgrid import Word, build_vocab, read_words, words_to_frames, write_words

# --- alignment ------------------------------------------------------------------------------------


def test_frame_to_sample_hand_values():
    assert frame_to_sample(0, 30, 16000) == 0
    assert frame_to_sample(1, 30, 16000) == 533  # 533.33
    assert frame_to_sample(2, 30, 16000) == 1067  # 1066.67
    assert frame_to_sample(3, 24, 44100) == 5513  # 5512.5, half up
    np.testing.assert_array_equal(frame_to_sample(np.arange(4), 60, 16000), [0, 267, 533, 800])
    assert frame_to_sample(np.int64(7), 29.97, 48000) == 11211  # 11211.21
    assert frame_to_sample(2.5, 30, 16000) == 1333  # fractional frames too


def test_shortcut_drifts_37ms_per_minute():
    fps, sr, frame = 30, 16000, 30 * 60
    exact = frame_to_sample(frame, fps, sr)
    shortcut = frame * (sr // fps)
    assert exact == 960000  # exactly one minute of audio
    assert exact - shortcut == 600  # samples
    assert (exact - shortcut) / sr * 1000 == pytest.approx(37.5)


def test_sample_to_frame_inverts():
    f = np.arange(0, 5000, 7)
    for fps, sr in [(30, 16000), (60, 16000), (24, 44100), (50, 48000)]:
        np.testing.assert_array_equal(sample_to_frame(frame_to_sample(f, fps, sr), fps, sr), f)


# --- audio files ----------------------------------------------------------------------------------


def test_round_trip_pcm16_and_float(tmp_path):
    sr = 16000
    t = np.arange(sr // 2) / sr
    x = (0.5 * np.sin(2 * np.pi * 220 * t)).astype(np.float32)
    write_audio(tmp_path / "a.wav", x, sr)
    y, sr2 = read_audio(tmp_path / "a.wav")
    assert sr2 == sr and y.dtype == np.float32 and y.shape == x.shape
    assert np.max(np.abs(y - x)) <= 1 / 32768 + 1e-7
    assert sf.info(str(tmp_path / "a.wav")).subtype == "PCM_16"
    write_audio(tmp_path / "f.wav", (x, sr), subtype="FLOAT")  # the pair read_audio returns
    np.testing.assert_array_equal(read_audio(tmp_path / "f.wav")[0], x)
    write_audio(tmp_path / "c.flac", np.full(100, 3.0), sr)  # clipped for integer subtypes
    assert read_audio(tmp_path / "c.flac")[0].max() == pytest.approx(1.0, abs=1e-4)


def test_stereo_to_mono_and_resample(tmp_path):
    sr = 48000
    st = np.stack([np.full(4800, 0.5), np.full(4800, -0.1)], axis=1)
    write_audio(tmp_path / "s.wav", st, sr, subtype="FLOAT")
    mono, _ = read_audio(tmp_path / "s.wav")
    np.testing.assert_allclose(mono, 0.2, atol=1e-7)
    both, _ = read_audio(tmp_path / "s.wav", mono=False)
    assert both.shape == (4800, 2)
    t = np.arange(sr) / sr
    write_audio(tmp_path / "tone.wav", 0.3 * np.sin(2 * np.pi * 440 * t), sr, subtype="FLOAT")
    y, sr16 = read_audio(tmp_path / "tone.wav", sr=16000)
    assert sr16 == 16000 and len(y) == 16000
    spec = np.abs(np.fft.rfft(y))
    assert np.argmax(spec) * 16000 / len(y) == pytest.approx(440, abs=1)
    assert np.sqrt(np.mean(y[1000:-1000] ** 2)) == pytest.approx(0.3 / np.sqrt(2), rel=1e-2)


def test_audio_errors(tmp_path):
    with pytest.raises(MotionLabError, match="sample 3") as e:
        write_audio(tmp_path / "x.wav", np.array([0, 0, 0, np.nan, 0]), 16000)
    assert e.value.file == str(tmp_path / "x.wav") and not (tmp_path / "x.wav").exists()
    with pytest.raises(MotionLabError, match="positive integer"):
        write_audio(tmp_path / "x.wav", np.zeros(10), 0)
    with pytest.raises(MotionLabError, match="extension"):
        write_audio(tmp_path / "x.mp9", np.zeros(10), 16000)
    with pytest.raises(MotionLabError, match="no such file"):
        read_audio(tmp_path / "none.wav")


def test_fuzz_broken_audio(tmp_path):
    rng = np.random.default_rng(2)
    write_audio(tmp_path / "good.wav", rng.uniform(-0.5, 0.5, 2000), 16000)
    blobs = byte_variants((tmp_path / "good.wav").read_bytes(), rng, n_trunc=50, n_flip=50)
    assert len(blobs) >= 100
    outcomes = []

    def valid(res):
        y, sr = res
        assert y.dtype == np.float32 and y.ndim == 1 and len(y) and np.isfinite(y).all() and sr > 0

    for i, b in enumerate(blobs):
        p = tmp_path / f"b{i}.wav"
        p.write_bytes(b)
        outcomes.append(check_contract(read_audio, p, valid))
    assert "error" in outcomes


# --- TextGrid -------------------------------------------------------------------------------------

SHORT_TG = '''File type = "ooTextFile"
Object class = "TextGrid"

0
1.5
<exists>
2
"TextTier"
"beats"
0
1.5
1
0.3
"x"
"IntervalTier"
"words"
0
1.5
5
0
0.2
""
0.2
0.55
"Hello"
0.55
0.6
"  "
0.6
1.1
"world"
1.1
1.5
""
'''

LONG_TG = '''File type = "ooTextFile"
Object class = "TextGrid"

xmin = 0
xmax = 2.0
tiers? <exists>
size = 1
item []:
    item [1]:
        class = "IntervalTier"
        name = "phrase"
        xmin = 0
        xmax = 2.0
        intervals: size = 3
        intervals [1]:
            xmin = 0
            xmax = 0.5
            text = "big"
        intervals [2]:
            xmin = 0.5
            xmax = 1.25
            text = ""
        intervals [3]:
            xmin = 1.25
            xmax = 2.0
            text = "no"
'''


def test_read_hand_written_textgrids(tmp_path):
    (tmp_path / "s.TextGrid").write_text(SHORT_TG)
    (tmp_path / "l.TextGrid").write_text(LONG_TG)
    # the first *interval* tier, blank intervals dropped
    assert read_words(tmp_path / "s.TextGrid") == [Word(0.2, 0.55, "Hello"), Word(0.6, 1.1, "world")]
    assert read_words(tmp_path / "l.TextGrid") == [Word(0.0, 0.5, "big"), Word(1.25, 2.0, "no")]
    assert read_words(tmp_path / "l.TextGrid", tier="phrase")[1].text == "no"
    with pytest.raises(MotionLabError, match="valid choices: words") as e:
        read_words(tmp_path / "s.TextGrid", tier="beats")
    assert e.value.file == str(tmp_path / "s.TextGrid") and e.value.place == "tiers"


@pytest.mark.parametrize("fmt", ["long", "short"])
def test_words_round_trip(tmp_path, fmt):
    words = [Word(0.1, 0.4, "the"), Word(0.4, 0.9, "quick"), Word(1.2, 1.7, "fox")]
    write_words(tmp_path / "w.TextGrid", words, 2.0, format=fmt)
    assert read_words(tmp_path / "w.TextGrid") == words
    write_words(tmp_path / "d.TextGrid", words)  # duration defaults to the last end
    assert read_words(tmp_path / "d.TextGrid") == words
    with pytest.raises(MotionLabError, match="previous word") as e:
        write_words(tmp_path / "bad.TextGrid", [Word(0, 1, "a"), Word(0.5, 1.5, "b")], 2.0)
    assert e.value.place == "word 1" and not (tmp_path / "bad.TextGrid").exists()


def test_words_to_frames_hand_values():
    words = [Word(0.0, 0.1, "Hello"), Word(0.2, 0.35, "world"), Word(0.5, 0.6, "zebra")]
    vocab = build_vocab([words[:2], ["big", "no", "hello "]])
    assert vocab == {"<sil>": 0, "<unk>": 1, "big": 2, "hello": 3, "no": 4, "world": 5}
    # frames at t = 0, 0.1, ..., 0.6 (frame t covers instant t / fps)
    ids = words_to_frames(words, fps=10, num_frames=7, vocab=vocab)
    np.testing.assert_array_equal(ids, [3, 0, 5, 5, 0, 1, 0])
    assert words_to_frames([], 30, 4, vocab).tolist() == [0, 0, 0, 0]


def test_fuzz_broken_textgrids(tmp_path):
    rng = np.random.default_rng(3)
    blobs = byte_variants(SHORT_TG.encode(), rng, n_trunc=40, n_flip=40)
    blobs += byte_variants(LONG_TG.encode(), rng, n_trunc=40, n_flip=40)
    lines = LONG_TG.splitlines()
    for _ in range(40):
        ls = list(lines)
        i = int(rng.integers(5, len(ls)))
        choice = int(rng.integers(0, 4))
        if choice == 0:
            del ls[i]
        elif choice == 1:
            ls[i] = ls[i].split("=")[0] + "= nan" if "=" in ls[i] else "nan"
        elif choice == 2:
            ls[i] = ls[i].split("=")[0] + "= -5" if "=" in ls[i] else "-5"
        else:
            ls[i] = '"unterminated'
        blobs.append("\n".join(ls).encode())
    assert len(blobs) >= 100
    outcomes = []

    def valid(words):
        for w in words:
            assert np.isfinite([w.start, w.end]).all() and w.start <= w.end and w.text.strip()

    for i, b in enumerate(blobs):
        p = tmp_path / f"b{i}.TextGrid"
        p.write_bytes(b)
        outcomes.append(check_contract(read_words, p, valid))
    assert outcomes.count("error") >= 0.3 * len(outcomes)
