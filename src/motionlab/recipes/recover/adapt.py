"""The domain-adaptation pieces of the ``recover`` recipe: the alternating sampler, augmented views and
their inverses, pseudo-labels with their confidence, the moving threshold, the discriminator's inputs and
the implausible motion it learns to reject, and the unlabelled-target losses (re-projection, bone length).
"""

from __future__ import annotations

import math
from typing import Dict, List, Tuple

import torch
from torch import Tensor

from motionlab.recipes.recover import geometry as G


class AlternatingSampler:
    """Which steps see a target batch, and which target windows: a fixed pattern of ``ratio`` of the
    steps (ratio 0.5: every other step; 1: every step) and a per-step seeded draw, so resumed runs see
    the same batches."""

    def __init__(self, num_target: int, batch_size: int, ratio: float, seed: int = 0) -> None:
        self.n, self.batch, self.ratio, self.seed = int(num_target), int(batch_size), float(ratio), int(seed)

    def is_target_step(self, step: int) -> bool:
        r = min(max(self.ratio, 0.0), 1.0)
        return self.n > 0 and math.floor((step + 1) * r) > math.floor(step * r)

    def indices(self, step: int) -> Tensor:
        g = torch.Generator().manual_seed(self.seed * 1_000_003 + 7 * step + 1)
        return torch.randint(0, self.n, (min(self.batch, self.n),), generator=g)


def threshold_at(step: int, cfg) -> float:
    """The confidence threshold: from ``confidence_threshold_start`` towards ``_end`` by ``confidence_step``
    every ``threshold_every`` adaptation steps."""
    a = cfg.adapt
    k = max(0, step - a.start_step) // max(1, a.threshold_every)
    lo, hi = sorted((a.confidence_threshold_start, a.confidence_threshold_end))
    direction = 1.0 if a.confidence_threshold_end >= a.confidence_threshold_start else -1.0
    return float(min(hi, max(lo, a.confidence_threshold_start + direction * k * a.confidence_step)))


# --- views --------------------------------------------------------------------------------------


def flip_input(feat: Tensor, box: Tensor) -> Tuple[Tensor, Tensor]:
    """Mirror a track left-right (image x -> -x, left and right joints swapped)."""
    f = feat[..., G.FLIP_COCO, :].clone()
    f[..., 0] = -f[..., 0]
    b = box.clone()
    b[..., 0] = -b[..., 0]
    return f, b


def flip_output(out: Tensor) -> Tensor:
    """The lifter output of a mirrored track mapped back to the original (or forth: it is an involution)."""
    p = G.split(out)
    rel = p["rel"][..., G.FLIP_SMPL, :].clone()
    rel[..., 0] = -rel[..., 0]
    root = p["root"].clone()
    root[..., 0] = -root[..., 0]
    canon = p["canon"][..., G.FLIP_SMPL, :].clone()
    canon[..., 1] = -canon[..., 1]
    motion = p["motion"].clone()
    motion[..., 1:] = -motion[..., 1:]
    sh = out.shape[:-1]
    return torch.cat([rel.reshape(*sh, -1), root, canon.reshape(*sh, -1), motion], -1)


def rotate_input(feat: Tensor, box: Tensor, angle: Tensor) -> Tuple[Tensor, Tensor]:
    """Rotate the box-normalised joints in the image plane by ``angle (B,)`` rad about the box centre."""
    c, s = angle.cos()[:, None, None], angle.sin()[:, None, None]
    x, y = feat[..., 0], feat[..., 1]
    f = feat.clone()
    valid = feat[..., 2] > 0
    f[..., 0] = torch.where(valid, c * x - s * y, x)
    f[..., 1] = torch.where(valid, s * x + c * y, y)
    return f, box


