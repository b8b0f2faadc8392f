"""Text encoders behind one interface, all offline.

Every encoder is an ``nn.Module`` with ``dim`` (features per token) and ``encode(texts)`` returning a
:class:`TextEmbedding`: per-token features ``(B, L, dim)``, a validity mask ``(B, L)`` and one pooled
vector ``(B, dim)`` per text. Three kinds (:func:`build_text_encoder`):

* ``"builtin"`` - trainable: a word vocabulary built from the training captions
  (:meth:`BuiltinTextEncoder.set_vocabulary`) and a small transformer; the pooled vector is the output
  at a leading summary token. The vocabulary is kept as a buffer of word hashes, so it lives in the
  checkpoint and the module's shapes follow from the config alone.
* ``"hash"`` - deterministic and weight-free (for tests and baselines): every word maps to a fixed
  pseudo-random unit vector seeded by its CRC-32; the pooled vector is the normalised mean.
* ``"pretrained"`` - any local sentence-transformers or CLIP text model given by a folder path,
  frozen; imported only when used and only if installed, loaded with ``local_files_only`` (never
  downloaded).

Frozen encoders cache the embeddings of repeated texts; the trainable one caches in eval mode only
(the cache is dropped whenever the module switches mode or its vocabulary changes).
"""

from __future__ import annotations

import re
import zlib
from collections import Counter, OrderedDict
from dataclasses import dataclass
from pathlib import Path
from typing import Dict, List, Optional, Sequence, Tuple

import torch
from torch import nn

from motionlab.errors import MotionLabError, choices_error

_WORD = re.compile(r"[a-z0-9']+")
PAD, UNK, SUMMARY = 0, 1, 2
RESERVED = 3


def words(text: str) -> List[str]:
    """Lower-case word tokens of ``text`` (letters, digits, apostrophes)."""
    return _WORD.findall(text.lower())


def word_hash(word: str) -> int:
    """Stable 31-bit hash of a word (CRC-32; never 0, which marks an empty vocabulary slot)."""
    return (zlib.crc32(word.encode("utf-8")) & 0x7FFFFFFF) or 1


@dataclass
class TextEmbedding:
    """``tokens (B, L, D)``, ``mask (B, L)`` (True = real token) and ``pooled (B, D)``."""

    tokens: torch.Tensor
    mask: torch.Tensor
    pooled: torch.Tensor

    def index(self, idx) -> "TextEmbedding":
        return TextEmbedding(self.tokens[idx], self.mask[idx], self.pooled[idx])


class _Cache:
    """A small LRU of per-text embeddings ``(tokens (L, D), pooled (D,))``."""

    def __init__(self, size: int = 4096) -> None:
        self.size = int(size)
        self.items: "OrderedDict[str, Tuple[torch.Tensor, torch.Tensor]]" = OrderedDict()
        self.hits = 0

    def clear(self) -> None:
        self.items.clear()

    def get(self, text: str):
        v = self.items.get(text)
        if v is not None:
            self.items.move_to_end(text)
            self.hits += 1
        return v

    def put(self, text: str, tokens: torch.Tensor, pooled: torch.Tensor) -> None:
        if self.size <= 0:
            return
        self.items[text] = (tokens.detach(), pooled.detach())
        if len(self.items) > self.size:
            self.items.popitem(last=False)


def _stack(per_text: List[Tuple[torch.Tensor, torch.Tensor]]) -> TextEmbedding:
    L = max(1, max(t.shape[0] for t, _ in per_text))
    D = per_text[0][1].shape[-1]
    ref = per_text[0][1]
    tokens = ref.new_zeros(len(per_text), L, D)
    mask = torch.zeros(len(per_text), L, dtype=torch.bool, device=ref.device)
    for i, (t, _) in enumerate(per_text):
        tokens[i, :t.shape[0]] = t
        mask[i, :t.shape[0]] = True
    return TextEmbedding(tokens, mask, torch.stack([p for _, p in per_text]))


class TextEncoder(nn.Module):
    """Base: ``encode(texts) -> TextEmbedding`` with a per-text cache; subclasses implement ``_encode``."""

    dim: int
    trainable: bool = False

    def __init__(self, cache_size: int = 4096) -> None:
        super().__init__()
        self._cache = _Cache(cache_size)

    def _encode(self, texts: List[str]) -> TextEmbedding:  # pragma: no cover - abstract
        raise NotImplementedError

    def train(self, mode: bool = True):
        self._cache.clear()
        return super().train(mode)

    def _cacheable(self) -> bool:
        return not self.trainable or (not self.training and not torch.is_grad_enabled())

    def encode(self, texts: Sequence[str]) -> TextEmbedding:
        texts = [str(t) for t in texts]
        if not texts:
            raise MotionLabError("no texts to encode", place="texts")
        if not self._cacheable():
            return self._encode(texts)
        found = {t: self._cache.get(t) for t in dict.fromkeys(texts)}
        missing = [t for t, v in found.items() if v is None]
        if missing:
            emb = self._encode(missing)
            for i, t in enumerate(missing):
                n = int(emb.mask[i].sum())
                found[t] = (emb.tokens[i, :n], emb.pooled[i])
                self._cache.put(t, *found[t])
        return _stack([found[t] for t in texts])

    def forward(self, texts: Sequence[str]) -> TextEmbedding:
        return self.encode(texts)


