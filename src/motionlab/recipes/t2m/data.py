"""Captioned motion windows for ``t2m`` and ``t2m_evaluator``: the corpus or a HumanML3D folder.

Every clip becomes ``(T, 263)`` features (:mod:`motionlab.io.humanml3d`) at ``data.fps`` with its
captions; clips are split by clip (the corpus' own split, HumanML3D's split files, or
:func:`motionlab.data.windows.assign_splits`), then cut into windows of ``data.window`` frames every
``data.stride`` frames (:func:`motionlab.data.windows.window_starts`); a clip shorter than a window is
one padded window. Statistics come from the training windows' valid frames only (or the folder's
``Mean.npy``/``Std.npy``) and are saved as ``normalization_humanml3d.npz``.
"""

from __future__ import annotations

import functools
import json
import os
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Dict, List, Optional, Tuple

import lightning as L
import numpy as np
import torch
from torch.utils.data import DataLoader, Dataset

from motionlab.data.windows import SPLITS, Normalizer, assign_splits, window_starts
from motionlab.errors import MotionLabError
from motionlab.io import humanml3d as hml
from motionlab.recipes.t2m.config import T2MDataConfig

STREAM = "humanml3d"
ROOT_REPRS = ("rate", "absolute")


def absolute_heading(features):
    """Features ``(..., T, 263)`` with the root yaw-rate channel 0 replaced by the cumulative heading (rad, 0 at
    the first frame, the yaw :func:`motionlab.io.humanml3d.recover_root` integrates): each frame carries its own
    heading instead of a rate summed over the window. Numpy in, numpy out; torch keeps the graph."""
    was_np = not isinstance(features, torch.Tensor)
    x = torch.as_tensor(features)
    theta, _ = hml.recover_root(x[..., :4])
    out = torch.cat([theta[..., None].to(x.dtype), x[..., 1:]], -1)
    return out.numpy() if was_np else out


def rate_heading(features):
    """The inverse of :func:`absolute_heading`: the yaw-rate channel (half the heading step to the next frame)
    from the cumulative heading; the last frame, which has no next, repeats the previous rate."""
    was_np = not isinstance(features, torch.Tensor)
    x = torch.as_tensor(features)
    theta = x[..., 0]
    half = 0.5 * (theta[..., 1:] - theta[..., :-1])
    half = torch.cat([half, half[..., -1:] if half.shape[-1] else torch.zeros_like(theta)], -1)
    out = torch.cat([half[..., None], x[..., 1:]], -1)
    return out.numpy() if was_np else out


class RootCodec:
    """The normaliser of a run with ``model.root_repr=absolute``: ``normalize`` takes raw 263-d features of one
    window and returns the model's normalised absolute-heading features, ``denormalize`` the reverse (so every
    caller of a run's normaliser keeps seeing the 263-d HumanML3D layout). ``inner``: the statistics of the
    absolute-heading features."""

    def __init__(self, inner: Normalizer) -> None:
        self.inner = inner
        self.mean, self.std = inner.mean, inner.std

    def normalize(self, x):
        return self.inner(absolute_heading(x))

    __call__ = normalize

    def denormalize(self, x):
        return rate_heading(self.inner.denormalize(x))

    def shift_heading(self, x, delta):
        """Normalised features ``x (B, T, 263)`` turned by ``delta (B,)`` rad (added to every frame's heading)."""
        x = x.clone()
        x[..., 0] = x[..., 0] + delta[:, None] / float(self.inner.std[0])
        return x

    def heading(self, x):
        """``(B, T)`` heading (rad) of normalised features."""
        return x[..., 0] * float(self.inner.std[0]) + float(self.inner.mean[0])

    def save(self, path) -> None:
        self.inner.save(path)


@dataclass
class CaptionedClip:
    id: str
    split: str
    features: np.ndarray  # (T, 263) raw
    captions: List[str]
    style: str = ""


@functools.lru_cache(maxsize=4)
def _code_key() -> str:
    from motionlab.data.cache import code_fingerprint

    return code_fingerprint("io", "core")


