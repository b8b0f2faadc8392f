"""Checkpoint files: written atomically (temp file, fsync, rename), read without executing code.

Checkpoints hold only tensors, numbers, strings, lists and dicts so that
``torch.load(path, weights_only=True)`` reads them; nothing is unpickled as code.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Dict

import torch

from motionlab.errors import MotionLabError

CHECKPOINT_DIR = "checkpoints"
LAST = "last.ckpt"


def atomic_torch_save(obj: Any, path) -> Path:
    """``torch.save`` to a temporary file beside ``path``, flushed to disk, then renamed over ``path``."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp{os.getpid()}")
    try:
        with open(tmp, "wb") as f:
            torch.save(obj, f)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    finally:
        if tmp.exists():
            tmp.unlink()
    return path


def checkpoint_problem(e: BaseException) -> str:
    """What a failed ``torch.load(weights_only=True)`` means, in one line (torch's text is long and
    suggests ``weights_only=False``, which would run the file's code)."""
    import pickle

    if isinstance(e, pickle.UnpicklingError) or "weights_only" in str(e) or "Unsupported global" in str(e):
        return ("not a safe checkpoint: it holds objects beyond tensors and plain containers, which would run "
                "code when loaded; motionlab loads checkpoints only with weights_only=True")
    if isinstance(e, (EOFError, RuntimeError)) or "zip" in str(e).lower():
        return "not a readable checkpoint (truncated, damaged or not a torch file)"
    return "not a readable checkpoint"


def load_checkpoint(path, map_location: Any = "cpu") -> Dict[str, Any]:
    """Read a checkpoint with ``weights_only=True``; a missing or unreadable file is a MotionLabError."""
    path = Path(path)
    if not path.is_file():
        raise MotionLabError("checkpoint not found", file=path)
    try:
        ckpt = torch.load(path, map_location=map_location, weights_only=True)
    except Exception as e:  # truncated file, foreign pickle, ... (torch's own texts run to many lines)
        raise MotionLabError(checkpoint_problem(e), file=path, place="checkpoint") from None
    if not isinstance(ckpt, dict) or "state_dict" not in ckpt:
        raise MotionLabError("not a motionlab/Lightning checkpoint (no 'state_dict')", file=path)
    return ckpt
