"""Dataclass configs, YAML files and dotted ``key=value`` overrides: the one config mechanism of motionlab.

A config is a (nested) dataclass whose fields all have defaults. It is resolved in layers:

1. the dataclass defaults;
2. zero or more YAML files, applied in order (each a mapping; nested mappings fill nested dataclasses);
3. dotted overrides such as ``train.lr=3e-4`` or ``data.streams=[body,g1_joints]``; the value is parsed
   as a YAML scalar or list (``3e-4`` and ``1e-3`` are read as numbers for float fields).

Unknown keys are errors (:class:`~motionlab.errors.MotionLabError` naming the key, the file or override
and the valid keys), and every value is checked against the field's type annotation (``int``, ``float``,
``bool``, ``str``, ``Optional``, ``Literal``, ``List``/``Tuple``/``Dict`` of those, nested dataclasses).

Every key's one-line meaning (``motionlab config RECIPE``, :func:`describe_config`) is read from the
dataclass itself: ``field(metadata={"help": ...})`` when given, else the comment at the end of the field's
line (continued on following comment lines that start in the same column), else the comment lines
directly above the field, else a string literal right below it (an attribute docstring), else, for a
nested section, the first line of its class docstring.

Example::

    @dataclass
    class Cfg:
        train: TrainConfig = field(default_factory=TrainConfig)
        hidden: int = 128

    cfg = load_config(Cfg, "configs/x.yaml", ["train.lr=1e-3", "hidden=256"])
    save_config(cfg, run_dir)          # writes run_dir/config.yaml, reloadable with load_config
"""

from __future__ import annotations

import copy
import dataclasses
import os
import typing
from pathlib import Path
from typing import Any, Dict, List, Mapping, Optional, Sequence, Tuple, Type, TypeVar, Union

from motionlab.core.files import atomic_write_text
from motionlab.errors import MotionLabError

T = TypeVar("T")
PathLike = Union[str, "os.PathLike[str]"]

CONFIG_FILE = "config.yaml"

__all__ = [
    "CONFIG_FILE",
    "load_config",
    "from_dict",
    "apply_overrides",
    "parse_override",
    "to_dict",
    "save_config",
    "config_diff",
    "ConfigKey",
    "field_help",
    "describe_config",
    "format_config_keys",
    "find_config_keys",
]


# --- reading -----------------------------------------------------------------------------------


def _read_yaml(path: PathLike) -> Dict[str, Any]:
    import yaml

    p = Path(path)
    if not p.is_file():
        raise MotionLabError("config file not found", file=p)
    try:
        text = p.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as e:
        raise MotionLabError(f"cannot read config file ({e})", file=p) from None
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as e:
        mark = getattr(e, "problem_mark", None)
        place = f"line {mark.line + 1}, column {mark.column + 1}" if mark is not None else None
        problem = getattr(e, "problem", None) or str(e)
        raise MotionLabError(f"invalid YAML: {problem}", file=p, place=place) from None
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise MotionLabError(f"a config file must hold a mapping of keys, not {type(data).__name__}", file=p)
    return data


def parse_override(text: str) -> Tuple[str, Any]:
    """Split ``"a.b=value"`` into ``("a.b", parsed value)``; the value is read as YAML (``""`` stays ``""``)."""
    import yaml

    if not isinstance(text, str) or "=" not in text:
        raise MotionLabError(f"an override must read key=value (e.g. train.lr=1e-3), got {text!r}")
    key, raw = text.split("=", 1)
    key = key.strip()
    if not key or any(not part for part in key.split(".")):
        raise MotionLabError(f"empty key in override {text!r}")
    raw = raw.strip()
    if raw == "":
        return key, ""
    try:
        value = yaml.safe_load(raw)
    except yaml.YAMLError:
        value = raw  # not YAML: keep the text (type checking decides whether a string is acceptable)
    return key, value


# --- type checking -----------------------------------------------------------------------------


def _type_name(tp: Any) -> str:
    if isinstance(tp, type):
        return tp.__name__
    return str(tp).replace("typing.", "")


