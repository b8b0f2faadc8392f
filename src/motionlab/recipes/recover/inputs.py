"""Input-space pieces of the ``recover`` training: detector confidences and masks on source windows.

The labelled source tracks are clean projections with confidence 1 everywhere, so a lifter trained on
them alone never learns what a confidence below 1 or a masked joint means. Two remedies, both on the
box-normalised inputs ``feat (B, T, 17, 3)`` (x, y, confidence; masked joints are all zero):

* :func:`randomise_confidence` (``data.source_conf_aug``, no target data): generic detector-like
  confidences, masked joints and noise that grows as the confidence falls; the source-only baseline
  gets it too.
* :class:`TargetInputModel` (``adapt.input_transfer``, unlabelled target tracks only): the
  confidence/mask patterns of real target windows pasted onto source windows, with position noise
  whose size per confidence level is measured on the target tracks themselves (from the second
  differences over time of their 2D joints, minus what the source's own tracks show), never from
  target 3D.
"""

from __future__ import annotations

from typing import Optional

import numpy as np
import torch
from torch import Tensor

from motionlab.recipes.recover import geometry as G

#: confidence bins of the target noise model (upper edges; the last bin holds confidence 1)
CONF_EDGES = np.linspace(0.1, 1.0, 10)


def _second_difference_sigma(feat: np.ndarray, edges: np.ndarray) -> np.ndarray:
    """Per-confidence-bin noise sigma (box units) of ``feat (N, T, 17, 3)`` windows.

    For every joint seen on three consecutive frames, ``r = x[t] - (x[t-1] + x[t+1]) / 2``; with
    independent noise of variance ``v[b]`` in confidence bin ``b``, ``E r^2 = v[b_t] + (v[b_{t-1}] +
    v[b_{t+1}]) / 4`` per coordinate, solved for ``v`` by least squares over all triples (slow motion
    adds a little to every bin; the caller subtracts the source's level). Bins with fewer than 20
    triples: NaN.
    """
    x, c = feat[..., :2], feat[..., 2]
    ok = (c[:, :-2] > 0) & (c[:, 1:-1] > 0) & (c[:, 2:] > 0)
    r = x[:, 1:-1] - 0.5 * (x[:, :-2] + x[:, 2:])
    y = (r ** 2).sum(-1)[ok] / 2.0  # per coordinate
    nb = len(edges)

    def bins(cc):
        return np.clip(np.searchsorted(edges, cc[ok], side="left"), 0, nb - 1)

    A = np.zeros((y.shape[0], nb))
    rows = np.arange(y.shape[0])
    np.add.at(A, (rows, bins(c[:, 1:-1])), 1.0)
    np.add.at(A, (rows, bins(c[:, :-2])), 0.25)
    np.add.at(A, (rows, bins(c[:, 2:])), 0.25)
    counts = np.bincount(bins(c[:, 1:-1]), minlength=nb)
    seen = counts >= 20
    out = np.full(nb, np.nan)
    if seen.any():
        sol, *_ = np.linalg.lstsq(A[:, seen], y, rcond=None)
        out[seen] = np.sqrt(np.maximum(sol, 0.0))
    return out


