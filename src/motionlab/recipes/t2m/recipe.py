"""The ``t2m`` entry of the recipe registry."""

from __future__ import annotations

from motionlab.recipes.base import Recipe
from motionlab.recipes.t2m.config import T2MConfig


def _build(cfg: T2MConfig):
    from motionlab.recipes.t2m.data import CaptionDataModule
    from motionlab.recipes.t2m.lightning import T2MModule

    return T2MModule(cfg), CaptionDataModule(cfg)


def _build_model(cfg: T2MConfig):
    from motionlab.recipes.t2m.lightning import T2MModule

    return T2MModule(cfg)


def _evaluate(run_dir, **options):
    from motionlab.recipes.t2m.evaluate import evaluate

    return evaluate(run_dir, **options)


def _generate(run_dir, inputs, num_frames: int = 120, **kwargs):
    from motionlab.recipes.t2m.tool import generate

    return generate(run_dir, inputs, num_frames, **kwargs)


RECIPE = Recipe(
    name="t2m",
    config_cls=T2MConfig,
    build=_build,
    build_model=_build_model,
    evaluate=_evaluate,
    generate=_generate,
    default_config="t2m/tiny.yaml",
    description="text -> motion diffusion (x0 prediction, DDPM/DDIM, classifier-free guidance, physical losses)",
)
