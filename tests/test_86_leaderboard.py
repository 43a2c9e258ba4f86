"""The leaderboard study (eqpm benchmark): rows, budgets, learning curves, plugins."""

from pathlib import Path

import numpy as np
import pytest

from tests.support.examples import load_example
from trainers.studies.leaderboard.board import benchmark
from trainers.studies.levelling import ONE_SEED

sb3 = pytest.importorskip("stable_baselines3")


def test_a_benchmark_with_nothing_to_run_is_refused_by_name_and_writes_nothing(tmp_path):
    with pytest.raises(ValueError, match="nothing to run: diff on EquitablePM-EV-v0 is left out"):
        benchmark(["EquitablePM-EV-v0"], ["diff"], budget=1, seeds=1, out=tmp_path / "board")
    assert not (tmp_path / "board").exists()
    with pytest.raises(ValueError, match="nothing to run: spo on EquitablePM-DC-v0, pfy on EquitablePM-DC-v0 is left out"):
        benchmark(["EquitablePM-DC-v0"], ["spo", "pfy"], budget=1, seeds=1, out=tmp_path / "board")


def test_a_tiny_benchmark_writes_every_requested_row(tmp_path, capsys):
    rows = benchmark(["EquitablePM-DC-v0", "EquitablePM-EV-v0"], ["mse", "diff", "rloo", "ppo"], budget=2, seeds=1, out=tmp_path)
    printed = capsys.readouterr().out
    assert "left out: diff on EquitablePM-EV-v0" in printed
    wrote = next(line for line in printed.splitlines() if line.startswith("wrote "))
    assert all(Path(path).is_file() for path in wrote.removeprefix("wrote ").split(", "))  # only what exists
    got = {(r["env"], r["algo"]) for r in rows}
    expected = {(e, a) for e in ("EquitablePM-DC-v0", "EquitablePM-EV-v0") for a in ("mse", "rloo", "ppo")}
    assert got == expected | {("EquitablePM-DC-v0", "diff")}  # diff only where every agent is smooth
    assert all(r["steps"] == 2 for r in rows)
    board = (tmp_path / "leaderboard.md").read_text()
    assert board.count("\n| EquitablePM-") == len(expected) + 1 and "IQM [95 % CI]" in board
    for row in rows:  # one seed: the IQM is the mean, its interval zero-width
        assert row["iqm"] == row["iqm_low"] == row["iqm_high"] == pytest.approx(row["mean"])
    assert (tmp_path / "leaderboard.csv").is_file() and len(list(tmp_path.glob("curves-*.png"))) == 2
    verdicts = {(r["env"], r["algo"]): r["levelling"] for r in rows}  # each algorithm against the Plain PM, in four words
    assert all(v == ("-" if algo == "mse" else ONE_SEED) for (env, algo), v in verdicts.items())  # one seed: no call
    assert "| vs Plain PM |" in board


def test_the_sb3_baselines_learn_on_the_window_view_with_the_boards_budget(tmp_path):
    """Each sees budget x 128 windows, its curve starts at the untrained model, and its record names the view."""
    import json

    rows = benchmark(["EquitablePM-EV-v0"], ["ppo", "a2c", "sac"], budget=8, seeds=1, out=tmp_path)
    assert {r["algo"] for r in rows} == {"ppo", "a2c", "sac"}
    for row in rows:  # 8 updates' worth of windows: 1,024, one PPO rollout of 64 x 16
        assert row["steps"] == 8 and row["windows"] == 1024 and np.isfinite(row["mean"])
    for path in tmp_path.glob("runs/*/metrics.json"):
        record = json.loads(path.read_text())
        assert record["history"][0]["steps"] == 0 and record["backbone"] == "mlp (sb3, window view)"
    board = (tmp_path / "leaderboard.md").read_text()
    assert "| EquitablePM-EV-v0 | ppo |" in board and "- `sac`: Stable-Baselines3's SAC" in board