def _cached_features(path: Path, fps: float) -> np.ndarray:
    """263-d features of one motion file, kept on disk under the cache folder (keyed by the file's path, size,
    modification time, the fps and the code of :mod:`motionlab.io.humanml3d`), so a run, its evaluation and
    its evaluator featurise a corpus once."""
    import hashlib

    from motionlab.data.sources import default_cache_dir
    from motionlab.io.formats import read_file

    st = path.stat()
    key = hashlib.sha1(f"{path.resolve()}|{st.st_size}|{st.st_mtime_ns}|{fps}|{_code_key()}"
                       .encode()).hexdigest()[:24]
    cached = default_cache_dir() / "t2m_features" / f"{key}.npy"
    if cached.is_file():
        try:
            return np.load(cached)
        except (OSError, ValueError):
            pass
    _, motion = read_file(path)
    try:
        feats = hml.features_from_motion(motion, fps)
    except MotionLabError as e:
        raise e.with_file(path) from None
    cached.parent.mkdir(parents=True, exist_ok=True)
    tmp = cached.with_suffix(f".{os.getpid()}.tmp.npy")
    np.save(tmp, feats)
    os.replace(tmp, cached)
    return feats


def _corpus_clips(cfg: T2MDataConfig, root: Path) -> List[CaptionedClip]:
    manifest = json.loads((root / "manifest.json").read_text())["clips"]
    if cfg.styles:
        manifest = [c for c in manifest if c.get("style") in cfg.styles or c.get("kind") in cfg.styles]
    splits = assign_splits([c["id"] for c in manifest], {c["id"]: c["split"] for c in manifest if c.get("split")},
                           seed=cfg.split_seed)
    out, t0 = [], time.time()
    for i, c in enumerate(manifest):
        if not c.get("caption") or "human" not in c.get("files", {}):
            continue
        path = root / c["files"]["human"]
        feats = _cached_features(path, cfg.fps)
        out.append(CaptionedClip(c["id"], splits[c["id"]], feats, [c["caption"]], c.get("style", "")))
        if time.time() - t0 > 5 and i % 50 == 0:
            print(f"t2m data: {i + 1}/{len(manifest)} clips featurised", file=sys.stderr, flush=True)
    return out


def _humanml3d_clips(cfg: T2MDataConfig, root: Path) -> List[CaptionedClip]:
    out = []
    src_fps = hml.FPS
    if abs(cfg.fps - src_fps) > 1e-6:
        raise MotionLabError(f"HumanML3D features are at {src_fps:g} fps; set data.fps={src_fps:g}", place="data.fps")
    for c in hml.scan_humanml3d(root):
        x = hml.read_features(c.features)
        whole = [cap.text for cap in c.captions if cap.start is None]
        if whole:
            out.append(CaptionedClip(c.id, c.split, x, whole))
        for k, cap in enumerate(cap for cap in c.captions if cap.start is not None):
            a, b = int(cap.start * src_fps), int((cap.end or len(x) / src_fps) * src_fps)
            if b - a >= cfg.min_frames:
                out.append(CaptionedClip(f"{c.id}#{k}", c.split, x[a:b], [cap.text]))
    return out


def load_clips(cfg: T2MDataConfig) -> List[CaptionedClip]:
    """The captioned clips of ``cfg.root`` (see :class:`T2MDataConfig`) at least ``min_frames`` long."""
    from motionlab.data.sources import builtin_corpus

    root = Path(cfg.root) if cfg.root else builtin_corpus(cfg.synth_scale, cfg.synth_seed)
    if not root.is_dir():
        raise MotionLabError("data folder not found", file=root)
    if hml.is_humanml3d(root):
        clips = _humanml3d_clips(cfg, root)
    elif (root / "manifest.json").is_file():
        clips = _corpus_clips(cfg, root)
    else:
        raise MotionLabError("neither a HumanML3D folder (new_joint_vecs/, texts/) nor a corpus with a "
                             "manifest.json and captions", file=root)
    clips = [c for c in clips if len(c.features) >= cfg.min_frames]
    if not any(c.split == "train" for c in clips):
        raise MotionLabError(f"no captioned training clip of at least {cfg.min_frames} frames", file=root)
    return clips


