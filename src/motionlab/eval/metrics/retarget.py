"""Retargeting: joint errors, limit violations, latent domain overlap."""

from __future__ import annotations

from typing import Dict, NamedTuple, Optional, Tuple

import numpy as np

from motionlab.errors import MotionLabError, choices_error
from motionlab.eval.metrics._checks import ArrayLike, _arr, _same_shape
from motionlab.eval.metrics.motion import velocity

__all__ = ['JointError', 'joint_mae', 'joint_rmse', 'normalized_mse', 'Violations', 'limit_violations', 'velocity_limit_violations', 'knn_domain_mixing', 'domain_classifier_accuracy', 'domain_overlap']


class JointError(NamedTuple):
    """A joint-space error: ``overall`` (float) and ``per_joint`` ``(D,)``, in rad."""

    overall: float
    per_joint: np.ndarray


def _joint_pair(pred: ArrayLike, gt: ArrayLike) -> Tuple[np.ndarray, np.ndarray]:
    p = _arr(pred, "pred", min_ndim=1)
    g = _arr(gt, "gt", min_ndim=1)
    _same_shape(g, p, "gt", "pred")
    return p.reshape(-1, p.shape[-1]), g.reshape(-1, g.shape[-1])


def joint_mae(pred: ArrayLike, gt: ArrayLike) -> JointError:
    """Joint-space mean absolute error of ``(..., D)`` joint angles (rad): per joint (mean over
    frames) and overall (mean over frames and joints)."""
    p, g = _joint_pair(pred, gt)
    e = np.abs(p - g)
    return JointError(float(e.mean()), e.mean(axis=0))


def joint_rmse(pred: ArrayLike, gt: ArrayLike) -> JointError:
    """Joint-space root mean squared error of ``(..., D)`` joint angles (rad): per joint
    ``sqrt(mean_t e^2)`` and overall ``sqrt(mean_{t,j} e^2)``."""
    p, g = _joint_pair(pred, gt)
    e2 = (p - g) ** 2
    return JointError(float(np.sqrt(e2.mean())), np.sqrt(e2.mean(axis=0)))


def normalized_mse(pred: ArrayLike, gt: ArrayLike, mean: Optional[ArrayLike] = None,
                   std: Optional[ArrayLike] = None, eps: float = 1e-8) -> float:
    """MSE after z-scoring both inputs with per-dimension statistics.

    ``pred``, ``gt``: ``(..., D)``. ``mean``/``std`` ``(D,)`` are the dataset's normalisation
    statistics (as the human-to-robot VQ-VAE study reports "Recon" robot->robot and "Cross"
    human->robot errors on normalised joint values); by default they are taken from ``gt``, in which
    case the value equals ``mean_d MSE_d / Var_d(gt)``. ``eps`` guards constant dimensions.
    """
    p, g = _joint_pair(pred, gt)
    m = g.mean(axis=0) if mean is None else _arr(mean, "mean", last=p.shape[-1])
    s = g.std(axis=0) if std is None else _arr(std, "std", last=p.shape[-1])
    if (np.asarray(s) < 0).any():
        raise MotionLabError("std must be non-negative", place="std")
    s = np.asarray(s) + eps
    return float(((((p - m) - (g - m)) / s) ** 2).mean())


class Violations(NamedTuple):
    """Limit violations: ``fraction`` of frames (steps) with any joint outside its limit,
    ``max_excess`` (largest excess, rad or rad/s) and ``per_joint`` ``(D,)`` largest excess."""

    fraction: float
    max_excess: float
    per_joint: np.ndarray


def _violations(excess: np.ndarray) -> Violations:
    frames = excess.reshape(-1, excess.shape[-1])
    per = frames.max(axis=0)
    return Violations(float((frames > 0).any(axis=1).mean()), float(per.max()), per)


def limit_violations(q: ArrayLike, lower: ArrayLike, upper: ArrayLike, tol: float = 0.0) -> Violations:
    """Joint-position limit violations of ``(..., D)`` angles (rad) against ``(D,)`` limits.

    A frame violates when any joint lies outside ``[lower - tol, upper + tol]``; the excess is the
    distance beyond that band. For the G1 with its official limits see also
    :func:`motionlab.robots.g1.limit_violations`.
    """
    a = _arr(q, "q", min_ndim=1)
    lo = _arr(lower, "lower", last=a.shape[-1])
    hi = _arr(upper, "upper", last=a.shape[-1])
    if lo.ndim != 1 or hi.ndim != 1:
        raise MotionLabError(f"limits must be (D,), got {lo.shape} and {hi.shape}", place="lower")
    if (lo > hi).any():
        raise MotionLabError(f"lower limit above upper limit at joint {int(np.argmax(lo > hi))}", place="lower")
    return _violations(np.maximum(np.maximum(a - hi, lo - a) - tol, 0.0))


