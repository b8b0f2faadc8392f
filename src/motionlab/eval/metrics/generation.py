"""Distribution metrics shared by generators: Frechet distance, diversity, confidence intervals."""

from __future__ import annotations

import math
import warnings
from typing import Dict, Tuple

import numpy as np

from motionlab.errors import MotionLabError
from motionlab.eval.metrics._checks import ArrayLike, _arr

__all__ = ['frechet_distance_from_stats', 'frechet_distance', 'diversity', 'mean_ci95']


def frechet_distance_from_stats(mu1: ArrayLike, sigma1: ArrayLike, mu2: ArrayLike, sigma2: ArrayLike,
                                eps: float = 1e-6) -> float:
    """Frechet distance of two Gaussians ``|mu1-mu2|^2 + Tr(S1 + S2 - 2 sqrt(S1 S2))``.

    ``sqrt`` is ``scipy.linalg.sqrtm``; when the product is singular (scipy warns) or the root is
    not finite, ``eps`` is added to both diagonals and it is recomputed; an imaginary part is
    dropped (FID protocol).
    """
    from scipy import linalg

    m1, m2 = _arr(mu1, "mu1", min_ndim=1), _arr(mu2, "mu2", min_ndim=1)
    s1, s2 = np.atleast_2d(_arr(sigma1, "sigma1")), np.atleast_2d(_arr(sigma2, "sigma2"))
    D = m1.shape[0]
    if m1.shape != (D,) or m2.shape != (D,) or s1.shape != (D, D) or s2.shape != (D, D):
        raise MotionLabError(f"shapes disagree: mu1 {m1.shape}, mu2 {m2.shape}, sigma1 {s1.shape}, "
                             f"sigma2 {s2.shape}", place="sigma2")
    diff = m1 - m2
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", linalg.LinAlgWarning)
        covmean = linalg.sqrtm(s1 @ s2)
    singular = any(issubclass(w.category, linalg.LinAlgWarning) for w in caught)
    if singular or not np.isfinite(covmean).all():
        off = np.eye(D) * eps
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", linalg.LinAlgWarning)
            covmean = linalg.sqrtm((s1 + off) @ (s2 + off))
    covmean = np.real(covmean)
    return float(diff @ diff + np.trace(s1) + np.trace(s2) - 2.0 * np.trace(covmean))


def frechet_distance(feat_a: ArrayLike, feat_b: ArrayLike, eps: float = 1e-6) -> float:
    """Frechet distance (FID / FGD) between feature sets ``(N_a, D)`` and ``(N_b, D)``.

    Means and covariances (``np.cov``, unbiased) of each set, then
    :func:`frechet_distance_from_stats`. Units: squared feature units. BEAT2 papers print FGD
    x 10^-1; the value depends entirely on the feature network (motionlab's evaluators are its
    own, so numbers are comparable only within motionlab).
    """
    a = _arr(feat_a, "feat_a", min_ndim=2, min_len=2)
    b = _arr(feat_b, "feat_b", min_ndim=2, min_len=2)
    if a.ndim != 2 or b.ndim != 2 or a.shape[1] != b.shape[1]:
        raise MotionLabError(f"features must be (N, D) with equal D, got {a.shape} and {b.shape}", place="feat_b")
    return frechet_distance_from_stats(a.mean(0), np.cov(a, rowvar=False), b.mean(0), np.cov(b, rowvar=False), eps)


def diversity(feats: ArrayLike, n_pairs: int = 300, seed: int = 0) -> float:
    """Diversity (HumanML3D / T2M protocol): mean Euclidean distance of ``n_pairs`` random pairs.

    ``feats``: ``(N, D)`` evaluator embeddings. Two independent draws of ``n_pairs`` indices without
    replacement (``np.random.default_rng(seed)``) are paired up. The protocol needs ``N >= 300``;
    smaller sets use ``n_pairs = N`` (same expectation, more variance).
    """
    a = _arr(feats, "feats", min_ndim=2, min_len=2)
    a = a.reshape(a.shape[0], -1)
    n = min(int(n_pairs), a.shape[0])
    if n < 1:
        raise MotionLabError(f"n_pairs must be positive, got {n_pairs!r}", place="n_pairs")
    rng = np.random.default_rng(seed)
    i = rng.choice(a.shape[0], n, replace=False)
    j = rng.choice(a.shape[0], n, replace=False)
    return float(np.linalg.norm(a[i] - a[j], axis=1).mean())


def mean_ci95(values: ArrayLike) -> Tuple[float, float]:
    """``(mean, 1.96 * std / sqrt(n))`` over replications (T2M protocol: population std, ddof 0)."""
    v = _arr(values, "values", min_ndim=1).reshape(-1)
    return float(v.mean()), float(1.96 * v.std() / math.sqrt(v.size))


#: Reported names of this topic and whether lower or higher is better (see ``METRIC_DIRECTIONS``).
DIRECTIONS: Dict[str, str] = {
    "frechet_distance": "lower", "fid": "lower", "fgd": "lower", "diversity": "higher",
}
