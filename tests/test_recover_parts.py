"""recover: metrics by hand, the geometry of targets and their decoding, augmented views, the motion
discriminator (shapes, batch/length 1, learning to reject implausible motion), the rotation fit and its
BVH (motionlab and bvhio agree)."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from motionlab.errors import MotionLabError


def _corpus_motion(tiny_corpus, kind="locomotion", k=0):
    from motionlab.data.synth.corpus import load_corpus
    from motionlab.io.npz import load_motion_npz

    clips = [c for c in load_corpus(tiny_corpus)["clips"] if c["kind"] == kind]
    return load_motion_npz(clips[k]["files"]["human"]), clips[k]


# --- metrics --------------------------------------------------------------------------------------

def test_jitter_by_hand():
    from motionlab.eval.metrics import jitter

    fps = 10.0
    x = np.zeros((6, 1, 3))
    x[:, 0, 0] = (np.arange(6) / fps) ** 3  # x = t^3: third difference = 6 / fps^3 per step
    assert jitter(x, fps) == pytest.approx(6.0)


def test_contact_foot_sliding_by_hand():
    from motionlab.eval.metrics import contact_foot_sliding

    gt = np.zeros((5, 1, 3))  # a planted foot: contact over every step
    pred = gt.copy()
    pred[:, 0, 0] = [0.0, 0.01, 0.02, 0.02, 0.02]  # slides 1 cm in two of four steps
    assert contact_foot_sliding(pred, gt, 30.0) == pytest.approx(5.0)  # mm per contact step
    lifted = gt.copy()
    lifted[..., 2] = 0.2
    assert contact_foot_sliding(pred, lifted, 30.0) == 0.0
    with pytest.raises(MotionLabError):
        contact_foot_sliding(pred[:1], gt[:1], 30.0)


# --- geometry -------------------------------------------------------------------------------------

def test_targets_decode_to_the_truth(tiny_corpus):
    from motionlab.core.files import load_npz
    from motionlab.eval.metrics import w_mpjpe
    from motionlab.io.keypoints import read_keypoints
    from motionlab.recipes.recover import geometry as G

    motion, clip = _corpus_motion(tiny_corpus)
    world = motion.positions()
    cam = load_npz(clip["files"]["camera_synthetic"])
    kp = read_keypoints(clip["files"]["keypoints_synthetic"])
    feat, box = G.track_inputs(kp.xy, kp.conf, cam["K"][0, 0], cam["K"][:2, 2], 0.1)
    tgt = torch.from_numpy(G.targets(world, cam["R"], cam["C"], box))
    parts = G.split(tgt)
    cam_j = G.camera_joints(parts, torch.from_numpy(box)).numpy()
    truth = np.einsum("tij,tnj->tni", cam["R"], world - cam["C"][:, None])
    np.testing.assert_allclose(cam_j, truth, atol=1e-4)
    # the integrated world trajectory equals the truth up to the first frame's yaw and origin
    wj, _ = G.world_joints(parts)
    assert w_mpjpe(wj.double().numpy(), world, chunk=10_000) < 1.0  # mm
    # projecting the truth gives the box-normalised inputs back (the limb joints COCO shares)
    proj = G.project(torch.from_numpy(truth), torch.from_numpy(box).double())[:, G.SMPL_OF_COCO]
    np.testing.assert_allclose(proj.numpy(), feat[:, G.COCO_LIMBS, :2], atol=1e-4)


def test_flip_is_an_involution_and_matches_a_mirrored_world():
    from motionlab.recipes.recover import adapt as A
    from motionlab.recipes.recover.geometry import OUT_DIM

    out = torch.randn(2, 5, OUT_DIM)
    torch.testing.assert_close(A.flip_output(A.flip_output(out)), out)
    feat, box = torch.randn(2, 5, 17, 3), torch.randn(2, 5, 3)
    f2, b2 = A.flip_input(*A.flip_input(feat, box))
    torch.testing.assert_close(f2, feat)
    torch.testing.assert_close(b2, box)


def _synthetic_window(tiny_corpus, T=48):
    """Lifter inputs and true outputs of the first ``T`` frames of a clean synthetic-domain track."""
    from motionlab.core.files import load_npz
    from motionlab.io.keypoints import read_keypoints
    from motionlab.recipes.recover import geometry as G

    motion, clip = _corpus_motion(tiny_corpus)
    cam = load_npz(clip["files"]["camera_synthetic"])
    kp = read_keypoints(clip["files"]["keypoints_synthetic"])
    feat, box = G.track_inputs(kp.xy, kp.conf, cam["K"][0, 0], cam["K"][:2, 2], 0.1)
    tgt = G.targets(motion.positions(), cam["R"], cam["C"], box)
    return torch.from_numpy(feat[None, :T]), torch.from_numpy(box[None, :T]), torch.from_numpy(tgt[None, :T])


def test_view_fit_finds_the_camera_tilt_a_prediction_missed(tiny_corpus):
    """The true body turned by a known tilt (as a lifter that never saw that view would place it): the
    fit finds the tilt back from the 2D alone, and undoing it gives the truth back."""
    from motionlab.recipes.recover import adapt as A
    from motionlab.recipes.recover import geometry as G

    feat, box, tgt = _synthetic_window(tiny_corpus)
    for deg in (-20.0, 15.0, 35.0):
        p = G.split(tgt)
        rel = A.rotate_pitch(p["rel"], torch.full((1,), np.radians(-deg)))
        wrong = torch.cat([rel.flatten(-2), tgt[..., G.J * 3:]], -1)
        angle, res = A.fit_view(wrong, feat, box, max_deg=60.0)
        assert float(angle) == pytest.approx(np.radians(deg), abs=np.radians(2.5)), (deg, float(angle))
        back = A.rotate_pitch(rel, angle)
        assert float((back - p["rel"]).norm(dim=-1).mean()) < 0.02  # m
        assert float(res) < 0.01


def test_review_source_turns_the_view_and_keeps_labels_consistent(tiny_corpus):
    """A labelled source window re-viewed 0 degrees is itself again; re-viewed 30 degrees from above, its
    camera tilt grows by 30 degrees, its new 2D is the projection of its new 3D labels, and the
    gravity-aligned labels do not change."""
    from motionlab.recipes.recover import geometry as G
    from motionlab.recipes.recover.inputs import TiltBank, review_source, window_pitch

    feat, box, tgt = _synthetic_window(tiny_corpus)
    g = torch.Generator().manual_seed(0)
    f0, b0, t0 = review_source(feat, box, tgt, torch.zeros(1), 0.0, g)
    for a, b in ((f0, feat), (b0, box), (t0, tgt)):
        torch.testing.assert_close(a, b, atol=1e-3, rtol=0)
    f1, b1, t1 = review_source(feat, box, tgt, torch.full((1,), np.radians(30.0)), 0.0, g)
    pitch = lambda t: float(window_pitch(G.split(t)["rel"], G.split(t)["canon"]))  # noqa: E731
    assert np.degrees(pitch(t1) - pitch(tgt)) == pytest.approx(30.0, abs=0.5)
    proj = G.project(G.camera_joints(G.split(t1), b1)[..., G.SMPL_OF_COCO, :], b1)
    torch.testing.assert_close(proj, f1[..., G.COCO_LIMBS, :2], atol=1e-4, rtol=0)
    torch.testing.assert_close(t1[..., G.J * 3 + 3:], tgt[..., G.J * 3 + 3:])
    bank = TiltBank(size=4)
    bank.add(torch.arange(6.0))
    assert bank.values.tolist() == [2.0, 3.0, 4.0, 5.0] and set(bank.draw(20, g).tolist()) <= {2.0, 3.0, 4.0, 5.0}


def test_label_free_target_losses_vanish_on_the_truth(tiny_corpus):
    """View consistency (camera-frame vs gravity-aligned head) and the bone-length prior are zero on the
    true outputs and grow when the heads disagree or the limbs shrink; rank selection keeps the top."""
    from motionlab.recipes.recover import adapt as A
    from motionlab.recipes.recover import geometry as G

    _, _, tgt = _synthetic_window(tiny_corpus)
    ref = G.bone_lengths(G.split(tgt)["rel"]).mean(dim=(0, 1))
    assert float(A.view_consistency_loss(tgt)) < 1e-4 and float(A.bone_prior_loss(tgt, ref)) < 0.02
    p = G.split(tgt)
    bent = p["rel"].clone()
    bent[..., 20:, :] = bent[..., 18:20, :]  # wrists pulled onto the elbows in the camera-frame head only
    bad = torch.cat([bent.flatten(-2), tgt[..., G.J * 3:]], -1)
    assert float(A.view_consistency_loss(bad)) > 0.01
    assert float(A.bone_prior_loss(bad, ref)) > float(A.bone_prior_loss(tgt, ref)) + 0.02
    conf = torch.tensor([0.9, 0.95, 0.97, 0.99])  # all above any absolute threshold
    torch.testing.assert_close(A.select_by_rank(conf, 0.5), torch.tensor([0.0, 0.0, 1.0, 1.0]))
    assert float(A.select_by_rank(conf, 1.0).sum()) == 1.0


def test_person_box_fills_frames_without_a_person():
    from motionlab.recipes.recover.geometry import person_box

    pn = np.random.default_rng(0).normal(size=(5, 17, 2))
    valid = np.ones((5, 17), bool)
    valid[2] = False
    box = person_box(pn, valid, sigma=0)
    assert np.isfinite(box).all()
    np.testing.assert_allclose(box[2], (box[1] + box[3]) / 2)
    assert person_box(pn, np.zeros((5, 17), bool)) is None


# --- input statistics -------------------------------------------------------------------------------

def test_target_input_model_measures_noise_by_confidence_and_pastes_masks():
    """On windows whose noise is known per confidence level, the target model measures it (second
    differences, source noise subtracted), and pasted patterns keep the target's masks and confidences."""
    from motionlab.recipes.recover.inputs import TargetInputModel, randomise_confidence

    rng = np.random.default_rng(0)
    N, T = 64, 32
    smooth = np.linspace(0, 1, T)[None, :, None, None] * rng.uniform(-0.2, 0.2, (N, 1, 17, 2))  # slow motion
    src = np.concatenate([smooth + rng.normal(0, 0.002, smooth.shape), np.ones((N, T, 17, 1))], -1)
    conf = rng.choice([0.3, 0.95], size=(N, T, 17))
    sigma = np.where(conf < 0.5, 0.03, 0.01)
    tgt = np.concatenate([smooth + rng.normal(size=smooth.shape) * sigma[..., None], conf[..., None]], -1)
    tgt[:, :, 3] = 0.0  # a joint the target detector always misses
    m = TargetInputModel(tgt.astype(np.float32), src.astype(np.float32))
    from motionlab.recipes.recover.inputs import CONF_EDGES

    lo, hi = np.searchsorted(CONF_EDGES, 0.3), np.searchsorted(CONF_EDGES, 0.95)
    assert float(m.sigma[lo]) == pytest.approx(0.03, rel=0.15) and float(m.sigma[hi]) == pytest.approx(0.01, rel=0.2)
    feat = torch.from_numpy(src[:8].astype(np.float32))
    out = m.apply(feat, torch.Generator().manual_seed(0), fraction=1.0)
    assert (out[:, :, 3] == 0).all()  # masked joints are all zero, never a position with confidence 0
    c = out[..., 2].numpy()
    assert (np.isclose(c, 0.0) | np.isclose(c, 0.3) | np.isclose(c, 0.95)).all()
    assert torch.equal(m.apply(feat, torch.Generator().manual_seed(0), fraction=0.0), feat)
    rnd = randomise_confidence(feat, torch.Generator().manual_seed(0), 1.0)
    c = rnd[..., 2]
    assert ((c == 0) | ((c >= 0.1) & (c <= 1))).all() and (c == 0).float().mean() > 0.02
    assert (rnd[c == 0] == 0).all()


