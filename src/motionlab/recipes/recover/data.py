"""Tracks of both domains from the corpus (or a user's folder) as lifter inputs and targets.

A :class:`Track` is one person's track ready for the lifter: ``feat (T, 17, 3)`` and ``box (T, 3)``
(see :mod:`motionlab.recipes.recover.geometry`), the focal length and principal point used, and, where
known, the 3D truth: ``world (T, 22, 3)`` SMPL-22 joints (Z up, m) and the camera ``R``, ``C``.

Labelled source tracks: every training clip through ``data.source_cameras`` synthetic-domain cameras
(the corpus's own synthetic track first, then new cameras drawn from a seed), with the detector-noise
model. Unlabelled target tracks: the corpus's real-like tracks of the training clips (their truth is
dropped here), or every keypoint file under ``data.target_root``.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Dict, List, Optional

import numpy as np

from motionlab.errors import MotionLabError
from motionlab.recipes.recover.geometry import default_focal, targets, track_inputs


@dataclass
class Track:
    """One track (see the module docstring); ``target`` ``(T, OUT_DIM)`` when the truth is known."""

    id: str
    domain: str
    feat: np.ndarray
    box: np.ndarray
    focal: float
    principal: np.ndarray
    fps: float
    world: Optional[np.ndarray] = None
    R: Optional[np.ndarray] = None
    C: Optional[np.ndarray] = None
    target: Optional[np.ndarray] = None
    image_size: Optional[tuple] = None
    xy: Optional[np.ndarray] = None  # the input pixels (for drawing)
    conf: Optional[np.ndarray] = None

    @property
    def num_frames(self) -> int:
        return int(self.feat.shape[0])


def make_track(tid: str, domain: str, xy: np.ndarray, conf: np.ndarray, fps: float, image_size, min_conf: float,
               K: Optional[np.ndarray] = None, world=None, R=None, C=None, file=None) -> Track:
    """A :class:`Track` of a pixel track; ``K`` known intrinsics, else the default focal of ``image_size``
    (the image centre as principal point; the keypoints' extent when the size is unknown too)."""
    if K is not None:
        focal, principal = float((K[0, 0] + K[1, 1]) / 2), np.array([K[0, 2], K[1, 2]])
    else:
        if image_size is None:  # no image size: a frame around the keypoints
            ok = conf >= min_conf
            if not ok.any():
                raise MotionLabError("no confident keypoint in any frame (no person)", file=file)
            pts = xy[ok]
            hi = pts.max(0) + 0.1 * np.ptp(pts, 0).max()
            image_size = (float(max(hi[0], 1.0)), float(max(hi[1], 1.0)))
        focal, principal = default_focal(image_size), np.array(image_size, np.float64) / 2
    inp = track_inputs(xy, conf, focal, principal, min_conf)
    if inp is None:
        raise MotionLabError("no frame has 3 confident joints (no person)", file=file)
    feat, box = inp
    tgt = targets(world, R, C, box) if world is not None else None
    return Track(tid, domain, feat, box, focal, principal, float(fps), world, R, C, tgt,
                 None if image_size is None else tuple(image_size), np.asarray(xy), np.asarray(conf))


def _world_joints(path) -> tuple:
    from motionlab.io.npz import load_motion_npz

    m = load_motion_npz(path)
    return m, m.positions()


def corpus_tracks(cfg, splits=("train",), domains=("synthetic", "real"), extra_cameras: int = 0,
                  labelled_real: bool = False) -> List[Track]:
    """Tracks of the corpus clips of ``splits`` in ``domains``.

    ``extra_cameras`` more synthetic-domain cameras per clip (seeded by ``data.synth_seed`` and the
    clip), each with the source detector-noise model. Real-domain tracks carry their truth only
    when ``labelled_real`` (evaluation).
    """
    from motionlab.core.files import load_npz
    from motionlab.data.sources import builtin_corpus
    from motionlab.data.synth.corpus import load_corpus
    from motionlab.data.synth.keypoints import coco_points, keypoints_for
    from motionlab.io.keypoints import read_keypoints

    d = cfg.data
    heights = None
    if d.source_heights:
        if len(d.source_heights) != 2 or not 0 < d.source_heights[0] <= d.source_heights[1]:
            raise MotionLabError(f"expected [low, high] metres, got {list(d.source_heights)}", place="data.source_heights")
        heights = (float(d.source_heights[0]), float(d.source_heights[1]))
    root = Path(d.root) if d.root else builtin_corpus(d.synth_scale, d.synth_seed)
    clips = [c for c in load_corpus(root)["clips"] if c["split"] in splits]
    out: List[Track] = []
    for ci, clip in enumerate(clips):
        f = clip["files"]
        if "keypoints_real" not in f:
            continue
        motion, world = _world_joints(f["human"])
        for domain in domains:
            kp = read_keypoints(f[f"keypoints_{domain}"])
            cam = load_npz(f[f"camera_{domain}"])
            known = domain == "synthetic" or d.focal == "known"
            lab = domain == "synthetic" or labelled_real
            xy = kp.xy
            if domain == "synthetic" and extra_cameras:
                xy = _source_noise(xy, kp.conf, d.source_noise, np.random.default_rng([d.synth_seed, 17, ci, 0]))
            out.append(make_track(f"{clip['id']}/{domain}", domain, xy, kp.conf, motion.fps, kp.image_size,
                                  d.min_confidence, cam["K"] if known else None,
                                  world if lab else None, cam["R"] if lab else None, cam["C"] if lab else None,
                                  file=f[f"keypoints_{domain}"]))
        if extra_cameras:
            pts = coco_points(motion)
            for k in range(1, extra_cameras):
                rng = np.random.default_rng([d.synth_seed, 17, ci, k])
                sk = keypoints_for(rng, motion, "synthetic", pts, heights)
                xy = _source_noise(sk.keypoints.xy, sk.keypoints.conf, d.source_noise, rng)
                out.append(make_track(f"{clip['id']}/synthetic{k}", "synthetic", xy, sk.keypoints.conf, motion.fps,
                                      sk.camera.image_size, d.min_confidence, sk.camera.K, world, sk.camera.R,
                                      sk.camera.C))
    if not out:
        raise MotionLabError(f"no clip with keypoints in splits {list(splits)}", file=root)
    return out


def _source_noise(xy: np.ndarray, conf: np.ndarray, level: float, rng: np.random.Generator) -> np.ndarray:
    """The source detector-noise model: Gaussian pixel noise of ``level`` x the track's median box size."""
    if level <= 0:
        return xy
    ext = xy.max(1) - xy.min(1)  # (T, 2) extent of the joints per frame
    size = float(np.median(ext.max(-1)))
    return xy + rng.normal(0.0, level * size, size=xy.shape)


def folder_tracks(cfg, folder) -> List[Track]:
    """Unlabelled target tracks: every keypoint file (``.json``, ``.npz``) or OpenPose frame folder under ``folder``."""
    from motionlab.io.keypoints import read_keypoints

    root = Path(folder)
    if not root.is_dir():
        raise MotionLabError("target folder not found", file=root, place="data.target_root")
    items = sorted(p for p in root.rglob("*") if p.suffix.lower() in (".json", ".npz") and p.is_file())
    # folders of per-frame OpenPose JSON count as one track each
    op_dirs = sorted({p.parent for p in items if p.name.endswith("_keypoints.json")})
    items = [p for p in items if p.parent not in op_dirs] + op_dirs
    out = []
    for p in items:
        kp = read_keypoints(p)
        fps = kp.fps or cfg.data.fps
        out.append(make_track(str(p.relative_to(root)), "target", kp.xy, kp.conf, fps, kp.image_size,
                              cfg.data.min_confidence, file=p))
    if not out:
        raise MotionLabError("no keypoint files (.json, .npz, OpenPose folders)", file=root, place="data.target_root")
    return out


def windows(tracks: List[Track], window: int, stride: int, labelled: bool = True) -> Dict[str, np.ndarray]:
    """Stacked windows ``feat (N, W, 17, 3)``, ``box (N, W, 3)`` (and ``target`` (N, W, OUT_DIM) when
    ``labelled``); tracks shorter than a window are edge-padded to one window."""
    feats, boxes, tgts = [], [], []
    for t in tracks:
        idx = np.arange(t.num_frames)
        if t.num_frames < window:
            idx = np.concatenate([idx, np.full(window - t.num_frames, t.num_frames - 1)])
        starts = list(range(0, len(idx) - window + 1, stride))
        if starts[-1] != len(idx) - window:
            starts.append(len(idx) - window)
        for s in starts:
            sl = idx[s:s + window]
            feats.append(t.feat[sl])
            boxes.append(t.box[sl])
            if labelled:
                tgts.append(t.target[sl])
    out = {"feat": np.stack(feats), "box": np.stack(boxes)}
    if labelled:
        out["target"] = np.stack(tgts)
    return out
