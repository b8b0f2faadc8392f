"""The t2m recipe: every loss term active, the seed's training recipe configured, DDPM/DDIM sampling with
guidance and in-painting, any length without seams, the command line and the evaluation table."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch

from motionlab.config import load_config
from motionlab.recipes.registry import get_recipe

TINY = ["model.dim=32", "model.layers=1", "model.ff=64", "model.text.dim=32", "data.batch_size=8",
        "train.max_steps=12", "train.warmup_steps=4", "train.val_every=-1", "train.checkpoint_every=100"]


def _cfg(name: str = "t2m", overrides=()):
    from motionlab.config import apply_overrides

    rec = get_recipe(name)
    return apply_overrides(load_config(rec.config_cls, rec.default_config_path()), list(overrides))


@pytest.fixture(scope="module")
def data(tiny_corpus):
    from motionlab.recipes.t2m.data import CaptionData

    return CaptionData(_cfg(overrides=[f"data.root={tiny_corpus}"]).data)


@pytest.fixture(scope="module")
def runs(tiny_corpus, tmp_path_factory):
    from motionlab.train.engine import train

    out = tmp_path_factory.mktemp("t2m_runs")
    root = [f"data.root={tiny_corpus}"]
    t2m = train("t2m", overrides=root + TINY, run_dir=out / "t2m")
    ev = train("t2m_evaluator", overrides=root + ["model.dim=32", "model.embed_dim=32", "model.text.dim=32",
                                                  "train.max_steps=12", "train.val_every=-1"],
               run_dir=out / "ev")
    return Path(t2m), Path(ev)


def test_configs_carry_the_seed_training_recipe():
    for name in ("tiny.yaml", "default.yaml"):
        from motionlab.recipes.t2m.config import T2MConfig

        cfg = load_config(T2MConfig, Path(get_recipe("t2m").default_config_path()).parent / name)
        t = cfg.train
        assert t.ema_decay > 0 and t.grad_clip == 0.5 and t.warmup_start == 0.1 and t.warmup_steps > 0
        assert (cfg.loss.velocity, cfg.loss.acceleration, cfg.loss.geometric) == (0.1, 0.05, 0.01)
        assert cfg.diffusion.cond_drop == 0.1 and cfg.diffusion.train_steps == 1000
    cfg = load_config(T2MConfig, Path(get_recipe("t2m").default_config_path()).parent / "default.yaml")
    assert cfg.train.ema_decay == 0.9999 and cfg.train.warmup_steps == 500
    assert cfg.train.lr * cfg.train.min_lr_ratio == pytest.approx(1e-6)
    from motionlab.recipes.t2m.model import make_scheduler

    for kind in ("ddpm", "ddim"):
        s = make_scheduler(cfg, kind)
        assert s.config.prediction_type == "sample" and s.config.beta_schedule == "squaredcos_cap_v2"
        assert s.config.num_train_timesteps == 1000


def test_every_loss_term_is_active(data):
    from motionlab.recipes.t2m.data import collate
    from motionlab.recipes.t2m.lightning import T2MModule
    from motionlab.recipes.t2m.model import LOSS_TERMS, t2m_losses

    ds = data.dataset("train")
    batch = collate([ds[i] for i in range(min(6, len(ds)))])
    assert (~batch["mask"]).any()  # some windows are padded: the masks matter
    x0 = batch["motion"]
    mean, std = torch.as_tensor(data.normalizer.mean), torch.as_tensor(data.normalizer.std)
    exact = t2m_losses(x0.clone(), x0, batch["mask"], mean, std, 20.0)
    for k in ("mse", "velocity", "acceleration", "geometric", "heading"):
        assert exact[k].item() < 1e-8, k
    pred = (x0 + 0.3 * torch.randn_like(x0)).requires_grad_(True)
    terms = t2m_losses(pred, x0, batch["mask"], mean, std, 20.0)
    for k in LOSS_TERMS:
        assert torch.isfinite(terms[k]) and terms[k].item() > 0, k
        (g,) = torch.autograd.grad(terms[k], pred, retain_graph=True)
        assert g.abs().sum() > 0, f"{k} has no gradient"
        assert g[~batch["mask"]].abs().sum() == 0, f"{k} reaches padded frames"
    # the geometric term measures stretched bones: scale the joint offsets by 10 %
    raw = x0 * std + mean
    stretched = raw.clone()
    stretched[..., 4:67] = stretched[..., 4:67] * 1.1
    g = t2m_losses((stretched - mean) / std, x0, batch["mask"], mean, std, 20.0)["geometric"]
    assert 0.002 < g.item() < 0.5  # heights scale too, so the hip bones stretch most
    # the heading term integrates the yaw rate: a small constant per-frame bias turns the body far, zero-mean
    # per-frame errors of the same size hardly do; the MSE on x0 sees both alike
    bias, jitter = raw.clone(), raw.clone()
    bias[..., 0] += 0.005
    jitter[..., 0] += 0.005 * torch.where(torch.rand(raw.shape[:2]) < 0.5, -1.0, 1.0)
    hb, hj = (t2m_losses((y - mean) / std, x0, batch["mask"], mean, std, 20.0) for y in (bias, jitter))
    assert hb["mse"].item() == pytest.approx(hj["mse"].item(), rel=1e-3)
    assert hb["heading"].item() > 10 * hj["heading"].item()
    # the module logs each term and weights them as configured
    cfg = _cfg(overrides=["loss.foot=0.5"] + TINY)
    module = T2MModule(cfg)
    module.mean.copy_(mean)
    module.std.copy_(std)
    logged = {}
    module.log_losses = lambda d, prefix, batch_size=None: logged.update(d)
    module._step(batch, "train")
    assert set(LOSS_TERMS) | {"loss"} <= set(logged)


def test_inpainting_keeps_known_frames_and_guidance_is_used():
    from motionlab.recipes.t2m.model import T2MDenoiser, make_scheduler, sample

    torch.manual_seed(0)
    model = T2MDenoiser(dim=32, layers=1, heads=4, ff=64, text={"kind": "hash", "dim": 16}).eval()
    for p in model.out.parameters():
        torch.nn.init.normal_(p, std=0.1)
    sched = make_scheduler(_cfg(), "ddim")
    known = torch.randn(2, 16, model.feature_dim)
    km = torch.zeros(2, 16, dtype=torch.bool)
    km[:, :5] = True
    x = sample(model, sched, ["a person walks", "a person runs"], 16, steps=4, guidance=2.0,
               generator=torch.Generator().manual_seed(0), known=known, known_mask=km)
    assert torch.equal(x[:, :5], known[:, :5])
    a = sample(model, sched, ["a person walks"], 16, 4, 1.0, torch.Generator().manual_seed(1))
    b = sample(model, sched, ["a person walks"], 16, 4, 3.0, torch.Generator().manual_seed(1))
    assert not torch.allclose(a, b)


def test_heading_channel_is_guided_at_its_own_scale():
    """``diffusion.heading_guidance``: channel 0 (the root heading) mixes the conditional and unconditional x0 at
    its own scale (1: the conditional prediction), every other channel at ``guidance``; the generator takes the
    scale from the config and never above ``--guidance``."""
    from types import SimpleNamespace

    from motionlab.recipes.t2m.model import T2MDenoiser, guided_x0
    from motionlab.recipes.t2m.tool import heading_scale

    torch.manual_seed(0)
    model = T2MDenoiser(dim=32, layers=1, heads=4, ff=64, text={"kind": "hash", "dim": 16}).eval()
    for p in model.out.parameters():
        torch.nn.init.normal_(p, std=0.1)
    x, t = torch.randn(2, 12, model.feature_dim), torch.tensor([500, 300])
    text, mask = model.encode_text(["a person turns left", "a person runs"]), torch.ones(2, 12, dtype=torch.bool)
    with torch.no_grad():
        cond = model(x, t, text, mask)
        uncond = model(x, t, text, mask, torch.ones(2, dtype=torch.bool))
        both = guided_x0(model, x, t, text, mask, 2.5)
        own = guided_x0(model, x, t, text, mask, 2.5, heading_guidance=1.0)
    assert torch.allclose(both, uncond + 2.5 * (cond - uncond), atol=1e-5)
    assert torch.allclose(own[..., 0], cond[..., 0], atol=1e-5) and not torch.allclose(both[..., 0], cond[..., 0])
    assert torch.allclose(own[..., 1:], both[..., 1:], atol=1e-5)
    assert heading_scale(SimpleNamespace(diffusion=SimpleNamespace(heading_guidance=1.0)), 2.5) == 1.0
    assert heading_scale(SimpleNamespace(diffusion=SimpleNamespace(heading_guidance=-1.0)), 2.5) == 2.5
    assert heading_scale(SimpleNamespace(diffusion=SimpleNamespace(heading_guidance=2.0)), 1.0) == 1.0


def test_generate_any_length_and_the_command_line(runs, tmp_path):
    from motionlab.recipes.t2m.tool import generate, generate_normalised, load_generator

    run, _ = runs
    one = generate(run, "a person walks forward", 40, steps=3)
    assert one.shape == (40, 263) and np.isfinite(one).all()
    gen = load_generator(run)
    assert gen.ema  # sampling uses the EMA weights
    W, ov = gen.cfg.data.window, gen.cfg.infer.overlap
    x, seams = generate_normalised(gen, ["a person runs"], int(2.2 * W), steps=2)
    assert x.shape[1] == int(2.2 * W) and seams == [W, 2 * W - ov]
    from motionlab.cli import main

    assert main(["t2m", "a person walks forward, then turns left", "--run", str(run), "--seconds", "2", "-o",
                 str(tmp_path / "walk.bvh"), "--render", str(tmp_path / "walk.gif"), "--steps", "2"]) == 0
    assert (tmp_path / "walk.bvh").stat().st_size > 1000 and (tmp_path / "walk.gif").exists()
    prompts = tmp_path / "prompts.txt"
    prompts.write_text("a person walks forward\n# a comment\na person runs forward\n")
    assert main(["t2m", str(prompts), "--run", str(run), "--out-dir", str(tmp_path / "gen"), "--steps", "2",
                 "--guidance", "2.5", "--seed", "0", "--seconds", "1", "--format", "npy"]) == 0
    files = sorted(p.name for p in (tmp_path / "gen").iterdir())
    assert files == ["00_a_person_walks_forward.npy", "01_a_person_runs_forward.npy"]
    assert np.load(tmp_path / "gen" / files[0]).shape == (20, 263)


def test_evaluation_table_has_every_metric_and_baseline(runs):
    from motionlab.recipes.t2m.evaluate import evaluate

    run, ev = runs
    m = evaluate(run, evaluator=ev, replications=2, steps=2)
    for prefix in ("", "baseline_random_", "baseline_mean_"):
        for k in ("fid", "r_precision_top1", "r_precision_top2", "r_precision_top3", "mm_dist", "diversity",
                  "fid_kinetic", "fid_geometric", "foot_skating", "penetration", "bone_length_std_mm", "jerk"):
            assert np.isfinite(m[prefix + k]) and prefix + k + "_ci95" in m, prefix + k
    assert "real_r_precision_top3" in m and m["multimodality"] >= 0
    assert m["r_precision_top3_chance"] == pytest.approx(3 / m["r_precision_batch"])
    assert np.isfinite(m["seam_ratio"]) and np.isfinite(m["seam_ratio_no_inpaint"])
    json.dumps(m)


def test_prompt_check_compares_samples_with_real_clips_of_the_caption(runs):
    from motionlab.recipes.t2m.data import load_clips
    from motionlab.recipes.t2m.demo import prompt_check_lines
    from motionlab.recipes.t2m.evaluate import obeyed, prompt_check
    from motionlab.recipes.t2m.tool import load_generator

    run, _ = runs
    clips = load_clips(load_generator(run).cfg.data)
    held = next(c.captions[0] for c in clips if c.split in ("val", "test"))
    rows = prompt_check(run, [held, "a person juggles upside down"], samples=2, num_frames=40, steps=2)
    assert [len(r["speed"]) for r in rows] == [2, 2] and all(np.isfinite(r["turn"]).all() for r in rows)
    assert len(rows[0]["real_speed"]) == sum(c.split in ("val", "test") and held in c.captions for c in clips) > 0
    assert rows[1]["real_speed"] == [] and rows[1]["obeyed"] is None and 0.0 <= rows[0]["obeyed"] <= 1.0
    # obeyed: within 45 deg of the real clips' mean heading change and max(0.3 m/s, 35%) of their speed
    row = {"speed": [1.0, 1.0, 1.5, 1.0], "turn": [80.0, 130.0, 90.0, 40.0], "real_speed": [1.1, 1.1],
           "real_turn": [90.0, 90.0]}
    assert obeyed(row) == pytest.approx(0.5)
    lines = prompt_check_lines(run, [held], samples=2)
    assert lines[-1].startswith(f"| {held} |") and lines[-1].count("|") == 7

def test_multimodality_kinetic_and_bone_metrics_by_hand():
    from motionlab.core.body import SMPL22_PARENTS
    from motionlab.eval.metrics import bone_length_std, kinetic_features, multimodality

    emb = np.zeros((2, 2, 3))
    emb[0, 1] = [3.0, 4.0, 0.0]  # text 0: its two motions are 5 apart; text 1: identical
    assert multimodality(emb, n_pairs=2) == pytest.approx(2.5)
    T, fps = 10, 10.0
    p = np.zeros((T, 22, 3))
    p[:, :, 0] = np.arange(T)[:, None] * 0.2  # 2 m/s along x, constant
    k = kinetic_features(p, fps)
    np.testing.assert_allclose(k[:22], 2.0)  # 0.5 * 2^2
    np.testing.assert_allclose(k[22:], 0.0, atol=1e-12)
    q = np.random.default_rng(0).normal(size=(5, 22, 3))
    assert bone_length_std(np.repeat(q[:1], 5, 0), SMPL22_PARENTS) == pytest.approx(0.0, abs=1e-12)
    lengths = np.array([1.0, 2.0])
    two = np.zeros((2, 22, 3))
    two[:, 1, 0] = lengths  # moving the left hip changes pelvis->hip and hip->knee: std 0.5 each, 21 bones
    assert bone_length_std(two, SMPL22_PARENTS) == pytest.approx(2 * 0.5 / 21)


def test_difference_scales_weigh_every_channel_by_its_own_motion(data):
    from motionlab.recipes.t2m.model import t2m_losses

    v, a = data.difference_scales()
    assert v.shape == a.shape == (263,) and (v >= 0).all() and (a >= 0).all() and v.sum() > 0
    batch = next(iter(data.loader("train", batch_size=4)))
    x0, mask = batch["motion"], batch["mask"]
    mean, std = torch.as_tensor(data.normalizer.mean), torch.as_tensor(data.normalizer.std)
    scale = (torch.as_tensor(v), torch.as_tensor(a))
    # the same roughness on a smooth channel counts more than on a jumpy one once the terms are scaled
    calm, jumpy = int(np.argmin(np.where(v > 0.01 * v.mean(), v, np.inf))), int(np.argmax(v))
    noise = torch.randn(x0.shape[:2]) * 0.1
    rough = []
    for ch in (calm, jumpy):
        pred = x0.clone()
        pred[..., ch] += noise
        rough.append(t2m_losses(pred, x0, mask, mean, std, 20.0, scale)["acceleration"])
        plain = t2m_losses(pred, x0, mask, mean, std, 20.0)["acceleration"]
        assert plain > 0
    assert rough[0] > 2 * rough[1]
    assert t2m_losses(x0, x0, mask, mean, std, 20.0, scale)["velocity"] == pytest.approx(0.0, abs=1e-9)
    with pytest.raises(Exception, match="difference_scale"):
        from motionlab.recipes.t2m.lightning import T2MModule

        T2MModule(_cfg(overrides=["loss.difference_scale=sideways"]))


def test_evaluator_scores_motion_files_against_captions(runs, tmp_path):
    from motionlab.cli import main
    from motionlab.errors import MotionLabError
    from motionlab.recipes.t2m.tool import generate, write_motion
    from motionlab.recipes.t2m_evaluator.tool import read_motion_features, similarity

    run, ev = runs
    feats = generate(run, ["a person walks forward", "a person runs forward"], 30, steps=2)
    long = np.concatenate([feats[0]] * 6)  # longer than a training window: embedded window by window
    sim = similarity(ev, ["a person walks forward", "a person runs forward", "a person waves"],
                     [feats[0], feats[1], long])
    assert sim.shape == (3, 3) and np.all(np.abs(sim) <= 1 + 1e-6)
    write_motion(feats[0], tmp_path / "walk.npy", 20.0)
    write_motion(feats[1], tmp_path / "run.npz", 20.0)
    write_motion(feats[1], tmp_path / "run.bvh", 20.0)
    assert read_motion_features(tmp_path / "run.npz").shape == (30, 263)
    assert read_motion_features(tmp_path / "run.bvh").shape[1] == 263
    caps = tmp_path / "caps.txt"
    caps.write_text("a person runs forward\n")
    assert main(["t2m-score", str(tmp_path / "walk.npy"), str(tmp_path / "run.npz"), str(tmp_path / "run.bvh"),
                 "--evaluator", str(ev), "--text", "a person walks forward", "--texts", str(caps)]) == 0
    with pytest.raises(MotionLabError, match="not found"):
        read_motion_features(tmp_path / "missing.npy")
    with pytest.raises(SystemExit):
        main(["t2m-score", str(tmp_path / "walk.npy"), "--evaluator", str(ev)])


def test_absolute_heading_layout_round_trips_and_starts_every_window_at_zero(data, tiny_corpus):
    """``model.root_repr=absolute``: channel 0 holds each frame's heading (the yaw the rate layout integrates),
    the conversion back gives the same joints, and the normalised windows of that layout start at heading 0."""
    from motionlab.io import humanml3d as hml
    from motionlab.recipes.t2m.data import CaptionData, RootCodec, absolute_heading, rate_heading

    x = data.clips[0].features[:80]
    a = absolute_heading(x)
    yaw, _ = hml.recover_root(x)
    assert a.shape == x.shape and np.allclose(a[:, 0], yaw, atol=1e-5) and a[0, 0] == 0.0
    back = rate_heading(a)
    assert np.allclose(hml.recover_from_ric(back), hml.recover_from_ric(x), atol=1e-4)
    t = torch.tensor(a, requires_grad=True)
    rate_heading(t).sum().backward()  # the loss converts predictions back through it
    assert t.grad is not None
    absd = CaptionData(_cfg(overrides=[f"data.root={tiny_corpus}"]).data, "absolute")
    assert isinstance(absd.normalizer, RootCodec)
    item = absd.dataset("train")[0]
    raw = absd.normalizer.denormalize(item["motion"][:item["length"]].numpy())
    first = absd.dataset("train").raw(0)
    assert np.allclose(hml.recover_from_ric(raw)[:-1], hml.recover_from_ric(first)[:-1], atol=1e-3)
    assert absd.normalizer.std[0] > 10 * data.normalizer.std[0]  # headings spread far wider than rates
    with pytest.raises(Exception, match="absolute"):
        CaptionData(_cfg(overrides=[f"data.root={tiny_corpus}"]).data, "yaw")


def _fake_humanml3d(root: Path, clips) -> Path:
    """A HumanML3D folder as distributed (features, joints, captions, split files, Mean/Std of the rate layout)
    made of corpus clips' 263-d features; the first clip is the test split, the rest training."""
    from motionlab.io import humanml3d as hml

    for d in ("new_joint_vecs", "new_joints", "texts"):
        (root / d).mkdir(parents=True)
    ids = [f"{i:06d}" for i in range(len(clips))]
    for cid, c in zip(ids, clips):
        np.save(root / "new_joint_vecs" / f"{cid}.npy", c.features.astype(np.float32))
        np.save(root / "new_joints" / f"{cid}.npy", hml.recover_from_ric(c.features).astype(np.float32))
        (root / "texts" / f"{cid}.txt").write_text(f"{c.captions[0]}#a/DET person/NOUN#0.0#0.0\n")
    allf = np.concatenate([c.features for c in clips])
    np.save(root / "Mean.npy", allf.mean(0).astype(np.float32))
    np.save(root / "Std.npy", (allf.std(0) + 0.01).astype(np.float32))
    (root / "train.txt").write_text("\n".join(ids[1:]) + "\n")
    (root / "val.txt").write_text("")
    (root / "test.txt").write_text(ids[0] + "\n")
    return root


