"""The recipe registry: a plain dict from recipe name to where its :class:`~motionlab.recipes.base.Recipe`
object lives, filled here by hand. Nothing registers itself at import time, and a recipe's module is
imported only when that recipe is asked for (so ``import motionlab`` stays cheap).

To add a recipe, write ``src/motionlab/recipes/<name>/recipe.py`` defining ``RECIPE = Recipe(...)`` and add
one line below::

    RECIPES: Dict[str, str] = {
        "tokenizer": "motionlab.recipes.tokenizer.recipe:RECIPE",
        "retarget": "motionlab.recipes.retarget.recipe:RECIPE",
    }

Then ``get_recipe("tokenizer")`` imports that module and returns its ``RECIPE``; an unknown name is a
:class:`~motionlab.errors.MotionLabError` listing the valid names.
"""

from __future__ import annotations

from typing import Dict, List

from motionlab.errors import MotionLabError, choices_error
from motionlab.recipes.base import Recipe, resolve_target

# name -> "module.path:ATTRIBUTE" of a Recipe object
RECIPES: Dict[str, str] = {
    "tokenizer": "motionlab.recipes.tokenizer.recipe:RECIPE",
    "retarget": "motionlab.recipes.retarget.recipe:RECIPE",
    "predictor": "motionlab.recipes.predictor.recipe:RECIPE",
    "predictor_pretrain": "motionlab.recipes.predictor.recipe:PRETRAIN_RECIPE",
    "t2m": "motionlab.recipes.t2m.recipe:RECIPE",
    "t2m_evaluator": "motionlab.recipes.t2m_evaluator.recipe:RECIPE",
    "gesture": "motionlab.recipes.gesture.recipe:RECIPE",
    "dyadic": "motionlab.recipes.gesture.dyadic_recipe:RECIPE",
    "recover": "motionlab.recipes.recover.recipe:RECIPE",
}


def recipe_names() -> List[str]:
    """Registered recipe names, sorted."""
    return sorted(RECIPES)


def get_recipe(name: str) -> Recipe:
    """The :class:`Recipe` registered under ``name`` (its module imported on first use)."""
    if name not in RECIPES:
        raise choices_error("recipe", name, RECIPES)
    target = RECIPES[name]
    recipe = resolve_target(target)
    if not isinstance(recipe, Recipe):
        raise MotionLabError(f"registry entry {name!r} -> {target!r} is not a Recipe object")
    if recipe.name != name:
        raise MotionLabError(f"registry entry {name!r} -> {target!r} holds a recipe named {recipe.name!r}")
    return recipe
