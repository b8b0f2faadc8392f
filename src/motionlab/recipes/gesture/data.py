"""Takes -> per-frame arrays -> windows, for the ``gesture`` and ``dyadic`` recipes.

A take is one person's motion (SMPL-X npz), speech (wav) and words (TextGrid), from the built-in corpus
(clips of the configured ``data.kinds`` that have ``smplx`` files: corpus manifest version 2) or a BEAT2
folder (:mod:`motionlab.data.beat2`). On a motionlab corpus, ``data.word_split`` (gesture runs) trades
held-out takes that say a gesture word no training take says against training takes of the same kind
(:func:`cover_words`): the split sizes stay, and every gesture the held-out takes make was seen in training. Per frame (``fps``, exact audio offsets ``round(f * sr / fps)``):

* ``<part>``: the part features of :mod:`.parts` (raw; normalised by the data module);
* ``audio`` ``(T, W)``: the frame's raw samples (16 kHz, the take's waveform divided by its peak);
* ``afeat`` ``(T, 2)``: RMS envelope and onset strength of those samples;
* ``word`` ``(T,)``: word ids (vocabulary of the training split; 0 silence, 1 unknown);
* ``speaker`` (per take): index of its speaker id among the training speakers (0 when unknown);
* dyadic: ``p_motion`` (the partner's parts, concatenated), ``p_audio``, ``p_afeat``; both people cut to
  the same frames.

Everything is cached (:class:`motionlab.data.cache.ArrayCache`) under a key of the files' contents, the
settings and the code that reads them, so a corpus written by older code is never reused.
"""

from __future__ import annotations

import json
import os
from dataclasses import asdict
from pathlib import Path
from typing import Any, Dict, List, Tuple

import numpy as np
import torch

from motionlab.data.beat2 import Take, is_beat2_folder, scan_beat2
from motionlab.errors import MotionLabError
from motionlab.recipes.gesture.config import GestureConfig
from motionlab.recipes.gesture.parts import check_parts, part_features

SPLITS = ("train", "val", "test")
VOCAB_FILE = "vocab.json"
SPEAKERS_FILE = "speakers.json"


# --- takes -------------------------------------------------------------------------------------


def _uncovered(split_of: Dict[str, str], words: Dict[str, frozenset]) -> int:
    """Number of (held-out group, word) pairs whose word no training group says."""
    train = frozenset().union(*[w for g, w in words.items() if split_of[g] == "train"])
    return sum(len(w - train) for g, w in words.items() if split_of[g] != "train")


def cover_words(split_of: Dict[str, str], words: Dict[str, frozenset], kind_of: Dict[str, str]) -> Dict[str, str]:
    """``split_of`` (``{group: split}``; a group is a take or a dyadic pair) with held-out groups traded
    against training groups of the same kind until every word of a held-out group (``words``: ``{group:
    gesture words said}``) is said by some training group, or no trade reduces the uncovered words.

    Each round takes the trade that leaves the fewest uncovered (held-out group, word) pairs; ties go to the
    trade that moves the fewest words out of training, then to the first group ids. The number of groups of
    each kind in each split stays; a split that already covers every word is returned unchanged."""
    out = dict(split_of)
    groups = sorted(words)
    for _ in range(len(groups)):
        now = _uncovered(out, words)
        if now == 0:
            break
        train = frozenset().union(*[w for g, w in words.items() if out[g] == "train"])
        best = None
        for g in (g for g in groups if out[g] != "train" and words[g] - train):
            for h in (h for h in groups if out[h] == "train" and kind_of[h] == kind_of[g]):
                trial = dict(out)
                trial[g], trial[h] = "train", out[g]
                rank = (_uncovered(trial, words), len(words[h]))
                if rank[0] < now and (best is None or rank < best[0]):
                    best = (rank, trial)
        if best is None:
            break
        out = best[1]
    return out