def _coerce(value: Any, tp: Any, where: str, file: Optional[PathLike]) -> Any:
    """Check ``value`` against the annotation ``tp`` and return it in canonical form."""

    def fail(extra: str = "") -> MotionLabError:
        return MotionLabError(
            f"expected {_type_name(tp)}, got {value!r} ({type(value).__name__}){extra}", file=file, place=where
        )

    if tp is Any or tp is object:
        return value
    origin = typing.get_origin(tp)
    args = typing.get_args(tp)
    if origin is Union:
        if value is None:
            if type(None) in args:
                return None
            raise fail()
        for arg in args:
            if arg is type(None):
                continue
            try:
                return _coerce(value, arg, where, file)
            except MotionLabError:
                continue
        raise fail()
    if origin is typing.Literal:
        for choice in args:
            if value == choice and type(value) is type(choice):
                return choice
            if isinstance(choice, str) and isinstance(value, (int, float)) and not isinstance(value, bool):
                if str(value) == choice:
                    return choice
        listed = ", ".join(repr(a) for a in args)
        raise MotionLabError(f"got {value!r}; valid choices: {listed}", file=file, place=where)
    if dataclasses.is_dataclass(tp) and isinstance(tp, type):
        if isinstance(value, tp):
            return copy.deepcopy(value)
        if not isinstance(value, Mapping):
            raise fail(" (a mapping of keys)")
        return _update(tp(), value, where, file)
    if origin in (list, List, Sequence, typing.Sequence) or tp in (list, List):
        if isinstance(value, (str, bytes)) or not isinstance(value, (list, tuple)):
            raise fail()
        item = args[0] if args else Any
        return [_coerce(v, item, f"{where}[{i}]", file) for i, v in enumerate(value)]
    if origin is tuple or tp is tuple:
        if isinstance(value, (str, bytes)) or not isinstance(value, (list, tuple)):
            raise fail()
        if not args or (len(args) == 2 and args[1] is Ellipsis):
            item = args[0] if args else Any
            return tuple(_coerce(v, item, f"{where}[{i}]", file) for i, v in enumerate(value))
        if len(value) != len(args):
            raise fail(f" ({len(args)} items)")
        return tuple(_coerce(v, a, f"{where}[{i}]", file) for i, (v, a) in enumerate(zip(value, args)))
    if origin in (dict, Dict, Mapping, typing.Mapping) or tp in (dict, Dict):
        if not isinstance(value, Mapping):
            raise fail()
        kt, vt = args if args else (Any, Any)
        return {_coerce(k, kt, f"{where}.{k}", file): _coerce(v, vt, f"{where}.{k}", file) for k, v in value.items()}
    if tp is bool:
        if isinstance(value, bool):
            return value
        raise fail()
    if tp is int:
        if isinstance(value, int) and not isinstance(value, bool):
            return value
        if isinstance(value, float) and value.is_integer():
            return int(value)
        raise fail()
    if tp is float:
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            return float(value)
        if isinstance(value, str):  # YAML 1.1 reads "1e-3" as a string
            try:
                return float(value)
            except ValueError:
                pass
        raise fail()
    if tp is str:
        if isinstance(value, str):
            return value
        if isinstance(value, int) and not isinstance(value, bool):  # e.g. precision=32
            return str(value)
        raise fail()
    if isinstance(tp, type):
        if isinstance(value, tp):
            return value
        raise fail()
    return value  # an annotation we do not know how to check


def _hints(cls: type) -> Dict[str, Any]:
    try:
        return typing.get_type_hints(cls)
    except Exception:  # unresolved forward references: fall back to raw annotations
        return {f.name: f.type for f in dataclasses.fields(cls)}


def _update(obj: Any, mapping: Mapping[str, Any], prefix: str, file: Optional[PathLike]) -> Any:
    """Return a copy of dataclass ``obj`` with ``mapping`` applied (recursively, checked)."""
    obj = copy.deepcopy(obj)
    fields = {f.name: f for f in dataclasses.fields(obj) if f.init}
    hints = _hints(type(obj))
    for key, value in mapping.items():
        where = f"{prefix}.{key}" if prefix else str(key)
        if key not in fields:
            section = f"section {prefix!r}" if prefix else "the top level"
            raise MotionLabError(
                f"unknown key {key!r} in {section}; valid keys: {', '.join(fields)}", file=file, place=where
            )
        tp = hints.get(key, Any)
        current = getattr(obj, key)
        if dataclasses.is_dataclass(current) and isinstance(value, Mapping):
            new = _update(current, value, where, file)
        else:
            new = _coerce(value, tp, where, file)
        setattr(obj, key, new)
    return obj


