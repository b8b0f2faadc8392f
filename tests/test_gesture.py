"""The gesture recipe: the three mask passes, logged losses, chunked inference with exact audio offsets,
audio-only outputs (BEAT2 npz, BVH with SMPL-X names, motionlab npz, video with sound), a BEAT2 folder,
stale corpora, and (slow) learning against the baselines on held-out synthetic clips."""

from __future__ import annotations

import csv
import json
import subprocess
from pathlib import Path

import numpy as np
import pytest
import torch

from gesture_helpers import quick_overrides, write_beat2_folder
from motionlab.config import load_config
from motionlab.errors import MotionLabError

CONFIGS = Path(__file__).resolve().parents[1] / "src" / "motionlab" / "configs"


@pytest.fixture(scope="module")
def cache(tmp_path_factory):
    return tmp_path_factory.mktemp("gesture_cache")


@pytest.fixture(scope="module")
def quick_run(tiny_corpus, cache, tmp_path_factory):
    """A seconds-long gesture run on the tiny corpus (both phases), shared by the pipeline tests."""
    from motionlab.train.engine import train

    run = tmp_path_factory.mktemp("gesture_run") / "g"
    train("gesture", config_path=CONFIGS / "gesture" / "tiny.yaml", overrides=quick_overrides(tiny_corpus, cache),
          run_dir=run)
    return run


def _module_and_batch(tiny_corpus, cache, recipe="gesture"):
    from motionlab.recipes.gesture.config import GestureConfig
    from motionlab.recipes.gesture.data import GestureArrays, WindowSet
    from motionlab.recipes.gesture.lightning import GestureModule

    cfg = load_config(GestureConfig, CONFIGS / recipe / "tiny.yaml", [f"data.root={tiny_corpus}",
                                                                    f"data.cache_dir={cache}"])
    torch.manual_seed(0)
    module = GestureModule(cfg).eval()
    data = GestureArrays(cfg)
    batch = WindowSet(data, "train", 64, 16).__getitems__([0, 3])
    return module, batch, data


def test_three_mask_passes_are_three_different_computations(tiny_corpus, cache):
    from motionlab.recipes.gesture.model import run_pass, training_mask

    module, batch, _ = _module_and_batch(tiny_corpus, cache)
    m = module.model
    tok = m.tokenize(batch)
    S = sum(tok[f"zq_{p}"].shape[-1] for p in m.parts)
    full = training_mask("full", (2, 64, S), 4, 0.5)
    assert not full[:, :4].any() and full[:, 4:].all()
    g = torch.Generator().manual_seed(0)
    rand = training_mask("self", (2, 64, S), 4, 0.5, generator=g)
    assert 0.4 < rand.float().mean() < 0.6
    with torch.no_grad():
        out = {k: run_pass(m, k, batch, tok, full if k == "full" else rand)["logits_upper"] for k in ("full", "self", "word")}
        silent = {k: v.clone() for k, v in batch.items()}
        silent["audio"] = torch.zeros_like(batch["audio"])
        silent["word"] = torch.zeros_like(batch["word"])
        self_silent = run_pass(m, "self", silent, tok, rand)["logits_upper"]
        word_silent = run_pass(m, "word", silent, tok, rand)["logits_upper"]
    for a, b in (("full", "self"), ("full", "word"), ("self", "word")):
        assert not torch.allclose(out[a], out[b], atol=1e-5), (a, b)
    assert torch.allclose(out["self"], self_silent)  # speech conditioning off in the self pass
    assert not torch.allclose(out["word"], word_silent, atol=1e-5)  # ... on in the word pass


