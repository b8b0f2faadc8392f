"""The ``--render`` video of ``motionlab recover``: left, the camera's view (the input keypoints, coloured
by confidence, over the recovered body projected through the same camera); right, the recovered body in
the gravity-aligned world (orthographic view following the root, ground grid, root trail)."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import numpy as np

from motionlab.core.body import SMPL22_PARENTS
from motionlab.errors import MotionLabError

#: COCO-17 limbs drawn between the input keypoints
COCO_EDGES = [(5, 7), (7, 9), (6, 8), (8, 10), (5, 6), (11, 12), (5, 11), (6, 12), (11, 13), (13, 15),
              (12, 14), (14, 16), (0, 1), (0, 2), (1, 3), (2, 4)]


def render_recovery(rec, out, panel_px: int = 360, max_seconds: Optional[float] = None) -> Path:
    """Write ``out`` (.mp4 or .gif) for a :class:`~motionlab.recipes.recover.tool.Recovered`."""
    import imageio.v2 as imageio
    import matplotlib

    matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt

    from motionlab.report.render import _project, ground_grid

    out = Path(out)
    ext = out.suffix.lower()
    if ext not in (".mp4", ".gif"):
        raise MotionLabError(f"unknown video extension {ext!r}; valid: .mp4, .gif", file=out)
    tr = rec.track
    fps = tr.fps
    T = tr.num_frames if max_seconds is None else min(tr.num_frames, int(max_seconds * fps) + 1)
    xy, conf = tr.xy, tr.conf
    uv = rec.cam[..., :2] / np.maximum(rec.cam[..., 2:3], 0.05) * tr.focal + tr.principal
    if tr.image_size is not None:
        W, H = tr.image_size
    else:
        W, H = tr.principal * 2
    world = rec.motion.positions()
    fig = plt.figure(figsize=(2 * panel_px / 100, panel_px / 100), dpi=100)
    ax_c = fig.add_axes([0.0, 0.0, 0.5, 0.92])
    ax_w = fig.add_axes([0.5, 0.0, 0.5, 0.92])
    ax_c.set_xlim(0, W)
    ax_c.set_ylim(H, 0)
    ax_c.set_aspect("equal")
    ax_c.set_xticks([])
    ax_c.set_yticks([])
    ax_c.set_title("camera: input keypoints over the recovered body", fontsize=7)
    ax_w.set_title("world (gravity-aligned)", fontsize=7)
    ax_w.axis("off")
    ax_w.set_aspect("equal")
    ax_w.set_xlim(-1.2, 1.2)
    ax_w.set_ylim(-0.4, 2.0)
    body = [ax_c.plot([], [], "-", color="#1f77b4", lw=2.0, alpha=0.8)[0] for _ in SMPL22_PARENTS[1:]]
    kp_lines = [ax_c.plot([], [], "-", color="#d62728", lw=1.0)[0] for _ in COCO_EDGES]
    dots = ax_c.scatter(np.zeros(17), np.zeros(17), s=12, c=np.zeros(17), cmap="autumn_r", vmin=0, vmax=1, zorder=5)
    wbody = [ax_w.plot([], [], "-", color="#1f77b4", lw=2.2)[0] for _ in SMPL22_PARENTS[1:]]
    trail = ax_w.plot([], [], "-", color="0.6", lw=1.0)[0]
    grid = []
    azim, elev = -60.0, 15.0
    if ext == ".mp4":
        writer = imageio.get_writer(out, fps=fps, codec="libx264", quality=7, macro_block_size=16,
                                    ffmpeg_log_level="error")
        step = 1
    else:
        step = max(1, int(round(fps / 15)))
        writer = imageio.get_writer(out, mode="I", duration=1000.0 * step / fps, loop=0)
    out.parent.mkdir(parents=True, exist_ok=True)
    with writer:
        for t in range(0, T, step):
            for j, line in zip(range(1, 22), body):
                p = SMPL22_PARENTS[j]
                line.set_data([uv[t, p, 0], uv[t, j, 0]], [uv[t, p, 1], uv[t, j, 1]])
            for (a, b), line in zip(COCO_EDGES, kp_lines):
                ok = conf[t, a] > 0 and conf[t, b] > 0
                line.set_data(([xy[t, a, 0], xy[t, b, 0]], [xy[t, a, 1], xy[t, b, 1]]) if ok else ([], []))
            vis = conf[t] > 0
            dots.set_offsets(np.where(vis[:, None], xy[t], np.nan))
            dots.set_array(conf[t])
            P = world[t]
            centre = np.array([P[0, 0], P[0, 1], 0.0])
            for g in grid:
                g.remove()
            grid = []
            for ab in ground_grid(centre, azim, elev):
                grid.append(ax_w.plot(ab[:, 0], ab[:, 1], "-", color="0.88", lw=0.8, zorder=0)[0])
            w2 = _project(P - centre, azim, elev)
            for j, line in zip(range(1, 22), wbody):
                p = SMPL22_PARENTS[j]
                line.set_data([w2[p, 0], w2[j, 0]], [w2[p, 1], w2[j, 1]])
            lo = max(0, t - int(3 * fps))
            tr2 = _project(world[lo:t + 1, 0] * np.array([1, 1, 0]) - centre, azim, elev)
            trail.set_data(tr2[:, 0], tr2[:, 1])
            fig.canvas.draw()
            img = np.asarray(fig.canvas.buffer_rgba())[..., :3].copy()
            if ext == ".mp4":
                h, w = img.shape[:2]
                img = img[: h - h % 16 or h, : w - w % 16 or w]
            writer.append_data(img)
    plt.close(fig)
    return out
