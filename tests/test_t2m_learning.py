"""Slow: a t2m model trained for a few minutes on the tiny corpus obeys its text.

The evaluator ranks the right held-out caption far above the text-ignoring baseline and chance, FID is
well below the mean motion's, bones keep their lengths, the motion is about as smooth as real motion (jerk), and
prompts move the body as they say (running is faster than walking, standing still is slower; on the small
corpus, with its 16 training clips that turn, "turns left" turns left and "turns right" right)."""

from __future__ import annotations

from pathlib import Path

import pytest

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def trained(tiny_corpus, tmp_path_factory):
    from motionlab.train.engine import train

    out = tmp_path_factory.mktemp("t2m_learning")
    root = [f"data.root={tiny_corpus}", "train.val_every=-1"]
    ev = train("t2m_evaluator", overrides=root + ["train.max_steps=400"], run_dir=out / "ev")
    run = train("t2m", overrides=root + ["train.max_steps=400"], run_dir=out / "t2m")
    return Path(run), Path(ev)


def test_text_is_obeyed_on_held_out_captions(trained):
    from motionlab.recipes.t2m.evaluate import evaluate

    run, ev = trained
    m = evaluate(run, evaluator=ev, replications=2)
    chance = m["r_precision_top3_chance"]
    assert m["r_precision_top3"] > max(1.5 * m["baseline_random_r_precision_top3"], chance + 0.15), m
    assert m["r_precision_top1"] > m["baseline_random_r_precision_top1"], m
    assert m["mm_dist"] < m["baseline_random_mm_dist"], m
    assert m["fid"] < 0.7 * m["baseline_mean_fid"], m
    assert m["bone_length_std_mm"] < 10.0, m  # bones of 10-40 cm: under a few percent
    assert m["jerk"] < 1.5 * m["real_jerk"], m  # as smooth as real motion (no steps at patch borders)
    assert m["seam_ratio"] < m["seam_ratio_no_inpaint"] + 0.5, m


PROMPTS = ["a person walks forward", "a person runs forward", "a person walks forward, then turns left",
           "a person walks forward, then turns right", "a person stands still, shifting their weight and breathing"]


def _check(run: Path, samples: int):
    """Per prompt of PROMPTS: (mean speed m/s, mean heading change deg) of its generated samples, and the rows."""
    import numpy as np

    from motionlab.recipes.t2m.evaluate import prompt_check

    rows = prompt_check(run, PROMPTS, samples=samples, seed=0)
    return [(float(np.mean(r["speed"])), float(np.mean(r["turn"]))) for r in rows], rows


def test_prompts_move_the_body_as_they_say(trained):
    run, _ = trained
    (walk, _), (run_, _), _, _, (idle, _) = s = _check(run, 1)[0]
    assert run_ > 1.3 * walk, s
    assert idle < 0.5 * walk, s
    # turning direction is not asserted here: the tiny corpus holds two turn clips (the next test has 16)


@pytest.mark.parametrize("steps", [None, 1600])
def test_turn_prompts_turn_their_way_on_the_small_corpus(tmp_path, steps):
    """The tiny config at the demo's training budget (500 steps) and at tiny.yaml's (1600) on the small corpus, 4
    samples per prompt. Every "turns left" sample turns left and every "turns right" sample right, and on average
    by the real clips' angle (+88; -70, -81) within the prompt check's 45 deg, and walking forward keeps straight
    (``model.root_repr=absolute``, which denoises every frame's heading; the heading guided like every channel at 500
    steps, as the demo does, and at tiny.yaml's ``diffusion.heading_guidance=1`` at 1600: with guidance 2.5 on the
    heading there the turns overshot to +132..+157 / -102..-145; with the yaw-rate layout to +260..+340 /
    -190..-300 already at 500 steps)."""
    from motionlab.recipes.t2m.demo import DEMO_T2M_STEPS
    from motionlab.train.engine import train

    steps = steps or DEMO_T2M_STEPS
    extra = ["diffusion.heading_guidance=-1"] if steps < 1600 else []  # as the demo's 500-step run
    run = Path(train("t2m", overrides=["train.val_every=-1", f"train.max_steps={steps}", *extra],
                     run_dir=tmp_path / "t2m"))
    ((walk, _), (run_, _), (_, left), (_, right), (idle, _)), rows = _check(run, 4)
    assert run_ > 2.0 * walk and idle < 0.3 * walk, rows
    # measured, 500 steps guided at 2.5 / 1600 steps at scale 1: +71..+106 / +91..+129 and -64..-91 / -77..-132
    assert all(30.0 < t < 170.0 for t in rows[2]["turn"]), rows
    assert all(-170.0 < t < -30.0 for t in rows[3]["turn"]), rows
    assert abs(left - 88.0) < 45.0 and abs(right + 75.0) < 45.0, rows  # measured means about +89 / +108, -78 / -96
    assert max(abs(t) for t in rows[0]["turn"]) < 30.0, rows  # walking forward: measured -8..+11 / -3..+21