# --- discriminator --------------------------------------------------------------------------------

def test_discriminator_shapes_batch_and_length_one():
    from motionlab.nn.discriminators import MotionDiscriminator

    d = MotionDiscriminator(7, hidden=8)
    for shape in ((1, 1, 7), (3, 1, 7), (1, 20, 7), (4, 9, 7)):
        c = d.confidence(torch.randn(*shape))
        assert c.shape == (shape[0],) and ((c >= 0) & (c <= 1)).all()
    x = torch.randn(2, 6, 7)
    mask = torch.ones(2, 6, dtype=torch.bool)
    mask[1, 3:] = False
    assert torch.isfinite(d(x, mask)).all() and not torch.allclose(d(x, mask), d(x))  # padding left out of the pooling
    with pytest.raises(MotionLabError):
        d(torch.randn(2, 0, 7))
    with pytest.raises(MotionLabError):
        d(torch.randn(2, 5, 6))
    with pytest.raises(MotionLabError):
        d(x, torch.zeros(2, 6, dtype=torch.bool))


def test_discriminator_separates_real_from_implausible_motion(tiny_corpus):
    """Trained briefly on training clips (real = true motion, fake = its implausible versions), it scores
    held-out true motion above held-out implausible motion (AUC > 0.9)."""
    from sklearn.metrics import roc_auc_score

    from motionlab.recipes.recover import adapt as A
    from motionlab.recipes.recover.config import RecoverConfig
    from motionlab.recipes.recover.data import corpus_tracks, windows
    from motionlab.recipes.recover.lightning import DISC_DIM
    from motionlab.nn.discriminators import MotionDiscriminator

    torch.manual_seed(0)
    cfg = RecoverConfig()
    tracks = corpus_tracks(cfg, ("train", "test"), ("synthetic",))
    train = [t for t in tracks if "/" in t.id and t.id.split("/")[0] not in {x.id.split("/")[0] for x in tracks[-6:]}]
    test = tracks[-6:]
    tr = torch.from_numpy(windows(train, 32, 8)["target"])
    te = torch.from_numpy(windows(test, 32, 16)["target"])
    d = MotionDiscriminator(DISC_DIM, 32)
    opt = torch.optim.Adam(d.parameters(), 3e-3)
    g = torch.Generator().manual_seed(0)
    for step in range(150):
        idx = torch.randint(0, len(tr), (32,), generator=g)
        real = tr[idx]
        loss = torch.nn.functional.softplus(-d(A.disc_features(real, 30.0))).mean() + \
            torch.nn.functional.softplus(d(A.disc_features(A.implausible(real, g), 30.0))).mean()
        opt.zero_grad()
        loss.backward()
        opt.step()
    with torch.no_grad():
        s_real = d.confidence(A.disc_features(te, 30.0))
        s_fake = d.confidence(A.disc_features(A.implausible(te, torch.Generator().manual_seed(1)), 30.0))
    auc = roc_auc_score(np.r_[np.ones(len(s_real)), np.zeros(len(s_fake))], np.r_[s_real.numpy(), s_fake.numpy()])
    assert auc > 0.9, auc
    assert float(s_real.mean()) > float(s_fake.mean()) + 0.3


