"""Synthetic voiced speech at 16 kHz with word and syllable timings.

Not intelligible speech, but speech-shaped audio whose structure a model can learn and whose
onsets an onset detector finds: phrases of words from a small vocabulary, each word one to three
syllables; each syllable is a glottal pulse train at a falling pitch contour (with a bump on
stressed syllables) passed through two or three formant resonators of its vowel (second-order IIR
filters, :func:`scipy.signal.lfilter`), shaped by an envelope with a sharp (~8 ms) onset, and for
consonant-initial syllables preceded by a short noise burst. Pauses separate phrases.

Times are seconds from the first sample; ``samples`` are float32 in [-1, 1].
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Dict, List, Optional, Sequence, Tuple

import numpy as np

SAMPLE_RATE = 16000

# vowel formants (F1, F2, F3) in Hz, textbook averages for adult speakers (Peterson & Barney 1952)
VOWELS: Dict[str, Tuple[float, float, float]] = {
    "i": (270, 2290, 3010), "I": (390, 1990, 2550), "e": (530, 1840, 2480), "ae": (660, 1720, 2410),
    "a": (730, 1090, 2440), "o": (570, 840, 2410), "u": (300, 870, 2240), "er": (490, 1350, 1690),
    "ah": (520, 1190, 2390),
}

# word -> syllables as (onset consonant kind, vowel); the first syllable is stressed unless marked.
# consonant kinds: "" (vowel onset), "stop" (short burst), "fric" (longer hiss)
VOCAB: Dict[str, Tuple[Tuple[str, str], ...]] = {
    "big": (("stop", "I"),), "small": (("fric", "a"),), "no": (("stop", "o"),), "yes": (("fric", "e"),),
    "here": (("fric", "i"),), "there": (("fric", "e"),), "you": (("", "u"),), "I": (("", "a"),),
    "think": (("fric", "I"),), "maybe": (("stop", "e"), ("stop", "i")), "really": (("stop", "i"), ("stop", "i")),
    "okay": (("", "o"), ("stop", "e")), "today": (("stop", "ah"), ("stop", "e")), "people": (("stop", "i"), ("stop", "ah")),
    "very": (("fric", "e"), ("stop", "i")), "because": (("stop", "i"), ("stop", "ah")), "we": (("", "i"),),
    "go": (("stop", "o"),), "what": (("", "ah"),), "so": (("fric", "o"),), "and": (("", "ae"),),
    "the": (("fric", "ah"),), "it": (("", "I"),), "was": (("", "ah"),), "all": (("", "a"),),
    "everything": (("", "e"), ("fric", "er"), ("fric", "I")), "together": (("stop", "ah"), ("stop", "e"), ("fric", "er")),
    "wonderful": (("", "ah"), ("stop", "er"), ("fric", "u")), "probably": (("stop", "a"), ("stop", "ah"), ("stop", "i")),
}
# words that carry a gesture shape (see gesture.py) are drawn more often
GESTURE_WORDS = ("big", "small", "no", "yes", "you", "I", "here", "there", "think", "maybe")
FUNCTION_WORDS = ("we", "so", "and", "the", "it", "was", "all", "what", "go")


@dataclass
class Voice:
    """A speaker: base pitch (Hz), speaking rate factor (>1 faster) and loudness (peak amplitude)."""

    f0: float = 120.0
    rate: float = 1.0
    loudness: float = 0.5

    @classmethod
    def sample(cls, rng: np.random.Generator) -> "Voice":
        f0 = float(rng.uniform(95, 140) if rng.uniform() < 0.5 else rng.uniform(170, 240))
        return cls(f0=f0, rate=float(rng.uniform(0.85, 1.15)), loudness=float(rng.uniform(0.35, 0.6)))


@dataclass
class Speech:
    """Audio and its timings.

    Attributes:
        samples: ``(N,)`` float32 mono audio at ``sr`` Hz.
        sr: sample rate (16000).
        words: ``[(start, end, text)]`` in seconds.
        syllables: ``[(onset, end, stressed)]`` in seconds; onsets are the sharp attacks.
        phrases: ``[(start, end)]`` spans of continuous talking.
    """

    samples: np.ndarray
    sr: int
    words: List[Tuple[float, float, str]] = field(default_factory=list)
    syllables: List[Tuple[float, float, bool]] = field(default_factory=list)
    phrases: List[Tuple[float, float]] = field(default_factory=list)

    @property
    def duration(self) -> float:
        return len(self.samples) / self.sr

    def onsets(self) -> np.ndarray:
        """``(S,)`` syllable onset times in seconds."""
        return np.array([s[0] for s in self.syllables], dtype=np.float64)

    def voice_activity(self, fps: float, num_frames: int) -> np.ndarray:
        """``(num_frames,)`` bool: a phrase is being spoken at frame ``f`` (time ``f / fps``)."""
        t = np.arange(num_frames) / fps
        out = np.zeros(num_frames, dtype=bool)
        for a, b in self.phrases:
            out |= (t >= a) & (t <= b)
        return out


def _sample_phrase(rng: np.random.Generator) -> List[str]:
    n = int(rng.integers(2, 5))
    words = []
    content = [w for w in VOCAB if w not in FUNCTION_WORDS and w not in GESTURE_WORDS]
    for _ in range(n):
        r = rng.uniform()
        pool = GESTURE_WORDS if r < 0.5 else (FUNCTION_WORDS if r < 0.75 else content)
        words.append(str(rng.choice(pool)))
    return words


def plan_speech(rng: np.random.Generator, duration: float, voice: Voice,
                active: Optional[Sequence[Tuple[float, float]]] = None, lead: float = 0.3):
    """Word and syllable timings for ``duration`` seconds of talking, phrases only inside the
    ``active`` spans (the whole clip if None). Returns ``(words, syllables, phrases)`` as in
    :class:`Speech`, syllables as ``(onset, end, stressed, consonant, vowel)``."""
    spans = [(0.0, duration)] if active is None else [tuple(map(float, s)) for s in active]
    words, syls, phrases = [], [], []
    for a, b in spans:
        t = a + lead * rng.uniform(0.5, 1.5)
        while True:
            phrase = _sample_phrase(rng)
            plan = []
            tt = t
            for w in phrase:
                w_start = tt
                for k, (cons, vowel) in enumerate(VOCAB[w]):
                    stressed = k == 0 and w not in FUNCTION_WORDS
                    cdur = {"": 0.0, "stop": 0.025, "fric": 0.06}[cons]
                    vdur = rng.uniform(0.22, 0.30) if stressed else rng.uniform(0.16, 0.21)
                    vdur /= voice.rate
                    onset = tt + cdur
                    plan.append(("syl", onset, onset + vdur, stressed, cons, vowel))
                    tt = onset + vdur + rng.uniform(0.05, 0.08) / voice.rate
                plan.append(("word", w_start, tt - 0.02, w))
                tt += rng.uniform(0.08, 0.16) / voice.rate
            if tt > b - 0.2:
                break
            for item in plan:
                if item[0] == "syl":
                    syls.append(item[1:])
                else:
                    words.append((round(item[1], 4), round(item[2], 4), item[3]))
            phrases.append((t, tt))
            t = tt + rng.uniform(0.9, 2.0)
            if t > b - 0.6:
                break
    syls = [(round(s[0], 4), round(s[1], 4), bool(s[2]), s[3], s[4]) for s in syls]
    return words, syls, phrases


def _resonator(freq: float, bw: float, sr: int):
    r = np.exp(-np.pi * bw / sr)
    return np.array([1.0 - r]), np.array([1.0, -2.0 * r * np.cos(2 * np.pi * freq / sr), r * r])


def synthesize(duration: float, syllables, phrases, voice: Voice, rng: np.random.Generator,
               sr: int = SAMPLE_RATE) -> np.ndarray:
    """Render planned syllables to ``(round(duration * sr),)`` float32 samples."""
    from scipy.signal import lfilter

    n = int(round(duration * sr))
    out = np.zeros(n)
    t = np.arange(n) / sr
    # pitch contour: declines over each phrase, bumps on stressed syllables, slow jitter
    f0 = np.full(n, voice.f0)
    for a, b in phrases:
        m = (t >= a) & (t <= b)
        f0[m] = voice.f0 * (1.15 - 0.3 * (t[m] - a) / max(b - a, 1e-3))
    for on, end, stressed, _, _ in syllables:
        if stressed:
            m = (t >= on) & (t <= end)
            f0[m] *= 1.0 + 0.15 * np.sin(np.pi * (t[m] - on) / max(end - on, 1e-3))
    phase = np.cumsum(f0 / sr)
    pulses = np.zeros(n)
    pulses[1:][np.diff(np.floor(phase)) > 0] = 1.0
    source = lfilter([1.0], [1.0, -0.9], pulses)  # spectral tilt of the glottal flow
    noise = rng.standard_normal(n)
    for on, end, stressed, cons, vowel in syllables:
        i0, i1 = int(on * sr), min(int(end * sr), n)
        if i1 - i0 < 16:
            continue
        seg = source[i0:i1].copy()
        y = np.zeros_like(seg)
        F = VOWELS[vowel]
        for k, (freq, bw) in enumerate(zip(F, (80.0, 100.0, 140.0))):
            b_, a_ = _resonator(freq * float(rng.uniform(0.96, 1.04)), bw, sr)
            y += lfilter(b_, a_, seg) * (1.0, 0.6, 0.3)[k]
        L = len(y)
        env = np.ones(L)
        att = int(0.008 * sr)
        env[:att] = np.linspace(0.0, 1.0, att, endpoint=False)
        rel = min(int(0.05 * sr), L - att)
        env[L - rel:] *= np.linspace(1.0, 0.0, rel) ** 2
        env *= 1.0 if stressed else 0.7
        out[i0:i1] += y / (np.abs(y).max() + 1e-9) * env
        if cons:
            c0 = max(int((on - {"stop": 0.025, "fric": 0.06}[cons]) * sr), 0)
            hiss = np.diff(noise[c0:i0 + 1]) * (0.12 if cons == "stop" else 0.06)
            m = len(hiss)
            if m > 4:
                out[c0:c0 + m] += hiss * np.hanning(m)
    peak = np.abs(out).max()
    if peak > 0:  # the voice at its loudness; a take without a syllable stays silent (never scaled-up noise)
        out *= voice.loudness / peak
    out += 2e-4 * noise  # faint room noise
    return out.astype(np.float32)


def generate_speech(rng: np.random.Generator, duration: float, voice: Optional[Voice] = None,
                    active: Optional[Sequence[Tuple[float, float]]] = None, sr: int = SAMPLE_RATE) -> Speech:
    """Plan and render ``duration`` seconds of speech (talking only inside ``active`` spans)."""
    voice = voice or Voice.sample(rng)
    words, syls, phrases = plan_speech(rng, duration, voice, active)
    samples = synthesize(duration, syls, phrases, voice, rng, sr)
    return Speech(samples=samples, sr=sr, words=words, syllables=[(s[0], s[1], s[2]) for s in syls],
                  phrases=[(round(a, 4), round(b, 4)) for a, b in phrases])
