"""Retarget human motion onto the Unitree G1 with a trained ``retarget`` run: the Python API and the
``motionlab retarget`` command.

Pipeline for one clip (any skeleton that maps onto SMPL-22 by joint names, any fps):

1. map onto SMPL-22 (:func:`motionlab.core.mapping.to_smpl22`) and resample to the model's fps;
2. body features (:func:`motionlab.data.features.body_features`), normalised with the run's statistics;
3. cut into windows of ``data.window`` frames overlapping by ``infer.overlap`` frames (a clip shorter
   than a window is edge-padded), all windows of all clips in one batched forward pass
   (human encoder -> shared quantizer -> robot decoder);
4. blend the windows back with raised-cosine cross-fades over the overlaps, so there is no jump at
   window seams;
5. de-normalise to joint angles (rad, Unitree order), bend them smoothly inside the official limits
   (:func:`soft_limits`; the network's own violations are reported as ``network_limit_*``), measure
   position- and velocity-limit violations **before** clamping, then clamp into the limits;
6. place the root (:mod:`.root`), hold the human's planted feet in the world with a leg IK that stays
   inside the limits (:mod:`.contacts`, ``infer.contacts``; velocity limits are measured after it) and
   resample to the requested fps.

Outputs: ``beyondmimic`` (whole_body_tracking npz, 50 fps, Isaac order), ``unitree-csv`` (30 fps,
Unitree order, root quaternion x y z w), ``gmr-pkl`` (the input's fps unless ``fps`` is given) and
``npz`` (motionlab's own npz of the G1 body tree at the input's fps unless ``fps`` is given: world body
positions for any tool, plus ``extra.g1_joint_pos`` (T, 29) in Unitree order and the joint names in meta).
"""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Any, Dict, List, Optional, Sequence, Tuple, Union

import numpy as np
import torch

from motionlab.core.motion import Motion
from motionlab.errors import MotionLabError, choices_error
from motionlab.robots.motion import RobotMotion

PathLike = Union[str, "os.PathLike[str]"]

#: Output formats of :func:`retarget_file` and their default frame rates (None = the input's).
OUTPUT_FORMATS: Dict[str, Optional[float]] = {"beyondmimic": 50.0, "unitree-csv": 30.0, "gmr-pkl": None, "npz": None}
_EXTENSIONS = {".csv": "unitree-csv", ".pkl": "gmr-pkl", ".npz": "beyondmimic"}


# --- windows and blending ------------------------------------------------------------------------


def window_starts(num_frames: int, window: int, overlap: int) -> List[int]:
    """Start frames of the inference windows of a clip: ``window - overlap`` apart, the last one
    aligned with the clip's end; ``[0]`` when the clip fits in one window."""
    if num_frames <= window:
        return [0]
    hop = max(1, window - overlap)
    starts = list(range(0, num_frames - window + 1, hop))
    if starts[-1] != num_frames - window:
        starts.append(num_frames - window)
    return starts


