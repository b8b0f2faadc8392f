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