def _word_split(manifest: Dict[str, Any], kinds) -> Dict[str, str]:
    """``{clip id: split}`` of the corpus clips of ``kinds`` after :func:`cover_words` (gesture words:
    :data:`motionlab.data.synth.speech.GESTURE_WORDS`; a dyadic pair moves as one)."""
    from motionlab.data.synth.speech import GESTURE_WORDS

    group_of, said, split_of, kind_of = {}, {}, {}, {}
    for e in manifest.get("clips", []):
        if e.get("kind") not in kinds or "audio" not in e.get("files", {}):
            continue
        g = str(e.get("pair") or e["id"])
        group_of[str(e["id"])] = g
        said.setdefault(g, set()).update(str(w[2]) for w in e.get("meta", {}).get("words", []) if len(w) > 2)
        split_of[g], kind_of[g] = str(e.get("split") or "train"), str(e.get("kind"))
    new = cover_words(split_of, {g: frozenset(w & set(GESTURE_WORDS)) for g, w in said.items()}, kind_of)
    return {cid: new[g] for cid, g in group_of.items()}


def corpus_takes(root: Path, kinds, dyadic: bool, word_split: bool = False) -> List[Take]:
    """Takes of a synthetic corpus folder (manifest version 2 or later); ``word_split``: the splits of
    :func:`cover_words` instead of the manifest's."""
    path = root / "manifest.json"
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as e:
        raise MotionLabError(f"unreadable corpus manifest ({e})", file=path) from None
    version = int(manifest.get("version", 1))
    split_of = _word_split(manifest, kinds) if word_split else {}
    out = []
    for e in manifest.get("clips", []):
        kind = e.get("kind")
        if kind not in kinds or (dyadic and kind != "dyadic"):
            continue
        f = e.get("files", {})
        if "smplx" not in f:
            raise MotionLabError(f"corpus manifest version {version} has no SMPL-X files (hands, jaw, expressions) "
                                 f"for clip {e.get('id')!r}: it was written by an older motionlab; regenerate it "
                                 "with `motionlab data synth`", file=path)
        if "audio" not in f:
            continue  # a listening clip has no own voice
        out.append(Take(str(e["id"]), root / f["smplx"], root / f["audio"], root / f["words"] if "words" in f else None,
                        split_of.get(str(e["id"]), str(e.get("split") or "train")), 0, kind,
                        e.get("partner") if dyadic else None))
    if not out:
        raise MotionLabError(f"no clips of kinds {list(kinds)} with speech in the corpus", file=path)
    return out


def list_takes(cfg: GestureConfig) -> List[Take]:
    d = cfg.data
    dyadic = bool(cfg.model.dyadic)
    word_split = bool(d.word_split) and not dyadic  # the dyadic recipe keeps the corpus's split of its pairs
    if not d.root:
        from motionlab.data.sources import builtin_corpus

        return corpus_takes(builtin_corpus(d.synth_scale, d.synth_seed), d.kinds, dyadic, word_split)
    root = Path(d.root)
    if (root / "manifest.json").is_file():
        return corpus_takes(root, d.kinds, dyadic, word_split)
    if is_beat2_folder(root):
        return scan_beat2(root, d.speakers, dyadic=dyadic, use_additional=d.use_additional,
                          skip_missing=d.skip_missing)
    raise MotionLabError("data.root is neither a motionlab corpus (manifest.json) nor a BEAT2 folder "
                         "(smplxflame_30/ and train_test_split.csv)", file=root)


# --- per-take arrays ---------------------------------------------------------------------------


def read_motion(path, fps: float):
    from motionlab.io.smplx import read_smplx_npz

    m = read_smplx_npz(path)
    return m.resample(fps) if abs(m.fps - fps) > 1e-6 else m


#: peak amplitude below which a waveform is not scaled up further (a silent take's faint room noise must stay
#: faint, not become full-scale noise that sounds like speech to the model)
PEAK_FLOOR = 0.02


