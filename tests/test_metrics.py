"""Hand-computed cases for every metric in motionlab.eval.metrics."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from motionlab.core.rotations import axis_angle_to_matrix, euler_to_matrix
from motionlab.errors import MotionLabError
from motionlab.eval import metrics as M


def _rot(axis, deg):
    aa = np.asarray(axis, dtype=np.float64)
    return axis_angle_to_matrix(aa / np.linalg.norm(aa) * math.radians(deg))


def _skeleton_cloud(seed=0, T=10, J=6):
    rng = np.random.default_rng(seed)
    return rng.normal(size=(T, J, 3))


# ------------------------------------------------------------------------------ motion quality
def test_finite_differences_of_polynomials():
    fps = 10.0
    t = np.arange(20) / fps
    a, b, c = 2.0, -1.5, 0.7
    x = a * t**3 + b * t**2 + c * t
    np.testing.assert_allclose(M.jerk(x, fps), 6 * a, atol=1e-8)
    np.testing.assert_allclose(M.acceleration(b * t**2, fps), 2 * b, atol=1e-9)
    np.testing.assert_allclose(M.velocity(c * t + 3.0, fps), c, atol=1e-12)
    assert M.jerk(x, fps).shape == (17,)
    assert M.velocity(np.zeros((5, 4, 3)), 30).shape == (4, 4, 3)


def test_mean_jerk_positions_and_angles():
    fps = 20.0
    t = np.arange(30) / fps
    pos = np.zeros((30, 2, 3))
    pos[:, 0, 0] = 0.5 * t**3          # jerk 3 along x
    pos[:, 1, 1] = -0.5 * t**3         # jerk -3 along y: magnitude 3
    assert M.mean_jerk(pos, fps) == pytest.approx(3.0, abs=1e-6)
    assert M.jitter(pos, fps) == pytest.approx(3.0, abs=1e-6)
    ang = np.stack([-(t**3), 0 * t], axis=1)  # |6a| = 6 and 0 -> mean 3
    assert M.mean_jerk(ang, fps, kind="angles") == pytest.approx(3.0, abs=1e-6)
    with pytest.raises(MotionLabError, match="valid choices"):
        M.mean_jerk(pos, fps, kind="quats")
    with pytest.raises(MotionLabError):
        M.mean_jerk(ang, fps)  # angles are not 3-vectors


def _sliding_feet():
    """T=21 frames at 20 fps; foot 0 slides at 1 m/s for 10 steps then stands; foot 1 is in the air."""
    T = 21
    feet = np.zeros((T, 2, 3))
    feet[:, 0, 2] = 0.01
    feet[:11, 0, 0] = np.arange(11) * 0.05  # 0.05 m per step at 20 fps = 1 m/s
    feet[11:, 0, 0] = 0.5
    feet[:, 1, 2] = 0.30
    feet[:, 1, 1] = np.arange(T) * 0.1       # fast, but never in contact
    return feet


def test_foot_skating_ratio_constructed_slide():
    feet = _sliding_feet()
    # steps 0..9 skate (the 5-frame mean at step 9 is 3/5 m/s > 0.5); steps 10..19 do not
    assert M.foot_skating_ratio(feet, 20) == pytest.approx(10 / 20)
    # lifting the foot to 10 cm at frame 5 breaks contact for steps 4 and 5
    lifted = feet.copy()
    lifted[5, 0, 2] = 0.10
    assert M.foot_skating_ratio(lifted, 20) == pytest.approx(8 / 20)
    # a slow slide (0.4 m/s) is not skating
    slow = feet.copy()
    slow[:11, 0, 0] = np.arange(11) * 0.02
    slow[11:, 0, 0] = 0.2
    assert M.foot_skating_ratio(slow, 20) == 0.0
    # batch form, torch input
    out = M.foot_skating_ratio(torch.tensor(np.stack([feet, slow])), 20)
    np.testing.assert_allclose(out, [0.5, 0.0])


def test_height_weighted_sliding_hand_case():
    foot = np.array([[0.00, 0, 0.00], [0.01, 0, 0.00], [0.02, 0, 0.04]])
    # step 0: h = 0 -> weight 1; step 1: h = 0.02 -> weight 2 - 2**0.25
    expected = (0.01 * 1.0 + 0.01 * (2 - 2**0.25)) / 3 * 1000
    assert M.height_weighted_sliding_mm(foot, H=0.08) == pytest.approx(expected)
    high = foot.copy()
    high[:, 2] = 0.10
    assert M.height_weighted_sliding_mm(high, H=0.08) == 0.0
    two = np.stack([foot, high], axis=1)  # (T, 2, 3)
    np.testing.assert_allclose(M.height_weighted_sliding_mm(two, H=[0.08, 0.04], reduce=False), [expected, 0.0])
    assert M.height_weighted_sliding_mm(two, H=0.08) == pytest.approx(expected / 2)


def test_ground_penetration():
    z = np.array([0.0, -0.005, -0.02, 0.01])
    pts = np.zeros((4, 3, 3))
    pts[:, :, 2] = 0.2
    pts[:, 1, 2] = z
    frac, low = M.ground_penetration(pts)
    assert frac == pytest.approx(0.25) and low == pytest.approx(-0.02)
    assert M.ground_penetration(z).fraction == pytest.approx(0.25)


def test_seam_discontinuity():
    fps, T = 10.0, 100
    x = np.zeros((T, 1, 3))
    x[:, 0, 0] = np.arange(T) * 0.1      # 1 m/s
    assert M.seam_discontinuity(x, [50], fps) == pytest.approx(1.0)
    jumped = x.copy()
    jumped[50:, 0, 0] += 0.5             # position jump at the seam: 6 m/s across it
    assert M.seam_discontinuity(jumped, [50], fps) == pytest.approx(6.0)
    assert M.seam_discontinuity(jumped[:, 0, 0], [25, 50, 75], fps) == pytest.approx((1 + 6 + 1) / 3)
    # acceleration view: a velocity kink at the seam, smooth elsewhere
    t = np.arange(T) / fps
    v = np.where(np.arange(T) < 50, 1.0, 2.0)
    y = np.concatenate([[0.0], np.cumsum(v[1:] / fps)]) + 0.01 * t**2  # base acceleration 0.02 m/s^2
    assert M.seam_discontinuity(y, [50], fps, order=2) == pytest.approx((10.0 + 0.02) / 0.02, rel=1e-6)
    with pytest.raises(MotionLabError):
        M.seam_discontinuity(x, [0], fps)
    with pytest.raises(MotionLabError):
        M.seam_discontinuity(x, [], fps)


# ---------------------------------------------------------------------------------- tokenizers
def test_perplexity_and_dead_codes():
    K = 16
    uniform = M.code_usage(np.arange(K).repeat(3), K)
    assert M.perplexity(uniform) == pytest.approx(K)
    assert M.dead_code_ratio(uniform) == 0.0
    one = M.code_usage(np.full((4, 5), 7), K)
    assert one[7] == 20 and one.sum() == 20
    assert M.perplexity(one) == pytest.approx(1.0)
    assert M.dead_code_ratio(one) == pytest.approx(1 - 1 / K)
    # p = (1/4, 1/4, 1/2): exp(entropy) = 2**1.5
    assert M.perplexity([1, 1, 2]) == pytest.approx(2**1.5)
    # negatives (dropped levels) ignored; torch accepted
    assert M.code_usage(torch.tensor([0, -1, 1]), 3).tolist() == [1, 1, 0]
    with pytest.raises(MotionLabError):
        M.code_usage([0, 3], 3)
    with pytest.raises(MotionLabError):
        M.perplexity([0, 0])


def test_per_level_usage():
    idx = np.stack([np.arange(8) % 4, np.zeros(8, dtype=int)], axis=1)  # (N, L=2)
    counts = M.code_usage_per_level(idx, 4)
    assert [c.tolist() for c in counts] == [[2, 2, 2, 2], [8, 0, 0, 0]]
    assert M.perplexity_per_level(counts) == pytest.approx([4.0, 1.0])
    assert M.dead_code_ratio_per_level(counts) == pytest.approx([0.0, 0.75])
    summary = M.residual_usage(idx, [4, 4])
    assert summary["perplexity/0"] == pytest.approx(4.0)
    assert summary["perplexity_mean"] == pytest.approx(2.5)
    assert summary["perplexity_joint"] == pytest.approx(4.0)
    assert summary["dead_code_ratio_mean"] == pytest.approx(0.375)
    with pytest.raises(MotionLabError):
        M.code_usage_per_level(idx, [4, 4, 4])


def test_usage_summary_one_protocol_for_every_recipe():
    # one level: codes 0,0,1,3 of 4 -> p = (.5, .25, 0, .25), ppl = 2^1.5, one dead code of 4
    one = M.usage_summary(np.array([[0, 0], [1, 3]]), 4)
    assert one == pytest.approx({"perplexity": 2 ** 1.5, "perplexity_joint": 2 ** 1.5, "dead_code_ratio": 0.25})
    assert M.usage_summary(np.array([0, 0, 1, 3]), [4]) == one
    # two levels of 4: level 0 uniform (ppl 4, none dead), level 1 one code (ppl 1, 3 of 4 dead);
    # the tuples (0,0),(1,0),(2,0),(3,0) are 4 distinct codes -> joint ppl 4
    idx = np.stack([np.arange(8) % 4, np.zeros(8, dtype=int)], axis=1)
    two = M.usage_summary(idx, [4, 4])
    assert two["perplexity"] == pytest.approx(2.5) and two["perplexity_joint"] == pytest.approx(4.0)
    assert two["dead_code_ratio"] == pytest.approx(0.375)
    assert two["perplexity/1"] == pytest.approx(1.0) and two["dead_code_ratio/1"] == pytest.approx(0.75)
    assert two["perplexity/0"] == pytest.approx(4.0) and two["dead_code_ratio/0"] == 0.0
    with pytest.raises(MotionLabError):
        M.usage_summary(idx, [4, 4, 4])


def test_jerk_gap():
    assert M.jerk_gap(3.0, 2.0) == pytest.approx(0.5)
    assert M.jerk_gap(1.0, 2.0) == pytest.approx(0.5)
    assert M.jerk_gap(2.0, 2.0) == 0.0
    # a constant (mean) pose has zero jerk: the raw jerk would call it perfectly smooth, the gap calls it 1
    T = 20
    gt = np.sin(np.arange(T) / 3.0)[:, None] * np.ones((1, 4))
    mean_pose = np.broadcast_to(gt.mean(axis=0), gt.shape)
    assert M.mean_jerk(mean_pose, 30.0, kind="angles") == 0.0
    assert M.jerk_gap(M.mean_jerk(mean_pose, 30.0, "angles"), M.mean_jerk(gt, 30.0, "angles")) == 1.0
    with pytest.raises(MotionLabError):
        M.jerk_gap(1.0, 0.0)
    assert M.METRIC_DIRECTIONS["jerk_gap"] == "lower"
    assert M.METRIC_DIRECTIONS["domain_separability"] == "lower"


def test_recon_mse_and_mpjpe():
    assert M.recon_mse([[1.0, 2.0]], [[0.0, 0.0]]) == pytest.approx(2.5)
    gt = _skeleton_cloud()
    pred = gt + np.array([0.01, 0.0, 0.0])
    assert M.mpjpe(pred, gt) == pytest.approx(10.0)
    assert M.mpjpe(pred, gt, root=0) == pytest.approx(0.0, abs=1e-9)
    pred2 = gt.copy()
    pred2[:, 3] += np.array([0.0, 0.03, 0.04])  # one of 6 joints off by 5 cm
    assert M.mpjpe(pred2, gt) == pytest.approx(50.0 / 6)
    # root = mean of joints 1 and 2 (hips): joint 3 is not part of the root, so unchanged
    assert M.mpjpe(pred2, gt, root=[1, 2]) == pytest.approx(50.0 / 6)
    with pytest.raises(MotionLabError):
        M.mpjpe(pred, gt[:, :5])
    with pytest.raises(MotionLabError):
        M.mpjpe(pred, gt, root=9)


def test_pa_mpjpe_similarity_invariance():
    gt = _skeleton_cloud(1)
    R = _rot([1, 2, 3], 70)
    pred = 1.7 * gt @ R.T + np.array([0.3, -2.0, 1.0])
    assert M.pa_mpjpe(pred, gt) == pytest.approx(0.0, abs=1e-6)
    assert M.mpjpe(pred, gt) > 100
    # a mirror image is not a similarity transform
    mirror = gt * np.array([1.0, -1.0, 1.0])
    assert M.pa_mpjpe(mirror, gt) > 1.0
    # per-frame: different transforms per frame still give 0
    Rs = np.stack([_rot([0, 0, 1], 10 * i) for i in range(gt.shape[0])])
    pred_f = np.einsum("tij,tnj->tni", Rs, gt) * np.arange(1, 11)[:, None, None]
    assert M.pa_mpjpe(pred_f, gt) == pytest.approx(0.0, abs=1e-6)


def test_similarity_align_against_scipy_oracle():
    from scipy.spatial.transform import Rotation

    rng = np.random.default_rng(3)
    src, dst = rng.normal(size=(12, 3)), rng.normal(size=(12, 3))
    s0, d0 = src - src.mean(0), dst - dst.mean(0)
    rot, _ = Rotation.align_vectors(d0, s0)
    R = rot.as_matrix()
    scale = np.sum(d0 * (s0 @ R.T)) / np.sum(s0**2)
    oracle = scale * s0 @ R.T + dst.mean(0)
    np.testing.assert_allclose(M.similarity_align(src, dst), oracle, atol=1e-9)
    np.testing.assert_allclose(M.similarity_align(src, dst, with_scale=False), s0 @ R.T + dst.mean(0), atol=1e-9)


def test_accel_error():
    fps = 30.0
    gt = np.zeros((10, 2, 3))
    t = np.arange(10) / fps
    pred = gt.copy()
    pred[:, :, 0] = 0.5 * 4.0 * t[:, None] ** 2  # 4 m/s^2 on every joint
    assert M.accel_error(pred, gt, fps) == pytest.approx(4.0)
    assert M.accel_error(pred, gt, fps, root=0) == pytest.approx(0.0, abs=1e-9)


# --------------------------------------------------------------------- rotations / prediction
def test_geodesic_deg():
    R = np.stack([_rot([0, 0, 1], 30), _rot([1, 1, 0], 170)])
    I = np.repeat(np.eye(3)[None], 2, axis=0)
    np.testing.assert_allclose(M.geodesic_deg(R, I, reduce=False), [30.0, 170.0], atol=1e-9)
    assert M.geodesic_deg(R, I) == pytest.approx(100.0)
    E = euler_to_matrix(np.array([0.2, 0.0, 0.0]), "ZYX")
    assert M.geodesic_deg(E @ R[0], R[0]) == pytest.approx(math.degrees(0.2))
    with pytest.raises(MotionLabError):
        M.geodesic_deg(np.eye(3)[None], np.eye(3)[None, :2])


def test_yaw_abs_deg_wraps():
    assert M.yaw_abs_deg([179.0], [-179.0]) == pytest.approx(2.0)
    assert M.yaw_abs_deg([-179.0, 10.0], [179.0, 30.0]) == pytest.approx(11.0)
    assert M.yaw_abs_deg([math.pi - 0.01], [-math.pi + 0.01], degrees=False) == pytest.approx(math.degrees(0.02))
    assert M.wrap_deg(180.0) == pytest.approx(-180.0)
    assert M.wrap_deg(-540.0) == pytest.approx(-180.0)


def test_root_vel_mae():
    pred = np.array([[1.0, 0.0, 5.0], [0.0, 2.0, 0.0]])
    true = np.array([[0.0, 0.0, 0.0], [0.0, 1.0, 0.0]])
    assert M.root_vel_mae(pred, true) == pytest.approx((1 + 0 + 0 + 1) / 4)  # z ignored
    pos_t = np.stack([np.arange(5) * 0.1, np.zeros(5)], axis=1)     # 1 m/s at 10 fps
    pos_p = np.stack([np.arange(5) * 0.12, np.zeros(5)], axis=1)    # 1.2 m/s
    assert M.root_vel_mae(pos_p, pos_t, fps=10) == pytest.approx(0.2 / 2)


# -------------------------------------------------------------------------------- retargeting
def test_joint_errors():
    gt = np.zeros((2, 2))
    pred = np.array([[1.0, -2.0], [3.0, 0.0]])
    mae = M.joint_mae(pred, gt)
    assert mae.overall == pytest.approx(1.5)
    np.testing.assert_allclose(mae.per_joint, [2.0, 1.0])
    rmse = M.joint_rmse(pred, gt)
    assert rmse.overall == pytest.approx(math.sqrt(14 / 4))
    np.testing.assert_allclose(rmse.per_joint, [math.sqrt(5), math.sqrt(2)])


def test_normalized_mse():
    rng = np.random.default_rng(0)
    gt = rng.normal(size=(500, 3)) * np.array([1.0, 10.0, 0.1])
    pred = gt + gt.std(axis=0)  # one std off in every dimension
    assert M.normalized_mse(pred, gt) == pytest.approx(1.0, rel=1e-6)
    assert M.normalized_mse(gt + 2.0, gt, mean=np.zeros(3), std=np.full(3, 2.0)) == pytest.approx(1.0, rel=1e-6)


def test_limit_violations():
    q = np.array([[0.0, 0.0], [1.5, 0.0], [0.0, -1.2], [0.0, 0.0]])
    v = M.limit_violations(q, lower=[-1.0, -1.0], upper=[1.0, 1.0])
    assert v.fraction == pytest.approx(0.5)
    assert v.max_excess == pytest.approx(0.5)
    np.testing.assert_allclose(v.per_joint, [0.5, 0.2])
    assert M.limit_violations(q, [-1, -1], [1, 1], tol=0.6).fraction == 0.0
    with pytest.raises(MotionLabError):
        M.limit_violations(q, [1, 1], [-1, -1])


def test_velocity_limit_violations():
    q = np.array([[0.0, 0.0], [0.1, 0.0], [0.1, 0.3], [0.1, 0.3]])  # at 100 fps: 10 and 30 rad/s steps
    v = M.velocity_limit_violations(q, 100, [20.0, 22.0])
    assert v.fraction == pytest.approx(1 / 3)
    assert v.max_excess == pytest.approx(8.0)
    assert M.velocity_limit_violations(q, 100, 32.0).fraction == 0.0


def test_domain_overlap():
    rng = np.random.default_rng(0)
    a, b = rng.normal(size=(300, 4)), rng.normal(size=(300, 4))
    far = b + 50.0
    assert M.domain_overlap(a, far, method="classifier") == pytest.approx(1.0)
    assert M.domain_overlap(a, far, method="knn", k=5) == pytest.approx(1.0)
    assert 0.4 < M.domain_overlap(a, b, method="classifier") < 0.6
    assert 0.4 < M.knn_domain_mixing(a, b, k=10) < 0.6
    with pytest.raises(MotionLabError, match="valid choices"):
        M.domain_overlap(a, b, method="tsne")


# --------------------------------------------------------------------------------- generation
def test_frechet_distance_of_gaussians():
    mu1, mu2 = np.zeros(2), np.array([1.0, 2.0])
    s1, s2 = np.diag([1.0, 4.0]), np.diag([4.0, 1.0])
    # |mu|^2 = 5; traces 5 + 5; sqrt(S1 S2) = diag(2, 2)
    assert M.frechet_distance_from_stats(mu1, s1, mu2, s2) == pytest.approx(7.0)
    # samples: a = [-1, 1] (mean 0, var 2), b = [1, 5] (mean 3, var 8): 9 + 2 + 8 - 2*4
    assert M.frechet_distance([[-1.0], [1.0]], [[1.0], [5.0]]) == pytest.approx(11.0)
    rng = np.random.default_rng(0)
    x = rng.normal(size=(400, 5))
    assert M.frechet_distance(x, x) == pytest.approx(0.0, abs=1e-6)
    # fewer samples than dimensions: singular covariances, still finite and real
    assert math.isfinite(M.frechet_distance(rng.normal(size=(4, 8)), rng.normal(size=(5, 8))))


def test_diversity():
    assert M.diversity(np.ones((400, 8))) == 0.0
    rng = np.random.default_rng(1)
    x = rng.normal(size=(2000, 100))
    # E||x - y|| for independent N(0, I_100) ~ sqrt(2 * 100) (slightly less)
    d = M.diversity(x, seed=3)
    assert d == pytest.approx(math.sqrt(200), rel=0.03)
    assert M.diversity(2 * x, seed=3) == pytest.approx(2 * d)
    assert M.diversity(x, seed=3) == d


def test_l1_diversity():
    assert M.l1_diversity([[0.0], [2.0]]) == pytest.approx(1.0)
    x = np.zeros((4, 2, 3))
    x[:2, 0, 0] = 1.0  # one coordinate: values 1, 1, 0, 0 -> mean 0.5, |dev| 0.5
    assert M.l1_diversity(x) == pytest.approx(0.5)
    assert M.l1_diversity([x[:2], x[2:]]) == pytest.approx(0.5)


def _beat_motion(fps=30.0, seconds=12.0, period=1.0):
    """Joints whose speed is 1.5 - cos(2 pi (t - 0.5) / P): minima (0.5) at every t = k P + 0.5."""
    T = int(seconds * fps) + 1
    t = np.arange(T) / fps
    x = np.zeros((T, 2, 3))
    x[:, 0, 0] = 1.5 * t - period / (2 * math.pi) * np.sin(2 * math.pi * (t - 0.5) / period)
    x[:, 1, 1] = x[:, 0, 0]
    return x


def test_motion_beats_are_the_speed_minima():
    beats = M.motion_beats(_beat_motion(), 30.0, [0], mean_speed=1.0)
    # 2 s skipped at each end (T = 361 frames: frames 60..300 searched)
    np.testing.assert_allclose(beats[0], np.arange(2.5, 10.0), atol=1e-9)
    # a minimum on the edge of the searched frames is no strict extremum of order 7 (protocol)
    edge = M.motion_beats(_beat_motion(), 30.0, [0], skip_s=2.5, mean_speed=1.0)[0]
    np.testing.assert_allclose(edge, np.arange(3.5, 9.0), atol=1e-9)
    # minimum speed ~0.5 is below a 0.6 threshold: no beats
    assert M.motion_beats(_beat_motion(), 30.0, [0], threshold=0.6, mean_speed=1.0)[0].size == 0


def test_beat_consistency_hand_case():
    x = _beat_motion()
    onsets = np.arange(0.5, 12.0, 1.0)  # those in [2 s, 10 s] count: 2.5 .. 9.5
    bc0 = M.beat_consistency(x, 30.0, onsets, joints=[0, 1], mean_speed=1.0)
    assert bc0 == pytest.approx(1.0)
    prev = bc0
    for delta in (0.1, 0.2, 0.3):
        bc = M.beat_consistency(x, 30.0, onsets + delta, joints=[0, 1], mean_speed=1.0)
        assert bc == pytest.approx(math.exp(-delta**2 / (2 * 0.3**2)), rel=1e-9)
        assert bc < prev
        prev = bc
    # a joint without beats scores 0: mean over joints halves
    assert M.beat_consistency(x, 30.0, onsets, joints=[0], threshold=0.3, mean_speed=[1.0, 10.0]) == 1.0
    assert M.beat_consistency(x, 30.0, onsets, joints=[0, 1], mean_speed=[1.0, 10.0]) == pytest.approx(0.5)
    assert math.isnan(M.beat_consistency(x, 30.0, [0.5, 11.5], joints=[0], mean_speed=1.0))
    # onsets inside the skipped first 2 s are ignored: only the one at 2.5 s (on a beat) scores
    assert M.beat_consistency(x, 30.0, [2.5, 1.0], joints=[0], mean_speed=1.0) == pytest.approx(1.0)
    assert M.frame_weighted_mean([1.0, 0.0, float("nan")], [300, 100, 50]) == pytest.approx(0.75)


def test_audio_onsets_find_clicks():
    sr = 22050
    y = np.zeros(3 * sr, dtype=np.float32)
    rng = np.random.default_rng(0)
    for t0 in (0.5, 1.25, 2.0):
        i = int(t0 * sr)
        y[i:i + 2000] = rng.normal(size=2000) * np.exp(-np.arange(2000) / 300.0)
    on = M.audio_onsets(y, sr)
    assert len(on) == 3
    np.testing.assert_allclose(on, [0.5, 1.25, 2.0], atol=0.05)


def test_r_precision_and_mm_dist():
    rng = np.random.default_rng(0)
    e = rng.normal(size=(64, 8))
    np.testing.assert_allclose(M.r_precision(e, e), [1.0, 1.0, 1.0])
    # batch of 2: each text is nearer the other motion -> top-1 0, top-2 1
    text = np.array([[0.0], [1.0]])
    motion = np.array([[0.9], [0.1]])
    np.testing.assert_allclose(M.r_precision(text, motion, top_k=2, batch=2), [0.0, 1.0])
    # incomplete last batch dropped: the fifth pair (a miss) does not count
    text5 = np.array([[0.0], [10.0], [20.0], [30.0], [40.0]])
    motion5 = text5.copy()
    motion5[4] = 1000.0
    np.testing.assert_allclose(M.r_precision(text5, motion5, top_k=1, batch=2), [1.0])
    assert M.multimodal_distance(text, motion) == pytest.approx(0.9)
    with pytest.raises(MotionLabError):
        M.r_precision(e[:10], e[:10])


def test_speed_and_turn_by_hand():
    # hips 0.2 m apart (joint 1 left, joint 2 right), the body facing +X and walking along it at 1 m/s
    T, fps = 21, 10.0
    p = np.zeros((T, 22, 3))
    p[:, 0, 0] = np.arange(T) / fps
    p[:, 1] = p[:, 0] + [0.0, 0.1, 0.0]
    p[:, 2] = p[:, 0] - [0.0, 0.1, 0.0]
    speed, turn = M.speed_and_turn(p, fps)
    assert speed == pytest.approx(1.0) and turn == pytest.approx(0.0, abs=1e-9)
    # standing, turning left (counter-clockwise) by 4.5 deg a frame: heading 0 .. 90 deg; the first and last
    # tenth (2 frames) average 2.25 and 87.75 deg
    a = np.radians(4.5 * np.arange(T))
    p = np.zeros((T, 22, 3))
    p[:, 1, :2] = 0.1 * np.stack([-np.sin(a), np.cos(a)], -1)
    p[:, 2, :2] = -p[:, 1, :2]
    speed, turn = M.speed_and_turn(p, fps)
    assert speed == pytest.approx(0.0) and turn == pytest.approx(85.5)
    np.testing.assert_allclose(np.degrees(M.hip_heading(p)), 4.5 * np.arange(T), atol=1e-9)
    _, right = M.speed_and_turn(p[::-1], fps)  # the same turn played backwards turns right
    assert right == pytest.approx(-85.5)

def test_mean_ci95():
    m, ci = M.mean_ci95([1.0, 2.0, 3.0])
    assert m == pytest.approx(2.0)
    assert ci == pytest.approx(1.96 * math.sqrt(2 / 3) / math.sqrt(3))


# ----------------------------------------------------------------------------------- recovery
def test_w_mpjpe_aligns_on_first_two_frames():
    gt = _skeleton_cloud(2, T=10)
    R = _rot([0, 0, 1], 40)
    moved = gt @ R.T + np.array([1.0, 2.0, 0.0])   # a rigid copy: zero error
    assert M.w_mpjpe(moved, gt) == pytest.approx(0.0, abs=1e-6)
    drift = gt.copy()
    drift[2:] += np.array([0.01, 0.0, 0.0])        # 1 cm off from frame 2 on
    assert M.w_mpjpe(drift, gt) == pytest.approx(8.0)           # 8 of 10 frames at 10 mm
    assert M.w_mpjpe(drift, gt, chunk=5) == pytest.approx(3.0)  # second chunk realigned
    scaled = gt * 2.0
    assert M.w_mpjpe(scaled, gt) > 1.0                           # scale is not fitted


def test_wa_mpjpe_similarity_per_chunk():
    gt = _skeleton_cloud(4, T=20)
    pred = gt.copy()
    pred[:10] = 0.5 * gt[:10] @ _rot([1, 0, 0], 30).T + 1.0
    pred[10:] = 2.0 * gt[10:] @ _rot([0, 1, 0], -50).T - 3.0
    assert M.wa_mpjpe(pred, gt, chunk=10) == pytest.approx(0.0, abs=1e-6)
    assert M.wa_mpjpe(pred, gt, chunk=20) > 1.0
    # oracle for one chunk: the similarity fit of similarity_align on the flattened chunk
    noisy = gt + np.random.default_rng(5).normal(scale=0.05, size=gt.shape)
    flat = M.similarity_align(noisy.reshape(-1, 3), gt.reshape(-1, 3)).reshape(gt.shape)
    assert M.wa_mpjpe(noisy, gt) == pytest.approx(np.linalg.norm(flat - gt, axis=-1).mean() * 1000)


def test_rte():
    gt = np.zeros((11, 3))
    gt[:, 0] = np.linspace(0.0, 1.0, 11)                       # path length 1 m
    R = _rot([0, 0, 1], 90)
    assert M.rte(gt @ R.T + 5.0, gt) == pytest.approx(0.0, abs=1e-9)
    pred = gt * np.array([2.0, 1.0, 1.0])                      # twice as long: rigid fit centres it
    expected = np.abs(np.linspace(0, 1, 11) - 0.5).mean() * 100
    assert M.rte(pred, gt) == pytest.approx(expected)
    with pytest.raises(MotionLabError):
        M.rte(pred, np.zeros((11, 3)))


# ------------------------------------------------------------------------------------- dyadic
def test_paired_frechet_distance():
    a1, a2 = [[-1.0], [1.0]], [[0.0], [0.0]]
    b1, b2 = [[1.0], [5.0]], [[0.0], [0.0]]
    # the partner column is identical and constant: the 1-D answer (11) is unchanged
    assert M.paired_frechet_distance(a1, a2, b1, b2) == pytest.approx(11.0, abs=1e-4)


def test_rpcc():
    steps_partner = np.tile([1.0, 2.0], 10)
    steps_gen = np.tile([2.0, 1.0], 10)

    def seq(steps):
        return np.concatenate([[0.0], np.cumsum(steps)])[:, None]

    assert M.rpcc(seq(steps_partner), seq(steps_partner), seq(steps_partner)) == pytest.approx(0.0)
    assert M.rpcc(seq(steps_gen), seq(steps_partner), seq(steps_partner)) == pytest.approx(2.0)
    np.testing.assert_allclose(M.motion_energy(seq(steps_partner), fps=10)[:2], [10.0, 20.0])


# ---------------------------------------------------------------------------------- contracts
def test_metric_directions():
    assert set(M.METRIC_DIRECTIONS.values()) <= {"lower", "higher"}
    for name in ("mpjpe", "pa_mpjpe", "frechet_distance", "perplexity", "dead_code_ratio", "beat_consistency",
                 "r_precision", "w_mpjpe", "rte", "jitter", "rpcc", "foot_skating_ratio", "domain_overlap"):
        assert name in M.METRIC_DIRECTIONS
    assert M.METRIC_DIRECTIONS["perplexity"] == "higher"
    assert M.METRIC_DIRECTIONS["fid"] == "lower"


def test_bad_input_is_motionlab_error():
    bad = np.zeros((5, 2, 3))
    bad[2, 1, 0] = np.nan
    with pytest.raises(MotionLabError, match="non-finite"):
        M.mpjpe(bad, np.zeros((5, 2, 3)))
    with pytest.raises(MotionLabError):
        M.jerk(np.zeros(3), 30)
    with pytest.raises(MotionLabError):
        M.velocity(np.zeros(3), 0)
    with pytest.raises(MotionLabError):
        M.frechet_distance(np.zeros((5, 2)), np.zeros((5, 3)))
    with pytest.raises(MotionLabError):
        M.recon_mse([], [])
    # torch tensors are accepted everywhere
    t = torch.zeros(5, 2, 3, requires_grad=True)
    assert M.mpjpe(t, t.detach()) == 0.0
