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


def test_the_window_view_learners_join_the_leaderboard_with_their_budget(tmp_path):
    rows = benchmark(["EquitablePM-EV-v0"], ["ppo-windows", "a2c-windows"], budget=8, seeds=1, out=tmp_path)
    assert {r["algo"] for r in rows} == {"ppo-windows", "a2c-windows"}
    for row in rows:  # 8 updates' worth of windows: 1,024, one PPO rollout of 64 x 16
        assert row["steps"] == 8 and np.isfinite(row["mean"])
    board = (tmp_path / "leaderboard.md").read_text()
    assert "| EquitablePM-EV-v0 | ppo-windows |" in board


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