def speech_arrays(samples: np.ndarray, sr: int, fps: float, T: int) -> Tuple[np.ndarray, np.ndarray]:
    """``(audio (T, W), afeat (T, 2))`` of a 16 kHz mono waveform, peak-normalised first by
    ``max(peak, PEAK_FLOOR)``; the onset strength (normalised by its clip maximum) is scaled by the same
    ``min(peak / PEAK_FLOOR, 1)``, so a near-silent take reads as silence in every channel."""
    from motionlab.data.speech_features import frame_audio, frame_envelope, frame_onset_strength

    y = np.asarray(samples, np.float32)
    peak = float(np.abs(y).max()) if len(y) else 0.0
    y = y / max(peak, PEAK_FLOOR)
    env = frame_envelope(y, sr, fps, T)
    ons = frame_onset_strength(y, sr, fps, T) * min(peak / PEAK_FLOOR, 1.0)
    return frame_audio(y, sr, fps, T), np.stack([env * 4.0, ons], axis=1).astype(np.float32)


def audio_frames(samples_len: int, sr: int, fps: float) -> int:
    """Frames whose first sample lies inside ``samples_len`` samples (the last may be partly padded)."""
    return int(np.ceil(samples_len * fps / sr - 1e-9))


def _take_arrays(take: Take, cfg: GestureConfig) -> Dict[str, Any]:
    from motionlab.data.speech_features import load_speech

    fps = cfg.data.fps
    try:
        motion = read_motion(take.motion, fps)
    except MotionLabError:
        raise
    y, sr = load_speech(take.audio)
    words = []
    if take.words is not None:
        from motionlab.io.textgrid import read_words

        words = read_words(take.words)
    return {"motion": motion, "samples": y, "sr": sr, "words": words, "take": take}


def build_arrays(cfg: GestureConfig, takes: List[Take]) -> Dict[str, np.ndarray]:
    """Concatenated per-frame arrays of all takes plus ``offsets`` ``(N + 1,)``, ``split`` and
    ``speaker`` per take, and the vocabulary / speakers as JSON byte arrays."""
    from motionlab.io.textgrid import build_vocab, words_to_frames

    parts = check_parts(cfg.model.parts)
    fps, E = cfg.data.fps, cfg.data.num_expressions
    loaded = {t.id: _take_arrays(t, cfg) for t in takes}
    train_ids = [t.id for t in takes if t.split == "train"]
    if not train_ids:
        raise MotionLabError("no training takes", place="data")
    vocab = build_vocab([[w.text for w in loaded[i]["words"]] for i in train_ids])
    if len(vocab) > cfg.data.max_vocab:
        keep = sorted(vocab, key=vocab.get)[: cfg.data.max_vocab]
        vocab = {w: k for k, w in enumerate(keep)}
    speakers = sorted({t.speaker for t in takes if t.split == "train"})
    cols: Dict[str, List[np.ndarray]] = {}
    offsets, split_of, spk = [0], [], []
    feats_cache: Dict[str, Dict[str, np.ndarray]] = {}

    def feats(tid: str) -> Dict[str, np.ndarray]:
        if tid not in feats_cache:
            L = loaded[tid]
            f = part_features(L["motion"], E)
            T = min(len(f["upper"]), audio_frames(len(L["samples"]), L["sr"], fps))
            f = {k: v[:T] for k, v in f.items()}
            f["audio"], f["afeat"] = speech_arrays(L["samples"], L["sr"], fps, T)
            f["word"] = words_to_frames(L["words"], fps, T, vocab).astype(np.int64) if L["words"] else np.zeros(T, np.int64)
            feats_cache[tid] = f
        return feats_cache[tid]

    for t in takes:
        f = feats(t.id)
        T = len(f["upper"])
        if t.partner is not None:
            if t.partner not in loaded:
                raise MotionLabError(f"dyadic take {t.id} lists partner {t.partner} that is not among the takes",
                                     file=t.motion)
            p = feats(t.partner)
            T = min(T, len(p["upper"]))
        block = {k: f[k][:T] for k in [*parts, "audio", "afeat", "word"]}
        if t.partner is not None:
            block["p_motion"] = np.concatenate([p[k][:T] for k in parts], axis=1)
            block["p_audio"], block["p_afeat"] = p["audio"][:T], p["afeat"][:T]
        for k, v in block.items():
            cols.setdefault(k, []).append(v)
        offsets.append(offsets[-1] + T)
        split_of.append(SPLITS.index(t.split) if t.split in SPLITS else 0)
        spk.append(speakers.index(t.speaker) if t.speaker in speakers else 0)
    out = {k: np.concatenate(v) for k, v in cols.items()}
    out["offsets"] = np.asarray(offsets, np.int64)
    out["split"] = np.asarray(split_of, np.int64)
    out["speaker"] = np.asarray(spk, np.int64)
    out["vocab"] = np.frombuffer(json.dumps(vocab, sort_keys=True).encode(), dtype=np.uint8).copy()
    out["speakers"] = np.frombuffer(json.dumps(speakers).encode(), dtype=np.uint8).copy()
    out["ids"] = np.frombuffer(json.dumps([t.id for t in takes]).encode(), dtype=np.uint8).copy()
    return out


