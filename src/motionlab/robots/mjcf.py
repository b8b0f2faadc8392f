"""Read the kinematic tree of an MJCF file (MuJoCo XML) as plain data, without MuJoCo.

Only what forward kinematics needs is read: body names, parents, ``pos`` offsets, ``quat`` rest
rotations (w first, as MJCF writes them), and for each hinge joint its name, body, axis and
``range``. Frames given by ``euler``/``axisangle``/``xyaxes`` attributes are not supported (the
Unitree G1 models use ``quat`` only) and raise an error instead of being silently ignored.
``compiler angle="degree"`` (MuJoCo's default) is honoured for joint ranges.
"""

from __future__ import annotations

import math
import os
import xml.etree.ElementTree as ET
from typing import Any, Dict, List, Optional, Union

from motionlab.errors import MotionLabError

_UNSUPPORTED_FRAME = ("euler", "axisangle", "xyaxes", "zaxis")



def _xml_root(path: Union[str, os.PathLike], kind: str) -> ET.Element:
    """The root element of an XML file; one-line errors naming the line of a syntax error."""
    from motionlab.core.files import check_input_file, os_problem

    check_input_file(path)
    try:
        return ET.parse(path).getroot()
    except ET.ParseError as e:
        line, col = getattr(e, "position", (0, 0))
        raise MotionLabError(f"not a readable {kind} file (malformed XML)", file=path,
                             place=f"line {line} column {col + 1}") from None
    except OSError as e:
        raise MotionLabError(os_problem(e), file=path, place="path") from None

def _floats(text: Optional[str], n: int, default, *, file, place) -> List[float]:
    if text is None:
        return list(default)
    try:
        vals = [float(t) for t in text.split()]
    except ValueError:
        raise MotionLabError(f"not {n} numbers: {text!r}", file=file, place=place) from None
    if len(vals) != n:
        raise MotionLabError(f"expected {n} numbers, got {len(vals)}: {text!r}", file=file, place=place)
    return vals


def read_mjcf_tree(path: Union[str, os.PathLike]) -> Dict[str, Any]:
    """Parse the body tree of an MJCF file.

    Returns ``{"bodies": [...], "joints": [...]}`` with bodies in document (depth-first) order:
    each body ``{"name", "parent" (name or None), "pos" [3] m, "quat" [4] w-first as written}``,
    each hinge joint ``{"name", "body", "axis" [3], "range" [lo, hi] rad or None}``.
    The free joint of the root body is skipped. Raises :class:`MotionLabError` on malformed XML.
    """
    root = _xml_root(path, "MJCF")
    degrees = True
    for comp in root.iter("compiler"):
        if comp.get("angle") is not None:
            degrees = comp.get("angle") == "degree"
    worldbody = root.find("worldbody")
    if worldbody is None:
        raise MotionLabError("no <worldbody>", file=path)
    bodies: List[Dict[str, Any]] = []
    joints: List[Dict[str, Any]] = []

    def walk(elem: ET.Element, parent: Optional[str]) -> None:
        for body in elem.findall("body"):
            name = body.get("name")
            if not name:
                raise MotionLabError("a <body> without a name", file=path, place=f"child of {parent}")
            place = f"body {name!r}"
            for attr in _UNSUPPORTED_FRAME:
                if body.get(attr) is not None:
                    raise MotionLabError(f"orientation attribute {attr!r} is not supported; use quat",
                                         file=path, place=place)
            bodies.append({
                "name": name,
                "parent": parent,
                "pos": _floats(body.get("pos"), 3, (0.0, 0.0, 0.0), file=path, place=place),
                "quat": _floats(body.get("quat"), 4, (1.0, 0.0, 0.0, 0.0), file=path, place=place),
            })
            for joint in body.findall("joint"):
                jtype = joint.get("type", "hinge")
                if jtype == "free":
                    continue
                if jtype != "hinge":
                    raise MotionLabError(f"joint type {jtype!r} is not supported", file=path, place=place)
                rng = joint.get("range")
                lo_hi = None
                if rng is not None:
                    lo_hi = _floats(rng, 2, (), file=path, place=f"joint {joint.get('name')!r}")
                    if degrees:
                        lo_hi = [math.radians(v) for v in lo_hi]
                joints.append({
                    "name": joint.get("name"),
                    "body": name,
                    "axis": _floats(joint.get("axis"), 3, (0.0, 0.0, 1.0), file=path, place=place),
                    "range": lo_hi,
                })
            walk(body, name)

    walk(worldbody, None)
    if not bodies:
        raise MotionLabError("no bodies under <worldbody>", file=path)
    return {"bodies": bodies, "joints": joints}


def read_urdf_velocity_limits(path: Union[str, os.PathLike]) -> Dict[str, float]:
    """``{joint name: velocity limit (rad/s)}`` from the ``<limit velocity=...>`` of a URDF."""
    root = _xml_root(path, "URDF")
    out: Dict[str, float] = {}
    for joint in root.iter("joint"):
        lim = joint.find("limit")
        if lim is not None and lim.get("velocity") is not None:
            out[joint.get("name")] = float(lim.get("velocity"))
    return out
