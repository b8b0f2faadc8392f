"""Safe file plumbing shared by the format modules: atomic writes, guarded npz and JSON loads.

Every failure to read comes out as one :class:`~motionlab.errors.MotionLabError` naming the file,
the place (npz key, JSON line/column, ``archive``) and the problem; nothing else leaks.
"""

from __future__ import annotations

import json
import os
import tempfile
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Dict, Iterator, Union

import numpy as np

from motionlab.errors import MotionLabError

PathLike = Union[str, os.PathLike]


def _umask() -> int:
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


@contextmanager
def atomic_path(path: PathLike) -> Iterator[str]:
    """Yield a temporary path in ``path``'s folder; on success it replaces ``path`` atomically.

    The temporary name keeps ``path``'s extension (libraries such as soundfile pick the format
    from it). On any exception the temporary file is removed and ``path`` is left untouched.
    """
    path = Path(path)
    folder = path.parent if str(path.parent) else Path(".")
    if not folder.is_dir():
        raise MotionLabError("the output folder does not exist", file=path, place="path")
    if path.is_dir():
        raise MotionLabError("the output path is a folder, not a file", file=path, place="path")
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp" + path.suffix, dir=folder)
    except OSError as e:
        raise MotionLabError(f"cannot write here ({e.strerror})", file=path, place="path") from None
    os.close(fd)
    os.chmod(tmp, 0o666 & ~_umask())  # mkstemp makes 0600; give the usual permissions
    try:
        yield tmp
        try:
            os.replace(tmp, path)
        except OSError as e:
            raise MotionLabError(f"cannot replace the file ({e.strerror})", file=path, place="path") from None
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


def load_npz(path: PathLike) -> Dict[str, np.ndarray]:
    """Every array of an npz file, read eagerly without pickles.

    Raises :class:`MotionLabError` (place ``archive`` or ``key '<name>'``) for a missing,
    truncated or corrupt file and for object (pickled) arrays.
    """
    if not os.path.isfile(path):
        raise MotionLabError("no such file", file=path, place="path")
    try:
        archive = np.load(path, allow_pickle=False)
    except Exception as e:  # zipfile, OSError, ValueError, EOFError ... all mean "not an npz"
        raise MotionLabError(f"not a readable npz archive ({type(e).__name__}: {e})", file=path,
                             place="archive") from None
    if not hasattr(archive, "files"):
        raise MotionLabError("a single .npy array, not an npz archive", file=path, place="archive")
    out: Dict[str, np.ndarray] = {}
    with archive:
        for key in archive.files:
            try:
                out[key] = np.asarray(archive[key])
            except Exception as e:
                raise MotionLabError(f"unreadable array ({type(e).__name__}: {e})", file=path,
                                     place=f"key {key!r}") from None
    return out


def load_json(path: PathLike, allow_nan: bool = False) -> Any:
    """Parse a UTF-8 JSON file; syntax errors name the line and column.

    ``NaN``/``Infinity`` literals (written by Python's ``json`` but not JSON) are rejected unless
    ``allow_nan``.
    """
    if not os.path.isfile(path):
        raise MotionLabError("no such file", file=path, place="path")
    try:
        with open(path, "rb") as f:
            raw = f.read()
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as e:
        raise MotionLabError(f"not UTF-8 text ({e.reason})", file=path, place=f"byte {e.start}") from None
    except OSError as e:
        raise MotionLabError(f"cannot read ({e.strerror})", file=path, place="path") from None

    def _no_constants(name: str):
        raise ValueError(f"{name} is not valid JSON")

    try:
        return json.loads(text, parse_constant=None if allow_nan else _no_constants)
    except json.JSONDecodeError as e:
        raise MotionLabError(f"invalid JSON ({e.msg})", file=path, place=f"line {e.lineno} column {e.colno}") from None
    except (ValueError, RecursionError) as e:
        raise MotionLabError(f"invalid JSON ({e})", file=path, place="document") from None
