"""Contract and learning tests for motionlab.nn quantizers and the motion VQ-VAE."""

from __future__ import annotations

import math

import pytest
import torch

from motionlab.errors import MotionLabError
from motionlab.nn.quantizers import QUANTIZERS, RECOMMENDED_LEVELS, Quantizer, QuantizerOutput
from motionlab.nn.registry import build_quantizer
from motionlab.nn.vqvae import MotionVQVAE

DIM = 16
# small configurations used throughout; every name in the registry must appear here
SMALL = {
    "vq": dict(codebook_size=64),
    "ema": dict(codebook_size=64),
    "rvq": dict(num_quantizers=3, codebook_size=64),
    "fsq": dict(levels=[8, 6, 5]),
    "lfq": dict(codebook_size=256),
    "hybrid": dict(levels=[8, 6, 5], num_quantizers=2, codebook_size=64),
}
MULTI = {"rvq": 3, "hybrid": 3}


def _make(name: str, dim: int = DIM, **extra) -> Quantizer:
    torch.manual_seed(0)
    return build_quantizer(name, dim, **{**SMALL[name], **extra})


def _warm(q: Quantizer, dim: int = DIM) -> None:
    """One training-mode pass on enough vectors for k-means initialisation."""
    q.train()
    q(torch.randn(8, 64, dim, generator=torch.Generator().manual_seed(1)))


def test_registry_names_cover_all():
    assert set(SMALL) == set(QUANTIZERS) == {"vq", "ema", "rvq", "fsq", "lfq", "hybrid"}


@pytest.mark.parametrize("name", sorted(SMALL))
def test_output_contract(name):
    q = _make(name)
    _warm(q)
    z = torch.randn(3, 10, DIM)
    out = q(z)
    assert isinstance(out, QuantizerOutput)
    assert out.z_q.shape == (3, 10, DIM)
    levels = MULTI.get(name)
    assert out.indices.shape == ((3, 10, levels) if levels else (3, 10))
    assert out.indices.dtype == torch.long
    assert q.num_levels == (levels or 1) == len(q.codebook_sizes)
    assert out.loss.ndim == 0 and torch.isfinite(out.loss)
    for key, value in out.stats.items():
        assert value.ndim == 0 and not value.requires_grad, key
    assert "quant_error" in out.stats
    # indices lie inside each level's codebook
    flat = out.indices.reshape(-1, q.num_levels)
    for level, size in enumerate(q.codebook_sizes):
        assert 0 <= int(flat[:, level].min()) and int(flat[:, level].max()) < size


@pytest.mark.parametrize("name", sorted(SMALL))
def test_eval_decode_reproduces_forward(name):
    q = _make(name)
    _warm(q)
    q.eval()
    z = torch.randn(2, 12, DIM)
    out = q(z)
    torch.testing.assert_close(q.decode_indices(out.indices), out.z_q, atol=1e-5, rtol=1e-5)
    assert float(out.loss) == 0.0  # auxiliary losses are training-mode only


@pytest.mark.parametrize("name", ["vq", "ema"])
def test_single_level_decoded_codes_are_fixed_points(name):
    # quantizing the vector of a code returns that same vector (eval mode; FSQ/LFQ below)
    q = _make(name)
    _warm(q)
    q.eval()
    idx = torch.arange(q.codebook_size)[None, :]
    codes = q.decode_indices(idx)
    torch.testing.assert_close(q(codes).z_q, codes, atol=1e-5, rtol=1e-5)


@pytest.mark.parametrize("name", sorted(SMALL))
def test_gradients_reach_input(name):
    q = _make(name)
    _warm(q)
    z = torch.randn(2, 8, DIM, requires_grad=True)
    out = q(z)
    (out.z_q * torch.randn_like(out.z_q)).sum().backward()
    assert z.grad is not None and torch.isfinite(z.grad).all() and z.grad.abs().sum() > 0


@pytest.mark.parametrize("name,scale", [("vq", 1.0), ("ema", 1.0), ("rvq", 3.0)])
def test_straight_through_gradient_is_identity_per_level(name, scale):
    # without projections, d z_q / d z is the identity per level (residual VQ sums L of them)
    q = _make(name)
    _warm(q)
    z = torch.randn(2, 8, DIM, requires_grad=True)
    w = torch.randn(2, 8, DIM)
    (q(z).z_q * w).sum().backward()
    torch.testing.assert_close(z.grad, scale * w)


