"""The ``tokenizer`` recipe object (see :mod:`motionlab.recipes.base` for the contract)."""

from __future__ import annotations

from motionlab.recipes.base import Recipe, lazy, lazy_build
from motionlab.recipes.tokenizer.config import TokenizerConfig

RECIPE = Recipe(
    name="tokenizer",
    config_cls=TokenizerConfig,
    build=lazy_build("motionlab.recipes.tokenizer.lightning:TokenizerModule",
                     "motionlab.recipes.tokenizer.lightning:TokenizerData"),
    evaluate=lazy("motionlab.recipes.tokenizer.evaluate:evaluate"),
    generate=lazy("motionlab.recipes.tokenizer.tool:generate"),
    build_model=lazy("motionlab.recipes.tokenizer.lightning:TokenizerModule"),
    default_config="tokenizer/default.yaml",
    description="motion VQ-VAE (VQ/EMA/RVQ/FSQ/LFQ/hybrid x simple/ResNet conv) on body or G1 features",
)