# --- rotation fit and BVH -------------------------------------------------------------------------

def test_fit_recovers_rotations_and_bvh_agrees_with_bvhio(tiny_corpus, tmp_path):
    bvhio = pytest.importorskip("bvhio")
    from motionlab.io.bvh import read_bvh, write_bvh
    from motionlab.recipes.recover.fit import fit_motion

    motion, _ = _corpus_motion(tiny_corpus, k=1)
    joints = motion.positions()[:60]
    fitted, err = fit_motion(joints, motion.fps, iters=10)
    assert err < 1e-3  # the closed form is exact on a body of the same topology
    noisy = joints + np.random.default_rng(0).normal(0, 0.01, joints.shape)
    fitted_n, err_n = fit_motion(noisy, motion.fps, iters=20)
    bl = np.linalg.norm(np.diff(fitted_n.positions()[:, [0, 1]], axis=1), axis=-1)
    assert np.ptp(bl) < 1e-9  # fixed bone lengths
    assert err_n < 0.02
    path = tmp_path / "p.bvh"
    write_bvh(path, fitted)
    back = read_bvh(path)
    order = back.skeleton.indices(fitted.skeleton.names)  # BVH writes the joints depth first
    np.testing.assert_allclose(back.positions()[:, order], fitted.positions(), atol=1e-4)
    root = bvhio.readAsHierarchy(str(path))
    layout = root.layout()
    idx = [back.skeleton.index(j.Name) for j, _, _ in layout]
    for k in (0, 30, 59):
        root.loadPose(k)
        ref = np.array([tuple(j.PositionWorld) for j, _, _ in layout], dtype=float)
        ref = np.stack([ref[:, 0], -ref[:, 2], ref[:, 1]], -1) * back.meta["scale"]
        np.testing.assert_allclose(back.positions()[k, idx], ref, atol=2e-4)


