"""Chunked generation with a trained gesture model.

A sequence of ``T`` frames is generated in chunks of ``model.chunk`` (64) frames that overlap by
``model.seed_frames`` (4): chunk ``k`` covers frames ``[k * 60, k * 60 + 64)``; its first 4 frames are
seeds (the latents of the previous chunk's last 4 frames; for the first chunk a given motion, else the
training mean pose or the rest pose, ``model.seed_pose``), the rest is masked as in the ``full`` training
pass. The speech features (wave encoder, words, fusion) and, for dyadic models, the partner features are
computed once over the whole take (the per-frame arrays cut with ``round(f * sr / fps)`` offsets, the last
chunk padded with silence) and cut per chunk.
Chunks run one after another or, with ``model.infer_passes = n``, all at once as one batch ``n`` times.
Where a chunk meets the previous one its offset is faded out and its first frames are faded in from the
previous chunk's motion (``model.seam_blend``, ``model.seam_fade``), so the seams carry no jump. The
latents of all chunks are decoded **once** over the whole sequence by each part's VQ decoder, so chunk
seams pass through the decoder's convolutions like any other frame. The root comes from the regressed root
channels, integrated from the first frame.
"""

from __future__ import annotations

from typing import Dict, List, Optional, Union

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


SEED_POSES = ("mean", "rest")


def seed_parts(data_norm, parts: List[str], fps: float, num_expressions: int, seed: Optional[Motion] = None,
               frames: int = 4, pose: str = "mean") -> Dict[str, np.ndarray]:
    """Normalised part features ``(frames, D)`` of the seed frames: the first ``frames`` of ``seed`` when given,
    else ``pose``: ``"mean"`` (every part at its training mean, normalised zeros: a pose the model has seen) or
    ``"rest"`` (the canonical rest pose, arms out and hands flat, which the training data rarely holds: the
    first chunk then starts with a transition out of it)."""
    if seed is None and pose not in SEED_POSES:
        from motionlab.errors import choices_error

        raise choices_error("seed pose", pose, SEED_POSES, place="model.seed_pose")
    if seed is None and pose == "mean":
        return {p: np.zeros((frames, len(data_norm[p].mean)), np.float32) for p in parts}
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


def crossfade_weights(n: int) -> np.ndarray:
    """``(n,)`` weights of the new chunk over the ``n`` overlap frames: a smoothstep from 0 to 1 (exclusive),
    so that value and velocity pass continuously from the previous chunk's frames to the new chunk's."""
    u = np.arange(1, n + 1, dtype=np.float64) / (n + 1)
    return (u * u * (3.0 - 2.0 * u)).astype(np.float32)


def offset_decay(chunk: int, seed_frames: int, blend: int) -> np.ndarray:
    """``(chunk,)`` share of the seam offset a chunk carries per frame: 1 up to the last seed frame, then a
    half cosine down to 0 over ``blend`` frames (0 beyond; all 0 when ``blend`` is 0)."""
    g = np.zeros(chunk, np.float32)
    if blend <= 0:
        return g
    j = np.arange(chunk) - (seed_frames - 1)
    g[j <= 0] = 1.0
    mid = (j > 0) & (j < blend)
    g[mid] = 0.5 * (1.0 + np.cos(np.pi * j[mid] / blend))
    return g


def _chunked(x: torch.Tensor, starts: List[int], chunk: int) -> torch.Tensor:
    """``(1, T', ...)`` (already padded to ``starts[-1] + chunk``) -> ``(K, chunk, ...)``."""
    return torch.stack([x[0, s:s + chunk] for s in starts])


def _seeds(model, out: Dict[str, torch.Tensor], decode: Dict[str, str], seed_frames: int) -> torch.Tensor:
    """The next chunks' seed latents ``(B, seed_frames, S)``: the last ``seed_frames`` frames of ``out``."""
    zs = []
    for p in model.parts:
        if decode[p] == "codes":
            zs.append(model.code_latents(p, out[f"logits_{p}"][:, -seed_frames:].argmax(-1)))
        else:
            zs.append(out[f"latent_{p}"][:, -seed_frames:])
    return torch.cat(zs, dim=-1)


