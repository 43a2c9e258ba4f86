"""eqpm reproduce, on a reduced config: tables, figures, one metrics.json per run; shards and jobs agree."""

import json

import pytest

from trainers.reproduce import EXPERIMENTS, render_markdown, reproduce, run_configs
from trainers.sweep import parse_shard

DESIGN_KEYS = {"variance", "mean", "c95_c5", "mse", "entropy", "agent_regret", "env", "env_kwargs", "algo", "q", "beta", "seed", "backbone", "wall_s"}


def test_a_reduced_dc_run_writes_tables_figures_and_every_runs_metrics(tmp_path):
    rows = reproduce(["dc"], seeds=1, epochs=1, out=tmp_path)["dc"]
    configs = [c for s in EXPERIMENTS["dc"] for c in run_configs(s, 1, 1, tmp_path)]
    for config in configs:
        metrics = json.loads((config.out / "metrics.json").read_text())
        assert DESIGN_KEYS <= set(metrics)
        assert metrics["env_kwargs"]["lambdas"] == config.lambdas and metrics["q"] == config.q
    folder = tmp_path / "dc"
    figures = sorted(p.name for p in folder.glob("regret-*.png"))
    assert figures == ["regret-different-agents-different-lambda.png", "regret-different-agents-same-lambda.png",
                       "regret-similar-agents-different-lambda.png"]
    table = (folder / "summary.md").read_text()
    csv_lines = (folder / "summary.csv").read_text().strip().splitlines()
    assert len(csv_lines) == 1 + len(rows) == 1 + len(configs)
    # the paper's column is q + 1, made from the env's q
    q_plus_one = sorted({r["q+1"] for r in rows if r["setting"] == "Different Agents, Same λ"})
    assert q_plus_one == sorted(["-", "1", "2", "3", "20"])
    assert "| Different Agents, Same λ | Equitable PM | 20 |" in table
    assert "| Different Agents, Same λ | Equitable PM | 2 (theory) |" in table and "check Theorem 4.3" in table
    assert any(c.q == 19.0 for c in configs) and not any(c.q == 20.0 for c in configs)


def test_runs_already_done_are_read_not_trained_again(tmp_path, capsys):
    reproduce(["dc"], seeds=1, epochs=1, out=tmp_path, shard="0/5")
    assert "reusing" not in capsys.readouterr().out
    done = sorted(tmp_path.glob("runs/*/metrics.json"))
    stamps = [p.stat().st_mtime_ns for p in done]
    reproduce(["dc"], seeds=1, epochs=1, out=tmp_path, shard="0/5")
    assert [p.stat().st_mtime_ns for p in done] == stamps
    assert f"reusing {len(done)} of " in capsys.readouterr().out


def test_two_jobs_give_the_same_metrics_as_one(tmp_path):
    reproduce(["dc"], seeds=1, epochs=1, out=tmp_path / "one", shard="1/5", jobs=1)
    reproduce(["dc"], seeds=1, epochs=1, out=tmp_path / "two", shard="1/5", jobs=2)
    one = sorted((tmp_path / "one").glob("runs/*/metrics.json"))
    assert len(one) == 3
    for path in one:
        a = json.loads(path.read_text())
        b = json.loads((tmp_path / "two" / "runs" / path.parent.name / "metrics.json").read_text())
        assert {k: a[k] for k in ("variance", "mean", "c95_c5", "mse", "entropy", "agent_regret")} == \
               {k: b[k] for k in ("variance", "mean", "c95_c5", "mse", "entropy", "agent_regret")}


def test_shards_split_the_runs_without_overlap():
    configs = [c for s in EXPERIMENTS["ev"] for c in run_configs(s, 2, 1, __import__("pathlib").Path("x"))]
    shards = [configs[i::3] for i in range(3)]
    assert sorted(map(str, sum(shards, []))) == sorted(map(str, configs))
    with pytest.raises(ValueError, match="--shard '2/2'"):
        parse_shard("2/2")


def test_claims_are_judged_from_the_rows():
    setting = EXPERIMENTS["dc"][1]
    row = dict(experiment="dc", setting=setting.title, seeds=1, beta=0.0, theory_only=False)
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
