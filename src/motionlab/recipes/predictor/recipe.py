"""The ``predictor`` and ``predictor_pretrain`` entries of the recipe registry."""

from __future__ import annotations

from motionlab.recipes.base import Recipe
from motionlab.recipes.predictor.config import PredictorConfig, PretrainConfig


def _build(cfg: PredictorConfig):
    from motionlab.recipes.predictor.lightning import PredictorData, PredictorModule

    return PredictorModule(cfg), PredictorData(cfg)


def _build_model(cfg: PredictorConfig):
    from motionlab.recipes.predictor.lightning import PredictorModule

    return PredictorModule(cfg)


def _evaluate(run_dir):
    from motionlab.recipes.predictor.evaluate import evaluate

    return evaluate(run_dir)


def _generate(run_dir, inputs):
    from motionlab.recipes.predictor.tool import predict_motion

    return predict_motion(run_dir, **inputs) if isinstance(inputs, dict) else predict_motion(run_dir, inputs)


RECIPE = Recipe(
    name="predictor",
    config_cls=PredictorConfig,
    build=_build,
    build_model=_build_model,
    evaluate=_evaluate,
    generate=_generate,
    default_config="predictor/tiny.yaml",
    description="autoregressive character motion: MLP encoder + FiLM controls + multi-task heads, "
                "teacher forcing -> free-run stages, adaptive loss weights",
)


def _build_pretrain(cfg: PretrainConfig):
    from motionlab.recipes.predictor.lightning import PredictorData
    from motionlab.recipes.predictor.pretrain import PretrainModule

    return PretrainModule(cfg), PredictorData(cfg)


def _build_pretrain_model(cfg: PretrainConfig):
    from motionlab.recipes.predictor.pretrain import PretrainModule

    return PretrainModule(cfg)


def _evaluate_pretrain(run_dir):
    from motionlab.recipes.predictor.pretrain import evaluate_pretrain

    return evaluate_pretrain(run_dir)


PRETRAIN_RECIPE = Recipe(
    name="predictor_pretrain",
    config_cls=PretrainConfig,
    build=_build_pretrain,
    build_model=_build_pretrain_model,
    evaluate=_evaluate_pretrain,
    default_config="predictor_pretrain/tiny.yaml",
    description="pre-training of the predictor's motion encoder (writes encoder.pt for model.pretrained_encoder)",
)