def test_adversarial_gradient_is_capped_by_the_supervised_one():
    """``adapt.adv_grad_cap``: a sure critic's large -log D gradient is scaled to the cap times the supervised
    gradient at the lifter's output layer; a small one is left alone (factor 1); cap 0 turns it off."""
    from motionlab.recipes.recover.config import RecoverConfig
    from motionlab.recipes.recover.lightning import RecoverModule

    torch.manual_seed(0)
    cfg = RecoverConfig()
    cfg.model.width, cfg.model.depth = 16, 2
    module = RecoverModule(cfg)
    feat, box = torch.rand(2, 9, 17, 3), torch.rand(2, 9, 3)
    out = module.model(feat, box)
    sup = out.square().mean()
    last = module.model.out.weight

    def norm(loss):
        return torch.autograd.grad(loss, last, retain_graph=True)[0].norm()

    big = 1e4 * out.abs().mean()
    scale = module._adv_scale(sup, big)
    assert 0 < scale < 1 and not scale.requires_grad
    assert norm(scale * big) == pytest.approx(float(norm(sup)), rel=1e-4)
    assert module._adv_scale(sup, 1e-6 * out.mean()) == 1.0
    cfg.adapt.adv_grad_cap = 0.5
    assert norm(module._adv_scale(sup, big) * big) == pytest.approx(0.5 * float(norm(sup)), rel=1e-4)
    cfg.adapt.adv_grad_cap = 0.0
    assert module._adv_scale(sup, big) == 1.0


