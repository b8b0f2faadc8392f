"""2D keypoint tracks: COCO-17 / Human3.6M-17 layouts and keypoint files.

:class:`Keypoints2D` holds one person's track in COCO-17 order: ``xy`` ``(T, 17, 2)`` pixels (x right,
y down, origin top-left), ``conf`` ``(T, 17)`` detector confidences, ``fps`` (None when the file
does not say), ``image_size`` ``(width, height)`` pixels or None.

Missing detections: a joint whose x or y is NaN/inf/null, whose confidence is NaN, negative or
zero, or a frame with no keypoints at all, is stored as ``conf = 0`` and ``xy = (0, 0)``: arrays
are always NaN-free and ``conf > 0`` is the validity mask.

Files read:

* JSON, a list of frames, or an object with ``"frames"`` (or ``"keypoints"``) holding that list, plus
  optional ``"fps"`` and ``"image_size"`` ([w, h]). A frame is 17 ``[x, y, c]`` (or ``[x, y]``)
  triplets, a flat list of 51 (or 34) numbers, an object with ``"keypoints"`` in either form
  (and optional ``"scores"``), or ``null`` / ``[]`` for no detection;
* npz with ``keypoints`` ``(T, 17, 3)`` (x, y, confidence) or ``(T, 17, 2)``, optional ``fps``,
  ``image_size``;
* COCO keypoint results JSON (a list of ``{"image_id", "keypoints", "score", "track_id"?}``) and
  folders of per-frame OpenPose JSON (BODY_25 / COCO-18 mapped to COCO-17); several people: one is
  read (by id, else the longest track) and ``meta["person"]`` says which.

Infinite values (``1e400``, ``Infinity``) are an error naming the file and the frame (NaN and null
are missing joints).

:func:`write_keypoints` writes JSON (``{"format": "coco17", "fps", "image_size", "joint_names",
"frames": [{"keypoints": [51 numbers]}]}``) or npz (``keypoints (T, 17, 3)``, ``fps``,
``image_size``, ``joint_names``) by extension.
"""

from __future__ import annotations

import json
import math
import os
from dataclasses import dataclass, field
from typing import Any, Dict, List, Optional, Tuple, Union

import numpy as np

from motionlab.core.files import atomic_write_text, load_json, load_npz, save_npz
from motionlab.errors import MotionLabError

PathLike = Union[str, os.PathLike]

COCO17_NAMES: List[str] = [
    "nose", "left_eye", "right_eye", "left_ear", "right_ear", "left_shoulder", "right_shoulder",
    "left_elbow", "right_elbow", "left_wrist", "right_wrist", "left_hip", "right_hip",
    "left_knee", "right_knee", "left_ankle", "right_ankle",
]

#: Human3.6M 17-joint order of the common 2D->3D lifters (VideoPose3D and successors).
#: ``neck`` is H36M's "neck/nose" joint (index 9), ``head`` its head top (index 10).
H36M17_NAMES: List[str] = [
    "pelvis", "right_hip", "right_knee", "right_ankle", "left_hip", "left_knee", "left_ankle",
    "spine", "thorax", "neck", "head", "left_shoulder", "left_elbow", "left_wrist",
    "right_shoulder", "right_elbow", "right_wrist",
]

# joints present in both layouts, by name
_SHARED = ["left_shoulder", "right_shoulder", "left_elbow", "right_elbow", "left_wrist", "right_wrist",
           "left_hip", "right_hip", "left_knee", "right_knee", "left_ankle", "right_ankle"]
_C = {n: i for i, n in enumerate(COCO17_NAMES)}
_H = {n: i for i, n in enumerate(H36M17_NAMES)}

#: Half the ear-to-ear distance as a fraction of the shoulder width (adult average, about 0.15 m
#: between the ears for 0.37 m between the shoulder joints); used to place ears from the head.
EAR_HALF_WIDTH = 0.2
#: Eyes sit this fraction of the way from the nose to the ears.
EYE_FRACTION = 0.4


