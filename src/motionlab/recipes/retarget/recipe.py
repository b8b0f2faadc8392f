"""The ``retarget`` entry of the recipe registry."""

from __future__ import annotations

from motionlab.recipes.base import Recipe, lazy, lazy_build
from motionlab.recipes.retarget.config import RetargetConfig


def _generate(run_dir, inputs):
    """``Recipe.generate``: ``retarget_motion(inputs, run_dir)``."""
    from motionlab.recipes.retarget.tool import retarget_motion

    return retarget_motion(inputs, run_dir)


RECIPE = Recipe(
    name="retarget",
    config_cls=RetargetConfig,
    build=lazy_build("motionlab.recipes.retarget.lightning:RetargetModule", "motionlab.recipes.retarget.lightning:RetargetData"),
    build_model=lazy("motionlab.recipes.retarget.lightning:RetargetModule"),
    evaluate=lazy("motionlab.recipes.retarget.evaluate:evaluate"),
    generate=_generate,
    default_config="retarget/tiny.yaml",
    description="human motion -> Unitree G1 through a dual-encoder VQ-VAE with a shared quantizer",
)