def _check_dataclass(cls: type) -> None:
    if not (dataclasses.is_dataclass(cls) and isinstance(cls, type)):
        raise TypeError(f"config class must be a dataclass type, got {cls!r}")


def from_dict(cls: Type[T], data: Mapping[str, Any], file: Optional[PathLike] = None) -> T:
    """Build ``cls`` from its defaults updated by the nested mapping ``data`` (checked)."""
    _check_dataclass(cls)
    if not isinstance(data, Mapping):
        raise MotionLabError(f"a config must be a mapping, not {type(data).__name__}", file=file)
    return _update(cls(), data, "", file)


def _nested(key: str, value: Any) -> Dict[str, Any]:
    out: Dict[str, Any] = {}
    node = out
    parts = key.split(".")
    for p in parts[:-1]:
        node[p] = {}
        node = node[p]
    node[parts[-1]] = value
    return out


def apply_overrides(cfg: T, overrides: Sequence[str] = ()) -> T:
    """Return a copy of ``cfg`` with dotted ``key=value`` overrides applied, in order.

    A dotted key may go into nested dataclasses and into ``Dict`` fields (``loss.weights.vel=0.1``).
    """
    _check_dataclass(type(cfg))
    if isinstance(overrides, str):
        overrides = [overrides]
    for text in overrides:
        key, value = parse_override(text)
        try:
            cfg = _update(cfg, _nested_for(cfg, key, value), "", None)
        except MotionLabError as e:
            raise MotionLabError(e.problem, place=f"override {text!r}" + (f" ({e.place})" if e.place else "")) from None
    return cfg


def _nested_for(cfg: Any, key: str, value: Any) -> Dict[str, Any]:
    """A nested mapping for ``key``; a key reaching inside a dict field merges with the dict's content."""
    parts = key.split(".")
    node = cfg
    for i, p in enumerate(parts[:-1]):
        if dataclasses.is_dataclass(node):
            if not hasattr(node, p):
                return _nested(key, value)  # _update reports the unknown key
            node = getattr(node, p)
        elif isinstance(node, dict):
            merged = copy.deepcopy(node)
            sub = merged
            for q in parts[i:-1]:
                sub = sub.setdefault(q, {}) if isinstance(sub, dict) else sub
            sub[parts[-1]] = value
            return _nested(".".join(parts[:i]), merged)
        else:
            return _nested(key, value)
    if isinstance(node, dict) and not dataclasses.is_dataclass(node):
        merged = dict(node)
        merged[parts[-1]] = value
        return _nested(".".join(parts[:-1]), merged)
    return _nested(key, value)


def load_config(
    cls: Type[T],
    path: Union[None, PathLike, Sequence[PathLike]] = None,
    overrides: Sequence[str] = (),
) -> T:
    """Resolve a config of dataclass type ``cls``: defaults, then YAML file(s) in order, then overrides.

    Args:
        cls: the config dataclass (every field has a default).
        path: ``None``, one YAML file or a list of files merged in order.
        overrides: dotted ``key=value`` strings (values parsed as YAML).

    Raises:
        MotionLabError: unknown key (names the key, the file or override and the valid keys), wrong type,
            unreadable or invalid YAML.
    """
    _check_dataclass(cls)
    cfg = cls()
    if path is None:
        paths: List[PathLike] = []
    elif isinstance(path, (str, os.PathLike)):
        paths = [path]
    else:
        paths = list(path)
    for p in paths:
        cfg = _update(cfg, _read_yaml(p), "", p)
    return apply_overrides(cfg, overrides)


# --- writing -----------------------------------------------------------------------------------


def _plain(value: Any) -> Any:
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: _plain(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, Path):
        return str(value)
    return value


def to_dict(cfg: Any) -> Dict[str, Any]:
    """The config as nested plain dicts/lists/scalars (tuples become lists): YAML- and JSON-safe."""
    _check_dataclass(type(cfg))
    return _plain(cfg)


def save_config(cfg: Any, run_dir: PathLike, name: str = CONFIG_FILE) -> Path:
    """Write the resolved config as YAML to ``run_dir/name`` (atomically); returns the path."""
    import yaml

    out = Path(run_dir) / name
    out.parent.mkdir(parents=True, exist_ok=True)
    text = yaml.safe_dump(to_dict(cfg), sort_keys=False, default_flow_style=None)
    atomic_write_text(out, text)
    return out


