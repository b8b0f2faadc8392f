"""``motionlab tune`` and the shared-storage ablation: search spaces, config paths, two worker processes on one
study (SQLite always; PostgreSQL where a server is reachable) finishing the budget with no trial lost or run
twice, and the grid ablation's claims (each run once, a stale claim taken over, the merged report)."""

from __future__ import annotations

import json
import multiprocessing as mp
import os
import time
from pathlib import Path

import pytest

from motionlab.errors import MotionLabError
from motionlab.recipes.predictor.config import PredictorConfig
from motionlab.train import tune

CONFIGS = Path(__file__).resolve().parents[1] / "src" / "motionlab" / "configs"


def _space(tmp_path, **extra) -> Path:
    import yaml

    doc = {"recipe": "predictor", "base": str(CONFIGS / "predictor" / "tiny.yaml"), "metric": "free_GeoDeg",
           "space": {"train.lr": {"type": "loguniform", "low": 1e-4, "high": 1e-2},
                     "model.hidden": {"type": "categorical", "choices": [64, 128]},
                     "freerun_stage_schedule[2].trainer.freerun_weight": {"type": "uniform", "low": 0.3, "high": 0.4}}}
    doc.update(extra)
    path = tmp_path / "space.yaml"
    path.write_text(yaml.safe_dump(doc))
    return path


def test_set_path_reaches_stage_entries():
    from motionlab.config import load_config

    cfg = load_config(PredictorConfig, CONFIGS / "predictor" / "tiny.yaml")
    new = tune.set_path(cfg, "freerun_stage_schedule[2].trainer.freerun_weight", 0.42)
    assert new.freerun_stage_schedule[2].trainer["freerun_weight"] == 0.42
    assert cfg.freerun_stage_schedule[2].trainer["freerun_weight"] == 0.3  # a copy
    assert tune.set_path(cfg, "train.lr", 1e-4).train.lr == 1e-4
    with pytest.raises(MotionLabError, match="index 7 is past the 3 entries"):
        tune.set_path(cfg, "freerun_stage_schedule[7].label", "x")
    with pytest.raises(MotionLabError, match="unknown key"):
        tune.set_path(cfg, "model.widht", 3)


def test_space_file_errors(tmp_path):
    spec = tune.load_space(_space(tmp_path))
    assert spec.recipe == "predictor" and len(spec.space) == 3
    with pytest.raises(MotionLabError, match="valid choices: categorical, int, loguniform, uniform"):
        tune.load_space(_space(tmp_path, space={"train.lr": {"type": "normal"}}))
    with pytest.raises(MotionLabError, match="low < high"):
        tune.load_space(_space(tmp_path, space={"train.lr": {"type": "loguniform", "low": 0.0, "high": 1.0}}))
    assert tune.load_space(CONFIGS / "tune" / "predictor.yaml").metric == "free_GeoDeg"


def test_threads_split_between_workers(monkeypatch):
    monkeypatch.setattr(tune, "cpu_count", lambda: 16)
    assert tune.threads_per_worker(4) == 4 and tune.threads_per_worker(3) == 5 and tune.threads_per_worker(32) == 1


def _fake_trial(study, spec, base, trial, out):
    params = {k: tune._suggest(trial, k, d) for k, d in spec.space.items()}
    time.sleep(0.1)
    with open(out / f"ran_{trial.number}_{os.getpid()}", "w") as f:
        f.write(json.dumps(params))
    return float(params["train.lr"])


def _worker(url, name, trials, out, space):
    tune.run_trial = _fake_trial  # in the forked process only
    spec = tune.load_space(space)
    tune.worker(spec, url, name, trials, Path(out), base=None, seed=os.getpid())


def _two_workers(url, tmp_path, trials=5):
    import optuna

    name = f"study_{os.getpid()}_{time.time_ns()}"
    space = _space(tmp_path)
    tune.open_study(url, name)
    ctx = mp.get_context("fork")
    procs = [ctx.Process(target=_worker, args=(url, name, trials, str(tmp_path), str(space))) for _ in range(2)]
    for p in procs:
        p.start()
    for p in procs:
        p.join(120)
        assert p.exitcode == 0
    ran = sorted(tmp_path.glob("ran_*"))
    numbers = [int(p.name.split("_")[1]) for p in ran]
    assert sorted(numbers) == list(range(trials))  # none lost, none twice
    assert len({p.name.split("_")[2] for p in ran}) == 2  # both workers took part
    study = optuna.load_study(study_name=name, storage=tune.normalize_url(url))
    complete = [t for t in study.trials if t.state == optuna.trial.TrialState.COMPLETE]
    assert len(complete) == trials
    summary = tune.write_study_report(url, name, tmp_path)
    assert summary["counts"]["COMPLETE"] == trials and (tmp_path / "plots" / "history.png").is_file()
    assert (tmp_path / "plots" / "importance.png").is_file()


