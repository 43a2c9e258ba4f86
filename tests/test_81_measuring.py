"""The studies that measure: the estimator targets, the training step's speed, updates to reach a level."""

import re

import numpy as np
import pytest
import torch


def test_the_estimator_benchmark_writes_every_row_and_judges_every_target(tmp_path):
    from trainers.studies.estimator_targets import report_lines
    from trainers.studies.study import run_study

    result = run_study("estimator_targets", algos=("rloo", "spo"), seeds=2, epochs=1, out=tmp_path, steps=2, width=16)
    keys = [(r["algo"], r["q+1"]) for r in result["rows"]]
    assert keys == [("persistence_daily", "-"), ("mse", "-"), ("rloo", "1"), ("rloo", "20"), ("spo", "1"), ("spo", "20")]
    assert all(r["seeds"] == 2 for r in result["rows"][1:]) and len(result["checks"]) == 7
    rows = {(r["algo"], r["q+1"]): r for r in result["rows"]}
    assert rows[("rloo", "20")]["spread"] == pytest.approx(
        np.mean([m["c95_c5"] / m["mean"] for m in (__import__("json").loads(p.read_text()) for p in tmp_path.glob("rloo-q+1=20-*/metrics.json"))]))
    printed = "\n".join(report_lines(result))
    assert all(f"{algo:<18} {q1:>4}" in printed for algo, q1 in keys)
    assert all(claim in printed for claim in result["checks"])
    for algo in ("rloo", "spo"):  # q + 1 = 20 against q = 0 and the Plain PM, with a verdict, and the consistency matrix
        assert re.search(rf"\| {algo}, q\+1 = 20 \| {algo}, q = 0 \| .* \| \*\*(levels up|trade|levels down|within noise)\*\* \|", printed)
        assert re.search(rf"\| {algo}, q\+1 = 20 \| Plain PM \|", printed)
    assert printed.count("Objective consistency (training split") == 2


def test_the_training_step_benchmark_times_every_case_and_both_rloo_scores():
    from trainers.distributed import World
    from trainers.studies.train_speed import PARTS, TRAIN_CASES, time_training_steps, train_lines

    rows = time_training_steps(World(0, 1, torch.device("cpu")), repeats=1)
    assert [(r["env"], r["backbone"], r["algo"]) for r in rows] == [
        ("EquitablePM-EV-v0", "mlp", "rloo"), ("EquitablePM-Mixed-v0", "mlp", "rloo"),
        ("EquitablePM-EV-v0", "transformer", "rloo"), ("EquitablePM-EV-v0", "transformer", "rloo/sampled"),
        ("EquitablePM-EV-v0", "transformer", "pg"), ("EquitablePM-DC-v0", "lstm", "diff"), ("EquitablePM-DC-v0", "lstm", "mse")]
    assert len(rows) == len(TRAIN_CASES) and all(r["windows_per_s"] > 0 and 0 < r["regret_share"] for r in rows)
    assert all(set(r["parts_ms"]) == set(PARTS) and min(r["parts_ms"].values()) > 0 for r in rows)
    lines = train_lines(rows)
    assert "on " in lines[0] and len(lines) == 2 + 2 * len(rows)
    assert all(f"{r['algo']:<12}" in line and f"step {r['step_ms']:7.2f} ms" in line for r, line in zip(rows, lines[1:]))
    assert all(f"estimator {r['parts_ms']['estimator']:7.2f}" in line for r, line in zip(rows, lines[2 + len(rows):]))
    del rows[0]["parts_ms"]  # a torchrun row: no breakdown
    assert len(train_lines(rows)) == 1 + 2 * len(rows)


def test_updates_to_level_is_the_median_first_crossing_and_none_if_a_run_never_crosses():
    from trainers.studies.sweep import updates_to_level

    def run(*means):
        return {"history": [{"steps": 10 * (i + 1), "mean": m} for i, m in enumerate(means)]}

    runs = [run(0.5, 0.3, 0.2), run(0.25, 0.1), run(0.4, 0.35, 0.3, 0.29)]
    assert updates_to_level(runs, 0.3) == 20.0  # crossings at 20, 10 and 30
    assert updates_to_level(runs[:2], 0.3) == 15.0
    assert updates_to_level(runs, 0.28) is None


def test_the_wall_budget_gives_each_network_its_time_over_its_measured_update_and_reuses_the_times(tmp_path):
    import json

    from trainers.studies.study import run_study
    from trainers.studies.wall_budget import TIMES, report_lines

    env = "EquitablePM-EV-v0"
    (tmp_path / TIMES).write_text(json.dumps({f"{env} mlp": 0.5, f"{env} lstm": 2.0}))  # as a first call wrote them
    result = run_study("wall_budget", envs=(env,), networks=("mlp", "lstm"), seconds=3.0, seeds=2, out=tmp_path)
    assert sorted(p.name for p in tmp_path.iterdir() if p.is_dir()) == [
        "EV-lstm-steps=2-seed=0", "EV-lstm-steps=2-seed=1", "EV-mlp-steps=6-seed=0", "EV-mlp-steps=6-seed=1"]
    rows = {r["network"]: r for r in result["rows"]}
    assert rows["mlp"]["steps"] == 6 and rows["lstm"]["update_ms"] == 2000.0 and rows["mlp"]["seeds"] == 2
    assert rows["mlp"]["mean_low"] <= rows["mlp"]["mean"] <= rows["mlp"]["mean_high"]
    printed = "\n".join(report_lines(result))
    assert "| EquitablePM-EV-v0 | persistence_daily |" in printed and "| EquitablePM-EV-v0 | mlp | 500.0 | 6 |" in printed
    assert all(claim in printed for claim in result["checks"]) and len(result["checks"]) == 2


def test_one_rloo_draw_points_along_the_expected_gradient_and_one_pg_draw_does_not():
    from trainers.studies.gradient_noise import TARGET_COSINE, draws_needed
    from trainers.studies.study import run_study

    rows = {r["algo"]: r for r in run_study("gradient_noise", algos=("rloo", "pg"), draws=24)["rows"]}
    # measured: rloo 0.985 +- 0.011 a draw; pg 0.10 +- 0.25 a draw, so its mean of 24 is within 0.35 by 5 standard errors
    assert rows["rloo"]["cosine"] > 0.9 and abs(rows["pg"]["cosine"]) < 0.35
    assert rows["pg"]["draws_needed"] > 30 * rows["rloo"]["draws_needed"]
    assert draws_needed(TARGET_COSINE) == 1.0 and draws_needed(-0.1) == float("inf")


def test_averaging_the_draws_needed_reaches_the_target_cosine():
    from trainers.studies.gradient_noise import TARGET_COSINE, draws_needed

    generator = np.random.default_rng(0)
    signal, noise = np.eye(400)[0], 3.0
    draws = signal + noise * generator.standard_normal((4000, 400)) / np.sqrt(400)
    one = float(np.mean(draws @ signal / np.linalg.norm(draws, axis=1)))
    count = round(draws_needed(one))
    average = draws[:count].mean(axis=0)
    assert count > 5 and abs(average @ signal / np.linalg.norm(average) - TARGET_COSINE) < 0.05
