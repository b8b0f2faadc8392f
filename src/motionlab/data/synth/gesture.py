"""Talking and listening motion on the canonical SMPL-22 body, driven by synthetic speech.

Talking: the hands move through *word shapes* ("big" spreads the arms, "small" brings the hands
together, "you" points forward, "I" brings a hand to the chest, "here" points down in front,
"there" points away, "think" lifts a hand to the chin, "maybe" shrugs; "no" shakes and "yes" nods
the head) plus one *beat loop* per syllable: a small loop of the hands (and a smaller one of the
chest and head) that starts and ends at the syllable onsets and is slowest there, so the speed
minima (the motion beats of the BC metric) fall on the audio onsets. Between phrases the hands
settle back to rest.

Listening: small head nods and a slight lean that start ``lag`` seconds (0.2-0.5 s, stored in
``meta["lag"]``) after the onsets of some of the partner's stressed syllables (always the last one
of a phrase, with a fuller nod); hands stay near rest.

The lower body stands on planted feet with a slow weight shift. Extras: ``contacts`` (T, 2) bool,
``soft_contacts`` (T, 2), ``gait_phase`` (T,) zeros, ``speaking`` (T,) bool (own voice active).
Frame ``f`` is at time ``f / fps``; clips have ``round(duration * fps)`` frames so the audio
(``round(duration * 16000)`` samples) and the motion cover the same span.
"""

from __future__ import annotations

from typing import Any, Dict, List, Optional, Tuple

import numpy as np

from motionlab.core.motion import Motion
from motionlab.data.synth.locomotion import soft_contacts
from motionlab.data.synth.rig import ANKLE_HEIGHT, REST_HANDS, STAND_PELVIS_HEIGHT, BodyControls, build_motion, euler, yaw_matrix
from motionlab.data.synth.signals import bump, minjerk, smooth_noise
from motionlab.data.synth.speech import FUNCTION_WORDS, Speech, Voice, generate_speech

# wrist targets (left, right) in the chest frame, metres: x forward, y left, z up from spine3
NEUTRAL = np.array([[0.27, 0.17, -0.30], [0.27, -0.17, -0.30]])
SHAPES: Dict[str, np.ndarray] = {
    "big": np.array([[0.22, 0.56, -0.10], [0.22, -0.56, -0.10]]),
    "small": np.array([[0.34, 0.035, -0.22], [0.34, -0.035, -0.22]]),
    "you": np.array([[0.10, 0.20, -0.42], [0.50, -0.10, -0.02]]),
    "I": np.array([[0.20, 0.16, -0.36], [0.16, 0.00, -0.08]]),
    "here": np.array([[0.36, 0.12, -0.42], [0.36, -0.12, -0.42]]),
    "there": np.array([[0.12, 0.20, -0.42], [0.40, -0.38, -0.02]]),
    # the thinking hand rises to the chin in front of the body: a hand at the temple folds the arm past
    # the point where its upper-arm twist is defined (the G1 shoulder then flips between its pitch limits)
    "think": np.array([[0.16, 0.18, -0.40], [0.30, -0.12, 0.10]]),
    "maybe": np.array([[0.18, 0.38, -0.34], [0.18, -0.38, -0.34]]),
}
SHRUG_WORDS = ("maybe",)
HEAD_WORDS = {"no": "shake", "yes": "nod"}
_LOOP_LAMBDA = 0.5  # share of uniform angular speed in a beat loop (sets the speed at onsets)


def sample_person(rng: np.random.Generator) -> Dict[str, float]:
    """Style of one person: gesture energy, body sway and hand rest height."""
    return {"energy": float(rng.uniform(0.7, 1.4)), "sway": float(rng.uniform(0.5, 1.5)),
            "hand_scale": float(rng.uniform(0.9, 1.1))}


