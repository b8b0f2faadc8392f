"""Stick-figure pictures and videos of motion (bodies and the G1), side by side.

A :class:`Figure` is what to draw: world joint positions ``(T, J, 3)`` (Z up, metres) and the
parent of each joint. :func:`render` writes an MP4 (imageio-ffmpeg) or a GIF of one or several
figures side by side, each in its own panel that follows its root, with a ground grid, the root
trail, optional foot-contact markers, a caption and an optional audio waveform strip with a
playhead. :func:`filmstrip` writes one PNG of a few frames, for reports.

The camera is an orthographic view from the front-left, above the ground (azimuth and elevation
in degrees); it needs no 3D backend, so it renders quickly on a CPU.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import List, Optional, Sequence, Tuple

import numpy as np

from motionlab.errors import MotionLabError

COLORS = ["#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#17becf"]


@dataclass
class Figure:
    """One thing to draw: ``positions (T, J, 3)``, ``parents (J,)``, optional contacts ``(T, K)`` of
    joints ``contact_joints`` (K indices), a title and a colour."""

    positions: np.ndarray
    parents: Sequence[int]
    title: str = ""
    contacts: Optional[np.ndarray] = None
    contact_joints: Sequence[int] = field(default_factory=list)
    color: Optional[str] = None

    def __post_init__(self) -> None:
        self.positions = np.asarray(self.positions, dtype=np.float64)
        if self.positions.ndim != 3 or self.positions.shape[-1] != 3 or self.positions.shape[1] != len(self.parents):
            raise MotionLabError(f"positions must be (T, {len(self.parents)}, 3), got {self.positions.shape}")
        if not np.isfinite(self.positions).all():
            raise MotionLabError("positions contain NaN or infinite values: nothing sensible to draw")


def figure_from_motion(motion, title: str = "", feet: Sequence[str] = ()) -> Figure:
    """A :class:`Figure` of a :class:`~motionlab.core.motion.Motion` (contacts from ``extras['contacts']``
    when present, drawn at ``feet``)."""
    pos = motion.positions()
    contacts, joints = None, []
    if feet and "contacts" in motion.extras:
        contacts = np.asarray(motion.extras["contacts"]).astype(bool)
        joints = motion.skeleton.indices(feet)
    return Figure(pos, list(motion.skeleton.parents), title or motion.meta.get("caption", ""), contacts, joints)


def figure_from_robot(robot, title: str = "G1") -> Figure:
    """A :class:`Figure` of a G1 :class:`~motionlab.robots.motion.RobotMotion` from motionlab's own FK."""
    from motionlab.robots.g1 import G1_BODY_PARENTS
    from motionlab.robots.g1_fk import g1_fk

    body_pos, _ = g1_fk(robot.root_pos, robot.root_quat, robot.joint_pos)
    return Figure(np.asarray(body_pos), list(G1_BODY_PARENTS), title)


def _project(p: np.ndarray, azim: float, elev: float) -> np.ndarray:
    """Orthographic projection of ``(..., 3)`` points to screen ``(..., 2)``."""
    a, e = np.deg2rad(azim), np.deg2rad(elev)
    right = np.array([-np.sin(a), np.cos(a), 0.0])
    fwd = np.array([np.cos(a), np.sin(a), 0.0])
    up = np.array([-np.sin(e) * fwd[0], -np.sin(e) * fwd[1], np.cos(e)])
    return np.stack([p @ right, p @ up], axis=-1)


def ground_grid(center: np.ndarray, azim: float, elev: float) -> List[np.ndarray]:
    """Screen segments ``(2, 2)`` of a ground grid around ``center`` (0.5 m spacing, fixed in the world),
    seen by the orthographic camera of :func:`_project` placed at ``center``."""
    g0 = np.floor(center[:2] / 0.5) * 0.5
    segs = []
    for k in range(-3, 4):
        for axis in (0, 1):
            a = np.array([g0[0], g0[1], 0.0])
            b = a.copy()
            a[axis] += k * 0.5
            b[axis] += k * 0.5
            a[1 - axis] -= 1.5
            b[1 - axis] += 1.5
            segs.append(_project(np.stack([a, b]) - center, azim, elev))
    return segs


