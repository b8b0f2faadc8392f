"""Recovery speed: frames per second of 2D -> 3D inference on 2 CPU threads, motionlab's lifter against a
VideoPose3D-shaped network of the published size, measured in the same run.

* motionlab: the ``recover`` lifter of each packaged config (tiny, default), fully convolutional over
  whole tracks, every frame predicted (camera-frame joints, root, world posture and trajectory);
* peer: the VideoPose3D temporal model as published for 243-frame receptive fields (Pavllo et al. 2019):
  filter widths 3-3-3-3-3, 1024 channels, batch norm, dilations 1-3-9-27-81, about 17 M parameters, in its
  efficient sequence mode (one output per frame with a full receptive field, ``T - 242`` per track).
  metrics notes give ~3,300 frames/s for it on 2 CPU cores. Weights do not change speed: both are built
  untrained.

Usage: ``python benchmarks/bench_recover.py [--tracks 16] [--frames 600] [--repeats 3]``.
Target: the lifter >= 5,000 frames/s in batch.
"""

from __future__ import annotations

import argparse
import time

import torch
from torch import nn

VIDEOPOSE3D_PUBLISHED_FPS = 3300.0


class VideoPose3DShaped(nn.Module):
    """The VideoPose3D temporal convolution model's shape (17 joints x 2 in, 17 x 3 out)."""

    def __init__(self, joints: int = 17, channels: int = 1024, widths=(3, 3, 3, 3, 3), dropout: float = 0.25) -> None:
        super().__init__()
        self.expand = nn.Sequential(nn.Conv1d(joints * 2, channels, widths[0], bias=False),
                                    nn.BatchNorm1d(channels, momentum=0.1), nn.ReLU(), nn.Dropout(dropout))
        self.blocks = nn.ModuleList()
        self.pads = []
        d = widths[0]
        for w in widths[1:]:
            self.pads.append((w - 1) * d // 2)
            self.blocks.append(nn.Sequential(
                nn.Conv1d(channels, channels, w, dilation=d, bias=False), nn.BatchNorm1d(channels), nn.ReLU(),
                nn.Dropout(dropout), nn.Conv1d(channels, channels, 1, bias=False), nn.BatchNorm1d(channels),
                nn.ReLU(), nn.Dropout(dropout)))
            d *= w
        self.shrink = nn.Conv1d(channels, joints * 3, 1)
        self.receptive_field = 1 + sum(2 * p for p in self.pads) + (widths[0] - 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:  # (B, T, 17, 2) -> (B, T - rf + 1, 17, 3)
        B, T = x.shape[:2]
        h = self.expand(x.reshape(B, T, -1).transpose(1, 2))
        for pad, block in zip(self.pads, self.blocks):
            h = h[:, :, pad:h.shape[2] - pad] + block(h)
        return self.shrink(h).transpose(1, 2).reshape(B, -1, 17, 3)


def _fps(fn, frames: int, repeats: int) -> float:
    with torch.no_grad():
        fn()  # warm-up
        best = float("inf")
        for _ in range(repeats):
            t0 = time.perf_counter()
            fn()
            best = min(best, time.perf_counter() - t0)
    return frames / best


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--tracks", type=int, default=16)
    ap.add_argument("--frames", type=int, default=600)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--threads", type=int, default=2)
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    from motionlab.config import load_config
    from motionlab.recipes.recover.config import RecoverConfig
    from motionlab.recipes.recover.model import build_lifter
    from motionlab.recipes.registry import get_recipe

    B, T = args.tracks, args.frames
    feat = torch.randn(B, T, 17, 3)
    feat[..., 2] = torch.rand(B, T, 17)
    box = torch.randn(B, T, 3) * 0.1
    rows = []
    for size in ("tiny", "default"):
        cfg = load_config(RecoverConfig, get_recipe("recover").default_config_path().with_name(f"{size}.yaml"))
        lifter = build_lifter(cfg).eval()
        n = sum(p.numel() for p in lifter.parameters())
        batch = _fps(lambda: lifter(feat, box), B * T, args.repeats)
        single = _fps(lambda: lifter(feat[:1], box[:1]), T, args.repeats)
        rows.append((f"motionlab lifter ({size}, {cfg.model.arch})", n, batch, single))
    vp = VideoPose3DShaped().eval()
    n = sum(p.numel() for p in vp.parameters())
    rf = vp.receptive_field
    pad_t = T + rf - 1  # pad so that every one of the T frames gets a full receptive field
    x = torch.randn(B, pad_t, 17, 2)
    vbatch = _fps(lambda: vp(x), B * T, args.repeats)
    vsingle = _fps(lambda: vp(x[:1]), T, args.repeats)
    rows.append(("VideoPose3D-shaped (243-frame receptive field)", n, vbatch, vsingle))
    print(f"recover inference, {args.threads} CPU threads, {B} tracks x {T} frames")
    print(f"{'model':52s} {'params':>10s} {'batch fps':>12s} {'1-track fps':>12s}")
    for name, n, b, s in rows:
        print(f"{name:52s} {n / 1e6:9.2f}M {b:12,.0f} {s:12,.0f}")
    for name, _, b, s in rows[:-1]:
        print(f"ratio {name} / VideoPose3D-shaped: batch {b / vbatch:.1f}x, one track {s / vsingle:.1f}x")
    print(f"(published VideoPose3D on 2 CPU cores: ~{VIDEOPOSE3D_PUBLISHED_FPS:,.0f} frames/s; target for the lifter: >= 5,000)")


if __name__ == "__main__":
    main()
