"""Audio files (via soundfile) and the exact frame <-> sample alignment.

Samples are float32 in ``[-1, 1]``: ``(S,)`` mono or ``(S, C)`` multi-channel; sample rates in Hz.
Co-speech data (BEAT2) ships 16 kHz mono wav beside the motion.

Alignment: motion frame ``f`` at ``fps`` starts at sample ``round(f * sr / fps)`` (rounded half
up). The common shortcut ``f * (sr // fps)`` (533 samples per frame at 16 kHz / 30 fps instead of
533.33) drifts by ``f * (sr / fps - sr // fps)`` samples: 600 samples = 37.5 ms after one minute.
"""

from __future__ import annotations

import os
from fractions import Fraction
from typing import Optional, Tuple, Union

import numpy as np

from motionlab.core.files import atomic_path
from motionlab.errors import MotionLabError

PathLike = Union[str, os.PathLike]


def frame_to_sample(frame, fps: float, sr: int):
    """First audio sample of motion frame ``frame``: ``round(frame * sr / fps)``, half up.

    Works on ints or integer arrays; exact (no accumulated drift) for any clip length.
    Integer-valued ``fps`` and ``sr`` are computed in exact integer arithmetic.
    """
    if fps <= 0 or sr <= 0:
        raise MotionLabError(f"fps and sr must be positive, got fps={fps}, sr={sr}", place="frame_to_sample")
    f = np.asarray(frame)
    ratio = Fraction(sr) / Fraction(fps).limit_denominator(1_000_000)
    if f.dtype.kind in "iu":
        num, den = ratio.numerator, ratio.denominator
        big = f.size and int(np.abs(f).max()) * 2 * num + den >= 2**62
        fi = f.astype(object) if big else f.astype(np.int64)
        out = (2 * fi * num + den) // (2 * den)  # floor(x + 1/2), exact integer arithmetic
        out = np.asarray(out, dtype=np.int64) if f.ndim else int(out)
        return out
    out = np.floor(f.astype(np.float64) * sr / fps + 0.5).astype(np.int64)
    return out if f.ndim else int(out)


def sample_to_frame(sample, fps: float, sr: int):
    """The motion frame containing audio sample ``sample`` (inverse of :func:`frame_to_sample`)."""
    s = np.asarray(sample, dtype=np.float64)
    out = np.floor((s + 0.5) * fps / sr).astype(np.int64)
    return out if s.ndim else int(out)


def read_audio(path: PathLike, sr: Optional[int] = None, mono: bool = True) -> Tuple[np.ndarray, int]:
    """Read an audio file as float32.

    Args:
        path: any format libsndfile reads (wav, flac, ogg ...).
        sr: resample to this rate (Hz) with a polyphase filter (scipy ``resample_poly``); None keeps it.
        mono: average the channels into ``(S,)``; else ``(S, C)``.

    Returns:
        ``(samples, sample_rate)``.
    """
    import soundfile as sf

    if not os.path.isfile(path):
        raise MotionLabError("no such file", file=path, place="path")
    try:
        data, file_sr = sf.read(os.fspath(path), dtype="float32", always_2d=True)
    except Exception as e:  # libsndfile errors, truncated headers, unknown formats
        raise MotionLabError(f"unreadable audio ({type(e).__name__}: {e})", file=path, place="header") from None
    if data.shape[0] == 0:
        raise MotionLabError("no samples", file=path, place="data")
    bad = ~np.isfinite(data).all(axis=1)
    if bad.any():
        raise MotionLabError("non-finite sample", file=path, place=f"sample {int(np.argmax(bad))}")
    if mono:
        data = data.mean(axis=1)
    if sr is not None and int(sr) != file_sr:
        if int(sr) <= 0:
            raise MotionLabError(f"sample rate must be positive, got {sr}", file=path, place="argument sr")
        from scipy.signal import resample_poly

        frac = Fraction(int(sr), int(file_sr))
        data = resample_poly(data, frac.numerator, frac.denominator, axis=0).astype(np.float32)
        file_sr = int(sr)
    return np.ascontiguousarray(data, dtype=np.float32), int(file_sr)


def write_audio(path: PathLike, samples, sr: Optional[int] = None, subtype: Optional[str] = None) -> None:
    """Write ``(S,)`` or ``(S, C)`` samples at ``sr`` Hz, atomically; the format follows the extension.

    ``samples`` may also be the ``(samples, sr)`` pair :func:`read_audio` returns. ``subtype`` is
    libsndfile's (default for wav: ``PCM_16``); integer subtypes clip to ``[-1, 1]`` first.
    """
    import soundfile as sf

    if sr is None and isinstance(samples, tuple) and len(samples) == 2:
        samples, sr = samples
    if sr is None or not float(sr).is_integer() or int(sr) <= 0:
        raise MotionLabError(f"sample rate must be a positive integer, got {sr!r}", file=path, place="argument sr")
    x = np.asarray(samples)
    if x.dtype.kind not in "biuf" or x.ndim not in (1, 2) or x.shape[0] == 0:
        raise MotionLabError(f"samples must be a non-empty (S,) or (S, C) array of numbers, got {x.dtype} {x.shape}",
                             file=path, place="argument samples")
    x = x.astype(np.float32)
    if not np.isfinite(x).all():
        bad = int(np.argmax(~np.isfinite(x.reshape(x.shape[0], -1)).all(axis=1)))
        raise MotionLabError("non-finite sample", file=path, place=f"sample {bad}")
    ext = os.path.splitext(os.fspath(path))[1].lstrip(".").upper()
    if ext not in sf.available_formats():
        raise MotionLabError(f"unknown audio extension {ext!r}", file=path, place="path")
    st = subtype or sf.default_subtype(ext)
    if st and not ("FLOAT" in st or "DOUBLE" in st or "VORBIS" in st or "OPUS" in st):
        x = np.clip(x, -1.0, 1.0)
    try:
        with atomic_path(path) as tmp:
            sf.write(tmp, x, int(sr), subtype=st, format=ext)
    except MotionLabError:
        raise
    except Exception as e:
        raise MotionLabError(f"cannot write audio ({type(e).__name__}: {e})", file=path, place="data") from None
