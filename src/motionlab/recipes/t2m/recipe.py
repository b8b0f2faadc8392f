"""The ``t2m`` entry of the recipe registry."""

from __future__ import annotations

from motionlab.recipes.base import Recipe, lazy, lazy_build
from motionlab.recipes.t2m.config import T2MConfig


def _generate(run_dir, inputs, num_frames: int = 120, **kwargs):
    """``Recipe.generate``: raw features for a caption or a list of captions (120 frames by default)."""
    from motionlab.recipes.t2m.tool import generate

    return generate(run_dir, inputs, num_frames, **kwargs)


RECIPE = Recipe(
    name="t2m",
    config_cls=T2MConfig,
    build=lazy_build("motionlab.recipes.t2m.lightning:T2MModule", "motionlab.recipes.t2m.data:CaptionDataModule"),
    build_model=lazy("motionlab.recipes.t2m.lightning:T2MModule"),
    evaluate=lazy("motionlab.recipes.t2m.evaluate:evaluate"),
    generate=_generate,
    default_config="t2m/tiny.yaml",
    description="text -> motion diffusion (x0 prediction, DDPM/DDIM, classifier-free guidance, physical losses)",
)