def _convert(kp, conf_last: bool, table) -> np.ndarray:
    x = np.asarray(kp, dtype=np.float64)
    if x.ndim < 2 or x.shape[-2] != 17 or x.shape[-1] < (2 if conf_last else 1):
        raise MotionLabError(f"keypoints must be (..., 17, C), got {x.shape}", place="keypoints")
    pos = x[..., :-1] if conf_last else x
    conf = x[..., -1] if conf_last else None
    out_pos = np.zeros_like(pos)
    out_conf = None if conf is None else np.zeros_like(conf)
    for j, (weights, srcs) in table.items():
        out_pos[..., j, :] = sum(w * pos[..., s, :] for w, s in zip(weights, srcs))
        if conf is not None:
            out_conf[..., j] = np.min(np.stack([conf[..., s] for s in set(srcs)], axis=-1), axis=-1)
    return np.concatenate([out_pos, out_conf[..., None]], axis=-1) if conf_last else out_pos


def _coco_table() -> Dict[int, Tuple[Tuple[float, ...], Tuple[int, ...]]]:
    t = {_H[n]: ((1.0,), (_C[n],)) for n in _SHARED}
    lh, rh, ls, rs = _C["left_hip"], _C["right_hip"], _C["left_shoulder"], _C["right_shoulder"]
    t[_H["pelvis"]] = ((0.5, 0.5), (lh, rh))                      # mid-hips
    t[_H["thorax"]] = ((0.5, 0.5), (ls, rs))                      # mid-shoulders
    t[_H["spine"]] = ((0.25, 0.25, 0.25, 0.25), (lh, rh, ls, rs))  # halfway pelvis -> thorax
    t[_H["neck"]] = ((1.0,), (_C["nose"],))                       # H36M "neck/nose" = nose
    t[_H["head"]] = ((0.5, 0.5), (_C["left_ear"], _C["right_ear"]))  # head centre = mid-ears
    return t


def _h36m_table() -> Dict[int, Tuple[Tuple[float, ...], Tuple[int, ...]]]:
    t = {_C[n]: ((1.0,), (_H[n],)) for n in _SHARED}
    head, nose = _H["head"], _H["neck"]
    ls, rs = _H["left_shoulder"], _H["right_shoulder"]
    k, e = EAR_HALF_WIDTH, EYE_FRACTION
    t[_C["nose"]] = ((1.0,), (nose,))
    # ears: head centre +- k * (left shoulder - right shoulder), so that mid-ears == head
    t[_C["left_ear"]] = ((1.0, k, -k), (head, ls, rs))
    t[_C["right_ear"]] = ((1.0, -k, k), (head, ls, rs))
    # eyes: nose + e * (ear - nose)
    t[_C["left_eye"]] = ((1 - e, e, e * k, -e * k), (nose, head, ls, rs))
    t[_C["right_eye"]] = ((1 - e, e, -e * k, e * k), (nose, head, ls, rs))
    return t


def coco_to_h36m(kp, conf_last: bool = False) -> np.ndarray:
    """COCO-17 ``(..., 17, C)`` -> Human3.6M-17 ``(..., 17, C)``.

    Limbs are copied by name. Derived joints: pelvis = mid-hips, thorax = mid-shoulders,
    spine = midway pelvis-thorax (mean of hips and shoulders), neck ("neck/nose") = nose,
    head = mid-ears. All channels are treated as coordinates (2D or 3D) unless ``conf_last``:
    then the last channel is a confidence and a derived joint gets the minimum of its sources'.
    """
    return _convert(kp, conf_last, _coco_table())


def h36m_to_coco(kp, conf_last: bool = False) -> np.ndarray:
    """Human3.6M-17 ``(..., 17, C)`` -> COCO-17 ``(..., 17, C)`` (inverse where it can be).

    Limbs are copied by name; nose = H36M neck/nose; ears = head +- ``EAR_HALF_WIDTH`` times the
    shoulder vector (so mid-ears = head, and ``coco_to_h36m`` restores the H36M joints it derives);
    eyes = ``EYE_FRACTION`` of the way from the nose to each ear. Face points are estimates.
    """
    return _convert(kp, conf_last, _h36m_table())


