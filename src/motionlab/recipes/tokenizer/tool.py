"""Inference on user data with a trained tokenizer run: reconstruct motion files or feature windows
through the VQ-VAE (the Python API behind the recipe's ``generate``)."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, List, Union

import numpy as np

from motionlab.errors import MotionLabError
from motionlab.recipes.tokenizer.evaluate import _load, _run_model


def _read_features(path: Path, stream: str, fps: float) -> np.ndarray:
    from motionlab.data.dataset import _load_stream
    from motionlab.data.sources import Clip
    from motionlab.data.features import feature_fn

    kind, _ = feature_fn(stream)
    return _load_stream(Clip(path.stem, {kind: path}), stream, fps)


def generate(run_dir: Union[str, os.PathLike], inputs: Any) -> Union[np.ndarray, List[np.ndarray]]:
    """Reconstruct motion through the tokenizer (encode, quantise, decode).

    ``inputs``: raw (un-normalised) feature windows of the run's stream, ``(T, C)`` or ``(N, T, C)``
    (any ``T``; padded by repeating the last frame to a multiple of ``2**down_t`` and cropped back),
    or a motion file path / list of paths (read and featurised at the run's fps). Returns arrays of
    the same shapes in raw feature units (a list for a list of files).
    """
    run, stream, norm = _load(run_dir)
    factor = 2 ** run.cfg.model.down_t

    def one(x: np.ndarray) -> np.ndarray:
        x = np.asarray(x, dtype=np.float32)
        single = x.ndim == 2
        xb = x[None] if single else x
        if xb.ndim != 3 or xb.shape[-1] != norm.mean.shape[-1]:
            raise MotionLabError(f"inputs must be (T, {norm.mean.shape[-1]}) or (N, T, {norm.mean.shape[-1]}) "
                                 f"{stream} features, got {x.shape}", place="inputs")
        if xb.shape[1] == 0 or not np.isfinite(xb).all():
            raise MotionLabError("inputs are empty or hold NaN/infinite values", place="inputs")
        T = xb.shape[1]
        pad = (-T) % factor
        if pad:
            xb = np.concatenate([xb, np.repeat(xb[:, -1:], pad, axis=1)], axis=1)
        recon_n, _, _ = _run_model(run.model, np.asarray(norm(xb), dtype=np.float32), run.cfg.eval.batch_size)
        recon = norm.denormalize(recon_n)[:, :T].astype(np.float32)
        return recon[0] if single else recon

    if isinstance(inputs, (str, os.PathLike)):
        return one(_read_features(Path(inputs), stream, run.cfg.data.fps))
    if isinstance(inputs, (list, tuple)) and inputs and all(isinstance(p, (str, os.PathLike)) for p in inputs):
        return [one(_read_features(Path(p), stream, run.cfg.data.fps)) for p in inputs]
    return one(inputs)