def test_absolute_heading_refits_a_humanml3d_folders_statistics(data, tmp_path):
    """A HumanML3D folder's ``Mean.npy``/``Std.npy`` are of the rate layout: with ``model.root_repr=absolute``
    channel 0's mean and std are refit to the training windows' cumulative headings and every other channel keeps
    the folder's; the codec turns the model's layout back into features with the same joints."""
    from motionlab.io import humanml3d as hml
    from motionlab.recipes.t2m.data import CaptionData, RootCodec, absolute_heading

    turning = sorted(data.clips, key=lambda c: -abs(float(hml.recover_root(c.features)[0][-1])))[:4]
    root = _fake_humanml3d(tmp_path / "HumanML3D", turning)
    over = [f"data.root={root}", "data.window=40", "data.stride=20", "data.min_frames=24"]
    rate = CaptionData(_cfg(overrides=over).data, "rate")
    absd = CaptionData(_cfg(overrides=over).data, "absolute")
    mean, std = np.load(root / "Mean.npy"), np.load(root / "Std.npy")
    assert np.allclose(rate.normalizer.mean, mean) and np.allclose(rate.normalizer.std, std)
    assert isinstance(absd.normalizer, RootCodec)
    assert np.allclose(absd.normalizer.mean[1:], mean[1:]) and np.allclose(absd.normalizer.std[1:], std[1:])
    theta = np.concatenate([absolute_heading(absd.clips[c].features[s:s + n])[:, 0]
                            for c, s, n in absd.index["train"]])
    assert abs(theta).max() > 0.5  # the clips turn: the refit is of real headings, not zeros
    assert absd.normalizer.mean[0] == pytest.approx(theta.mean(), abs=1e-5)
    assert absd.normalizer.std[0] == pytest.approx(theta.std(), rel=1e-4)
    assert absd.normalizer.std[0] > 10 * std[0]
    ds = absd.dataset("test")
    for i in range(len(ds)):
        item, raw = ds[i], ds.raw(i)
        n = item["length"]
        assert float(absd.normalizer.heading(item["motion"][None, :1])[0, 0]) == pytest.approx(0.0, abs=1e-5)
        back = absd.normalizer.denormalize(item["motion"][:n].numpy())
        assert np.allclose(hml.recover_from_ric(back), hml.recover_from_ric(raw), atol=1e-3)
