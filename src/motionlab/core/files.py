"""Safe file plumbing shared by the format modules: atomic writes, guarded reads, frame-rate checks.

Every failure to read comes out as one :class:`~motionlab.errors.MotionLabError` naming the file,
the place (npz key, JSON line/column, ``archive``) and the problem in words; no library exception
text leaks into it.

Writes go to a hidden temporary file beside the output (``.NAME.XXXX.tmpEXT``) that replaces the
output only when complete. The temporary file is removed on any exception, on Ctrl-C and on
SIGTERM/SIGHUP (the signal is then delivered as usual). An existing output file that is read-only
is refused unless :func:`allow_overwrite` (``--overwrite`` on the command line) is in effect.
"""

from __future__ import annotations

import contextvars
import json
import os
import signal
import stat
import tempfile
import threading
import zipfile
import zlib
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Dict, Iterator, List, Optional, Union

import numpy as np

from motionlab.errors import MotionLabError

PathLike = Union[str, os.PathLike]

#: Frame rates (fps) a motion file may declare; anything outside is an error naming this range.
FPS_RANGE = (1.0, 1000.0)


def check_frame_rate(value: Any, *, file: Optional[PathLike] = None, place: str = "fps") -> float:
    """``value`` as a frame rate in :data:`FPS_RANGE`: one real number (a Python or numpy number,
    or a one-element numeric array). Strings, booleans, complex numbers, lists of several values,
    NaN/inf and rates outside 1-1000 fps raise :class:`MotionLabError` naming ``file`` and ``place``."""
    lo, hi = FPS_RANGE
    shown = _shown(value)
    arr = value if isinstance(value, np.ndarray) else None
    if arr is None and isinstance(value, (list, tuple)) and len(value) == 1:
        value = value[0]
    if arr is not None:
        if arr.size != 1:
            raise MotionLabError(f"frame rate must be one number, got {arr.size} values {shown}", file=file,
                                 place=place)
        value = arr.reshape(-1)[0]
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, float, np.integer, np.floating)):
        raise MotionLabError(f"frame rate must be a number, got {type(value).__name__} {shown}", file=file,
                             place=place)
    fps = float(value)
    if not (lo <= fps <= hi):
        raise MotionLabError(f"frame rate {shown} fps is outside the valid range {lo:g}-{hi:g} fps", file=file,
                             place=place)
    return fps


def _shown(value: Any) -> str:
    """A short, one-line rendering of a user value for messages."""
    if isinstance(value, np.ndarray):
        if value.size == 1:
            value = value.reshape(-1)[0].item()
        else:
            value = value.reshape(-1)[:3].tolist() if value.size <= 3 else f"array of shape {value.shape}"
    elif isinstance(value, (list, tuple)) and len(value) == 1:
        value = value[0]
    text = repr(value) if not isinstance(value, float) else f"{value:g}"
    text = " ".join(text.split())
    return text if len(text) <= 40 else text[:37] + "..."


def os_problem(e: OSError) -> str:
    """An OSError in words, without the exception's own text (``permission denied``, ...)."""
    if isinstance(e, IsADirectoryError):
        return "is a folder, not a file"
    if isinstance(e, FileNotFoundError):
        return "no such file"
    if isinstance(e, PermissionError):
        return "permission denied: cannot read the file"
    return f"cannot read the file ({(e.strerror or 'input/output error').lower()})"


def check_input_file(path: PathLike) -> None:
    """Raise a MotionLabError (place ``path``) unless ``path`` is an existing, readable regular file."""
    p = os.fspath(path)
    if os.path.isdir(p):
        raise MotionLabError("is a folder, not a file", file=p, place="path")
    if not os.path.exists(p):
        raise MotionLabError("no such file", file=p, place="path")
    if not os.path.isfile(p):
        raise MotionLabError("is not a regular file", file=p, place="path")


def read_bytes(path: PathLike, limit: Optional[int] = None) -> bytes:
    """The bytes of ``path`` (the first ``limit`` bytes when given); errors are one-line MotionLabErrors."""
    check_input_file(path)
    try:
        with open(path, "rb") as f:
            return f.read() if limit is None else f.read(limit)
    except OSError as e:
        raise MotionLabError(os_problem(e), file=path, place="path") from None