def unrotate_rel(rel: Tensor, angle: Tensor) -> Tensor:
    """Undo an image rotation on camera-frame root-relative joints ``(B, T, 22, 3)`` (about the optical axis)."""
    c, s = angle.cos()[:, None, None], angle.sin()[:, None, None]
    out = rel.clone()
    out[..., 0] = c * rel[..., 0] + s * rel[..., 1]
    out[..., 1] = -s * rel[..., 0] + c * rel[..., 1]
    return out


def jitter_input(feat: Tensor, sigma: float, gen: torch.Generator, drop: float = 0.0) -> Tensor:
    """Gaussian jitter of ``sigma`` (box units) on the valid joints, and optionally masking a fraction ``drop``."""
    f = feat.clone()
    valid = f[..., 2:3] > 0
    noise = torch.randn(f[..., :2].shape, generator=gen).to(f) * sigma
    f[..., :2] = torch.where(valid, f[..., :2] + noise, f[..., :2])
    if drop > 0:
        gone = torch.rand(f.shape[:-1], generator=gen).to(f.device) < drop
        f = torch.where(gone[..., None], torch.zeros_like(f), f)
    return f


def pseudo_labels(teacher, feat: Tensor, box: Tensor, cfg, gen: torch.Generator) -> Dict[str, Tensor]:
    """Average the teacher's outputs over ``num_augmentations`` views mapped back to the original.

    Views: the original, its mirror, then alternately rotated (``+-rotation_deg``) and mirrored+scaled
    views, all jittered except the first. The camera-frame joints average over every view; the
    canonical (gravity-aligned) joints over the views without rotation; the average is then smoothed
    over time (``pseudo_smooth`` frames: detector jitter, swaps and dropouts are short). ``agreement`` ``(B,)`` =
    ``exp(-rms / agreement_scale)`` with ``rms`` the views' RMS spread of the root-relative joints (m).
    """
    a = cfg.adapt
    n = max(1, int(a.num_augmentations))
    B = feat.shape[0]
    rels, canons, outs = [], [], []
    with torch.no_grad():
        for k in range(n):
            f, b = feat, box
            flip = k % 2 == 1
            angle = None
            if k >= 2 and k % 2 == 0:
                angle = (torch.rand(B, generator=gen) * 2 - 1).to(feat) * math.radians(a.rotation_deg)
            if k > 0:
                f = jitter_input(f, a.jitter, gen)
            if flip:
                f, b = flip_input(f, b)
            if k >= 3 and flip:  # scale: the box size changes the root depth only
                scale = 1 + (torch.rand(B, generator=gen).to(feat) * 2 - 1) * a.scale_range
                b = b.clone()
                b[..., 2] = b[..., 2] + scale.log()[:, None]
            if angle is not None:
                f, b = rotate_input(f, b, angle)
            out = teacher(f, b)
            if flip:
                out = flip_output(out)
            p = G.split(out)
            rel = p["rel"] if angle is None else unrotate_rel(p["rel"], angle)
            rels.append(rel)
            if angle is None:
                canons.append(p["canon"])
                outs.append(out)
        rel_stack = torch.stack(rels)
        rel = rel_stack.mean(0)
        rms = ((rel_stack - rel) ** 2).sum(-1).mean(dim=(0, 2, 3)).sqrt()
        agreement = torch.exp(-rms / a.agreement_scale)
        mean_out = smooth_time(torch.stack(outs).mean(0), a.pseudo_smooth)
        canon = smooth_time(torch.stack(canons).mean(0), a.pseudo_smooth)
        rel = smooth_time(rel, a.pseudo_smooth)
    return {"rel": rel, "canon": canon, "out": mean_out, "agreement": agreement, "rms": rms}


