"""Mamba (selective state-space) layers in pure PyTorch, with ``mamba_ssm``'s parameter names.

:class:`Mamba` is the mixer of Gu & Dao (2023), "Mamba: Linear-Time Sequence Modeling with Selective
State Spaces", with the parameter names and initialisation of the reference package ``mamba_ssm``
(``in_proj``, ``conv1d``, ``x_proj``, ``dt_proj``, ``A_log``, ``D``, ``out_proj``), so a state dict
moves between the two. :class:`Block` has ``mamba_ssm``'s residual order (the residual stream is
carried separately, the norm comes before the mixer: ``residual = x + residual; x = mixer(norm(residual))``)
and :class:`MambaStack` ends with ``norm_f(x + residual)`` like its ``MixerModel``.

The selective scan (per channel ``d`` and state ``n``, time ``t``)::

    dA_t = exp(delta_t * A)          delta_t = softplus(dt_t + dt_bias)   (A < 0, so 0 < dA_t < 1)
    h_t  = dA_t * h_{t-1} + delta_t * B_t * u_t          h_{-1} = 0
    y_t  = sum_n C_t h_t + D * u_t,  then y_t * silu(z_t)

:func:`selective_scan` computes it three ways: ``"sequential"`` (the plain loop over time, the reference),
``"parallel"`` (a Hillis-Steele doubling scan over time: ``ceil(log2 L)`` whole-tensor steps on
``(a, b)`` pairs, products of factors in (0, 1) only, so it is as stable as the loop) and ``"cuda"``
(``mamba_ssm.ops.selective_scan_interface.selective_scan_fn``). ``"auto"`` takes ``"cuda"`` when
``mamba_ssm`` imports and the inputs are on a GPU, else ``"parallel"``.

Shapes follow ``mamba_ssm``: ``u, delta, z`` are ``(B, D, L)``, ``A`` is ``(D, N)``, ``B, C`` are
``(B, N, L)``; layers take ``(batch, time, features)``. Layers are causal (a frame sees only the past).
"""

from __future__ import annotations

import math
from typing import Optional, Tuple

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from motionlab.errors import MotionLabError, choices_error

SCAN_MODES = ("auto", "parallel", "sequential", "cuda")


def _cuda_scan():
    """``mamba_ssm``'s fused selective scan, or None when it is not importable."""
    try:
        from mamba_ssm.ops.selective_scan_interface import selective_scan_fn  # type: ignore
    except Exception:  # ImportError, or a CUDA extension that fails to load
        return None
    return selective_scan_fn


def _doubling_scan_(a: Tensor, b: Tensor) -> Tensor:
    """In place on ``a`` and ``b`` (no autograd): ``b`` becomes ``h`` of :func:`parallel_linear_scan`."""
    L = a.shape[-2]
    k = 1
    while k < L:
        b[..., k:, :] += a[..., k:, :] * b[..., :-k, :]
        if 2 * k < L:
            a[..., k:, :] = a[..., k:, :] * a[..., :-k, :]
        k *= 2
    return b


class _LinearScan(torch.autograd.Function):
    """``h_t = a_t h_{t-1} + b_t``; the backward pass is the reverse scan of the adjoint
    ``lambda_t = g_t + a_{t+1} lambda_{t+1}``, with ``db_t = lambda_t`` and ``da_t = lambda_t h_{t-1}``."""

    @staticmethod
    def forward(ctx, a: Tensor, b: Tensor) -> Tensor:  # type: ignore[override]
        h = _doubling_scan_(a.detach().clone(), b.detach().clone())
        ctx.save_for_backward(a, h)
        return h

    @staticmethod
    def backward(ctx, g: Tensor):  # type: ignore[override]
        a, h = ctx.saved_tensors
        a_next = torch.zeros_like(a)
        a_next[..., :-1, :] = a[..., 1:, :]
        lam = _doubling_scan_(a_next.flip(-2), g.flip(-2).clone()).flip(-2)
        h_prev = torch.zeros_like(h)
        h_prev[..., 1:, :] = h[..., :-1, :]
        return lam * h_prev, lam


