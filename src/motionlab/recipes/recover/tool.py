"""Inference on user files: a 2D keypoint track -> SMPL-22 motion (BVH or motionlab npz) and a video.

:func:`recover_track` is the Python API (a :class:`~motionlab.io.keypoints.Keypoints2D` in, joints and a
:class:`~motionlab.core.motion.Motion` out); :func:`recover_file` is what ``motionlab recover`` runs.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Dict, Optional, Tuple

import numpy as np

from motionlab.errors import MotionLabError


@dataclass
class Recovered:
    """What :func:`recover_track` returns: ``world (T, 22, 3)`` gravity-aligned joints (Z up, m),
    ``cam (T, 22, 3)`` camera-frame joints, the fitted ``motion``, the fit's mean joint error (m),
    the lifter's input ``track`` and notes (fps, focal and person used)."""

    world: np.ndarray
    cam: np.ndarray
    motion: Any
    fit_error: float
    track: Any
    notes: Dict[str, Any]


def _resample(xy: np.ndarray, conf: np.ndarray, src: float, dst: float) -> Tuple[np.ndarray, np.ndarray]:
    """Linear resampling of a track from ``src`` to ``dst`` fps (a joint is valid where both neighbours are)."""
    T = xy.shape[0]
    t_new = np.arange(0.0, (T - 1) / src + 1e-9, 1.0 / dst)
    pos = t_new * src
    i0 = np.clip(np.floor(pos).astype(int), 0, T - 1)
    i1 = np.clip(i0 + 1, 0, T - 1)
    a = (pos - i0)[:, None, None]
    out_xy = xy[i0] * (1 - a) + xy[i1] * a
    out_conf = np.minimum(conf[i0], conf[i1])
    return out_xy, out_conf


def recover_track(kp, run_dir, fps: Optional[float] = None, focal: Optional[float] = None,
                  image_size: Optional[Tuple[int, int]] = None, fit_iters: Optional[int] = None,
                  file=None) -> Recovered:
    """Recover 3D and world motion from one person's track ``kp`` with the run in ``run_dir``.

    ``fps`` (the track's rate, default the file's, else the model's) is resampled to the model's rate;
    ``focal`` in pixels (default: the image diagonal, as GVHMR); ``image_size`` (width, height) when the
    file has none (default: the keypoints' extent).
    """
    from motionlab.recipes.recover.data import make_track
    from motionlab.recipes.recover.evaluate import predict
    from motionlab.recipes.recover.fit import fit_motion
    from motionlab.train.engine import load_run

    run = load_run(run_dir)
    cfg = run.cfg
    model_fps = float(cfg.data.fps)
    src = file if file is not None else kp.meta.get("source")
    src_fps = float(fps or kp.fps or model_fps)
    xy, conf = kp.xy, kp.conf
    if abs(src_fps - model_fps) > 1e-6:
        xy, conf = _resample(xy, conf, src_fps, model_fps)
    T = xy.shape[0]
    if T < cfg.infer.min_frames:
        raise MotionLabError(f"track has {T} frames at {model_fps:g} fps; the model needs at least "
                             f"{cfg.infer.min_frames}", file=src, place=f"frame {T}")
    seen = (conf >= cfg.data.min_confidence).sum(-1) >= 3
    if not seen.any():
        raise MotionLabError("no frame has 3 confident joints (no person)", file=src, place="frame 0")
    size = image_size or kp.image_size
    K = None
    if focal is not None:
        if size is None:
            raise MotionLabError("--focal needs the image size (from the file or --image-size)", file=src)
        K = np.array([[focal, 0, size[0] / 2], [0, focal, size[1] / 2], [0, 0, 1.0]])
    track = make_track(Path(src).name if src else "track", "input", xy, conf, model_fps, size,
                       cfg.data.min_confidence, K, file=src)
    run.model.eval()
    pred = predict(run.model, track, cfg.infer.view_fit_deg, cfg.data.window, domain=cfg.infer.domain)
    motion, err = fit_motion(pred["world"], model_fps, cfg.infer.fit_iters if fit_iters is None else fit_iters)
    motion.meta.update(source=os.fspath(src) if src else "", person=kp.meta.get("person", "the only person"))
    notes = {"frames": T, "fps": model_fps, "input_fps": src_fps, "focal_px": round(track.focal, 1),
             "focal_from": "argument" if focal is not None else "image diagonal",
             "person": kp.meta.get("person", "the only person"), "unseen_frames": int((~seen).sum())}
    return Recovered(pred["world"], pred["cam"], motion, err, track, notes)


def recover_file(input, run_dir, output, fps: Optional[float] = None, focal: Optional[float] = None,
                 render: Optional[str] = None, person=None, image_size=None) -> str:
    """``motionlab recover``: read ``input`` (COCO-17 JSON, COCO results JSON, npz, OpenPose folder), write
    ``output`` (``.bvh`` or motionlab ``.npz``) and optionally the ``render`` video; returns a summary."""
    from motionlab.io.bvh import write_bvh
    from motionlab.io.keypoints import read_keypoints
    from motionlab.io.npz import save_motion_npz

    out = Path(output)
    ext = out.suffix.lower()
    if ext not in (".bvh", ".npz"):
        raise MotionLabError(f"unknown output extension {ext!r}; valid: .bvh, .npz", file=out)
    kp = read_keypoints(input, person=person)
    rec = recover_track(kp, run_dir, fps=fps, focal=focal, image_size=image_size, file=input)
    out.parent.mkdir(parents=True, exist_ok=True)
    (write_bvh if ext == ".bvh" else save_motion_npz)(out, rec.motion)
    lines = [f"recovered {rec.notes['frames']} frames at {rec.notes['fps']:g} fps from {input}",
             f"  person: {rec.notes['person']}",
             f"  focal: {rec.notes['focal_px']} px ({rec.notes['focal_from']})",
             f"  rotation fit: mean joint error {rec.fit_error * 1000:.1f} mm (fixed bone lengths)",
             f"  wrote {out}"]
    if rec.notes["unseen_frames"]:
        lines.insert(2, f"  {rec.notes['unseen_frames']} frames without a visible person were filled from their neighbours")
    if render:
        from motionlab.recipes.recover.render import render_recovery

        render_recovery(rec, render)
        lines.append(f"  wrote {render}")
    return "\n".join(lines)
