"""COCO-17 2D keypoints of a synthetic clip seen by a random pinhole camera, in two domains.

* ``"synthetic"``: clean projections, confidence 1, one intrinsics family (1280x720, f ~ 1000 px),
  cameras at about eye level (0.8-1.8 m high, 3.5-6 m away).
* ``"real"``: detector-like: per-joint Gaussian noise plus temporally correlated jitter (larger
  at wrists and ankles), a lag of 0-2 frames, occasionally dropped joints (confidence ~0, wrong
  position) and whole frames, confidences that fall with the error, short left/right limb swaps
  and occluded limbs that drift with low confidence (the classic failures of per-frame detectors on
  video), varied intrinsics (640x480 to 1920x1080, portrait too, focal 0.6-1.5 x width,
  off-centre principal point), and cameras filmed from above (2.4-4.5 m high, 2.5-5 m away: the body
  is seen 15-50 degrees from above, a view the synthetic cameras never give).

Cameras follow OpenCV: ``x_cam = R @ (X_world - C)``, x right, y down, z forward; pixels
``u = fx x / z + cx``. The camera trails the subject's smoothed pelvis (static for standing clips)
(distance and height by domain) and looks at it. :class:`SynthKeypoints` keeps the track, the camera (``K (3, 3)``,
per-frame ``R (T, 3, 3)`` and ``C (T, 3)``) and the 3D COCO points (world, metres, Z up).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Optional, Tuple

import numpy as np

from motionlab.core.motion import Motion
from motionlab.errors import choices_error
from motionlab.io.keypoints import COCO17_NAMES, Keypoints2D

DOMAINS = ("synthetic", "real")

# COCO joints taken from SMPL-22 joints by name
_FROM_BODY = {n: n for n in COCO17_NAMES[5:]}
# face points in the head joint's frame (metres): x forward, y left, z up
_FACE = {"nose": (0.11, 0.0, 0.03), "left_eye": (0.085, 0.032, 0.065), "right_eye": (0.085, -0.032, 0.065),
         "left_ear": (0.0, 0.075, 0.045), "right_ear": (0.0, -0.075, 0.045)}
# camera heights (m) and horizontal distances (m) of the two domains: the synthetic source is filmed
# from about eye level, the real-like videos from above (a raised phone, a stand, a wall camera), so the
# body is seen 15-50 degrees from above, a view the source never shows
SYNTH_HEIGHT = (0.8, 1.8)
SYNTH_DISTANCE = (3.5, 6.0)
REAL_HEIGHT = (2.4, 4.5)
REAL_DISTANCE = (2.5, 5.0)
# per-joint noise multipliers of the "real" domain (extremities are harder for detectors)
_NOISE = np.array([0.8, 0.8, 0.8, 1.0, 1.0, 1.0, 1.0, 1.3, 1.3, 1.8, 1.8, 1.2, 1.2, 1.4, 1.4, 1.7, 1.7])


def coco_points(motion: Motion) -> np.ndarray:
    """``(T, 17, 3)`` world positions of the COCO-17 points of a SMPL-22 clip (face from the head)."""
    pos, rot = motion.fk()
    sk = motion.skeleton
    out = np.zeros((motion.num_frames, 17, 3))
    head = sk.index("head")
    for i, name in enumerate(COCO17_NAMES):
        if name in _FACE:
            out[:, i] = pos[:, head] + rot[:, head] @ np.array(_FACE[name])
        else:
            out[:, i] = pos[:, sk.index(_FROM_BODY[name])]
    return out


@dataclass
class Camera:
    """A pinhole camera: intrinsics ``K (3, 3)``, per-frame world-to-camera ``R (T, 3, 3)`` and
    centre ``C (T, 3)``, ``image_size`` (width, height) in pixels."""

    K: np.ndarray
    R: np.ndarray
    C: np.ndarray
    image_size: Tuple[int, int]

    def project(self, points: np.ndarray) -> Tuple[np.ndarray, np.ndarray]:
        """``(T, N, 3)`` world points -> ``(T, N, 2)`` pixels and ``(T, N)`` depths (m)."""
        cam = np.einsum("tij,tnj->tni", self.R, points - self.C[:, None, :])
        z = cam[..., 2]
        uv = cam[..., :2] / np.maximum(z, 1e-3)[..., None]
        uv = uv * np.array([self.K[0, 0], self.K[1, 1]]) + np.array([self.K[0, 2], self.K[1, 2]])
        return uv, z


def _intrinsics(rng: np.random.Generator, domain: str) -> Tuple[np.ndarray, Tuple[int, int]]:
    if domain == "synthetic":
        w, h = 1280, 720
        f = float(rng.uniform(950, 1050))
        cx, cy = w / 2, h / 2
    else:
        sizes = [(640, 480), (1280, 720), (1920, 1080), (1080, 1920), (960, 540)]
        w, h = sizes[int(rng.integers(0, len(sizes)))]
        f = float(w * rng.uniform(0.6, 1.5))
        cx, cy = w / 2 * rng.uniform(0.97, 1.03), h / 2 * rng.uniform(0.97, 1.03)
    K = np.array([[f, 0.0, cx], [0.0, f, cy], [0.0, 0.0, 1.0]])
    return K, (int(w), int(h))


def sample_camera(rng: np.random.Generator, motion: Motion, domain: str = "synthetic",
                  heights: Optional[Tuple[float, float]] = None,
                  distances: Optional[Tuple[float, float]] = None) -> Camera:
    """A camera that trails the clip's smoothed pelvis and keeps the whole body in view; ``heights`` and
    ``distances`` (m, ranges) replace the domain's own."""
    from scipy.ndimage import gaussian_filter1d

    if domain not in DOMAINS:
        raise choices_error("keypoint domain", domain, DOMAINS)
    K, size = _intrinsics(rng, domain)
    target = gaussian_filter1d(motion.root_pos, sigma=motion.fps, axis=0, mode="nearest")
    target[:, 2] = 0.9 + rng.uniform(-0.1, 0.1)
    azim = float(rng.uniform(-np.pi, np.pi))
    # far enough for the body (1.8 m) to fit in 70% of the image height
    synth = domain == "synthetic"
    lo, hi = distances or (SYNTH_DISTANCE if synth else REAL_DISTANCE)
    dist = max(float(rng.uniform(lo, hi)), 1.8 * K[1, 1] / (0.7 * size[1]))
    height = float(rng.uniform(*(heights or (SYNTH_HEIGHT if synth else REAL_HEIGHT))))
    C = target + np.array([dist * np.cos(azim), dist * np.sin(azim), 0.0])
    C[:, 2] = height
    fwd = target - C
    fwd /= np.linalg.norm(fwd, axis=-1, keepdims=True)
    right = np.cross(fwd, np.array([0.0, 0.0, 1.0]))
    right /= np.linalg.norm(right, axis=-1, keepdims=True)
    down = np.cross(fwd, right)
    R = np.stack([right, down, fwd], axis=1)
    return Camera(K=K, R=R, C=C, image_size=size)


