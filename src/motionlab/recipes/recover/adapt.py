"""The domain-adaptation pieces of the ``recover`` recipe: the alternating sampler, augmented views and
their inverses, pseudo-labels with their confidence, the moving threshold and rank selection, the camera
tilt refitted to a window's 2D (:func:`fit_view`, also used at inference), the discriminator's inputs and
the implausible motion it learns to reject, and the unlabelled-target losses (re-projection, bone length,
the source's bone lengths, agreement of the camera-frame and gravity-aligned heads).
"""

from __future__ import annotations

import math
from typing import Dict, List, Tuple

import numpy as np
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
    """Average the teacher's outputs over ``num_augmentations`` views mapped back to the original
    (``teacher(feat, box)``: a lifter, or any callable with its signature).

    Views: the original, its mirror, then alternately rotated (``+-rotation_deg``) and mirrored+scaled
    views, all jittered except the first. The camera-frame joints average over every view; the
    canonical (gravity-aligned) joints over the views without rotation; the average is then smoothed
    over time (``pseudo_smooth`` frames: detector jitter, swaps and dropouts are short). ``agreement`` ``(B,)`` =
    ``exp(-rms / agreement_scale)`` with ``rms`` the views' RMS spread of the root-relative joints (m).
    With ``view_fit_deg > 0`` the camera-frame joints are then turned by the tilt that best explains the
    window's 2D (:func:`fit_view`; ``view_angle``) and ``view_fit`` = ``exp(-residual / view_fit_scale)``.
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
        out = {"rel": rel, "canon": canon, "out": mean_out, "agreement": agreement, "rms": rms}
        if a.view_fit_deg > 0:
            angle, res = fit_view(mean_out, feat, box, a.view_fit_deg)
            out.update(rel=rotate_pitch(rel, angle), view_angle=angle, view_fit=torch.exp(-res / a.view_fit_scale))
    return out


def rotate_pitch(rel: Tensor, angle: Tensor) -> Tensor:
    """Camera-frame joints ``(B, T, N, 3)`` turned by ``angle`` (``(B,)`` or per frame ``(B, T)``) rad about
    the camera's x axis (through the pelvis): the body seen from higher up for a positive angle (y down,
    z forward)."""
    angle = angle.reshape(angle.shape + (1,) * (rel.ndim - 1 - angle.ndim))
    c, s = angle.cos(), angle.sin()
    out = rel.clone()
    out[..., 1] = c * rel[..., 1] - s * rel[..., 2]
    out[..., 2] = s * rel[..., 1] + c * rel[..., 2]
    return out


def fit_view(out: Tensor, feat: Tensor, box: Tensor, max_deg: float, step_deg: float = 5.0) -> Tuple[Tensor, Tensor]:
    """The camera tilt that best explains a window's 2D: ``(angle (B,) rad, residual (B,))``.

    The predicted body (camera-frame joints about the predicted root) is turned rigidly, one angle per
    window in ``[-max_deg, max_deg]`` (grid of ``step_deg``, refined by a parabola), projected, aligned to
    the observed limb joints per frame by scale and shift, and scored by the confidence-weighted 2D
    distance (box units). Bone lengths and posture stay those of the prediction, so foreshortening
    reveals the view: a lifter that only saw eye-level cameras keeps the body upright in the camera
    frame when the video is filmed from above, and reprojecting the turned body says by how much.
    """
    with torch.no_grad():
        parts = G.split(out)
        root = G.camera_joints(parts, box)[..., :1, :]
        rel = parts["rel"][..., G.SMPL_OF_COCO, :]
        obs, w = feat[..., G.COCO_LIMBS, :2], feat[..., G.COCO_LIMBS, 2:3]
        wsum = w.sum(-2, keepdim=True).clamp_min(1e-6)
        b = obs - (obs * w).sum(-2, keepdim=True) / wsum
        n = int(round(max_deg / step_deg))
        grid = torch.arange(-n, n + 1, dtype=out.dtype, device=out.device) * math.radians(step_deg)
        res = []
        for a in grid:
            proj = G.project(rotate_pitch(rel, a.expand(rel.shape[0])) + root, box)
            pa = proj - (proj * w).sum(-2, keepdim=True) / wsum
            scale = (pa * b * w).sum((-1, -2), keepdim=True) / (pa ** 2 * w).sum((-1, -2), keepdim=True).clamp_min(1e-9)
            err = ((scale * pa - b).norm(dim=-1, keepdim=True) * w).sum(-2) / wsum[..., 0, :]
            res.append(err[..., 0].mean(-1))
        res = torch.stack(res, -1)  # (B, A)
        i = res.argmin(-1)
        lo, hi = (i - 1).clamp(0, len(grid) - 1), (i + 1).clamp(0, len(grid) - 1)
        r0, r1, r2 = res.gather(-1, lo[:, None])[:, 0], res.gather(-1, i[:, None])[:, 0], res.gather(-1, hi[:, None])[:, 0]
        curv = r0 - 2 * r1 + r2
        shift = torch.where((curv > 1e-9) & (lo < i) & (hi > i), 0.5 * (r0 - r2) / curv.clamp_min(1e-9), torch.zeros_like(r1))
        angle = grid[i] + shift.clamp(-0.5, 0.5) * math.radians(step_deg)
    return angle, r1


def refit_track_view(out: Tensor, feat: Tensor, box: Tensor, max_deg: float, window: int) -> Tensor:
    """Inference on a whole track ``(1, T, ...)``: the camera-frame joints of ``out`` turned by the tilt
    :func:`fit_view` finds on windows of ``window`` frames (half overlapping), interpolated linearly
    between the windows' centres so the turn changes smoothly. Returns the new ``rel (1, T, 22, 3)``."""
    T = out.shape[1]
    w = max(2, min(int(window), T))
    starts = sorted(set(list(range(0, T - w + 1, max(1, w // 2))) + [T - w]))
    angles, centres = [], []
    for s0 in starts:
        a, _ = fit_view(out[:, s0:s0 + w], feat[:, s0:s0 + w], box[:, s0:s0 + w], max_deg)
        angles.append(a)
        centres.append(s0 + (w - 1) / 2)
    ang = torch.cat(angles).double().numpy()
    per_frame = torch.from_numpy(np.interp(np.arange(T), np.array(centres), ang)).to(out)[None]
    return rotate_pitch(G.split(out)["rel"], per_frame)


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


def bone_prior_loss(out: Tensor, reference: Tensor) -> Tensor:
    """Mean relative L1 between the predicted bone lengths (camera-frame and canonical joints) and
    ``reference (21,)`` lengths (m) measured on the labelled source: the unlabelled target shows the
    same kind of bodies, so its limbs should not shrink to explain a view the source never had."""
    p = G.split(out)
    ref = reference.to(out)
    return sum(((G.bone_lengths(j) - ref).abs() / ref.clamp_min(1e-3)).mean() for j in (p["rel"], p["canon"])) / 2


def kabsch(src: Tensor, dst: Tensor) -> Tensor:
    """``(..., 3, 3)`` rotations ``R`` minimising ``|dst - R src|`` over the points of ``src``, ``dst``
    ``(..., N, 3)`` (no gradient: the rotation is a fixed target of the loss that uses it)."""
    with torch.no_grad():
        H = src.transpose(-1, -2) @ dst
        U, _, Vh = torch.linalg.svd(H)
        V = Vh.transpose(-1, -2)
        d = torch.sign(torch.linalg.det(V @ U.transpose(-1, -2)))
        D = torch.diag_embed(torch.stack([torch.ones_like(d), torch.ones_like(d), d], -1))
        return V @ D @ U.transpose(-1, -2)


def _align(a: Tensor, b: Tensor) -> Tensor:
    """``(..., 3, 3)`` the smallest rotation taking unit vectors ``a`` to ``b`` (Rodrigues)."""
    v = torch.cross(a, b, dim=-1)
    c = (a * b).sum(-1, keepdim=True)[..., None]
    vx = torch.zeros(a.shape[:-1] + (3, 3), dtype=a.dtype, device=a.device)
    vx[..., 0, 1], vx[..., 0, 2], vx[..., 1, 2] = -v[..., 2], v[..., 1], -v[..., 0]
    vx = vx - vx.transpose(-1, -2)
    eye = torch.eye(3, dtype=a.dtype, device=a.device).expand_as(vx)
    return eye + vx + vx @ vx / (1 + c).clamp_min(1e-6)


def view_consistency_loss(out: Tensor) -> Tensor:
    """The camera-frame and the gravity-aligned heads must show one body seen by one camera: per frame
    the canonical joints (pelvis-centred) rotated onto the camera-frame joints, with the rotation's
    "up" axis (gravity in the camera frame) replaced by its mean over the window (a camera holds its
    pitch and roll over a few seconds; the body's heading may turn). Mean joint distance (m) to that
    fixed target, both heads pulled towards each other. Needs no labels."""
    p = G.split(out)
    rel, canon = p["rel"], p["canon"]
    c = canon - canon[..., :1, :]
    R = kabsch(c, rel)  # (B, T, 3, 3): rel ~ R c
    with torch.no_grad():
        up = R[..., :, 2]
        mean_up = up.mean(dim=-2, keepdim=True)
        mean_up = mean_up / mean_up.norm(dim=-1, keepdim=True).clamp_min(1e-6)
        R = _align(up, mean_up.expand_as(up)) @ R
    ra = c @ R.transpose(-1, -2)
    return 0.5 * ((rel - ra.detach()).norm(dim=-1).mean() + (ra - rel.detach()).norm(dim=-1).mean())


def select_by_rank(conf: Tensor, threshold: float) -> Tensor:
    """``(B,)`` 0/1: the windows whose confidence ranks in the top ``1 - threshold`` of the batch (at least
    one). A batch-relative selection keeps choosing the best pseudo-labels when every confidence is high
    (or low), where an absolute threshold accepts everything (or nothing)."""
    B = conf.shape[0]
    k = max(1, int(round((1.0 - threshold) * B)))
    keep = torch.zeros_like(conf)
    keep[torch.topk(conf, k).indices] = 1.0
    return keep


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


def anchor_values(lifter: torch.nn.Module, state: Dict[str, torch.Tensor]) -> Dict[str, torch.Tensor]:
    """Copies of ``state``'s entries for the lifter's parameters outside the target's own stage (the weights
    ``adapt.anchor_decay`` pulls toward)."""
    own = {id(p) for p in lifter.target_stage_parameters()}
    return {n: state[n].detach().clone().to(p.device) for n, p in lifter.named_parameters() if id(p) not in own}


@torch.no_grad()
def pull_toward(lifter: torch.nn.Module, anchor: Dict[str, torch.Tensor], rate: float) -> None:
    """Move each anchored parameter the fraction ``rate`` (clamped to [0, 1]) of the way to its anchor: a
    decoupled decay (as AdamW's) toward the source-only weights rather than toward zero, outside the optimiser
    so Adam's scaling does not undo it (an L2 term's gradient would be normalised away)."""
    rate = min(max(float(rate), 0.0), 1.0)
    for n, p in lifter.named_parameters():
        if n in anchor:
            p.lerp_(anchor[n], rate)
