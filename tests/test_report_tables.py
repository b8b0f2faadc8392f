"""Ablation tables and plots from fabricated run results (hand-computed means and stds)."""

from __future__ import annotations

import json

import numpy as np
import pytest

from motionlab.errors import MotionLabError
from motionlab.report import ablation_plots as ap
from motionlab.report.tables import (Column, RunResult, best_variants, column_decimals, latex_escape,
                                     latex_table, load_results, markdown_table, save_results, summarize,
                                     write_tables)

DIRS = {"recon_mse": "lower", "perplexity": "higher", "dead_code_ratio": "lower", "mean_jerk": "lower"}


def _fake_results():
    # variant A: recon 0.010 / 0.012 (mean 0.011, sample std 0.0014142), ppl 100 / 120
    # variant B_2 (underscore to test escaping): recon 0.020 / 0.020, ppl 300 / 340 (best)
    # variant C: recon 0.050 once (single seed => std 0), no perplexity
    out = []
    for variant, seed, recon, ppl, dcr in [("A", 1, 0.010, 100.0, 0.5), ("A", 2, 0.012, 120.0, 0.3),
                                           ("B_2", 1, 0.020, 300.0, 0.0), ("B_2", 2, 0.020, 340.0, 0.0),
                                           ("C", 1, 0.050, None, 0.9)]:
        metrics = {"recon_mse": recon, "dead_code_ratio": dcr, "mean_jerk": 1.0 + seed}
        if ppl is not None:
            metrics["perplexity"] = ppl
        hist = {"recon_mse": [(s, recon * (10 - s)) for s in range(5)],
                "loss/recon": [(s, recon * (5 - s)) for s in range(5)],
                "loss/commit": [(s, 1e-4 * (5 - s)) for s in range(5)]}
        out.append(RunResult(variant, seed, metrics, hist))
    return out


def test_summary_mean_and_sample_std():
    s = summarize(_fake_results())
    m, sd, n = s["A"]["recon_mse"]
    assert m == pytest.approx(0.011) and sd == pytest.approx(np.sqrt(2e-6)) and n == 2
    assert s["C"]["recon_mse"] == (pytest.approx(0.05), 0.0, 1)
    assert "perplexity" not in s["C"]
    assert best_variants(s, "recon_mse", "lower") == ["A"]
    assert best_variants(s, "perplexity", "higher") == ["B_2"]
    assert best_variants(s, "recon_mse", None) == []
    # ties: both A seeds of mean_jerk are 2.5, B_2 and C too -> all tied best except C (2.0)
    assert best_variants(s, "mean_jerk", "lower") == ["C"]


def test_column_decimals():
    assert column_decimals([0.0457, 0.012]) == 4
    assert column_decimals([84.6, 1363.9]) == 1
    assert column_decimals([0.0, 0.349]) == 3
    assert column_decimals([0.0]) == 1


def test_markdown_table_bold_best_and_pm():
    md = markdown_table(_fake_results(), ["recon_mse", "perplexity", Column("dead_code_ratio", "DCR %", 100.0)],
                        DIRS)
    lines = md.splitlines()
    assert lines[0] == "| Method | recon_mse ↓ | perplexity ↑ | DCR % ↓ |"
    row_a = next(l for l in lines if l.startswith("| A |"))
    row_b = next(l for l in lines if l.startswith("| B_2 |"))
    row_c = next(l for l in lines if l.startswith("| C |"))
    assert "**0.0110 ± 0.0014**" in row_a          # best recon, 4 decimals from 0.0110
    assert "110.0 ± 14.1" in row_a and "**110.0" not in row_a
    assert "**320.0 ± 28.3**" in row_b              # best perplexity
    assert "**0.0 ± 0.0**" in row_b                 # DCR 0 % is best
    assert "40.0 ± 14.1" in row_a                   # DCR scaled to %
    assert "–" in row_c and "0.0500 ± 0.0000" in row_c
    assert sum(l.count("**") for l in lines) == 6   # exactly three bold cells


def test_latex_table_syntax():
    tex = latex_table(_fake_results(), ["recon_mse", "perplexity", Column("dead_code_ratio", "DCR %", 100.0)],
                      DIRS, caption="Tokenizer ablation (50% data)", label="tab:tok")
    assert tex.count(r"\begin{table}") == tex.count(r"\end{table}") == 1
    assert tex.count(r"\begin{tabular}{l c c c}") == 1 and r"\end{tabular}" in tex
    for rule in (r"\toprule", r"\midrule", r"\bottomrule"):
        assert tex.count(rule) == 1
    assert r"50\% data" in tex and r"DCR \% $\downarrow$" in tex and r"perplexity $\uparrow$" in tex
    assert r"B\_2 & " in tex and "B_2" not in tex.replace(r"B\_2", "")
    assert r"\textbf{0.0110 $\pm$ 0.0014}" in tex
    assert r"\textbf{320.0 $\pm$ 28.3}" in tex
    body = tex[tex.index(r"\midrule"):tex.index(r"\bottomrule")].splitlines()[1:]
    assert len(body) == 3
    for line in body:
        assert line.endswith(r"\\") and line.count("&") == 3
    # braces balance
    stripped = tex.replace(r"\{", "").replace(r"\}", "")
    assert stripped.count("{") == stripped.count("}")


