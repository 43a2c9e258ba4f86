"""The room-for-q study (eqpm bench room): share divergence, the conflict test, garbled forecasts, the q sweep's runs."""

import dataclasses

import numpy as np
import pytest

import eq_gym
from eq_gym.tasks import PAPER_SETTING, make_task
from trainers.evaluate import evaluate
from trainers.studies.room import SETTINGS, conflict, garbled_forecaster, share_divergence

ENV_IDS = list(eq_gym.ENV_IDS)
TASKS = {"EquitablePM-DC-v0": "dc", "EquitablePM-EV-v0": "ev", "EquitablePM-Mixed-v0": "mixed"}


@pytest.mark.parametrize("name", ["ev", "dc"])
def test_under_shared_timing_one_agents_scale_moves_its_regret_and_nothing_else(name):
    task = make_task(name, split="test", agents="different", timing="shared", num_agents=12, priorities="shared")
    group = task.population.groups[0]
    bigger = {k: v.clone() for k, v in group.pool.values.items()}
    key = "rate" if name == "ev" else "demand"
    bigger[key][3] *= 4.0  # agent 3 charges four times as fast (EV) or has four times the demand (DC)
    scaled_group = group.to("cpu")  # a copy
    scaled_group.pool = dataclasses.replace(group.pool, values=bigger)
    scaled = dataclasses.replace(task, population=type(task.population)([scaled_group], task.population.hour, task.population.window_share))
    morning, evening = garbled_forecaster(task, (6, 12)), garbled_forecaster(task, (16, 22))
    factor = 4.0 if name == "ev" else 2.0  # DC regret grows as sqrt(demand)
    base, moved = ([evaluate(f, t)[1] for f in (morning, evening)] for t in (task, scaled))
    for before, after in zip(base, moved):
        assert after[3] == pytest.approx(factor * before[3], rel=1e-5)
        np.testing.assert_allclose(np.delete(after, 3), np.delete(before, 3), rtol=1e-6)
    # how each agent's regret moves between the two forecasts: the scale cancels in it
    ratios = [regrets[0] / regrets[1] for regrets in (base, moved)]
    np.testing.assert_allclose(ratios[1], ratios[0], rtol=1e-5)
    # and where every agent acts on every window, the ratio barely differs between agents: shares hardly move
    assert ratios[0].std() / ratios[0].mean() < 0.1


@pytest.mark.parametrize("env_id", ENV_IDS)
def test_agents_on_their_own_hours_see_a_morning_and_an_evening_error_differently(env_id):
    own = share_divergence(make_task(TASKS[env_id], split="test", agents="different", priorities="shared"))
    shared = share_divergence(make_task(TASKS[env_id], split="test", agents="different", timing="shared", priorities="shared"))
    assert own > 2 * shared and own - shared > 0.05, (own, shared)


def test_the_room_sweep_can_be_run_again_into_the_same_folder_and_judges_from_two_seeds(tmp_path):
    from trainers.studies.levelling import ONE_SEED, VERDICTS
    from trainers.studies.study import run_study

    options = dict(envs=("EquitablePM-DC-v0",), epochs=1, out=tmp_path, steps=2, backbone="lstm", hidden=8)
    first = run_study("room", **options)
    kept = tmp_path / "EquitablePM-DC-v0-default-q19-epochs=1" / "metrics.json"
    stamp = kept.stat().st_mtime_ns
    assert run_study("room", **options) == first and kept.stat().st_mtime_ns == stamp  # reused, not refused
    assert [row["setting"] for row in first] == list(SETTINGS) and len(list(tmp_path.iterdir())) == 2 * len(SETTINGS)
    assert all(row["verdict"] == ONE_SEED for row in first)
    seeds = run_study("room", **options, seeds=2)  # seed 0 reused, seed 1 trained
    assert kept.stat().st_mtime_ns == stamp and (tmp_path / "EquitablePM-DC-v0-default-q19-epochs=1-seed=1" / "metrics.json").is_file()
    assert all(row["verdict"] in VERDICTS for row in seeds)


@pytest.mark.parametrize("name", ["dc", "ev", "mixed"])
def test_the_conflict_test_is_zero_in_the_papers_setting_and_positive_with_defaults(name):
    default, paper = make_task(name, split="test"), make_task(name, split="test", **PAPER_SETTING)
    assert conflict(paper) == 0.0 and conflict(make_task(name, split="test", priorities="shared")) == 0.0
    assert conflict(default) > 0.2  # the perfect public forecast leaves a fifth of persistence's regret or more
    assert share_divergence(default) >= (0.03 if name == "dc" else 0.10)  # the defaults pose the trade


def test_a_studys_shards_run_disjoint_runs_and_the_report_waits_for_all(tmp_path, capsys):
    """The one runner's --shard: each shard trains its own slice; the report comes once every run is there."""
    from trainers.studies.study import run_study

    options = dict(envs=("EquitablePM-DC-v0",), epochs=1, out=tmp_path, steps=2, backbone="lstm", hidden=8)
    assert run_study("room", **options, shard="0/2") is None
    assert "4 of 8 runs are not in" in capsys.readouterr().out and len(list(tmp_path.glob("*/metrics.json"))) == 4
    rows = run_study("room", **options, shard="1/2")  # the other half: every run is there, so the report comes
    assert len(list(tmp_path.glob("*/metrics.json"))) == 8 and [row["setting"] for row in rows] == list(SETTINGS)
