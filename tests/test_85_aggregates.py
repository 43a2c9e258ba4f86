"""The leaderboard's statistics across envs: normalised scores, rliable's aggregates, runs.csv and --report-only."""

import json

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from trainers.studies import aggregates
from trainers.studies.intervals import bootstrap_interval
from trainers.studies.leaderboard.render import report
from trainers.studies.leaderboard.table import read_run_table, write_run_table


@given(st.floats(0.01, 100.0), st.floats(0.0, 1.0))
def test_the_normalised_score_is_one_at_zero_regret_and_zero_at_the_reference(reference, share):
    assert aggregates.normalised_score(0.0, reference) == 1.0
    assert aggregates.normalised_score(reference, reference) == 0.0
    assert aggregates.normalised_score(share * reference, reference) == pytest.approx(1.0 - share)
    assert aggregates.normalised_score(2 * reference, reference) == pytest.approx(-1.0)  # twice the reference's regret


def test_a_reference_without_regret_is_refused():
    with pytest.raises(ValueError, match="reference regret 0.0 is not > 0"):
        aggregates.normalised_score(0.1, 0.0)


MATRIX = np.array([[0.1, 0.9], [0.2, 0.5], [0.4, 1.0], [-0.3, 0.6]])  # 4 seeds x 2 envs, worked by hand below


@pytest.mark.parametrize("with_rliable", [True, False], ids=["rliable", "scipy fallback"])
def test_the_aggregates_of_a_hand_made_matrix(with_rliable, monkeypatch):
    if with_rliable:
        pytest.importorskip("rliable")
    else:
        monkeypatch.setattr(aggregates, "have_rliable", lambda: False)
    # pooled, sorted: -0.3 0.1 0.2 0.4 0.5 0.6 0.9 1.0; the middle half 0.2 0.4 0.5 0.6
    found = aggregates.interval_estimates({"a": MATRIX})["a"]
    assert found["iqm"][0] == pytest.approx((0.2 + 0.4 + 0.5 + 0.6) / 4)
    assert found["mean"][0] == pytest.approx(3.4 / 8)
    assert found["median"][0] == pytest.approx((0.4 + 0.5) / 2)
    assert found["optimality_gap"][0] == pytest.approx((0.9 + 0.8 + 0.6 + 1.3 + 0.1 + 0.5 + 0.0 + 0.4) / 8)
    for point, low, high in found.values():
        assert low <= point <= high and low < high


def test_the_stratified_bootstrap_keeps_each_env_in_its_column():
    """rliable resamples seeds within each env, so every draw holds ten runs of each: the interval of the mean
    is far narrower than a bootstrap of the pooled runs, whose draws hold more of one env or the other."""
    pytest.importorskip("rliable")
    same = np.column_stack([np.linspace(-0.2, 0.2, 10), np.ones(10)])
    stratified = aggregates.interval_estimates({"a": same})["a"]["mean"]
    pooled = bootstrap_interval(np.ravel(same), "mean")
    assert stratified[2] - stratified[1] < pooled[2] - pooled[1]


def test_probability_of_improvement_worked_by_hand():
    x, y = np.array([[1.0], [2.0]]), np.array([[1.5], [0.0]])
    assert aggregates.improvement(x, y) == 0.75  # 1 > 0, 2 > 1.5, 2 > 0; 1 < 1.5
    assert aggregates.improvement(x, x) == 0.5  # ties count half
    result = aggregates.probability_of_improvement({"x": x, "y": y}, "y")
    assert list(result) == ["x"] and result["x"][0] == 0.75


def test_a_difference_is_called_only_where_the_intervals_do_not_overlap():
    assert aggregates.difference((0.6, 0.5, 0.7), (0.3, 0.2, 0.4)) == "better"
    assert aggregates.difference((0.3, 0.2, 0.4), (0.6, 0.5, 0.7)) == "worse"
    assert aggregates.difference((0.6, 0.3, 0.7), (0.4, 0.2, 0.5)) == "no call (intervals overlap)"