def _reader_fingerprint() -> str:
    """Hash of the gesture code that turns takes into arrays (this file and the part layout)."""
    import hashlib

    here = Path(__file__).resolve().parent
    return hashlib.sha256(b"".join((here / f).read_bytes() for f in ("data.py", "parts.py"))).hexdigest()


def _json_array(a: np.ndarray) -> Any:
    return json.loads(bytes(np.asarray(a, np.uint8)).decode())


class GestureArrays:
    """The cached arrays of all takes of a config, their normalisers and window indices."""

    def __init__(self, cfg: GestureConfig) -> None:
        from motionlab.data.cache import ArrayCache, cache_key, code_fingerprint
        from motionlab.data.sources import default_cache_dir
        from motionlab.data.windows import Normalizer

        self.cfg = cfg
        self.parts = check_parts(cfg.model.parts)
        self.takes = list_takes(cfg)
        files = [str(p) for t in self.takes for p in (t.motion, t.audio, t.words) if p is not None]
        settings = {"data": {k: v for k, v in asdict(cfg.data).items() if k not in ("batch_size", "cache_dir", "stride",
                                                                                   "window")},
                    "parts": self.parts, "dyadic": bool(cfg.model.dyadic),
                    "takes": [[t.id, t.split, t.speaker, t.partner] for t in self.takes],
                    "code": [code_fingerprint("io", "data", "core"), _reader_fingerprint()]}
        cache = ArrayCache(Path(cfg.data.cache_dir) if cfg.data.cache_dir else default_cache_dir() / "gesture")
        self.arrays = cache.get_or_build(cache_key(files, settings), lambda: build_arrays(cfg, self.takes), settings)
        self.offsets = np.asarray(self.arrays["offsets"])
        self.split = np.asarray(self.arrays["split"])
        self.speaker = np.asarray(self.arrays["speaker"])
        self.vocab: Dict[str, int] = _json_array(self.arrays["vocab"])
        self.speakers: List[int] = _json_array(self.arrays["speakers"])
        self.ids: List[str] = _json_array(self.arrays["ids"])
        train = np.concatenate([np.arange(self.offsets[i], self.offsets[i + 1]) for i in range(len(self.ids))
                                if self.split[i] == 0])
        self.normalizers = {p: Normalizer.fit(np.asarray(self.arrays[p])[train], eps=cfg.data.norm_floor)
                            for p in self.parts}

    @property
    def dims(self) -> Dict[str, int]:
        return {p: int(self.arrays[p].shape[1]) for p in self.parts}

    def clips(self, split: str) -> List[int]:
        """Take indices of a split (``heldout`` = val + test)."""
        want = {"heldout": (1, 2)}.get(split, (SPLITS.index(split),) if split in SPLITS else None)
        if want is None:
            raise MotionLabError(f"unknown split {split!r}; valid: {', '.join(SPLITS)}, heldout", place="split")
        return [i for i in range(len(self.ids)) if int(self.split[i]) in want]

    def windows(self, split: str, window: int, stride: int) -> np.ndarray:
        """``(N, 2)`` (take index, start frame) of every full window of a split."""
        out = []
        for i in self.clips(split):
            n = int(self.offsets[i + 1] - self.offsets[i])
            out += [(i, s) for s in range(0, n - window + 1, stride)]
        return np.asarray(out, np.int64).reshape(-1, 2)

    def clip(self, i: int, normalized: bool = True) -> Dict[str, np.ndarray]:
        """All per-frame arrays of take ``i`` (parts normalised unless asked otherwise)."""
        a, b = int(self.offsets[i]), int(self.offsets[i + 1])
        out = {k: np.asarray(v[a:b]) for k, v in self.arrays.items() if k not in
               ("offsets", "split", "speaker", "vocab", "speakers", "ids")}
        if normalized:
            for p in self.parts:
                out[p] = self.normalizers[p](out[p].astype(np.float32)).astype(np.float32)
            if "p_motion" in out:
                out["p_motion"] = self.normalize_concat(out["p_motion"])
        out["speaker"] = np.int64(self.speaker[i])
        return out

    def normalize_concat(self, x: np.ndarray) -> np.ndarray:
        mean = np.concatenate([self.normalizers[p].mean for p in self.parts])
        std = np.concatenate([self.normalizers[p].std for p in self.parts])
        return ((x - mean) / std).astype(np.float32)

    def save_stats(self, run_dir) -> None:
        from motionlab.core.files import atomic_write_text
        from motionlab.data.windows import Normalizer

        run_dir = Path(run_dir)
        for p, n in self.normalizers.items():
            n.save(run_dir / f"normalization_{p}.npz")
        Normalizer(np.concatenate([self.normalizers[p].mean for p in self.parts]),
                   np.concatenate([self.normalizers[p].std for p in self.parts])).save(run_dir / "normalization_motion.npz")
        atomic_write_text(run_dir / VOCAB_FILE, json.dumps(self.vocab, sort_keys=True))
        atomic_write_text(run_dir / SPEAKERS_FILE, json.dumps(self.speakers))


