"""The recipe contract: what every learning system of motionlab provides.

A :class:`Recipe` bundles, for one system (``tokenizer``, ``retarget``, ``gesture``, ...):

* ``config_cls`` - a dataclass whose fields all have defaults and which has a ``train: TrainConfig``
  section (see :mod:`motionlab.train.config`); resolved with :func:`motionlab.config.load_config`.
* ``build(cfg) -> (LightningModule, LightningDataModule)`` - cheap: no data is read here (the data module
  reads in ``setup``), and the module's shapes follow from ``cfg`` alone, so a run folder can rebuild it.
  By convention the LightningModule is thin and holds the plain ``nn.Module`` as ``.model``. The data
  module's ``train_dataloader`` returns a :class:`motionlab.train.data.ResumableLoader` (exact resume),
  and it may define ``save_stats(run_dir)`` to write ``normalization*.npz`` into the run folder.
* ``build_model(cfg) -> LightningModule`` (optional) - used by ``load_run`` instead of ``build`` when the
  data module is costly to construct.
* ``evaluate(run_dir) -> dict`` - metrics of a finished run (``motionlab eval`` writes them to
  ``metrics.json``); it loads the model with :func:`motionlab.train.engine.load_run`.
* ``generate(run_dir, inputs)`` - outputs of a trained run for given inputs (recipe-specific types).
* ``default_config`` - a YAML file under the package's ``configs/`` folder used when none is given.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Dict, Optional, Tuple

from motionlab.errors import MotionLabError


@dataclass(frozen=True)
class Recipe:
    """One learning system: its config class and factory functions (see the module docstring)."""

    name: str
    config_cls: type
    build: Callable[[Any], Tuple[Any, Any]]
    evaluate: Optional[Callable[[Path], Dict[str, Any]]] = None
    generate: Optional[Callable[..., Any]] = None
    build_model: Optional[Callable[[Any], Any]] = None
    default_config: Optional[str] = None  # e.g. "tokenizer/tiny.yaml", relative to motionlab/configs
    description: str = ""

    def default_config_path(self) -> Optional[Path]:
        """The packaged default YAML of this recipe, or ``None`` when it has none."""
        if not self.default_config:
            return None
        path = Path(__file__).resolve().parents[1] / "configs" / self.default_config
        if not path.is_file():
            raise MotionLabError(f"recipe {self.name!r}: default config missing from the package", file=path)
        return path

    def make_model(self, cfg: Any) -> Any:
        """The LightningModule for ``cfg`` (``build_model`` if given, else the first half of ``build``)."""
        if self.build_model is not None:
            return self.build_model(cfg)
        module, _ = self.build(cfg)
        return module


def resolve_target(target: str) -> Any:
    """The object named by ``"package.module:attribute"`` (the module imported now)."""
    module_name, sep, attr = target.partition(":")
    if not sep or not module_name or not attr:
        raise MotionLabError(f"lazy target {target!r}: expected 'package.module:attribute'")
    obj = importlib.import_module(module_name)
    for part in attr.split("."):
        obj = getattr(obj, part)
    return obj


def lazy(target: str) -> Callable[..., Any]:
    """A function standing for ``"package.module:function"`` that imports its module only when called.

    Recipes name their heavy pieces this way so that looking a recipe up (``motionlab config``, ``--help``)
    does not import torch models, Lightning or the data code::

        evaluate=lazy("motionlab.recipes.t2m.evaluate:evaluate")
    """
    if ":" not in target:
        raise MotionLabError(f"lazy target {target!r}: expected 'package.module:attribute'")

    def call(*args: Any, **kwargs: Any) -> Any:
        return resolve_target(target)(*args, **kwargs)

    call.__name__ = target.rpartition(":")[2].rpartition(".")[2]
    call.__qualname__ = call.__name__
    call.__doc__ = f"Calls ``{target}`` (imported on first use)."
    call.target = target  # type: ignore[attr-defined]
    return call


def lazy_build(module: str, data: str) -> Callable[[Any], Tuple[Any, Any]]:
    """``build(cfg) -> (Module(cfg), Data(cfg))`` for two classes named ``"package.module:Class"``,
    imported when ``build`` is first called (the data module reads nothing until its ``setup``)."""

    def build(cfg: Any) -> Tuple[Any, Any]:
        return resolve_target(module)(cfg), resolve_target(data)(cfg)

    build.__doc__ = f"``({module.rpartition(':')[2]}(cfg), {data.rpartition(':')[2]}(cfg))``; no data is read here."
    build.targets = (module, data)  # type: ignore[attr-defined]
    return build

