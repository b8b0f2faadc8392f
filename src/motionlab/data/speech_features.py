"""Per-frame speech features with exact audio/motion alignment.

Frame ``f`` at ``fps`` covers samples ``[s_f, s_{f+1})`` with ``s_f = round(f * sr / fps)``
(:func:`motionlab.io.audio.frame_to_sample`; never ``f * (sr // fps)``, which drifts ~37 ms a minute
at 16 kHz / 30 fps). Features of a clip are computed once over the whole waveform and then cut by
frames, so a window or an inference chunk sees exactly the samples of its frames.

* :func:`frame_audio` ``(T, W)``: the raw samples of each frame from its exact start, ``W = ceil(sr / fps)``
  (534 at 16 kHz / 30 fps), zero padded past the end: the input of a strided-conv wave encoder.
* :func:`frame_envelope` ``(T,)``: RMS amplitude of each frame's samples.
* :func:`frame_onset_strength` ``(T,)``: librosa's onset strength (hop 512) at the frame times, divided
  by the clip's maximum (0..1).
* :func:`load_speech`: any file libsndfile reads (wav, flac, ogg; any rate and channel count) as 16 kHz mono.
* :func:`load_backends`: import what the features use now (librosa loads its onset code lazily, at the
  first clip), so that a timing of the first clip measures the features, not the imports.
"""

from __future__ import annotations

import math
from typing import Tuple

import numpy as np

from motionlab.errors import MotionLabError
from motionlab.io.audio import frame_to_sample, read_audio

SPEECH_SR = 16000


def load_backends() -> None:
    """Import librosa's onset code (about 1.5 s, otherwise paid inside the first :func:`frame_onset_strength`)."""
    import librosa.onset  # noqa: F401


def load_speech(path, sr: int = SPEECH_SR) -> Tuple[np.ndarray, int]:
    """``(samples (S,) float32, sr)``: ``path`` resampled to ``sr`` Hz mono (a file that is not audio
    is a :class:`MotionLabError` naming it)."""
    return read_audio(path, sr=sr, mono=True)


def frame_width(sr: int, fps: float) -> int:
    """Samples per row of :func:`frame_audio`: ``ceil(sr / fps)``."""
    return int(math.ceil(sr / fps - 1e-9))


def frame_bounds(num_frames: int, fps: float, sr: int) -> np.ndarray:
    """``(T + 1,)`` exact first samples of frames ``0..T``."""
    return np.asarray(frame_to_sample(np.arange(int(num_frames) + 1, dtype=np.int64), fps, sr), dtype=np.int64)


def _check(samples: np.ndarray) -> np.ndarray:
    y = np.asarray(samples, dtype=np.float32)
    if y.ndim != 1:
        raise MotionLabError(f"speech must be mono (S,), got shape {y.shape}", place="samples")
    return y


def frame_audio(samples: np.ndarray, sr: int, fps: float, num_frames: int) -> np.ndarray:
    """``(T, ceil(sr / fps))`` float32 raw samples per frame from its exact start (zero padded)."""
    y = _check(samples)
    W = frame_width(sr, fps)
    starts = frame_bounds(num_frames, fps, sr)[:-1]
    padded = np.concatenate([y, np.zeros(W, np.float32)])
    idx = np.clip(starts[:, None] + np.arange(W)[None, :], 0, len(padded) - 1)
    out = padded[idx]
    out[starts >= len(y)] = 0.0
    return out.astype(np.float32)


def frame_envelope(samples: np.ndarray, sr: int, fps: float, num_frames: int) -> np.ndarray:
    """``(T,)`` RMS amplitude of each frame's own samples ``[s_f, s_{f+1})`` (0 past the end)."""
    y = _check(samples).astype(np.float64)
    b = frame_bounds(num_frames, fps, sr)
    c = np.concatenate([[0.0], np.cumsum(y * y)])
    lo, hi = np.clip(b[:-1], 0, len(y)), np.clip(b[1:], 0, len(y))
    n = np.maximum(hi - lo, 1)
    return np.sqrt(np.maximum(c[hi] - c[lo], 0.0) / n).astype(np.float32)


def frame_onset_strength(samples: np.ndarray, sr: int, fps: float, num_frames: int) -> np.ndarray:
    """``(T,)`` librosa onset strength (hop 512) at the frame times ``f / fps``, over its clip maximum."""
    import librosa

    y = _check(samples)
    hop = 512
    if len(y) < 2048:
        return np.zeros(int(num_frames), np.float32)
    env = librosa.onset.onset_strength(y=y, sr=int(sr), hop_length=hop)
    t_env = librosa.times_like(env, sr=int(sr), hop_length=hop)
    out = np.interp(np.arange(int(num_frames)) / fps, t_env, env, right=0.0)
    peak = float(out.max()) if len(out) else 0.0
    return (out / peak if peak > 0 else out).astype(np.float32)


def samples_from_frames(audio: np.ndarray, sr: int, fps: float) -> np.ndarray:
    """The waveform ``(s_T,)`` back from :func:`frame_audio` rows (each frame's own samples, in order)."""
    a = np.asarray(audio, np.float32)
    b = frame_bounds(len(a), fps, sr)
    n = np.diff(b)
    return np.concatenate([a[f, : n[f]] for f in range(len(a))]) if len(a) else np.zeros(0, np.float32)