@dataclass
class Keypoints2D:
    """One person's COCO-17 track (see the module docstring for units and the missing-joint rule)."""

    fps: Optional[float]
    xy: np.ndarray
    conf: np.ndarray
    image_size: Optional[Tuple[int, int]] = None
    meta: Dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.xy = np.asarray(self.xy, dtype=np.float64)
        self.conf = np.asarray(self.conf, dtype=np.float64)
        if self.xy.ndim != 3 or self.xy.shape[1:] != (17, 2):
            raise MotionLabError(f"xy must be (T, 17, 2), got {self.xy.shape}", place="xy")
        if self.conf.shape != self.xy.shape[:2]:
            raise MotionLabError(f"conf must be {self.xy.shape[:2]}, got {self.conf.shape}", place="conf")
        if self.fps is not None:
            self.fps = float(self.fps)
            if not math.isfinite(self.fps) or self.fps <= 0:
                raise MotionLabError(f"fps must be positive, got {self.fps}", place="fps")
        self.xy, self.conf = _mask_missing(self.xy, self.conf)

    @property
    def num_frames(self) -> int:
        return int(self.xy.shape[0])

    @property
    def joint_names(self) -> List[str]:
        return list(COCO17_NAMES)

    def as_array(self) -> np.ndarray:
        """``(T, 17, 3)``: x, y, confidence."""
        return np.concatenate([self.xy, self.conf[..., None]], axis=-1)


def _mask_missing(xy: np.ndarray, conf: np.ndarray) -> Tuple[np.ndarray, np.ndarray]:
    ok = np.isfinite(xy).all(axis=-1) & np.isfinite(conf) & (conf > 0)
    return np.where(ok[..., None], xy, 0.0), np.where(ok, conf, 0.0)


# --- reading ---------------------------------------------------------------------------------------


def _num(v: Any) -> float:
    """A JSON value as a float; null and non-numbers (but not containers) become NaN."""
    if v is None or isinstance(v, bool):
        return math.nan
    if isinstance(v, (int, float)):
        return float(v)
    raise TypeError(type(v).__name__)


def _frame(entry: Any, path, place: str) -> np.ndarray:
    """One frame -> ``(17, 3)`` with NaN for missing values."""
    scores, base = None, place
    if isinstance(entry, dict):
        if "keypoints" not in entry:
            raise MotionLabError(f"frame object without 'keypoints' (keys: {sorted(entry)})", file=path, place=place)
        scores = entry.get("scores")
        entry = entry["keypoints"]
        place = base + ".keypoints"
    if entry is None or (isinstance(entry, list) and not entry):
        out = np.full((17, 3), np.nan)
        out[:, 2] = 0.0
        return out
    if not isinstance(entry, list):
        raise MotionLabError(f"expected a list of keypoints, got {type(entry).__name__}", file=path, place=place)
    try:
        if all(isinstance(p, list) for p in entry):
            if len(entry) != 17 or any(len(p) not in (2, 3) for p in entry):
                raise MotionLabError(f"expected 17 [x, y(, c)] points, got {len(entry)} items of lengths "
                                     f"{sorted({len(p) for p in entry})}", file=path, place=place)
            rows = [[_num(v) for v in p] + ([1.0] if len(p) == 2 else []) for p in entry]
        elif len(entry) in (51, 34):
            c = 3 if len(entry) == 51 else 2
            vals = [_num(v) for v in entry]
            rows = [vals[i * c:(i + 1) * c] + ([1.0] if c == 2 else []) for i in range(17)]
        else:
            raise MotionLabError(f"expected 17 points or 51 (34) numbers, got {len(entry)} items", file=path,
                                 place=place)
    except TypeError as e:
        raise MotionLabError(f"non-numeric value ({e})", file=path, place=place) from None
    out = np.array(rows, dtype=np.float64)
    if scores is not None:
        if not isinstance(scores, list) or len(scores) != 17:
            raise MotionLabError("'scores' must be 17 numbers", file=path, place=base + ".scores")
        try:
            out[:, 2] = [_num(s) for s in scores]
        except TypeError as e:
            raise MotionLabError(f"non-numeric score ({e})", file=path, place=base + ".scores") from None
    return out


def _as_array(v: Any) -> np.ndarray:
    try:
        return np.asarray(v)
    except (ValueError, TypeError):  # ragged lists
        return np.asarray(None)


def _fps_value(v: Any, path, place: str) -> Optional[float]:
    if v is None:
        return None
    arr = _as_array(v)
    if arr.size != 1 or arr.dtype.kind not in "iuf" or not np.isfinite(arr.astype(float)).all() \
            or float(arr.reshape(-1)[0]) <= 0:
        raise MotionLabError(f"fps must be one positive number, got {v!r}", file=path, place=place)
    return float(arr.reshape(-1)[0])