class CaptionWindows(Dataset):
    """Normalised windows of one split: items ``{"motion": (W, 263), "mask": (W,) bool, "length": int,
    "text": str, "clip": int}``; padded frames are zero and masked. A clip with several captions gives a
    random one each time (from torch's generator, which the engine seeds)."""

    def __init__(self, clips: List[CaptionedClip], index: np.ndarray, window: int, norm: Normalizer,
                 random_caption: bool = True) -> None:
        self.clips, self.index, self.window, self.norm = clips, index, int(window), norm
        self.random_caption = random_caption

    def __len__(self) -> int:
        return len(self.index)

    def raw(self, i: int) -> np.ndarray:
        c, s, n = self.index[i]
        return self.clips[c].features[s:s + n]

    def caption(self, i: int, k: Optional[int] = None) -> str:
        caps = self.clips[self.index[i][0]].captions
        if k is None:
            k = int(torch.randint(len(caps), ()).item()) if self.random_caption and len(caps) > 1 else 0
        return caps[k % len(caps)]

    def __getitem__(self, i: int):
        c, s, n = self.index[i]
        x = np.zeros((self.window, hml.FEATURE_DIM), np.float32)
        x[:n] = self.norm(self.clips[c].features[s:s + n])
        mask = np.zeros(self.window, bool)
        mask[:n] = True
        return {"motion": torch.from_numpy(x), "mask": torch.from_numpy(mask), "length": int(n),
                "text": self.caption(i), "clip": int(c)}


def collate(items):
    out = {k: torch.stack([it[k] for it in items]) for k in ("motion", "mask")}
    out["length"] = torch.tensor([it["length"] for it in items])
    out["clip"] = torch.tensor([it["clip"] for it in items])
    out["text"] = [it["text"] for it in items]
    return out