def test_the_learner_row_is_eqpm_trains_default_on_the_boards_budget(tmp_path):
    """EV: the path with its epochs scaled to the budget, every update within it; DC: the paper's recipe, the rloo
    row's config."""
    from trainers.config import TrainConfig
    from trainers.studies.leaderboard.plugins import BenchmarkRun, learner_config

    ev = learner_config(BenchmarkRun("EquitablePM-EV-v0", "learner", 0, 2000, 1.0, tmp_path))
    default = TrainConfig(env="EquitablePM-EV-v0", q=1.0)
    assert (ev.recipe, ev.beta, ev.keep, ev.rungs, ev.steps) == ("path", default.beta, "best", default.rungs, 2000)
    whole = 2000 // 112  # EV: 112 updates an epoch
    assert ev.rung_epochs == round(whole * default.rung_epochs / (default.epochs + 4 * default.rung_epochs)) == 2
    assert ev.epochs + len(ev.rungs) * ev.rung_epochs == whole and [r.q for r in ev.path] == [0.0, 1.0, 1.0, 1.0, 1.0]
    dc = learner_config(BenchmarkRun("EquitablePM-DC-v0", "learner", 0, 2000, 1.0, tmp_path))
    assert (dc.recipe, dc.rung_epochs, dc.beta, dc.steps) == ("paper", 0, 0.0, 2000)
    rows = benchmark(["EquitablePM-EV-v0"], ["learner"], budget=4, seeds=1, out=tmp_path / "board")
    assert [(r["algo"], r["steps"]) for r in rows] == [("learner", 4)]


def test_an_sb3_learning_curve_scores_each_update_and_ends_on_the_tables_model(tmp_path):
    """Points come after updates (no repeated pairs from scoring mid-rollout), the last one is the table's value."""
    import json

    rows = benchmark(["EquitablePM-EV-v0"], ["ppo"], budget=32, seeds=1, out=tmp_path)
    history = json.loads(next(tmp_path.glob("runs/*/metrics.json")).read_text())["history"]
    means = [point["mean"] for point in history]
    assert len(means) >= 3 and history[-1]["steps"] == 32 and means[-1] == rows[0]["mean"]
    assert all(a != b for a, b in zip(means, means[1:]))  # each point follows an update that changed the policy


def test_the_single_file_ppo_joins_the_leaderboard_as_a_plugin(tmp_path):
    load_example("ppo_windows")  # what --plugin ppo_windows imports, with examples/ on PYTHONPATH
    rows = benchmark(["EquitablePM-EV-v0"], ["ppo-example"], budget=8, seeds=1, out=tmp_path, plugins=("ppo_windows",))
    assert [(r["algo"], r["steps"]) for r in rows] == [("ppo-example", 8)]
    record = next(tmp_path.glob("runs/*/metrics.json")).read_text()
    assert '"history"' in record and '"agent_regret"' in record


def test_a_search_reads_the_training_split_alone_and_goes_on_where_it_stopped(tmp_path, monkeypatch):
    """eqpm tune: every trial is scored on the training split (the test split is never built), trials.csv and
    best.json hold the finished trials, and a second call with more trials adds only the missing ones."""
    import json

    import pandas as pd

    pytest.importorskip("optuna")
    import eq_gym.envs.base as base
    from trainers.studies.leaderboard.hyperparameters import TUNED
    from trainers.studies.leaderboard.tune import tune

    splits = []
    make_task = base.make_task
    monkeypatch.setattr(base, "make_task", lambda name, **kwargs: splits.append(kwargs.get("split", "train")) or make_task(name, **kwargs))
    best = tune("a2c", "EquitablePM-EV-v0", trials=2, budget=2, out=tmp_path)
    first = pd.read_csv(tmp_path / "trials.csv")
    assert set(splits) == {"train"} and len(first) == 2
    assert json.loads((tmp_path / "best.json").read_text())["train_mean"] == best["train_mean"] == first["train_mean"].min()
    assert set(best["tuned"]) == set(TUNED["a2c"]["EquitablePM-EV-v0"])  # what the search finds is what the file holds
    tune("a2c", "EquitablePM-EV-v0", trials=3, budget=2, out=tmp_path)
    again = pd.read_csv(tmp_path / "trials.csv")
    assert len(again) == 3 and again.iloc[:2].equals(first)