def _size_value(v: Any, path, place: str) -> Optional[Tuple[int, int]]:
    if v is None:
        return None
    arr = _as_array(v)
    if arr.shape != (2,) or arr.dtype.kind not in "iuf" or not np.isfinite(arr.astype(float)).all() \
            or (arr <= 0).any():
        raise MotionLabError(f"image_size must be [width, height] > 0, got {v!r}", file=path, place=place)
    return int(arr[0]), int(arr[1])


def _joint_order(names: Any, path, place: str) -> Optional[np.ndarray]:
    """Indices that put a file's joints into COCO-17 order (None when already in order)."""
    if names is None:
        return None
    names = [str(n) for n in np.asarray(names).reshape(-1).tolist()] if not isinstance(names, list) else names
    if not all(isinstance(n, str) for n in names) or sorted(names) != sorted(COCO17_NAMES):
        raise MotionLabError(f"joint_names must be the 17 COCO names in some order, got {names!r}", file=path,
                             place=place)
    order = np.array([names.index(n) for n in COCO17_NAMES])
    return None if (order == np.arange(17)).all() else order


def _check_finite(arr: np.ndarray, path, place: str = "frame {t}") -> None:
    """Infinite values (``1e400``, ``Infinity``) are an error naming the frame: NaN and null mark a
    missing joint, but an infinite coordinate or confidence is a broken file, not a missed detection."""
    bad = np.isinf(arr.reshape(arr.shape[0], -1)).any(axis=1)
    if bad.any():
        t = int(np.argmax(bad))
        j = int(np.argmax(np.isinf(arr[t]).reshape(arr.shape[1], -1).any(axis=1)))
        name = COCO17_NAMES[j] if arr.shape[1] == 17 else str(j)
        raise MotionLabError(f"infinite value (1e400 / Infinity) at joint {j} ({name}): not a coordinate",
                             file=path, place=place.replace("{t}", str(t)))


def _read_json(path, person=None) -> Keypoints2D:
    doc = load_json(path, allow_nan=True)  # NaN marks a missing joint in many tools
    if _is_coco_results(doc):
        return _read_coco_results(doc, path, person)
    fps = size = None
    meta: Dict[str, Any] = {}
    if isinstance(doc, dict):
        fps = _fps_value(doc.get("fps"), path, "fps")
        size = _size_value(doc.get("image_size"), path, "image_size")
        key = "frames" if "frames" in doc else "keypoints" if "keypoints" in doc else None
        if key is None:
            raise MotionLabError(f"no 'frames' or 'keypoints' list (keys: {sorted(doc)})", file=path, place="document")
        frames = doc[key]
        meta = {k: v for k, v in doc.items() if k not in (key, "fps", "image_size")
                and isinstance(v, (str, int, float, bool))}
    else:
        key, frames = "", doc
    if not isinstance(frames, list):
        raise MotionLabError(f"frames must be a list, got {type(frames).__name__}", file=path, place=key or "document")
    if not frames:
        raise MotionLabError("no frames", file=path, place=key or "document")
    arr = np.stack([_frame(f, path, f"{key}[{t}]" if key else f"frame {t}") for t, f in enumerate(frames)])
    _check_finite(arr, path, f"{key}[{{t}}]" if key else "frame {t}")
    order = _joint_order(doc.get("joint_names"), path, "joint_names") if isinstance(doc, dict) else None
    if order is not None:
        arr = arr[:, order]
    meta.update(source=os.fspath(path), format="keypoints-json")
    return Keypoints2D(fps, arr[..., :2], arr[..., 2], size, meta)