def _standing(rng: np.random.Generator, T: int, fps: float, position, heading: float, sway: float) -> BodyControls:
    t = np.arange(T) / fps
    ctrl = BodyControls.standing(T)
    R0 = yaw_matrix(heading)
    ctrl.ankle_target = position[None, None, :] + np.einsum("ij,sj->si", R0, np.array(
        [[-0.04, 0.10, 0.0], [-0.04, -0.10, 0.0]]))[None].repeat(T, axis=0)
    ctrl.ankle_target[..., 2] = ANKLE_HEIGHT
    ctrl.foot_rot = np.tile(yaw_matrix(np.array([heading + 0.08, heading - 0.08])), (T, 1, 1, 1))
    hz = rng.uniform(0.1, 0.25)
    side = 0.02 * sway * np.sin(2 * np.pi * hz * t + rng.uniform(0, 6.3))
    ctrl.root_pos = position[None, :] + np.einsum("ij,tj->ti", R0, np.stack(
        [0.005 * smooth_noise(rng, T, fps, 0.3)[:, 0], side, np.zeros(T)], axis=-1))
    ctrl.root_pos[:, 2] = STAND_PELVIS_HEIGHT - 0.02 - 0.003 * np.abs(side) / 0.02
    yaw = heading + 0.03 * sway * smooth_noise(rng, T, fps, 0.25)[:, 0]
    ctrl.pelvis_rot = euler(np.stack([yaw, np.full(T, 0.02), -0.5 * side], axis=-1))
    ctrl.knee_pole = np.tile(np.array([np.cos(heading), np.sin(heading), 0.0]), (T, 2, 1))
    breath = 0.015 * np.sin(2 * np.pi * rng.uniform(0.2, 0.3) * t + rng.uniform(0, 6.3))
    ctrl.spine[:, 1, 1] = breath
    ctrl.spine[:, 2, 1] = breath
    ctrl.spine[:, :, 2] = 0.15 * side[:, None]
    drift = smooth_noise(rng, T, fps, 0.3, dims=3)
    ctrl.head[:] = drift * np.array([0.04, 0.03, 0.01])
    ctrl.hand_target = np.tile(REST_HANDS, (T, 1, 1)) + 0.006 * smooth_noise(rng, T, fps, 0.3, dims=6).reshape(T, 2, 3)
    return ctrl


def _word_shape_track(speech: Speech, T: int, fps: float, scale: float) -> Tuple[np.ndarray, np.ndarray]:
    """``(T, 2, 3)`` chest-frame wrist targets from the words and ``(T,)`` shrug amount."""
    t = np.arange(T) / fps
    keys: List[Tuple[float, float, np.ndarray, float]] = []  # (start, end, pose, shrug)
    phrases = speech.phrases
    ons = speech.onsets()
    for a, b in phrases:
        ws = [w for w in speech.words if a - 1e-6 <= w[0] <= b + 1e-6]
        for k, (ws_, we_, text) in enumerate(ws):
            if text in FUNCTION_WORDS and k > 0:
                continue  # the hands hold the previous shape
            on = _first_onset(speech, ws_)
            before = ons[(ons < on - 1e-6) & (ons > on - 0.6)]
            # the hands travel to the shape over the preceding syllable, arriving at the onset
            start = float(before[-1]) if len(before) else on - 0.35
            pose = SHAPES.get(text, NEUTRAL) * np.array([1.0, scale, 1.0])
            keys.append((start, on, pose, 1.0 if text in SHRUG_WORDS else 0.0))
        keys.append((b + 0.1, b + 0.8, REST_HANDS, 0.0))
    pose = np.tile(REST_HANDS, (T, 1, 1)).astype(np.float64)
    shrug = np.zeros(T)
    cur, cur_s = REST_HANDS.astype(np.float64), 0.0
    for start, end, target, s in keys:
        m = t >= start
        w = minjerk((t[m] - start) / max(end - start, 1e-3))
        pose[m] = cur + w[:, None, None] * (target - cur)
        shrug[m] = cur_s + w * (s - cur_s)
        cur, cur_s = target, s
    return pose, shrug


