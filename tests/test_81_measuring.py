"""The studies that measure: the estimator targets, the training step's speed, updates to reach a level."""

import re

import numpy as np
import pytest
import torch


def test_the_estimator_benchmark_writes_every_row_and_judges_every_target(tmp_path):
    from trainers.studies.estimator_targets import report_lines
    from trainers.studies.study import run_study

    result = run_study("estimator_targets", algos=("rloo", "spo"), seeds=2, epochs=1, out=tmp_path, steps=2, d_model=16, heads=2)
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
    from trainers.studies.train_speed import TRAIN_CASES, time_training_steps, train_lines

    rows = time_training_steps(World(0, 1, torch.device("cpu")), repeats=1)
    assert [(r["env"], r["algo"]) for r in rows] == [
        ("EquitablePM-EV-v0", "rloo"), ("EquitablePM-EV-v0", "rloo/sampled"), ("EquitablePM-EV-v0", "pg"),
        ("EquitablePM-DC-v0", "diff"), ("EquitablePM-DC-v0", "mse")]
    assert len(rows) == len(TRAIN_CASES) and all(r["windows_per_s"] > 0 and 0 < r["regret_share"] for r in rows)
    lines = train_lines(rows)
    assert "on " in lines[0] and len(lines) == 1 + len(rows)
    assert all(f"{r['algo']:<12}" in line and f"step {r['step_ms']:7.2f} ms" in line for r, line in zip(rows, lines[1:]))


def test_updates_to_level_is_the_median_first_crossing_and_none_if_a_run_never_crosses():
    from trainers.studies.sweep import updates_to_level

    def run(*means):
        return {"history": [{"steps": 10 * (i + 1), "mean": m} for i, m in enumerate(means)]}

    runs = [run(0.5, 0.3, 0.2), run(0.25, 0.1), run(0.4, 0.35, 0.3, 0.29)]
    assert updates_to_level(runs, 0.3) == 20.0  # crossings at 20, 10 and 30
    assert updates_to_level(runs[:2], 0.3) == 15.0
    assert updates_to_level(runs, 0.28) is None