def config_diff(a: Any, b: Any) -> List[str]:
    """Dotted keys whose values differ between two configs of the same class (sorted)."""

    def walk(x: Any, y: Any, prefix: str, out: List[str]) -> None:
        if isinstance(x, dict) and isinstance(y, dict):
            for k in sorted(set(x) | set(y), key=str):
                walk(x.get(k), y.get(k), f"{prefix}.{k}" if prefix else str(k), out)
        elif x != y:
            out.append(prefix)

    diffs: List[str] = []
    walk(to_dict(a), to_dict(b), "", diffs)
    return diffs


# --- describing ---------------------------------------------------------------------------------


@dataclasses.dataclass
class ConfigKey:
    """One leaf of a config: ``key`` (dotted), its ``value`` in the config described, the dataclass
    ``default``, the annotation as text and the one-line ``help`` (``""`` when nothing documents it).
    Sections (nested dataclasses) are listed too, with ``section=True`` and their class docstring's first line."""

    key: str
    value: Any
    default: Any
    type: str
    help: str
    section: bool = False


def _first_sentence(text: str) -> str:
    """The first sentence of ``text`` on one line, reST markup (``x``, :role:`x`) as plain text."""
    import re

    text = " ".join(text.split())
    text = re.sub(r":[a-z]+:`~?([^`]+)`", r"\1", text)
    text = text.replace("``", "")
    i = text.find(". ")
    return text[: i + 1] if i > 0 else text


def _source_help(cls: type) -> Dict[str, str]:
    """``{field name: text}`` from the comments and attribute docstrings in ``cls``'s own source."""
    import ast
    import inspect
    import io
    import textwrap
    import tokenize

    try:
        source = textwrap.dedent(inspect.getsource(cls))
    except (OSError, TypeError):  # defined in a REPL or an exec'd string: no source to read
        return {}
    try:
        tree = ast.parse(source)
        comments: Dict[int, Tuple[int, str, bool]] = {}  # line -> (column, text, comment-only line)
        code_lines = set()
        for tok in tokenize.generate_tokens(io.StringIO(source).readline):
            if tok.type == tokenize.COMMENT:
                only = tok.start[0] not in code_lines
                comments[tok.start[0]] = (tok.start[1], tok.string.lstrip("#").strip(), only)
            elif tok.type not in (tokenize.NL, tokenize.NEWLINE, tokenize.INDENT, tokenize.DEDENT,
                                  tokenize.ENDMARKER):
                for line in range(tok.start[0], tok.end[0] + 1):
                    code_lines.add(line)
    except (SyntaxError, tokenize.TokenError, IndentationError):
        return {}
    node = next((n for n in tree.body if isinstance(n, ast.ClassDef)), None)
    if node is None:
        return {}
    out: Dict[str, str] = {}
    used = set()  # comment lines that continue the trailing comment of the field above
    body = node.body
    for i, stmt in enumerate(body):
        if not (isinstance(stmt, ast.AnnAssign) and isinstance(stmt.target, ast.Name)):
            continue
        name, end = stmt.target.id, getattr(stmt, "end_lineno", stmt.lineno)
        trailing = comments.get(end)
        if trailing is not None and not trailing[2]:
            col, parts = trailing[0], [trailing[1]]
            line = end + 1
            while line in comments and comments[line][2] and comments[line][0] == col:
                parts.append(comments[line][1])
                used.add(line)
                line += 1
            out[name] = " ".join(p for p in parts if p)
            continue
        above, line = [], stmt.lineno - 1
        while line in comments and comments[line][2] and line not in used:
            above.insert(0, comments[line][1])
            line -= 1
        if above:
            out[name] = _first_sentence(" ".join(above))
            continue
        nxt = body[i + 1] if i + 1 < len(body) else None
        if (isinstance(nxt, ast.Expr) and isinstance(nxt.value, ast.Constant)
                and isinstance(nxt.value.value, str)):
            out[name] = _first_sentence(nxt.value.value)
    return out


_HELP_CACHE: Dict[type, Dict[str, str]] = {}


def field_help(cls: type) -> Dict[str, str]:
    """One-line meaning of every field of the dataclass ``cls`` that documents itself (see the module
    docstring for where it is read from); fields inherited from dataclass bases are included."""
    _check_dataclass(cls)
    if cls in _HELP_CACHE:
        return dict(_HELP_CACHE[cls])
    out: Dict[str, str] = {}
    for base in reversed(cls.__mro__):
        if dataclasses.is_dataclass(base):
            out.update(_source_help(base))
    for f in dataclasses.fields(cls):
        text = f.metadata.get("help") if f.metadata else None
        if isinstance(text, str) and text.strip():
            out[f.name] = " ".join(text.split())
    _HELP_CACHE[cls] = out
    return dict(out)


