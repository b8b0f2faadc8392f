"""Writing generated gestures: BEAT2-format SMPL-X npz, BVH with the 55 SMPL-X joint names, motionlab npz,
and a video of the body with the waveform, the words and the speech as its sound track."""

from __future__ import annotations

import os
import subprocess
import tempfile
from pathlib import Path
from typing import Optional, Sequence, Tuple

import numpy as np

from motionlab.core.body import SMPL22_NAMES, SMPL22_PARENTS, smpl22_skeleton
from motionlab.core.motion import Motion
from motionlab.core.rotations import axis_angle_to_matrix, matrix_to_quat, quat_fix_continuity
from motionlab.core.skeleton import Skeleton
from motionlab.errors import MotionLabError, choices_error

NPZ_FORMATS = ("beat2", "motionlab")
_FINGERS = ["index", "middle", "pinky", "ring", "thumb"]
# first-joint offsets of the left hand from the wrist (forward X, left Y, up Z), metres; then per segment
_FINGER_BASE = {"index": (0.025, 0.09, 0.0), "middle": (0.005, 0.095, 0.0), "pinky": (-0.035, 0.075, 0.0),
                "ring": (-0.015, 0.088, 0.0), "thumb": (0.03, 0.025, -0.012)}
_SEGMENT = {"index": 0.032, "middle": 0.036, "pinky": 0.022, "ring": 0.032, "thumb": 0.028}


def smplx_skeleton() -> Skeleton:
    """The 55-joint SMPL-X skeleton on motionlab's canonical body (approximate hand and face offsets)."""
    from motionlab.io.smplx import SMPLX_JOINT_NAMES

    base = smpl22_skeleton()
    names = list(SMPLX_JOINT_NAMES)
    parents = list(SMPL22_PARENTS)
    offsets = [o for o in base.offsets]
    head, lw, rw = SMPL22_NAMES.index("head"), SMPL22_NAMES.index("left_wrist"), SMPL22_NAMES.index("right_wrist")
    parents += [head, head, head]
    offsets += [np.array([0.03, 0.0, -0.03]), np.array([0.08, 0.03, 0.04]), np.array([0.08, -0.03, 0.04])]
    for side, wrist, sign in (("left", lw, 1.0), ("right", rw, -1.0)):
        for f in ["index", "middle", "pinky", "ring", "thumb"]:
            first = len(parents)
            for k in range(3):
                parents.append(wrist if k == 0 else first + k - 1)
                if k == 0:
                    x, y, z = _FINGER_BASE[f]
                    offsets.append(np.array([x, sign * y, z]))
                else:
                    d = _SEGMENT[f] * (0.8 if k == 2 else 1.0)
                    offsets.append(np.array([0.35 * d, sign * d, 0.0]) if f == "thumb" else np.array([0.0, sign * d, 0.0]))
    ends = {names.index(f"{s}_{f}3"): offsets[names.index(f"{s}_{f}3")] * 0.8 for s in ("left", "right") for f in _FINGERS}
    ends[head] = base.end_sites[head]
    return Skeleton(names, np.array(parents), np.stack(offsets), ends)


def smplx_motion_55(motion: Motion) -> Motion:
    """The 55-joint Motion of an SMPL-22 Motion with ``extras["smplx_poses"]`` (fingers, jaw, eyes)."""
    from motionlab.io.smplx import A_SMPL_TO_CANONICAL as A

    T = motion.num_frames
    poses = motion.extras.get("smplx_poses")
    extra = np.zeros((T, 33, 3)) if poses is None else np.asarray(poses[:, 66:165], np.float64).reshape(T, 33, 3)
    R = A @ axis_angle_to_matrix(extra) @ A.T
    q = np.concatenate([motion.local_quat[:, motion.skeleton.indices(SMPL22_NAMES)],
                        quat_fix_continuity(matrix_to_quat(R), dim=0)], axis=1)
    return Motion(motion.fps, smplx_skeleton(), motion.root_pos.copy(), q, meta=dict(motion.meta))


def write_output(path, motion: Motion, npz_format: str = "beat2") -> str:
    """Write ``motion`` by extension: ``.npz`` (``beat2``: SMPL-X ``poses`` (T, 165), ``trans``, ``betas``,
    ``expressions``, ``mocap_frame_rate``; ``motionlab``: motionlab npz with extras), ``.bvh`` (55 SMPL-X
    joints, Y up). Returns a short description."""
    path = Path(path)
    ext = path.suffix.lower()
    path.parent.mkdir(parents=True, exist_ok=True)
    if ext == ".npz":
        if npz_format not in NPZ_FORMATS:
            raise choices_error("npz format", npz_format, NPZ_FORMATS, place="--format")
        if npz_format == "beat2":
            from motionlab.io.smplx import write_smplx_npz

            write_smplx_npz(path, motion)
            return "BEAT2 SMPL-X npz (poses (T, 165) axis-angle, trans, betas, expressions, mocap_frame_rate)"
        from motionlab.io.npz import save_motion_npz

        save_motion_npz(path, motion)
        return "motionlab npz (SMPL-22 body; hands, jaw and expressions in extras)"
    if ext == ".bvh":
        from motionlab.io.bvh import write_bvh

        write_bvh(path, smplx_motion_55(motion))
        return "BVH with the 55 SMPL-X joint names (Y up)"
    raise MotionLabError(f"unknown output extension {ext!r}; valid: .npz, .bvh", file=path)


def render_talk(motion: Motion, out, audio: Tuple[np.ndarray, int], words: Sequence = (), caption: str = "",
                max_seconds: Optional[float] = None, extra_figures: Sequence = ()) -> Path:
    """A video of the body (and ``extra_figures``) with the waveform and the words; ``.mp4`` files get the
    speech as their sound track (ffmpeg from imageio-ffmpeg)."""
    from motionlab.report.render import figure_from_motion, render

    out = Path(out)
    figs = [figure_from_motion(motion, "generated"), *extra_figures]
    word_list = [(float(w[0]), float(w[1]), str(w[2])) for w in words]
    render(figs, out, motion.fps, caption=caption or None, audio=audio, max_seconds=max_seconds, words=word_list)
    if out.suffix.lower() == ".mp4":
        add_sound(out, audio, max_seconds)
    return out


def add_sound(video: Path, audio: Tuple[np.ndarray, int], max_seconds: Optional[float] = None) -> Path:
    """Mux ``audio`` into an mp4 in place (AAC); the video stream is copied."""
    import imageio_ffmpeg

    from motionlab.io.audio import write_audio

    samples, sr = audio
    if max_seconds is not None:
        samples = samples[: int(max_seconds * sr) + sr]
    with tempfile.TemporaryDirectory() as tmp:
        wav = Path(tmp) / "speech.wav"
        write_audio(wav, samples, sr)
        muxed = Path(tmp) / "muxed.mp4"
        cmd = [imageio_ffmpeg.get_ffmpeg_exe(), "-y", "-loglevel", "error", "-i", os.fspath(video), "-i",
               os.fspath(wav), "-c:v", "copy", "-c:a", "aac", "-shortest", os.fspath(muxed)]
        r = subprocess.run(cmd, capture_output=True, text=True)
        if r.returncode != 0:
            raise MotionLabError(f"ffmpeg could not add the sound track ({r.stderr.strip()[:200]})", file=video)
        os.replace(muxed, video)
    return video