def test_adversarial_cap_with_a_target_output_layer():
    """With ``model.domain_outputs`` the adversarial term reads the target's output layer; when no labelled
    loss reaches that layer (``adapt.source_via_target=0``) the cap measures the supervised gradient at the
    source's layer instead of switching itself off."""
    from motionlab.recipes.recover.config import RecoverConfig
    from motionlab.recipes.recover.lightning import RecoverModule

    torch.manual_seed(0)
    cfg = RecoverConfig()
    cfg.model.width, cfg.model.depth, cfg.model.domain_inputs, cfg.model.domain_outputs = 16, 2, True, True
    module = RecoverModule(cfg)
    module.model.init_target_inputs()
    feat, box = torch.rand(2, 9, 17, 3), torch.rand(2, 9, 3)
    sup = module.model(feat, box).square().mean()  # source path only
    big = 1e4 * module.model(feat, box, domain="target").abs().mean()
    scale = module._adv_scale(sup, big)
    g_sup = torch.autograd.grad(sup, module.model.out.weight, retain_graph=True)[0].norm()
    g_adv = torch.autograd.grad(scale * big, module.model.out_target.weight, retain_graph=True)[0].norm()
    assert 0 < scale < 1 and float(g_adv) == pytest.approx(float(g_sup), rel=1e-4)


def test_domain_output_layers_follow_the_input_stages():
    """``model.domain_outputs``: the target's own output layer starts as a copy of the source's with its input
    stage, changes target outputs only, and belongs to the target's own parameters."""
    from motionlab.recipes.recover.model import Lifter

    torch.manual_seed(0)
    lifter = Lifter(width=16, depth=2, domain_inputs=True, domain_outputs=True).eval()
    feat, box = torch.rand(2, 9, 17, 3), torch.rand(2, 9, 3)
    with torch.no_grad():
        lifter.out_target.weight.add_(1.0)
    lifter.init_target_inputs()
    assert torch.equal(lifter.out_target.weight, lifter.out.weight)
    assert torch.equal(lifter(feat, box, domain="target"), lifter(feat, box))
    before = lifter(feat, box).detach()
    with torch.no_grad():
        lifter.out_target.bias.add_(0.5)
    assert torch.equal(lifter(feat, box), before)
    assert torch.allclose(lifter(feat, box, domain="target"), before + 0.5, atol=1e-5)
    own = {id(p) for p in lifter.target_stage_parameters()}
    assert id(lifter.out_target.weight) in own and id(lifter.out.weight) not in own
    with pytest.raises(MotionLabError, match="needs model.domain_inputs"):
        Lifter(width=16, depth=2, domain_outputs=True)