def test_speech_context_lets_each_frame_read_the_coming_words():
    from motionlab.errors import MotionLabError
    from motionlab.recipes.gesture.config import GestureConfig
    from motionlab.recipes.gesture.model import Generator, frame_samples

    def speech_change(k: int) -> np.ndarray:
        cfg = load_config(GestureConfig, CONFIGS / "gesture" / "tiny.yaml", [f"model.generator.speech_context={k}"])
        torch.manual_seed(0)
        gen = Generator(cfg).eval()
        g = torch.Generator().manual_seed(1)
        batch = {"audio": torch.randn(1, 64, frame_samples(cfg), generator=g), "afeat": torch.rand(1, 64, 2, generator=g),
                 "word": torch.full((1, 64), 5, dtype=torch.long)}
        other = dict(batch, word=batch["word"].clone())
        other["word"][0, 40] = 9  # one frame says another word
        with torch.no_grad():
            return (gen.speech(batch) - gen.speech(other)).abs().amax(-1)[0].numpy()

    assert set(np.flatnonzero(speech_change(0) > 1e-6)) == {40}  # per frame: only that frame reads it
    seen = np.flatnonzero(speech_change(15) > 1e-6)
    assert seen.min() == 33 and seen.max() == 47  # 7 frames ahead of it read it too (and 7 after)
    with pytest.raises(MotionLabError, match="odd number of frames"):
        speech_change(4)


def test_losses_label_smoothing_and_weights(tiny_corpus, cache):
    from motionlab.recipes.gesture.model import pass_losses, run_pass, training_mask

    module, batch, _ = _module_and_batch(tiny_corpus, cache)
    m, cfg = module.model, module.cfg
    tok = m.tokenize(batch)
    S = sum(tok[f"zq_{p}"].shape[-1] for p in m.parts)
    with torch.no_grad():
        out = run_pass(m, "full", batch, tok, training_mask("full", (2, 64, S), 4, 1.0))
        res = pass_losses(out, tok, batch["lower"][..., :4], cfg, m.parts)
        logits = out["logits_upper"].reshape(-1, out["logits_upper"].shape[-1])
        want = torch.nn.functional.cross_entropy(logits, tok["idx_upper"].reshape(-1), label_smoothing=0.1)
        plain = torch.nn.functional.cross_entropy(logits, tok["idx_hands"].reshape(-1) * 0 + tok["idx_hands"].reshape(-1),
                                                  label_smoothing=0.0)
    assert cfg.loss.label_smoothing == 0.1 and "upper" in cfg.loss.smooth_parts and "hands" not in cfg.loss.smooth_parts
    assert torch.isclose(res["cls_upper"], want)
    hands_logits = out["logits_hands"].reshape(-1, out["logits_hands"].shape[-1])
    assert torch.isclose(res["cls_hands"], torch.nn.functional.cross_entropy(hands_logits, tok["idx_hands"].reshape(-1)))
    del plain
    assert cfg.loss.acc == {"upper": 1.0, "lower": 1.0, "hands": 0.5, "face": 0.5}
    for p in m.parts:
        for k in ("latent", "cls", "vel", "acc"):
            assert torch.isfinite(res[f"{k}_{p}"])
    # the root's acceleration term (off by default): L1 between the frame-to-frame changes of the root rates
    assert "root_acc" not in res
    cfg.loss.root_acc = 2.0
    with torch.no_grad():
        res2 = pass_losses(out, tok, batch["lower"][..., :4], cfg, m.parts)
    want = torch.nn.functional.l1_loss(out["root"].diff(dim=1), batch["lower"][..., :4].diff(dim=1))
    assert torch.isclose(res2["root_acc"], want)
    assert torch.isclose(res2["loss"], res["loss"] + 2.0 * want)
    cfg.loss.root_acc = 0.0


def test_quick_run_logs_every_loss(quick_run):
    with open(quick_run / "metrics.csv") as f:
        cols = set(next(csv.reader(f)))
    for p in ("upper", "hands", "lower", "face"):
        for k in ("latent", "cls", "vel", "acc"):
            assert f"train/{k}_{p}" in cols, k + p
        assert f"train/vq_recon_{p}" in cols
    assert {"train/root", "train/full/loss", "train/self/loss", "train/word/loss", "train/mask_ratio",
            "train/ae_recon"} <= cols
    for f in ("normalization_motion.npz", "vocab.json", "normalization_hands.npz"):
        assert (quick_run / f).is_file()


