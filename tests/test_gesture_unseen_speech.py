"""Speech that no test and no training take has seen: an English passage spoken by ``espeak-ng`` (formant
text-to-speech with real phonemes, a generator unlike the corpus's own synthetic voice), written at test
time at its native 22050 Hz and as a 44.1 kHz stereo flac, turned into motion in audio-only mode (no words).

It is text-to-speech, not a recorded human voice. The checks: the outputs (BEAT2 npz fields, BVH) come out for
both files (fast, on a seconds-long run); and (slow, the shipped tiny config) the body stays upright every
frame, moves more while the voice is on than in the pauses, and its largest joint speed and its chunk seams
are no worse than the model's own output for the corpus's held-out takes. Skips without ``espeak-ng``."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest

from gesture_helpers import quick_overrides

CONFIGS = Path(__file__).resolve().parents[1] / "src" / "motionlab" / "configs"
ESPEAK = shutil.which("espeak-ng")
pytestmark = pytest.mark.skipif(ESPEAK is None, reason="espeak-ng (text-to-speech) is not installed")

# four sentences with 1.5-2 s pauses between them (about 23 s at 150 words per minute)
PASSAGE = ('<speak>Good morning everyone, and thank you for coming today. <break time="1500ms"/> I want to tell '
           'you about a really big idea, one that changed how we work. <break time="2000ms"/> No, it is not about '
           'money. It is about you, and the people around you. <break time="1500ms"/> So yes, let us begin with a '
           'short story about a small town by the sea.</speak>')
SHORT = "Hello there. This is a short test of the gesture model."


def speak(text: str, out: Path, ssml: bool = False) -> Path:
    """``text`` spoken by espeak-ng into ``out`` (a 22050 Hz mono wav)."""
    cmd = [ESPEAK, "-v", "en", "-s", "150", "-w", str(out)] + (["-m"] if ssml else []) + [text]
    subprocess.run(cmd, check=True, capture_output=True)
    return out


def stereo_44k(wav: Path, out: Path) -> Path:
    """The same speech at 44.1 kHz, two slightly different channels, as flac."""
    import soundfile as sf
    from scipy.signal import resample_poly

    y, sr = sf.read(wav)
    assert sr == 22050
    y = resample_poly(y, 2, 1)
    sf.write(out, 0.5 * np.stack([y, 0.8 * np.roll(y, 50)], 1), 44100)
    return out


def frames_of(wav: Path, fps: float = 30.0) -> int:
    """Motion frames of a speech file (every frame whose first sample lies inside it)."""
    import soundfile as sf

    from motionlab.recipes.gesture.data import audio_frames

    info = sf.info(wav)
    return audio_frames(info.frames, info.samplerate, fps)


def voice_segments(env: np.ndarray, min_pause: int = 30, trim: int = 10, start: int = 30):
    """Boolean ``(speech, pause)`` frame masks of a per-frame envelope: speech where it exceeds a tenth of its
    maximum (past the first ``start`` frames, the start-up from the seed pose), pause the inside (``trim``
    frames in from either end) of every silent run of at least ``min_pause`` frames between two voiced ones."""
    on = env > 0.1 * env.max()
    pause = np.zeros_like(on)
    i = 0
    while i < len(on):
        j = i
        while j < len(on) and on[j] == on[i]:
            j += 1
        if not on[i] and j - i >= min_pause and i > 0 and j < len(on):
            pause[i + trim:j - trim] = True
        i = j
    speech = on.copy()
    speech[:start] = False
    return speech, pause


def body_checks(pos: np.ndarray, fps: float):
    """Head above pelvis (m, per frame), trunk tilt from vertical (deg, per frame), per-frame joint speeds
    ``(T - 1, J)`` (m/s) and the upper body's mean speed relative to the pelvis ``(T - 1,)`` (m/s)."""
    from motionlab.core.body import SMPL22_NAMES, UPPER_BODY

    j = {n: i for i, n in enumerate(SMPL22_NAMES)}
    head = pos[:, j["head"], 2] - pos[:, j["pelvis"], 2]
    trunk = pos[:, j["neck"]] - pos[:, j["pelvis"]]
    tilt = np.degrees(np.arccos(np.clip(trunk[:, 2] / np.linalg.norm(trunk, axis=1), -1, 1)))
    speed = np.linalg.norm(np.diff(pos, axis=0), axis=2) * fps
    rel = pos - pos[:, :1]
    upper = np.linalg.norm(np.diff(rel[:, [j[n] for n in UPPER_BODY]], axis=0), axis=2).mean(1) * fps
    return head, tilt, speed, upper


@pytest.fixture(scope="module")
def short_run(tiny_corpus, tmp_path_factory):
    from motionlab.train.engine import train

    base = tmp_path_factory.mktemp("unseen_speech")
    return train("gesture", config_path=CONFIGS / "gesture" / "tiny.yaml",
                 overrides=quick_overrides(tiny_corpus, base / "cache"), run_dir=base / "g")