def blend_weights(window: int, overlap: int, first: bool, last: bool) -> np.ndarray:
    """``(window,)`` cross-fade weights: a raised-cosine ramp over ``overlap`` frames at each end that
    meets a neighbour (flat 1 at the clip's own ends). Ramps stay above 0, so every frame is covered."""
    w = np.ones(window)
    n = int(min(overlap, window // 2))
    if n > 0:
        ramp = 0.5 - 0.5 * np.cos(np.pi * (np.arange(n) + 0.5) / n)
        if not first:
            w[:n] = ramp
        if not last:
            w[window - n:] = ramp[::-1]
    return w


def blend_windows(pred: np.ndarray, starts: Sequence[int], num_frames: int, overlap: int) -> np.ndarray:
    """Blend ``pred (N, window, D)`` windows starting at ``starts`` into ``(num_frames, D)``."""
    N, W, D = pred.shape
    total = np.zeros((max(num_frames, W), D))
    weight = np.zeros(max(num_frames, W))
    for i, s in enumerate(starts):
        w = blend_weights(W, overlap, i == 0, i == N - 1)
        total[s:s + W] += w[:, None] * pred[i]
        weight[s:s + W] += w
    return (total / weight[:, None])[:num_frames]


# --- joint limits ----------------------------------------------------------------------------------

#: Width (rad) of the band inside each official joint limit where :func:`soft_limits` bends the
#: network's angles towards the limit (identity further inside).
LIMIT_MARGIN = 0.03


def soft_limits(q: np.ndarray, lower: np.ndarray, upper: np.ndarray, margin: float = LIMIT_MARGIN) -> np.ndarray:
    """Joint angles ``(..., D)`` brought smoothly inside ``[lower, upper]`` ``(D,)``: unchanged more than
    ``margin`` inside a limit, then ``limit -+ m * (1 - tanh(d / m))``-style saturation within the last
    ``m = min(margin, range / 4)`` (continuous with slope 1 where it starts, never beyond the limit).
    A hard clamp of a prediction a little beyond a limit makes a kink the robot feels; this does not."""
    q = np.asarray(q, dtype=np.float64)
    lo, hi = np.asarray(lower, dtype=np.float64), np.asarray(upper, dtype=np.float64)
    m = np.minimum(margin, (hi - lo) / 4.0)
    top, bottom = hi - m, lo + m
    out = np.where(q > top, top + m * np.tanh((q - top) / m), q)
    return np.where(q < bottom, bottom - m * np.tanh((bottom - q) / m), out)


# --- inputs ----------------------------------------------------------------------------------------


def as_human_motion(obj: Any, fps: Optional[float] = None) -> Motion:
    """A human :class:`Motion` from what users hold: a Motion (any skeleton mappable onto SMPL-22);
    a seulzx RobotMotion (its ``smplx_pose_body`` side); or an array of SMPL-X body joints 1..21 as
    column 6D ``(T, 21, 6)`` / ``(T, 126)`` with ``fps`` (root fixed, standing, facing +X)."""
    from motionlab.data.features import seulzx_human_motion

    if isinstance(obj, Motion):
        return obj
    if isinstance(obj, RobotMotion):
        if "smplx_pose_body" in obj.extras:
            return seulzx_human_motion(obj)
        raise MotionLabError("this is robot motion (no human side): nothing to retarget",
                             file=obj.meta.get("source"))
    if isinstance(obj, (np.ndarray, torch.Tensor, list)):
        a = np.asarray(obj.detach().cpu() if isinstance(obj, torch.Tensor) else obj, dtype=np.float64)
        if a.ndim == 2 and a.shape[1] == 126:
            a = a.reshape(len(a), 21, 6)
        if a.ndim != 3 or a.shape[1:] != (21, 6):
            raise MotionLabError(f"expected SMPL-X body pose (T, 21, 6) or (T, 126) in column 6D, got {a.shape}",
                                 place="motion")
        if fps is None:
            raise MotionLabError("an array input needs its fps", place="fps")
        bad = ~np.isfinite(a.reshape(len(a), -1)).all(axis=1)
        if bad.any():
            raise MotionLabError("non-finite values", place=f"frame {int(np.argmax(bad))}")
        from motionlab.robots.g1 import G1_PELVIS_HEIGHT

        T = len(a)
        stand = RobotMotion(fps=fps, root_pos=np.tile([0.0, 0.0, G1_PELVIS_HEIGHT], (T, 1)),
                            root_quat=np.tile([1.0, 0.0, 0.0, 0.0], (T, 1)), joint_pos=np.zeros((T, 29)),
                            extras={"smplx_pose_body": a})
        return seulzx_human_motion(stand)
    raise MotionLabError(f"cannot retarget a {type(obj).__name__}: give a Motion, a seulzx RobotMotion or a "
                         "(T, 21, 6) SMPL-X body pose array", place="motion")


def _to_smpl22(motion: Motion) -> Motion:
    from motionlab.core.body import SMPL22_NAMES

    if list(motion.skeleton.names) == SMPL22_NAMES:
        return motion
    from motionlab.core.mapping import to_smpl22

    try:
        return to_smpl22(motion)
    except MotionLabError as e:
        src = motion.meta.get("source")
        raise (e.with_file(src) if src else e) from None
    except (KeyError, IndexError, ValueError) as e:  # a mapper that fails without a MotionLabError
        raise MotionLabError(f"cannot map this skeleton onto SMPL-22 ({e})", file=motion.meta.get("source"),
                             place="skeleton") from None


# --- the retargeter --------------------------------------------------------------------------------


class Retargeter:
    """A loaded ``retarget`` run, ready to retarget clips (build once, call many times).

    ``Retargeter(run_dir)(motion)`` -> ``(RobotMotion, report)``; :meth:`batch` retargets several
    clips with one batched forward pass.
    """

    def __init__(self, run_dir: PathLike, device: str = "cpu") -> None:
        from motionlab.recipes.retarget.config import stream_names
        from motionlab.train.engine import load_run

        run = load_run(run_dir, recipe="retarget", map_location=device)
        self.run_dir = Path(run_dir)
        self.cfg = run.cfg
        self.model = run.model.to(device).eval()
        self.device = device
        self.human_key, self.robot_key = stream_names(self.cfg)
        missing = [k for k in (self.human_key, self.robot_key) if k not in run.stats]
        if missing:
            raise MotionLabError(f"normalisation statistics missing for {missing}", file=self.run_dir)
        self.norm_h, self.norm_r = run.stats[self.human_key], run.stats[self.robot_key]
        self.fps = float(self.cfg.data.fps)
        self.window = int(self.cfg.data.window)
        self.overlap = int(min(self.cfg.infer.overlap, self.window // 2))
        self.min_frames = int(self.cfg.infer.min_frames)
        if self.window % self.model.frames_per_step:
            raise MotionLabError(f"data.window {self.window} is not a multiple of {self.model.frames_per_step}",
                                 file=self.run_dir / "config.yaml")

    # -- pieces -----------------------------------------------------------------------------------
    def prepare(self, obj: Any, fps: Optional[float] = None) -> Tuple[Motion, np.ndarray]:
        """The SMPL-22 clip at the model's fps and its normalised features ``(T, 136)``."""
        from motionlab.data.features import body_features

        motion = _to_smpl22(as_human_motion(obj, fps))
        src = motion.meta.get("source")
        if motion.fps != self.fps:
            motion = motion.resample(self.fps)
        if motion.num_frames < self.min_frames:
            raise MotionLabError(
                f"clip too short: {motion.num_frames} frames ({motion.duration:.2f} s) at {self.fps:g} fps; "
                f"retargeting needs at least {self.min_frames} frames ({(self.min_frames - 1) / self.fps:.2f} s)",
                file=src, place="frames")
        feats = body_features(motion)
        bad = ~np.isfinite(feats).all(axis=1)
        if bad.any():
            raise MotionLabError("non-finite values", file=src, place=f"frame {int(np.argmax(bad))}")
        return motion, np.asarray(self.norm_h(feats), dtype=np.float32)

    def predict(self, feats: Sequence[np.ndarray]) -> List[np.ndarray]:
        """Joint angles ``(T_i, 29)`` (rad, Unitree order, **not** clamped) of normalised feature clips,
        every window of every clip in batched forward passes."""
        W = self.window
        windows, plan = [], []
        for x in feats:
            T = len(x)
            if T < W:  # edge-pad a short clip to one window
                x = np.concatenate([x, np.repeat(x[-1:], W - T, axis=0)], axis=0)
            starts = window_starts(len(x), W, self.overlap)
            plan.append((T, len(x), starts, len(windows)))
            windows.extend(x[s:s + W] for s in starts)
        if not windows:
            return []
        batch = torch.from_numpy(np.stack(windows)).to(self.device)
        outs = []
        with torch.inference_mode():
            for i in range(0, len(batch), max(1, self.cfg.infer.batch_windows)):
                outs.append(self.model.retarget(batch[i:i + self.cfg.infer.batch_windows]).float().cpu())
        pred = self.norm_r.denormalize(torch.cat(outs).numpy().astype(np.float64))
        result = []
        for T, Tp, starts, first in plan:
            blended = blend_windows(pred[first:first + len(starts)], starts, Tp, self.overlap)
            result.append(blended[:T])
        return result

    def finish(self, motion: Motion, joint_pos: np.ndarray, fps: Optional[float] = None,
               seconds: float = 0.0) -> Tuple[RobotMotion, Dict[str, Any]]:
        """Limits (measured, then clamped), root placement, resampling; the robot clip and its report."""
        from motionlab.eval.metrics import foot_skating_ratio, limit_violations, velocity_limit_violations
        from motionlab.recipes.retarget.root import assemble_robot_motion, g1_soles
        from motionlab.robots.g1 import G1_JOINT_NAMES, G1_LOWER, G1_UPPER, G1_VELOCITY_LIMITS, clamp_to_limits
        from motionlab.robots.g1_fk import g1_fk

        raw = limit_violations(joint_pos, G1_LOWER, G1_UPPER)  # the network's own angles
        joint_pos = soft_limits(joint_pos, G1_LOWER, G1_UPPER)
        lim = limit_violations(joint_pos, G1_LOWER, G1_UPPER)
        frac, excess = lim.fraction, lim.per_joint
        q = clamp_to_limits(joint_pos)
        meta = {"source": motion.meta.get("source"), "retargeted_by": "motionlab retarget",
                "run": str(self.run_dir), "limits": "official G1 limits (clamped)"}
        contacts = bool(getattr(self.cfg.infer, "contacts", True))
        robot, info = assemble_robot_motion(motion, q, meta=meta, contacts=contacts,
                                            root=str(getattr(self.cfg.infer, "root", "stance")))
        final = limit_violations(robot.joint_pos, G1_LOWER, G1_UPPER)  # the leg IK stays inside the limits
        if len(joint_pos) > 1:  # velocities of what the robot gets (after the leg IK)
            vel = velocity_limit_violations(robot.joint_pos, self.fps, G1_VELOCITY_LIMITS)
            vfrac, vexcess = vel.fraction, vel.per_joint
        else:
            vfrac, vexcess = 0.0, np.zeros(29)
        body_pos, body_quat = g1_fk(robot.root_pos, robot.root_quat, robot.joint_pos, order="isaac")
        soles = g1_soles(body_pos, body_quat)
        feet = soles.mean(axis=2)  # (T, 2, 3): centre of each sole
        feet[..., 2] = soles[..., 2].min(axis=2)
        skate = foot_skating_ratio(feet, self.fps) if len(feet) > 1 else 0.0
        out_fps = float(fps) if fps else float(motion.meta.get("source_fps", self.fps))
        if out_fps != robot.fps:
            robot = robot.resample(out_fps)
        order = np.argsort(-excess)
        report = {
            "frames_model": int(motion.num_frames),
            "model_fps": self.fps,
            "frames_out": int(robot.num_frames),
            "fps_out": float(robot.fps),
            "duration_s": float(robot.duration),
            "windows": len(window_starts(max(motion.num_frames, self.window), self.window, self.overlap)),
            "window": self.window,
            "overlap": self.overlap,
            "scale": float(info["scale"]),
            "limit_violation_frames": float(frac),
            "limit_max_excess_rad": float(excess.max()),
            "limit_violating_joints": {G1_JOINT_NAMES[i]: float(excess[i]) for i in order[:5] if excess[i] > 0},
            "network_limit_violation_frames": float(raw.fraction),
            "network_limit_max_excess_rad": float(raw.per_joint.max()),
            "velocity_violation_steps": float(vfrac),
            "velocity_max_excess_rad_s": float(np.max(vexcess)),
            "clamped_to_limits": True,
            "output_limit_violation_frames": float(final.fraction),
            "contacts": contacts,
            "contact_frames": float(info.get("contact_frames", 0.0)),
            "contact_foot_error_mm": float(info.get("contact_foot_error_mm", 0.0)),
            "foot_skating_ratio": float(skate),
            "seconds": float(seconds),
        }
        return robot, report

    # -- public -----------------------------------------------------------------------------------
    def __call__(self, obj: Any, fps: Optional[float] = None, in_fps: Optional[float] = None
                 ) -> Tuple[RobotMotion, Dict[str, Any]]:
        """Retarget one clip; ``fps`` = output rate (default: the input's), ``in_fps`` for array inputs."""
        return self.batch([obj], fps=fps, in_fps=in_fps)[0]

    def batch(self, objs: Sequence[Any], fps: Optional[float] = None, in_fps: Optional[float] = None
              ) -> List[Tuple[RobotMotion, Dict[str, Any]]]:
        """Retarget several clips with one batched network pass (see :meth:`__call__`)."""
        t0 = time.perf_counter()
        prepared = []
        for obj in objs:
            human = as_human_motion(obj, in_fps)
            motion, feats = self.prepare(human)
            motion.meta["source_fps"] = human.fps
            prepared.append((human, motion, feats))
        joints = self.predict([f for _, _, f in prepared])
        t_net = time.perf_counter() - t0
        out = []
        for (human, motion, _), q in zip(prepared, joints):
            t1 = time.perf_counter()
            robot, report = self.finish(motion, q, fps)
            report.update(input=human.meta.get("source"), frames_in=int(human.num_frames), fps_in=float(human.fps),
                          skeleton=f"{human.skeleton.num_joints} joints mapped onto SMPL-22")
            report["seconds"] = t_net / max(1, len(prepared)) + time.perf_counter() - t1
            report["frames_per_second"] = robot.num_frames / max(report["seconds"], 1e-9)
            out.append((robot, report))
        return out


_CACHE: Dict[Tuple[str, float], Retargeter] = {}


def load_retargeter(run_dir: PathLike) -> Retargeter:
    """A :class:`Retargeter` for ``run_dir``, cached while its checkpoint file is unchanged."""
    from motionlab.train.checkpoint import CHECKPOINT_DIR, LAST

    path = Path(run_dir).resolve()
    ckpt = path / CHECKPOINT_DIR / LAST
    if not ckpt.is_file():
        raise MotionLabError("not a trained run folder (no checkpoints/last.ckpt)", file=run_dir)
    key = (str(path), ckpt.stat().st_mtime)
    if key not in _CACHE:
        _CACHE.clear()
        _CACHE[key] = Retargeter(path)
    return _CACHE[key]


def retarget_motion(motion: Any, run_dir: PathLike, fps: Optional[float] = None,
                    in_fps: Optional[float] = None) -> Tuple[RobotMotion, Dict[str, Any]]:
    """Retarget one human clip onto the G1 with the trained run in ``run_dir``.

    Args:
        motion: a :class:`Motion` (any skeleton whose joint names map onto SMPL-22, any fps, Z up,
            metres), a seulzx :class:`RobotMotion` (its human side), or a ``(T, 21, 6)`` SMPL-X body
            pose in column 6D (then ``in_fps`` is required).
        run_dir: a run folder of the ``retarget`` recipe.
        fps: output frame rate (default: the input's).

    Returns:
        ``(RobotMotion, report)``: 29 joint angles in Unitree order clamped into the official limits,
        the root from :mod:`.root`; the report holds frame counts and rates, the limit and velocity
        violations measured before clamping, the robot's foot skating ratio and timing.

    Raises:
        MotionLabError: a skeleton that cannot be mapped, a clip too short, non-finite frames, a bad run.
    """
    return load_retargeter(run_dir)(motion, fps=fps, in_fps=in_fps)


# --- files -----------------------------------------------------------------------------------------


def _output_format(output: Path, format: Optional[str]) -> str:
    if format is None:
        format = _EXTENSIONS.get(output.suffix.lower())
        if format is None:
            raise MotionLabError(f"cannot tell the output format from {output.suffix or '(no extension)'!r}; "
                                 f"pass format= one of {', '.join(OUTPUT_FORMATS)}", file=output)
    if format not in OUTPUT_FORMATS:
        raise choices_error("retarget output format", format, OUTPUT_FORMATS, file=output)
    return format


def write_robot(output: PathLike, robot: RobotMotion, format: str, fps: float) -> None:
    """Write a retargeted clip in one of :data:`OUTPUT_FORMATS` at ``fps``."""
    from motionlab.io.g1 import write_g1

    if format == "npz":
        from motionlab.io.npz import save_motion_npz
        from motionlab.robots.g1_fk import robot_to_motion

        clip = robot.resample(fps) if fps != robot.fps else robot
        body = robot_to_motion(clip)
        body.extras["g1_joint_pos"] = np.asarray(clip.joint_pos, dtype=np.float64)
        body.meta["g1_joint_names"] = list(clip.joint_names)
        save_motion_npz(output, body)
    elif format == "gmr-pkl":
        write_g1(output, robot.resample(fps) if fps != robot.fps else robot, format="gmr-pkl")
    else:
        write_g1(output, robot, format=format, fps=fps)


def read_human_file(path: PathLike) -> Motion:
    """A human clip from any motion file motionlab reads (BVH, SMPL-X/AMASS npz, motionlab npz, the
    human side of a seulzx npz)."""
    from motionlab.io.formats import FORMATS, read_file

    name, obj = read_file(path)
    kind = FORMATS[name].kind
    if name == "seulzx":
        return as_human_motion(obj)
    if kind != "human":
        raise MotionLabError(f"a {name} file holds {kind} motion, not human motion: nothing to retarget", file=path)
    obj.meta.setdefault("source", os.fspath(path))
    return obj


def retarget_file(input: PathLike, run_dir: PathLike, output: PathLike, format: Optional[str] = None,
                  fps: Optional[float] = None, render: Optional[PathLike] = None,
                  mjcf: Optional[PathLike] = None) -> str:
    """Retarget a human motion file onto the G1 and write it; what ``motionlab retarget`` runs.

    Args:
        input: BVH, SMPL-X/AMASS npz, motionlab npz or seulzx npz.
        run_dir: a trained ``retarget`` run folder.
        output: the robot file; its extension gives the format when ``format`` is None
            (``.npz`` BeyondMimic, ``.csv`` Unitree CSV, ``.pkl`` GMR).
        format: ``beyondmimic`` | ``unitree-csv`` | ``gmr-pkl`` | ``npz``.
        fps: output rate (defaults: beyondmimic 50, unitree-csv 30, others the input's).
        render: also write a side-by-side video (``.mp4``/``.gif``) of the human and the robot.
        mjcf: draw the robot with MuJoCo from this model file (stick figure if MuJoCo cannot render).

    Returns:
        A short human-readable report (written file, frames, rates, violations before clamping).
    """
    output = Path(output)
    fmt = _output_format(output, format)
    human = read_human_file(input)
    out_fps = float(fps) if fps else (OUTPUT_FORMATS[fmt] or human.fps)
    robot, report = retarget_motion(human, run_dir, fps=out_fps)
    output.parent.mkdir(parents=True, exist_ok=True)
    write_robot(output, robot, fmt, out_fps)
    lines = [f"wrote {output} ({fmt}, {robot.num_frames} frames at {out_fps:g} fps, {robot.duration:.2f} s)",
             f"input: {input} ({report['frames_in']} frames at {report['fps_in']:g} fps, {report['skeleton']})",
             f"joint limits before clamping: {100 * report['limit_violation_frames']:.1f}% of frames outside, "
             f"largest excess {report['limit_max_excess_rad']:.3f} rad"
             + (f" ({', '.join(report['limit_violating_joints'])})" if report["limit_violating_joints"] else "")
             + f" (network output before the smooth limits: {100 * report['network_limit_violation_frames']:.1f}%, "
             f"{report['network_limit_max_excess_rad']:.3f} rad)",
             f"velocity limits: {100 * report['velocity_violation_steps']:.1f}% of steps over, "
             f"largest excess {report['velocity_max_excess_rad_s']:.2f} rad/s",
             f"robot foot skating ratio: {report['foot_skating_ratio']:.3f}; scale robot/human {report['scale']:.3f}",
             (f"planted feet: {100 * report['contact_frames']:.0f}% of foot-frames held by the leg IK "
              f"(mean remaining offset {report['contact_foot_error_mm']:.1f} mm), "
              f"{100 * report['output_limit_violation_frames']:.1f}% of output frames outside the limits"
              if report["contacts"] else "planted feet: leg IK off (infer.contacts=false)"),
             f"time: {report['seconds']:.3f} s ({report['frames_per_second']:.0f} frames/s)"]
    if fmt == "beyondmimic" and abs(out_fps - 50.0) > 1e-9:
        lines.append(f"warning: BeyondMimic's tracker plays one frame per 0.02 s; {out_fps:g} fps will play "
                     "at the wrong speed")
    if render:
        lines.append(render_side_by_side(human, robot, render, mjcf=mjcf))
    return "\n".join(lines)


def render_side_by_side(human: Motion, robot: RobotMotion, out: PathLike, mjcf: Optional[PathLike] = None,
                        max_seconds: Optional[float] = None) -> str:
    """Write a video of the human (stick figure) and the robot side by side at the robot's fps; the
    robot is drawn by MuJoCo from ``mjcf`` when given and renderable, else as a stick figure.
    Returns a one-line note of what was written."""
    from motionlab.report.render import Figure, figure_from_motion, figure_from_robot, render

    fps = robot.fps
    h = _to_smpl22(human).resample(fps) if human.fps != fps else _to_smpl22(human)
    T = min(h.num_frames, robot.num_frames)
    hf = figure_from_motion(h.slice(0, T), "human")
    if mjcf:
        try:
            return _render_mujoco_pair(hf, robot.slice(0, T), mjcf, out, fps)
        except Exception as e:  # no GL backend, bad model file: fall back to stick figures
            note = f" (MuJoCo rendering failed: {type(e).__name__}: {e}; drew stick figures)"
        else:  # pragma: no cover
            note = ""
    else:
        note = ""
    rf = figure_from_robot(robot.slice(0, T), "G1 (retargeted)")
    render([hf, Figure(rf.positions, rf.parents, rf.title)], out, fps, max_seconds=max_seconds,
           caption="human -> Unitree G1")
    return f"rendered {out}{note}"


def _render_mujoco_pair(human_fig, robot: RobotMotion, mjcf: PathLike, out: PathLike, fps: float) -> str:
    """Human stick figure beside the MuJoCo-rendered robot, frame by frame (same height)."""
    import imageio.v2 as imageio

    from motionlab.report.render import _draw_frames
    from motionlab.robots.mujoco_model import render_frames

    size = 320
    robot_frames = render_frames(mjcf, robot, size, size)
    human_frames = _draw_frames([human_fig], range(robot.num_frames), None, None, fps, size, -60.0, 15.0)
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    kw = {"codec": "libx264", "ffmpeg_log_level": "error", "macro_block_size": 16} if out.suffix.lower() == ".mp4" else {}
    with imageio.get_writer(out, fps=fps, **kw) as w:
        for a, b in zip(human_frames, robot_frames):
            hgt = min(a.shape[0], b.shape[0])
            img = np.concatenate([a[:hgt], np.asarray(b)[:hgt, ..., :3]], axis=1)
            if out.suffix.lower() == ".mp4":
                img = img[: img.shape[0] - img.shape[0] % 16, : img.shape[1] - img.shape[1] % 16]
            w.append_data(img)
    return f"rendered {out} (robot drawn by MuJoCo from {mjcf})"
