"""Learned evaluators: the one pattern behind FGD/FID-style numbers in motionlab.

A *learned evaluator* is a feature network trained on the data itself (never downloaded), saved as an
ordinary run folder of some recipe (``t2m_evaluator``, the gesture autoencoder, ...). Its plain model
(``LoadedRun.model``) provides

* ``encode_motion(x: Tensor (B, T, F)) -> Tensor (B, D)``: one feature vector per window of
  *normalised* motion of the evaluator's own stream, and optionally
* ``encode_text(texts: Sequence[str]) -> Tensor (B, D)`` for text-motion retrieval metrics.

:class:`LearnedEvaluator` wraps such a run: it takes *raw* (de-normalised) motion, re-normalises it with
the evaluator's own training statistics (``normalization_<stream>.npz`` in its run folder), embeds it
in batches without gradients, and computes Frechet distances and diversity in that feature space. A
generator's output must therefore be de-normalised with the generator's statistics before it is given
here (the HumanML3D protocol). Numbers from an evaluator trained by motionlab are comparable only with
other numbers from the same evaluator run (same data, same weights), never with published FGD/FID.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Optional, Sequence, Union

import numpy as np
import torch

from motionlab.errors import MotionLabError
from motionlab.eval.metrics import diversity, frechet_distance

PathLike = Union[str, os.PathLike]


class LearnedEvaluator:
    """Feature space of a trained evaluator run (see the module docstring).

    Args:
        run_dir: the evaluator's run folder.
        stream: which saved normalisation to use (default: the only one, or ``"default"``).
        batch_size: windows per forward pass.
    """

    def __init__(self, run_dir: PathLike, stream: Optional[str] = None, batch_size: int = 256) -> None:
        from motionlab.train.engine import load_run

        self.run_dir = Path(run_dir)
        if not self.run_dir.is_dir():
            raise MotionLabError("evaluator run folder not found", file=self.run_dir)
        self.run = load_run(self.run_dir)
        self.model = self.run.model
        if not callable(getattr(self.model, "encode_motion", None)):
            raise MotionLabError(f"the model of recipe {self.run.recipe.name!r} has no encode_motion(); it is not "
                                 "a learned evaluator", file=self.run_dir)
        stats = self.run.stats
        if stream is None:
            stream = next(iter(stats)) if len(stats) == 1 else "default"
        if stats and stream not in stats:
            raise MotionLabError(f"no normalisation for stream {stream!r} (has: {', '.join(sorted(stats))})",
                                 file=self.run_dir)
        self.stream = stream
        self.normalizer = stats.get(stream)
        self.batch_size = int(batch_size)

    @property
    def feature_dim(self) -> Optional[int]:
        """Motion features per frame the evaluator expects (``None`` if it saved no statistics)."""
        return None if self.normalizer is None else int(self.normalizer.mean.shape[-1])

    def _check(self, motion: Any) -> np.ndarray:
        x = np.asarray(motion, dtype=np.float32)
        if x.ndim == 2:
            x = x[None]
        F = self.feature_dim
        if x.ndim != 3 or (F is not None and x.shape[-1] != F):
            raise MotionLabError(f"expected raw motion windows (N, T, {F if F is not None else 'F'}), got shape "
                                 f"{x.shape}", place="motion")
        if x.shape[0] == 0 or x.shape[1] == 0:
            raise MotionLabError(f"no motion to embed (shape {x.shape})", place="motion")
        if not np.isfinite(x).all():
            raise MotionLabError("motion holds NaN or infinite values", place="motion")
        return x

    @torch.no_grad()
    def motion_features(self, motion: Any, lengths: Optional[Sequence[int]] = None) -> np.ndarray:
        """``(N, D)`` features of raw motion windows ``(N, T, F)`` (or one ``(T, F)``).

        ``lengths``: optional ``(N,)`` valid frames of padded windows, passed on to evaluators whose
        ``encode_motion`` takes them (frames past a window's length are ignored)."""
        x = self._check(motion)
        if self.normalizer is not None:
            x = self.normalizer(x).astype(np.float32)
        if lengths is not None:
            lengths = np.asarray(lengths, dtype=np.int64).reshape(-1)
            if len(lengths) != len(x) or (lengths < 1).any() or (lengths > x.shape[1]).any():
                raise MotionLabError(f"lengths must be {len(x)} values in 1..{x.shape[1]}", place="lengths")
        out = []
        for i in range(0, len(x), self.batch_size):
            xb = torch.from_numpy(x[i:i + self.batch_size])
            if lengths is None:
                emb = self.model.encode_motion(xb)
            else:
                emb = self.model.encode_motion(xb, torch.from_numpy(lengths[i:i + self.batch_size]))
            out.append(emb.float().cpu().numpy())
        return np.concatenate(out).astype(np.float64)

    @torch.no_grad()
    def text_features(self, texts: Sequence[str]) -> np.ndarray:
        """``(N, D)`` features of captions (evaluators with ``encode_text`` only)."""
        if not callable(getattr(self.model, "encode_text", None)):
            raise MotionLabError(f"the evaluator of recipe {self.run.recipe.name!r} has no text encoder",
                                 file=self.run_dir)
        texts = list(texts)
        if not texts:
            raise MotionLabError("no texts to embed", place="texts")
        out = [self.model.encode_text(texts[i:i + self.batch_size]).float().cpu().numpy()
               for i in range(0, len(texts), self.batch_size)]
        return np.concatenate(out).astype(np.float64)

    def frechet(self, generated: Any, real: Any) -> float:
        """Frechet distance between the feature distributions of two sets of raw motion windows
        (FID / FGD in this evaluator's space; lower is better)."""
        return frechet_distance(self.motion_features(generated), self.motion_features(real))

    def diversity(self, motion: Any, n_pairs: int = 300, seed: int = 0) -> float:
        """Mean feature distance of random pairs (:func:`motionlab.eval.metrics.diversity`)."""
        return diversity(self.motion_features(motion), n_pairs=n_pairs, seed=seed)
