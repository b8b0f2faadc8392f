"""The ``tokenizer`` recipe object (see :mod:`motionlab.recipes.base` for the contract)."""

from __future__ import annotations

from motionlab.recipes.base import Recipe
from motionlab.recipes.tokenizer.config import TokenizerConfig
from motionlab.recipes.tokenizer.evaluate import evaluate
from motionlab.recipes.tokenizer.tool import generate


def build(cfg: TokenizerConfig):
    """``(TokenizerModule, TokenizerData)`` for ``cfg``; no data is read here."""
    from motionlab.recipes.tokenizer.lightning import TokenizerData, TokenizerModule

    return TokenizerModule(cfg), TokenizerData(cfg)


def build_model(cfg: TokenizerConfig):
    """The LightningModule alone (for :func:`motionlab.train.engine.load_run`)."""
    from motionlab.recipes.tokenizer.lightning import TokenizerModule

    return TokenizerModule(cfg)


RECIPE = Recipe(
    name="tokenizer",
    config_cls=TokenizerConfig,
    build=build,
    evaluate=evaluate,
    generate=generate,
    build_model=build_model,
    default_config="tokenizer/default.yaml",
    description="motion VQ-VAE (VQ/EMA/RVQ/FSQ/LFQ/hybrid x simple/ResNet conv) on body or G1 features",
)
