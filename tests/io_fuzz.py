"""Broken-file generators for the io fuzz tests (imported by tests/test_*_io.py; not a test module).

Each reader is held to one contract: on a broken file it either returns a valid result or raises
MotionLabError naming the file and a place, never any other exception.
"""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any, Callable, Dict, List

import numpy as np

from motionlab.errors import MotionLabError


def byte_variants(data: bytes, rng: np.random.Generator, n_trunc: int = 30, n_flip: int = 30) -> List[bytes]:
    """Truncations, random byte flips, garbage, empty."""
    out = [b"", b"\x00" * 64, b"garbage, not a file of this kind\n", rng.bytes(512)]
    cuts = sorted(set(rng.integers(1, max(len(data) - 1, 2), size=n_trunc).tolist()))
    out += [data[:c] for c in cuts]
    for _ in range(n_flip):
        b = bytearray(data)
        for pos in rng.integers(0, len(b), size=int(rng.integers(1, 6))):
            b[pos] = int(rng.integers(0, 256))
        out.append(bytes(b))
    return out


def array_variants(arrays: Dict[str, np.ndarray], rng: np.random.Generator) -> List[Dict[str, Any]]:
    """For every key: dropped, empty, scalar, string, object, reshaped, one frame short, NaN, inf."""
    out = []
    for key, a in arrays.items():
        base = {k: v for k, v in arrays.items() if k != key}
        out.append(base)
        bad_values = [np.zeros((0,) + a.shape[1:]), np.array(3.0), np.array("text"), np.array([{"x": 1}], dtype=object),
                      np.zeros((2, 2, 2, 2)), np.array([1.0, 2.0])]
        if a.ndim >= 1 and a.shape[0] > 1:
            bad_values.append(a[:-1])
            bad_values.append(np.swapaxes(a, 0, -1) if a.ndim > 1 else a[None])
        if a.dtype.kind == "f" and a.size:
            for v in (np.nan, np.inf, -np.inf):
                b = a.copy()
                b.reshape(-1)[int(rng.integers(0, a.size))] = v
                bad_values.append(b)
        out += [dict(base, **{key: v}) for v in bad_values]
    return out


def _paths(doc: Any, prefix=()) -> List[tuple]:
    found = [prefix]
    if isinstance(doc, dict):
        for k, v in doc.items():
            found += _paths(v, prefix + (k,))
    elif isinstance(doc, list):
        for i, v in enumerate(doc[:3]):
            found += _paths(v, prefix + (i,))
    return found


def json_variants(doc: Any, rng: np.random.Generator, n: int = 150) -> List[str]:
    """Random structural damage: a value deleted or replaced by null, a string, NaN, a huge number,
    an empty or wrong-length list, an object ..."""
    paths = _paths(doc)[1:]
    replacements = [None, "x", [], {}, float("nan"), float("inf"), 1e308, -1, 0, True, [1, 2], [[1, 2, 3]], {"a": 1}]
    out = []
    for _ in range(n):
        d = copy.deepcopy(doc)
        path = paths[int(rng.integers(0, len(paths)))]
        parent = d
        for p in path[:-1]:
            parent = parent[p]
        last = path[-1]
        if rng.random() < 0.25:
            if isinstance(parent, dict):
                del parent[last]
            else:
                parent.pop(last)
        else:
            parent[last] = copy.deepcopy(replacements[int(rng.integers(0, len(replacements)))])
        out.append(json.dumps(d))
    return out


def check_contract(reader: Callable[[Path], Any], path: Path, validate: Callable[[Any], None] = lambda r: None) -> str:
    """Run ``reader(path)``: it must return (and pass ``validate``) or raise a MotionLabError that
    names ``path`` and a place. Returns ``"ok"`` or ``"error"``."""
    try:
        result = reader(path)
    except MotionLabError as e:
        assert e.file == str(path), f"error does not name the file: {e}"
        assert e.place, f"error does not name a place: {e}"
        return "error"
    validate(result)
    return "ok"