class HashTextEncoder(TextEncoder):
    """Weight-free and deterministic: word ``w`` -> a unit vector drawn from ``N(0, I)`` seeded by
    ``word_hash(w)``; pooled = normalised mean of the words (``dim`` features)."""

    def __init__(self, dim: int = 64, max_words: int = 32, cache_size: int = 4096) -> None:
        super().__init__(cache_size)
        self.dim, self.max_words = int(dim), int(max_words)
        self.register_buffer("_device_probe", torch.zeros(0), persistent=False)

    def word_vector(self, word: str) -> torch.Tensor:
        g = torch.Generator().manual_seed(word_hash(word))
        v = torch.randn(self.dim, generator=g)
        return v / v.norm()

    def _encode(self, texts: List[str]) -> TextEmbedding:
        out = []
        dev = self._device_probe.device
        for t in texts:
            w = words(t)[:self.max_words] or ["<empty>"]
            tok = torch.stack([self.word_vector(x) for x in w]).to(dev)
            pooled = tok.mean(0)
            out.append((tok, pooled / pooled.norm().clamp_min(1e-8)))
        return _stack(out)


class BuiltinTextEncoder(TextEncoder):
    """Trainable: word embeddings over a vocabulary of the training captions, a summary token, learned
    positions and a small pre-norm transformer (``dim`` wide). Words outside the vocabulary map to
    ``<unk>``; texts are cut at ``max_words``. Call :meth:`set_vocabulary` with the training captions
    before training (slots beyond the words seen stay unused)."""

    trainable = True

    def __init__(self, dim: int = 128, vocab_size: int = 1024, layers: int = 2, heads: int = 4,
                 max_words: int = 32, dropout: float = 0.1, cache_size: int = 4096) -> None:
        super().__init__(cache_size)
        if vocab_size <= RESERVED:
            raise MotionLabError(f"vocab_size must exceed {RESERVED}, got {vocab_size}", place="vocab_size")
        self.dim, self.vocab_size, self.max_words = int(dim), int(vocab_size), int(max_words)
        self.register_buffer("vocab_hash", torch.zeros(vocab_size, dtype=torch.long))
        self.embed = nn.Embedding(vocab_size, dim, padding_idx=PAD)
        self.pos = nn.Parameter(torch.randn(max_words + 1, dim) * 0.02)
        layer = nn.TransformerEncoderLayer(dim, heads, dim * 2, dropout, batch_first=True, norm_first=True)
        self.encoder = nn.TransformerEncoder(layer, layers, enable_nested_tensor=False)
        self.norm = nn.LayerNorm(dim)
        self._lookup: Optional[Dict[int, int]] = None

    def set_vocabulary(self, captions: Sequence[str]) -> int:
        """Fill the vocabulary with the words of ``captions``, most frequent first (ties alphabetical),
        as many as fit; returns the number of words kept."""
        counts = Counter(w for c in captions for w in words(c))
        ranked = sorted(counts, key=lambda w: (-counts[w], w))[:self.vocab_size - RESERVED]
        h = torch.zeros(self.vocab_size, dtype=torch.long)
        h[RESERVED:RESERVED + len(ranked)] = torch.tensor([word_hash(w) for w in ranked], dtype=torch.long)
        self.vocab_hash.copy_(h.to(self.vocab_hash.device))
        self._lookup = None
        self._cache.clear()
        return len(ranked)

    @property
    def vocabulary_words(self) -> int:
        return int((self.vocab_hash[RESERVED:] != 0).sum())

    def _load_from_state_dict(self, *args, **kwargs):
        self._lookup = None
        self._cache.clear()
        return super()._load_from_state_dict(*args, **kwargs)

    def token_ids(self, texts: Sequence[str]) -> Tuple[torch.Tensor, torch.Tensor]:
        """``(ids (B, L), mask (B, L))`` with the summary token first."""
        if self._lookup is None:
            hv = self.vocab_hash.tolist()
            self._lookup = {h: i for i, h in enumerate(hv) if h and i >= RESERVED}
        rows = [[SUMMARY] + [self._lookup.get(word_hash(w), UNK) for w in words(t)[:self.max_words]] for t in texts]
        L = max(len(r) for r in rows)
        ids = torch.zeros(len(rows), L, dtype=torch.long)
        for i, r in enumerate(rows):
            ids[i, :len(r)] = torch.tensor(r)
        dev = self.vocab_hash.device
        return ids.to(dev), (ids != PAD).to(dev)

    def _encode(self, texts: List[str]) -> TextEmbedding:
        ids, mask = self.token_ids(texts)
        x = self.embed(ids) + self.pos[:ids.shape[1]]
        x = self.norm(self.encoder(x, src_key_padding_mask=~mask))
        return TextEmbedding(x[:, 1:], mask[:, 1:], x[:, 0])