@dataclass
class SynthKeypoints:
    """A 2D track with its ground truth: ``keypoints`` (the track), ``camera``, ``points3d``
    ``(T, 17, 3)`` world metres, ``domain`` and the detector ``lag`` in frames."""

    keypoints: Keypoints2D
    camera: Camera
    points3d: np.ndarray
    domain: str
    lag: int

    def arrays(self) -> dict:
        """The ground truth as arrays for an npz file (``K``, ``R``, ``C``, ``image_size``, ...)."""
        return {"K": self.camera.K, "R": self.camera.R, "C": self.camera.C,
                "image_size": np.array(self.camera.image_size, dtype=np.int64), "points3d": self.points3d,
                "joint_names": np.array(COCO17_NAMES), "domain": np.array(self.domain), "lag": np.array(self.lag),
                "fps": np.array(float(self.keypoints.fps))}


# left/right pairs of COCO-17 by limb (a swapped limb swaps all of its joints)
_LIMB_PAIRS = {"leg": [(11, 12), (13, 14), (15, 16)], "arm": [(7, 8), (9, 10)]}
_LIMBS = {"left_arm": [7, 9], "right_arm": [8, 10], "left_leg": [13, 15], "right_leg": [14, 16]}


def _detector_failures(rng: np.random.Generator, uv: np.ndarray, conf: np.ndarray, scale: float,
                       fps: float) -> Tuple[np.ndarray, np.ndarray]:
    """Structured failures of per-frame 2D detectors on video, in short events:

    * left/right swaps: for 2-8 frames the left and right legs (or arms) trade places, with middling
      confidence (0.3-0.7); about one event per 2.5 s of video;
    * occluded limbs: for 0.3-1 s an elbow+wrist or knee+ankle is hidden: confidence 0.1-0.5 and the
      position drifts towards the other side's limb with a wobble of ~8 cm; about one event per 3 s.
    """
    T = uv.shape[0]
    uv, conf = uv.copy(), conf.copy()
    for _ in range(int(rng.poisson(T / (2.5 * fps)))):
        limb = "leg" if rng.uniform() < 0.7 else "arm"
        t0 = int(rng.integers(0, T))
        sl = slice(t0, min(T, t0 + int(rng.integers(2, 9))))
        for a, b in _LIMB_PAIRS[limb]:
            uv[sl, a], uv[sl, b] = uv[sl, b].copy(), uv[sl, a].copy()
            c = rng.uniform(0.3, 0.7)
            conf[sl, a] = np.minimum(conf[sl, a], c)
            conf[sl, b] = np.minimum(conf[sl, b], c)
    for _ in range(int(rng.poisson(T / (3.0 * fps)))):
        name = list(_LIMBS)[int(rng.integers(0, 4))]
        other = name.replace("left", "#").replace("right", "left").replace("#", "right")
        t0 = int(rng.integers(0, T))
        n = int(rng.uniform(0.3, 1.0) * fps)
        sl = slice(t0, min(T, t0 + n))
        k = sl.stop - sl.start
        pull = rng.uniform(0.3, 0.8)
        wobble = np.cumsum(rng.normal(0, 0.02 * scale, size=(k, 2)), axis=0)
        wobble -= wobble.mean(0)
        for j, jo in zip(_LIMBS[name], _LIMBS[other]):
            uv[sl, j] = (1 - pull) * uv[sl, j] + pull * uv[sl, jo] + np.clip(wobble, -0.08 * scale, 0.08 * scale)
            conf[sl, j] = np.minimum(conf[sl, j], rng.uniform(0.1, 0.5, size=k))
    return uv, conf


