"""eqpm reproduce, on a reduced config: tables, figures, one metrics.json per run; shards and jobs agree."""

import json
import math
import re
from dataclasses import replace
from pathlib import Path

import pytest

from trainers.config import DEFAULT_NETWORK, TrainConfig
from trainers.studies.reproduce.experiments import (
    BUDGETS,
    DC,
    EV,
    EXPERIMENTS,
    QUICK_LEARNER,
    in_both_setups,
    run_configs,
    with_the_learner,
)
from trainers.studies.reproduce.runs import reproduce
from trainers.studies.reproduce.summary import render_markdown
from trainers.studies.sweep import parse_shard, shard_of

DESIGN_KEYS = {"variance", "mean", "c95_c5", "mse", "entropy", "agent_regret", "env", "env_kwargs", "algo", "q", "beta", "seed", "backbone", "wall_s"}


@pytest.fixture
def tiny(monkeypatch):
    """One DC block in both setups with 12 agents, q + 1 in (1, 3) and the theory row: 8 runs a seed."""
    settings = in_both_setups("dc", "Different Agents, Same λ", DC, {"agents": "different", "lambdas": "same", "num_agents": 12},
                              backbone="lstm", algos=("diff",), q_plus_one=(1.0, 3.0), quick_q_plus_one=(1.0,),
                              theory_q_plus_one=(2.0,))
    monkeypatch.setitem(EXPERIMENTS, "dc", settings)
    return settings


def test_a_reduced_run_writes_both_setups_tables_figures_intervals_and_every_runs_metrics(tiny, tmp_path):
    rows = reproduce(["dc"], seeds=2, epochs=1, out=tmp_path)["dc"]
    configs = [c for s in tiny for c in run_configs(s, 2, 1, tmp_path)]
    assert len(configs) == 2 * 4 * 2
    for config in configs:
        metrics = json.loads((config.out / "metrics.json").read_text())
        assert DESIGN_KEYS <= set(metrics)
        assert metrics["env_kwargs"]["timing"] == (config.timing or "own") and metrics["q"] == config.q
        assert metrics["env_kwargs"]["priorities"] == (config.priorities or "own")
    assert {c.timing for c in configs} == {None, "shared"} and {c.features for c in configs} == {None, "paper"}  # None: the env's
    folder = tmp_path / "dc"
    assert sorted(p.name for p in folder.glob("*.png")) == ["frontier-dc.png", "regret-dc-different-agents-same-lambda.png"]
    assert all(p.name.isascii() for p in folder.iterdir())
    table = (folder / "summary.md").read_text()
    trained = [r for r in rows if r["seeds"]]
    assert len(trained) == 2 * 4 and {r["setup"] for r in trained} == {"paper", "default"}
    references = [r for r in rows if r["method"].startswith("reference")]
    assert {r["algo"] for r in references} == {"persistence_daily", "persistence_last", "vendor"}
    for row in trained:  # the interval brackets the mean over seeds, and is the seeds' range with 2 seeds
        assert row["mean_low"] <= row["mean"] <= row["mean_high"] and row["mean_low"] < row["mean_high"]
        cell = f"{row['mean']:.4f} [{row['mean_low']:.4f}, {row['mean_high']:.4f}]"
        assert cell in table
    csv_lines = (folder / "summary.csv").read_text().strip().splitlines()
    assert len(csv_lines) == 1 + len(rows)
    assert "Network of every run: EquitablePM-DC-v0 the LSTM (hidden 50) (the paper's);" in table
    assert all(json.loads((c.out / "metrics.json").read_text())["backbone"] == "lstm" for c in configs)
    assert "| Different Agents, Same λ | default | Equitable PM | 3 |" in table
    assert "| Different Agents, Same λ | paper | Equitable PM | 2 (theory) |" in table and "check Theorem 4.3" in table
    assert "- Different Agents, Same λ, paper:" in table and "- Different Agents, Same λ, default:" in table
    for setup in ("paper", "default"):  # each q against q = 0 and the Plain PM in the four words, and the consistency
        section = table.split(f"### Different Agents, Same λ, {setup} setup: Equitable PM, the paper's recipe, over q")[1].split("###")[0]
        for point, against in (("q+1 = 3", "q = 0"), ("q+1 = 3", "Plain PM"), ("q+1 = 1", "Plain PM")):
            assert re.search(rf"\| {re.escape(point)} \| {against} \| .*\*\*(levels up|trade|levels down|within noise)\*\* \| (yes|no) \|", section)
        assert "Objective consistency (training split" in section and ("- holds:" in section or "- does not hold:" in section)
    ceiling = table.split("### The hindsight ceiling")[1]
    paper = re.search(r"\| Different Agents, Same λ \| paper \| (.*) \|", ceiling).group(1).split(" | ")
    default = re.search(r"\| Different Agents, Same λ \| default \| (.*) \|", ceiling).group(1).split(" | ")
    assert len(paper) == len(default) == 5 and set(paper) == {"0.0000 / 0.0000"}  # the paper's agents all pay the index
    assert float(default[-1].split(" / ")[1]) < float(default[0].split(" / ")[1])  # own priorities: q lifts the worst


