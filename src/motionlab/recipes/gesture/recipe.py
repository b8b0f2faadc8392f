"""The ``gesture`` recipe object (see :mod:`motionlab.recipes.base` for the contract)."""

from __future__ import annotations

from motionlab.recipes.base import Recipe, lazy, lazy_build
from motionlab.recipes.gesture.config import GestureConfig

#: shared with the ``dyadic`` recipe (same config class, module, evaluation and generation)
build = lazy_build("motionlab.recipes.gesture.lightning:GestureModule", "motionlab.recipes.gesture.lightning:GestureData")
build_model = lazy("motionlab.recipes.gesture.lightning:GestureModule")
evaluate = lazy("motionlab.recipes.gesture.evaluate:evaluate")
generate = lazy("motionlab.recipes.gesture.tool:generate")

RECIPE = Recipe(
    name="gesture",
    config_cls=GestureConfig,
    build=build,
    evaluate=evaluate,
    generate=generate,
    build_model=build_model,
    default_config="gesture/tiny.yaml",
    description="speech (+ words) -> SMPL-X gestures: per-part VQ-VAEs, Mamba global/local scans, chunked inference",
)