def velocity_limit_violations(q: ArrayLike, fps: float, vel_limits: ArrayLike) -> Violations:
    """Joint-velocity limit violations of ``(T, D)`` angles (rad) at ``fps``.

    Velocity = first forward difference times ``fps`` (rad/s); a step violates when any
    ``|v_j| > vel_limits[j]`` (``(D,)`` or a scalar; the G1's official groups are
    32/20/30/37/22 rad/s). Fraction over the ``T-1`` steps; excess in rad/s.
    """
    a = _arr(q, "q", min_ndim=2, min_len=2)
    if a.ndim != 2:
        raise MotionLabError(f"q must be (T, D), got {a.shape}", place="q")
    lim = np.broadcast_to(_arr(vel_limits, "vel_limits"), (a.shape[-1],)) if np.ndim(vel_limits) == 0 \
        else _arr(vel_limits, "vel_limits", last=a.shape[-1])
    if (lim < 0).any():
        raise MotionLabError("velocity limits must be non-negative", place="vel_limits")
    return _violations(np.maximum(np.abs(velocity(a, fps)) - lim, 0.0))


def _two_domains(a: ArrayLike, b: ArrayLike, seed: int, max_per_domain: Optional[int]):
    x = _arr(a, "latents_a", min_ndim=2, min_len=2)
    y = _arr(b, "latents_b", min_ndim=2, min_len=2)
    x, y = x.reshape(x.shape[0], -1), y.reshape(y.shape[0], -1)
    if x.shape[1] != y.shape[1]:
        raise MotionLabError(f"latent sizes differ: {x.shape[1]} vs {y.shape[1]}", place="latents_b")
    rng = np.random.default_rng(seed)
    n = min(x.shape[0], y.shape[0])
    if max_per_domain is not None:
        n = min(n, int(max_per_domain))
    x = x[rng.choice(x.shape[0], n, replace=False)]
    y = y[rng.choice(y.shape[0], n, replace=False)]
    return np.concatenate([x, y]), np.repeat([0, 1], n)


def knn_domain_mixing(latents_a: ArrayLike, latents_b: ArrayLike, k: int = 10, seed: int = 0,
                      max_per_domain: Optional[int] = 5000) -> float:
    """k-NN domain mixing: mean fraction of each latent's ``k`` nearest neighbours (Euclidean,
    itself excluded) that come from its own domain.

    ``latents_a`` ``(N_a, ...)``, ``latents_b`` ``(N_b, ...)``; both are subsampled (``seed``) to
    the same size ``n`` so that chance is fixed: perfectly mixed domains give ``(n-1)/(2n-1)``
    (~0.5); fully separated ones give 1. Lower is better (more overlap).
    """
    from sklearn.neighbors import NearestNeighbors

    X, lab = _two_domains(latents_a, latents_b, seed, max_per_domain)
    k = int(k)
    if not 1 <= k <= X.shape[0] - 1:
        raise MotionLabError(f"k must be in 1..{X.shape[0] - 1}, got {k}", place="k")
    nn = NearestNeighbors(n_neighbors=k + 1).fit(X)
    _, idx = nn.kneighbors(X)
    # drop the point itself (first column unless duplicates tie with it)
    own = np.arange(X.shape[0])[:, None]
    keep = np.where((idx == own).any(axis=1)[:, None], idx != own, np.arange(k + 1)[None] < k)
    neigh = idx[keep].reshape(X.shape[0], k)
    return float((lab[neigh] == lab[:, None]).mean())


def domain_classifier_accuracy(latents_a: ArrayLike, latents_b: ArrayLike, folds: int = 5, seed: int = 0,
                               max_per_domain: Optional[int] = 5000) -> float:
    """Cross-validated accuracy of a logistic-regression domain classifier on the latents.

    Both domains are subsampled to the same size (``seed``), the features standardised, and a
    ``folds``-fold stratified cross-validated ``LogisticRegression`` predicts the domain. 0.5 =
    the domains overlap perfectly (indistinguishable), 1.0 = linearly separable. Lower is better.
    """
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import StratifiedKFold, cross_val_score
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    X, lab = _two_domains(latents_a, latents_b, seed, max_per_domain)
    folds = int(folds)
    if not 2 <= folds <= X.shape[0] // 2:
        raise MotionLabError(f"folds must be in 2..{X.shape[0] // 2}, got {folds}", place="folds")
    clf = make_pipeline(StandardScaler(), LogisticRegression(max_iter=1000))
    cv = StratifiedKFold(n_splits=folds, shuffle=True, random_state=seed)
    return float(cross_val_score(clf, X, lab, cv=cv, scoring="accuracy").mean())


def domain_overlap(latents_a: ArrayLike, latents_b: ArrayLike, method: str = "classifier", **kwargs) -> float:
    """Domain overlap of two latent sets on a 0.5 (perfect overlap) .. 1.0 (separate) scale.

    ``method="classifier"``: :func:`domain_classifier_accuracy`; ``method="knn"``:
    :func:`knn_domain_mixing`. The two are different numbers; name the method in tables.
    """
    if method == "classifier":
        return domain_classifier_accuracy(latents_a, latents_b, **kwargs)
    if method == "knn":
        return knn_domain_mixing(latents_a, latents_b, **kwargs)
    raise choices_error("domain overlap method", method, ("classifier", "knn"), place="method")


#: Reported names of this topic and whether lower or higher is better (see ``METRIC_DIRECTIONS``).
DIRECTIONS: Dict[str, str] = {
    "joint_mae": "lower", "joint_rmse": "lower", "normalized_mse": "lower",
    "limit_violations": "lower", "velocity_limit_violations": "lower", "latent_mse": "lower",
    "knn_domain_mixing": "lower", "domain_classifier_accuracy": "lower", "domain_overlap": "lower",
    "domain_separability": "lower", "fps": "higher",
}