class CaptionData:
    """All splits of captioned windows with their statistics (the base of both recipes' data modules)."""

    def __init__(self, cfg: T2MDataConfig, root_repr: str = "rate") -> None:
        if root_repr not in ROOT_REPRS:
            from motionlab.errors import choices_error

            raise choices_error("root representation", root_repr, ROOT_REPRS, place="model.root_repr")
        self.cfg, self.root_repr = cfg, root_repr
        self.clips = load_clips(cfg)
        self.index: Dict[str, np.ndarray] = {split: self.split_index(split) for split in SPLITS}
        root = Path(cfg.root) if cfg.root else None
        given = hml.read_mean_std(root) if root is not None and hml.is_humanml3d(root) else None
        if given is not None:
            self.normalizer = Normalizer(given[0], np.maximum(given[1], 1e-6).astype(np.float32))
        else:
            train = np.concatenate([self._model_features(c, s, n) for c, s, n in self.index["train"]])
            self.normalizer = Normalizer.fit(train)
        if root_repr == "absolute":
            if given is not None:  # the folder's statistics are of the rate layout: refit channel 0
                theta = np.concatenate([self._model_features(c, s, n)[:, 0] for c, s, n in self.index["train"]])
                mean, std = given[0].astype(np.float32).copy(), np.maximum(given[1], 1e-6).astype(np.float32)
                mean[0], std[0] = theta.mean(), max(float(theta.std()), 1e-2)
                self.normalizer = Normalizer(mean, std)
            self.normalizer = RootCodec(self.normalizer)

    def split_index(self, split: str, stride: Optional[int] = None) -> np.ndarray:
        """``(N, 3)`` rows ``(clip, start, length)`` of the windows of ``split``: ``data.window`` frames every
        ``stride`` frames (default ``data.stride``); a clip no longer than a window is one window."""
        W, stride = self.cfg.window, int(stride or self.cfg.stride)
        rows = []
        for ci, c in enumerate(self.clips):
            if c.split != split:
                continue
            T = len(c.features)
            if T <= W:
                rows.append((ci, 0, T))
            else:
                rows.extend((ci, int(s), W) for s in window_starts(T, W, stride))
        return np.array(rows, np.int64).reshape(-1, 3)

    def _model_features(self, c: int, s: int, n: int) -> np.ndarray:
        """Raw features of one window in the layout the model sees (``root_repr``)."""
        x = self.clips[c].features[s:s + n]
        return absolute_heading(x) if self.root_repr == "absolute" else x

    def difference_scales(self) -> Tuple[np.ndarray, np.ndarray]:
        """``(velocity, acceleration)`` per-channel mean squares ``(263,)`` of the first and second time
        differences of the normalised training windows (valid frames only): the scales that make the velocity
        and acceleration loss terms dimensionless, as the normalisation makes the MSE term."""
        d1, d2, n1, n2 = 0.0, 0.0, 0, 0
        for c, s, n in self.index["train"]:
            x = self.normalizer(self.clips[c].features[s:s + n]).astype(np.float64)  # model layout
            v, a = np.diff(x, 1, 0), np.diff(x, 2, 0)
            d1, d2, n1, n2 = d1 + (v ** 2).sum(0), d2 + (a ** 2).sum(0), n1 + len(v), n2 + len(a)
        return (np.asarray(d1 / max(n1, 1), np.float32), np.asarray(d2 / max(n2, 1), np.float32))

    def train_captions(self) -> List[str]:
        return [t for c in self.clips if c.split == "train" for t in c.captions]

    def dataset(self, split: str, random_caption: bool = True, stride: Optional[int] = None) -> CaptionWindows:
        """Windows of ``split``: ``train``, ``val``, ``test`` or ``heldout`` (val and test together); ``stride``:
        frames between window starts (default ``data.stride``; smaller overlaps the windows more)."""
        if split not in SPLITS + ("heldout",):
            raise MotionLabError(f"unknown split {split!r}; valid: {', '.join(SPLITS + ('heldout',))}")
        parts = ("val", "test") if split == "heldout" else (split,)
        index = np.concatenate([self.index[p] if stride is None else self.split_index(p, stride) for p in parts])
        return CaptionWindows(self.clips, index, self.cfg.window, self.normalizer, random_caption)

    def held_out_split(self, min_windows: int = 32) -> str:
        """``test`` when it has at least ``min_windows`` windows (one R-precision batch), else ``heldout``
        (val and test together)."""
        return "test" if len(self.index["test"]) >= min_windows else "heldout"

    def loader(self, split: str, seed: int = 0, batch_size: Optional[int] = None):
        ds = self.dataset(split)
        bs = batch_size or self.cfg.batch_size
        if split == "train":
            from motionlab.train.data import ResumableLoader

            return ResumableLoader(ds, bs, shuffle=True, seed=seed, num_workers=self.cfg.num_workers,
                                   collate_fn=collate)
        return DataLoader(ds, batch_size=bs, shuffle=False, collate_fn=collate, num_workers=self.cfg.num_workers)

    def save_stats(self, run_dir) -> None:
        self.normalizer.save(Path(run_dir) / f"normalization_{STREAM}.npz")


class CaptionDataModule(L.LightningDataModule):
    """The Lightning data module over :class:`CaptionData` (read in ``setup``)."""

    def __init__(self, cfg) -> None:
        super().__init__()
        self.cfg = cfg
        self.data: Optional[CaptionData] = None

    def setup(self, stage: Optional[str] = None) -> None:
        if self.data is None:
            self.data = CaptionData(self.cfg.data, getattr(self.cfg.model, "root_repr", "rate"))

    def train_dataloader(self):
        return self.data.loader("train", seed=self.cfg.train.seed)

    def val_dataloader(self):
        split = "val" if len(self.data.index["val"]) else "test"
        return self.data.loader(split)

    def save_stats(self, run_dir) -> None:
        self.data.save_stats(run_dir)