def test_tts_speech_files_give_every_output(short_run, tmp_path):
    from motionlab.io.bvh import read_bvh
    from motionlab.io.smplx import read_smplx_npz
    from motionlab.recipes.gesture.tool import gesture_file

    wav = speak(SHORT, tmp_path / "short.wav")
    flac = stereo_44k(wav, tmp_path / "short.flac")
    T = frames_of(wav)
    assert T > 64  # more than one chunk
    gesture_file(wav, short_run, tmp_path / "talk.npz")
    z = np.load(tmp_path / "talk.npz")
    assert z["poses"].shape == (T, 165) and z["trans"].shape == (T, 3) and z["expressions"].shape == (T, 100)
    assert z["betas"].shape == (300,) and float(z["mocap_frame_rate"]) == 30.0
    assert np.isfinite(read_smplx_npz(tmp_path / "talk.npz").positions()).all()
    gesture_file(flac, short_run, tmp_path / "talk.bvh")  # 44.1 kHz stereo: resampled to 16 kHz mono
    b = read_bvh(tmp_path / "talk.bvh")
    assert len(b.skeleton.names) == 55 and b.num_frames == T


@pytest.mark.slow
def test_tts_passage_gives_an_upright_clip_that_moves_with_the_voice(tiny_corpus, tmp_path):
    """The shipped tiny config (480 steps) on a 23 s espeak-ng passage with three 1.5-2 s pauses. Measured
    with the former 420-step config over train seeds 0 / 1 / 2: head at least 0.573 m above the pelvis, trunk
    tilt at most 2 deg; largest joint speed 2.26 / 1.89 / 2.91 m/s against 2.49 / 2.04 / 2.76 in the held-out
    output; seam ratio 0.66 / 0.77 / 1.25; upper-body speed while speaking over inside the pauses pooled
    1.86 / 1.22 / 7.8x (the model's audio-only output for the corpus's talking takes scores 1.03-3.8x, the
    real motion 1.5-3.0x). With the 480-step config before the speech context the last ratio was 0.92 / 1.77 /
    8.64x; with the speech context (15 frames) and 16-frame seam fades 3.05 / 6.11 / 17.7x; with the shipped
    config (the first chunk seeded from the mean pose, 2026-12-04) 8.09 / 7.39 / 17.1x (wav 7.75 / 5.16 / 16.7x,
    flac 8.47 / 12.3 / 17.6x), head at least 0.573 m above the pelvis, tilt at most 2.1 deg."""
    from motionlab.core.body import SMPL22_NAMES
    from motionlab.eval import metrics as M
    from motionlab.recipes.gesture.evaluate import generate_for_clip, load, positions
    from motionlab.recipes.gesture.tool import generate_motion
    from motionlab.train.engine import train

    run_dir = train("gesture", config_path=CONFIGS / "gesture" / "tiny.yaml",
                    overrides=[f"data.root={tiny_corpus}", f"data.cache_dir={tmp_path / 'cache'}",
                               "train.progress=none"], run_dir=tmp_path / "g")
    run, data = load(run_dir)
    fps, seed_frames = run.cfg.data.fps, run.cfg.model.seed_frames
    wav = speak(PASSAGE, tmp_path / "talk.wav", ssml=True)
    held_speed, held_seam = [], []
    for i in data.clips("val") + data.clips("test"):
        g = generate_for_clip(run, data, i)
        p = positions(g, fps, g["root"])
        held_speed.append(body_checks(p, fps)[2].max())
        held_seam.append(M.seam_discontinuity(p, g["starts"][1:] + seed_frames, fps, order=2))
    from motionlab.data.speech_features import frame_envelope

    moving, still = [], []
    for audio in (wav, stereo_44k(wav, tmp_path / "talk.flac")):
        res = generate_motion(run_dir, audio, run=run)
        pos = res["motion"].positions()
        assert res["sr"] == 16000 and len(pos) == frames_of(wav) and np.isfinite(pos).all()
        head, tilt, speed, upper = body_checks(pos, fps)
        # upright every frame (the rest pose has the head 0.58 m above the pelvis), the head height steady
        assert head.min() > 0.45 and tilt.max() < 20.0, (head.min(), tilt.max())
        assert np.ptp(pos[:, SMPL22_NAMES.index("head"), 2]) < 0.1
        # moving with the voice: more upper-body motion while it speaks than inside its pauses
        env = frame_envelope(res["samples"], res["sr"], fps, len(pos))[1:]
        speech, pause = voice_segments(env)
        assert pause.sum() >= 60 and speech.sum() >= 300
        moving.append(upper[speech])
        still.append(upper[pause])
        assert upper[speech].mean() > 0.01  # it does move
        # no jumps: no joint faster than 1.5x the fastest in the model's own held-out output, smooth seams
        assert speed.max() < 1.5 * max(held_speed), (speed.max(), max(held_speed))
        seam = M.seam_discontinuity(pos, np.asarray(res["starts"][1:]) + seed_frames, fps, order=2)
        assert seam < max(1.5, 1.5 * float(np.mean(held_seam))), (seam, held_seam)
    # pooled over both renderings of the passage (one alone is noisy: 0.88x to 2.6x over two training seeds)
    moving, still = np.concatenate(moving), np.concatenate(still)
    assert moving.mean() > 1.1 * still.mean(), (
        f"voice-following missed: upper-body speed {moving.mean():.3f} m/s while speaking against {still.mean():.3f} "
        f"inside the pauses (measured at train seeds 0 / 1 / 2: 8.09 / 7.39 / 17.1x)")
