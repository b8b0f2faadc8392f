"""Audio files (via soundfile) and the exact frame <-> sample alignment.

Samples are float32 in ``[-1, 1]``: ``(S,)`` mono or ``(S, C)`` multi-channel; sample rates in Hz.
Co-speech data (BEAT2) ships 16 kHz mono wav beside the motion.

Alignment: motion frame ``f`` at ``fps`` starts at sample ``round(f * sr / fps)`` (rounded half
up). The common shortcut ``f * (sr // fps)`` (533 samples per frame at 16 kHz / 30 fps instead of
533.33) drifts by ``f * (sr / fps - sr // fps)`` samples: 600 samples = 37.5 ms after one minute.
"""

from __future__ import annotations

import os
import struct
import warnings
from fractions import Fraction
from typing import Any, Dict, Optional, Tuple, Union

import numpy as np

from motionlab.core.files import atomic_path, check_input_file, os_problem
from motionlab.errors import MotionLabError, MotionLabNote

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


#: libsndfile containers each audio extension stands for.
EXTENSION_CONTAINERS: Dict[str, Tuple[str, ...]] = {
    ".wav": ("WAV", "WAVEX", "RF64"), ".flac": ("FLAC",), ".ogg": ("OGG",), ".oga": ("OGG",), ".mp3": ("MP3",),
    ".aiff": ("AIFF",), ".aif": ("AIFF",), ".w64": ("W64",), ".caf": ("CAF",), ".au": ("AU",),
}


def _sf_problem(e: Exception) -> str:
    """A libsndfile failure in words (its own message, without the file name or exception type)."""
    msg = str(getattr(e, "error_string", "") or "").strip().rstrip(".")
    if not msg:
        return "damaged audio data"
    if "not recognised" in msg.lower() or "unknown format" in msg.lower():
        return "not an audio file libsndfile can read (format not recognised)"
    return f"unreadable audio ({msg[:1].lower() + msg[1:]})"


def _riff_check(path: PathLike) -> None:
    """For RIFF/WAVE files: the chunks must fit in the file and the data chunk must hold every sample
    its header declares (libsndfile silently reads a truncated data chunk as a shorter clip)."""
    size = os.path.getsize(path)
    with open(path, "rb") as f:
        head = f.read(12)
        if len(head) < 12 or head[:4] not in (b"RIFF", b"RIFX") or head[8:12] != b"WAVE":
            return
        end = "<" if head[:4] == b"RIFF" else ">"
        pos, block = 12, None
        while pos + 8 <= size:
            f.seek(pos)
            cid, csize = struct.unpack(end + "4sI", f.read(8))
            body = pos + 8
            if cid == b"fmt " and csize >= 14:
                _, channels, rate, _, block = struct.unpack(end + "HHIIH", f.read(14))
            if cid == b"data":
                avail = size - body
                if csize not in (0, 0xFFFFFFFF) and csize > avail:
                    if block:
                        rate_s = f" at {rate} Hz" if rate else ""
                        raise MotionLabError(
                            f"truncated file: the data chunk declares {csize // block} samples per channel "
                            f"but the file holds {avail // block}{rate_s}", file=path, place="data chunk")
                    raise MotionLabError(f"truncated file: the data chunk declares {csize} bytes but the file "
                                         f"holds {avail}", file=path, place="data chunk")
                return
            pos = body + csize + (csize & 1)
        if pos > size:
            raise MotionLabError("truncated file: a header chunk runs past the end of the file", file=path,
                                 place="header")


def audio_info(path: PathLike) -> Dict[str, Any]:
    """What an audio file really is, from its content: ``container`` (libsndfile's name, e.g. ``WAV``,
    ``MP3``), ``codec``, ``sample_rate`` (Hz), ``channels``, ``samples`` (per channel), ``duration_s``,
    and ``note`` when the extension names another container (else None). One-line errors."""
    import soundfile as sf

    check_input_file(path)
    _riff_check(path)
    try:
        info = sf.info(os.fspath(path))
    except OSError as e:
        raise MotionLabError(os_problem(e), file=path, place="path") from None
    except Exception as e:  # LibsndfileError and friends
        raise MotionLabError(_sf_problem(e), file=path, place="header") from None
    ext = os.path.splitext(os.fspath(path))[1].lower()
    expected = EXTENSION_CONTAINERS.get(ext)
    note = None
    if expected is not None and info.format not in expected:
        note = (f"the file holds {info.format_info} ({info.subtype_info}), not {expected[0]} as its "
                f"extension says; read as {info.format}")
    return {"container": info.format, "container_info": info.format_info, "codec": info.subtype,
            "codec_info": info.subtype_info, "sample_rate": int(info.samplerate), "channels": int(info.channels),
            "samples": int(info.frames), "duration_s": float(info.duration), "note": note}


def read_audio(path: PathLike, sr: Optional[int] = None, mono: bool = True) -> Tuple[np.ndarray, int]:
    """Read an audio file as float32.

    Args:
        path: any format libsndfile reads (wav, flac, ogg, mp3 ...). The container is taken from the
            content; when it differs from the extension (an MP3 renamed ``.wav``) the file is read as
            what it is, with a :class:`~motionlab.errors.MotionLabNote` warning saying so. A WAV whose
            data chunk is shorter than its header declares is an error (not a silently shorter clip).
        sr: resample to this rate (Hz) with a polyphase filter (scipy ``resample_poly``); None keeps it.
        mono: average the channels into ``(S,)``; else ``(S, C)``.

    Returns:
        ``(samples, sample_rate)``.
    """
    import soundfile as sf

    info = audio_info(path)
    if info["note"]:
        warnings.warn(f"{os.fspath(path)}: {info['note']}", MotionLabNote, stacklevel=2)
    try:
        data, file_sr = sf.read(os.fspath(path), dtype="float32", always_2d=True)
    except OSError as e:
        raise MotionLabError(os_problem(e), file=path, place="path") from None
    except Exception as e:  # libsndfile errors inside the data
        raise MotionLabError(_sf_problem(e), file=path, place="data") from None
    if data.shape[0] == 0:
        raise MotionLabError("no samples", file=path, place="data")
    exact = info["container"] not in ("MP3", "OGG")  # compressed streams only estimate their length
    if exact and info["samples"] and data.shape[0] < info["samples"]:
        raise MotionLabError(f"truncated file: the header declares {info['samples']} samples, the data holds "
                             f"{data.shape[0]}", file=path, place="data")
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
        raise MotionLabError(f"cannot write audio: {_sf_problem(e)}", file=path, place="data") from None