def _pick_codes(logits: torch.Tensor, temperature: float, seed: int) -> torch.Tensor:
    """``(..., K)`` logits -> codes: argmax, or samples at ``temperature`` (a generator seeded by ``seed``)."""
    if temperature <= 0:
        return logits.argmax(-1)
    g = torch.Generator(device=logits.device).manual_seed(int(seed))
    prob = torch.softmax(logits.float() / temperature, dim=-1)
    return torch.multinomial(prob.reshape(-1, prob.shape[-1]), 1, generator=g).reshape(prob.shape[:-1])


@torch.inference_mode()
def generate_sequence(model, cond: Dict[str, np.ndarray], seed: Dict[str, np.ndarray], speaker: int = 0,
                      chunk: int = 64, seed_frames: int = 4, zero_partner: bool = False,
                      decode: Union[str, Dict[str, str]] = "codes", passes: int = 0,
                      seam_blend: int = 16, seam_fade: int = 6, temperature: float = 0.0,
                      sample_seed: int = 0, root_smooth: float = 0.0,
                      seam_fade_parts: Optional[Dict[str, int]] = None) -> Dict[str, np.ndarray]:
    """Codes, decoded normalised parts and the normalised root of one whole sequence.

    ``cond``: per-frame ``audio (T, W)``, ``afeat (T, 2)``, ``word (T,)`` and, for dyadic models,
    ``p_motion``, ``p_audio``, ``p_afeat`` (normalised); ``seed``: ``{part: (seed_frames, D)}`` normalised.
    ``zero_partner`` replaces the partner inputs by zeros (the partner-zeroed twin). ``decode``: ``"codes"``
    (argmax codes -> codebook latents -> VQ decoder, the seed's path) or ``"latents"`` (the generator's
    regressed latents, smoothed by the velocity and acceleration losses, straight into the VQ decoder; the
    seeds carried between chunks are then those latents too); a ``{part: mode}`` dict sets it per part.

    ``temperature``: codes are the argmax of the logits (0) or drawn from ``softmax(logits / temperature)``
    with a generator seeded by ``sample_seed`` (the codes placed on the timeline; seeds stay argmax).
    ``root_smooth``: sigma in frames of a Gaussian filter along time over the regressed root channels of the
    whole sequence (0 = none). Frame-to-frame noise of the regressed root velocity moves every joint: it is
    what makes the body jerk (mean jerk 2x the real motion's at sigma 0) and it also adds spurious motion
    beats that inflate BC; a sigma of 1 frame brings the jerk back to the real motion's.

    The speech (and partner) features are computed once over the whole take, then cut per chunk.
    ``passes``: ``0`` runs the chunks one after another, each seeded by the previous chunk's last
    ``seed_frames`` outputs; ``n >= 1`` runs all chunks as one batch ``n`` times, the first time with the
    later chunks fully masked, then each seeded by the previous pass's output of the chunk before it (the
    first ``n`` chunks are then exactly the sequential result; later ones follow it closely, the seeds'
    influence fading within a chunk).

    Seams (``seam_blend`` frames; 0 = a hard switch at the first generated frame): a chunk's own outputs at
    its seed frames are not exactly the seeds it was given, and its continuation follows its outputs. So each
    chunk after the first is shifted by the offset between the previous chunk's last seed-frame latents (and
    root channels) and its own, an offset that fades out with a half cosine over ``seam_blend`` frames after
    the seeds (:func:`offset_decay`). A chunk's first generated frames are also a start-up transient
    (its scans start from an empty state), so its first ``seam_fade`` frames after the seeds are faded in
    with smoothstep weights (:func:`crossfade_weights`) from the previous chunk's motion continued at its
    last velocity. Position and velocity pass the seam continuously. ``seam_fade_parts`` (``{part: frames}``)
    sets that fade-in per part (``root`` names the regressed root), e.g. longer for the regressed latents
    than for the codebook latents of argmax codes, whose extrapolation leaves the codebook.
    Returns ``{"idx_<p>": (T,), "<p>": (T, D) normalised, "root": (T, 4) normalised, "starts": chunk starts}``.
    """
    from motionlab.errors import MotionLabError, choices_error

    parts = model.parts
    decode = {p: decode for p in parts} if isinstance(decode, str) else {p: decode.get(p, "codes") for p in parts}
    fades = {n: int((seam_fade_parts or {}).get(n, seam_fade)) for n in list(parts) + ["root"]}
    for n in seam_fade_parts or {}:
        if n not in fades:
            raise choices_error("seam_fade_parts part", n, tuple(fades), place="model.seam_fade_parts")
    for n, f in fades.items():
        if f < 0 or f > chunk - seed_frames:
            raise MotionLabError(f"seam fade of {n!r} must be 0..{chunk - seed_frames} frames, got {f}",
                                 place="model.seam_fade_parts" if n in (seam_fade_parts or {}) else "model.seam_fade")
    for mode in decode.values():
        if mode not in ("codes", "latents"):
            raise choices_error("decode mode", mode, ("codes", "latents"), place="model.decode")
    if passes < 0:
        raise MotionLabError(f"inference passes must be >= 0 (0 = one chunk after another), got {passes}",
                             place="model.infer_passes")
    model.eval()
    gen = model.generator
    T = len(cond["audio"])
    dev = next(model.parameters()).device
    starts = chunk_starts(T, chunk, seed_frames)
    K, T_pad = len(starts), starts[-1] + chunk
    keys = list(SPEECH_KEYS) + ([k for k in PARTNER_KEYS if k in cond] if gen.dyadic else [])
    whole = {key: torch.from_numpy(_pad(np.array(cond[key]), T_pad)[None]).to(dev) for key in keys}
    if zero_partner:
        for key in PARTNER_KEYS:
            if key in whole:
                whole[key] = torch.zeros_like(whole[key])
    ctx = {k: _chunked(v, starts, chunk) for k, v in gen.context(whole).items()}  # (K, chunk, H)
    spk = torch.full((K,), int(speaker), dtype=torch.long, device=dev)
    first = torch.cat([model.vqs[p].quantizer(model.vqs[p].encoder(torch.from_numpy(seed[p][None]).to(dev))).z_q
                       for p in parts], dim=-1)[:, :seed_frames]  # (1, seed, S)
    S = first.shape[-1]
    outs: Dict[str, torch.Tensor]
    if passes == 0:
        per: List[Dict[str, torch.Tensor]] = []
        prev = first
        for k in range(K):
            lat = torch.zeros(1, chunk, S, device=dev)
            lat[:, :seed_frames] = prev
            mask = torch.ones(1, chunk, S, dtype=torch.bool, device=dev)
            mask[:, :seed_frames] = False
            o = gen(lat, mask, {"speaker": spk[k:k + 1]}, context={n: v[k:k + 1] for n, v in ctx.items()})
            per.append(o)
            prev = _seeds(model, o, decode, seed_frames)
        outs = {n: torch.cat([o[n] for o in per]) for n in per[0]}
    else:
        lat = torch.zeros(K, chunk, S, device=dev)
        mask = torch.ones(K, chunk, S, dtype=torch.bool, device=dev)
        lat[0, :seed_frames] = first[0]
        mask[0, :seed_frames] = False
        for n in range(passes):
            outs = gen(lat, mask, {"speaker": spk}, context=ctx)
            if n + 1 < passes and K > 1:
                lat = lat.clone()
                lat[1:, :seed_frames] = _seeds(model, outs, decode, seed_frames)[:-1]
                mask[1:, :seed_frames] = False
    # per-chunk latents to place on the timeline (codes mode: the argmax codes' codebook latents)
    idx = {p: _pick_codes(outs[f"logits_{p}"], temperature, sample_seed) for p in parts}  # (K, chunk)
    zc = {p: model.code_latents(p, idx[p]) if decode[p] == "codes" else outs[f"latent_{p}"] for p in parts}
    zc["root"] = outs["root"]
    line = {n: torch.zeros(T_pad, v.shape[-1], device=dev) for n, v in zc.items()}
    codes = {p: torch.zeros(T_pad, dtype=torch.long, device=dev) for p in parts}
    if not (seam_blend > 0 and seed_frames > 1):
        fades = {n: 0 for n in fades}
    weights = {n: torch.from_numpy(crossfade_weights(f)).to(dev)[:, None] for n, f in fades.items()}
    decay = torch.from_numpy(offset_decay(chunk, seed_frames, seam_blend)).to(dev)[:, None]
    for k, s in enumerate(starts):
        lo = 0 if k == 0 else seed_frames
        for n, v in zc.items():
            x = v[k]
            if k > 0 and seam_blend > 0 and seed_frames > 0:
                end = line[n][s + seed_frames - 1]
                x = x + decay * (end - x[seed_frames - 1])
                fade, w = fades[n], weights[n]
                if fade > 0:
                    j = torch.arange(1, fade + 1, device=dev, dtype=x.dtype)[:, None]
                    ahead = end + j * (end - line[n][s + seed_frames - 2])
                    x = x.clone()
                    x[seed_frames:seed_frames + fade] = (1 - w) * ahead + w * x[seed_frames:seed_frames + fade]
            line[n][s + lo:s + chunk] = x[lo:]
        for p in parts:
            codes[p][s + lo:s + chunk] = idx[p][k, lo:]
    if root_smooth < 0:
        raise MotionLabError(f"root smoothing sigma must be >= 0 frames (0 = none), got {root_smooth}",
                             place="model.root_smooth")
    if root_smooth > 0:
        from scipy.ndimage import gaussian_filter1d

        r = line["root"][:T]  # the take's frames only: the padding after its end must not leak in
        line["root"][:T] = torch.from_numpy(gaussian_filter1d(r.cpu().numpy(), float(root_smooth), axis=0,
                                                              mode="nearest")).to(dev, r.dtype)
    res: Dict[str, np.ndarray] = {"root": line["root"][:T].cpu().numpy(), "starts": np.asarray(starts, np.int64)}
    for p in parts:
        res[f"idx_{p}"] = codes[p][:T].cpu().numpy()
        res[p] = model.vqs[p].decoder(line[p][None, :T])[0].cpu().numpy()
    return res


def infer_options(cfg) -> Dict[str, object]:
    """The keyword arguments of :func:`generate_sequence` that a run's config fixes."""
    m = cfg.model
    decode = {p: m.decode_parts.get(p, m.decode) for p in m.parts}
    return {"chunk": m.chunk, "seed_frames": m.seed_frames, "decode": decode, "passes": m.infer_passes,
            "seam_blend": m.seam_blend, "seam_fade": m.seam_fade, "temperature": m.code_temperature,
            "root_smooth": m.root_smooth, "seam_fade_parts": dict(m.seam_fade_parts)}


def denormalize_parts(gen: Dict[str, np.ndarray], normalizers, parts: List[str]) -> Dict[str, np.ndarray]:
    """Raw part features and the raw regressed root ``(T, 4)`` of :func:`generate_sequence` output."""
    out = {p: np.asarray(normalizers[p].denormalize(gen[p].astype(np.float64))) for p in parts}
    low = normalizers["lower"]
    out["root"] = gen["root"] * low.std[:ROOT_REGRESSED] + low.mean[:ROOT_REGRESSED]
    return out