def test_vq_losses_train_codebook_and_encoder_with_their_weights():
    q = build_quantizer("vq", 4, codebook_size=8, commitment_weight=0.25, codebook_weight=1.0, kmeans_init=False)
    q.train()
    z = torch.randn(1, 5, 4, requires_grad=True)
    out = q(z)
    codes = q.vq.codebook[out.indices].detach()
    expected = 1.25 * (codes - z.detach()).pow(2).mean()
    torch.testing.assert_close(out.loss, expected)
    out.loss.backward()
    # encoder side: 0.25 * d mean((z - e)^2) / dz
    torch.testing.assert_close(z.grad, 0.25 * 2 * (z.detach() - codes) / z.numel())
    # codebook side: 1.0 * d mean((e - z)^2) / de, summed over the frames assigned to each code
    embed = q.vq._codebook.embed  # the learnable parameter, (1, K, D)
    expected_grad = torch.zeros(8, 4).index_add_(0, out.indices[0], 2 * (codes[0] - z.detach()[0]) / z.numel())
    torch.testing.assert_close(embed.grad[0], expected_grad)


def test_ema_codebook_update_hand_computed():
    q = build_quantizer("ema", 2, codebook_size=2, decay=0.5, kmeans_init=False, threshold_ema_dead_code=0.0)
    book = q.vq._codebook
    book.embed.copy_(torch.tensor([[[0.0, 0.0], [10.0, 10.0]]]))
    book.embed_avg.copy_(book.embed)  # each code seen once so far
    book.cluster_size.fill_(1.0)
    q.train()
    q(torch.ones(1, 4, 2))  # four copies of (1, 1), all nearest to code 0
    # usage: 0.5 * 1 + 0.5 * 4 = 2.5 and 0.5 * 1 + 0.5 * 0 = 0.5
    # sums:  0.5 * (0, 0) + 0.5 * (4, 4) = (2, 2) and 0.5 * (10, 10) = (5, 5)
    # codes = sums / usage = (0.8, 0.8) and (10, 10), up to the library's Laplace smoothing (eps 1e-5)
    torch.testing.assert_close(q.vq.codebook, torch.tensor([[0.8, 0.8], [10.0, 10.0]]), atol=1e-3, rtol=0)


@pytest.mark.parametrize("threshold", [2.0, 0.0])
def test_ema_dead_code_is_reset_to_a_batch_vector(threshold):
    q = build_quantizer("ema", 2, codebook_size=3, decay=0.9, kmeans_init=False, threshold_ema_dead_code=threshold)
    book = q.vq._codebook
    book.embed.copy_(torch.tensor([[[0.0, 0.0], [5.0, 0.0], [100.0, 100.0]]]))
    book.cluster_size.copy_(torch.tensor([[10.0, 10.0, 1.0]]))  # code 2 is rarely used: dead below 2
    book.embed_avg.copy_(book.embed * book.cluster_size[..., None])
    z = torch.tensor([[[0.1, 0.0], [0.2, 0.0], [4.9, 0.0], [5.1, 0.0]]])
    q.train()
    q(z)
    dead = q.vq.codebook[2]
    if threshold > 0:
        assert any(torch.allclose(dead, v) for v in z[0])  # replaced by one of the batch vectors
    else:
        torch.testing.assert_close(dead, torch.tensor([100.0, 100.0]), atol=1e-2, rtol=0)  # resets off


def test_fsq_codebook_size_is_product_of_levels():
    for levels in RECOMMENDED_LEVELS.values():
        q = build_quantizer("fsq", DIM, levels=list(levels))
        assert q.codebook_size == math.prod(levels)
    for size, levels in RECOMMENDED_LEVELS.items():
        assert abs(math.log2(math.prod(levels)) - math.log2(size)) < 0.1  # about 2^k codes


def test_fsq_enumerates_every_code_once():
    levels = [5, 4, 3]
    q = build_quantizer("fsq", 3, levels=levels).eval()  # dim == len(levels): no projection
    idx = torch.arange(60)[None]
    codes = q.decode_indices(idx)[0]
    assert len({tuple(c.tolist()) for c in codes}) == 60
    # each channel takes exactly `levels[i]` values in [-1, 1]
    for ch, n in enumerate(levels):
        assert len(set(codes[:, ch].tolist())) == n
        assert float(codes[:, ch].abs().max()) <= 1.0
    # saturated inputs land on the first and the last code (mixed-radix index of all-max levels = 60 - 1)
    big = torch.full((1, 2, 3), 50.0) * torch.tensor([-1.0, 1.0])[None, :, None]
    assert q(big).indices.tolist() == [[0, 59]]