def _umask() -> int:
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


_OVERWRITE: contextvars.ContextVar[bool] = contextvars.ContextVar("motionlab_overwrite", default=False)


@contextmanager
def allow_overwrite(on: bool = True) -> Iterator[None]:
    """Within this block, writers replace existing read-only output files (``--overwrite``)."""
    token = _OVERWRITE.set(bool(on))
    try:
        yield
    finally:
        _OVERWRITE.reset(token)


def _read_only(path: Path) -> bool:
    """An existing file nobody may write to (mode bits; also ``os.access`` for non-root users)."""
    try:
        mode = os.stat(path).st_mode
    except OSError:
        return False
    return not (mode & (stat.S_IWUSR | stat.S_IWGRP | stat.S_IWOTH)) or not os.access(path, os.W_OK)


# Temporary files being written, removed by the SIGTERM/SIGHUP handler before the signal goes on.
_LIVE_TEMPS: List[str] = []
_SIGNALS = tuple(getattr(signal, n) for n in ("SIGTERM", "SIGHUP") if hasattr(signal, n))


def _remove_temps() -> None:
    for tmp in list(_LIVE_TEMPS):
        try:
            os.unlink(tmp)
        except OSError:
            pass
    _LIVE_TEMPS.clear()


@contextmanager
def _temp_cleanup_on_signals(tmp: str) -> Iterator[None]:
    """Remove ``tmp`` if SIGTERM/SIGHUP arrive while it is being written (main thread only), then let
    the signal do what it did before: call the previous handler, or terminate as by default."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = {}

    def handler(signum, frame):
        old = previous.get(signum, signal.SIG_DFL)
        if old is signal.SIG_IGN:
            return
        if callable(old):
            old(signum, frame)  # may raise (then the writer's cleanup runs) or return (the write goes on)
            return
        _remove_temps()
        signal.signal(signum, signal.SIG_DFL)
        os.kill(os.getpid(), signum)

    _LIVE_TEMPS.append(tmp)
    try:
        for sig in _SIGNALS:
            try:
                previous[sig] = signal.signal(sig, handler)
            except (ValueError, OSError):  # not allowed here (embedded interpreters)
                pass
        yield
    finally:
        for sig, old in previous.items():
            try:
                signal.signal(sig, old if old is not None else signal.SIG_DFL)
            except (ValueError, OSError, TypeError):
                pass
        if tmp in _LIVE_TEMPS:
            _LIVE_TEMPS.remove(tmp)


@contextmanager
def atomic_path(path: PathLike, overwrite: Optional[bool] = None) -> Iterator[str]:
    """Yield a temporary path in ``path``'s folder; on success it replaces ``path`` atomically.

    The temporary name keeps ``path``'s extension (libraries such as soundfile pick the format
    from it). On any exception, Ctrl-C, SIGTERM or SIGHUP the temporary file is removed and ``path``
    is left untouched. An existing read-only ``path`` is refused unless ``overwrite`` (default: the
    :func:`allow_overwrite` setting).
    """
    path = Path(path)
    folder = path.parent if str(path.parent) else Path(".")
    if not folder.is_dir():
        raise MotionLabError("the output folder does not exist", file=path, place="path")
    if path.is_dir():
        raise MotionLabError("the output path is a folder, not a file", file=path, place="path")
    if overwrite is None:
        overwrite = _OVERWRITE.get()
    if not overwrite and path.exists() and _read_only(path):
        raise MotionLabError("the existing output file is read-only; pass --overwrite to replace it (in Python: "
                             "within motionlab.core.files.allow_overwrite())", file=path, place="path")
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp" + path.suffix, dir=folder)
    except OSError as e:
        raise MotionLabError(f"cannot write here ({(e.strerror or 'error').lower()})", file=path,
                             place="path") from None
    os.close(fd)
    os.chmod(tmp, 0o666 & ~_umask())  # mkstemp makes 0600; give the usual permissions
    try:
        with _temp_cleanup_on_signals(tmp):
            yield tmp
            try:
                os.replace(tmp, path)
            except OSError as e:
                raise MotionLabError(f"cannot replace the file ({(e.strerror or 'error').lower()})", file=path,
                                     place="path") from None
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise


def atomic_write_bytes(path: PathLike, data: bytes) -> None:
    """Write ``data`` to ``path`` atomically (temporary file in the same folder + ``os.replace``)."""
    with atomic_path(path) as tmp:
        with open(tmp, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())


def atomic_write_text(path: PathLike, text: str) -> None:
    """Write UTF-8 ``text`` to ``path`` atomically."""
    atomic_write_bytes(path, text.encode("utf-8"))


def save_npz(path: PathLike, arrays: Dict[str, Any], compressed: bool = False) -> None:
    """``np.savez`` to ``path`` atomically (the exact name is kept: no ``.npz`` is appended)."""
    with atomic_path(path) as tmp:
        with open(tmp, "wb") as f:
            (np.savez_compressed if compressed else np.savez)(f, **arrays)
            f.flush()
            os.fsync(f.fileno())


def _npz_problem(e: BaseException) -> str:
    """What a failure inside ``np.load`` / an archive member means for the file, in words."""
    text = str(e)
    if "allow_pickle" in text or "Object arrays" in text:
        return "holds Python objects (a pickled array), which motionlab never loads"
    if isinstance(e, NotImplementedError) or "compression" in text or "encrypt" in text:
        return "uses a zip feature numpy cannot read (encryption or an unknown compression method)"
    if isinstance(e, (zlib.error, EOFError)) or "CRC" in text or "truncat" in text or "EOF" in text:
        return "damaged array data (truncated or failing its checksum)"
    if "header" in text.lower() or "descr" in text or "format" in text.lower():
        return "damaged array header (not a valid .npy member)"
    return "damaged array data (not a valid .npy member)"


def load_npz(path: PathLike) -> Dict[str, np.ndarray]:
    """Every array of an npz file, read eagerly without pickles.

    Raises :class:`MotionLabError` (place ``archive`` or ``key '<name>'``) for a missing,
    truncated or corrupt file and for object (pickled) arrays.
    """
    check_input_file(path)
    try:
        archive = np.load(path, allow_pickle=False)
    except OSError as e:
        if isinstance(e, (PermissionError, IsADirectoryError)):
            raise MotionLabError(os_problem(e), file=path, place="path") from None
        raise MotionLabError("not an npz archive (no zip structure)", file=path, place="archive") from None
    except Exception as e:  # zipfile, ValueError, EOFError ... all mean "not an npz"
        problem = "holds one pickled object, not arrays" if "pickle" in str(e) else _archive_problem(e)
        raise MotionLabError(problem, file=path, place="archive") from None
    if not hasattr(archive, "files"):
        raise MotionLabError("a single .npy array, not an npz archive", file=path, place="archive")
    out: Dict[str, np.ndarray] = {}
    with archive:
        for key in archive.files:
            try:
                out[key] = np.asarray(archive[key])
            except Exception as e:
                raise MotionLabError(_npz_problem(e), file=path, place=f"key {key!r}") from None
    return out


def _archive_problem(e: BaseException) -> str:
    if isinstance(e, zipfile.BadZipFile):
        return "not a readable npz archive (damaged or truncated zip)"
    if isinstance(e, EOFError):
        return "empty or truncated file, not an npz archive"
    return "not a readable npz archive (damaged zip structure)"


def load_json(path: PathLike, allow_nan: bool = False) -> Any:
    """Parse a UTF-8 JSON file; syntax errors name the line and column.

    ``NaN``/``Infinity`` literals (written by Python's ``json`` but not JSON) are rejected unless
    ``allow_nan``.
    """
    raw = read_bytes(path)
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as e:
        raise MotionLabError("not UTF-8 text", file=path, place=f"byte {e.start}") from None

    def _no_constants(name: str):
        raise ValueError(f"{name} is not valid JSON")

    try:
        return json.loads(text, parse_constant=None if allow_nan else _no_constants)
    except json.JSONDecodeError as e:
        raise MotionLabError(f"invalid JSON ({e.msg[:1].lower() + e.msg[1:]})", file=path,
                             place=f"line {e.lineno} column {e.colno}") from None
    except RecursionError:
        raise MotionLabError("invalid JSON (nested too deeply)", file=path, place="document") from None
    except ValueError as e:
        raise MotionLabError(f"invalid JSON ({e})", file=path, place="document") from None