def smooth_time(x: Tensor, sigma: float) -> Tensor:
    """Gaussian smoothing of ``x (B, T, ...)`` over time (``sigma`` frames, edges replicated; 0 = none)."""
    if sigma <= 0 or x.shape[1] < 2:
        return x
    r = int(math.ceil(3 * sigma))
    k = torch.exp(-0.5 * (torch.arange(-r, r + 1, dtype=x.dtype, device=x.device) / sigma) ** 2)
    k = (k / k.sum()).view(1, 1, -1)
    B, T = x.shape[:2]
    flat = x.reshape(B, T, -1).transpose(1, 2).reshape(-1, 1, T)
    flat = torch.nn.functional.pad(flat, (r, r), mode="replicate")
    out = torch.nn.functional.conv1d(flat, k)
    return out.reshape(B, -1, T).transpose(1, 2).reshape(x.shape)


# --- discriminator inputs -------------------------------------------------------------------------


def disc_features(out: Tensor, fps: float) -> Tensor:
    """``(B, T, 22*3*2 + 3)`` discriminator input: canonical joints (posture and height, gravity-aligned,
    heading removed), their velocities (m/s; zero at length 1) and the root motion (m/s, rad/s)."""
    p = G.split(out)
    canon = p["canon"].flatten(-2)
    vel = torch.zeros_like(canon)
    if canon.shape[1] > 1:
        vel[:, 1:] = (canon[:, 1:] - canon[:, :-1]) * fps
        vel[:, 0] = vel[:, 1]
    return torch.cat([canon, vel * 0.1, p["motion"] * fps], -1)


def implausible(out: Tensor, gen: torch.Generator) -> Tensor:
    """Implausible versions of real outputs ``(B, T, OUT_DIM)``: one of per-frame joint noise (4 cm),
    limbs stretched or shrunk per frame, or joints shuffled in time, per sequence."""
    B, T = out.shape[:2]
    p = G.split(out)
    canon = p["canon"].clone()
    kind = torch.randint(0, 3, (B,), generator=gen)
    noise = torch.randn(canon.shape, generator=gen).to(canon) * 0.04
    root = canon[..., :1, :]
    stretch = (1 + (torch.rand(B, T, 1, 1, generator=gen).to(canon) - 0.5) * 0.6)
    perm = torch.randperm(T, generator=gen)
    shuffled = canon.clone()
    shuffled[..., 4:, :] = canon[:, perm][..., 4:, :]
    k = kind[:, None, None, None].to(canon.device)
    canon = torch.where(k == 0, canon + noise, torch.where(k == 1, root + (canon - root) * stretch, shuffled))
    sh = out.shape[:-1]
    return torch.cat([out[..., :G.J * 3 + 3], canon.reshape(*sh, -1), p["motion"]], -1)


# --- unlabelled-target losses -------------------------------------------------------------------------


def reprojection_loss(out: Tensor, feat: Tensor, box: Tensor) -> Tensor:
    """Confidence-weighted L1 between the observed box-normalised limb joints and the projection of the
    predicted camera-frame joints (the 12 COCO limb joints that SMPL-22 shares)."""
    cam = G.camera_joints(G.split(out), box)
    proj = G.project(cam[..., G.SMPL_OF_COCO, :], box)
    obs = feat[..., G.COCO_LIMBS, :2]
    w = feat[..., G.COCO_LIMBS, 2]
    err = (proj - obs).abs().sum(-1)
    return (w * err).sum() / w.sum().clamp_min(1e-6)


def bone_loss(out: Tensor) -> Tensor:
    """Bone-length consistency: each bone's standard deviation over time (camera-frame and canonical
    joints), plus left/right asymmetry of the mean lengths (m)."""
    p = G.split(out)
    terms = []
    for joints in (p["rel"], p["canon"]):
        L = G.bone_lengths(joints)  # (B, T, 21)
        terms.append(L.std(dim=1, unbiased=False).mean() if L.shape[1] > 1 else L.sum() * 0)
        mean = L.mean(1)
        terms.append((mean - mean[..., _MIRROR_BONES]).abs().mean())
    return sum(terms)


def _mirror_bones() -> List[int]:
    children = [j for j, _ in G.BONES]
    return [children.index(G.FLIP_SMPL[j]) for j in children]


_MIRROR_BONES = _mirror_bones()