def _first_onset(speech: Speech, word_start: float) -> float:
    ons = speech.onsets()
    after = ons[ons >= word_start - 1e-6]
    return float(after[0]) if len(after) else word_start


def _beat_loops(speech: Speech, T: int, fps: float, energy: float) -> Tuple[np.ndarray, np.ndarray]:
    """Loop phase ``theta (T,)`` (0 at every onset) and amplitude ``r (T,)`` (metres) of the beats."""
    t = np.arange(T) / fps
    theta = np.zeros(T)
    amp = np.zeros(T)
    syl = speech.syllables
    for k, (on, end, stressed) in enumerate(syl):
        nxt = syl[k + 1][0] if k + 1 < len(syl) else np.inf
        span = nxt - on if nxt - on < 0.6 else 0.4
        m = (t >= on) & (t < on + span)
        u = (t[m] - on) / span
        theta[m] = 2 * np.pi * ((1 - _LOOP_LAMBDA) * minjerk(u) + _LOOP_LAMBDA * u)
        amp[m] = energy * (0.045 if stressed else 0.028)
    return theta, amp


def conversation_motion(rng: np.random.Generator, num_frames: int, own: Optional[Speech] = None,
                        partner: Optional[Speech] = None, fps: float = 30.0, position=(0.0, 0.0),
                        heading: float = 0.0, person: Optional[Dict[str, float]] = None,
                        lag: Optional[float] = None, meta: Optional[Dict[str, Any]] = None) -> Motion:
    """Motion of one person who talks (``own`` speech) and listens (to ``partner`` speech).

    ``position`` (x, y) and ``heading`` (rad) place the person on the floor; ``lag`` (s) is the
    listening reaction delay (sampled in [0.2, 0.5] if None).
    """
    person = person or sample_person(rng)
    T = int(num_frames)
    t = np.arange(T) / fps
    pos = np.array([position[0], position[1], 0.0], dtype=np.float64)
    ctrl = _standing(rng, T, fps, pos, heading, person["sway"])
    energy = person["energy"]
    speaking = np.zeros(T, dtype=bool)
    if own is not None and own.syllables:
        speaking = own.voice_activity(fps, T)
        shape, shrug = _word_shape_track(own, T, fps, person["hand_scale"])
        theta, amp = _beat_loops(own, T, fps, energy)
        # a circle in the sagittal plane, lowest point (the hit) at the onsets
        loop = np.stack([np.sin(theta), np.zeros(T), 1.0 - np.cos(theta)], axis=-1) * amp[:, None]
        ctrl.hand_target = ctrl.hand_target - REST_HANDS + shape
        ctrl.hand_target[:, 1] += loop
        ctrl.hand_target[:, 0] += 0.7 * loop
        ctrl.collar[:, 0, 2] = -0.12 * shrug
        ctrl.collar[:, 1, 2] = 0.12 * shrug
        # chest and head follow the beat loop in angle (slowest at the onsets too)
        ang = np.stack([np.sin(theta), 1.0 - np.cos(theta)], axis=-1) * (amp / 0.045)[:, None]
        for i in range(3):
            ctrl.spine[:, i, 0] += 0.012 * ang[:, 0]
            ctrl.spine[:, i, 1] += 0.012 * ang[:, 1]
        ctrl.neck[:, 0] += 0.03 * ang[:, 0]
        ctrl.neck[:, 1] += 0.03 * ang[:, 1]
        ctrl.head[:, 0] += 0.03 * ang[:, 0]
        ctrl.head[:, 1] += 0.04 * ang[:, 1]
        for ws, we, text in own.words:
            kind = HEAD_WORDS.get(text)
            if kind is None:
                continue
            m = (t >= ws) & (t <= we + 0.35)
            u = t[m] - ws
            win = np.sin(np.pi * u / (we + 0.35 - ws))
            if kind == "shake":
                shake = 0.28 * win * np.sin(2 * np.pi * 3.0 * u)
                ctrl.neck[m, 0] += 0.4 * shake
                ctrl.head[m, 0] += 0.6 * shake
            else:
                nod = 0.18 * win * np.sin(2 * np.pi * 2.5 * u) ** 2
                ctrl.neck[m, 1] += 0.4 * nod
                ctrl.head[m, 1] += 0.6 * nod
    if lag is None:
        lag = float(rng.uniform(0.2, 0.5))
    events = []
    if partner is not None and partner.syllables:
        # nod after stressed syllables; the last stressed syllable of a phrase gets a full nod
        for a, b in partner.phrases:
            stressed = [on for on, end, st in partner.syllables if st and a - 1e-6 <= on <= b + 1e-6]
            for k, on in enumerate(stressed):
                if k == len(stressed) - 1:
                    events.append((on, 1.0))
                elif rng.uniform() < 0.6:
                    events.append((on, 0.5))
        events.sort()
        nod = np.zeros(T)
        for ev, strength in events:
            start = ev + lag
            nod += strength * bump(t, start + 0.25, 0.5) * (t >= start)
        nod = np.minimum(nod, 1.3)
        listening = ~speaking
        ctrl.neck[:, 1] += 0.07 * nod * listening
        ctrl.head[:, 1] += 0.10 * nod * listening
        ctrl.spine[:, 2, 1] += 0.03 * nod * listening
        ctrl.hand_target[:, :, 2] += (0.01 * nod * listening)[:, None]
    out_meta = {"kind": "talking" if partner is None else ("listening" if own is None else "dyadic"),
                "lag": round(float(lag), 4), **{k: round(v, 4) for k, v in person.items()}}
    out_meta.update(meta or {})
    motion = build_motion(ctrl, fps=fps, meta=out_meta)
    motion.extras["contacts"] = np.ones((T, 2), dtype=bool)
    motion.extras["soft_contacts"] = soft_contacts(motion)
    motion.extras["gait_phase"] = np.zeros(T)
    motion.extras["speaking"] = speaking
    return motion


