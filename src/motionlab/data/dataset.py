"""Windowed datasets over clips: one pipeline for the synthetic corpus and real folders.

Each clip gives one or more *streams* (feature sets from :mod:`motionlab.data.features`, e.g.
``body`` and ``g1_joints`` for paired human/robot data), resampled to one fps and cut to the same
length. Clips are split before windowing; windows are cached on disk (memory-mapped, verified,
keyed by the inputs and settings); normalisation statistics come from the training split only.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Dict, List, Optional, Union

import numpy as np
import torch
from torch.utils.data import DataLoader, Dataset

from motionlab.data.cache import ArrayCache, cache_key
from motionlab.data.features import feature_fn
from motionlab.data.sources import Clip, builtin_corpus, default_cache_dir, pair_folders, scan_folder
from motionlab.data.windows import SPLITS, Normalizer, assign_splits, make_windows
from motionlab.errors import MotionLabError

FEATURE_VERSION = 2  # bump when a feature definition changes: old caches become stale


@dataclass
class DataConfig:
    """Where the clips come from and how they become windows."""

    root: str = ""  # folder of motion files or a corpus; "" = the built-in synthetic corpus
    paired_root: str = ""  # folder of robot files paired with `root` by clip name
    synth_scale: str = "tiny"  # built-in corpus size when root is "": tiny, small or large
    synth_seed: int = 0  # seed of the built-in corpus
    streams: List[str] = field(default_factory=lambda: ["body"])  # feature sets per clip (motionlab.data.features)
    fps: float = 30.0  # every clip is resampled to this frame rate
    units: Union[str, float] = "auto"  # length unit of BVH files: auto, m, cm, mm, inch or metres per file unit (CMU: 0.056444)
    window: int = 64  # frames per training window (at fps)
    stride: int = 16  # frames between the starts of consecutive windows of a clip
    styles: List[str] = field(default_factory=list)  # keep only clips of these styles/kinds ([] = all)
    split_seed: int = 0  # seed of the train/val/test split by clip (clips that name no split)
    batch_size: int = 64  # windows per batch (per device)
    num_workers: int = 0  # DataLoader worker processes (0 = load in the training process; -1 = what the machine has)
    cache_dir: str = ""  # window cache folder; "" = the user cache (MOTIONLAB_CACHE, else ~/.cache/motionlab)


def loader_workers(num_workers: int) -> int:
    """DataLoader workers for ``DataConfig.num_workers``: as given when ``>= 0``; ``-1`` = the CPU cores
    this process may use, less one for training, at most 4 (0 on a single core)."""
    if num_workers >= 0:
        return int(num_workers)
    import os

    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
    return max(0, min(4, cores - 1))


def list_clips(cfg: DataConfig) -> List[Clip]:
    if cfg.paired_root:
        clips = pair_folders(cfg.root, cfg.paired_root)
    else:
        root = Path(cfg.root) if cfg.root else builtin_corpus(cfg.synth_scale, cfg.synth_seed)
        clips = scan_folder(root)
    if cfg.styles:
        clips = [c for c in clips if c.style in cfg.styles or c.meta.get("kind") in cfg.styles]
    return clips


def _load_stream(clip: Clip, stream: str, fps: float, units: Union[str, float] = "auto") -> np.ndarray:
    """One feature stream of a clip at ``fps``; BVH files are read in ``units`` (``DataConfig.units``)."""
    from motionlab.io.bvh import parse_units
    from motionlab.io.formats import reading_options, read_file

    kind, fn = feature_fn(stream)
    if kind not in clip.files:
        raise MotionLabError(f"clip {clip.id!r} has no {kind} file for stream {stream!r}; it has {sorted(clip.files)}")
    path = clip.files[kind]
    try:
        bvh_units = parse_units(units)
    except MotionLabError as e:
        raise MotionLabError(f"data.units: {e.problem}") from None
    with reading_options(units=None if bvh_units == "auto" else bvh_units):
        name, obj = read_file(path)
    if not hasattr(obj, "resample"):
        raise MotionLabError(f"{name} file does not hold {kind} motion", file=path)
    obj = obj.resample(fps)
    try:
        return fn(obj)
    except MotionLabError as e:
        raise e.with_file(path) from None


def build_windows(cfg: DataConfig, clips: List[Clip]) -> Dict[str, np.ndarray]:
    """Arrays ``{split}__{stream}`` (N, window, D), ``{split}__label`` and ``{split}__clip`` (N,)."""
    from motionlab.train.progress import ProgressLine

    splits = assign_splits([c.id for c in clips], {c.id: c.split for c in clips if c.split}, seed=cfg.split_seed)
    styles = sorted({c.style for c in clips})
    out: Dict[str, np.ndarray] = {}
    reading = ProgressLine("reading clips", total=len(clips), unit="clips", quiet_start=True)  # a line if it takes long
    for split in SPLITS:
        members = [c for c in clips if splits[c.id] == split]
        per_stream: Dict[str, List[np.ndarray]] = {s: [] for s in cfg.streams}
        keep = []
        for c in members:
            reading.update(1)
            arrays = [_load_stream(c, s, cfg.fps, cfg.units) for s in cfg.streams]
            T = min(len(a) for a in arrays)
            if T < cfg.window:
                continue
            for s, a in zip(cfg.streams, arrays):
                per_stream[s].append(a[:T].astype(np.float32))
            keep.append(c)
        if not keep:
            for s in cfg.streams:
                out[f"{split}__{s}"] = np.zeros((0, cfg.window, 0), np.float32)
            out[f"{split}__label"] = np.zeros(0, np.int64)
            out[f"{split}__clip"] = np.zeros(0, np.int64)
            continue
        index = None
        for s in cfg.streams:
            w, index = make_windows(per_stream[s], cfg.window, cfg.stride)
            out[f"{split}__{s}"] = w
        out[f"{split}__label"] = np.array([styles.index(keep[i].style) for i in index[:, 0]], np.int64)
        out[f"{split}__clip"] = np.array([clips.index(keep[i]) for i in index[:, 0]], np.int64)
    if len(out["train__label"]) == 0:
        raise MotionLabError(f"no training windows: every training clip is shorter than {cfg.window} frames "
                             f"at {cfg.fps} fps, or there are no training clips")
    return out


class WindowDataset(Dataset):
    """Normalised windows of one split: items are ``{stream: (window, D) float32, "label": int,
    "clip": int}`` (``clip``: index of the source clip, shared by overlapping windows of one clip)."""

    def __init__(self, arrays: Dict[str, np.ndarray], split: str, streams: List[str],
                 normalizers: Dict[str, Normalizer]) -> None:
        self.x = {s: arrays[f"{split}__{s}"] for s in streams}
        self.label = np.asarray(arrays[f"{split}__label"])
        clip = arrays.get(f"{split}__clip")
        self.clip = np.asarray(clip) if clip is not None and len(clip) == len(self.label) else None
        self.norm = normalizers

    def __len__(self) -> int:
        return len(self.label)

    def __getitem__(self, i: int):
        item = {s: torch.from_numpy(np.asarray(self.norm[s](np.asarray(x[i], dtype=np.float32)), dtype=np.float32))
                for s, x in self.x.items()}
        item["label"] = int(self.label[i])
        if self.clip is not None:
            item["clip"] = int(self.clip[i])
        return item

    def __getitems__(self, indices):
        """A whole batch at once (one sorted read of the memory map per stream), already collated."""
        idx = np.asarray(indices, dtype=np.int64)
        order = np.argsort(idx, kind="stable")
        inverse = np.empty_like(order)
        inverse[order] = np.arange(len(order))
        batch = {}
        for s, x in self.x.items():
            block = np.asarray(x[idx[order]], dtype=np.float32)[inverse]
            batch[s] = torch.from_numpy(np.ascontiguousarray(self.norm[s](block), dtype=np.float32))
        batch["label"] = torch.from_numpy(np.asarray(self.label[idx], dtype=np.int64))
        if self.clip is not None:
            batch["clip"] = torch.from_numpy(np.asarray(self.clip[idx], dtype=np.int64))
        return batch


def collate_batched(batch):
    """Collate function for datasets whose ``__getitems__`` already returns a collated batch."""
    return batch


class WindowData:
    """Windows of every split with their statistics; the base of the recipes' data modules."""

    def __init__(self, cfg: DataConfig) -> None:
        self.cfg = cfg
        self.clips = list_clips(cfg)
        cache = ArrayCache(Path(cfg.cache_dir) if cfg.cache_dir else default_cache_dir() / "windows")
        from motionlab.data.cache import code_fingerprint

        # the key covers the files, each clip's split and style, the settings and the code that reads
        # and featurises them: a change to any of them builds a new entry
        settings = {"config": {k: v for k, v in asdict(cfg).items() if k not in ("batch_size", "num_workers", "cache_dir")},
                    "feature_version": FEATURE_VERSION, "code": code_fingerprint("core", "io", "robots", "data"),
                    "clips": [[c.id, c.split, c.style] for c in self.clips]}
        files = [str(p) for c in self.clips for k, p in c.files.items() if k in ("human", "robot")]
        self.key = cache_key(files, settings)
        self.arrays = cache.get_or_build(self.key, lambda: build_windows(cfg, self.clips), settings, sources=files,
                                         what=f"windows of {len(self.clips)} clips")
        self.styles = sorted({c.style for c in self.clips})
        self.normalizers = {s: Normalizer.fit(self.arrays[f"train__{s}"]) for s in cfg.streams}

    def dims(self) -> Dict[str, int]:
        return {s: int(self.arrays[f"train__{s}"].shape[-1]) for s in self.cfg.streams}

    def dataset(self, split: str) -> WindowDataset:
        if split not in SPLITS:
            raise MotionLabError(f"unknown split {split!r}; valid: {', '.join(SPLITS)}")
        return WindowDataset(self.arrays, split, self.cfg.streams, self.normalizers)

    def loader(self, split: str, shuffle: Optional[bool] = None, seed: int = 0,
               batch_size: Optional[int] = None):
        """Batches of a split. The training split gets a :class:`~motionlab.train.data.ResumableLoader`
        (order fixed by seed and epoch, resumable mid-epoch); others a plain ordered DataLoader."""
        ds = self.dataset(split)
        bs = batch_size or self.cfg.batch_size
        shuffle = (split == "train") if shuffle is None else shuffle
        if split == "train":
            from motionlab.train.data import ResumableLoader

            return ResumableLoader(ds, bs, shuffle=shuffle, seed=seed, num_workers=loader_workers(self.cfg.num_workers),
                                   collate_fn=collate_batched)
        return DataLoader(ds, batch_size=bs, shuffle=False, num_workers=loader_workers(self.cfg.num_workers),
                          collate_fn=collate_batched)

    def save_stats(self, run_dir) -> None:
        """Write ``normalization_<stream>.npz`` for every stream into ``run_dir``."""
        for s, n in self.normalizers.items():
            n.save(Path(run_dir) / f"normalization_{s}.npz")
