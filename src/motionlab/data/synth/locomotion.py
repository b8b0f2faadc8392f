"""Procedural locomotion on the canonical SMPL-22 body: idle, walk, run, turns, curves, side steps.

A clip is planned, not animated joint by joint: a root trajectory (speed profile, heading changes)
is integrated first; a gait phase advances at a cadence that grows with speed; every stance
interval of a foot gets one world-fixed footprint (under the hip at mid-stance), swing feet travel
between footprints on a lifted arc; the legs are then solved by two-bone IK (see :mod:`.rig`), so
planted feet do not slide and never go below the floor (Z = 0). Pelvis bob and sway, pelvis yaw with
a counter-rotating spine, arm swing opposite to the legs and a lean into turns follow the phase.

Every clip is a :class:`~motionlab.core.motion.Motion` at ``fps`` (30 by default) with extras
``contacts`` (T, 2) bool (left, right: the foot is planted), ``soft_contacts`` (T, 2) float in [0, 1]
(from the lowest foot point's height and horizontal speed) and ``gait_phase`` (T,) in [0, 1)
(0 = left foot strikes), and ``meta`` holding the sampled parameters (``style``, ``speed``, ...).
"""

from __future__ import annotations

from typing import Any, Dict, Optional

import numpy as np

from motionlab.core.motion import Motion
from motionlab.data.synth.rig import ANKLE_HEIGHT, STAND_PELVIS_HEIGHT, BodyControls, build_motion, yaw_matrix
from motionlab.data.synth.signals import bump, minjerk, runs, smooth_noise
from motionlab.errors import choices_error

LOCOMOTION_STYLES = ("idle", "walk", "run", "turn", "curve", "side_step")
# leg reach (hip to ankle) allowed before the pelvis is lowered, metres
_MAX_LEG = 0.785
_HIP_OFFSET = np.array([[-0.01, 0.06, -0.09], [-0.01, -0.06, -0.09]])  # pelvis -> hips (canonical body)


def _speed_word(speed: float, style: str) -> str:
    if style == "run":
        return "slowly" if speed < 2.7 else ("quickly" if speed > 3.3 else "")
    if style == "side_step":
        return ""
    return "slowly" if speed < 0.95 else ("quickly" if speed > 1.45 else "")


def sample_locomotion_params(rng: np.random.Generator, style: Optional[str] = None,
                             duration: Optional[float] = None) -> Dict[str, Any]:
    """Random, JSON-serialisable parameters of one locomotion clip (``style`` sampled if None)."""
    if style is None:
        style = str(rng.choice(LOCOMOTION_STYLES))
    if style not in LOCOMOTION_STYLES:
        raise choices_error("locomotion style", style, LOCOMOTION_STYLES)
    dur = float(duration if duration is not None else rng.uniform(4.0, 8.0))
    p: Dict[str, Any] = {"style": style, "duration": round(dur, 3), "heading": float(rng.uniform(-np.pi, np.pi)),
                         "gait": "walk", "speed": 0.0, "speed_end": 0.0, "turn": 0.0, "turn_time": 0.0,
                         "curve_rate": 0.0, "side": 0, "step_height": float(rng.uniform(0.09, 0.13)),
                         "width": float(rng.uniform(0.085, 0.115)), "arm_swing": float(rng.uniform(0.7, 1.3)),
                         "energy": float(rng.uniform(0.6, 1.4))}
    if style == "idle":
        return p
    if style == "run":
        p["gait"] = "run"
        p["speed"] = float(rng.uniform(2.3, 3.7))
        p["step_height"] = float(rng.uniform(0.15, 0.22))
    elif style == "side_step":
        p["gait"] = "side"
        p["speed"] = float(rng.uniform(0.3, 0.55))
        p["side"] = int(rng.choice([-1, 1]))
        p["width"] = float(rng.uniform(0.12, 0.15))
    else:
        p["gait"] = "run" if (style in ("turn", "curve") and rng.uniform() < 0.2) else "walk"
        p["speed"] = float(rng.uniform(2.4, 3.2) if p["gait"] == "run" else rng.uniform(0.7, 1.6))
        if p["gait"] == "run":
            p["step_height"] = float(rng.uniform(0.15, 0.22))
    p["speed_end"] = p["speed"]
    if style == "walk" and rng.uniform() < 0.35:
        p["speed_end"] = float(np.clip(p["speed"] * rng.choice([0.6, 1.5]), 0.6, 1.8))
    if style == "turn":
        p["turn"] = float(rng.choice([-1, 1]) * rng.uniform(np.pi / 3, 2 * np.pi / 3))
        p["turn_time"] = float(rng.uniform(1.5, max(1.6, dur - 1.8)))
    if style == "curve":
        p["curve_rate"] = float(rng.choice([-1, 1]) * rng.uniform(0.25, 0.6))
    p["speed_word"] = _speed_word(p["speed"], p["gait"] if p["gait"] != "walk" else style)
    return p