def test_quick_runs_the_quick_values_only(tiny, tmp_path):
    rows = reproduce(["dc"], quick=True, seeds=1, epochs=1, out=tmp_path)["dc"]
    assert sorted({r["q+1"] for r in rows if r["seeds"]}) == ["-", "1", "2"]


def test_the_main_job_trains_the_learner_as_eqpm_train_does_in_both_setups_on_its_quick_schedule():
    quick = [s for s in EXPERIMENTS["ev"] if s.quick_q_plus_one is not None]
    learner = [s for s in quick if s.recipe == "path"]
    assert {s.setup for s in learner} == {"paper", "default"} and len(quick) == 2 * len(learner)
    configs = [c for s in learner for c in run_configs(s, 3, 2, Path("x"), quick=True)]
    assert {(c.algo, c.q) for c in configs} == {("mse", 0.0), ("rloo", 0.0), ("rloo", math.inf)}
    for config in configs:  # what `eqpm train --q Q [--algo mse] --epochs 15 --rung-epochs 4` makes, on the block's agents
        made = TrainConfig(env=EV, algo=config.algo, q=config.q, seed=config.seed, **QUICK_LEARNER, **config.env_kwargs())
        assert replace(config, out=made.out, progress=True) == made
        assert (config.recipe, config.backbone, config.keep, config.epochs, config.rung_epochs) == ("path", "mlp", "best", 15, 4)
    everything = [c.out for s in quick for c in run_configs(s, 3, 2, Path("x"), quick=True)]
    assert len(set(everything)) == len(everything)  # no learner run shares a folder with a run of the paper's method


def test_the_learner_beside_the_papers_method_and_the_summary_says_first_which_levels_up(monkeypatch, tmp_path):
    settings = [s for s in with_the_learner("dc", "Different Agents, Same λ", DC,
                                            {"agents": "different", "lambdas": "same", "num_agents": 12}, backbone="lstm",
                                            algos=("diff",), q_plus_one=(1.0, 3.0), quick_q_plus_one=(1.0, 3.0))
                if s.setup == "default"]
    monkeypatch.setitem(EXPERIMENTS, "dc", settings)
    monkeypatch.setitem(DEFAULT_NETWORK, DC, {"backbone": "mlp"})  # the learner takes the env's default network: a small one
    monkeypatch.setitem(BUDGETS, DC, replace(BUDGETS[DC], quick_learner={"epochs": 1, "rung_epochs": 1, "rungs": (math.inf,)}))
    rows = reproduce(["dc"], quick=True, seeds=2, epochs=1, out=tmp_path)["dc"]
    table = (tmp_path / "dc" / "summary.md").read_text()
    headline = table.split("\n\n")[1].splitlines()
    assert table.startswith("## dc: which levels up") and len(headline) == 2
    for line, top in zip(headline, ("Equitable PM, the paper's recipe: q+1 = 3", "Equitable learner (rloo, β 0.05): q+1 = inf")):
        assert top in line
        assert re.search(r"\*\*(levels up|trade|levels down|within noise)\*\* against its q = 0 .*"
                         r"\*\*(levels up|trade|levels down|within noise)\*\* against its Plain PM", line)
    methods = {r["method"]: r for r in rows if r["seeds"]}
    assert {"Plain PM", "Equitable PM", "Plain PM, trained as the learner", "Equitable learner (rloo, β 0.05)"} == set(methods)
    for config in run_configs(settings[1], 2, 1, tmp_path, quick=True):
        record = json.loads((config.out / "metrics.json").read_text())
        assert (record["backbone"], record["keep"], record["recipe"], len(record["path"])) == ("mlp", "best", "path", 2)
    assert all(json.loads((c.out / "metrics.json").read_text())["backbone"] == "lstm"
               for c in run_configs(settings[0], 2, 1, tmp_path, quick=True))
    section = table.split("### Different Agents, Same λ, default setup: Equitable learner (rloo, β 0.05), over q")[1]
    assert re.search(r"\| q\+1 = inf \| q = 0 \| .*\*\*", section) and re.search(r"\| q\+1 = inf \| Plain PM \| .*\*\*", section)
    assert re.search(r"- q\+1 = inf: worst tenth [\d.]+ -> [\d.]+ learned, [\d.]+ -> [\d.]+ in hindsight", section)
    assert (tmp_path / "dc" / "frontier-dc.png").stat().st_size > 0


