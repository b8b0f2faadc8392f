"""Dataclass configs: YAML files, dotted overrides, unknown keys, type checking, saving."""

from __future__ import annotations

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