def _phase_params(gait: str, speed: np.ndarray):
    """Cadence (gait cycles per second), duty factor, lift delay and heel-off pitch (rad) of a gait."""
    if gait == "run":
        return 1.2 + 0.08 * speed, 0.36, 0.08, 0.6
    if gait == "side":
        return 1.3 + 0.0 * speed, 0.62, 0.15, 0.0
    return 0.7 + 0.25 * speed, 0.58, 0.15, 0.5


def locomotion_clip(params: Dict[str, Any], fps: float = 30.0, seed: int = 0) -> Motion:
    """Synthesize the clip of ``params`` (see :func:`sample_locomotion_params`); ``seed`` drives
    the small secondary motions (breathing, head drift)."""
    rng = np.random.default_rng(seed)
    style = params["style"]
    T = int(round(params["duration"] * fps)) + 1
    pad = int(2 * fps)
    N = T + 2 * pad
    t = (np.arange(N) - pad) / fps
    dur = params["duration"]

    # -- root trajectory ------------------------------------------------------------------------
    s0, s1 = params["speed"], params["speed_end"]
    speed = s0 + (s1 - s0) * minjerk((t - 0.35 * dur) / (0.3 * dur))
    yaw_rate = np.full(N, params["curve_rate"])
    if params["turn"]:
        width = 1.0 + 0.4 * abs(params["turn"])
        shape = bump(t, params["turn_time"], width)
        yaw_rate = yaw_rate + params["turn"] * shape / (shape.sum() / fps)
    heading = params["heading"] + np.cumsum(yaw_rate) / fps
    heading = heading - heading[pad] + params["heading"]
    direction = heading + (params["side"] * np.pi / 2 if style == "side_step" else 0.0)
    vel = speed[:, None] * np.stack([np.cos(direction), np.sin(direction)], axis=-1)
    planar = np.cumsum(vel, axis=0) / fps
    planar -= planar[pad]

    # -- gait phase and footprints -------------------------------------------------------------
    cadence, duty, lift, heel_off = _phase_params(params["gait"], speed)
    phase = (np.cumsum(np.broadcast_to(cadence, (N,))) / fps)
    phase = phase - phase[pad] + float(rng.uniform(0, 1))
    fwd = np.stack([np.cos(heading), np.sin(heading)], axis=-1)
    left = np.stack([-np.sin(heading), np.cos(heading)], axis=-1)
    ankle = np.zeros((N, 2, 3))
    foot_yaw = np.zeros((N, 2))
    foot_pitch = np.zeros((N, 2))
    stance = np.zeros((N, 2), dtype=bool)
    width = params["width"]
    if style == "idle":
        for s, sign in enumerate((1.0, -1.0)):
            ankle[:, s, :2] = planar[pad] + fwd[pad] * -0.04 + left[pad] * sign * width
            foot_yaw[:, s] = heading[pad] + sign * 0.08
        ankle[..., 2] = ANKLE_HEIGHT
        stance[:] = True
        gait_phase = np.zeros(N)
    else:
        gait_phase = np.mod(phase, 1.0)
        for s, sign in enumerate((1.0, -1.0)):
            st = np.mod(phase + 0.5 * s, 1.0) < duty
            stance[:, s] = st
            spans = runs(st)
            prints, yaws, lifts = [], [], []
            toe_vec = np.array([0.17, 0.02 * sign, -0.08])  # ankle -> toe tip, foot frame
            for a, b in spans:
                m = (a + b - 1) // 2
                prints.append(planar[m] + fwd[m] * -0.04 + left[m] * sign * width)
                yaws.append(heading[m] + sign * 0.05)
                ankle[a:b, s, :2] = prints[-1]
                ankle[a:b, s, 2] = ANKLE_HEIGHT
                foot_yaw[a:b, s] = yaws[-1]
                # heel-off: the foot pivots about its planted toe tip late in stance
                q = (np.arange(a, b) - a + 1) / (b - a)
                pitch = heel_off * minjerk((q - 0.6) / 0.4)
                R = yaw_matrix(np.full(b - a, yaws[-1])) @ _pitch_roll(pitch, np.zeros_like(pitch))
                toe = np.concatenate([prints[-1], [ANKLE_HEIGHT]]) + yaw_matrix(yaws[-1]) @ toe_vec
                ankle[a:b, s] = toe - R @ toe_vec
                foot_pitch[a:b, s] = pitch
                lifts.append(ankle[b - 1, s].copy())
            # swing between consecutive stance spans (the ends of the padded range are cut later)
            for k in range(len(spans) - 1):
                e, nxt = spans[k][1] - 1, spans[k + 1][0]
                f = np.arange(e + 1, nxt)
                u = (f - e) / (nxt - e)
                h = minjerk((u - lift) / (1.0 - 2 * lift))
                start = lifts[k]
                ankle[f, s, :2] = start[:2] + h[:, None] * (prints[k + 1] - start[:2])
                foot_yaw[f, s] = yaws[k] + h * (yaws[k + 1] - yaws[k])
                ankle[f, s, 2] = (start[2] + minjerk(u) * (ANKLE_HEIGHT - start[2])
                                  + params["step_height"] * np.sin(np.pi * u) ** 0.8)
                foot_pitch[f, s] = heel_off * (1.0 - minjerk(u / 0.5)) - 0.3 * np.sin(np.pi * u) ** 2
            first, last = spans[0][0], spans[-1][1]
            ankle[:first, s] = ankle[first, s]
            ankle[last:, s] = ankle[last - 1, s]
    # -- pelvis ----------------------------------------------------------------------------------
    e = params["energy"]
    gait = params["gait"]
    mid = duty / 2
    if style == "idle":
        sway_hz = rng.uniform(0.12, 0.3)
        sway = 0.025 * e * np.sin(2 * np.pi * sway_hz * t + rng.uniform(0, 6.3))
        bob = -0.004 * np.abs(sway) / 0.025
        yaw_osc = 0.03 * smooth_noise(rng, N, fps, 0.3)[:, 0]
        roll = -0.6 * sway
        pitch = 0.02 * smooth_noise(rng, N, fps, 0.3)[:, 0]
        z0 = STAND_PELVIS_HEIGHT - 0.015
    else:
        cyc = 2 * np.pi * (phase - mid)
        if gait == "run":
            z0, bob_amp, sway_amp = 0.93, 0.035, 0.01
            bob = -bob_amp * np.cos(2 * cyc)
        elif gait == "side":
            z0, bob_amp, sway_amp = 0.945, 0.012, 0.0
            bob = bob_amp * np.cos(2 * cyc)
        else:
            z0, bob_amp, sway_amp = 0.955, 0.01 + 0.012 * speed, 0.022
            bob = bob_amp * np.cos(2 * cyc)
        sway = sway_amp * np.cos(cyc)
        yaw_osc = (0.0 if gait == "side" else -(0.05 + 0.03 * np.minimum(speed, 3.0))) * np.cos(2 * np.pi * phase)
        roll = 0.03 * np.cos(cyc) - 0.7 * np.arctan(speed * yaw_rate / 9.81)
        pitch = 0.03 + (0.04 * speed if gait == "run" else 0.02 * speed) + 0.01 * np.cos(2 * cyc)
        if gait == "side":
            pitch = np.full(N, 0.02)
    root = np.zeros((N, 3))
    root[:, :2] = planar + left * sway[:, None]
    root[:, 2] = z0 + bob
    pelvis_rot = yaw_matrix(heading + yaw_osc) @ _pitch_roll(pitch, roll)

    # lower the pelvis (smoothly) wherever a leg would have to over-stretch
    hips = root[:, None, :] + np.einsum("tij,sj->tsi", pelvis_rot, _HIP_OFFSET)
    dxy = np.linalg.norm(ankle[..., :2] - hips[..., :2], axis=-1)
    zmax = ankle[..., 2] + np.sqrt(np.maximum(_MAX_LEG ** 2 - dxy ** 2, 0.05)) - (hips[..., 2] - root[:, None, 2])
    deficit = np.maximum(root[:, 2] - zmax.min(axis=1), 0.0)
    root[:, 2] -= _smooth_max(deficit, int(0.12 * fps) + 1)

    # -- upper body ------------------------------------------------------------------------------
    ctrl = BodyControls.standing(N)
    ctrl.root_pos = root
    ctrl.pelvis_rot = pelvis_rot
    ctrl.ankle_target = ankle
    ctrl.foot_rot = yaw_matrix(foot_yaw) @ _pitch_roll(foot_pitch, np.zeros_like(foot_pitch))
    knee_dir = np.stack([np.cos(foot_yaw) + np.cos(heading)[:, None], np.sin(foot_yaw) + np.sin(heading)[:, None],
                         np.zeros_like(foot_yaw)], axis=-1)
    ctrl.knee_pole = knee_dir
    breath = 0.02 * np.sin(2 * np.pi * rng.uniform(0.2, 0.3) * t + rng.uniform(0, 6.3))
    for i in range(3):
        ctrl.spine[:, i, 0] = -0.55 * yaw_osc
        ctrl.spine[:, i, 1] = -0.3 * pitch + (breath if i > 0 else 0.0)
        ctrl.spine[:, i, 2] = -0.3 * roll
    look = 0.06 * smooth_noise(rng, N, fps, 0.4, dims=2)
    ctrl.neck[:, 1] = -0.2 * pitch
    ctrl.head[:, 0] = 0.35 * yaw_rate * 0.5 + look[:, 0] + 0.65 * yaw_osc * 0.5
    ctrl.head[:, 1] = -0.5 * pitch + 0.5 * look[:, 1]
    ctrl.head[:, 2] = -0.4 * roll
    swing = 0.0 if style in ("idle", "side_step") else params["arm_swing"] * np.minimum(0.07 + 0.06 * speed, 0.25)
    arm = swing * np.cos(2 * np.pi * phase)
    hands = ctrl.hand_target
    if gait == "run":
        hands[:] = np.array([[0.10, 0.19, -0.33], [0.10, -0.19, -0.33]])
        ctrl.wrist[:, :, 0] = np.array([0.4, -0.4])
    for s, sign in enumerate((-1.0, 1.0)):
        hands[:, s, 0] += sign * arm
        hands[:, s, 2] += 0.5 * np.abs(sign * arm) * (sign * arm > 0) + 0.005 * np.sin(2 * np.pi * phase * 2)
    if style == "idle":
        hands[..., 2] += (breath * 0.2)[:, None]
    if style == "side_step":
        hands[:, :, 1] += 0.04 * (np.array([1.0, -1.0]) * np.cos(2 * np.pi * phase)[:, None] * params["side"])

    # -- extras ----------------------------------------------------------------------------------
    clip = slice(pad, pad + T)
    ctrl = BodyControls(**{k: v[clip] for k, v in vars(ctrl).items()})
    meta = {k: v for k, v in params.items()}
    meta["kind"] = "locomotion"
    motion = build_motion(ctrl, fps=fps, meta=meta)
    extras = {"contacts": stance[clip].copy(), "gait_phase": gait_phase[clip].astype(np.float64)}
    extras["soft_contacts"] = soft_contacts(motion)
    motion.extras.update(extras)
    motion.meta["yaw_rate"] = float(np.mean(np.abs(yaw_rate[clip])))
    motion.meta["mean_speed"] = float(np.mean(np.linalg.norm(np.diff(root[clip, :2], axis=0), axis=-1)) * fps)
    return motion


