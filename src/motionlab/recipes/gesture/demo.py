"""The gesture and dyadic part of ``motionlab demo``: a tiny gesture model trained on the corpus, a generated
talking clip from held-out speech (video with its sound and waveform), and the metric table with the
baselines; then a tiny dyadic responder answering a held-out partner (video of both, the responder's metric
table)."""

from __future__ import annotations

from pathlib import Path
from typing import List

from motionlab.demo import DemoContext, pick_clip

#: the gesture section trains the shipped tiny config (480 steps: 140 tokenizer, 340 generator): shorter runs miss BC and FGD against the
#: baselines on the 34 held-out takes (200 steps with 60 tokenizer steps, seed 0: BC 0.140 vs 0.259 for a random clip)
GESTURE_DEMO_OVERRIDES = ["train.progress=none"]
#: steps of the dyadic section's run (the shipped tiny dyadic config trains longer; the demo must stay short)
DYADIC_DEMO_OVERRIDES = ["model.vq.steps=60", "train.max_steps=200", "train.progress=none"]


def section(ctx: DemoContext) -> List[str]:
    from motionlab.recipes.gesture.evaluate import metric_table
    from motionlab.recipes.gesture.tool import gesture_file
    from motionlab.train.engine import evaluate, train

    corpus, out = ctx.corpus, ctx.out
    run = Path(train("gesture", config_path=ctx.configs / "gesture" / "tiny.yaml",
                     overrides=[f"data.root={corpus}", *GESTURE_DEMO_OVERRIDES], run_dir=out / "runs" / "gesture"))
    metrics = evaluate(run)
    clip = pick_clip(ctx.clips, "talking", split="test") or pick_clip(ctx.clips, "talking")
    media = ctx.media
    report = gesture_file(corpus / clip["files"]["audio"], run, media / "gesture.npz",
                          words=corpus / clip["files"]["words"], render=media / "gesture.mp4")
    md = ["## Speech to gestures (tiny gesture model)", "",
          f"Generated from the held-out speech of `{clip['id']}` (\"{clip['caption']}\") with its words, in 64-frame "
          "chunks decoded once: [video with sound and waveform](media/gesture.mp4), "
          "[BEAT2 npz](media/gesture.npz).", "",
          f"```\n{report}\n```", "",
          "Held-out clips, the model against its baselines (BC higher is better; FGD lower, in motionlab's own "
          "autoencoder space: comparable within motionlab only):", "", metric_table(metrics), ""]
    return md


def dyadic_section(ctx: DemoContext) -> List[str]:
    from motionlab.recipes.gesture.evaluate import metric_table
    from motionlab.recipes.gesture.tool import gesture_file
    from motionlab.train.engine import evaluate, train

    corpus, out = ctx.corpus, ctx.out
    run = Path(train("dyadic", config_path=ctx.configs / "dyadic" / "tiny.yaml",
                     overrides=[f"data.root={corpus}", *DYADIC_DEMO_OVERRIDES], run_dir=out / "runs" / "dyadic"))
    metrics = evaluate(run)
    md = ["## Dyadic responder (tiny)", "",
          "The partner's voice and motion condition every part (body, hands, face) of the responder. "
          f"Trained for {DYADIC_DEMO_OVERRIDES[1].split('=')[1]} steps here; `motionlab train dyadic` trains the shipped tiny "
          "config longer.", ""]
    by_id = {c["id"]: c for c in ctx.clips}
    clip = next((c for c in ctx.clips if c["kind"] == "dyadic" and c.get("split") == "test"
                 and c.get("partner") in by_id), None)
    if clip is not None:
        partner = by_id[clip["partner"]]
        report = gesture_file(corpus / clip["files"]["audio"], run, ctx.media / "dyadic_response.npz",
                              words=corpus / clip["files"]["words"], render=ctx.media / "dyadic_response.mp4",
                              partner_motion=corpus / partner["files"]["smplx"],
                              partner_audio=corpus / partner["files"]["audio"])
        md += [f"Held-out pair `{clip['pair']}`: `{clip['id']}` generated from its own voice and words while "
               f"`{partner['id']}` speaks and moves: [video of both](media/dyadic_response.mp4), "
               "[BEAT2 npz](media/dyadic_response.npz).", "", f"```\n{report}\n```", ""]
    md += ["Held-out pairs, the responder against its baselines (P-FD and rPCC read the partner; at this "
           "training length the numbers are rough):", "", metric_table(metrics), ""]
    return md