def _doc_line(cls: type) -> str:
    """First sentence of the class docstring (of the nearest dataclass base that has one)."""
    for base in cls.__mro__:
        doc = base.__dict__.get("__doc__") or ""
        if not dataclasses.is_dataclass(base) or doc.startswith(f"{base.__name__}("):
            continue  # the signature dataclasses put where no docstring was written
        return _first_sentence(doc.strip().split("\n\n")[0])
    return ""


def describe_config(cfg: Any) -> List[ConfigKey]:
    """Every key of the config ``cfg`` (an instance or a dataclass type: then its defaults), depth first,
    in field order: sections (nested dataclasses) and their leaves, with values, defaults and meanings.

    A dict-valued field is one key (its whole mapping), since YAML and overrides may replace it as a whole;
    dotted overrides may still reach into it (``model.quantizer_kwargs.codebook_size=256``).
    """
    if isinstance(cfg, type):
        _check_dataclass(cfg)
        cfg = cfg()
    _check_dataclass(type(cfg))
    out: List[ConfigKey] = []

    def walk(obj: Any, default: Any, prefix: str) -> None:
        cls = type(obj)
        helps = field_help(cls)
        hints = _hints(cls)
        for f in dataclasses.fields(obj):
            if not f.init:
                continue
            key = f"{prefix}{f.name}"
            value = getattr(obj, f.name)
            dflt = getattr(default, f.name, None) if default is not None else None
            if dataclasses.is_dataclass(value) and not isinstance(value, type):
                same_type = dflt if type(dflt) is type(value) else type(value)()
                out.append(ConfigKey(key, None, None, type(value).__name__,
                                     helps.get(f.name) or _doc_line(type(value)), section=True))
                walk(value, same_type, key + ".")
            else:
                out.append(ConfigKey(key, _plain(value), _plain(dflt), _type_name(hints.get(f.name, f.type)),
                                     helps.get(f.name, "")))

    try:
        defaults = type(cfg)()
    except TypeError:
        defaults = None
    walk(cfg, defaults, "")
    return out


def find_config_keys(keys: Sequence[ConfigKey], text: str) -> List[ConfigKey]:
    """The keys whose dotted name or meaning contains ``text`` (case-insensitive), with the sections above
    them, in their order."""
    needle = text.lower()
    hits = [k for k in keys if not k.section and (needle in k.key.lower() or needle in k.help.lower())]
    parents = {".".join(k.key.split(".")[:i]) for k in hits for i in range(1, k.key.count(".") + 1)}
    return [k for k in keys if k in hits or (k.section and k.key in parents)]


def _yaml_value(value: Any) -> str:
    import yaml

    text = yaml.safe_dump(value, default_flow_style=True, width=1 << 30).strip()
    if text.endswith("..."):
        text = text[:-3].strip()
    return text or "''"


def format_config_keys(keys: Sequence[ConfigKey], sections_only: bool = False, width: int = 0) -> str:
    """Plain text of :func:`describe_config`'s keys: ``key = value  # meaning`` lines grouped under their
    sections; a value that differs from the dataclass default says so (``(default: ...)``). With
    ``sections_only`` only the sections (top level and nested) are listed. ``width`` > 0 truncates lines."""
    rows = []
    for k in keys:
        depth = k.key.count(".")
        if k.section:
            rows.append((depth, f"{k.key}:", k.help, True))
        elif not sections_only:
            text = f"{k.key} = {_yaml_value(k.value)}"
            if k.value != k.default:
                text += f"  (default: {_yaml_value(k.default)})"
            rows.append((depth, text, k.help, False))
    if not rows:
        return ""
    pad = min(58, max(len("  " * d + t) for d, t, _, _ in rows))
    lines = []
    for depth, text, meaning, section in rows:
        if section and depth == 0 and lines and not sections_only:
            lines.append("")
        head = "  " * depth + text
        line = f"{head:<{pad}}  # {meaning}" if meaning else head
        if width > 0 and len(line) > width:
            line = line[: max(10, width - 3)] + "..."
        lines.append(line.rstrip())
    return "\n".join(lines)
