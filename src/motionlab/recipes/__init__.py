"""Learning systems ("recipes"): see :mod:`motionlab.recipes.base` for the contract and
:mod:`motionlab.recipes.registry` for the name -> recipe table."""

from motionlab.recipes.base import Recipe
from motionlab.recipes.registry import RECIPES, get_recipe, recipe_names

__all__ = ["Recipe", "RECIPES", "get_recipe", "recipe_names"]
