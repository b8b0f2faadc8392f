"""Text encoders: one interface, offline, deterministic where promised, cached, vocabulary in the checkpoint."""

from __future__ import annotations

import pytest
import torch

from motionlab.errors import MotionLabError
from motionlab.nn.text import BuiltinTextEncoder, HashTextEncoder, build_text_encoder, word_hash, words


def test_words_and_hash_are_stable():
    assert words("A person walks, then turns LEFT!") == ["a", "person", "walks", "then", "turns", "left"]
    assert word_hash("walks") == word_hash("walks") != word_hash("runs")


def test_hash_encoder_is_deterministic_and_discriminative():
    a, b = HashTextEncoder(32), HashTextEncoder(32)
    ea = a.encode(["a person walks forward", "a person runs forward", "a person walks forward"])
    eb = b.encode(["a person walks forward"])
    assert ea.tokens.shape == (3, 4, 32) and ea.mask.all()
    torch.testing.assert_close(ea.pooled[0], eb.pooled[0])
    torch.testing.assert_close(ea.pooled[0], ea.pooled[2])
    assert (ea.pooled[0] - ea.pooled[1]).norm() > 0.1
    assert len(list(a.parameters())) == 0
    a.encode(["a person walks forward"])
    assert a._cache.hits >= 1  # a repeated prompt comes from the cache


def test_builtin_encoder_vocabulary_lives_in_the_checkpoint():
    enc = BuiltinTextEncoder(dim=32, vocab_size=16, layers=1, heads=4)
    n = enc.set_vocabulary(["a person walks forward", "a person runs", "a person walks in a curve"])
    assert n == 7 and enc.vocabulary_words == 7  # a person walks forward runs in curve
    ids, mask = enc.token_ids(["a person flies"])
    assert ids[0, 0] == 2 and ids[0, -1] == 1  # summary token first, unknown word -> <unk>
    fresh = BuiltinTextEncoder(dim=32, vocab_size=16, layers=1, heads=4)
    fresh.load_state_dict(enc.state_dict())
    torch.testing.assert_close(fresh.token_ids(["a person runs"])[0], enc.token_ids(["a person runs"])[0])
    enc.eval()
    fresh.eval()
    with torch.no_grad():
        torch.testing.assert_close(enc.encode(["a person runs"]).pooled, fresh.encode(["a person runs"]).pooled)
    # trainable: gradients reach the embeddings in training mode, nothing is cached then
    enc.train()
    pooled = enc.encode(["a person runs"]).pooled
    (pooled * torch.linspace(-1, 1, pooled.shape[-1])).sum().backward()  # (a plain sum of a LayerNorm output is 0)
    assert enc.embed.weight.grad is not None and enc.embed.weight.grad.abs().sum() > 0
    assert len(enc._cache.items) == 0


def test_pretrained_needs_a_local_folder(tmp_path):
    with pytest.raises(MotionLabError, match="never downloaded"):
        build_text_encoder("pretrained", path=str(tmp_path / "missing"))
    with pytest.raises(MotionLabError, match="valid choices"):
        build_text_encoder("gpt")
