"""The ``recover`` entry of the recipe registry."""

from __future__ import annotations

from motionlab.recipes.base import Recipe, lazy, lazy_build
from motionlab.recipes.recover.config import RecoverConfig


def _generate(run_dir, inputs):
    """``Recipe.generate``: ``recover_track(inputs, run_dir)``."""
    from motionlab.recipes.recover.tool import recover_track

    return recover_track(inputs, run_dir)


RECIPE = Recipe(
    name="recover",
    config_cls=RecoverConfig,
    build=lazy_build("motionlab.recipes.recover.lightning:RecoverModule", "motionlab.recipes.recover.lightning:RecoverData"),
    build_model=lazy("motionlab.recipes.recover.lightning:RecoverModule"),
    evaluate=lazy("motionlab.recipes.recover.evaluate:evaluate"),
    generate=_generate,
    default_config="recover/tiny.yaml",
    description="2D keypoint tracks -> 3D and world SMPL-22 motion, adapted from synthetic to real keypoints",
)
