"""The ``t2m_evaluator`` entry of the recipe registry."""

from __future__ import annotations

from motionlab.recipes.base import Recipe
from motionlab.recipes.t2m_evaluator.config import T2MEvaluatorConfig


def _build(cfg: T2MEvaluatorConfig):
    from motionlab.recipes.t2m.data import CaptionDataModule
    from motionlab.recipes.t2m_evaluator.lightning import T2MEvaluatorModule

    return T2MEvaluatorModule(cfg), CaptionDataModule(cfg)


def _build_model(cfg: T2MEvaluatorConfig):
    from motionlab.recipes.t2m_evaluator.lightning import T2MEvaluatorModule

    return T2MEvaluatorModule(cfg)


def _evaluate(run_dir):
    from motionlab.recipes.t2m_evaluator.evaluate import evaluate

    return evaluate(run_dir)


RECIPE = Recipe(
    name="t2m_evaluator",
    config_cls=T2MEvaluatorConfig,
    build=_build,
    build_model=_build_model,
    evaluate=_evaluate,
    default_config="t2m_evaluator/tiny.yaml",
    description="contrastive text-motion evaluator (FID, R-precision, MM-Dist, Diversity, MModality for t2m)",
)
