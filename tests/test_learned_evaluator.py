"""The learned-evaluator pattern: raw motion re-normalised with the evaluator's own statistics."""

from types import SimpleNamespace

import numpy as np
import pytest
import torch

from motionlab.data.windows import Normalizer
from motionlab.errors import MotionLabError
from motionlab.eval import learned
from motionlab.eval.metrics import frechet_distance


class _MeanEncoder(torch.nn.Module):
    """Feature = the time-mean of the normalised window (enough to check the plumbing by hand)."""

    def encode_motion(self, x):
        return x.mean(dim=1)


@pytest.fixture
def evaluator(tmp_path, monkeypatch):
    norm = Normalizer(mean=np.array([1.0, -2.0], np.float32), std=np.array([2.0, 4.0], np.float32))
    run = SimpleNamespace(model=_MeanEncoder(), stats={"body": norm}, recipe=SimpleNamespace(name="fake"))
    import motionlab.train.engine as engine

    monkeypatch.setattr(engine, "load_run", lambda run_dir: run)
    return learned.LearnedEvaluator(tmp_path, batch_size=3)


def test_features_use_the_evaluators_normalisation(evaluator):
    x = np.zeros((5, 4, 2), np.float32)
    x[:, :, 0] = 3.0  # (3 - 1) / 2 = 1
    x[:, :, 1] = 2.0  # (2 + 2) / 4 = 1
    feats = evaluator.motion_features(x)
    assert feats.shape == (5, 2)
    np.testing.assert_allclose(feats, 1.0)
    assert evaluator.feature_dim == 2 and evaluator.stream == "body"


def test_frechet_is_zero_for_the_same_set_and_positive_for_a_shift(evaluator):
    rng = np.random.default_rng(0)
    real = rng.normal(size=(64, 8, 2)).astype(np.float32)
    assert evaluator.frechet(real, real) == pytest.approx(0.0, abs=1e-6)
    shifted = real + np.array([2.0, 0.0], np.float32)  # +1 in normalised units on feature 0
    want = frechet_distance(evaluator.motion_features(shifted), evaluator.motion_features(real))
    assert evaluator.frechet(shifted, real) == pytest.approx(want)
    assert want == pytest.approx(1.0, rel=1e-6)  # mean shift 1, same covariance


def test_bad_input_is_a_clear_error(evaluator):
    with pytest.raises(MotionLabError, match=r"\(N, T, 2\)"):
        evaluator.motion_features(np.zeros((2, 4, 3)))
    with pytest.raises(MotionLabError, match="NaN"):
        evaluator.motion_features(np.full((2, 4, 2), np.nan))
    with pytest.raises(MotionLabError, match="no text encoder"):
        evaluator.text_features(["a person walks"])