def test_lfq_codes_are_sign_vectors():
    q = build_quantizer("lfq", 3, codebook_size=8).eval()  # 3 bits, no projection
    codes = q.decode_indices(torch.arange(8)[None])[0]
    assert set(codes.flatten().tolist()) == {-1.0, 1.0}
    assert len({tuple(c.tolist()) for c in codes}) == 8
    z = torch.tensor([[[0.3, -2.0, 0.1]]])
    torch.testing.assert_close(q(z).z_q, torch.tensor([[[1.0, -1.0, 1.0]]]))


def test_lfq_training_loss_has_entropy_terms():
    q = _make("lfq")
    q.train()
    out = q(torch.randn(4, 32, DIM))
    assert {"per_sample_entropy", "codebook_entropy"} <= set(out.stats)
    assert float(out.stats["codebook_entropy"]) <= math.log(256) + 1e-4


@pytest.mark.parametrize("name", ["rvq", "hybrid"])
def test_residual_levels_refine(name):
    q = _make(name)
    _warm(q)
    q.eval()
    z = torch.randn(4, 32, DIM, generator=torch.Generator().manual_seed(3))
    with torch.no_grad():
        out = q(z)
        if name == "hybrid":
            assert q.codebook_sizes == (8 * 6 * 5, 64, 64)
            partial = q.fsq.indices_to_codes(out.indices[..., 0])
            per_level = q.rvq.get_codes_from_indices(out.indices[..., 1:])
        else:
            assert q.codebook_sizes == (64, 64, 64)
            partial = torch.zeros_like(z)
            per_level = q.rvq.get_codes_from_indices(out.indices)
        errors = [float((partial - z).pow(2).mean())]
        for codes in per_level:  # add the levels one at a time
            partial = partial + codes
            errors.append(float((partial - z).pow(2).mean()))
    assert all(b < a for a, b in zip(errors, errors[1:])), errors
    torch.testing.assert_close(partial, out.z_q, atol=1e-5, rtol=1e-5)


def test_code_counts_hand_computed():
    q = build_quantizer("ema", 4, codebook_size=4)
    counts = q.code_counts(torch.tensor([[0, 1, 1], [3, 3, 3]]))
    assert len(counts) == 1 and counts[0].tolist() == [1, 2, 0, 3]
    r = build_quantizer("rvq", 4, num_quantizers=2, codebook_size=3, quantize_dropout=True)
    c0, c1 = r.code_counts(torch.tensor([[[0, 2], [0, -1], [1, -1]]]))
    assert c0.tolist() == [2, 1, 0] and c1.tolist() == [0, 0, 1]  # -1 = dropped level, ignored


def test_batch_stats_hand_computed():
    q = build_quantizer("fsq", 2, levels=[3, 3]).eval()
    # two frames on code A, two on code B -> perplexity 2, 2 of 9 codes used
    z = torch.tensor([[[5.0, 5.0], [5.0, 5.0], [-5.0, -5.0], [-5.0, -5.0]]])
    stats = q(z).stats
    assert float(stats["batch_perplexity"]) == pytest.approx(2.0)
    assert float(stats["batch_used"]) == pytest.approx(2 / 9)


def test_bad_inputs_raise_motionlab_error():
    q = _make("ema")
    with pytest.raises(MotionLabError, match="batch, time, 16"):
        q(torch.randn(2, 5, 8))
    with pytest.raises(MotionLabError):
        q(torch.randn(5, 16))
    with pytest.raises(MotionLabError, match="out of range"):
        q.decode_indices(torch.tensor([[64]]))
    with pytest.raises(MotionLabError, match="integer"):
        q.decode_indices(torch.zeros(1, 2))
    with pytest.raises(MotionLabError, match="time, 3"):
        _make("rvq").decode_indices(torch.zeros(1, 2, dtype=torch.long))


