"""The ``retarget`` entry of the recipe registry."""

from __future__ import annotations

from motionlab.recipes.base import Recipe
from motionlab.recipes.retarget.config import RetargetConfig


def _build(cfg: RetargetConfig):
    from motionlab.recipes.retarget.lightning import RetargetData, RetargetModule

    return RetargetModule(cfg), RetargetData(cfg)


def _build_model(cfg: RetargetConfig):
    from motionlab.recipes.retarget.lightning import RetargetModule

    return RetargetModule(cfg)


def _evaluate(run_dir):
    from motionlab.recipes.retarget.evaluate import evaluate

    return evaluate(run_dir)


def _generate(run_dir, inputs):
    from motionlab.recipes.retarget.tool import retarget_motion

    return retarget_motion(inputs, run_dir)


RECIPE = Recipe(
    name="retarget",
    config_cls=RetargetConfig,
    build=_build,
    build_model=_build_model,
    evaluate=_evaluate,
    generate=_generate,
    default_config="retarget/tiny.yaml",
    description="human motion -> Unitree G1 through a dual-encoder VQ-VAE with a shared quantizer",
)
