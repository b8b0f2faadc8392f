"""The ``gesture`` recipe object (see :mod:`motionlab.recipes.base` for the contract)."""

from __future__ import annotations

from motionlab.recipes.base import Recipe
from motionlab.recipes.gesture.config import GestureConfig


def build(cfg: GestureConfig):
    """``(GestureModule, GestureData)``; no data is read here."""
    from motionlab.recipes.gesture.lightning import GestureData, GestureModule

    return GestureModule(cfg), GestureData(cfg)


def build_model(cfg: GestureConfig):
    from motionlab.recipes.gesture.lightning import GestureModule

    return GestureModule(cfg)


def evaluate(run_dir):
    from motionlab.recipes.gesture.evaluate import evaluate as _evaluate

    return _evaluate(run_dir)


def generate(run_dir, inputs):
    from motionlab.recipes.gesture.tool import generate as _generate

    return _generate(run_dir, inputs)


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
