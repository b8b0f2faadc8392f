"""An on-disk cache of preprocessed arrays, memory-mapped for reading.

An entry is a folder ``<root>/<key>/`` holding ``.npy`` arrays and ``entry.json`` (shapes, dtypes,
SHA-256 of every array file, and the inputs description the key was made from). The key is a
hash of the *inputs* (each source file's path, size and content hash) and the *settings*
(any JSON-serialisable preprocessing description), so a change of either makes a new entry and
stale ones are never reused.

Entries are written into a temporary folder and renamed into place (atomic on one file
system). Opening an entry verifies sizes and checksums; a truncated or corrupted entry is
deleted and rebuilt, never silently read.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import tempfile
from pathlib import Path
from typing import Callable, Dict, Iterable, Mapping, Optional

import numpy as np

from motionlab.errors import MotionLabError

ENTRY_FILE = "entry.json"
_CHUNK = 1 << 20


def file_digest(path, algo: str = "sha256") -> str:
    """Hex digest of a file's bytes."""
    h = hashlib.new(algo)
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(_CHUNK), b""):
            h.update(block)
    return h.hexdigest()


def code_fingerprint(*subpackages: str) -> str:
    """Hash of motionlab's version and the source files of ``subpackages`` (e.g. ``"io"``, ``"data"``):
    part of every cache key, so a change to a reader or a feature definition makes caches stale."""
    import motionlab

    base = Path(motionlab.__file__).resolve().parent
    h = hashlib.sha256(motionlab.__version__.encode())
    for sub in subpackages:
        for f in sorted((base / sub).rglob("*.py")):
            h.update(f.relative_to(base).as_posix().encode())
            h.update(f.read_bytes())
    return h.hexdigest()


def cache_key(sources: Iterable, settings: Mapping) -> str:
    """Key of a cache entry from its source files (content-hashed) and preprocessing settings."""
    h = hashlib.sha256()
    for src in sorted(str(s) for s in sources):
        h.update(src.encode())
        h.update(file_digest(src).encode() if os.path.isfile(src) else b"<missing>")
    h.update(json.dumps(settings, sort_keys=True, default=str).encode())
    return h.hexdigest()[:32]


class ArrayCache:
    """A folder of verified, memory-mapped cache entries.

    >>> cache = ArrayCache("~/.cache/motionlab")                       # doctest: +SKIP
    >>> arrays = cache.get_or_build(key, lambda: {"windows": build()})  # doctest: +SKIP
    """

    def __init__(self, root) -> None:
        self.root = Path(os.path.expanduser(str(root)))

    def path(self, key: str) -> Path:
        return self.root / key

    def _verify(self, key: str) -> Optional[Dict]:
        folder = self.path(key)
        try:
            entry = json.loads((folder / ENTRY_FILE).read_text())
            for name, info in entry["arrays"].items():
                f = folder / f"{name}.npy"
                if f.stat().st_size != info["bytes"] or file_digest(f) != info["sha256"]:
                    return None
            return entry
        except (OSError, ValueError, KeyError, TypeError):
            return None

    def load(self, key: str, mmap: bool = True) -> Optional[Dict[str, np.ndarray]]:
        """The entry's arrays (memory-mapped), or None when absent or failing verification."""
        entry = self._verify(key)
        if entry is None:
            return None
        folder = self.path(key)
        try:
            return {n: np.load(folder / f"{n}.npy", mmap_mode="r" if mmap else None, allow_pickle=False)
                    for n in entry["arrays"]}
        except (OSError, ValueError):
            return None

    def store(self, key: str, arrays: Mapping[str, np.ndarray], description: Optional[Mapping] = None) -> None:
        """Write an entry atomically (temporary folder, then rename)."""
        self.root.mkdir(parents=True, exist_ok=True)
        tmp = Path(tempfile.mkdtemp(prefix=f".{key}.", dir=self.root))
        try:
            info = {}
            for name, arr in arrays.items():
                arr = np.ascontiguousarray(arr)
                if arr.dtype == object:
                    raise MotionLabError(f"cache array {name!r} has dtype object: not cacheable")
                f = tmp / f"{name}.npy"
                np.save(f, arr, allow_pickle=False)
                info[name] = {"shape": list(arr.shape), "dtype": str(arr.dtype), "bytes": f.stat().st_size,
                              "sha256": file_digest(f)}
            (tmp / ENTRY_FILE).write_text(json.dumps({"key": key, "arrays": info, "description": description or {}},
                                                     indent=1, sort_keys=True, default=str))
            final = self.path(key)
            if final.exists():
                if self._verify(key) is not None:  # another process built it meanwhile: keep theirs
                    return
                shutil.rmtree(final, ignore_errors=True)
            try:
                os.replace(tmp, final)
            except OSError:
                if self._verify(key) is None:  # lost a race to a writer whose entry is broken
                    raise MotionLabError("could not place the cache entry", file=final) from None
        finally:
            if tmp.exists():
                shutil.rmtree(tmp, ignore_errors=True)

    def get_or_build(self, key: str, build: Callable[[], Mapping[str, np.ndarray]],
                     description: Optional[Mapping] = None, mmap: bool = True) -> Dict[str, np.ndarray]:
        """Load a verified entry, or (re)build it when missing, stale or corrupted."""
        arrays = self.load(key, mmap=mmap)
        if arrays is not None:
            return arrays
        if self.path(key).exists():
            shutil.rmtree(self.path(key), ignore_errors=True)
        self.store(key, build(), description)
        arrays = self.load(key, mmap=mmap)
        if arrays is None:  # pragma: no cover - only on a failing disk
            raise MotionLabError("cache entry failed verification right after writing it", file=self.path(key))
        return arrays