def test_one_command_runs_every_search_behind_the_file_and_says_which_find_its_values(tmp_path, monkeypatch, capsys):
    """eqpm tune --all: one search per TUNED entry with its recorded trials and budget, each into its own folder;
    searches.csv says whether each best is the file's (three significant digits), and a changed value is caught."""
    import pandas as pd

    from trainers.cli import main
    from trainers.studies.leaderboard import tune
    from trainers.studies.leaderboard.hyperparameters import SEARCHES, TUNED

    assert set(SEARCHES) == {(algo, env) for algo, envs in TUNED.items() for env in envs}
    calls = []

    def search(algo, env, trials, budget, out):
        calls.append((algo, env, trials, budget, out))
        found = dict(TUNED[algo][env])
        if (algo, env) == ("ppo", "EquitablePM-DC-v0"):
            found["learning_rate"] *= 1.01  # a search that lands elsewhere
        return {"train_mean": 0.5, "tuned": found}

    monkeypatch.setattr(tune, "tune", search)
    assert main(["tune", "--all", "--out", str(tmp_path)]) == 0
    assert [(a, e, t, b) for a, e, t, b, _ in calls] == [(a, e, s["trials"], s["budget"]) for (a, e), s in SEARCHES.items()]
    assert {out for *_, out in calls} == {tmp_path / f"{e}-{a}" for a, e in SEARCHES}
    table = pd.read_csv(tmp_path / "searches.csv")
    caught = table[~table["as_in_the_file"]]
    assert list(zip(caught["algo"], caught["env"])) == [("ppo", "EquitablePM-DC-v0")] and len(table) == len(SEARCHES)
    assert "does NOT find the file's values" in capsys.readouterr().out
    assert main(["tune", "--all", "--budget", "8"]) == 2  # --all takes each search's recorded settings
    assert "drop --budget" in capsys.readouterr().err


def test_every_baseline_has_its_hyperparameters_in_the_searched_form():
    """Each env's tuned keys are what its search space yields, and each (algo, env) makes a model."""
    optuna = pytest.importorskip("optuna")
    from trainers.studies.leaderboard.baselines import sb3_model
    from trainers.studies.leaderboard.hyperparameters import TUNED, hyperparameters
    from trainers.studies.leaderboard.tune import SPACES

    for algo, envs in TUNED.items():
        keys = set(SPACES[algo](optuna.create_study().ask()))
        for env in envs:
            assert set(TUNED[algo][env]) == keys, (algo, env)
            model, _ = sb3_model(algo, env, 1.0, 0, 2 * 128)
            assert model.learning_rate == hyperparameters(algo, env)["learning_rate"]


def test_the_docs_plugin_joins_the_board_from_the_command_line_and_report_only_rebuilds_every_figure(tmp_path):
    """docs/benchmark.md's my_algos.py as it stands, through `eqpm benchmark --plugin`; then every table and figure
    deleted and rebuilt from runs.csv alone, the leaderboard unchanged."""
    import os
    import re
    import subprocess
    import sys

    page = (Path(__file__).parents[1] / "docs" / "benchmark.md").read_text()
    (tmp_path / "my_algos.py").write_text(next(b for b in re.findall(r"```python\n(.*?)```", page, re.S) if b.startswith("# my_algos.py")))
    out = tmp_path / "board"
    command = [sys.executable, "-m", "trainers.cli", "benchmark", "--plugin", "my_algos", "--envs", "EquitablePM-EV-v0",
               "--algos", "mse", "mine", "--budget", "4", "--seeds", "2", "--out", str(out)]
    environment = os.environ | {"PYTHONPATH": os.pathsep.join([str(tmp_path), os.environ.get("PYTHONPATH", "")])}
    subprocess.run(command, check=True, env=environment, capture_output=True)
    board = (out / "leaderboard.md").read_text()
    assert "| EquitablePM-EV-v0 | mine |" in board and "| EquitablePM-EV-v0 | mse |" in board
    made = sorted(p.name for p in out.glob("*.png")) + ["leaderboard.md", "leaderboard.csv"]
    for name in made:
        (out / name).unlink()
    subprocess.run([*command, "--report-only"], check=True, env=environment, capture_output=True)
    assert sorted(p.name for p in out.glob("*.png")) + ["leaderboard.md", "leaderboard.csv"] == made
    assert (out / "leaderboard.md").read_text() == board and len(made) == 5  # curves, profile, improvement
