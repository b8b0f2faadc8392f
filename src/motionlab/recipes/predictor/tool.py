"""Inference with a trained predictor: free-run a character from a seed clip under commands, write it out.

:func:`predict_motion` is the Python API behind ``motionlab predict``; :func:`export_stepper` writes the
stepper as TorchScript with its layout, loadable in an engine or notebook with ``torch.jit.load`` alone.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Dict, Optional, Union

import numpy as np
import torch

from motionlab.errors import MotionLabError, choices_error

PathLike = Union[str, "os.PathLike[str]"]
CONTROL_KEYS = ("speed", "turn", "side")


def parse_control(text: str) -> Dict[str, float]:
    """``"speed=1.4,turn=30[,side=0]"`` -> forward speed (m/s), turn rate (deg/s, + = left), sideways
    speed (m/s, + = left)."""
    out = {"speed": 0.0, "turn": 0.0, "side": 0.0}
    for part in [p for p in (text or "").split(",") if p.strip()]:
        key, _, value = part.partition("=")
        key = key.strip()
        if key not in CONTROL_KEYS:
            raise choices_error("control", key, CONTROL_KEYS, place="--control")
        try:
            out[key] = float(value)
        except ValueError:
            raise MotionLabError(f"control {key} needs a number, got {value!r}", place="--control") from None
    return out


def _seed_states(path: Optional[PathLike], fps: float, mean: np.ndarray):
    """``(states (T, D), start xy, start yaw)`` of a seed file resampled to ``fps`` (the training mean if none)."""
    from motionlab.data.character_state import character_features, frames_to_motion
    from motionlab.data.features import heading_yaw
    from motionlab.io.formats import detect_format, read_file

    if path is None:
        return np.stack([mean, mean]), np.zeros(2), 0.0
    name = detect_format(path)
    if name == "frame-json" or (str(path).endswith(".npz") and name not in ("npz", "smplx")):
        from motionlab.io.frame_json import read_frame_json, read_frame_npz

        arrays = read_frame_json(path) if name == "frame-json" else read_frame_npz(path)
        motion = frames_to_motion(arrays)
    else:
        _, motion = read_file(path)
        if not hasattr(motion, "local_quat"):
            raise MotionLabError("the seed clip must be human motion (BVH, npz, SMPL-X, frame JSON)", file=path)
    motion = motion.resample(fps)
    if motion.num_frames < 2:
        raise MotionLabError("the seed clip needs at least 2 frames", file=path)
    states = character_features(motion)
    R0 = motion.local_matrices()[-1, 0]
    return states, np.asarray(motion.root_pos[-1, :2]), float(heading_yaw(R0))


@dataclass
class Prediction:
    """What :func:`predict_motion` made: the motion (SMPL-22), the raw states, the commanded root path."""

    motion: object
    states: np.ndarray
    command_path: np.ndarray  # (T, 3) commanded root positions on the ground
    command: Dict[str, float]
    output: Optional[Path] = None
    video: Optional[Path] = None

    def __str__(self) -> str:
        v = np.linalg.norm(self.states[:, 1:3], axis=-1)
        turn = np.degrees(self.states[:, 3]).mean()
        lines = [f"predicted {len(self.states)} frames at {self.motion.fps:g} fps "
                 f"(speed {v.mean():.2f} m/s, turn {turn:.1f} deg/s; commanded {self.command['speed']:.2f} m/s, "
                 f"{self.command['turn']:.1f} deg/s)"]
        if self.output:
            lines.append(f"wrote {self.output}")
        if self.video:
            lines.append(f"wrote {self.video}")
        return "\n".join(lines)


def predict_motion(run_dir: PathLike, seed_clip: Optional[PathLike] = None, frames: int = 300,
                   control: Union[str, Dict[str, float]] = "speed=1.2", output: Optional[PathLike] = None,
                   render: Optional[PathLike] = None) -> Prediction:
    """Free-run ``frames`` frames after the last two frames of ``seed_clip`` under a constant command.

    The output (``.bvh`` or motionlab ``.npz``, by extension) continues from the seed's last root position
    and heading; ``extras["soft_contacts"]`` holds the predicted contacts. ``render`` (``.mp4``/``.gif``)
    draws the body with a line from its pelvis to the commanded path point of each frame.
    """
    from motionlab.core.body import smpl22_skeleton
    from motionlab.core.motion import Motion
    from motionlab.core.rotations import matrix_to_quat, quat_fix_continuity, rot6d_to_matrix
    from motionlab.data.features import ROOT_DIMS, integrate_root
    from motionlab.recipes.predictor.model import rollout
    from motionlab.train.engine import load_run

    if frames < 1:
        raise MotionLabError(f"--frames must be at least 1, got {frames}", place="--frames")
    cmd = parse_control(control) if isinstance(control, str) else {**{k: 0.0 for k in CONTROL_KEYS}, **control}
    run = load_run(run_dir, recipe="predictor")
    model, fps = run.model, float(run.cfg.data.fps)
    mean = model.stats_mean.double().numpy()
    seed, xy0, yaw0 = _seed_states(seed_clip, fps, mean)
    with torch.no_grad():
        x = model.normalize(torch.as_tensor(seed[-2:], dtype=torch.float32))
        want = torch.tensor([cmd["speed"], cmd["side"], np.radians(cmd["turn"])], dtype=torch.float32)
        c = model.control_from_raw(want.expand(1, frames, 3), torch.zeros(1, frames, 3))
        out = rollout(model, x[0:1], x[-1:], c)["states"][0]  # previous and current seed frame (one: both)
        states = model.denormalize(out).double().numpy()
    # the seed's last frame carries its step to the first predicted frame: start there
    root_pos, root_rot = integrate_root(np.concatenate([seed[-1:, :ROOT_DIMS], states[:, :ROOT_DIMS]]), fps,
                                        start_xy=xy0, start_yaw=yaw0)
    local = rot6d_to_matrix(states[:, ROOT_DIMS:136].reshape(frames, 21, 6))
    R = np.concatenate([root_rot[1:, None], local], axis=1)
    q = quat_fix_continuity(matrix_to_quat(R), dim=0)
    motion = Motion(fps, smpl22_skeleton(), root_pos[1:], q,
                    extras={"soft_contacts": np.clip(states[:, 136:138], 0, 1)},
                    meta={"source": str(seed_clip) if seed_clip else "", "generator": "motionlab predictor",
                          "command": cmd, "run": str(run_dir)})
    t = np.arange(1, frames + 1) / fps
    yaw = yaw0 + np.radians(cmd["turn"]) * t
    step = np.stack([cmd["speed"] * np.cos(yaw) - cmd["side"] * np.sin(yaw),
                     cmd["speed"] * np.sin(yaw) + cmd["side"] * np.cos(yaw)], axis=1) / fps
    path = np.concatenate([xy0 + np.cumsum(step, axis=0), np.zeros((frames, 1))], axis=1)
    pred = Prediction(motion, states, path, cmd)
    if output is not None:
        from motionlab.io.formats import write_file

        write_file(output, motion)
        pred.output = Path(output)
    if render is not None:
        pred.video = render_prediction(pred, render)
    return pred


def render_prediction(pred: Prediction, out: PathLike) -> Path:
    """A stick-figure video of the prediction; an extra line joins the pelvis to the commanded path point."""
    from motionlab.core.body import FEET
    from motionlab.report.render import Figure, render

    m = pred.motion
    pos = m.positions()
    pos = np.concatenate([pos, pred.command_path[:, None]], axis=1)
    parents = list(m.skeleton.parents) + [0]
    contacts = (np.asarray(m.extras["soft_contacts"]) > 0.5)
    fig = Figure(pos, parents, "free run (line: commanded path)", contacts, m.skeleton.indices(list(FEET)))
    c = pred.command
    return render([fig], out, m.fps, caption=f"command: speed {c['speed']:g} m/s, turn {c['turn']:g} deg/s")


class _RawStepper(torch.nn.Module):
    def __init__(self, model) -> None:
        super().__init__()
        self.model = model

    def forward(self, cur: torch.Tensor, prev: torch.Tensor, command: torch.Tensor) -> torch.Tensor:
        return self.model.step_raw(cur, prev, command)


def export_stepper(run_dir: PathLike, out: PathLike) -> Path:
    """Write ``out`` (TorchScript: ``next = m(cur, prev, command)``, raw states ``(B, 141)``, command
    ``(B, 3)`` = forward speed m/s, sideways speed m/s, yaw rate rad/s) and ``<out>.json`` (the state layout,
    fps, joint names, parents and offsets for forward kinematics)."""
    from motionlab.core.body import SMPL22_NAMES, SMPL22_PARENTS, smpl22_skeleton
    from motionlab.core.files import atomic_write_text
    from motionlab.data.character_state import LAYOUT
    from motionlab.train.engine import load_run

    run = load_run(run_dir, recipe="predictor")
    wrapper = _RawStepper(run.model).eval()
    D = int(run.model.stats_mean.numel())
    example = (run.model.stats_mean[None].clone(), run.model.stats_mean[None].clone(), torch.zeros(1, 3))
    with torch.no_grad():
        traced = torch.jit.trace(wrapper, example, check_trace=False)
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    traced.save(str(out))
    meta = {"inputs": {"cur": f"(B, {D}) raw state", "prev": f"(B, {D}) raw state of the frame before",
                       "command": "(B, 3): forward speed m/s, sideways speed m/s (left +), yaw rate rad/s (left +)"},
            "output": f"(B, {D}) raw next state", "fps": run.cfg.data.fps, "layout": LAYOUT,
            "rotations": "6D = first two columns of each rotation matrix; root tilt has the heading removed",
            "joints": SMPL22_NAMES, "parents": SMPL22_PARENTS, "offsets_m": smpl22_skeleton().offsets.tolist(),
            "frame": "Z up, metres, heading frame: +X forward, +Y left"}
    atomic_write_text(out.with_suffix(out.suffix + ".json"), json.dumps(meta, indent=1))
    return out
