"""The ``recover`` entry of the recipe registry."""

from __future__ import annotations

from motionlab.recipes.base import Recipe
from motionlab.recipes.recover.config import RecoverConfig


def _build(cfg: RecoverConfig):
    from motionlab.recipes.recover.lightning import RecoverData, RecoverModule

    return RecoverModule(cfg), RecoverData(cfg)


def _build_model(cfg: RecoverConfig):
    from motionlab.recipes.recover.lightning import RecoverModule

    return RecoverModule(cfg)


def _evaluate(run_dir):
    from motionlab.recipes.recover.evaluate import evaluate

    return evaluate(run_dir)


def _generate(run_dir, inputs):
    from motionlab.recipes.recover.tool import recover_track

    return recover_track(inputs, run_dir)


RECIPE = Recipe(
    name="recover",
    config_cls=RecoverConfig,
    build=_build,
    build_model=_build_model,
    evaluate=_evaluate,
    generate=_generate,
    default_config="recover/tiny.yaml",
    description="2D keypoint tracks -> 3D and world SMPL-22 motion, adapted from synthetic to real keypoints",
)