class TargetInputModel:
    """Confidence patterns and the noise-vs-confidence curve of the unlabelled target windows.

    ``target_feat (N, T, 17, 3)`` and ``source_feat`` (the labelled windows, to subtract the noise and
    motion that the source already has) are numpy arrays of lifter inputs.
    """

    def __init__(self, target_feat: np.ndarray, source_feat: Optional[np.ndarray] = None) -> None:
        self.conf = torch.from_numpy(np.ascontiguousarray(target_feat[..., 2], dtype=np.float32))
        tgt = _second_difference_sigma(target_feat, CONF_EDGES)
        src = _second_difference_sigma(source_feat, CONF_EDGES) if source_feat is not None else np.zeros_like(tgt)
        base = np.nanmin(src) if np.isfinite(src).any() else 0.0
        known = np.isfinite(tgt)
        if not known.any():
            tgt = np.zeros_like(tgt)
        else:  # empty bins take the nearest measured one
            pos = np.arange(len(tgt))
            tgt = np.interp(pos, pos[known], tgt[known])
        self.sigma = torch.from_numpy(np.sqrt(np.maximum(tgt ** 2 - base ** 2, 0.0)).astype(np.float32))

    def apply(self, feat: Tensor, gen: torch.Generator, fraction: float) -> Tensor:
        """``feat`` with a random ``fraction`` of its windows given target confidence patterns (joints the
        target masks are masked) and the target's noise for their confidence."""
        B, T = feat.shape[:2]
        pick = torch.rand(B, generator=gen) < fraction
        if not pick.any() or self.conf.shape[0] == 0:
            return feat
        n = int(pick.sum())
        idx = torch.randint(0, self.conf.shape[0], (n,), generator=gen)
        Tt = self.conf.shape[1]
        start = torch.randint(0, max(1, Tt - T + 1), (1,), generator=gen).item() if Tt >= T else 0
        conf = self.conf[idx][:, start:start + T]
        if conf.shape[1] < T:  # target windows shorter than the source's: repeat
            conf = conf.repeat(1, -(-T // conf.shape[1]), 1)[:, :T]
        conf = conf.to(feat)
        out = feat.clone()
        sub = out[pick]
        valid = (conf > 0) & (sub[..., 2] > 0)
        bins = torch.bucketize(conf.clamp(0.0, 1.0), torch.from_numpy(CONF_EDGES.astype(np.float32)).to(feat))
        sig = self.sigma.to(feat)[bins.clamp(0, len(CONF_EDGES) - 1)]
        noise = torch.randn(sub[..., :2].shape, generator=gen).to(feat) * sig[..., None]
        sub = torch.cat([sub[..., :2] + noise, conf[..., None]], -1)
        out[pick] = torch.where(valid[..., None], sub, torch.zeros_like(sub))
        return out


def randomise_confidence(feat: Tensor, gen: torch.Generator, fraction: float, drop: float = 0.05,
                         noise: float = 0.05) -> Tensor:
    """Generic detector-like inputs on a random ``fraction`` of the windows (no target data): confidences
    ``1 - |N(0, 0.3)|`` clipped to [0.1, 1], a fraction ``drop`` of the joints masked, and Gaussian noise
    of ``noise x (1 - confidence)`` box units on the others."""
    B = feat.shape[0]
    pick = torch.rand(B, generator=gen) < fraction
    if not pick.any():
        return feat
    out = feat.clone()
    sub = out[pick]
    conf = (1 - torch.randn(sub[..., 2].shape, generator=gen).abs() * 0.3).clamp(0.1, 1.0).to(feat)
    gone = torch.rand(conf.shape, generator=gen).to(feat.device) < drop
    jit = torch.randn(sub[..., :2].shape, generator=gen).to(feat) * (noise * (1 - conf))[..., None]
    sub = torch.cat([sub[..., :2] + jit, conf[..., None]], -1)
    valid = (~gone) & (feat[pick][..., 2] > 0)
    out[pick] = torch.where(valid[..., None], sub, torch.zeros_like(sub))
    return out


def window_pitch(rel: Tensor, canon: Tensor) -> Tensor:
    """``(B,)`` camera tilt (rad; positive = the body seen from above) of windows of camera-frame joints
    ``rel`` and gravity-aligned joints ``canon`` ``(B, T, 22, 3)``: the "up" axis of ``canon`` in the camera
    frame, from a per-frame rotation of one onto the other, averaged over the window."""
    from motionlab.recipes.recover import adapt as A

    up = A.kabsch(canon - canon[..., :1, :], rel)[..., :, 2].mean(1)  # (B, 3)
    return torch.atan2(-up[:, 2], -up[:, 1])


class TiltBank:
    """The camera tilts fitted to recent unlabelled target windows (a ring of ``size``), to draw views of
    the labelled source from (:func:`review_source`)."""

    def __init__(self, size: int = 1024) -> None:
        self.values = torch.zeros(0)
        self.size = int(size)

    def add(self, tilts: Tensor) -> None:
        self.values = torch.cat([self.values, tilts.detach().float().cpu()])[-self.size:]

    def draw(self, n: int, gen: torch.Generator) -> Tensor:
        return self.values[torch.randint(0, len(self.values), (n,), generator=gen)]


def review_source(feat: Tensor, box: Tensor, target: Tensor, angle: Tensor, noise: float,
                  gen: torch.Generator) -> tuple:
    """Labelled source windows seen from a camera tilted by ``angle (B,)`` rad more (about its x axis,
    through the pelvis, so the person stays in view): ``(feat, box, target)`` rebuilt from the true 3D.

    The limb joints come from the true camera-frame joints; the face points (not in SMPL-22) from their
    observed 2D at the head's depth. The box is remeasured and smoothed as :func:`~motionlab.recipes.recover.geometry.person_box`
    does; masked joints stay masked; ``noise`` (box units) of Gaussian jitter replaces the detector noise
    the clean rebuild loses. The gravity-aligned targets (posture, root motion) do not depend on the view.
    """
    from motionlab.recipes.recover import adapt as A

    p = G.split(target)
    cam = G.camera_joints(p, box)  # (B, T, 22, 3)
    root = cam[..., :1, :]
    s = box[..., 2:3].exp()[..., None]  # (B, T, 1, 1)
    z_head = cam[..., 15:16, 2:3]
    face_uv = box[..., None, :2] + feat[..., :5, :2] * s
    face = torch.cat([face_uv * z_head, z_head.expand_as(face_uv[..., :1])], -1) - root
    rel17 = torch.cat([face, (cam - root)[..., G.SMPL_OF_COCO, :]], -2)
    rel17 = A.rotate_pitch(rel17, angle)
    rel22 = A.rotate_pitch(p["rel"], angle)
    pts = rel17 + root
    uv = pts[..., :2] / pts[..., 2:3].clamp_min(0.05)
    valid = feat[..., 2] > 0
    big = torch.where(valid[..., None], uv, torch.full_like(uv, float("inf"))).amin(-2)
    small = torch.where(valid[..., None], uv, torch.full_like(uv, -float("inf"))).amax(-2)
    ok = valid.sum(-1, keepdim=True) >= 3
    centre = torch.where(ok, (big + small) / 2, box[..., :2])
    size = torch.where(ok[..., 0], (small - big).amax(-1).clamp_min(1e-3), box[..., 2].exp())
    new_box = A.smooth_time(torch.cat([centre, size.log()[..., None]], -1), 2.0)
    xy = (uv - new_box[..., None, :2]) / new_box[..., None, 2:3].exp()
    xy = xy + torch.randn(xy.shape, generator=gen).to(xy) * noise
    new_feat = torch.where(valid[..., None], torch.cat([xy, feat[..., 2:3]], -1), torch.zeros_like(feat))
    z = root[..., 0, 2].clamp_min(1e-3)
    ns = new_box[..., 2].exp()
    rt = torch.stack([(root[..., 0, 0] / z - new_box[..., 0]) / ns, (root[..., 0, 1] / z - new_box[..., 1]) / ns,
                      (z * ns).log()], -1)
    sh = target.shape[:-1]
    new_target = torch.cat([rel22.reshape(*sh, -1), rt, target[..., G.J * 3 + 3:]], -1)
    return new_feat, new_box, new_target
