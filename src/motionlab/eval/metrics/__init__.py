"""motionlab's metrics: pure functions, numpy in, floats or arrays out.

Every function accepts numpy arrays, nested lists or ``torch.Tensor`` (detached and converted to
float64 numpy) and raises :class:`~motionlab.errors.MotionLabError` for empty, non-finite or
mis-shaped input, naming the argument as the place. Conventions follow motionlab: Z up, metres,
seconds, radians; time is always the first axis of a sequence (``(T, ...)``).

The definitions are the field's, as collected in ``notes/metrics.md``; each docstring names the
protocol it reproduces. Where the field uses two definitions, both are here under distinct names
and a table must never mix them. :data:`METRIC_DIRECTIONS` says for each reported name whether
lower or higher is better.

One module per topic, all re-exported here (import them from ``motionlab.eval.metrics``):
:mod:`.motion` (motion quality) · :mod:`.tokens` (tokenizers) · :mod:`.pose` (joint-position errors) ·
:mod:`.prediction` (rotations, character prediction) · :mod:`.retarget` · :mod:`.generation` (Frechet
distance, diversity, intervals) · :mod:`.gestures` (beats, dyadic) · :mod:`.t2m` (text-motion retrieval) ·
:mod:`.recovery` (from 2D keypoints). Each topic module lists its reported names in ``DIRECTIONS``;
:data:`METRIC_DIRECTIONS` merges them.
"""

from __future__ import annotations

from typing import Dict

from motionlab.eval.metrics.motion import *  # noqa: F401,F403
from motionlab.eval.metrics.tokens import *  # noqa: F401,F403
from motionlab.eval.metrics.pose import *  # noqa: F401,F403
from motionlab.eval.metrics.prediction import *  # noqa: F401,F403
from motionlab.eval.metrics.retarget import *  # noqa: F401,F403
from motionlab.eval.metrics.generation import *  # noqa: F401,F403
from motionlab.eval.metrics.gestures import *  # noqa: F401,F403
from motionlab.eval.metrics.t2m import *  # noqa: F401,F403
from motionlab.eval.metrics.recovery import *  # noqa: F401,F403
from motionlab.eval.metrics import motion, tokens, pose, prediction, retarget, generation, gestures, t2m, recovery

__all__ = ["METRIC_DIRECTIONS"] + [_n for _m in (motion, tokens, pose, prediction, retarget, generation, gestures, t2m, recovery) for _n in _m.__all__]

#: For each reported metric name: whether "lower" or "higher" is better. Tables use it to mark the
#: best entry. Domain-overlap scores (0.5 = overlap) are "lower" since they never go below chance.
METRIC_DIRECTIONS: Dict[str, str] = {}
for _topic in (motion, tokens, pose, prediction, retarget, generation, gestures, t2m, recovery):
    METRIC_DIRECTIONS.update(getattr(_topic, "DIRECTIONS", {}))
del _topic
