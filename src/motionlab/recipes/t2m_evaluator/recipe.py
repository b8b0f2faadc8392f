"""The ``t2m_evaluator`` entry of the recipe registry."""

from __future__ import annotations

from motionlab.recipes.base import Recipe, lazy, lazy_build
from motionlab.recipes.t2m_evaluator.config import T2MEvaluatorConfig

def _generate(run_dir, inputs):
    """``inputs = (texts, motions)``: cosine similarities ``(len(motions), len(texts))``."""
    from motionlab.recipes.t2m_evaluator.tool import similarity

    texts, motions = inputs
    return similarity(run_dir, texts, motions)


RECIPE = Recipe(
    name="t2m_evaluator",
    config_cls=T2MEvaluatorConfig,
    build=lazy_build("motionlab.recipes.t2m_evaluator.lightning:T2MEvaluatorModule",
                     "motionlab.recipes.t2m.data:CaptionDataModule"),
    build_model=lazy("motionlab.recipes.t2m_evaluator.lightning:T2MEvaluatorModule"),
    evaluate=lazy("motionlab.recipes.t2m_evaluator.evaluate:evaluate"),
    default_config="t2m_evaluator/tiny.yaml",
    description="contrastive text-motion evaluator (FID, R-precision, MM-Dist, Diversity, MModality for t2m)",
)