def parallel_linear_scan(a: Tensor, b: Tensor) -> Tensor:
    """``h_t = a_t * h_{t-1} + b_t`` (``h_{-1} = 0``) along dim ``-2`` of ``(..., L, N)`` tensors.

    Hillis-Steele doubling: after the step with offset ``k`` each position holds the composition of
    the ``2k`` steps ending there (``ceil(log2 L)`` whole-tensor steps, in place). The backward pass is
    the same scan run backwards in time on the adjoint (no autograd graph through the steps).
    """
    return _LinearScan.apply(a, b)


def selective_scan(u: Tensor, delta: Tensor, A: Tensor, B: Tensor, C: Tensor, D: Optional[Tensor] = None,
                   z: Optional[Tensor] = None, delta_bias: Optional[Tensor] = None, delta_softplus: bool = False,
                   mode: str = "auto") -> Tensor:
    """The selective scan of the module docstring; returns ``y (B, D, L)`` in ``u``'s dtype."""
    if mode not in SCAN_MODES:
        raise choices_error("scan mode", mode, SCAN_MODES)
    if u.ndim != 3 or delta.shape != u.shape or A.ndim != 2 or A.shape[0] != u.shape[1] \
            or B.shape != (u.shape[0], A.shape[1], u.shape[2]) or C.shape != B.shape:
        raise MotionLabError(f"selective scan shapes disagree: u {tuple(u.shape)}, delta {tuple(delta.shape)}, "
                             f"A {tuple(A.shape)}, B {tuple(B.shape)}, C {tuple(C.shape)}", place="selective_scan")
    if mode in ("auto", "cuda"):
        fn = _cuda_scan() if u.is_cuda else None
        if fn is not None:
            return fn(u, delta, A, B, C, D, z, delta_bias, delta_softplus)
        if mode == "cuda":
            raise MotionLabError("scan mode 'cuda' needs mamba_ssm and inputs on a GPU", place="mode")
        mode = "parallel"
    dtype = u.dtype
    uf = u.float() if dtype in (torch.float16, torch.bfloat16) else u
    dt = delta.to(uf.dtype)
    if delta_bias is not None:
        dt = dt + delta_bias.to(dt.dtype)[None, :, None]
    if delta_softplus:
        dt = F.softplus(dt)
    A = A.to(uf.dtype)
    # (B, D, L, N)
    dA = torch.exp(dt.unsqueeze(-1) * A[None, :, None, :])
    dBu = (dt * uf).unsqueeze(-1) * B.to(uf.dtype).transpose(1, 2)[:, None, :, :]
    Ct = C.to(uf.dtype).transpose(1, 2)[:, None, :, :]
    if mode == "parallel":
        h = parallel_linear_scan(dA, dBu)
        y = (h * Ct).sum(-1)
    else:
        state = torch.zeros_like(dBu[:, :, 0])
        ys = []
        for t in range(uf.shape[-1]):
            state = dA[:, :, t] * state + dBu[:, :, t]
            ys.append((state * Ct[:, :, t]).sum(-1))
        y = torch.stack(ys, dim=-1)
    if D is not None:
        y = y + uf * D.to(uf.dtype)[None, :, None]
    if z is not None:
        y = y * F.silu(z.to(uf.dtype))
    return y.to(dtype)