def _frames(duration: float, fps: float) -> int:
    return int(round(duration * fps))


def generate_talking(rng: np.random.Generator, duration: float, fps: float = 30.0,
                     voice: Optional[Voice] = None) -> Tuple[Motion, Speech]:
    """One person talking alone (facing +X at the origin)."""
    speech = generate_speech(rng, duration, voice)
    motion = conversation_motion(rng, _frames(duration, fps), own=speech, fps=fps)
    return motion, speech


def generate_listening(rng: np.random.Generator, duration: float, fps: float = 30.0) -> Tuple[Motion, Speech]:
    """One person listening to a partner's speech (returned: the listener's motion, the heard speech)."""
    speech = generate_speech(rng, duration)
    motion = conversation_motion(rng, _frames(duration, fps), partner=speech, fps=fps)
    return motion, speech


def turn_spans(rng: np.random.Generator, duration: float) -> Tuple[List[Tuple[float, float]], List[Tuple[float, float]]]:
    """Alternating turns ``(spans of speaker 1, spans of speaker 2)`` covering ``duration`` seconds."""
    spans: Tuple[List, List] = ([], [])
    t, who = 0.0, int(rng.integers(0, 2))
    while t < duration - 1.0:
        length = float(rng.uniform(1.8, 3.5))
        end = min(t + length, duration)
        spans[who].append((round(t, 4), round(end, 4)))
        t, who = end, 1 - who
    return spans[0], spans[1]


