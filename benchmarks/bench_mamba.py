"""Selective scan speed, forward + backward: motionlab's parallel (doubling) scan against the plain
sequential reference scan and the ``mambapy`` package (its Blelloch ``pscan`` inside a Mamba layer of the
same shapes), printed as ratios measured in the same run.

    OMP_NUM_THREADS=2 python benchmarks/bench_mamba.py [--batch 16 --length 64 --d-model 64 --d-state 16]
"""

from __future__ import annotations

import argparse
import time

import torch

from motionlab.nn.mamba import Mamba, selective_scan


def _time(fn, repeats: int) -> float:
    fn()
    t0 = time.perf_counter()
    for _ in range(repeats):
        fn()
    return (time.perf_counter() - t0) / repeats


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--batch", type=int, default=16)
    ap.add_argument("--length", type=int, default=64)
    ap.add_argument("--d-model", type=int, default=64)
    ap.add_argument("--d-state", type=int, default=16)
    ap.add_argument("--repeats", type=int, default=5)
    a = ap.parse_args()
    torch.manual_seed(0)
    B, L, d, N = a.batch, a.length, a.d_model, a.d_state
    D = 2 * d
    u, dt, z = (torch.randn(B, D, L, requires_grad=True) for _ in range(3))
    A = (-torch.rand(D, N) - 0.5).requires_grad_()
    Bm, Cm = torch.randn(B, N, L, requires_grad=True), torch.randn(B, N, L, requires_grad=True)

    def scan(mode):
        def run():
            y = selective_scan(u, dt, A, Bm, Cm, None, z, delta_softplus=True, mode=mode)
            y.sum().backward()
        return run

    t_par = _time(scan("parallel"), a.repeats)
    t_seq = _time(scan("sequential"), a.repeats)
    print(f"selective scan fwd+bwd  B={B} L={L} D={D} N={N}")
    print(f"  motionlab parallel   {1e3 * t_par:8.2f} ms")
    print(f"  sequential reference {1e3 * t_seq:8.2f} ms   ({t_seq / t_par:.2f}x slower than parallel)")
    x = torch.randn(B, L, d, requires_grad=True)
    ours = Mamba(d, d_state=N, scan="parallel")

    def layer(m):
        def run():
            m(x).sum().backward()
        return run

    t_ours = _time(layer(ours), a.repeats)
    print(f"Mamba layer fwd+bwd  B={B} L={L} d_model={d} d_state={N}")
    print(f"  motionlab            {1e3 * t_ours:8.2f} ms")
    try:
        from mambapy.mamba import MambaBlock, MambaConfig
    except ImportError:
        print("  mambapy              not installed")
        return
    peer = MambaBlock(MambaConfig(d_model=d, n_layers=1, d_state=N, expand_factor=2, d_conv=4, pscan=True))
    t_peer = _time(layer(peer), a.repeats)
    print(f"  mambapy (pscan)      {1e3 * t_peer:8.2f} ms   (motionlab / mambapy = {t_ours / t_peer:.2f})")


if __name__ == "__main__":
    main()
