"""The attainable frontier (eqpm bench frontier): hindsight families, picks by the training split's P_q, the report."""

import json
import math

import numpy as np
import pytest
import torch

from eq_gym import signals
from eq_gym.envs.base import task_of
from eq_gym.objective import equitable_objective
from trainers.evaluate import evaluate, perfect_forecaster, reference_forecaster
from trainers.studies.hindsight import Forecasts, choose, posthoc_forecaster, simplex, truth_forecaster
from trainers.studies.levelling import captured_lines, captured_share
from trainers.studies.study import run_study


@pytest.fixture(scope="module")
def ev():
    return task_of("EquitablePM-EV-v0", "train", {}), task_of("EquitablePM-EV-v0", "test", {})


@pytest.mark.parametrize("env_id", ["EquitablePM-EV-v0", "EquitablePM-DC-v0"])
def test_the_truth_family_at_the_index_weights_is_the_perfect_forecaster_bit_for_bit(env_id):
    task = task_of(env_id, "test", {})
    index = np.array(signals.INDEX_WEIGHTS[task.signal_kind])
    assert any(np.array_equal(point, index) for point in simplex(3, index.sum(), 30))  # a grid point
    metrics, regret = evaluate(truth_forecaster(task, index), task)
    perfect_metrics, perfect_regret = evaluate(perfect_forecaster(task), task)
    assert np.array_equal(regret, perfect_regret) and metrics == perfect_metrics


def test_the_simplex_grid_holds_every_point_of_its_step_once():
    grid = simplex(3, 3.0, 6)
    assert len(grid) == 28 and np.allclose(grid.sum(axis=1), 3.0) and (grid >= 0).all()
    assert len({tuple(p) for p in grid}) == len(grid)


def test_each_pick_is_never_worse_on_the_training_objective_than_any_other_candidate(ev):
    train, test = ev
    candidates = [{"weights": w} for w in ((1.0, 1.0, 1.0), (3.0, 0.0, 0.0), (0.0, 0.0, 3.0), (0.5, 1.0, 1.5), (1.5, 1.5, 0.0))]
    tasks = {"train": train, "test": test}
    build = lambda split, c: truth_forecaster(tasks[split], np.array(c["weights"]))  # noqa: E731
    picks = choose(candidates, build, tasks, (1.0, 5.0, math.inf))
    regrets = torch.from_numpy(np.stack([evaluate(build("train", c), train)[1] for c in candidates]))
    for label, q in (("1", 0.0), ("5", 4.0), ("inf", math.inf)):
        objective = equitable_objective(regrets, q, "power_mean").numpy()
        assert picks[label]["objective"] == pytest.approx(objective.min())
        assert picks[label]["parameters"] == candidates[int(np.argmin(objective))]
    assert picks["1"]["parameters"]["weights"] == (1.0, 1.0, 1.0)  # at q = 0 the perfect index among these
    assert picks["inf"]["train"]["worst10"] < picks["1"]["train"]["worst10"]  # and a larger q lifts the worst-served


