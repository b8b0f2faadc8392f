"""BVH reading speed: motionlab's reader against bvhio on a CMU-like clip.

Generates a 3000-frame, 31-joint BVH with CMU's joint names, ZYX rotation channels and
inches-like units in a temporary folder, reads it with both libraries (best of several runs),
checks that both give the same world joint positions (after motionlab's documented Y-up ->
Z-up mapping and unit scale), and prints the times and the ratio.

Run: ``python benchmarks/bench_bvh.py [--frames 3000] [--repeats 5]``
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path
from typing import Callable, List, Tuple

import numpy as np

# CMU's 31-joint skeleton: (name, parent name, offset in the file's inches-like units, Y up).
CMU31: List[Tuple[str, str, Tuple[float, float, float]]] = [
    ("Hips", "", (0.0, 0.0, 0.0)),
    ("LHipJoint", "Hips", (0.0, 0.0, 0.0)),
    ("LeftUpLeg", "LHipJoint", (1.36, -1.79, 0.84)),
    ("LeftLeg", "LeftUpLeg", (2.45, -6.73, 0.0)),
    ("LeftFoot", "LeftLeg", (2.56, -7.04, 0.0)),
    ("LeftToeBase", "LeftFoot", (0.16, -0.43, 2.32)),
    ("RHipJoint", "Hips", (0.0, 0.0, 0.0)),
    ("RightUpLeg", "RHipJoint", (-1.31, -1.79, 0.84)),
    ("RightLeg", "RightUpLeg", (-2.54, -6.98, 0.0)),
    ("RightFoot", "RightLeg", (-2.57, -7.06, 0.0)),
    ("RightToeBase", "RightFoot", (-0.15, -0.42, 2.36)),
    ("LowerBack", "Hips", (0.0, 0.0, 0.0)),
    ("Spine", "LowerBack", (0.03, 2.04, -0.04)),
    ("Spine1", "Spine", (0.05, 2.06, -0.02)),
    ("Neck", "Spine1", (0.0, 0.0, 0.0)),
    ("Neck1", "Neck", (-0.03, 1.75, 0.14)),
    ("Head", "Neck1", (0.01, 1.76, -0.03)),
    ("LeftShoulder", "Spine1", (0.0, 0.0, 0.0)),
    ("LeftArm", "LeftShoulder", (3.36, 1.2, 0.0)),
    ("LeftForeArm", "LeftArm", (4.98, 0.0, 0.0)),
    ("LeftHand", "LeftForeArm", (3.48, 0.0, 0.0)),
    ("LeftFingerBase", "LeftHand", (0.0, 0.0, 0.0)),
    ("LeftHandIndex1", "LeftFingerBase", (0.71, 0.0, 0.0)),
    ("LThumb", "LeftHand", (0.0, 0.0, 0.0)),
    ("RightShoulder", "Spine1", (0.0, 0.0, 0.0)),
    ("RightArm", "RightShoulder", (-3.14, 1.21, 0.0)),
    ("RightForeArm", "RightArm", (-5.24, 0.0, 0.0)),
    ("RightHand", "RightForeArm", (-3.44, 0.0, 0.0)),
    ("RightFingerBase", "RightHand", (0.0, 0.0, 0.0)),
    ("RightHandIndex1", "RightFingerBase", (0.62, 0.0, 0.0)),
    ("RThumb", "RightHand", (0.0, 0.0, 0.0)),
]


def make_cmu_like(path: Path, frames: int, seed: int = 0) -> None:
    """Write a CMU-like BVH: root 6 channels, 3 ZYX rotation channels elsewhere, smooth random motion."""
    rng = np.random.default_rng(seed)
    names = [n for n, _, _ in CMU31]
    children = {n: [c for c, p, _ in CMU31 if p == n] for n in names}
    offsets = {n: o for n, _, o in CMU31}
    lines = ["HIERARCHY"]

    def emit(name: str, depth: int) -> None:
        pad = "  " * depth
        lines.append(f"{pad}{'ROOT' if depth == 0 else 'JOINT'} {name}")
        lines.append(pad + "{")
        lines.append(f"{pad}  OFFSET {' '.join(f'{v:.6f}' for v in offsets[name])}")
        pos = "Xposition Yposition Zposition " if depth == 0 else ""
        lines.append(f"{pad}  CHANNELS {6 if depth == 0 else 3} {pos}Zrotation Yrotation Xrotation")
        for c in children[name]:
            emit(c, depth + 1)
        if not children[name]:
            lines.extend([pad + "  End Site", pad + "  {", f"{pad}    OFFSET 0.000000 1.000000 0.000000", pad + "  }"])
        lines.append(pad + "}")

    emit("Hips", 0)
    t = np.arange(frames) / 120.0
    phase = rng.uniform(0, 2 * np.pi, size=(len(names), 3))
    amp = rng.uniform(5, 40, size=(len(names), 3))
    freq = rng.uniform(0.3, 2.0, size=(len(names), 3))
    rot = amp * np.sin(2 * np.pi * freq * t[:, None, None] + phase)  # (T, J, 3) degrees
    root = np.stack([10 * np.sin(0.2 * t), 17.0 + 0.5 * np.sin(2 * t), 5 * t], axis=-1)
    data = np.concatenate([root, rot.reshape(frames, -1)], axis=1)
    lines += ["MOTION", f"Frames: {frames}", "Frame Time: 0.0083333333"]
    body = "\n".join(" ".join(f"{v:.4f}" for v in row) for row in data)
    path.write_text("\n".join(lines) + "\n" + body + "\n")


def best_time(fn: Callable[[], object], repeats: int) -> Tuple[float, object]:
    best, out = float("inf"), None
    for _ in range(repeats):
        t0 = time.perf_counter()
        out = fn()
        best = min(best, time.perf_counter() - t0)
    return best, out


def bvhio_positions(root, frames: List[int]) -> np.ndarray:
    layout = root.layout()
    out = []
    for f in frames:
        root.loadPose(f)
        out.append([tuple(j.PositionWorld) for j, _, _ in layout])
    return np.asarray(out, dtype=np.float64)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--frames", type=int, default=3000)
    ap.add_argument("--repeats", type=int, default=5)
    args = ap.parse_args()

    from motionlab.io.bvh import read_bvh

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "cmu_like.bvh"
        make_cmu_like(path, args.frames)
        size_mb = path.stat().st_size / 1e6
        read_bvh(path)  # warm-up (imports, caches)
        t_ml, motion = best_time(lambda: read_bvh(path), args.repeats)
        print(f"file: {args.frames} frames x {len(CMU31)} joints, {size_mb:.1f} MB")
        print(f"motionlab read_bvh          : {t_ml * 1e3:8.1f} ms  (parse + Euler -> quaternions, Z up, metres)")
        try:
            import bvhio
        except ImportError:
            print("bvhio not installed: no peer to compare against")
            return
        t_parse, _ = best_time(lambda: bvhio.readAsBvh(str(path)), max(1, args.repeats // 2))
        t_hier, root = best_time(lambda: bvhio.readAsHierarchy(str(path)), max(1, args.repeats // 2))
        print(f"bvhio.readAsBvh (parse only): {t_parse * 1e3:8.1f} ms   ratio {t_parse / t_ml:6.1f}x")
        print(f"bvhio.readAsHierarchy       : {t_hier * 1e3:8.1f} ms   ratio {t_hier / t_ml:6.1f}x")

        # Correctness: world positions of a few frames, bvhio (Y up, file units) mapped to Z up, metres.
        frames = [0, args.frames // 3, args.frames - 1]
        ref = bvhio_positions(root, frames)
        ref = np.stack([ref[..., 0], -ref[..., 2], ref[..., 1]], axis=-1) * motion.meta["scale"]
        names = [j.Name for j, _, _ in root.layout()]
        ours = motion.positions()[frames][:, [motion.skeleton.index(n) for n in names]]
        err = np.abs(ours - ref).max()
        print(f"max |position difference| vs bvhio: {err:.2e} m (skeleton height {motion.skeleton.height():.2f} m, "
              f"units {motion.meta['units']!r})")


if __name__ == "__main__":
    main()
