"""How well a ``t2m_evaluator`` run matches held-out motion to its caption (its own report card).

R-precision top-1/2/3 (batches of 32, or one batch of every held-out window when there are fewer) and
MM-Dist of the real held-out pairs, next to chance (``k / batch``) and to a baseline that pairs each
window with the caption of a random other window (``baseline_shuffled_*``), plus the diversity of the
motion embeddings. An evaluator that cannot tell held-out captions apart makes every t2m number
meaningless, so look here first.
"""

from __future__ import annotations

from typing import Any, Dict

import numpy as np

from motionlab.eval.metrics import diversity, multimodal_distance, r_precision


def evaluate(run_dir, split: str = "") -> Dict[str, Any]:
    from motionlab.eval.learned import LearnedEvaluator
    from motionlab.recipes.t2m.data import CaptionData

    ev = LearnedEvaluator(run_dir, stream="humanml3d")
    data = CaptionData(ev.run.cfg.data)
    split = split or data.held_out_split()
    ds = data.dataset(split, random_caption=False)
    N = len(ds)
    W = ev.run.cfg.data.window
    lengths = np.array([int(ds.index[i][2]) for i in range(N)])
    real = np.zeros((N, W, ev.feature_dim), np.float32)
    for i in range(N):
        x = ds.raw(i)
        real[i, :len(x)], real[i, len(x):] = x, x[-1]
    texts = [ds.caption(i, 0) for i in range(N)]
    mf, tf = ev.motion_features(real, lengths), ev.text_features(texts)
    batch = min(32, N)
    order = np.random.default_rng(0).permutation(N)
    rp = r_precision(tf[order], mf[order], 3, batch)
    shuffled = np.random.default_rng(1).permutation(N)
    rs = r_precision(tf[shuffled][order], mf[order], 3, batch)
    out: Dict[str, Any] = {"split": split, "held_out_windows": N, "r_precision_batch": batch,
                           "distinct_captions": len(set(texts))}
    for k in range(3):
        out[f"r_precision_top{k + 1}"] = float(rp[k])
        out[f"r_precision_top{k + 1}_chance"] = (k + 1) / batch
        out[f"baseline_shuffled_r_precision_top{k + 1}"] = float(rs[k])
    out["mm_dist"] = multimodal_distance(tf, mf)
    out["baseline_shuffled_mm_dist"] = multimodal_distance(tf[shuffled], mf)
    out["diversity"] = diversity(mf, 300)
    return out
