"""Every shipped config instantiates: each recipe YAML and each variant of each ablation file resolves
(unknown keys are errors) and builds its model. Forward passes are covered per recipe in
test_tokenizer.py and test_retarget.py."""

from pathlib import Path

import pytest
import torch

from motionlab.config import load_config
from motionlab.recipes.registry import RECIPES, get_recipe
from motionlab.train.ablation import load_ablation, variant_config

CONFIGS = Path(__file__).resolve().parents[1] / "src" / "motionlab" / "configs"


def _recipe_files():
    return sorted(p for name in RECIPES for p in (CONFIGS / name).glob("*.yaml"))


def _ablation_variants():
    out = []
    for f in sorted((CONFIGS / "ablation").glob("*.yaml")):
        spec = load_ablation(f)
        out += [(f.name, v.name) for v in spec.variants]
    return out


def _build(recipe, cfg):
    rec = get_recipe(recipe)
    model = rec.build_model(cfg) if rec.build_model is not None else rec.make_model(cfg)
    n = sum(p.numel() for p in model.parameters())
    assert n > 0
    return model


def test_every_recipe_has_configs():
    assert {p.parent.name for p in _recipe_files()} == set(RECIPES)


@pytest.mark.parametrize("path", _recipe_files(), ids=lambda p: f"{p.parent.name}/{p.name}")
def test_recipe_config_builds(path):
    rec = get_recipe(path.parent.name)
    cfg = load_config(rec.config_cls, path)
    _build(path.parent.name, cfg)


@pytest.mark.parametrize("file,variant", _ablation_variants())
def test_ablation_variant_builds(file, variant):
    spec = load_ablation(CONFIGS / "ablation" / file)
    v = next(v for v in spec.variants if v.name == variant)
    cfg = variant_config(spec, v, 0)
    torch.manual_seed(0)
    _build(spec.recipe, cfg)


@pytest.mark.parametrize("name", sorted(RECIPES))
def test_recipe_lazy_targets_resolve(name):
    """Every ``lazy`` piece of a recipe names an importable callable (a typo fails here, not mid-run)."""
    from motionlab.recipes.base import resolve_target

    rec = get_recipe(name)
    targets = list(getattr(rec.build, "targets", ()))
    targets += [getattr(fn, "target", None) for fn in (rec.build_model, rec.evaluate, rec.generate)]
    for target in filter(None, targets):
        assert callable(resolve_target(target)), target


def test_lazy_target_errors_name_the_target():
    from motionlab.errors import MotionLabError
    from motionlab.recipes.base import lazy, resolve_target

    with pytest.raises(MotionLabError, match="package.module:attribute"):
        lazy("motionlab.recipes.t2m.tool")
    with pytest.raises(MotionLabError, match="package.module:attribute"):
        resolve_target("motionlab.recipes.t2m.tool:")


@pytest.mark.parametrize("name", sorted(RECIPES))
def test_every_config_key_says_what_it_means(name):
    """``motionlab config NAME`` gives every key and section a one-line meaning."""
    from motionlab.config import describe_config

    blank = [k.key for k in describe_config(get_recipe(name).config_cls) if not k.help.strip()]
    assert not blank, f"{name}: keys without a meaning: {blank}"