def keypoints_for(rng: np.random.Generator, motion: Motion, domain: str = "synthetic",
                  points3d: Optional[np.ndarray] = None, heights: Optional[Tuple[float, float]] = None,
                  distances: Optional[Tuple[float, float]] = None) -> SynthKeypoints:
    """Project ``motion`` through a random camera of ``domain`` (see the module docstring);
    ``points3d`` may pass precomputed :func:`coco_points`; ``heights``, ``distances``: see :func:`sample_camera`."""
    cam = sample_camera(rng, motion, domain, heights, distances)
    pts = coco_points(motion) if points3d is None else np.asarray(points3d, dtype=np.float64)
    uv, z = cam.project(pts)
    T = motion.num_frames
    conf = np.ones((T, 17))
    lag = 0
    if domain == "real":
        lag = int(rng.integers(0, 3))
        if lag:
            uv = np.concatenate([np.repeat(uv[:1], lag, axis=0), uv[:-lag]], axis=0)
        scale = cam.K[0, 0] / np.median(z)  # pixels per metre at the subject
        sigma = float(rng.uniform(0.008, 0.02)) * scale * _NOISE  # (17,) pixels
        white = rng.standard_normal((T, 17, 2))
        # temporally correlated jitter: first-order autoregressive noise
        jit = np.zeros((T, 17, 2))
        e = rng.standard_normal((T, 17, 2))
        for t in range(T):
            jit[t] = 0.8 * (jit[t - 1] if t else 0.0) + 0.6 * e[t]
        err = (0.7 * white + 0.7 * jit) * sigma[None, :, None]
        uv = uv + err
        enorm = np.linalg.norm(err, axis=-1) / sigma[None, :]
        conf = np.clip(0.97 - 0.12 * enorm + 0.03 * rng.standard_normal((T, 17)), 0.05, 1.0)
        drop = rng.uniform(size=(T, 17)) < 0.03
        drop |= (rng.uniform(size=(T, 1)) < 0.01)
        uv = np.where(drop[..., None], uv + rng.normal(0, 4 * sigma[None, :, None], size=(T, 17, 2)), uv)
        conf = np.where(drop, rng.uniform(0.0, 0.04, size=(T, 17)), conf)
        uv, conf = _detector_failures(rng, uv, conf, scale, motion.fps)
    kp = Keypoints2D(fps=motion.fps, xy=uv, conf=conf, image_size=cam.image_size,
                     meta={"domain": domain, "lag": lag})
    return SynthKeypoints(keypoints=kp, camera=cam, points3d=pts, domain=domain, lag=lag)