def test_informed_runs_from_the_models_forecast_at_no_information_to_the_truth_at_all_of_it(ev):
    task = ev[1]
    model = Forecasts(reference_forecaster(task, "persistence_daily"), task)
    index = {"water": 1.0, "price": 1.0}
    _, own = evaluate(lambda inputs, start: model.rows(start), task)
    _, uninformed = evaluate(posthoc_forecaster(task, model, 1.0, index, share=0.0), task)
    _, informed = evaluate(posthoc_forecaster(task, model, 1.0, index, share=1.0), task)
    _, perfect = evaluate(perfect_forecaster(task), task)
    np.testing.assert_allclose(uninformed, own, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(informed, perfect, rtol=1e-4, atol=1e-5)
    assert own.mean() > 1.5 * perfect.mean()  # the two ends differ: the check above could not pass by accident


def test_the_captured_share_is_the_learned_fall_over_the_hindsight_fall():
    assert captured_share(1.0, 0.9, 1.0, 0.6) == pytest.approx(0.25)
    assert captured_share(1.0, 1.1, 1.0, 0.6) == pytest.approx(-0.25)  # a learner that raised the worst-served
    assert captured_share(1.0, 0.9, 0.6, 0.6) is None  # no hindsight lift: nothing to capture
    runs = {"1": [{"mean": 0.5, "worst10": 1.0, "best10": 0.1}] * 2, "5": [{"mean": 0.6, "worst10": 0.9, "best10": 0.1}] * 2}
    truth = {"1": {"test": {"worst10": 1.0}}, "5": {"test": {"worst10": 0.6}}}
    assert captured_lines(runs, truth) == ["- q+1 = 5: worst tenth 1.0000 -> 0.9000 learned, 1.0000 -> 0.6000 in hindsight "
                                           "(truth re-weighted): captured 25 % of the lift"]


def test_a_tiny_bench_frontier_end_to_end(tmp_path):
    torch.set_num_threads(1)
    result = run_study("frontier", env="EquitablePM-EV-v0", algo="spo", seeds=1, epochs=1, out=tmp_path, q_plus_one=(1.0, math.inf),
                            resolution=2, scales=(1.0,), known_weights=(0.0, 1.0), steps=2, backbone="lstm", hidden=8)
    written = json.loads((tmp_path / "frontier.json").read_text())
    assert written["q_plus_one"] == ["1", "inf"] and set(written["truth"]) == {"1", "inf"}
    for family in ("posthoc", "mixture"):
        for label in ("1", "inf"):
            pick = written["seeded"]["0"][family][label]
            assert set(pick["train"]) == set(pick["test"]) == {"mean", "worst10", "best10", "largest"}
    assert len(written["seeded"]["0"]["posthoc"]["1"]["parameters"]["known"]) == 2  # EV's water and price
    informed = written["seeded"]["0"]["informed"]
    assert set(informed) == {"0", "0.25", "0.5", "0.75", "1"}
    for label in ("1", "inf"):  # posthoc re-weights either model, informed the q = 0 model's: never better on training
        assert written["seeded"]["0"]["posthoc"][label]["objective"] <= informed["0"][label]["objective"]
        assert informed["0"][label]["parameters"]["model"] == "model"
    assert {written["seeded"]["0"]["posthoc"][label]["parameters"]["model"] for label in ("1", "inf")} <= {"model", "mse"}
    assert informed["1"]["1"]["train"]["mean"] < informed["0"]["1"]["train"]["mean"]  # information lowers the regret
    model = np.array(result["seeded"][0]["learned"]["model"]["test_agent_regret"])
    unshrunk = np.array(result["seeded"][0]["information"]["0"]["test_agent_regret"])
    np.testing.assert_allclose(unshrunk, model, rtol=1e-4, atol=1e-6)  # s = 0: the model's own forecast
    assert result["seeded"][0]["information"]["0.75"]["test"]["mean"] < result["seeded"][0]["information"]["0"]["test"]["mean"]
    mixture = result["seeded"][0]["mixture"]
    assert {pick["parameters"]["share"] for pick in mixture.values()} <= {0.0, 0.5, 1.0}
    report = (tmp_path / "frontier.md").read_text()
    assert "against the family's q = 0" in report and "truth front on the training split" in report
    assert "How much information the re-weighting needs" in report
    assert (tmp_path / "frontier.png").stat().st_size > 0


def test_bench_q_reads_a_frontier_of_its_own_env_and_refuses_another(tmp_path):
    from trainers.studies.hindsight import read_truth

    assert read_truth(None, "EquitablePM-EV-v0") is None
    with pytest.raises(ValueError, match="no frontier.json there; run `eqpm bench frontier --env EquitablePM-EV-v0"):
        read_truth(tmp_path, "EquitablePM-EV-v0")
    (tmp_path / "frontier.json").write_text(json.dumps({"env": "EquitablePM-DC-v0", "truth": {}}))
    with pytest.raises(ValueError, match="is of EquitablePM-DC-v0, this run of EquitablePM-EV-v0"):
        read_truth(tmp_path, "EquitablePM-EV-v0")
    assert read_truth(tmp_path, "EquitablePM-DC-v0") == {}


def test_truth_front_line_says_which_of_its_scores_are_monotone_in_q():
    from trainers.studies.frontier import truth_front_line

    def front(worst, largest, mean):
        return {"q_plus_one": ["1", "2", "inf"],
                "truth": {label: {"train": {"worst10": w, "largest": big, "mean": m}}
                          for label, w, big, m in zip(["1", "2", "inf"], worst, largest, mean)}}

    line = truth_front_line(front([0.68, 0.43, 0.44], [0.76, 0.47, 0.45], [0.16, 0.19, 0.22]))
    assert "worst tenth 0.6800, 0.4300, 0.4400 (not monotone in q)" in line  # P_inf's pick: the largest, not the tenth
    assert "largest regret 0.7600, 0.4700, 0.4500 (monotone in q)" in line
    assert "mean 0.1600, 0.1900, 0.2200 (monotone in q)" in line
    falling_mean = truth_front_line(front([0.6, 0.5, 0.4], [0.7, 0.6, 0.5], [0.16, 0.15, 0.2]))
    assert "mean 0.1600, 0.1500, 0.2000 (not monotone in q)" in falling_mean  # a mean that falls as q rises
    old = front([0.6, 0.5, 0.4], [0.7, 0.6, 0.5], [0.16, 0.18, 0.2])
    for label in ("1", "2", "inf"):
        del old["truth"][label]["train"]["largest"]
    assert "largest" not in truth_front_line(old) and "worst tenth 0.6000, 0.5000, 0.4000 (monotone in q)" in truth_front_line(old)
