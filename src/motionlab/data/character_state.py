"""The per-frame state of the character-motion predictor: pose, root motion, soft contacts and a soft phase.

One frame of a ``character`` stream (141 numbers) on the SMPL-22 layout:

====================  =====  ===========================================================
slice                 size   meaning
====================  =====  ===========================================================
``0:136``             136    the body features of :mod:`motionlab.data.features` (root height,
                             heading-frame planar velocity m/s, yaw rate rad/s, heading-free root
                             tilt and the 21 local joint rotations, column 6D)
``136:138``           2      soft foot contacts (left, right) in [0, 1]
``138:140``           2      soft phase ``(w sin phi, w cos phi)`` extracted from the soft contacts
``140``               1      soft step frequency ``w f`` (gait cycles per second)
====================  =====  ===========================================================

Soft contacts come from the file when it carries them (``extras["soft_contacts"]``, as the synthetic
corpus and frame JSON files do), else from foot height above the clip's floor and foot speed. The soft
phase is never read from labels: it is the angle of the analytic signal (Hilbert transform) of the
contact difference ``c_L - c_R``, and its confidence ``w`` in [0, 1] grows with that signal's envelope,
so a standing character (both feet planted) has phase ``(0, 0)`` and frequency 0.
"""

from __future__ import annotations

from typing import Dict, Tuple

import numpy as np

from motionlab.core.motion import Motion
from motionlab.data.features import BODY_DIMS, body_features

CONTACT_SLICE = slice(BODY_DIMS, BODY_DIMS + 2)
PHASE_SLICE = slice(BODY_DIMS + 2, BODY_DIMS + 4)
FREQ_INDEX = BODY_DIMS + 4
CHARACTER_DIMS = BODY_DIMS + 5

#: where each part of the state lives (for models and metrics)
LAYOUT: Dict[str, Tuple[int, int]] = {
    "height": (0, 1), "root_vel": (1, 3), "yaw_rate": (3, 4), "tilt": (4, 10), "joints": (10, BODY_DIMS),
    "contacts": (BODY_DIMS, BODY_DIMS + 2), "phase": (BODY_DIMS + 2, BODY_DIMS + 4),
    "freq": (BODY_DIMS + 4, BODY_DIMS + 5),
}


def estimate_soft_contacts(motion: Motion) -> np.ndarray:
    """``(T, 2)`` soft contacts of an SMPL-22 motion from foot height and speed: the synthetic corpus's
    rule (:func:`motionlab.data.synth.locomotion.soft_contacts`) measured above the clip's floor (the
    2nd percentile of the lowest foot point), so a file whose floor is not at Z = 0 is read alike."""
    from dataclasses import replace

    from motionlab.data.synth.locomotion import foot_points, soft_contacts

    floor = float(np.percentile(foot_points(motion)[..., 2].min(axis=2), 2))
    shifted = replace(motion, root_pos=motion.root_pos - np.array([0.0, 0.0, floor]))
    return soft_contacts(shifted)


def soft_phase(contacts: np.ndarray, fps: float, full_amplitude: float = 0.5) -> np.ndarray:
    """``(T, 3)`` = ``(w sin phi, w cos phi, w f)`` from ``(T, 2)`` soft contacts (see the module docstring).

    ``phi`` is the angle of the analytic signal of ``c_L - c_R`` (mean removed), ``f`` the rate of
    ``phi`` in cycles per second (clipped to [0, 4]), ``w = min(envelope / full_amplitude, 1)``.
    """
    from scipy.ndimage import uniform_filter1d
    from scipy.signal import hilbert

    c = np.asarray(contacts, dtype=np.float64)
    T = len(c)
    if T < 4:
        return np.zeros((T, 3))
    s = c[:, 0] - c[:, 1]
    s = s - s.mean()
    z = hilbert(s)
    phi = np.angle(z)
    env = uniform_filter1d(np.abs(z), size=max(3, int(round(0.3 * fps))), mode="nearest")
    w = np.clip(env / full_amplitude, 0.0, 1.0)
    f = np.clip(np.gradient(np.unwrap(phi)) * fps / (2 * np.pi), 0.0, 4.0)
    f = uniform_filter1d(f, size=max(3, int(round(0.3 * fps))), mode="nearest")
    return np.stack([w * np.sin(phi), w * np.cos(phi), w * f], axis=1)


def character_features(motion: Motion) -> np.ndarray:
    """``(T, 141)`` predictor state of a human motion (module docstring); other skeletons are mapped
    onto SMPL-22 by joint names first (by :func:`~motionlab.data.features.body_features`)."""
    from motionlab.core.body import SMPL22_NAMES

    body = body_features(motion)
    contacts = motion.extras.get("soft_contacts") if hasattr(motion, "extras") else None
    if contacts is None or np.asarray(contacts).shape != (len(body), 2):
        m = motion
        if list(m.skeleton.names) != SMPL22_NAMES:
            from motionlab.core.mapping import to_smpl22

            m = to_smpl22(m)
        contacts = estimate_soft_contacts(m)
    contacts = np.clip(np.asarray(contacts, dtype=np.float64), 0.0, 1.0)
    phase = soft_phase(contacts, motion.fps)
    return np.concatenate([body, contacts, phase], axis=1).astype(np.float32)


def frames_to_motion(arrays: Dict[str, np.ndarray], height: float = 0.93) -> Motion:
    """A frame-JSON / frame-npz clip (:mod:`motionlab.io.frame_json` arrays) as an SMPL-22 :class:`Motion`.

    ``rot6d`` must hold the 22 SMPL-22 bones in SMPL order (bone 0: the root's world rotation, the others
    parent-relative; or in the order of ``bone_names`` when given). The root moves with ``RootVelocityXY``
    (world ground plane, m/s) at a constant pelvis ``height`` (the format has none); ``soft_contacts``
    are kept as extras, so the predictor reads the file's own contact scores.
    """
    from motionlab.core.body import SMPL22_NAMES, smpl22_skeleton
    from motionlab.core.rotations import matrix_to_quat, quat_fix_continuity, rot6d_to_matrix
    from motionlab.errors import MotionLabError

    r = np.asarray(arrays["rot6d"], dtype=np.float64)
    names = [str(n) for n in arrays["bone_names"]] if "bone_names" in arrays else list(SMPL22_NAMES)
    if r.shape[1] != 22 or sorted(names) != sorted(SMPL22_NAMES):
        raise MotionLabError(f"the predictor reads frame files of the 22 SMPL-22 bones; this one has {r.shape[1]} "
                             f"bones ({names[:4]}...)", place="BoneRotations")
    order = [names.index(n) for n in SMPL22_NAMES]
    R = rot6d_to_matrix(r[:, order])
    fps = float(np.asarray(arrays["fps"]).reshape(-1)[0])
    vel = np.asarray(arrays["root_vel"], dtype=np.float64)
    xy = np.concatenate([np.zeros((1, 2)), np.cumsum(vel[:-1], axis=0) / fps])
    root = np.concatenate([xy, np.full((len(xy), 1), height)], axis=1)
    q = quat_fix_continuity(matrix_to_quat(R), dim=0)
    return Motion(fps, smpl22_skeleton(), root, q,
                  extras={"soft_contacts": np.asarray(arrays["soft_contacts"], dtype=np.float64)},
                  meta={"format": "frame-json"})