class Mamba(nn.Module):
    """The Mamba mixer on ``(B, L, d_model)`` (parameter names and initialisation of ``mamba_ssm``).

    Args:
        d_model: features in and out.
        d_state: SSM state size ``N`` per channel (16).
        d_conv: causal depthwise conv width (4).
        expand: inner width ``d_inner = expand * d_model`` (2).
        dt_rank: rank of the step-size projection (``"auto"``: ``ceil(d_model / 16)``).
        scan: selective-scan mode (see :func:`selective_scan`).
    """

    def __init__(self, d_model: int, d_state: int = 16, d_conv: int = 4, expand: int = 2,
                 dt_rank="auto", dt_min: float = 0.001, dt_max: float = 0.1, dt_init_floor: float = 1e-4,
                 dt_scale: float = 1.0, conv_bias: bool = True, bias: bool = False, scan: str = "auto") -> None:
        super().__init__()
        if scan not in SCAN_MODES:
            raise choices_error("scan mode", scan, SCAN_MODES)
        self.d_model, self.d_state, self.d_conv = int(d_model), int(d_state), int(d_conv)
        self.d_inner = int(expand * d_model)
        self.dt_rank = math.ceil(d_model / 16) if dt_rank == "auto" else int(dt_rank)
        self.scan = scan
        self.in_proj = nn.Linear(self.d_model, 2 * self.d_inner, bias=bias)
        self.conv1d = nn.Conv1d(self.d_inner, self.d_inner, d_conv, groups=self.d_inner, padding=d_conv - 1,
                                bias=conv_bias)
        self.x_proj = nn.Linear(self.d_inner, self.dt_rank + 2 * self.d_state, bias=False)
        self.dt_proj = nn.Linear(self.dt_rank, self.d_inner, bias=True)
        std = self.dt_rank ** -0.5 * dt_scale
        nn.init.uniform_(self.dt_proj.weight, -std, std)
        dt = torch.exp(torch.rand(self.d_inner) * (math.log(dt_max) - math.log(dt_min)) + math.log(dt_min))
        dt = dt.clamp(min=dt_init_floor)
        with torch.no_grad():
            self.dt_proj.bias.copy_(dt + torch.log(-torch.expm1(-dt)))  # inverse softplus
        A = torch.arange(1, self.d_state + 1, dtype=torch.float32).repeat(self.d_inner, 1)
        self.A_log = nn.Parameter(torch.log(A))
        self.D = nn.Parameter(torch.ones(self.d_inner))
        self.out_proj = nn.Linear(self.d_inner, self.d_model, bias=bias)

    def forward(self, hidden_states: Tensor, scan: Optional[str] = None) -> Tensor:
        """``(B, L, d_model)`` -> ``(B, L, d_model)``; ``scan`` overrides the module's scan mode."""
        if hidden_states.ndim != 3 or hidden_states.shape[-1] != self.d_model:
            raise MotionLabError(f"Mamba expects (B, L, {self.d_model}), got {tuple(hidden_states.shape)}",
                                 place="hidden_states")
        L = hidden_states.shape[1]
        xz = self.in_proj(hidden_states).transpose(1, 2)  # (B, 2 d_inner, L)
        x, z = xz.chunk(2, dim=1)
        x = F.silu(self.conv1d(x)[..., :L])
        x_dbl = self.x_proj(x.transpose(1, 2))  # (B, L, dt_rank + 2N)
        dt, Bm, Cm = torch.split(x_dbl, [self.dt_rank, self.d_state, self.d_state], dim=-1)
        dt = (dt @ self.dt_proj.weight.t()).transpose(1, 2)  # bias goes in as delta_bias
        A = -torch.exp(self.A_log.float())
        y = selective_scan(x, dt, A, Bm.transpose(1, 2).contiguous(), Cm.transpose(1, 2).contiguous(), self.D.float(),
                           z, delta_bias=self.dt_proj.bias.float(), delta_softplus=True, mode=scan or self.scan)
        return self.out_proj(y.transpose(1, 2))


class Block(nn.Module):
    """``mamba_ssm``'s ``Block``: ``residual = x + residual; x = mixer(norm(residual))``; returns both."""

    def __init__(self, dim: int, mixer: nn.Module, norm: Optional[nn.Module] = None) -> None:
        super().__init__()
        self.mixer = mixer
        self.norm = norm if norm is not None else nn.LayerNorm(dim)

    def forward(self, hidden_states: Tensor, residual: Optional[Tensor] = None) -> Tuple[Tensor, Tensor]:
        residual = hidden_states if residual is None else hidden_states + residual
        return self.mixer(self.norm(residual.to(self.norm.weight.dtype))), residual


class MambaStack(nn.Module):
    """``n_layer`` :class:`Block` s of :class:`Mamba` and a final ``norm_f(x + residual)``: ``(B, L, d) -> (B, L, d)``."""

    def __init__(self, d_model: int, n_layer: int = 1, d_state: int = 16, d_conv: int = 4, expand: int = 2,
                 scan: str = "auto") -> None:
        super().__init__()
        self.layers = nn.ModuleList(Block(d_model, Mamba(d_model, d_state, d_conv, expand, scan=scan))
                                    for _ in range(int(n_layer)))
        self.norm_f = nn.LayerNorm(d_model)

    def forward(self, x: Tensor) -> Tensor:
        residual = None
        for layer in self.layers:
            x, residual = layer(x, residual)
        return self.norm_f(x + residual if residual is not None else x)
