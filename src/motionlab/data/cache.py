"""An on-disk cache of preprocessed arrays, memory-mapped for reading.

An entry is a folder ``<root>/<key>/`` holding ``.npy`` arrays and ``entry.json`` (shapes, dtypes,
SHA-256 of every array file, and the inputs description the key was made from). The key is a
hash of the *inputs* (each source file's path, size and content hash) and the *settings*
(any JSON-serialisable preprocessing description), so a change of either makes a new entry and
stale ones are never reused.

Entries are written into a temporary folder and renamed into place (atomic on one file
system). Opening an entry verifies sizes and checksums; a truncated or corrupted entry is
deleted and rebuilt, never silently read.

Whenever :meth:`ArrayCache.get_or_build` builds an entry it says so on one line (standard error) and
why: ``missing`` (nothing was built for these inputs and settings before), ``stale`` (an entry of
earlier inputs or settings exists: the line names the settings that changed, or the source files),
or ``corrupted`` (the entry failed verification: which file, truncated or a wrong checksum).
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import sys
import tempfile
from pathlib import Path
from typing import Any, Callable, Dict, Iterable, List, Mapping, Optional, Tuple

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

    def __init__(self, root, report: Optional[Callable[[str], None]] = None) -> None:
        """``report`` receives the one-line message of every (re)build (default: printed to standard error)."""
        self.root = Path(os.path.expanduser(str(root)))
        self.report = report if report is not None else _print_stderr

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

    def problem(self, key: str) -> Optional[str]:
        """Why the entry ``key`` fails verification (``None``: it is sound, or absent)."""
        folder = self.path(key)
        if not folder.exists():
            return None
        try:
            entry = json.loads((folder / ENTRY_FILE).read_text())
            arrays = entry["arrays"]
        except FileNotFoundError:
            return f"{ENTRY_FILE} is missing"
        except (OSError, ValueError, KeyError, TypeError):
            return f"{ENTRY_FILE} is unreadable"
        for name, info in arrays.items():
            f = folder / f"{name}.npy"
            try:
                size = f.stat().st_size
                if size != info["bytes"]:
                    return f"{f.name} is truncated ({size} of {info['bytes']} bytes)"
                if file_digest(f) != info["sha256"]:
                    return f"the checksum of {f.name} does not match"
            except FileNotFoundError:
                return f"{f.name} is missing"
            except (OSError, KeyError, TypeError):
                return f"{f.name} is unreadable"
        return None

    def _entries(self, limit: int = 500) -> List[Tuple[str, Dict[str, Any]]]:
        """``(key, entry.json content)`` of the newest ``limit`` readable entries."""
        if not self.root.is_dir():
            return []
        folders = [p for p in self.root.iterdir() if p.is_dir() and not p.name.startswith(".")]
        folders.sort(key=lambda p: p.stat().st_mtime, reverse=True)
        out = []
        for p in folders[:limit]:
            try:
                out.append((p.name, json.loads((p / ENTRY_FILE).read_text())))
            except (OSError, ValueError):
                continue
        return out

    def rebuild_reason(self, key: str, description: Optional[Mapping] = None,
                       sources: Optional[Iterable] = None) -> str:
        """Why ``key`` must be built: ``"missing: ..."``, ``"stale: ..."`` or ``"corrupted: ..."``.

        A stale entry is the existing one whose description is closest to ``description``: the line names
        the settings that differ, else the source files whose content changed (when ``sources`` are given
        and the old entry recorded them), else says that the source files changed.
        """
        bad = self.problem(key)
        if bad is not None:
            return f"corrupted: {bad}"
        if description is None:
            return "missing: no entry for these inputs and settings"
        new = _flat(description)
        best: Optional[Tuple[int, str, List[str], Dict[str, Any]]] = None
        for other, entry in self._entries():
            if other == key:
                continue
            old_desc = entry.get("description")
            if not isinstance(old_desc, Mapping) or set(old_desc) != set(description):
                continue  # another kind of entry
            old = _flat(old_desc)
            diff = sorted(k for k in set(old) | set(new) if old.get(k, _ABSENT) != new.get(k, _ABSENT))
            if best is None or len(diff) < best[0]:
                best = (len(diff), other, diff, entry)
        if best is None:
            return "missing: no entry for these inputs and settings yet"
        _, other, diff, entry = best
        since = f"since entry {other[:8]}"
        if diff:
            shown = ", ".join(diff[:4]) + (f" and {len(diff) - 4} more" if len(diff) > 4 else "")
            return f"stale: settings changed {since}: {shown}"
        old_sources = entry.get("sources")
        if sources is not None and isinstance(old_sources, Mapping):
            now = _digests(sources)
            changed = sorted(p for p in set(now) | set(old_sources) if now.get(p) != old_sources.get(p))
            if changed:
                names = ", ".join(Path(p).name for p in changed[:3]) + (f" and {len(changed) - 3} more"
                                                                         if len(changed) > 3 else "")
                return f"stale: {len(changed)} source file(s) changed {since}: {names}"
        return f"stale: the source files changed {since} (same settings)"

    def store(self, key: str, arrays: Mapping[str, np.ndarray], description: Optional[Mapping] = None,
              sources: Optional[Iterable] = None) -> None:
        """Write an entry atomically (temporary folder, then rename); ``sources`` (file paths) are recorded
        with their digests, so that a later rebuild can name the files that changed."""
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
            record = {"key": key, "arrays": info, "description": description or {}}
            if sources is not None:
                record["sources"] = _digests(sources)
            (tmp / ENTRY_FILE).write_text(json.dumps(record, indent=1, sort_keys=True, default=str))
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
                     description: Optional[Mapping] = None, mmap: bool = True, sources: Optional[Iterable] = None,
                     what: str = "entry") -> Dict[str, np.ndarray]:
        """Load a verified entry, or (re)build it when missing, stale or corrupted, saying so and why on
        one line (see :meth:`rebuild_reason`; ``what`` names the entry in that line, e.g. ``"windows"``)."""
        arrays = self.load(key, mmap=mmap)
        if arrays is not None:
            return arrays
        sources = list(sources) if sources is not None else None
        reason = self.rebuild_reason(key, description, sources)
        if self.report is not None:
            self.report(f"cache: building {what} {key[:8]} in {self.root} ({reason})")
        if self.path(key).exists():
            shutil.rmtree(self.path(key), ignore_errors=True)
        self.store(key, build(), description, sources=sources)
        arrays = self.load(key, mmap=mmap)
        if arrays is None:  # pragma: no cover - only on a failing disk
            raise MotionLabError("cache entry failed verification right after writing it", file=self.path(key))
        return arrays


_ABSENT = object()


def _print_stderr(text: str) -> None:
    print(text, file=sys.stderr, flush=True)


def _flat(d: Mapping, prefix: str = "") -> Dict[str, Any]:
    """Dotted leaves of a nested mapping (lists are leaves), values as canonical JSON text."""
    out: Dict[str, Any] = {}
    for k, v in d.items():
        key = f"{prefix}{k}"
        if isinstance(v, Mapping) and v:
            out.update(_flat(v, key + "."))
        else:
            out[key] = json.dumps(v, sort_keys=True, default=str)
    return out


def _digests(sources: Iterable) -> Dict[str, str]:
    return {str(s): (file_digest(s) if os.path.isfile(s) else "<missing>") for s in sources}
