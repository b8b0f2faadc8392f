"""Slow: a t2m model trained for a few minutes on the tiny corpus obeys its text.

The evaluator ranks the right held-out caption far above the text-ignoring baseline and chance, FID is
well below the mean motion's, bones keep their lengths, the motion is about as smooth as real motion (jerk), and
prompts move the body as they say (running is faster than walking, standing still is slower)."""

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


def test_prompts_move_the_body_as_they_say(trained):
    from motionlab.recipes.t2m.demo import motion_summary
    from motionlab.recipes.t2m.tool import generate

    run, _ = trained
    prompts = ["a person walks forward", "a person runs forward", "a person walks forward, then turns left",
               "a person walks forward, then turns right", "a person stands still, shifting their weight and breathing"]
    s = [motion_summary(f, 20.0) for f in generate(run, prompts, 120, seed=0)]
    walk, run_, left, right, idle = s
    assert run_["speed_m_s"] > 1.3 * walk["speed_m_s"], s
    assert idle["speed_m_s"] < 0.5 * walk["speed_m_s"], s
    # turning direction is not asserted here: the tiny corpus holds two turn clips (see the README's limits)