def test_exact_audio_offsets_and_chunks():
    from motionlab.data.speech_features import frame_audio, frame_bounds, samples_from_frames
    from motionlab.recipes.gesture.infer import chunk_starts

    fps, sr = 30.0, 16000
    y = np.arange(16000 * 61, dtype=np.float32) / 1e6  # 61 s: a ramp, so a sample's value is its index
    T = 1800
    b = frame_bounds(T, fps, sr)
    assert b[1799] == round(1799 * sr / fps) == 959467 and b[1799] != 1799 * (sr // 30)
    a = frame_audio(y, sr, fps, T)
    assert a.shape == (T, 534) and np.isclose(a[1799, 0] * 1e6, 959467, atol=0.5)
    assert np.allclose(samples_from_frames(a, sr, fps), y[:b[-1]])
    assert chunk_starts(200, 64, 4) == [0, 60, 120, 180]
    assert chunk_starts(64, 64, 4) == [0]


def test_batched_passes_reproduce_sequential_chunks_and_seams_blend(quick_run, tiny_corpus, cache):
    from motionlab.recipes.gesture.evaluate import load
    from motionlab.recipes.gesture.infer import (chunk_starts, crossfade_weights, generate_sequence, offset_decay,
                                                 seed_parts)

    run, data = load(quick_run)
    i = max(data.clips("train"), key=lambda j: len(data.clip(j)["audio"]))
    cond = {k: v[:250] for k, v in data.clip(i).items() if k in ("audio", "afeat", "word")}
    seed = seed_parts(data.normalizers, data.parts, 30.0, run.cfg.data.num_expressions)
    K = len(chunk_starts(250, 64, 4))
    assert K == 5
    for decode in ("latents", "codes"):
        seq = generate_sequence(run.model, cond, seed, decode=decode, passes=0)
        exact = generate_sequence(run.model, cond, seed, decode=decode, passes=K)  # K passes: every chunk exact
        two = generate_sequence(run.model, cond, seed, decode=decode, passes=2)  # the first 2 chunks exact
        for p in data.parts:
            assert np.allclose(seq[p], exact[p], atol=1e-4), (decode, p)
            assert (seq[f"idx_{p}"] == exact[f"idx_{p}"]).all()
        assert np.allclose(seq["root"][:120], two["root"][:120], atol=1e-4)
    hot = generate_sequence(run.model, cond, seed, decode="codes", passes=2, temperature=5.0)  # sampled codes
    assert len(np.unique(hot["idx_upper"][64:])) > 1  # every chunk's codes are placed on the timeline
    w = crossfade_weights(4)
    assert np.all(np.diff(w) > 0) and 0 < w[0] < 0.5 < w[-1] < 1
    g = offset_decay(64, 4, 16)
    assert (g[:4] == 1).all() and (g[19:] == 0).all() and np.all(np.diff(g) <= 0)
    # with the seam blend, a chunk joins the previous one where it left off: no jump at the first new frame
    hard = generate_sequence(run.model, cond, seed, decode="latents", seam_blend=0)
    soft = generate_sequence(run.model, cond, seed, decode="latents", seam_blend=16)
    jump = lambda r: np.abs(r["root"][63] - r["root"][64]).mean()  # noqa: E731
    step = np.median(np.abs(np.diff(soft["root"], axis=0)).mean(1))  # a frame's step inside the chunks
    # smaller than the hard seam's jump, or no larger than the steps inside a chunk (a seconds-long model's
    # regressed root steps by about as much at every frame, seam or not)
    assert jump(soft) < jump(hard) or jump(soft) < 1.5 * step


def test_root_smoothing_filters_only_the_regressed_root(quick_run):
    from scipy.ndimage import gaussian_filter1d

    from motionlab.errors import MotionLabError
    from motionlab.recipes.gesture.evaluate import load
    from motionlab.recipes.gesture.infer import generate_sequence, seed_parts

    run, data = load(quick_run)
    i = max(data.clips("train"), key=lambda j: len(data.clip(j)["audio"]))
    cond = {k: v[:200] for k, v in data.clip(i).items() if k in ("audio", "afeat", "word")}
    seed = seed_parts(data.normalizers, data.parts, 30.0, run.cfg.data.num_expressions)
    raw = generate_sequence(run.model, cond, seed, decode="latents", passes=2)
    smooth = generate_sequence(run.model, cond, seed, decode="latents", passes=2, root_smooth=1.5)
    for p in data.parts:  # the body parts are untouched
        assert np.array_equal(raw[p], smooth[p]) and np.array_equal(raw[f"idx_{p}"], smooth[f"idx_{p}"])
    assert np.allclose(smooth["root"], gaussian_filter1d(raw["root"], 1.5, axis=0, mode="nearest"), atol=1e-5)
    acc = lambda r: np.abs(np.diff(r, 2, axis=0)).mean()  # noqa: E731
    assert acc(smooth["root"]) < 0.5 * acc(raw["root"])
    with pytest.raises(MotionLabError, match="root smoothing sigma"):
        generate_sequence(run.model, cond, seed, root_smooth=-1.0)


def test_seam_fade_is_set_per_part(quick_run):
    """``seam_fade_parts`` changes the fade-in of the named part only: the others match the run without it."""
    from motionlab.errors import MotionLabError
    from motionlab.recipes.gesture.evaluate import load
    from motionlab.recipes.gesture.infer import generate_sequence, seed_parts

    run, data = load(quick_run)
    i = max(data.clips("train"), key=lambda j: len(data.clip(j)["audio"]))
    cond = {k: v[:200] for k, v in data.clip(i).items() if k in ("audio", "afeat", "word")}
    seed = seed_parts(data.normalizers, data.parts, 30.0, run.cfg.data.num_expressions)
    opts = dict(decode={"hands": "codes"} | {p: "latents" for p in data.parts if p != "hands"}, passes=2,
                seam_blend=24, seam_fade=16)
    base = generate_sequence(run.model, cond, seed, **opts)
    assert len(base["starts"]) > 1  # there are seams
    short = generate_sequence(run.model, cond, seed, seam_fade_parts={"hands": 6}, **opts)
    for p in data.parts:
        assert np.array_equal(base[f"idx_{p}"], short[f"idx_{p}"])  # the codes never change
        assert np.array_equal(base[p], short[p]) == (p != "hands"), p
    assert np.array_equal(base["root"], short["root"])
    same = generate_sequence(run.model, cond, seed, seam_fade_parts={"hands": 16}, **opts)
    assert np.array_equal(base["hands"], same["hands"])
    with pytest.raises(MotionLabError, match="valid"):
        generate_sequence(run.model, cond, seed, seam_fade_parts={"fingers": 6}, **opts)
    with pytest.raises(MotionLabError, match="seam fade"):
        generate_sequence(run.model, cond, seed, seam_fade_parts={"hands": 70}, **opts)


def test_seed_poses_start_from_the_training_mean_or_the_rest_pose(quick_run):
    """Without a seed motion the first chunk starts from the training mean of every part (``mean``, normalised
    zeros, the default) or from the rest pose (``rest``: arms out, hands flat); a seed motion overrides both."""
    from motionlab.errors import MotionLabError
    from motionlab.recipes.gesture.evaluate import load
    from motionlab.recipes.gesture.infer import rest_motion, seed_parts

    run, data = load(quick_run)
    assert run.cfg.model.seed_pose == "mean"
    n, args = data.normalizers, (data.parts, 30.0, run.cfg.data.num_expressions)
    mean = seed_parts(n, *args)
    assert all(mean[p].shape == (4, data.dims[p]) and not mean[p].any() for p in data.parts)
    rest = seed_parts(n, *args, pose="rest")
    assert all(rest[p].shape == (4, data.dims[p]) for p in data.parts)
    # flat hands sit far from the data's mean hands (the corpus's hands rest curled)
    assert np.abs(rest["hands"]).mean() > 0.5
    given = seed_parts(n, *args, seed=rest_motion(30.0, 6), pose="mean")  # a seed motion wins
    assert all(np.allclose(given[p], rest[p]) for p in data.parts)
    with pytest.raises(MotionLabError, match="mean, rest"):
        seed_parts(n, *args, pose="tpose")


def test_audio_only_outputs_and_render(quick_run, tiny_corpus, tmp_path):
    from motionlab.io.bvh import read_bvh
    from motionlab.io.smplx import read_smplx_npz
    from motionlab.io.npz import load_motion_npz
    from motionlab.recipes.gesture.tool import gesture_file

    clip = next(c for c in json.loads((tiny_corpus / "manifest.json").read_text())["clips"]
                if c["kind"] == "talking" and c["split"] == "test")
    wav, tg = tiny_corpus / clip["files"]["audio"], tiny_corpus / clip["files"]["words"]
    report = gesture_file(wav, quick_run, tmp_path / "talk.npz", words=tg, render=tmp_path / "talk.mp4")
    assert "chunks" in report
    z = np.load(tmp_path / "talk.npz")
    T = clip["frames"]
    assert z["poses"].shape == (T, 165) and z["trans"].shape == (T, 3) and z["expressions"].shape == (T, 100)
    assert float(z["mocap_frame_rate"]) == 30.0 and z["betas"].shape == (300,)
    m = read_smplx_npz(tmp_path / "talk.npz")
    assert np.isfinite(m.positions()).all()
    gesture_file(wav, quick_run, tmp_path / "talk.bvh")
    b = read_bvh(tmp_path / "talk.bvh")
    assert len(b.skeleton.names) == 55 and "left_index1" in b.skeleton.names and "jaw" in b.skeleton.names
    gesture_file(wav, quick_run, tmp_path / "talk_ml.npz", npz_format="motionlab")
    assert load_motion_npz(tmp_path / "talk_ml.npz").num_frames == T
    import imageio_ffmpeg

    probe = subprocess.run([imageio_ffmpeg.get_ffmpeg_exe(), "-i", str(tmp_path / "talk.mp4")], capture_output=True,
                           text=True).stderr
    assert "Audio:" in probe and "Video:" in probe


def test_speech_files_resampled_and_bad_audio_is_one_error(quick_run, tmp_path):
    import soundfile as sf

    from motionlab.recipes.gesture.tool import generate_motion

    t = np.arange(44100 * 3) / 44100
    stereo = np.stack([np.sin(2 * np.pi * 150 * t), np.sin(2 * np.pi * 220 * t)], 1) * 0.3 * (np.sin(3 * t) > 0)[:, None]
    sf.write(tmp_path / "s.flac", stereo, 44100)
    res = generate_motion(quick_run, tmp_path / "s.flac")
    assert res["sr"] == 16000 and res["motion"].num_frames == 90
    (tmp_path / "fake.wav").write_bytes(b"ID3\x03\x00\x00\x00" + bytes(2000))  # an MP3 tag renamed .wav
    with pytest.raises(MotionLabError, match="fake.wav"):
        generate_motion(quick_run, tmp_path / "fake.wav")


def test_beat2_folder_layout(tiny_corpus, cache, tmp_path):
    from motionlab.data.beat2 import scan_beat2
    from motionlab.train.engine import train

    root = write_beat2_folder(tiny_corpus, tmp_path / "beat2")
    takes = scan_beat2(root, speakers=[2])
    assert takes and all(t.speaker == 2 and t.id.startswith("2_scott") for t in takes)
    assert {t.split for t in takes} <= {"train", "val", "test"}
    run = train("gesture", config_path=CONFIGS / "gesture" / "tiny.yaml",
                overrides=quick_overrides(root, cache, steps=8, vq_steps=4) + ["data.speakers=[2]"],
                run_dir=tmp_path / "run")
    assert (Path(run) / "checkpoints" / "last.ckpt").is_file()
    # tiny.yaml's eval.extra_synth_seeds (synthetic draws) are left out, with a warning, for a run on real data
    from motionlab.recipes.gesture.evaluate import load, take_pool

    loaded, data = load(run)
    assert list(loaded.cfg.eval.extra_synth_seeds) == [1, 2]
    with pytest.warns(UserWarning, match="not a synthetic corpus"):
        pool = take_pool(loaded, data)
    assert pool.extra_seeds == [] and pool.clips("heldout") == data.clips("heldout")
    # a missing wav is one clear error naming it, or a warning when asked to skip
    gone = sorted((root / "wave16k").glob("2_*.wav"))[0]
    gone.unlink()
    with pytest.raises(MotionLabError, match=gone.name):
        scan_beat2(root)
    with pytest.warns(UserWarning, match="skipped 1 take"):
        assert len(scan_beat2(root, skip_missing=True)) == len(scan_beat2(root, skip_missing=True, speakers=[2, 3]))


def test_extra_synth_seeds_leave_out_the_training_corpus_seed(tiny_corpus, cache):
    from types import SimpleNamespace

    from motionlab.recipes.gesture.config import GestureConfig
    from motionlab.recipes.gesture.data import GestureArrays
    from motionlab.recipes.gesture.evaluate import take_pool

    cfg = load_config(GestureConfig, CONFIGS / "gesture" / "tiny.yaml", [f"data.root={tiny_corpus}",
                                                                       f"data.cache_dir={cache}",
                                                                       "eval.extra_synth_seeds=[0]"])
    data = GestureArrays(cfg)
    with pytest.warns(UserWarning, match="seed 0 left out"):
        pool = take_pool(SimpleNamespace(cfg=cfg), data)
    assert pool.extra_seeds == [] and pool.clips("heldout") == data.clips("heldout")


def test_old_corpus_is_stale_and_refused(tiny_corpus, tmp_path):
    from motionlab.recipes.gesture.data import corpus_takes

    manifest = json.loads((tiny_corpus / "manifest.json").read_text())
    assert manifest["version"] >= 2
    manifest["version"] = 1
    for c in manifest["clips"]:
        c["files"].pop("smplx", None)
    (tmp_path / "manifest.json").write_text(json.dumps(manifest))
    with pytest.raises(MotionLabError, match="older motionlab"):
        corpus_takes(tmp_path, ["talking"], dyadic=False)


def test_heldout_takes_say_only_gesture_words_the_training_takes_say(tiny_corpus):
    from motionlab.data.synth.speech import GESTURE_WORDS
    from motionlab.recipes.gesture.data import corpus_takes, cover_words

    clips = {c["id"]: c for c in json.loads((tiny_corpus / "manifest.json").read_text())["clips"]}
    kinds = ["talking", "dyadic"]
    plain, strat = corpus_takes(tiny_corpus, kinds, False), corpus_takes(tiny_corpus, kinds, False, word_split=True)
    said = lambda takes, held: set().union(*[{w[2] for w in clips[t.id]["meta"]["words"]} for t in takes  # noqa: E731
                                             if (t.split != "train") == held]) & set(GESTURE_WORDS)
    assert said(plain, True) - said(plain, False)  # the corpus's own split: a held-out word training never says
    assert said(strat, True) and not said(strat, True) - said(strat, False)
    for split in ("train", "val", "test"):  # same sizes per kind; pairs stay together
        for kind in kinds:
            assert sum(t.split == split and t.kind == kind for t in plain) == \
                sum(t.split == split and t.kind == kind for t in strat)
    for t in strat:
        if t.kind == "dyadic":
            assert t.split == next(u.split for u in strat if u.id == clips[t.id]["partner"])
    assert [t.split for t in corpus_takes(tiny_corpus, ["dyadic"], True)] == \
        [clips[t.id]["split"] for t in corpus_takes(tiny_corpus, ["dyadic"], True)]  # dyadic: the corpus's split
    # a held-out group with an unheard word trades places with a training group of its kind whose move leaves
    # every held-out word said in training (c would take "here" out of training; d is of another kind)
    words = {"a": frozenset({"no", "big"}), "b": frozenset({"big"}), "c": frozenset({"you", "here"}),
             "d": frozenset({"you"}), "e": frozenset({"you"})}
    kind = {"a": "dyadic", "b": "dyadic", "c": "dyadic", "d": "talking", "e": "talking"}
    split = {"a": "test", "b": "train", "c": "train", "d": "train", "e": "val"}
    covered = {**split, "a": "train", "b": "test"}
    assert cover_words(split, words, kind) == covered
    assert cover_words(covered, words, kind) == covered  # nothing to trade: unchanged


def test_corpus_hands_and_jaw_follow_words_and_voice(tiny_corpus):
    from motionlab.data.speech_features import frame_envelope
    from motionlab.io.audio import read_audio
    from motionlab.io.smplx import read_smplx_npz

    talks = [c for c in json.loads((tiny_corpus / "manifest.json").read_text())["clips"] if c["kind"] == "talking"]
    jaw_corr, curl = [], {"big": [], "no": []}
    for c in talks:
        m = read_smplx_npz(tiny_corpus / c["files"]["smplx"])
        y, sr = read_audio(tiny_corpus / c["files"]["audio"])
        env = frame_envelope(y, sr, 30.0, m.num_frames)
        jaw = m.extras["smplx_poses"][:, 66]
        jaw_corr.append(np.corrcoef(jaw, env)[0, 1])
        fingers = np.abs(m.extras["smplx_poses"][:, 75:120].reshape(-1, 15, 3)[..., 2]).mean(1)  # left hand curl
        for ws, we, w in c["meta"]["words"]:
            if w in curl:
                f = int((ws + we) / 2 * 30)
                curl[w].append(fingers[min(f, len(fingers) - 1)])
    assert np.mean(jaw_corr) > 0.6
    if curl["big"] and curl["no"]:
        assert np.mean(curl["no"]) > np.mean(curl["big"]) + 0.5  # fist vs open hand


def test_synthetic_arms_stay_in_the_g1_shoulder_range():
    """Talking clips (every word shape, "think" included) mapped to the G1: the shoulders move continuously
    inside their limits, never wrapping between the pitch limits."""
    from motionlab.data.synth.gesture import generate_talking
    from motionlab.data.synth.robot import body_to_g1
    from motionlab.robots.g1 import clamp_to_limits, joint_index

    seen = set()
    for seed in range(10):
        rng = np.random.default_rng(seed)
        motion, speech = generate_talking(rng, 8.0)
        seen |= {w[2] for w in speech.words}
        q = body_to_g1(motion, clamp=False).joint_pos
        assert np.allclose(q, clamp_to_limits(q))  # no joint needs clamping
        for side in ("left", "right"):
            pitch = q[:, joint_index(f"{side}_shoulder_pitch_joint")]
            assert -2.0 < pitch.min() and pitch.max() < 1.0, (seed, side)
            for a in ("pitch", "roll", "yaw"):
                step = np.abs(np.diff(q[:, joint_index(f"{side}_shoulder_{a}_joint")]))
                assert step.max() < 0.6, (seed, side, a, float(step.max()))  # < 18 rad/s: no flips
    assert "think" in seen and "big" in seen


def test_word_dropout_reads_whole_words_as_unknown():
    from motionlab.recipes.gesture.lightning import word_dropout

    w = torch.tensor([[0, 2, 2, 3, 3, 0, 4, 4]] * 200)
    out = word_dropout({"word": w}, 0.3, torch.Generator().manual_seed(0))["word"]
    assert ((out == w) | (out == 1)).all() and (out[w == 0] == 0).all()  # silence stays silence
    for k in (2, 3, 4):
        cols = out[:, (w[0] == k)]
        assert (cols == cols[:, :1]).all()  # all frames of a word alike
        assert 0.2 < (cols[:, 0] == 1).float().mean() < 0.4
    assert word_dropout({"word": w}, 0.0)["word"] is w


@pytest.fixture(scope="module")
def tiny_run(tiny_corpus, cache, tmp_path_factory):
    """The shipped tiny config trained on the tiny corpus (slow: minutes)."""
    from motionlab.train.engine import train

    return train("gesture", config_path=CONFIGS / "gesture" / "tiny.yaml",
                 overrides=[f"data.root={tiny_corpus}", f"data.cache_dir={cache}", "train.progress=none"],
                 run_dir=tmp_path_factory.mktemp("tiny_gesture") / "g")


@pytest.fixture(scope="module")
def tiny_metrics(tiny_run):
    """:func:`tiny_run` evaluated on its held-out takes."""
    from motionlab.train.engine import evaluate

    return evaluate(tiny_run)


@pytest.mark.slow
def test_tiny_gesture_mean_pose_seed_has_no_startup_transition(tiny_run):
    """Seeded from the training mean pose, the first 16 generated frames change the hands as much as the later
    frames do; seeded from the rest pose (flat hands), they carry a transition out of it that the data never
    holds. Measured (seed 0, 34 held-out takes, mean |change| per frame of the normalised hand features): mean
    seed 0.046 in the first 16 frames against 0.047 later; rest seed 0.127 against 0.048; real motion 0.047."""
    from motionlab.recipes.gesture.evaluate import generate_for_clip, load, take_pool

    run, data = load(tiny_run)
    data = take_pool(run, data)
    held = data.clips(run.cfg.eval.split)

    def hand_change(pose):
        run.cfg.model.seed_pose = pose
        first, later = [], []
        for i in held:
            d = np.abs(np.diff(data.normalizers["hands"](generate_for_clip(run, data, i)["hands"]), axis=0))
            first.append(d[:15].mean())
            later.append(d[15:].mean())
        return float(np.mean(first)), float(np.mean(later))

    mean_first, mean_later = hand_change("mean")
    rest_first, rest_later = hand_change("rest")
    assert mean_first < 1.5 * mean_later, (mean_first, mean_later)
    assert rest_first > 1.5 * rest_later and rest_first > 1.5 * mean_first, (rest_first, rest_later, mean_first)


@pytest.mark.slow
def test_tiny_gesture_beats_baselines_on_heldout_clips(tiny_metrics):
    """The shipped tiny config (480 steps) on the tiny corpus's word-stratified split: FGD beats a random
    training clip and the mean pose, BC the mean pose and the shuffled-speech output. (FGD does not separate
    the shuffled speech: it scores the set of crops, which the shuffled pairing regenerates but for the crops
    that the takes' different lengths add or remove.)"""
    m = tiny_metrics
    for b in ("random_clip", "mean_pose"):
        assert m["fgd"] < m[f"baseline_{b}_fgd"], b
    for b in ("mean_pose", "shuffled_audio"):
        assert m["bc"] > m[f"baseline_{b}_bc"], b
    assert m["jerk"] < 2 * m["gt_jerk"]


@pytest.mark.slow
def test_tiny_gesture_seams_are_smooth(tiny_metrics):
    assert tiny_metrics["seam_ratio"] <= 1.5
    assert tiny_metrics["seam_ratio"] <= 1.2 * tiny_metrics["seam_ratio_inside"]  # seams like any frame inside


@pytest.mark.slow
def test_tiny_gesture_bc_beats_a_random_clip(tiny_metrics):
    """BC beats a random training clip on the 34 held-out takes of tiny.yaml's ``eval.extra_synth_seeds``
    (the corpus's own 6 and every take of the seed-1 and seed-2 draws; measured at train seeds 0 / 1 / 2: BC
    0.559 / 0.577 / 0.604 against 0.259; without the speech context 0.362 / 0.451 / 0.494; the former 420-step
    config without the root filter 0.464 / 0.362 / 0.428, then 0.243 at seed 1 when re-measured). On the corpus's own 6 takes alone (3 s scored per take) the
    estimate was too noisy to test."""
    assert tiny_metrics["num_takes"] >= 30
    assert tiny_metrics["bc"] > tiny_metrics["baseline_random_clip_bc"]


@pytest.mark.slow
def test_gesture_on_the_small_corpus(tmp_path):
    """The tiny model on the small built-in corpus (60 talking takes, 30 pairs) with its hands tokenizer
    trained long enough to tell the corpus's hand shapes apart: 600 tokenizer steps, then 860 generator steps
    (about 5 minutes on 2 cores, the corpus generation included). On its 34 held-out takes BC beats a random
    training clip, the mean pose and the shuffled-speech output, FGD a random training clip and the mean pose,
    and the seams hold. FGD against the shuffled speech is not asserted (a tie by construction, see
    test_tiny_gesture_beats_baselines_on_heldout_clips). Measured (2026-12-04, two 2-core machines): FGD 9.26 / 9.95
    against 14.3 / 18.3 for a random clip, 448 / 710 for the mean pose; BC 0.564 / 0.567 against 0.234 / 0 /
    0.290 / 0.282 (real 0.636); seam ratio 1.25 / 1.12; jerk 47.9 (real 29.1). With
    tiny.yaml's 140 tokenizer steps the hands tokenizer cannot reconstruct the fist and half of the relaxed and
    pointing hands, and FGD stays above the random clip's (22.8 against 9.2; 31.7 seeded from the rest pose)."""
    from motionlab.train.engine import evaluate, train

    run = train("gesture", config_path=CONFIGS / "gesture" / "tiny.yaml",
                overrides=["data.synth_scale=small", "model.vq.steps=600", "train.max_steps=1460",
                           "train.progress=none", "eval.extra_synth_seeds=[]"],  # its own 34 held-out takes are enough
                run_dir=tmp_path / "g")
    m = evaluate(run)
    assert m["num_takes"] >= 20
    for b in ("random_clip", "mean_pose", "shuffled_audio"):
        assert m["bc"] > m[f"baseline_{b}_bc"], (b, m["bc"], m[f"baseline_{b}_bc"])
    for b in ("random_clip", "mean_pose"):
        assert m["fgd"] < m[f"baseline_{b}_fgd"], (b, m["fgd"], m[f"baseline_{b}_fgd"])
    assert m["seam_ratio"] <= 1.5
