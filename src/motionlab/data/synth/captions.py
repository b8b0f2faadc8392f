"""Captions of synthetic clips, built from their generation parameters.

Deterministic given the parameters (and ``rng`` for the choice among synonyms), e.g.
"a person walks forward quickly, then turns left", "a person talks, spreading their arms on 'big'".
"""

from __future__ import annotations

from typing import Any, Dict, Optional, Sequence

import numpy as np

_GESTURE_PHRASES = {
    "big": "spreading their arms on 'big'", "small": "bringing their hands together on 'small'",
    "no": "shaking their head on 'no'", "yes": "nodding on 'yes'", "you": "pointing forward on 'you'",
    "I": "touching their chest on 'I'", "here": "pointing down on 'here'", "there": "pointing away on 'there'",
    "think": "raising a hand to their chin on 'think'", "maybe": "shrugging on 'maybe'",
}


def _turn_word(angle: float) -> str:
    side = "left" if angle > 0 else "right"
    deg = abs(np.degrees(angle))
    return f"turns {'sharply ' if deg > 100 else ''}{side}"


def locomotion_caption(p: Dict[str, Any]) -> str:
    """Caption of a locomotion clip from :func:`~.locomotion.sample_locomotion_params` output."""
    style = p["style"]
    if style == "idle":
        return "a person stands still, shifting their weight and breathing"
    if style == "side_step":
        return f"a person side steps to the {'left' if p['side'] > 0 else 'right'}"
    verb = "runs" if p["gait"] == "run" else "walks"
    how = p.get("speed_word") or ""
    base = f"a person {verb} forward" + (f" {how}" if how else "")
    if style == "turn":
        return f"{base}, then {_turn_word(p['turn'])}"
    if style == "curve":
        return f"a person {verb}" + (f" {how}" if how else "") + f" in a curve to the {'left' if p['curve_rate'] > 0 else 'right'}"
    if p.get("speed_end", p["speed"]) > p["speed"] * 1.2:
        return f"{base}, then speeds up"
    if p.get("speed_end", p["speed"]) < p["speed"] / 1.2:
        return f"{base}, then slows down"
    return base


def _gesture_part(words: Sequence[str]) -> str:
    seen = []
    for w in words:
        if w in _GESTURE_PHRASES and w not in seen:
            seen.append(w)
    parts = [_GESTURE_PHRASES[w] for w in seen]
    if len(parts) > 1:
        return ", ".join(parts[:-1]) + " and " + parts[-1]
    return "".join(parts)


def talking_caption(words: Sequence[str], kind: str = "talking", partner_words: Optional[Sequence[str]] = None) -> str:
    """Caption of a talking / listening / dyadic clip from the words spoken (and heard)."""
    if kind == "listening":
        return "a person listens to someone talking, nodding now and then"
    part = _gesture_part(words)
    if kind == "dyadic":
        base = "a person talks with someone facing them, taking turns and nodding while listening"
    else:
        base = "a person talks while gesturing with their hands"
    return f"{base}, {part}" if part else base


def caption_for(meta: Dict[str, Any]) -> str:
    """Caption of any synthetic clip from its ``meta`` (``kind`` selects the template)."""
    kind = meta.get("kind", "locomotion")
    if kind == "locomotion":
        return locomotion_caption(meta)
    return talking_caption(meta.get("words", []), kind)