def test_two_workers_share_a_sqlite_study(tmp_path):
    _two_workers(f"sqlite:///{tmp_path / 'study.db'}", tmp_path)


def _postgres_url():
    url = os.environ.get("MOTIONLAB_TEST_POSTGRES", "postgresql://postgres@127.0.0.1:5432/postgres")
    try:
        import psycopg2

        psycopg2.connect(url, connect_timeout=2).close()
    except Exception as e:  # no driver, no server, no access
        pytest.skip(f"no PostgreSQL server reachable at {url} ({type(e).__name__}); .ci/run starts one")
    return url


def test_two_workers_share_a_postgresql_study(tmp_path):
    _two_workers(_postgres_url(), tmp_path)


def test_two_workers_share_a_postgresql_grid(tmp_path):
    _grid(tmp_path, _postgres_url())


# --- the grid ablation ---------------------------------------------------------------------------


def _ablation_file(tmp_path) -> Path:
    import yaml

    doc = {"recipe": "predictor", "base": str(CONFIGS / "predictor" / "tiny.yaml"), "seeds": [0, 1, 2],
           "variants": [{"name": "base"}, {"name": "no free run", "overrides": ["loss.freerun_weight=0.0"]}],
           "report": {"columns": ["free_GeoDeg"], "tsne": False, "radar": {"free_GeoDeg": "GeoDeg",
                                                                            "free_RootVelMAE": "RootVelMAE"}}}
    path = tmp_path / "abl.yaml"
    path.write_text(yaml.safe_dump(doc))
    return path


def _fake_run_one(spec, variant, seed, run_dir, overrides):
    from motionlab.report.tables import RunResult

    run_dir.mkdir(parents=True, exist_ok=True)
    with open(run_dir.parent.parent.parent / f"did_{variant.name.replace(' ', '-')}_{seed}_{os.getpid()}", "w"):
        pass
    time.sleep(0.2)
    return RunResult(variant.name, seed, {"free_GeoDeg": 3.0 + seed + (variant.name != "base"),
                                          "free_RootVelMAE": 0.1 * (seed + 1)}, {})


def _grid_worker(file, out, url, name):
    from motionlab.train import ablation

    ablation._run_one = _fake_run_one
    ablation.run_ablation(file, seeds=3, out_dir=out, storage=url, study=name, stale_after_s=2.0)


def test_two_workers_share_a_grid_ablation(tmp_path):
    _grid(tmp_path, f"sqlite:///{tmp_path / 'grid.db'}")


def _grid(tmp_path, url):
    from optuna.trial import TrialState, create_trial

    from motionlab.train import ablation, grid

    file = _ablation_file(tmp_path)
    name = f"abl_{os.getpid()}_{time.time_ns()}"
    study = grid._study(url, name)
    # an interrupted worker's claim (its heartbeat long silent) is taken over
    study.add_trial(create_trial(state=TrialState.RUNNING, user_attrs={grid.CELL: grid.cell_name("base", 1),
                                                                       grid.HEARTBEAT: time.time() - 600}))
    ctx = mp.get_context("fork")
    procs = [ctx.Process(target=_grid_worker, args=(str(file), str(tmp_path / "out"), url, name)) for _ in range(2)]
    for p in procs:
        p.start()
    for p in procs:
        p.join(120)
        assert p.exitcode == 0
    did = sorted(p.name.rsplit("_", 1)[0] for p in (tmp_path / "out").glob("did_*"))
    assert did == sorted(f"did_{v}_{s}" for v in ("base", "no-free-run") for s in (0, 1, 2))  # each once
    table = (tmp_path / "out" / "table.md").read_text()
    assert "no free run" in table and "base" in table
    results = json.loads((tmp_path / "out" / "results.json").read_text())
    assert len(results["runs"] if isinstance(results, dict) else results) == 6
    (tmp_path / "out" / "table.md").unlink()
    ablation.report_ablation(file, seeds=3, out_dir=tmp_path / "out", storage=url, study=name)
    assert (tmp_path / "out" / "table.md").is_file()
    with pytest.raises(MotionLabError, match="no finished runs"):
        ablation.report_ablation(file, seeds=3, out_dir=tmp_path / "empty")