def _read_npz(path) -> Keypoints2D:
    arrays = load_npz(path)
    if "keypoints" not in arrays:
        raise MotionLabError(f"missing key 'keypoints' (keys: {sorted(arrays)})", file=path, place="key 'keypoints'")
    kp = arrays["keypoints"]
    if kp.dtype.kind not in "biuf" or kp.ndim != 3 or kp.shape[1] != 17 or kp.shape[2] not in (2, 3):
        raise MotionLabError(f"keypoints must be (T, 17, 3) numbers, got {kp.dtype} {kp.shape}", file=path,
                             place="key 'keypoints'")
    if kp.shape[0] == 0:
        raise MotionLabError("no frames", file=path, place="key 'keypoints'")
    kp = kp.astype(np.float64)
    _check_finite(kp, path, "key 'keypoints' frame {t}")
    if "joint_names" in arrays:
        names = arrays["joint_names"]
        if names.dtype.kind not in "US":
            raise MotionLabError(f"joint_names must be strings, got {names.dtype}", file=path, place="key 'joint_names'")
        order = _joint_order(names, path, "key 'joint_names'")
        kp = kp if order is None else kp[:, order]
    conf = kp[..., 2] if kp.shape[2] == 3 else np.ones(kp.shape[:2])
    fps = _fps_value(arrays["fps"], path, "key 'fps'") if "fps" in arrays else None
    size = _size_value(arrays["image_size"], path, "key 'image_size'") if "image_size" in arrays else None
    return Keypoints2D(fps, kp[..., :2], conf, size, {"source": os.fspath(path), "format": "keypoints-npz"})


# --- detector outputs: COCO results JSON, OpenPose frame folders ------------------------------------

#: COCO-17 joint taken from each OpenPose BODY_25 index (no neck, mid-hip, toes or heels in COCO-17).
BODY25_TO_COCO17: List[int] = [0, 16, 15, 18, 17, 5, 2, 6, 3, 7, 4, 12, 9, 13, 10, 14, 11]
#: The same from OpenPose's older 18-point COCO layout.
OPENPOSE18_TO_COCO17: List[int] = [0, 15, 14, 17, 16, 5, 2, 6, 3, 7, 4, 11, 8, 12, 9, 13, 10]


def _is_coco_results(doc: Any) -> bool:
    first = next((d for d in doc if d is not None), None) if isinstance(doc, list) else None
    return isinstance(first, dict) and "image_id" in first and "keypoints" in first


def _choose_person(tracks: Dict[Any, Dict[int, np.ndarray]], person, path, kind: str) -> Tuple[Any, str]:
    """The track to read: ``person`` if given (it must exist), else the longest; and a sentence saying which."""
    if person is not None:
        key = next((k for k in tracks if str(k) == str(person)), None)
        if key is None:
            raise MotionLabError(f"no {kind} {person!r}; the file has {kind}s "
                                 f"{', '.join(str(k) for k in sorted(tracks, key=str))}", file=path, place=kind)
        return key, f"{kind} {key} (asked for), {len(tracks[key])} frames, of {len(tracks)} in the file"
    key = max(tracks, key=lambda k: (len(tracks[k]), -_order_key(k)))
    if len(tracks) == 1:
        return key, f"the only {kind} ({len(tracks[key])} frames)"
    return key, f"{kind} {key}, the longest ({len(tracks[key])} frames) of {len(tracks)} in the file"


def _order_key(k: Any) -> float:
    try:
        return float(k)
    except (TypeError, ValueError):
        return 0.0


def _frames_of(ids: List[Any]) -> Dict[Any, int]:
    """Frame index of each image id: integer ids are frame numbers (gaps are frames with no detection),
    other ids are frames in sorted order."""
    if all(isinstance(i, int) and not isinstance(i, bool) for i in ids):
        lo = min(ids)
        return {i: i - lo for i in ids}
    return {i: t for t, i in enumerate(sorted(set(ids), key=str))}