class WindowSet(torch.utils.data.Dataset):
    """Windows of one split as batches of tensors (normalised parts; see the module docstring)."""

    def __init__(self, data: GestureArrays, split: str, window: int, stride: int) -> None:
        self.data, self.window = data, int(window)
        self.index = data.windows(split, window, stride)
        self._clips: Dict[int, Dict[str, np.ndarray]] = {}

    def __len__(self) -> int:
        return len(self.index)

    def _clip(self, i: int) -> Dict[str, np.ndarray]:
        if i not in self._clips:
            self._clips[i] = self.data.clip(i)
        return self._clips[i]

    def __getitems__(self, indices) -> Dict[str, torch.Tensor]:
        rows = [self.index[int(k)] for k in indices]
        items = []
        for c, s in rows:
            clip = self._clip(int(c))
            items.append({k: (v[s:s + self.window] if np.ndim(v) else v) for k, v in clip.items()})
        batch = {k: torch.from_numpy(np.stack([it[k] for it in items])) for k in items[0]}
        return batch

    def __getitem__(self, i: int):
        return {k: v[0] for k, v in self.__getitems__([i]).items()}


def load_vocab(run_dir) -> Dict[str, int]:
    path = Path(run_dir) / VOCAB_FILE
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as e:
        raise MotionLabError(f"unreadable vocabulary ({e})", file=path) from None


def read_word_vectors(path, vocab: Dict[str, int], dim: int) -> Tuple[np.ndarray, int]:
    """``(vectors (V, dim), found)`` for ``vocab`` from a local text file of ``word v1 .. vdim`` lines
    (fastText ``.vec`` or GloVe; a first line ``count dim`` is skipped). Missing words stay zero."""
    path = Path(os.path.expanduser(str(path)))
    if not path.is_file():
        raise MotionLabError("word-vector file not found", file=path)
    out = np.zeros((max(vocab.values()) + 1, dim), np.float32)
    found = 0
    with open(path, encoding="utf-8", errors="replace") as f:
        for n, line in enumerate(f):
            parts = line.rstrip().split(" ")
            if n == 0 and len(parts) == 2 and all(p.isdigit() for p in parts):
                continue
            if len(parts) != dim + 1:
                raise MotionLabError(f"expected a word and {dim} numbers (data.word_vectors must match "
                                     f"model.generator.word_dim), got {len(parts) - 1} numbers", file=path,
                                     place=f"line {n + 1}")
            w = parts[0].lower()
            if w in vocab:
                out[vocab[w]] = np.asarray(parts[1:], np.float32)
                found += 1
    return out, found
