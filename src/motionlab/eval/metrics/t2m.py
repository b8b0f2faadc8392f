"""Text-to-motion: retrieval (R-precision, multimodal distance), MModality, and weight-free kinetic /
geometric motion features with bone-length stability for a Frechet distance without a learned evaluator."""

from __future__ import annotations

from typing import Dict, Sequence, Tuple

import numpy as np

from motionlab.errors import MotionLabError
from motionlab.eval.metrics._checks import ArrayLike, _arr

__all__ = ['r_precision', 'multimodal_distance', 'multimodality', 'kinetic_features', 'geometric_features',
           'bone_length_std', 'hip_heading', 'speed_and_turn']


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


def multimodality(emb: ArrayLike, n_pairs: int = 10, seed: int = 0) -> float:
    """MModality: ``emb (C, K, D)`` holds ``K`` embeddings of motions generated for each of ``C`` texts;
    for every text, ``n_pairs`` random pairs of its own ``K`` motions (without replacement of the pair
    list, as the T2M protocol draws two index lists of ``n_pairs``) give their mean Euclidean distance;
    the result is the mean over texts. Higher means more varied motions for one text."""
    e = _arr(emb, "emb", min_ndim=3)
    if e.ndim != 3 or e.shape[1] < 2:
        raise MotionLabError(f"emb must be (texts, K >= 2, D), got {e.shape}", place="emb")
    rng = np.random.default_rng(seed)
    K = e.shape[1]
    n = min(int(n_pairs), K)
    a = np.stack([rng.choice(K, n, replace=False) for _ in range(e.shape[0])])
    b = np.stack([rng.choice(K, n, replace=False) for _ in range(e.shape[0])])
    same = a == b
    b[same] = (b[same] + 1) % K
    rows = np.arange(e.shape[0])[:, None]
    return float(np.linalg.norm(e[rows, a] - e[rows, b], axis=-1).mean())


def _positions(positions: ArrayLike) -> np.ndarray:
    p = _arr(positions, "positions", min_ndim=3, last=3)
    if p.ndim != 3 or p.shape[0] < 3:
        raise MotionLabError(f"positions must be (T >= 3, J, 3), got {p.shape}", place="positions")
    return p


def kinetic_features(positions: ArrayLike, fps: float) -> np.ndarray:
    """``(3 J,)`` AIST++-style kinetic features of joint positions ``(T, J, 3)`` (m, Z up): per joint the
    mean horizontal kinetic energy ``|v_xy|^2 / 2``, the mean vertical one ``v_z^2 / 2`` (m^2/s^2, unit
    mass) and the mean energy expenditure ``|a| |v|`` (m^2/s^3); central differences."""
    p = _positions(positions)
    v = np.gradient(p, axis=0) * fps
    a = np.gradient(v, axis=0) * fps
    kh = 0.5 * (v[..., :2] ** 2).sum(-1).mean(0)
    kv = 0.5 * (v[..., 2] ** 2).mean(0)
    ee = (np.linalg.norm(a, axis=-1) * np.linalg.norm(v, axis=-1)).mean(0)
    return np.concatenate([kh, kv, ee])


# SMPL-22 joint pairs whose distances describe a pose: hands to each other, head, hips; feet apart;
# hands and feet to the pelvis; elbows and knees (indices of motionlab.core.body.SMPL22_NAMES)
_GEOM_PAIRS = ((20, 21), (20, 15), (21, 15), (20, 1), (21, 2), (10, 11), (7, 8), (4, 5), (18, 19), (20, 0),
               (21, 0), (10, 0), (11, 0), (15, 0))


def hip_heading(positions: ArrayLike) -> np.ndarray:
    """``(T,)`` unwrapped heading (rad, left = counter-clockwise positive, 0 = facing +X) of SMPL-22 positions
    ``(T, 22, 3)`` (m, Z up): the ground direction perpendicular to the hip line (joint 1 left hip -> joint 2
    right hip, rotated by +90 deg)."""
    p = _positions(positions)
    if p.shape[1] < 3:
        raise MotionLabError(f"heading needs the SMPL hips (joints 1 and 2), got {p.shape[1]} joints",
                             place="positions")
    across = p[:, 2, :2] - p[:, 1, :2]  # left hip -> right hip
    return np.unwrap(np.arctan2(across[:, 0], -across[:, 1]))


def speed_and_turn(positions: ArrayLike, fps: float) -> Tuple[float, float]:
    """``(speed, turn)`` of SMPL-22 positions ``(T, 22, 3)`` (m, Z up): the pelvis's mean ground speed (m/s,
    from frame-to-frame differences) and the heading change from start to end (deg, left positive; the mean
    heading of the last tenth of the frames minus that of the first tenth, at least one frame each), what a
    prompt about walking, running, standing or turning changes."""
    p = _positions(positions)
    speed = float(np.linalg.norm(np.diff(p[:, 0, :2], axis=0), axis=-1).mean() * fps)
    h = hip_heading(p)
    k = max(1, len(p) // 10)
    return speed, float(np.degrees(h[-k:].mean() - h[:k].mean()))


def geometric_features(positions: ArrayLike, fps: float) -> np.ndarray:
    """``(2 * 14 + 8,)`` hand-crafted geometric features of SMPL-22 positions ``(T, 22, 3)`` (m, Z up):
    mean and std over time of 14 joint-pair distances; mean and std of the pelvis height, of its
    horizontal speed (m/s), of the signed heading rate (rad/s, left positive; the heading is the
    ground direction perpendicular to the hip line) and of the height of the lower foot above its minimum."""
    p = _positions(positions)
    if p.shape[1] != 22:
        raise MotionLabError(f"geometric features need the 22 SMPL joints, got {p.shape[1]}", place="positions")
    d = np.stack([np.linalg.norm(p[:, i] - p[:, j], axis=-1) for i, j in _GEOM_PAIRS], 1)
    rate = np.gradient(hip_heading(p)) * fps
    speed = np.linalg.norm(np.gradient(p[:, 0, :2], axis=0), axis=-1) * fps
    foot = p[:, [10, 11], 2].min(1)
    foot = foot - foot.min()
    parts = [d.mean(0), d.std(0)]
    for x in (p[:, 0, 2], speed, rate, foot):
        parts.append(np.array([x.mean(), x.std()]))
    return np.concatenate(parts)


def bone_length_std(positions: ArrayLike, parents: Sequence[int]) -> float:
    """Mean over bones of the standard deviation over time of the bone's length (m), for positions
    ``(T, J, 3)`` or a batch ``(B, T, J, 3)`` (per clip, then averaged). 0 for a rigid skeleton; a
    generator whose bones stretch shows it here."""
    p = _arr(positions, "positions", min_ndim=3, last=3)
    b = p if p.ndim == 4 else p[None]
    par = np.asarray(parents)
    child = np.nonzero(par >= 0)[0]
    if b.shape[2] != len(par):
        raise MotionLabError(f"positions have {b.shape[2]} joints, parents {len(par)}", place="parents")
    lengths = np.linalg.norm(b[:, :, child] - b[:, :, par[child]], axis=-1)  # (B, T, bones)
    return float(lengths.std(axis=1).mean())


#: Reported names of this topic and whether lower or higher is better (see ``METRIC_DIRECTIONS``).
DIRECTIONS: Dict[str, str] = {
    "r_precision": "higher", "r_precision_top1": "higher", "r_precision_top2": "higher",
    "r_precision_top3": "higher", "multimodal_distance": "lower", "mm_dist": "lower", "multimodality": "higher",
    "fid_kinetic": "lower", "fid_geometric": "lower", "bone_length_std_mm": "lower",
}