def _read_coco_results(doc: list, path, person=None) -> Keypoints2D:
    """COCO keypoint results: a list of ``{"image_id", "keypoints": 51 numbers, "score", "track_id"?}``.

    Detections are grouped by ``track_id`` (all one track when there is none; then the best ``score`` of
    each image is kept). One track is read: ``person`` (a track id) or the longest; ``meta["person"]``
    says which.
    """
    tracks: Dict[Any, Dict[Any, Tuple[float, np.ndarray]]] = {}
    for i, det in enumerate(doc):
        if det is None:
            continue
        place = f"[{i}]"
        if not isinstance(det, dict) or "image_id" not in det or "keypoints" not in det:
            raise MotionLabError("a result must be an object with 'image_id' and 'keypoints'", file=path, place=place)
        img = det["image_id"]
        if not isinstance(img, (int, str)) or isinstance(img, bool):
            raise MotionLabError(f"image_id must be an integer or a string, got {img!r}", file=path,
                                 place=place + ".image_id")
        score = det.get("score", 1.0)
        if not isinstance(score, (int, float)) or isinstance(score, bool) or not math.isfinite(float(score)):
            raise MotionLabError(f"score must be a finite number, got {score!r}", file=path, place=place + ".score")
        kp = _frame({"keypoints": det["keypoints"]}, path, place)
        _check_finite(kp[None], path, f"{place} (image {img})")
        tid = det.get("track_id", None)
        per = tracks.setdefault(tid, {})
        if img not in per or float(score) > per[img][0]:
            per[img] = (float(score), kp)
    if not tracks:
        raise MotionLabError("no detections (no person)", file=path, place="document")
    by_frame = {k: {img: kp for img, (_, kp) in v.items()} for k, v in tracks.items()}
    key, which = _choose_person(by_frame, person, path, "track")
    chosen = by_frame[key]
    index = _frames_of(list(chosen))
    T = max(index.values()) + 1
    arr = np.full((T, 17, 3), np.nan)
    arr[..., 2] = 0.0
    for img, kp in chosen.items():
        arr[index[img]] = kp
    meta = {"source": os.fspath(path), "format": "coco-results", "person": which, "track_id": key}
    return Keypoints2D(None, arr[..., :2], arr[..., 2], None, meta)


def _openpose_frame_number(p) -> Tuple[int, str]:
    import re

    digits = re.findall(r"(\d+)", p.name[: -len("_keypoints.json")] if p.name.endswith("_keypoints.json") else p.stem)
    return (int(digits[-1]) if digits else -1, p.name)


def _read_openpose_folder(folder, person=None) -> Keypoints2D:
    """A folder of per-frame OpenPose JSON (``*_keypoints.json``, frames in file-number order):
    ``people[].pose_keypoints_2d`` in BODY_25 (75 numbers) or the 18-point COCO layout (54), mapped to COCO-17.

    People with a ``person_id`` (other than -1) form tracks by id; without ids each frame's people are
    linked to the previous frame's nearest person (box centre). One track is read: ``person`` (an id) or
    the longest; ``meta["person"]`` says which.
    """
    from pathlib import Path

    root = Path(folder)
    files = sorted((p for p in root.iterdir() if p.suffix.lower() == ".json"), key=_openpose_frame_number)
    if not files:
        raise MotionLabError("no OpenPose *_keypoints.json files in the folder", file=root)
    frames: List[List[Tuple[Any, np.ndarray]]] = []
    for p in files:
        doc = load_json(p, allow_nan=True)
        people = doc.get("people") if isinstance(doc, dict) else None
        if not isinstance(people, list):
            raise MotionLabError("not an OpenPose frame: no 'people' list", file=p, place="people")
        found = []
        for k, ppl in enumerate(people):
            flat = ppl.get("pose_keypoints_2d") if isinstance(ppl, dict) else None
            if not isinstance(flat, list) or len(flat) not in (75, 54):
                n = len(flat) if isinstance(flat, list) else type(flat).__name__
                raise MotionLabError(f"pose_keypoints_2d must hold 75 (BODY_25) or 54 (COCO-18) numbers, got {n}",
                                     file=p, place=f"people[{k}].pose_keypoints_2d")
            try:
                vals = np.array([_num(v) for v in flat], dtype=np.float64).reshape(-1, 3)
            except TypeError as e:
                raise MotionLabError(f"non-numeric value ({e})", file=p, place=f"people[{k}].pose_keypoints_2d") from None
            _check_finite(vals[None], p, f"people[{k}].pose_keypoints_2d")
            coco = vals[BODY25_TO_COCO17 if len(flat) == 75 else OPENPOSE18_TO_COCO17]
            coco[coco[:, 2] <= 0, :2] = np.nan  # OpenPose writes 0, 0, 0 for a joint it did not find
            pid = ppl.get("person_id")
            pid = pid[0] if isinstance(pid, list) and pid else pid
            pid = None if pid in (None, -1) or not isinstance(pid, (int, str)) else pid
            found.append((pid, coco))
        frames.append(found)
    tracks: Dict[Any, Dict[int, np.ndarray]] = {}
    if any(pid is not None for f in frames for pid, _ in f):
        for t, f in enumerate(frames):
            for pid, coco in f:
                if pid is not None:
                    tracks.setdefault(pid, {})[t] = coco
    else:
        last: Dict[Any, np.ndarray] = {}
        for t, f in enumerate(frames):
            for _, coco in f:
                c = _centre(coco)
                if c is None:
                    continue
                near = min(((np.linalg.norm(c - last[k]), k) for k in last if t - 1 in tracks[k] and t not in tracks[k]),
                           default=(np.inf, None))
                size = _size(coco)
                key = near[1] if near[0] < size else len(tracks)
                tracks.setdefault(key, {})[t] = coco
                last[key] = c
    if not tracks:
        raise MotionLabError("no person in any frame", file=root)
    key, which = _choose_person(tracks, person, root, "person")
    arr = np.full((len(frames), 17, 3), np.nan)
    arr[..., 2] = 0.0
    for t, coco in tracks[key].items():
        arr[t] = coco
    meta = {"source": os.fspath(root), "format": "openpose-folder", "person": which, "frames_from": files[0].name}
    return Keypoints2D(None, arr[..., :2], arr[..., 2], None, meta)


