"""HumanML3D folders and the 263-d layout: features from positions and back, the folder reader, clear errors,
and BVH export by fitting SMPL-22."""

from __future__ import annotations

import numpy as np
import pytest

from motionlab.errors import MotionLabError
from motionlab.io import humanml3d as hml


def _walk(T: int = 40, fps: float = 20.0, yaw_rate: float = 0.3):
    """A rigid SMPL-22 rest pose walking forward on a curve, Y up (positions only)."""
    from motionlab.core.body import smpl22_skeleton

    rest, _ = smpl22_skeleton().rest_fk()
    rest_y = rest @ hml.Z_UP_TO_Y_UP.T  # Z-up rest (facing +X) -> Y up
    out = np.zeros((T, 22, 3))
    pos = np.zeros(3)
    for t in range(T):
        th = yaw_rate * t / fps
        c, s = np.cos(th), np.sin(th)
        R = np.array([[c, 0, s], [0, 1, 0], [-s, 0, c]])
        out[t] = rest_y @ R.T + pos
        pos = pos + R @ np.array([1.2 / fps, 0, 0])
    return out


def test_recover_from_ric_inverts_the_features():
    p = _walk()
    f = hml.features_from_positions(p)
    assert f.shape == (len(p) - 1, hml.FEATURE_DIM)
    rec = hml.recover_from_ric(f)
    # the features put the clip on the floor, at the origin, facing +Z in frame 0
    q = p - [0, p[..., 1].min(), 0]
    q[..., [0, 2]] -= q[:1, :1, [0, 2]]
    th = hml.facing_angles(q)[0]
    q = hml._yrot(np.full(q.shape[:2], th), q)
    np.testing.assert_allclose(rec, q[:-1], atol=1e-5)
    # the yaw channel is half the increment of the world->heading rotation (the published quaternion
    # convention): a body turning by +w about +Y gives -w / 2 per frame
    np.testing.assert_allclose(f[:, 0], -0.5 * 0.3 / 20.0, atol=1e-6)
    # forward speed in the heading frame is +z
    np.testing.assert_allclose(f[:, 2], 1.2 / 20.0, atol=1e-3)
    # torch path keeps gradients
    import torch

    ft = torch.tensor(f, requires_grad=True)
    hml.recover_from_ric(ft).sum().backward()
    assert ft.grad is not None and ft.grad.abs().sum() > 0


def _folder(tmp_path, bad_line: bool = False, bad_width: bool = False):
    root = tmp_path / "HumanML3D"
    for d in ("new_joint_vecs", "new_joints", "texts"):
        (root / d).mkdir(parents=True)
    ids = ["000001", "000002", "000003"]
    for i, cid in enumerate(ids):
        p = _walk(60 + 10 * i)
        f = hml.features_from_positions(p)
        if bad_width and i == 1:
            f = f[:, :200]
        np.save(root / "new_joint_vecs" / f"{cid}.npy", f)
        np.save(root / "new_joints" / f"{cid}.npy", p[:-1])
        lines = ["a person walks forward.#a/DET person/NOUN walk/VERB forward/ADV#0.0#0.0",
                 "someone walks in a curve.#someone/PRON walk/VERB#0.5#2.5"]
        if bad_line and i == 2:
            lines.append("a broken line without fields")
        (root / "texts" / f"{cid}.txt").write_text("\n".join(lines) + "\n")
    np.save(root / "Mean.npy", np.zeros(263, np.float32))
    np.save(root / "Std.npy", np.ones(263, np.float32))
    (root / "train.txt").write_text("000001\n000002\n")
    (root / "val.txt").write_text("")
    (root / "test.txt").write_text("000003\n")
    return root


def test_reads_a_humanml3d_folder(tmp_path):
    root = _folder(tmp_path)
    assert hml.is_humanml3d(root)
    clips = hml.scan_humanml3d(root)
    assert [c.id for c in clips] == ["000001", "000002", "000003"]
    assert [c.split for c in clips] == ["train", "train", "test"]
    caps = clips[0].captions
    assert caps[0].text == "a person walks forward." and caps[0].start is None
    assert caps[1].start == 0.5 and caps[1].end == 2.5 and caps[1].tokens[0] == "someone/PRON"
    mean, std = hml.read_mean_std(root)
    assert mean.shape == (263,) and std.shape == (263,)

    from motionlab.recipes.t2m.config import T2MDataConfig
    from motionlab.recipes.t2m.data import CaptionData

    data = CaptionData(T2MDataConfig(root=str(root), window=40, stride=20, min_frames=20))
    ids = {c.id for c in data.clips}
    assert "000001" in ids and "000001#0" in ids  # the spanned caption is its own 2 s clip
    assert len(data.clips[[c.id for c in data.clips].index("000001#0")].features) == 40
    item = data.dataset("train")[0]
    assert item["motion"].shape == (40, 263) and item["mask"].all()
    np.testing.assert_allclose(data.normalizer.std, 1.0)  # the folder's own Std.npy


def test_malformed_caption_line_names_file_and_line(tmp_path):
    root = _folder(tmp_path, bad_line=True)
    with pytest.raises(MotionLabError) as e:
        hml.scan_humanml3d(root)
    assert "000003.txt" in str(e.value) and "line 3" in str(e.value)


def test_wrong_width_names_the_file(tmp_path):
    root = _folder(tmp_path, bad_width=True)
    with pytest.raises(MotionLabError) as e:
        hml.read_features(root / "new_joint_vecs" / "000002.npy")
    assert "000002.npy" in str(e.value) and "263" in str(e.value)


def test_bvh_export_fits_smpl22(tmp_path):
    from motionlab.io.bvh import read_bvh

    p = _walk(30)
    f = hml.features_from_positions(p)
    err = hml.features_to_bvh(f, tmp_path / "walk.bvh")
    assert err < 0.02  # metres
    m = read_bvh(tmp_path / "walk.bvh")
    assert m.num_frames == len(f) and m.skeleton.num_joints == 22
    from motionlab.core.body import SMPL22_NAMES

    back = m.positions()[:, m.skeleton.indices(SMPL22_NAMES)]  # BVH stores the joints depth first
    target = hml.positions_to_zup(hml.recover_from_ric(f))
    assert np.linalg.norm(back - target, axis=-1).mean() < 0.03


def test_corpus_motion_features_match_positions(tiny_corpus):
    from motionlab.io.formats import read_file

    _, m = read_file(tiny_corpus / "motion" / "loco_00001_walk.npz")
    f = hml.features_from_motion(m)
    assert f.shape[1] == 263 and np.isfinite(f).all()
    p = hml.recover_from_ric(f)
    from motionlab.eval.metrics import bone_length_std
    from motionlab.core.body import SMPL22_PARENTS

    assert bone_length_std(p, SMPL22_PARENTS) < 1e-4  # the layout keeps the skeleton rigid
    assert 0.3 < f[:, 2].mean() * 20 < 3.0  # walking speed, m/s, along +z of the heading frame
