"""The pure-PyTorch Mamba: the parallel scan equals the plain sequential scan (float64, forward and
gradients), the layer keeps mamba_ssm's parameter names and Block residual order, and it is causal."""

import pytest
import torch

from motionlab.errors import MotionLabError
from motionlab.nn.mamba import Block, Mamba, MambaStack, parallel_linear_scan, selective_scan


def _inputs(b=2, d=5, n=4, L=37, seed=0):
    g = torch.Generator().manual_seed(seed)
    mk = lambda *s: torch.randn(*s, generator=g, dtype=torch.float64, requires_grad=True)  # noqa: E731
    u, delta, z = mk(b, d, L), mk(b, d, L), mk(b, d, L)
    A = (-torch.rand(d, n, generator=g, dtype=torch.float64) * 3 - 0.1).requires_grad_()
    B, C, D = mk(b, n, L), mk(b, n, L), mk(d)
    bias = mk(d)
    return u, delta, A, B, C, D, z, bias


@pytest.mark.parametrize("L", [1, 2, 7, 37, 64])
def test_parallel_scan_equals_sequential_forward_and_gradients(L):
    args = _inputs(L=L)
    outs = {}
    for mode in ("sequential", "parallel"):
        y = selective_scan(*args[:7], delta_bias=args[7], delta_softplus=True, mode=mode)
        g = torch.autograd.grad((y * torch.cos(y)).sum(), args, allow_unused=True)
        outs[mode] = (y, [torch.zeros_like(a) if d is None else d for a, d in zip(args, g)])
    ys, gs = outs["sequential"]
    yp, gp = outs["parallel"]
    assert torch.allclose(ys, yp, atol=1e-6, rtol=0)
    for a, b in zip(gs, gp):
        assert torch.allclose(a, b, atol=1e-6, rtol=0)


def test_linear_scan_recurrence():
    a = torch.tensor([[[0.5], [0.25], [1.0]]], dtype=torch.float64)
    b = torch.tensor([[[1.0], [2.0], [3.0]]], dtype=torch.float64)
    # h0 = 1, h1 = 0.25 * 1 + 2 = 2.25, h2 = 2.25 + 3 = 5.25
    assert torch.allclose(parallel_linear_scan(a, b).reshape(-1), torch.tensor([1.0, 2.25, 5.25], dtype=torch.float64))


def test_layer_parameter_names_and_modes_agree():
    torch.manual_seed(0)
    m = Mamba(16, d_state=8).double()
    names = {n.split(".")[0] for n, _ in m.named_parameters()}
    assert names == {"in_proj", "conv1d", "x_proj", "dt_proj", "A_log", "D", "out_proj"}
    assert m.A_log.shape == (32, 8) and m.dt_proj.weight.shape == (32, 1) and m.x_proj.out_features == 1 + 16
    x = torch.randn(3, 20, 16, dtype=torch.float64)
    assert torch.allclose(m(x, scan="parallel"), m(x, scan="sequential"), atol=1e-9)
    with pytest.raises(MotionLabError, match="scan mode"):
        m(x, scan="bogus")


def test_causal_and_block_residual_order():
    torch.manual_seed(0)
    stack = MambaStack(8, n_layer=2, d_state=4).double()
    x = torch.randn(1, 12, 8, dtype=torch.float64)
    y = stack(x)
    x2 = x.clone()
    x2[:, 7:] += torch.randn(1, 5, 8, dtype=torch.float64)
    y2 = stack(x2)
    assert torch.allclose(y[:, :7], y2[:, :7]) and not torch.allclose(y[:, 7:], y2[:, 7:])
    norm = torch.nn.LayerNorm(8).double()
    blk = Block(8, torch.nn.Identity(), norm)
    h, r = blk(x, x)  # residual first, then the norm, then the mixer
    assert torch.equal(r, 2 * x) and torch.allclose(h, norm(2 * x))


def test_mambapy_layer_matches_with_copied_weights():
    """The same weights give the same output in the mambapy reference implementation."""
    mp = pytest.importorskip("mambapy.mamba")
    torch.manual_seed(0)
    cfg = mp.MambaConfig(d_model=16, n_layers=1, d_state=8, expand_factor=2, d_conv=4, pscan=True)
    ref = mp.MambaBlock(cfg)
    ours = Mamba(16, d_state=8)
    ours.load_state_dict({k: v for k, v in ref.state_dict().items() if k in ours.state_dict()}, strict=True)
    x = torch.randn(2, 24, 16)
    assert torch.allclose(ours(x), ref(x), atol=1e-4)
