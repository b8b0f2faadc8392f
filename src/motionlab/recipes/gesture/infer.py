"""Chunked generation with a trained gesture model.

A sequence of ``T`` frames is generated in chunks of ``model.chunk`` (64) frames that overlap by
``model.seed_frames`` (4): chunk ``k`` covers frames ``[k * 60, k * 60 + 64)``; its first 4 frames are
seeds (the latents of the previous chunk's last 4 predicted codes; for the first chunk the rest pose or a
given motion), the rest is masked as in the ``full`` training pass. Each chunk reads the speech features
of exactly its frames (the per-frame arrays are cut from the whole take with ``round(f * sr / fps)``
offsets); the last chunk is padded with silence. The codes of all chunks are decoded **once** over the
whole sequence by each part's VQ decoder, so chunk seams pass through the decoder's convolutions like any
other frame. The root comes from the regressed root channels, integrated from the first frame.
"""

from __future__ import annotations

from typing import Dict, List, Optional

import numpy as np
import torch

from motionlab.core.body import smpl22_skeleton
from motionlab.core.motion import Motion
from motionlab.recipes.gesture.parts import ROOT_REGRESSED, part_features

SPEECH_KEYS = ("audio", "afeat", "word")
PARTNER_KEYS = ("p_motion", "p_audio", "p_afeat")


def rest_motion(fps: float, frames: int = 4) -> Motion:
    """The canonical body standing in its rest pose (feet on the floor), hands flat, face neutral."""
    sk = smpl22_skeleton()
    pos, _ = sk.rest_fk()
    low = min(pos[:, 2].min(), *[pos[j, 2] + o[2] for j, o in sk.end_sites.items()])
    root = np.tile([0.0, 0.0, -low], (frames, 1))
    q = np.zeros((frames, sk.num_joints, 4))
    q[..., 0] = 1.0
    return Motion(fps, sk, root, q)


def seed_parts(data_norm, parts: List[str], fps: float, num_expressions: int, seed: Optional[Motion] = None,
               frames: int = 4) -> Dict[str, np.ndarray]:
    """Normalised part features ``(frames, D)`` of the seed motion (default: the rest pose)."""
    m = seed if seed is not None else rest_motion(fps, frames)
    if m.num_frames < frames:
        m = m.slice(0, m.num_frames)
    f = part_features(m, num_expressions)
    out = {}
    for p in parts:
        x = f[p][:frames]
        if len(x) < frames:
            x = np.concatenate([x, np.repeat(x[-1:], frames - len(x), 0)])
        out[p] = np.asarray(data_norm[p](x.astype(np.float32)), np.float32)
    return out


def chunk_starts(T: int, chunk: int, seed: int) -> List[int]:
    step = chunk - seed
    starts = [0]
    while starts[-1] + chunk < T:
        starts.append(starts[-1] + step)
    return starts


def _pad(x: np.ndarray, n: int) -> np.ndarray:
    if len(x) >= n:
        return x[:n]
    return np.concatenate([x, np.zeros((n - len(x),) + x.shape[1:], x.dtype)])


@torch.no_grad()
def generate_sequence(model, cond: Dict[str, np.ndarray], seed: Dict[str, np.ndarray], speaker: int = 0,
                      chunk: int = 64, seed_frames: int = 4, zero_partner: bool = False,
                      decode: str = "codes") -> Dict[str, np.ndarray]:
    """Codes, decoded normalised parts and the normalised root of one whole sequence.

    ``cond``: per-frame ``audio (T, W)``, ``afeat (T, 2)``, ``word (T,)`` and, for dyadic models,
    ``p_motion``, ``p_audio``, ``p_afeat`` (normalised); ``seed``: ``{part: (seed_frames, D)}`` normalised.
    ``zero_partner`` replaces the partner inputs by zeros (the partner-zeroed twin). ``decode``: ``"codes"``
    (argmax codes -> codebook latents -> VQ decoder, the seed's path) or ``"latents"`` (the generator's
    regressed latents, smoothed by the velocity and acceleration losses, straight into the VQ decoder; the
    seeds carried between chunks are then those latents too).
    Returns ``{"idx_<p>": (T,), "<p>": (T, D) normalised, "root": (T, 4) normalised, "starts": chunk starts}``.
    """
    model.eval()
    parts = model.parts
    T = len(cond["audio"])
    dev = next(model.parameters()).device
    tokens = {}
    for p in parts:
        z = model.vqs[p].quantizer(model.vqs[p].encoder(torch.from_numpy(seed[p][None]).to(dev)))
        tokens[p] = z.z_q[0]
    prev = torch.cat([tokens[p] for p in parts], dim=-1)[:seed_frames]  # (seed, S)
    S = prev.shape[-1]
    if decode not in ("codes", "latents"):
        from motionlab.errors import choices_error

        raise choices_error("decode mode", decode, ("codes", "latents"), place="model.decode")
    codes = {p: np.zeros(T, np.int64) for p in parts}
    lats = {p: torch.zeros(T, model.generator.lat[p], device=dev) for p in parts}
    root = np.zeros((T, ROOT_REGRESSED), np.float32)
    starts = chunk_starts(T, chunk, seed_frames)
    keys = list(SPEECH_KEYS) + ([k for k in PARTNER_KEYS if k in cond] if model.generator.dyadic else [])
    for k, s in enumerate(starts):
        batch = {key: torch.from_numpy(_pad(np.asarray(cond[key][s:s + chunk]), chunk)[None]).to(dev) for key in keys}
        if zero_partner:
            for key in PARTNER_KEYS:
                if key in batch:
                    batch[key] = torch.zeros_like(batch[key])
        batch["speaker"] = torch.tensor([int(speaker)], device=dev)
        lat = torch.zeros(1, chunk, S, device=dev)
        lat[0, :seed_frames] = prev
        mask = torch.ones(1, chunk, S, dtype=torch.bool, device=dev)
        mask[:, :seed_frames] = False
        out = model.generator(lat, mask, batch, speech=True, words=True)
        lo = 0 if k == 0 else seed_frames
        hi = min(chunk, T - s)
        zs = []
        for p in parts:
            idx = out[f"logits_{p}"][0].argmax(-1)
            codes[p][s + lo:s + hi] = idx[lo:hi].cpu().numpy()
            lats[p][s + lo:s + hi] = out[f"latent_{p}"][0, lo:hi]
            zs.append(model.code_latents(p, idx[None])[0] if decode == "codes" else out[f"latent_{p}"][0])
        root[s + lo:s + hi] = out["root"][0, lo:hi].cpu().numpy()
        prev = torch.cat(zs, dim=-1)[chunk - seed_frames:chunk]
    res: Dict[str, np.ndarray] = {"root": root, "starts": np.asarray(starts, np.int64)}
    for p in parts:
        res[f"idx_{p}"] = codes[p]
        if decode == "codes":
            res[p] = model.decode(p, torch.from_numpy(codes[p][None]).to(dev))[0].cpu().numpy()
        else:
            res[p] = model.vqs[p].decoder(lats[p][None])[0].cpu().numpy()
    return res


def denormalize_parts(gen: Dict[str, np.ndarray], normalizers, parts: List[str]) -> Dict[str, np.ndarray]:
    """Raw part features and the raw regressed root ``(T, 4)`` of :func:`generate_sequence` output."""
    out = {p: np.asarray(normalizers[p].denormalize(gen[p].astype(np.float64))) for p in parts}
    low = normalizers["lower"]
    out["root"] = gen["root"] * low.std[:ROOT_REGRESSED] + low.mean[:ROOT_REGRESSED]
    return out
