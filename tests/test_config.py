"""Dataclass configs: YAML files, dotted overrides, unknown keys, type checking, saving."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Dict, List, Literal, Optional, Tuple

import pytest

from motionlab.config import (apply_overrides, config_diff, from_dict, load_config, parse_override, save_config,
                              to_dict)
from motionlab.errors import MotionLabError
from motionlab.train.config import TrainConfig


@dataclass
class Model:
    hidden: int = 64
    kind: Literal["mlp", "conv"] = "mlp"
    dropout: float = 0.1


@dataclass
class Cfg:
    train: TrainConfig = field(default_factory=TrainConfig)
    model: Model = field(default_factory=Model)
    streams: List[str] = field(default_factory=lambda: ["body"])
    weights: Dict[str, float] = field(default_factory=lambda: {"pos": 1.0})
    shape: Tuple[int, int] = (2, 3)
    note: Optional[str] = None
    name: str = "x"


def write(path, text):
    path.write_text(text)
    return path


def test_defaults_files_then_overrides(tmp_path):
    a = write(tmp_path / "a.yaml", "model:\n  hidden: 128\n  kind: conv\ntrain:\n  lr: 3.0e-4\n")
    b = write(tmp_path / "b.yaml", "model:\n  hidden: 256\nstreams: [body, g1_joints]\n")
    cfg = load_config(Cfg, [a, b], ["train.max_steps=50", "model.dropout=0", "weights.vel=0.5", "note=hi"])
    assert cfg.model == Model(hidden=256, kind="conv", dropout=0.0)
    assert cfg.train.lr == 3e-4 and cfg.train.max_steps == 50 and cfg.train.seed == 0
    assert cfg.streams == ["body", "g1_joints"]
    assert cfg.weights == {"pos": 1.0, "vel": 0.5}
    assert cfg.note == "hi" and isinstance(cfg.model.dropout, float)
    assert load_config(Cfg) == Cfg()


def test_values_are_parsed_as_yaml():
    assert parse_override("a.b=[1, 2]") == ("a.b", [1, 2])
    assert parse_override("x=true") == ("x", True)
    assert parse_override("x=") == ("x", "")
    assert parse_override("x=a=b") == ("x", "a=b")
    cfg = load_config(Cfg, overrides=["train.lr=1e-3", "train.precision=32", "shape=[4, 5]", "note=null",
                                      "train.precision=bf16-mixed"])
    assert cfg.train.lr == 1e-3 and cfg.shape == (4, 5) and cfg.note is None
    assert cfg.train.precision == "bf16-mixed"
    assert load_config(Cfg, overrides=["train.precision=32"]).train.precision == "32"
    with pytest.raises(MotionLabError, match="key=value"):
        parse_override("train.lr")


def test_unknown_key_in_file_names_key_file_and_valid_keys(tmp_path):
    f = write(tmp_path / "c.yaml", "model:\n  hiden: 3\n")
    with pytest.raises(MotionLabError) as err:
        load_config(Cfg, f)
    msg = str(err.value)
    assert "'hiden'" in msg and str(f) in msg and "model.hiden" in msg
    assert "valid keys: hidden, kind, dropout" in msg
    with pytest.raises(MotionLabError, match="unknown key 'epochs' in the top level"):
        load_config(Cfg, write(tmp_path / "d.yaml", "epochs: 3\n"))


def test_unknown_key_in_override():
    with pytest.raises(MotionLabError) as err:
        load_config(Cfg, overrides=["train.lrate=0.1"])
    msg = str(err.value)
    assert "override 'train.lrate=0.1'" in msg and "'lrate'" in msg and "max_steps" in msg
    with pytest.raises(MotionLabError, match="unknown key 'nope'"):
        apply_overrides(Cfg(), ["nope.x=1"])


@pytest.mark.parametrize("override, needle", [
    ("model.hidden=abc", "expected int"),
    ("model.hidden=1.5", "expected int"),
    ("model.kind=rnn", "valid choices: 'mlp', 'conv'"),
    ("train.deterministic=1", "expected bool"),
    ("streams=body", "expected List"),
    ("shape=[1, 2, 3]", "2 items"),
    ("train.lr=fast", "expected float"),
    ("name=[1]", "expected str"),
    ("model=3", "mapping"),
])
def test_type_errors(override, needle):
    with pytest.raises(MotionLabError, match=needle.replace("[", r"\[")):
        load_config(Cfg, overrides=[override])


def test_bad_files(tmp_path):
    with pytest.raises(MotionLabError, match="not found"):
        load_config(Cfg, tmp_path / "missing.yaml")
    with pytest.raises(MotionLabError, match="line 3, column 2"):
        load_config(Cfg, write(tmp_path / "bad.yaml", "model:\n  hidden: [1\nx: 2\n"))
    with pytest.raises(MotionLabError, match="mapping"):
        load_config(Cfg, write(tmp_path / "list.yaml", "- 1\n- 2\n"))
    assert load_config(Cfg, write(tmp_path / "empty.yaml", "")) == Cfg()


def test_save_reload_roundtrip_and_diff(tmp_path):
    cfg = load_config(Cfg, overrides=["model.hidden=7", "shape=[8, 9]", "weights.vel=2", "train.betas=[0.8, 0.9]"])
    path = save_config(cfg, tmp_path)
    assert path == tmp_path / "config.yaml"
    assert load_config(Cfg, path) == cfg
    d = to_dict(cfg)
    assert d["shape"] == [8, 9] and d["model"]["hidden"] == 7 and d["train"]["betas"] == [0.8, 0.9]
    assert from_dict(Cfg, d) == cfg
    assert config_diff(cfg, Cfg()) == ["model.hidden", "shape", "train.betas", "weights.vel"]


# --- describing ---------------------------------------------------------------------------------

from dataclasses import field as _field  # noqa: E402

from motionlab.config import describe_config, field_help, format_config_keys  # noqa: E402


@dataclass
class Documented:
    """Documented section. Its second sentence is not shown."""

    a: int = 1  # trailing comment
    b: float = 2.0  # a trailing comment that goes on
                    # on the next line in the same column
    # the comment lines above a field,
    # in two lines. Second sentence.
    c: str = "x"
    d: bool = False
    """An attribute docstring. More."""
    e: int = _field(default=3, metadata={"help": "from the metadata"})  # metadata wins
    f: List[int] = _field(default_factory=lambda: [1, 2])

    g: int = 0


@dataclass
class MoreDocumented(Documented):
    h: int = 5  # a field of the subclass


@dataclass
class Outer:
    inner: MoreDocumented = _field(default_factory=MoreDocumented)
    train: TrainConfig = _field(default_factory=TrainConfig)
    plain: Model = _field(default_factory=Model)


def test_field_help_reads_comments_docstrings_and_metadata():
    h = field_help(MoreDocumented)
    assert h["a"] == "trailing comment"
    assert h["b"] == "a trailing comment that goes on on the next line in the same column"
    assert h["c"] == "the comment lines above a field, in two lines."
    assert h["d"] == "An attribute docstring."
    assert h["e"] == "from the metadata"
    assert "f" not in h and "g" not in h  # nothing documents them (a blank line ends nothing wrongly)
    assert h["h"] == "a field of the subclass"
    assert field_help(Model) == {}


def test_field_help_without_source():
    ns = {}
    exec("from dataclasses import dataclass\n@dataclass\nclass C:\n    x: int = 1  # gone\n", ns)
    assert field_help(ns["C"]) == {}
    assert [k.key for k in describe_config(ns["C"])] == ["x"]


def test_describe_config_lists_every_key_with_value_default_and_meaning():
    cfg = apply_overrides(Outer(), ["inner.a=7", "train.lr=3e-4"])
    keys = {k.key: k for k in describe_config(cfg)}
    assert list(keys)[:3] == ["inner", "inner.a", "inner.b"] and keys["inner"].section
    assert keys["inner"].help == "Documented section."
    assert (keys["inner.a"].value, keys["inner.a"].default, keys["inner.a"].type) == (7, 1, "int")
    assert keys["inner.f"].value == [1, 2] and keys["inner.f"].type == "List[int]"
    assert keys["train.lr"].value == 3e-4 and keys["train.lr"].help.startswith("peak learning rate")
    text = format_config_keys(describe_config(cfg))
    line = next(ln for ln in text.splitlines() if ln.strip().startswith("inner.a ="))
    assert re.match(r"^  inner\.a = 7  \(default: 1\) +# trailing comment$", line)
    assert "  inner.g = 0" in text.splitlines()
    assert format_config_keys(describe_config(cfg), sections_only=True).splitlines()[0].startswith("inner:")


def test_every_train_key_has_a_meaning():
    missing = [k.key for k in describe_config(TrainConfig) if not k.help]
    assert missing == []


@pytest.mark.parametrize("name", sorted(__import__("motionlab.recipes.registry", fromlist=["RECIPES"]).RECIPES))
def test_every_recipe_config_lists_keys_that_override_back(name):
    """The listing of every registered recipe (new ones included) names real override keys: setting each
    listed leaf to its listed value gives the same config back."""
    import yaml

    from motionlab.recipes.registry import get_recipe

    rec = get_recipe(name)
    cfg = load_config(rec.config_cls, rec.default_config_path())
    keys = describe_config(cfg)
    leaves = [k for k in keys if not k.section]
    assert any(k.key == "train.max_steps" for k in leaves) and any(k.section for k in keys)
    overrides = [f"{k.key}={yaml.safe_dump(k.value, default_flow_style=True, width=1 << 30).strip().removesuffix('...').strip()}"
                 for k in leaves if not isinstance(k.value, dict) and k.value not in ("", None)]
    skipped = tuple(k.key for k in leaves if isinstance(k.value, dict) or k.value in ("", None))
    assert [k for k in config_diff(apply_overrides(rec.config_cls(), overrides), cfg) if not k.startswith(skipped)] == []
    engine_keys = {f"train.{f}" for f in TrainConfig.__dataclass_fields__}
    assert [k.key for k in leaves if k.key in engine_keys and not k.help] == []