def _pitch_roll(pitch: np.ndarray, roll: np.ndarray) -> np.ndarray:
    from motionlab.data.synth.rig import euler

    return euler(np.stack([np.zeros_like(pitch), pitch, roll], axis=-1))


def _smooth_max(x: np.ndarray, half: int) -> np.ndarray:
    """A smooth upper envelope of ``x``: running max over ``±half`` frames, then a raised-cosine
    average of the same width (never below ``x`` by more than the averaging)."""
    from scipy.ndimage import maximum_filter1d

    m = maximum_filter1d(x, size=2 * half + 1, mode="nearest")
    m = maximum_filter1d(m, size=2 * half + 1, mode="nearest")
    k = np.hanning(2 * half + 3)[1:-1]
    k /= k.sum()
    return np.convolve(np.pad(m, half, mode="edge"), k, mode="valid")


def foot_points(motion: Motion) -> np.ndarray:
    """``(T, 2, 3, 3)`` world positions of (ankle, foot, toe tip) for the left and right foot."""
    pos, rot = motion.fk()
    sk = motion.skeleton
    out = []
    for side in ("left", "right"):
        a, f = sk.index(f"{side}_ankle"), sk.index(f"{side}_foot")
        toe = pos[:, f] + rot[:, f] @ sk.end_sites[f]
        out.append(np.stack([pos[:, a], pos[:, f], toe], axis=1))
    return np.stack(out, axis=1)


def soft_contacts(motion: Motion) -> np.ndarray:
    """``(T, 2)`` soft contact scores in [0, 1] from the lowest foot point's height and the foot's
    horizontal speed: ``sigmoid((3 cm - h) / 1 cm) * sigmoid((0.3 m/s - v) / 0.1 m/s)``."""
    pts = foot_points(motion)
    h = pts[..., 2].min(axis=2)
    v = np.linalg.norm(np.gradient(pts[:, :, 1, :2], axis=0), axis=-1) * motion.fps
    sig = lambda x: 1.0 / (1.0 + np.exp(-x))  # noqa: E731
    return np.clip(sig((0.03 - h) / 0.01) * sig((0.3 - v) / 0.1), 0.0, 1.0)


def generate_locomotion(rng: np.random.Generator, style: Optional[str] = None, duration: Optional[float] = None,
                        fps: float = 30.0) -> Motion:
    """Sample parameters with ``rng`` and synthesize one locomotion clip."""
    params = sample_locomotion_params(rng, style, duration)
    return locomotion_clip(params, fps=fps, seed=int(rng.integers(0, 2**31 - 1)))