def _is_sentence_transformers(path: Path) -> bool:
    return (path / "modules.json").is_file() or (path / "config_sentence_transformers.json").is_file()


class PretrainedTextEncoder(TextEncoder):
    """A frozen local model: sentence-transformers (folder with ``modules.json``) or a CLIP text model
    (a ``transformers`` folder with a CLIP config). Never downloads: a folder that is missing or a library
    that is not installed is a clear error. Tokens are the last hidden states (CLIP) or the token
    embeddings (sentence-transformers); pooled is the model's sentence/pooled embedding."""

    def __init__(self, path: str, max_words: int = 77, cache_size: int = 4096) -> None:
        super().__init__(cache_size)
        self.path = Path(path)
        if not self.path.is_dir():
            raise MotionLabError("text model folder not found (models are never downloaded; give a local "
                                 "sentence-transformers or CLIP folder)", file=self.path)
        self.max_words = int(max_words)
        self.register_buffer("_device_probe", torch.zeros(0), persistent=False)
        if _is_sentence_transformers(self.path):
            try:
                from sentence_transformers import SentenceTransformer
            except ImportError:
                raise MotionLabError("sentence-transformers is not installed (pip install sentence-transformers)",
                                     file=self.path) from None
            self.kind = "sentence-transformers"
            self._model = SentenceTransformer(str(self.path), device="cpu", local_files_only=True)
            self.dim = int(self._model.get_sentence_embedding_dimension())
        else:
            try:
                from transformers import CLIPTextModel, CLIPTokenizer
            except ImportError:
                raise MotionLabError("transformers is not installed (pip install transformers)", file=self.path) from None
            self.kind = "clip"
            self._tok = CLIPTokenizer.from_pretrained(str(self.path), local_files_only=True)
            self._model = CLIPTextModel.from_pretrained(str(self.path), local_files_only=True)
            self.dim = int(self._model.config.hidden_size)
        for p in self._model.parameters():
            p.requires_grad_(False)
        self._model.eval()

    def train(self, mode: bool = True):
        super().train(mode)
        self._model.eval()  # frozen: no dropout
        return self

    def state_dict(self, *args, **kwargs):  # the weights stay in their own folder
        return {}

    def _load_from_state_dict(self, *args, **kwargs):
        return None

    @torch.no_grad()
    def _encode(self, texts: List[str]) -> TextEmbedding:
        dev = self._device_probe.device
        if self.kind == "clip":
            enc = self._tok(texts, padding=True, truncation=True, max_length=self.max_words, return_tensors="pt")
            out = self._model(**enc)
            return TextEmbedding(out.last_hidden_state.to(dev), enc["attention_mask"].bool().to(dev),
                                 out.pooler_output.to(dev))
        out = self._model.encode(texts, output_value=None, convert_to_numpy=False)
        per = [(o["token_embeddings"].float(), o["sentence_embedding"].float()) for o in out]
        emb = _stack(per)
        return TextEmbedding(emb.tokens.to(dev), emb.mask.to(dev), emb.pooled.to(dev))


TEXT_ENCODERS = ("builtin", "hash", "pretrained")


def build_text_encoder(kind: str = "builtin", dim: int = 128, path: str = "", **kwargs) -> TextEncoder:
    """A text encoder by kind (:data:`TEXT_ENCODERS`): ``builtin`` (``dim``, ``vocab_size``, ``layers``,
    ``heads``, ``max_words``), ``hash`` (``dim``) or ``pretrained`` (``path`` to a local model folder)."""
    if kind == "builtin":
        return BuiltinTextEncoder(dim=dim, **kwargs)
    if kind == "hash":
        return HashTextEncoder(dim=dim, **{k: v for k, v in kwargs.items() if k in ("max_words",)})
    if kind == "pretrained":
        if not path:
            raise MotionLabError("text encoder 'pretrained' needs a local model folder", place="text.path")
        return PretrainedTextEncoder(path, **{k: v for k, v in kwargs.items() if k in ("max_words",)})
    raise choices_error("text encoder", kind, TEXT_ENCODERS, place="text.kind")
