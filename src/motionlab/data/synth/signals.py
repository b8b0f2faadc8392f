"""Small deterministic signal helpers shared by the synthetic generators (numpy, no global RNG)."""

from __future__ import annotations

import numpy as np


def minjerk(u: np.ndarray) -> np.ndarray:
    """Minimum-jerk blend ``10u^3 - 15u^4 + 6u^5`` of ``u`` clipped to [0, 1] (zero end velocity)."""
    u = np.clip(u, 0.0, 1.0)
    return u * u * u * (10.0 + u * (-15.0 + 6.0 * u))


def smooth_noise(rng: np.random.Generator, n: int, fps: float, max_hz: float, dims: int = 1,
                 components: int = 3) -> np.ndarray:
    """``(n, dims)`` band-limited noise: a sum of random sinusoids below ``max_hz``, unit-ish
    amplitude (each column has standard deviation about 1)."""
    t = np.arange(n) / fps
    out = np.zeros((n, dims))
    freqs = rng.uniform(0.15 * max_hz, max_hz, size=(components, dims))
    phases = rng.uniform(0.0, 2 * np.pi, size=(components, dims))
    amps = rng.uniform(0.5, 1.0, size=(components, dims))
    for k in range(components):
        out += amps[k] * np.sin(2 * np.pi * freqs[k] * t[:, None] + phases[k])
    norm = np.sqrt(0.5 * np.sum(amps ** 2, axis=0))
    return out / norm


def bump(t: np.ndarray, center: float, width: float) -> np.ndarray:
    """A smooth raised-cosine bump of height 1 at ``center`` and total support ``width`` (s)."""
    x = np.clip((t - center) / (0.5 * width), -1.0, 1.0)
    return 0.5 * (1.0 + np.cos(np.pi * x))


def runs(mask: np.ndarray):
    """``[(start, stop)]`` index ranges (stop exclusive) of the True runs of a 1-D boolean mask."""
    m = np.concatenate([[False], np.asarray(mask, dtype=bool), [False]])
    d = np.diff(m.astype(np.int8))
    return list(zip(np.nonzero(d == 1)[0].tolist(), np.nonzero(d == -1)[0].tolist()))
