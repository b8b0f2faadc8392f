"""Forward kinematics speed: motionlab vs straightforward peers, measured in the same run.

100k frames of the 22-joint SMPL body. Peers:

* ``numpy matmul``: the textbook implementation, one batched ``np.matmul`` per joint over all frames
  (float64);
* ``scipy Rotation``: the same walk with ``scipy.spatial.transform.Rotation`` objects (compose and
  ``apply`` per joint, vectorised over frames).

Run: ``python benchmarks/bench_fk.py [frames]``. Prints frames/s and the ratio to each peer.
"""

from __future__ import annotations

import sys
import time

import numpy as np
import torch
from scipy.spatial.transform import Rotation

from motionlab.core.body import smpl22_skeleton
from motionlab.core.kinematics import forward_kinematics


def numpy_matmul_fk(R, root, parents, offsets):
    T, J = R.shape[:2]
    rot = np.empty_like(R)
    pos = np.empty((T, J, 3))
    rot[:, 0], pos[:, 0] = R[:, 0], root
    for j in range(1, J):
        p = parents[j]
        rot[:, j] = rot[:, p] @ R[:, j]
        pos[:, j] = pos[:, p] + rot[:, p] @ offsets[j]
    return pos, rot


def scipy_fk(R, root, parents, offsets):
    J = R.shape[1]
    world = [Rotation.from_matrix(R[:, 0])]
    pos = [root]
    for j in range(1, J):
        p = parents[j]
        world.append(world[p] * Rotation.from_matrix(R[:, j]))
        pos.append(pos[p] + world[p].apply(offsets[j]))
    return np.stack(pos, 1), np.stack([w.as_matrix() for w in world], 1)


def best_of(fn, repeats: int = 3) -> float:
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return min(times)


def main(frames: int = 100_000) -> None:
    sk = smpl22_skeleton()
    J = sk.num_joints
    rng = np.random.default_rng(0)
    R = Rotation.from_rotvec(rng.normal(scale=0.6, size=(frames * J, 3))).as_matrix().reshape(frames, J, 3, 3)
    root = rng.normal(size=(frames, 3))
    R32, root32 = torch.tensor(R, dtype=torch.float32), torch.tensor(root, dtype=torch.float32)
    R64, root64 = torch.tensor(R), torch.tensor(root)

    ref_pos, _ = numpy_matmul_fk(R, root, sk.parents, sk.offsets)
    check = forward_kinematics(R, root, sk.parents, sk.offsets)[0]
    assert np.allclose(check, ref_pos, atol=1e-9), "motionlab FK disagrees with the numpy peer"

    rows = [
        ("motionlab numpy float64", lambda: forward_kinematics(R, root, sk.parents, sk.offsets)),
        ("motionlab torch float64", lambda: forward_kinematics(R64, root64, sk.parents, sk.offsets)),
        ("motionlab torch float32", lambda: forward_kinematics(R32, root32, sk.parents, sk.offsets)),
        ("peer: numpy matmul float64", lambda: numpy_matmul_fk(R, root, sk.parents, sk.offsets)),
        ("peer: scipy Rotation float64", lambda: scipy_fk(R, root, sk.parents, sk.offsets)),
    ]
    print(f"forward kinematics, {frames} frames x {J} joints, torch threads {torch.get_num_threads()}")
    secs = {name: best_of(fn) for name, fn in rows}
    for name, s in secs.items():
        print(f"  {name:30s} {s * 1e3:9.1f} ms  {frames / s / 1e6:7.2f} M frames/s")
    for peer in ("peer: numpy matmul float64", "peer: scipy Rotation float64"):
        for ours in ("motionlab numpy float64", "motionlab torch float32"):
            print(f"  ratio {ours} vs {peer[6:]}: {secs[peer] / secs[ours]:.2f}x faster")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 100_000)