def test_runs_already_done_are_read_not_trained_again(tiny, tmp_path, capsys):
    reproduce(["dc"], seeds=1, epochs=1, out=tmp_path, shard="0/5")
    assert "reusing" not in capsys.readouterr().out
    done = sorted(tmp_path.glob("runs/*/metrics.json"))
    stamps = [p.stat().st_mtime_ns for p in done]
    reproduce(["dc"], seeds=1, epochs=1, out=tmp_path, shard="0/5")
    assert [p.stat().st_mtime_ns for p in done] == stamps
    assert f"reusing {len(done)} of " in capsys.readouterr().out


@pytest.mark.slow
def test_two_jobs_give_the_same_metrics_as_one(tiny, tmp_path):
    reproduce(["dc"], seeds=1, epochs=1, out=tmp_path / "one", shard="1/5", jobs=1)
    reproduce(["dc"], seeds=1, epochs=1, out=tmp_path / "two", shard="1/5", jobs=2)
    one = sorted((tmp_path / "one").glob("runs/*/metrics.json"))
    assert len(one) == 2
    for path in one:
        a = json.loads(path.read_text())
        b = json.loads((tmp_path / "two" / "runs" / path.parent.name / "metrics.json").read_text())
        assert {k: a[k] for k in ("variance", "mean", "c95_c5", "mse", "entropy", "agent_regret")} == \
               {k: b[k] for k in ("variance", "mean", "c95_c5", "mse", "entropy", "agent_regret")}


def test_shards_split_the_runs_without_overlap():
    configs = [c for s in EXPERIMENTS["ev"] for c in run_configs(s, 2, 1, __import__("pathlib").Path("x"))]
    shards = [shard_of(configs, f"{i}/3") for i in range(3)]
    assert all(shards) and sorted(map(str, sum(shards, []))) == sorted(map(str, configs))  # all runs, each once
    with pytest.raises(ValueError, match="--shard '2/2'"):
        parse_shard("2/2")


def test_claims_are_judged_from_the_rows():
    setting = EXPERIMENTS["dc"][1]
    row = dict(experiment="dc", setting=setting.title, setup=setting.setup, seeds=1, beta=0.0, theory_only=False)
    stats = lambda v, m: {"variance": v, "variance_std": 0, "mean": m, "mean_std": 0, "c95_c5": v, "c95_c5_std": 0,  # noqa: E731
                          "worst10": m + v, "worst10_std": 0, "mse": 1.0, "mse_std": 0, "entropy": 1 - v, "entropy_std": 0}
    rows = [
        {**row, "method": "Equitable PM", "algo": "diff", "q+1": "1", **stats(0.5, 1.0)},
        {**row, "method": "Equitable PM", "algo": "diff", "q+1": "3", **stats(0.2, 0.9)},
        {**row, "method": "Plain PM", "algo": "mse", "q+1": "-", **stats(0.9, 1.2)},
    ]
    text = render_markdown("dc", rows, [setting])
    assert "more uniform than Plain PM (variance and C95-C5 lower at the largest q): holds" in text
    assert "lower mean regret than Plain PM (largest q): holds" in text
    assert "MSE a little higher than Plain PM (largest q): holds" in text
    assert "more even at the largest q than at the smallest (entropy higher, (C95-C5)/mean lower): holds;" in text
    overlapping = [dict(r, entropy_low=0.0, entropy_high=1.0) for r in rows]  # intervals that overlap: said, not hidden
    assert "holds within noise (the entropies' intervals overlap)" in render_markdown("dc", overlapping, [setting])


def test_labels_of_points_close_together_never_overlap_whichever_series_they_belong_to():
    """PanelLabels: the labels of two series' points that nearly coincide are moved apart until no two boxes
    overlap; a lone point keeps its label beside it."""
    from trainers.studies.figures import PanelLabels, pyplot

    figure, axis = pyplot().subplots()
    axis.plot([0, 10], [0, 10])
    labels = PanelLabels(axis)
    for x, y in [(5.0, 5.0), (5.05, 5.0), (5.0, 5.05)]:  # one recipe's points
        labels.add(x, y, "q+1=inf", fontsize=7)
    labels.add(5.02, 5.01, "q+1=inf, captured 40 %", fontsize=7)  # another recipe's, on top of them
    labels.add(5.0, 4.9, "q+1=2", below=True, fontsize=6)  # a ceiling's, below its point
    labels.add(1.0, 1.0, "q+1=1", fontsize=7)
    offsets = labels.draw()
    heights = [8.4, 8.4, 8.4, 8.4, 7.2]
    stacked = sorted((dy, dy + h) for (_, dy), h in zip(offsets[:4], heights))
    assert all(top <= bottom + 1.5 for (_, top), (bottom, _) in zip(stacked, stacked[1:]))  # one above another
    assert offsets[4][1] < 0 and offsets[5] == (4.0, 3)
    pyplot().close(figure)