def generate_dyadic(rng: np.random.Generator, duration: float, fps: float = 30.0, distance: float = 1.4):
    """Two people facing each other taking turns. Returns ``[(motion, speech)] * 2``: speaker 1 at
    the origin facing +X, speaker 2 ``distance`` m ahead facing -X; each one's speech is its own
    voice (silent while listening), and each listens to the other."""
    spans1, spans2 = turn_spans(rng, duration)
    sp1 = generate_speech(rng, duration, active=spans1)
    sp2 = generate_speech(rng, duration, active=spans2)
    T = _frames(duration, fps)
    m1 = conversation_motion(rng, T, own=sp1, partner=sp2, fps=fps, position=(0.0, 0.0), heading=0.0,
                             meta={"turns": [list(s) for s in spans1]})
    m2 = conversation_motion(rng, T, own=sp2, partner=sp1, fps=fps, position=(distance, 0.0), heading=np.pi,
                             meta={"turns": [list(s) for s in spans2]})
    return [(m1, sp1), (m2, sp2)]


# --- hands, jaw and face (SMPL-X joints 22..54 and expression coefficients) ----------------------

#: per-finger curl (rad per joint) of the hand shapes, fingers in SMPL-X order (index, middle, pinky,
#: ring, thumb); "open" also spreads the fingers
HAND_SHAPES: Dict[str, np.ndarray] = {
    "relaxed": np.array([0.35, 0.40, 0.45, 0.42, 0.20]),
    "open": np.array([0.02, 0.02, 0.04, 0.03, 0.00]),
    "point": np.array([0.00, 1.35, 1.40, 1.38, 0.80]),
    "fist": np.array([1.40, 1.45, 1.45, 1.45, 1.00]),
}
#: word -> hand shape (both hands); "you"/"there"/"here" point with the right hand only
WORD_HANDS: Dict[str, Tuple[str, str]] = {
    "big": ("open", "open"), "maybe": ("open", "open"), "you": ("relaxed", "point"), "there": ("relaxed", "point"),
    "here": ("point", "point"), "no": ("fist", "fist"),
}
NUM_EXPRESSIONS = 100  # BEAT2 / FLAME expression coefficients; the corpus drives the first 6


def _smooth(x: np.ndarray, fps: float, seconds: float) -> np.ndarray:
    """Gaussian smoothing along time (axis 0) with std ``seconds``."""
    from scipy.ndimage import gaussian_filter1d

    return gaussian_filter1d(x, sigma=max(seconds * fps, 1e-3), axis=0, mode="nearest")


def _hand_track(own: Optional[Speech], T: int, fps: float) -> np.ndarray:
    """``(T, 2, 5)`` per-finger curl of the left and right hand from the words."""
    t = np.arange(T) / fps
    curl = np.tile(HAND_SHAPES["relaxed"], (T, 2, 1)).astype(np.float64)
    if own is not None:
        for ws, we, text in own.words:
            shapes = WORD_HANDS.get(text)
            if shapes is None:
                continue
            m = (t >= ws - 0.1) & (t <= we + 0.25)
            for side in range(2):
                curl[m, side] = HAND_SHAPES[shapes[side]]
    return _smooth(curl, fps, 0.07)


def _finger_axis_angles(curl: np.ndarray, spread: np.ndarray) -> np.ndarray:
    """``(T, 30, 3)`` axis-angles (SMPL frame: left +X, up +Y, forward +Z) of the 2 x 15 finger joints.

    Fingers of the left hand point along +X, the right along -X, palms down: a curl turns each
    joint about the SMPL Z axis (towards -Y), the thumb about the forward axis less strongly."""
    T = len(curl)
    out = np.zeros((T, 2, 5, 3, 3))
    for side, sign in ((0, -1.0), (1, 1.0)):
        for f in range(5):
            for k in range(3):
                c = curl[:, side, f] * (1.0 if k == 0 else 1.1)
                if f == 4:  # thumb: curls across the palm
                    out[:, side, f, k] = np.stack([np.zeros(T), 0.4 * sign * c, 0.6 * sign * c], axis=-1)
                else:
                    out[:, side, f, k, 2] = sign * c
                    if k == 0:  # spread about the palm normal
                        out[:, side, f, k, 1] = sign * spread[:, side] * (f - 1.5) * 0.12
    return out.reshape(T, 30, 3)