def _panel_bounds(fig: Figure, azim: float, elev: float) -> Tuple[float, float]:
    centered = fig.positions - fig.positions[:, :1, :] * np.array([1, 1, 0])
    xy = _project(centered, azim, elev)
    half = max(np.abs(xy[..., 0]).max(), 0.6) + 0.4
    top = max(xy[..., 1].max(), 1.0) + 0.2
    return half, top


def _draw_frames(figures: List[Figure], frames: Sequence[int], caption: Optional[str],
                 audio: Optional[Tuple[np.ndarray, int]], fps: float, panel_px: int, azim: float, elev: float,
                 words: Sequence[Tuple[float, float, str]] = ()):
    """Yield RGB uint8 images of the requested frames."""
    import matplotlib

    matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt

    n = len(figures)
    has_audio = audio is not None
    h_in = panel_px / 100.0
    fig = plt.figure(figsize=(n * h_in * 0.8, h_in + (0.6 if has_audio else 0) + (0.3 if caption else 0)), dpi=100)
    top_frac = 1.0 - (0.3 / fig.get_figheight() if caption else 0.0)
    bottom_frac = 0.6 / fig.get_figheight() if has_audio else 0.0
    axes = [fig.add_axes([i / n, bottom_frac, 1.0 / n, top_frac - bottom_frac]) for i in range(n)]
    if caption:
        import textwrap

        width_chars = max(30, int(fig.get_figwidth() * 100 / 6.5))
        text = textwrap.shorten(caption, width=2 * width_chars, placeholder=" ...")
        fig.text(0.5, 1.0 - 0.15 / fig.get_figheight(), "\n".join(textwrap.wrap(text, width_chars)),
                 ha="center", va="center", fontsize=8)
    # one scale for every panel, so figures side by side compare in size
    per_panel = [_panel_bounds(f, azim, elev) for f in figures]
    common = (max(b[0] for b in per_panel), max(b[1] for b in per_panel))
    bounds = [common] * n
    lines, trails, dots = [], [], []
    for i, (ax, f) in enumerate(zip(axes, figures)):
        color = f.color or COLORS[i % len(COLORS)]
        half, top = bounds[i]
        ax.set_xlim(-half, half)
        ax.set_ylim(-0.35, top)
        ax.set_aspect("equal")
        ax.axis("off")
        if f.title:
            ax.set_title(f.title, fontsize=8)
        segs = [ax.plot([], [], "-", color=color, lw=2.2, solid_capstyle="round")[0] for j in range(1, len(f.parents))]
        lines.append(segs)
        trails.append(ax.plot([], [], "-", color="0.6", lw=1.0)[0])
        dots.append(ax.plot([], [], "o", color="#e6550d", ms=6, zorder=5)[0])
    ax_audio = None
    if has_audio:
        samples, sr = audio
        ax_audio = fig.add_axes([0.02, 0.05 / fig.get_figheight(), 0.96, 0.5 / fig.get_figheight()])
        t = np.arange(len(samples)) / sr
        step = max(1, len(samples) // 4000)
        ax_audio.plot(t[::step], samples[::step], color="0.4", lw=0.5)
        ax_audio.set_xlim(0, len(samples) / sr)
        ax_audio.axis("off")
        peak = float(np.abs(samples).max()) if len(samples) else 1.0
        for w0, w1, text in words:  # word labels over the waveform, at their start times
            ax_audio.text(w0, 0.9 * peak, text, fontsize=6, color="#1f4e79", va="top", ha="left", clip_on=True)
        playhead = ax_audio.axvline(0, color="#d62728", lw=1.2)
    grid_artists = [[] for _ in figures]
    for t in frames:
        for i, (ax, f) in enumerate(zip(axes, figures)):
            P = f.positions[t]
            center = np.array([P[0, 0], P[0, 1], 0.0])
            for a in grid_artists[i]:
                a.remove()
            grid_artists[i] = []
            for ab in ground_grid(center, azim, elev):
                grid_artists[i].append(ax.plot(ab[:, 0], ab[:, 1], "-", color="0.88", lw=0.8, zorder=0)[0])
            xy = _project(P - center, azim, elev)
            for j, seg in zip(range(1, len(f.parents)), lines[i]):
                p = f.parents[j]
                seg.set_data([xy[p, 0], xy[j, 0]], [xy[p, 1], xy[j, 1]])
            lo = max(0, t - int(3 * fps))
            trail = f.positions[lo:t + 1, 0] * np.array([1, 1, 0]) - center
            txy = _project(trail, azim, elev)
            trails[i].set_data(txy[:, 0], txy[:, 1])
            if f.contacts is not None and len(f.contact_joints):
                on = [jj for k, jj in enumerate(f.contact_joints) if f.contacts[t, k]]
                dots[i].set_data(xy[on, 0], xy[on, 1])
        if ax_audio is not None:
            playhead.set_xdata([t / fps, t / fps])
        fig.canvas.draw()
        img = np.asarray(fig.canvas.buffer_rgba())[..., :3].copy()
        yield img
    plt.close(fig)


def render(figures: Sequence[Figure], out, fps: float, caption: Optional[str] = None,
           audio: Optional[Tuple[np.ndarray, int]] = None, panel_px: int = 320, azim: float = -60.0,
           elev: float = 15.0, max_seconds: Optional[float] = None,
           words: Sequence[Tuple[float, float, str]] = ()) -> Path:
    """Write an MP4 or GIF of ``figures`` side by side (frames beyond the shortest are dropped);
    ``words`` ``[(start_s, end_s, text)]`` are written over the audio waveform."""
    import imageio.v2 as imageio

    figures = list(figures)
    if not figures:
        raise MotionLabError("nothing to render")
    out = Path(out)
    ext = out.suffix.lower()
    if ext not in (".mp4", ".gif"):
        raise MotionLabError(f"unknown video extension {ext!r}; valid: .mp4, .gif", file=out)
    T = min(len(f.positions) for f in figures)
    if max_seconds is not None:
        T = min(T, int(max_seconds * fps) + 1)
    step = 1
    if ext == ".gif":
        # GIF frame delays are whole hundredths of a second: keep every step-th frame, with the
        # smallest step at or below ~15 fps whose delay is exact, so the clip plays at its true speed
        step = next((k for k in range(1, 31) if fps / k <= 15.5 and abs(100.0 * k / fps - round(100.0 * k / fps)) < 1e-6),
                    max(1, int(round(fps / 15))))
    frames = range(0, T, step)
    out.parent.mkdir(parents=True, exist_ok=True)
    if ext == ".mp4":
        writer = imageio.get_writer(out, fps=fps, codec="libx264", quality=7, macro_block_size=16,
                                    ffmpeg_log_level="error")
    else:
        writer = imageio.get_writer(out, mode="I", duration=1000.0 * step / fps, loop=0)
    with writer:
        for img in _draw_frames(figures, frames, caption, audio, fps, panel_px, azim, elev, words):
            if ext == ".mp4":  # even sizes for yuv420p
                h, w = img.shape[:2]
                img = img[: h - h % 16 or h, : w - w % 16 or w]
            writer.append_data(img)
    return out


def filmstrip(figures: Sequence[Figure], out, fps: float, count: int = 5, caption: Optional[str] = None,
              audio: Optional[Tuple[np.ndarray, int]] = None, panel_px: int = 260) -> Path:
    """Write a PNG of ``count`` evenly spaced frames: one row for a single figure, else one row per
    frame with the figures side by side; the caption is drawn once, above."""
    import imageio.v2 as imageio

    figures = list(figures)
    T = min(len(f.positions) for f in figures)
    picks = np.linspace(0, T - 1, count).round().astype(int)
    imgs = list(_draw_frames(figures, picks, None, audio, fps, panel_px, -60.0, 15.0))
    strip = np.concatenate(imgs, axis=1) if len(figures) == 1 else np.concatenate(imgs, axis=0)
    if caption:
        strip = np.concatenate([_caption_bar(caption, strip.shape[1]), strip], axis=0)
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    imageio.imwrite(out, strip)
    return out


def _caption_bar(text: str, width_px: int, height_px: int = 28) -> np.ndarray:
    """A white RGB strip ``(height_px, width_px, 3)`` with ``text`` centred."""
    import matplotlib

    matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt

    fig = plt.figure(figsize=(width_px / 100.0, height_px / 100.0), dpi=100)
    fig.text(0.5, 0.5, text, ha="center", va="center", fontsize=9)
    fig.canvas.draw()
    img = np.asarray(fig.canvas.buffer_rgba())[..., :3].copy()
    plt.close(fig)
    return img[:height_px, :width_px]


def render_files(files: Sequence, output, fps: Optional[float] = None, caption: Optional[str] = None,
                 mjcf: Optional[str] = None) -> Path:
    """``motionlab data render``: motion files (human or G1, any format) side by side."""
    from motionlab.io.formats import FORMATS, read_file

    figures, rates, audio = [], [], None
    for f in files:
        name, obj = read_file(f)
        kind = FORMATS[name].kind
        if kind == "human":
            figures.append(figure_from_motion(obj, Path(f).name))
            rates.append(obj.fps)
        elif kind == "robot":
            if mjcf:
                if len(files) > 1:
                    raise MotionLabError("--mjcf renders one robot clip on its own; pass a single G1 file")
                return render_robot_mujoco(obj, mjcf, output, fps or obj.fps)
            figures.append(figure_from_robot(obj, Path(f).name))
            rates.append(obj.fps)
        elif kind == "audio":
            audio = obj
        else:
            raise MotionLabError(f"{name} files hold {kind}, which cannot be drawn as a figure", file=f)
    if not figures:
        raise MotionLabError("no motion among the files to render")
    rate = fps or rates[0]
    for i, (f, r) in enumerate(zip(figures, rates)):
        if abs(r - rate) > 1e-6:  # nearest-frame resampling of positions for display
            T = int(np.floor((len(f.positions) - 1) / r * rate)) + 1
            idx = np.clip(np.round(np.arange(T) * r / rate).astype(int), 0, len(f.positions) - 1)
            figures[i] = Figure(f.positions[idx], f.parents, f.title,
                                None if f.contacts is None else f.contacts[idx], f.contact_joints, f.color)
    return render(figures, output, rate, caption=caption, audio=audio)


def render_robot_mujoco(robot, mjcf, output, fps: float, width: int = 480, height: int = 480) -> Path:
    """Render a G1 clip with MuJoCo offscreen from a user-given MJCF (needs mujoco and a GL backend)."""
    import imageio.v2 as imageio

    from motionlab.robots.mujoco_model import render_frames

    output = Path(output)
    if output.suffix.lower() not in (".mp4", ".gif"):
        raise MotionLabError(f"unknown video extension {output.suffix!r}; valid: .mp4, .gif", file=output)
    if abs(fps - robot.fps) > 1e-6:
        robot = robot.resample(fps)
    try:
        frames = render_frames(mjcf, robot, width, height)
    except RuntimeError as e:  # no OpenGL back-end on this machine
        raise MotionLabError(f"MuJoCo could not render ({e}); drop --mjcf for stick figures", file=mjcf) from None
    with imageio.get_writer(output, fps=fps, **({"codec": "libx264", "ffmpeg_log_level": "error"}
                                               if output.suffix.lower() == ".mp4" else {})) as w:
        for img in frames:
            w.append_data(img)
    return output