def test_latex_escape_all_specials():
    assert latex_escape(r"a_b&c%d$e#f{g}h~i^j\k") == (
        r"a\_b\&c\%d\$e\#f\{g\}h\textasciitilde{}i\textasciicircum{}j\textbackslash{}k")


def test_results_round_trip_and_errors(tmp_path):
    res = _fake_results()
    p = save_results(res, tmp_path / "results.json")
    back = load_results(p)
    assert [r.to_dict() for r in back] == [r.to_dict() for r in res]
    (tmp_path / "bad.json").write_text(json.dumps([{"variant": "x", "seed": 1}]))
    with pytest.raises(MotionLabError, match=r"bad\.json: entry 0: missing key 'metrics'"):
        load_results(tmp_path / "bad.json")
    (tmp_path / "broken.json").write_text("[{")
    with pytest.raises(MotionLabError, match="not valid JSON"):
        load_results(tmp_path / "broken.json")
    md, tex = write_tables(res, tmp_path / "t", ["recon_mse"], DIRS)
    assert md.read_text().startswith("| Method |") and tex.read_text().startswith("% requires")


def test_history_band_mean_std():
    res = _fake_results()
    steps, mean, std = ap.history_band([r for r in res if r.variant == "A"], "recon_mse")
    assert steps.tolist() == [0, 1, 2, 3, 4]
    assert mean[0] == pytest.approx(0.11) and std[0] == pytest.approx(0.01 * np.sqrt(2))  # sample std, as in the tables
    assert ap.history_band(res, "nothing") is None


def test_radar_scores_outward_is_better():
    res = _fake_results()
    v, used, lin = ap.radar_scores(res, ["recon_mse", "perplexity", "unknown_metric"], DIRS, "linear")
    assert used == ["recon_mse", "perplexity"] and v == ["A", "B_2", "C"]
    assert lin[:, 0] == pytest.approx([1.0, 0.011 / 0.02, 0.011 / 0.05])
    assert lin[:, 1] == pytest.approx([110 / 320, 1.0, 0.0])  # C has no perplexity
    _, _, lg = ap.radar_scores(res, ["recon_mse"], DIRS, "log")
    assert lg[:, 0] == pytest.approx([1.0, 1 / (1 + np.log10(0.02 / 0.011)), 1 / (1 + np.log10(0.05 / 0.011))])


def test_plots_written(tmp_path):
    res = _fake_results()
    curves = ap.plot_curves(res, tmp_path, {"recon_mse": "Recon", "missing": "M"}, DIRS, log_y=["recon_mse"])
    assert [p.name for p in curves] == ["curve_recon_mse.png"]
    lb = ap.plot_loss_breakdown(res, tmp_path / "loss_breakdown.png", ["loss/recon", "loss/commit"])
    lin = ap.plot_radar(res, tmp_path / "radar.png", ["recon_mse", "perplexity", "dead_code_ratio", "mean_jerk"],
                        DIRS)
    log = ap.plot_radar(res, tmp_path / "radar_log.png", ["recon_mse", "perplexity", "dead_code_ratio"], DIRS,
                        scale="log")
    rng = np.random.default_rng(0)
    lat = np.concatenate([rng.normal(0, 1, (20, 8)), rng.normal(6, 1, (20, 8))])
    lab = np.repeat([0, 1], 20)
    ts = ap.plot_tsne({"A": (lat, lab), "B": (lat[::-1], lab[::-1])}, tmp_path / "tsne.png", {0: "walk", 1: "run"})
    for p in [*curves, lb, lin, log, ts]:
        assert p.is_file() and p.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    with pytest.raises(MotionLabError, match="at least 3 metrics"):
        ap.plot_radar(res, tmp_path / "r.png", ["recon_mse"], DIRS)


def test_tsne_separates_clusters():
    rng = np.random.default_rng(1)
    lat = np.concatenate([rng.normal(0, 0.5, (30, 6)), rng.normal(5, 0.5, (30, 6))])
    xy = ap.tsne_embed(lat, seed=0)
    c0, c1 = xy[:30].mean(0), xy[30:].mean(0)
    spread = max(xy[:30].std(0).max(), xy[30:].std(0).max())
    assert np.linalg.norm(c0 - c1) > 3 * spread
