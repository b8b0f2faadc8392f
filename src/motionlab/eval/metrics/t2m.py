"""Text-to-motion retrieval: R-precision and multimodal distance."""

from __future__ import annotations

from typing import Dict, Tuple

import numpy as np

from motionlab.errors import MotionLabError
from motionlab.eval.metrics._checks import ArrayLike, _arr

__all__ = ['r_precision', 'multimodal_distance']


def _paired(text_emb: ArrayLike, motion_emb: ArrayLike) -> Tuple[np.ndarray, np.ndarray]:
    t = _arr(text_emb, "text_emb", min_ndim=2)
    m = _arr(motion_emb, "motion_emb", min_ndim=2)
    if t.ndim != 2 or t.shape != m.shape:
        raise MotionLabError(f"embeddings must be (N, D) pairs, got {t.shape} and {m.shape}", place="motion_emb")
    return t, m


def r_precision(text_emb: ArrayLike, motion_emb: ArrayLike, top_k: int = 3, batch: int = 32) -> np.ndarray:
    """R-precision (HumanML3D / T2M protocol): top-1..top-k retrieval accuracy of the true motion.

    ``text_emb``, ``motion_emb``: ``(N, D)``, row ``i`` of each from the same sample. The set is cut
    into consecutive batches of ``batch`` (32); an incomplete last batch is dropped (the original
    loader's ``drop_last``). In each batch, for text ``i`` the motions are ranked by Euclidean
    distance; top-``k`` counts a hit when motion ``i`` is among the ``k`` nearest. Returns
    ``(top_k,)`` accuracies (cumulative: top-1 <= top-2 <= top-3). Higher is better.
    """
    t, m = _paired(text_emb, motion_emb)
    batch, top_k = int(batch), int(top_k)
    if not 1 <= top_k <= batch:
        raise MotionLabError(f"top_k must be in 1..{batch}, got {top_k}", place="top_k")
    nb = t.shape[0] // batch
    if nb == 0:
        raise MotionLabError(f"needs at least {batch} pairs for batches of {batch}, got {t.shape[0]}", place="text_emb")
    hits = np.zeros(top_k)
    for b in range(nb):
        tt, mm = t[b * batch:(b + 1) * batch], m[b * batch:(b + 1) * batch]
        dist = np.linalg.norm(tt[:, None] - mm[None], axis=-1)
        rank = np.argsort(dist, axis=1, kind="stable")
        found = rank[:, :top_k] == np.arange(batch)[:, None]
        hits += np.cumsum(found, axis=1).astype(bool).sum(axis=0)
    return hits / (nb * batch)


def multimodal_distance(text_emb: ArrayLike, motion_emb: ArrayLike) -> float:
    """MM-Dist: mean Euclidean distance between each text embedding and its own motion's
    embedding (``(N, D)`` each). Lower is better."""
    t, m = _paired(text_emb, motion_emb)
    return float(np.linalg.norm(t - m, axis=1).mean())


#: Reported names of this topic and whether lower or higher is better (see ``METRIC_DIRECTIONS``).
DIRECTIONS: Dict[str, str] = {
    "r_precision": "higher", "r_precision_top1": "higher", "r_precision_top2": "higher",
    "r_precision_top3": "higher", "multimodal_distance": "lower",
}
