"""The ``predictor`` and ``predictor_pretrain`` entries of the recipe registry."""

from __future__ import annotations

from motionlab.recipes.base import Recipe, lazy, lazy_build
from motionlab.recipes.predictor.config import PredictorConfig, PretrainConfig


def _generate(run_dir, inputs):
    """``Recipe.generate``: ``inputs`` is a seed clip path or a dict of ``predict_motion`` arguments."""
    from motionlab.recipes.predictor.tool import predict_motion

    return predict_motion(run_dir, **inputs) if isinstance(inputs, dict) else predict_motion(run_dir, inputs)


RECIPE = Recipe(
    name="predictor",
    config_cls=PredictorConfig,
    build=lazy_build("motionlab.recipes.predictor.lightning:PredictorModule",
                     "motionlab.recipes.predictor.lightning:PredictorData"),
    build_model=lazy("motionlab.recipes.predictor.lightning:PredictorModule"),
    evaluate=lazy("motionlab.recipes.predictor.evaluate:evaluate"),
    generate=_generate,
    default_config="predictor/tiny.yaml",
    description="autoregressive character motion: MLP encoder + FiLM controls + multi-task heads, "
                "teacher forcing -> free-run stages, adaptive loss weights",
)

PRETRAIN_RECIPE = Recipe(
    name="predictor_pretrain",
    config_cls=PretrainConfig,
    build=lazy_build("motionlab.recipes.predictor.pretrain:PretrainModule",
                     "motionlab.recipes.predictor.lightning:PredictorData"),
    build_model=lazy("motionlab.recipes.predictor.pretrain:PretrainModule"),
    evaluate=lazy("motionlab.recipes.predictor.pretrain:evaluate_pretrain"),
    default_config="predictor_pretrain/tiny.yaml",
    description="pre-training of the predictor's motion encoder (writes encoder.pt for model.pretrained_encoder)",
)