def rows(algo, env, seeds, mean, worst10, reference=(0.5, 1.0)):
    return [{"algo": algo, "env": env, "env_kwargs": {"agents": "different"}, "seed": s, "budget": 4, "q": 1.0,
             "variance": 0.01, "mean": mean + 0.01 * s, "c95_c5": 0.2, "worst10": worst10 + 0.02 * s, "mse": 3.0,
             "entropy": 0.99, "reference": "persistence_daily", "reference_mean": reference[0],
             "reference_worst10": reference[1], "wall_s": 1.0, "steps": 4, "windows": 512,
             "versions": {"eq_gym": "0.1.0"}, "history": [{"steps": 4, "mean": mean + 0.01 * s}]} for s in range(seeds)]


def test_only_algorithms_with_every_env_and_equal_seeds_are_aggregated():
    table = rows("mse", "A", 3, 0.4, 0.8) + rows("mse", "B", 3, 0.3, 0.6) + rows("diff", "A", 3, 0.2, 0.5)
    matrices = aggregates.score_matrices(table, "worst10")
    assert list(matrices) == ["mse"] and matrices["mse"].shape == (3, 2)
    assert matrices["mse"][0, 0] == pytest.approx(1 - 0.8 / 1.0)


def test_runs_csv_round_trips_and_report_only_rebuilds_the_same_tables(tmp_path):
    table = sum((rows(algo, env, 3, m, w) for algo, m, w in (("mse", 0.4, 0.9), ("rloo", 0.35, 0.7), ("spo", 0.3, 0.6))
                 for env in ("A", "B")), [])
    write_run_table(table, tmp_path / "first")
    again = read_run_table(tmp_path / "first")
    assert again == table
    first = report(table, tmp_path / "first")
    (tmp_path / "first" / "leaderboard.md").rename(tmp_path / "first.md")
    assert report(again, tmp_path / "first") == first
    rebuilt = (tmp_path / "first" / "leaderboard.md").read_text()
    assert rebuilt == (tmp_path / "first.md").read_text()
    assert "Intervals rest on 6 runs per algorithm (2 envs x 3 seeds)" in rebuilt
    assert (tmp_path / "first" / "profile.png").is_file() and (tmp_path / "first" / "improvement.png").is_file()


def test_the_captured_share_of_the_hindsight_lift_against_the_plain_pm(tmp_path):
    """mse's worst tenth 0.92 (mean over seeds), rloo's 0.72: a fall of 0.2 where hindsight falls 0.8 at q + 1 = 2."""
    table = rows("mse", "A", 3, 0.4, 0.9) + rows("rloo", "A", 3, 0.35, 0.7) + rows("rloo", "B", 3, 0.35, 0.7)
    (tmp_path / "front").mkdir()
    (tmp_path / "front" / "frontier.json").write_text(json.dumps(
        {"env": "A", "truth": {"1": {"test": {"worst10": 1.0}}, "2": {"test": {"worst10": 0.2}}}}))
    found = {(r["env"], r["algo"]): r["captured"] for r in report(table, tmp_path / "board", (tmp_path / "front",))}
    assert found[("A", "rloo")] == pytest.approx(0.25)
    assert found[("A", "mse")] is None and found[("B", "rloo")] is None  # the baseline itself; no front for B
    assert "| 25 % |" in (tmp_path / "board" / "leaderboard.md").read_text()


def test_report_only_without_runs_says_what_to_run(tmp_path):
    with pytest.raises(ValueError, match="no .*runs.csv; run `eqpm benchmark --out"):
        read_run_table(tmp_path)


def test_the_intervals_do_not_depend_on_numpys_global_random_state():
    """rliable's bootstrap also reads numpy's global state: the same runs must give the same intervals after
    any other draws (a leaderboard rebuilt by --report-only in a fresh process prints the same table)."""
    pytest.importorskip("rliable")
    first = aggregates.interval_estimates({"a": MATRIX})
    np.random.seed(5)
    np.random.rand(100)
    assert aggregates.interval_estimates({"a": MATRIX}) == first