def face_and_hands(rng: np.random.Generator, T: int, fps: float, own: Optional[Speech] = None,
                   partner: Optional[Speech] = None, lag: float = 0.3) -> Tuple[np.ndarray, np.ndarray]:
    """``(pose (T, 99), expressions (T, 100))``: SMPL-X axis-angles of joints 22..54 (jaw, eyes,
    2 x 15 fingers; SMPL frame, radians) and FLAME-style expression coefficients of one person.

    * fingers: the word's hand shape (open hand on "big", point on "you", fist on "no", relaxed
      otherwise; :data:`WORD_HANDS`) plus a small flex with the syllable beats;
    * jaw: opens with the own voice's envelope (up to ~0.3 rad);
    * expressions: 0 mouth (envelope), 1 brows up on stressed syllables, 2 smile on "yes"/"okay"/"wonderful",
      3 frown on "no", 4 brows with the nods while listening (the partner's stressed syllables, ``lag``
      seconds later), 5 slow drift; 6..99 stay zero.
    """
    from motionlab.data.speech_features import frame_envelope

    t = np.arange(T) / fps
    curl = _hand_track(own, T, fps)
    spread = np.clip(0.45 - curl[..., :4].mean(-1), 0.0, 0.45) / 0.45
    env = np.zeros(T)
    expr = np.zeros((T, NUM_EXPRESSIONS))
    if own is not None and own.syllables:
        env = frame_envelope(own.samples, own.sr, fps, T).astype(np.float64)
        env = _smooth(env / (env.max() + 1e-9), fps, 0.02)
        theta, amp = _beat_loops(own, T, fps, 1.0)
        curl = curl + (0.15 * np.sin(theta) * amp / 0.045)[:, None, None]
        for on, end, stressed in own.syllables:
            if stressed:
                expr[:, 1] += 0.8 * bump(t, on + 0.08, 0.25)
        for ws, we, text in own.words:
            m = (t >= ws - 0.1) & (t <= we + 0.3)
            if text in ("yes", "okay", "wonderful"):
                expr[m, 2] += 1.0
            elif text == "no":
                expr[m, 3] += 1.0
    if partner is not None and partner.syllables:
        for on, end, stressed in partner.syllables:
            if stressed:
                expr[:, 4] += 0.6 * bump(t, on + lag + 0.25, 0.4)
        if own is not None:
            expr[:, 4] *= ~own.voice_activity(fps, T)
    expr[:, 0] = 1.5 * env
    expr[:, 2:4] = _smooth(expr[:, 2:4], fps, 0.08)
    expr[:, 5] = 0.3 * smooth_noise(rng, T, fps, 0.3)[:, 0]
    pose = np.zeros((T, 33, 3))
    pose[:, 0, 0] = 0.3 * env  # jaw about the SMPL lateral axis (opens downwards)
    gaze = 0.05 * smooth_noise(rng, T, fps, 0.5, dims=2)
    pose[:, 1, :2] = gaze
    pose[:, 2, :2] = gaze
    pose[:, 3:] = _finger_axis_angles(np.clip(curl, -0.1, 1.6), spread)
    return pose.reshape(T, 99).astype(np.float32), expr.astype(np.float32)


def smplx_motion(motion: Motion, pose_extra: np.ndarray, expressions: np.ndarray) -> Motion:
    """A copy of an SMPL-22 ``motion`` carrying hands, jaw, eyes and expressions for
    :func:`motionlab.io.smplx.write_smplx_npz` (extras ``smplx_poses`` (T, 165), ``smplx_expressions``)."""
    from dataclasses import replace

    T = motion.num_frames
    poses = np.zeros((T, 165), np.float32)
    poses[:, 66:] = pose_extra
    extras = dict(motion.extras)
    extras["smplx_poses"] = poses
    extras["smplx_expressions"] = np.asarray(expressions, np.float32)
    return replace(motion, extras=extras, meta=dict(motion.meta))
