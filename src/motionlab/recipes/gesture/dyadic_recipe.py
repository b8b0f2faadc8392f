"""The ``dyadic`` recipe: the gesture model conditioned on the partner's voice and motion
(``model.dyadic: true``, dyadic takes only). Same config class, module and evaluation as ``gesture``."""

from __future__ import annotations

from motionlab.recipes.base import Recipe
from motionlab.recipes.gesture.config import GestureConfig
from motionlab.recipes.gesture.recipe import build, build_model, evaluate, generate

RECIPE = Recipe(
    name="dyadic",
    config_cls=GestureConfig,
    build=build,
    evaluate=evaluate,
    generate=generate,
    build_model=build_model,
    default_config="dyadic/tiny.yaml",
    description="listener/responder: partner's voice + motion and own voice -> own SMPL-X motion",
)
