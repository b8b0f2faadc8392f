"""The text-motion evaluator: a motion encoder and a text encoder meeting in one unit-norm space.

``encode_motion(x (B, T, 263), lengths=None) -> (B, D)`` embeds normalised feature windows (``lengths``
masks padded frames; ``None``: every frame is valid); ``encode_text(texts) -> (B, D)``. Both outputs have
unit length, so Euclidean distances (R-precision, MM-Dist) order pairs as cosine similarity does. This is
the plain model that :class:`motionlab.eval.learned.LearnedEvaluator` wraps.
"""

from __future__ import annotations

from typing import Dict, Optional, Sequence

import torch
import torch.nn.functional as Fn
from torch import nn

from motionlab.io import humanml3d as hml
from motionlab.nn.text import build_text_encoder
from motionlab.recipes.t2m.model import sinusoidal


class TextMotionEvaluator(nn.Module):
    """Motion: patches of ``patch`` frames -> a pre-norm transformer -> masked mean -> linear; text: the
    built-in (or hash / local pretrained) text encoder's pooled vector -> a two-layer MLP."""

    def __init__(self, feature_dim: int = hml.FEATURE_DIM, dim: int = 256, layers: int = 2, heads: int = 4,
                 patch: int = 4, embed_dim: int = 256, dropout: float = 0.1, text: Optional[dict] = None) -> None:
        super().__init__()
        text = dict(text or {})
        self.text = build_text_encoder(text.pop("kind", "builtin"), **text)
        self.feature_dim, self.dim, self.patch = int(feature_dim), int(dim), int(patch)
        self.inp = nn.Linear(feature_dim * patch, dim)
        layer = nn.TransformerEncoderLayer(dim, heads, dim * 2, dropout, batch_first=True, norm_first=True)
        self.encoder = nn.TransformerEncoder(layer, layers, enable_nested_tensor=False)
        self.motion_head = nn.Sequential(nn.LayerNorm(dim), nn.Linear(dim, embed_dim))
        self.text_head = nn.Sequential(nn.Linear(self.text.dim, dim), nn.GELU(), nn.Linear(dim, embed_dim))

    def encode_motion(self, x: torch.Tensor, lengths: Optional[torch.Tensor] = None) -> torch.Tensor:
        dev = next(self.parameters()).device
        x = torch.as_tensor(x, dtype=torch.float32, device=dev)
        B, T, F = x.shape
        lengths = torch.full((B,), T, device=dev) if lengths is None else torch.as_tensor(lengths, device=dev)
        mask = torch.arange(T, device=dev)[None] < lengths[:, None]
        x = x * mask[..., None]
        P = self.patch
        pad = (-T) % P
        if pad:
            x = torch.cat([x, x.new_zeros(B, pad, F)], 1)
            mask = torch.cat([mask, mask.new_zeros(B, pad)], 1)
        n = x.shape[1] // P
        pm = mask.reshape(B, n, P).any(-1)
        h = self.inp(x.reshape(B, n, P * F)) + sinusoidal(torch.arange(n, device=dev) * P, self.dim)
        h = self.encoder(h, src_key_padding_mask=~pm)
        w = pm.float()[..., None]
        pooled = (h * w).sum(1) / w.sum(1).clamp_min(1.0)
        return Fn.normalize(self.motion_head(pooled), dim=-1)

    def encode_text(self, texts: Sequence[str]) -> torch.Tensor:
        emb = self.text.encode(list(texts))
        return Fn.normalize(self.text_head(emb.pooled), dim=-1)

    def contrastive_loss(self, motion: torch.Tensor, lengths: torch.Tensor, texts: Sequence[str],
                         temperature: float = 0.1) -> Dict[str, torch.Tensor]:
        """Symmetric InfoNCE; windows sharing a caption count as positives of each other. Also returns
        the in-batch top-1 retrieval accuracy (text -> motion)."""
        m = self.encode_motion(motion, lengths)
        t = self.encode_text(texts)
        logits = t @ m.T / temperature
        ids = {s: i for i, s in enumerate(dict.fromkeys(texts))}
        lab = torch.tensor([ids[s] for s in texts], device=logits.device)
        pos = (lab[:, None] == lab[None]).float()
        target = pos / pos.sum(1, keepdim=True)
        loss = 0.5 * (-(target * logits.log_softmax(1)).sum(1).mean() - (target * logits.log_softmax(0).T).sum(1).mean())
        with torch.no_grad():
            acc = pos[torch.arange(len(lab)), logits.argmax(1)].mean()
        return {"loss": loss, "top1": acc}


def build_evaluator(cfg) -> TextMotionEvaluator:
    """The :class:`TextMotionEvaluator` of a :class:`~motionlab.recipes.t2m_evaluator.config.T2MEvaluatorConfig`."""
    m, tc = cfg.model, cfg.model.text
    text = {"kind": tc.kind, "dim": tc.dim, "max_words": tc.max_words}
    if tc.kind == "builtin":
        text.update(vocab_size=tc.vocab_size, layers=tc.layers, heads=tc.heads, dropout=tc.dropout)
    if tc.kind == "pretrained":
        text["path"] = tc.path
    return TextMotionEvaluator(hml.FEATURE_DIM, m.dim, m.layers, m.heads, m.patch, m.embed_dim, m.dropout, text)
