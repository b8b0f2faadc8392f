"""G1 forward kinematics: motionlab's batched torch FK vs a MuJoCo ``mj_kinematics`` loop.

Run: ``python benchmarks/bench_g1_fk.py [path/to/g1_29dof_rev_1_0.xml]``. Without a model path it
looks for the official MJCF in ``shared/reference`` beside the repository; MuJoCo is the peer.
Prints frames per second of each and their ratio (same random configurations, same machine).
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import numpy as np
import torch

from motionlab.robots.g1 import G1_LOWER, G1_UPPER
from motionlab.robots.g1_fk import g1_fk


def _best(fn, repeats=5):
    best = float("inf")
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t0)
    return best


def main() -> None:
    default = Path(__file__).resolve().parents[2] / "shared" / "reference" / "robots" / "g1" / "unitree_ros_g1_29dof_rev_1_0.xml"
    model_path = Path(sys.argv[1]) if len(sys.argv) > 1 else default
    n = 20000
    rng = np.random.default_rng(0)
    rp = rng.normal(size=(n, 3))
    rq = rng.normal(size=(n, 4))
    rq /= np.linalg.norm(rq, axis=1, keepdims=True)
    q = rng.uniform(G1_LOWER, G1_UPPER, size=(n, 29))
    print(f"{n} frames, torch threads {torch.get_num_threads()}")

    t64 = _best(lambda: g1_fk(rp, rq, q))
    tt = [torch.tensor(a, dtype=torch.float32) for a in (rp, rq, q)]
    t32 = _best(lambda: g1_fk(*tt))
    print(f"motionlab g1_fk numpy float64 : {n / t64:12.0f} frames/s")
    print(f"motionlab g1_fk torch float32 : {n / t32:12.0f} frames/s")

    try:
        import mujoco
    except ImportError:
        print("mujoco not installed: no peer to compare with")
        return
    if not model_path.is_file():
        print(f"model not found ({model_path}): no peer to compare with")
        return
    model = mujoco.MjModel.from_xml_path(str(model_path))
    data = mujoco.MjData(model)
    qpos = np.concatenate([rp, rq, q], axis=1)
    m = 5000

    def loop():
        pos = np.empty((m, model.nbody - 1, 3))
        for i in range(m):
            data.qpos[:] = qpos[i]
            mujoco.mj_kinematics(model, data)
            pos[i] = data.xpos[1:]

    tm = _best(loop, repeats=3) * n / m
    print(f"mujoco mj_kinematics loop     : {n / tm:12.0f} frames/s")
    print(f"ratio motionlab/mujoco: float64 {tm / t64:.2f}x, float32 {tm / t32:.2f}x")


if __name__ == "__main__":
    main()