def _centre(coco: np.ndarray):
    ok = np.isfinite(coco[:, :2]).all(-1) & (coco[:, 2] > 0)
    return coco[ok, :2].mean(0) if ok.sum() >= 2 else None


def _size(coco: np.ndarray) -> float:
    ok = np.isfinite(coco[:, :2]).all(-1) & (coco[:, 2] > 0)
    return float(np.ptp(coco[ok, :2], axis=0).max()) if ok.sum() >= 2 else 0.0


def read_keypoints(path: PathLike, fps: Optional[float] = None, person=None) -> Keypoints2D:
    """Read one person's COCO-17 track.

    ``path``: a ``.json`` file (motionlab's frame list, or COCO keypoint results with ``image_id`` /
    ``keypoints`` / ``score`` / ``track_id``), an ``.npz`` ``(T, 17, 3)``, or a folder of per-frame
    OpenPose JSON (BODY_25 or COCO-18, mapped to COCO-17). ``person``: a track id (COCO results) or
    person id (OpenPose) to read when the file holds several people; by default the longest track,
    and ``meta["person"]`` says which was read. ``fps`` overrides the file's.
    """
    if os.path.isdir(os.fspath(path)):
        kp = _read_openpose_folder(path, person)
    else:
        ext = os.path.splitext(os.fspath(path))[1].lower()
        if ext not in (".json", ".npz"):
            raise MotionLabError(f"unknown keypoint file extension {ext!r}: use .json, .npz or a folder of "
                                 "OpenPose JSON", file=path, place="path")
        kp = _read_json(path, person) if ext == ".json" else _read_npz(path)
    if fps is not None:
        kp.fps = _fps_value(fps, path, "argument fps")
    return kp


def write_keypoints(path: PathLike, kp: Keypoints2D) -> None:
    """Write a track as ``.json`` or ``.npz`` (by extension), atomically; see the module docstring."""
    ext = os.path.splitext(os.fspath(path))[1].lower()
    if ext not in (".json", ".npz"):
        raise MotionLabError(f"unknown keypoint file extension {ext!r}: use .json or .npz", file=path, place="path")
    if kp.xy.shape[0] == 0:
        raise MotionLabError("no frames to write", file=path, place="keypoints")
    xy, conf = _mask_missing(kp.xy, kp.conf)
    arr = np.concatenate([xy, conf[..., None]], axis=-1)
    if ext == ".npz":
        out = {"keypoints": arr, "joint_names": np.array(COCO17_NAMES)}
        if kp.fps is not None:
            out["fps"] = np.array(float(kp.fps))
        if kp.image_size is not None:
            out["image_size"] = np.array(kp.image_size, dtype=np.int64)
        save_npz(path, out)
        return
    doc: Dict[str, Any] = {"format": "coco17", "fps": kp.fps,
                           "image_size": None if kp.image_size is None else [int(v) for v in kp.image_size],
                           "joint_names": COCO17_NAMES,
                           "frames": [{"keypoints": [float(v) for v in f.reshape(-1)]} for f in arr]}
    atomic_write_text(path, json.dumps(doc, allow_nan=False))