def test_domain_input_stages_keep_the_source_path():
    """``model.domain_inputs``: until adaptation copies the source's input stage the target reads the source
    stage; a changed target stage changes target outputs only and the source path sends no gradient to it;
    a wrong domain name lists the valid ones."""
    from motionlab.recipes.recover.model import Lifter

    torch.manual_seed(0)
    lifter = Lifter(width=16, depth=2, domain_inputs=True).eval()
    feat, box = torch.rand(2, 9, 17, 3), torch.rand(2, 9, 3)
    with torch.no_grad():
        lifter.inp_target.weight.add_(1.0)  # not ready yet: ignored
    assert torch.equal(lifter(feat, box, domain="target"), lifter(feat, box))
    lifter.init_target_inputs()
    assert torch.equal(lifter.inp_target.weight, lifter.inp.weight)
    before = lifter(feat, box).detach()
    with torch.no_grad():
        lifter.inp_target.weight.mul_(1.5)
    assert torch.equal(lifter(feat, box), before)
    assert not torch.allclose(lifter(feat, box, domain="target"), before)
    lifter(feat, box).square().mean().backward()
    own = {id(p) for p in lifter.target_stage_parameters()}
    for name, p in lifter.named_parameters():
        assert (p.grad is not None and p.grad.abs().sum() > 0) != (id(p) in own), name
    with pytest.raises(MotionLabError, match="source"):
        lifter(feat, box, domain="real")
    state = Lifter(width=16, depth=2, domain_inputs=True)
    state.load_state_dict(lifter.state_dict())
    assert bool(state.target_ready)


def test_anchor_pulls_the_shared_weights_toward_the_source_only_ones():
    """``adapt.anchor_decay``: the anchor holds every lifter weight but the target's own stage, and each pull
    moves the anchored weights that fraction of the way back; the target's stage moves freely."""
    from motionlab.recipes.recover.adapt import anchor_values, pull_toward
    from motionlab.recipes.recover.model import Lifter

    torch.manual_seed(0)
    lifter = Lifter(width=16, depth=2, domain_inputs=True, domain_outputs=True)
    lifter.init_target_inputs()
    anchor = anchor_values(lifter, {n: p.detach() for n, p in lifter.named_parameters()})
    own = {id(p) for p in lifter.target_stage_parameters()}
    names = {n for n, p in lifter.named_parameters() if id(p) not in own}
    assert set(anchor) == names and len(names) < len(list(lifter.parameters()))
    before = {n: p.detach().clone() for n, p in lifter.named_parameters()}
    with torch.no_grad():
        for p in lifter.parameters():
            p.add_(1.0)
    pull_toward(lifter, anchor, 0.25)
    for n, p in lifter.named_parameters():
        expect = before[n] + (0.75 if n in anchor else 1.0)
        assert torch.allclose(p, expect, atol=1e-6), n
    pull_toward(lifter, anchor, 5.0)  # clamped: all the way back
    assert all(torch.equal(p, before[n]) for n, p in lifter.named_parameters() if n in anchor)


def test_anchor_after_a_resume_reads_the_source_only_checkpoint(tmp_path):
    """Resumed past ``adapt.start_step`` the anchor comes from ``checkpoints/source_only.ckpt``, not from the
    (already adapted) weights in memory; without that file it is a clear error, not a silent re-anchoring."""
    from types import SimpleNamespace

    from motionlab.errors import MotionLabError
    from motionlab.recipes.recover.config import RecoverConfig
    from motionlab.recipes.recover.lightning import SOURCE_ONLY_CKPT, RecoverModule

    torch.manual_seed(0)
    cfg = RecoverConfig()
    cfg.model.width, cfg.model.depth, cfg.model.domain_inputs = 16, 2, True
    module = RecoverModule(cfg)
    module._trainer = SimpleNamespace(default_root_dir=str(tmp_path), global_step=cfg.adapt.start_step + 10)
    with pytest.raises(MotionLabError, match="source_only.ckpt is missing"):
        module._anchor_values()
    (tmp_path / "checkpoints").mkdir()
    torch.save({"state_dict": module.state_dict()}, tmp_path / "checkpoints" / SOURCE_ONLY_CKPT)
    saved = {n: p.detach().clone() for n, p in module.model.named_parameters()}
    with torch.no_grad():
        for p in module.model.parameters():
            p.add_(1.0)  # "adapted" since
    anchor = module._anchor_values()
    assert anchor and all(torch.equal(v, saved[n]) for n, v in anchor.items())