def test_registry_errors():
    with pytest.raises(MotionLabError, match="valid choices: ema, fsq, hybrid, lfq, rvq, vq"):
        build_quantizer("gumbel", 8)
    with pytest.raises(MotionLabError, match="codebook_sizee"):
        build_quantizer("vq", 8, codebook_sizee=3)
    with pytest.raises(MotionLabError, match="power of two"):
        build_quantizer("lfq", 8, codebook_size=100)
    with pytest.raises(MotionLabError, match="preserve_symmetry"):
        build_quantizer("fsq", 8, levels=[2, 5])
    with pytest.raises(MotionLabError, match="levels"):
        build_quantizer("fsq", 8, levels=[])
    with pytest.raises(MotionLabError, match="decay"):
        build_quantizer("ema", 8, decay=1.5)


# ---------------------------------------------------------------------------------- learning


def _sinusoid_windows(n: int, seed: int) -> torch.Tensor:
    """(n, 64, 12) windows: 3 sinusoidal sources (random frequency, phase, amplitude per window)
    mixed into 12 channels by one fixed matrix, like joints driven by a few smooth rhythms."""
    g = torch.Generator().manual_seed(seed)
    mix = torch.randn(3, 12, generator=torch.Generator().manual_seed(0))
    t = torch.arange(64) / 64
    freq = 0.5 + 2.5 * torch.rand(n, 3, 1, generator=g)
    phase = 2 * math.pi * torch.rand(n, 3, 1, generator=g)
    amp = 0.5 + torch.rand(n, 3, 1, generator=g)
    src = amp * torch.sin(2 * math.pi * freq * t + phase)
    return torch.einsum("nst,sc->ntc", src, mix)


@pytest.fixture(scope="module")
def motion_data():
    train, test = _sinusoid_windows(384, 1), _sinusoid_windows(128, 2)
    mu, sd = train.mean((0, 1)), train.std((0, 1))
    return (train - mu) / sd, (test - mu) / sd


def _train_vqvae(name: str, train: torch.Tensor, steps: int = 300) -> MotionVQVAE:
    torch.manual_seed(0)
    model = MotionVQVAE.from_names(
        12, encoder="simple", quantizer=name, latent_dim=DIM, down_t=1,
        encoder_kwargs=dict(width=32, num_layers=1), quantizer_kwargs=SMALL[name],
    )
    opt = torch.optim.Adam(model.parameters(), lr=3e-3)
    g = torch.Generator().manual_seed(0)
    model.train()
    for _ in range(steps):
        batch = train[torch.randint(0, len(train), (32,), generator=g)]
        out = model(batch)
        loss = (out["recon"] - batch).pow(2).mean() + out["q_loss"]
        opt.zero_grad()
        loss.backward()
        opt.step()
    return model.eval()


@pytest.fixture(scope="module")
def trained(motion_data):
    # one thread: these models are tiny, and intra-op threads only add synchronisation on a busy CPU
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        return {name: _train_vqvae(name, motion_data[0]) for name in sorted(SMALL)}
    finally:
        torch.set_num_threads(threads)


@pytest.mark.parametrize("name", sorted(SMALL))
def test_vqvae_learns_far_below_mean_pose(name, motion_data, trained):
    train, test = motion_data
    baseline = (test - train.mean((0, 1))).pow(2).mean()
    model = trained[name]
    with torch.no_grad():
        out = model(test)
    mse = (out["recon"] - test).pow(2).mean()
    assert out["recon"].shape == test.shape and out["z_e"].shape == (128, 32, DIM)
    assert float(mse) < 0.35 * float(baseline), (name, float(mse), float(baseline))
    # more than a handful of codes in use on held-out data
    used = [int((c > 0).sum()) for c in model.quantizer.code_counts(out["indices"])]
    assert min(used) >= 16, used
    # encode -> decode reproduces the forward reconstruction
    torch.testing.assert_close(model.decode(model.encode(test)), out["recon"], atol=1e-4, rtol=1e-4)


def test_residual_levels_beat_single_codebook(motion_data, trained):
    _, test = motion_data
    with torch.no_grad():
        err = {n: float((trained[n](test)["recon"] - test).pow(2).mean()) for n in ("ema", "rvq")}
    assert err["rvq"] < 0.5 * err["ema"], err


def test_vqvae_rejects_mismatched_parts():
    from motionlab.nn.registry import build_decoder, build_encoder

    with pytest.raises(MotionLabError, match="quantizer"):
        MotionVQVAE(build_encoder("simple", 12, 8), build_quantizer("fsq", 16), build_decoder("simple", 16, 12))
    with pytest.raises(MotionLabError, match="down_t"):
        MotionVQVAE(
            build_encoder("simple", 12, 16, down_t=1), build_quantizer("fsq", 16), build_decoder("simple", 16, 12)
        )
