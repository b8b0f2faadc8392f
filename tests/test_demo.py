"""`motionlab demo` and the corpus commands, run as a user would."""

import json
import re

import pytest

from motionlab.cli import main


def _check_report(report):
    text = report.read_text()
    images = re.findall(r"!\[[^\]]*\]\(([^)]+)\)", text)
    assert images, "the report shows no pictures"
    for rel in images:
        f = report.parent / rel
        assert f.exists() and f.stat().st_size > 2000, rel
    return text


def test_quick_demo_writes_a_report_with_pictures(tmp_path, capsys):
    out = tmp_path / "demo"
    assert main(["demo", "--out", str(out), "--quick"]) == 0
    printed = capsys.readouterr().out
    assert "[1/4]" in printed and str(out / "report.md") in printed
    text = _check_report(out / "report.md")
    skating = re.search(r"foot skating ratio[^|]*\| ([0-9.]+)% \|", text)
    assert skating and float(skating.group(1)) < 5.0  # the corpus's measured skating is in the report


@pytest.mark.slow
def test_full_demo(tmp_path):
    out = tmp_path / "demo"
    assert main(["demo", "--out", str(out)]) == 0
    text = _check_report(out / "report.md")
    assert "Tokenizer ablation" in text and "retarget" in text.lower()
    for heading in ("`predictor_pretrain`", "`t2m_evaluator`"):  # every section names its recipe
        assert heading in text, heading
    assert (out / "ablation_tokenizer" / "table.md").is_file()
    for run in ("retarget", "predictor", "predictor_pretrain", "t2m", "t2m_evaluator", "gesture", "recover"):
        assert (out / "runs" / run / "checkpoints" / "last.ckpt").is_file(), run


def test_every_recipe_has_a_demo_section():
    """Each registered recipe is trained and shown by a section of the full demo, or is listed, with its
    reason, in ``NOT_IN_DEMO``; every section's function resolves."""
    from motionlab.demo import DEMO_SECTIONS, NOT_IN_DEMO
    from motionlab.recipes.base import resolve_target
    from motionlab.recipes.registry import RECIPES

    shown = {name for _, _, names in DEMO_SECTIONS for name in names}
    assert shown | set(NOT_IN_DEMO) == set(RECIPES), sorted(set(RECIPES) - shown - set(NOT_IN_DEMO))
    assert not shown & set(NOT_IN_DEMO)
    for _, target, names in DEMO_SECTIONS:
        assert callable(resolve_target(target)) and names, target


def test_data_synth_and_profile_commands(tmp_path, capsys):
    out = tmp_path / "corpus"
    assert main(["data", "synth", str(out), "--scale", "tiny", "--seed", "3"]) == 0
    assert (out / "manifest.json").exists()
    capsys.readouterr()
    assert main(["data", "profile", str(out), "--json"]) == 0
    prof = json.loads(capsys.readouterr().out)
    assert prof["clips"] >= 24 and set(prof["splits"]) == {"train", "val", "test"}
    assert main(["data", "profile", str(out)]) == 0
    assert "root speed" in capsys.readouterr().out
