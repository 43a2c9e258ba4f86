"""The leaderboard's runs: each algorithm on each env over seeds, and runs.csv, the tidy table every report reads."""

from __future__ import annotations

import importlib
from pathlib import Path
from typing import Any

import numpy as np

from eq_gym.metrics import METRIC_NAMES as STATS
from eq_gym.metrics import best_served
from trainers.estimators import ESTIMATORS
from trainers.records import read_record, write_record
from trainers.studies.leaderboard import SB3_ALGOS
from trainers.studies.leaderboard.plugins import ALGORITHMS, BATCH, BenchmarkRun, allowed
from trainers.studies.leaderboard.render import reference_record, report
from trainers.studies.leaderboard.table import write_run_table
from trainers.studies.sweep import run_all

EQPM_ALGOS = (*ESTIMATORS, "learner")
"""The board's algorithms that eqpm trains (a finished run is reused only if made with the same settings)."""


def run_benchmark_run(run: BenchmarkRun) -> dict[str, Any]:
    """Run one benchmark run unless it is done; its record lands in ``run.out/metrics.json``.

    eqpm's own algorithms (:data:`EQPM_ALGOS`) check a finished run's settings before reusing it (:func:`trainers.studies.sweep.train_once`);
    other libraries' learners are reused as they are.
    """
    for plugin in run.plugins:
        importlib.import_module(plugin)
    done = read_record(run.out)
    if done is not None and run.algo not in EQPM_ALGOS:
        return done
    result = ALGORITHMS[run.algo](run) | {"versions": versions(run.algo)}
    write_record(run.out, result)
    return result


def versions(algo: str) -> dict[str, str]:
    """The versions a run was made with: eq_gym, torch, gymnasium, and the learner's library."""
    from importlib.metadata import PackageNotFoundError, version

    learner = "stable-baselines3" if algo in SB3_ALGOS else "eq-gym" if algo in EQPM_ALGOS else None
    names = {"eq_gym": "eq-gym", "torch": "torch", "gymnasium": "gymnasium"} | ({"learner": learner} if learner else {})
    found = {}
    for key, package in names.items():
        try:
            found[key] = (f"{package} " if key == "learner" else "") + version(package)
        except PackageNotFoundError:
            found[key] = "unknown"
    return found


def benchmark(
    envs: list[str], algos: list[str], budget: int, seeds: int = 10, q: float = 1.0,
    out: Path = Path("runs/benchmark"), jobs: int = 1, shard: str = "0/1", plugins: tuple[str, ...] = (),
    ray: str | None = None, frontiers: tuple[Path, ...] = (),
) -> list[dict[str, Any]]:
    """Run (this shard of) the benchmark, then write the leaderboard and curves from every finished run;
    ``frontiers``: ``eqpm bench frontier --out`` folders, whose envs' rows get the captured share."""
    for plugin in plugins:
        importlib.import_module(plugin)
    unknown = [a for a in algos if a not in ALGORITHMS]
    if unknown:
        raise ValueError(f"algo {unknown[0]!r} is not known; use one of {tuple(ALGORITHMS)} or register yours with --plugin")
    if budget < 1 or seeds < 1:
        raise ValueError(f"--budget {budget} --seeds {seeds}: both need to be >= 1")
    left_out = [f"{algo} on {env}" for env in envs for algo in algos if not allowed(algo, env)]
    runs = [
        BenchmarkRun(env, algo, seed, budget, q, out / "runs" / f"{env}-{algo}-q={q:g}-budget={budget}-seed={seed}", plugins)
        for env in envs for algo in algos if allowed(algo, env) for seed in range(seeds)
    ]
    if left_out:
        why = "diff needs agents that are all smooth; spo, pfy and forml agents that choose slots"
        if not runs:
            raise ValueError(f"nothing to run: {', '.join(left_out)} is left out ({why}); add an env whose agents "
                             "suit it or another algorithm (rloo and pg run everywhere)")
        print(f"left out: {', '.join(left_out)} ({why})")
    run_all(run_benchmark_run, runs, jobs, shard, desc="benchmark", ray=ray)
    table = run_table(runs)
    write_run_table(table, out)
    return report(table, out, frontiers)


def run_table(runs: list[BenchmarkRun]) -> list[dict[str, Any]]:
    """One tidy row per finished run: what ran (algo, env, keywords, seed, budget, q), every metric, the
    env's reference regrets (for the normalised scores), wall time, updates, windows, versions, the curve."""
    table, references = [], {}
    for run in runs:
        record = read_record(run.out)
        if record is None:
            continue
        if run.env not in references:
            references[run.env] = reference_record(run.env)
        reference = references[run.env]
        table.append({
            "algo": run.algo, "env": run.env, "env_kwargs": record.get("env_kwargs", {}), "seed": run.seed,
            "budget": run.budget, "q": run.q, **{name: record[name] for name in STATS},
            "best10": best_served(np.asarray(record["agent_regret"])),
            "reference": reference["algo"], "reference_mean": reference["mean"], "reference_worst10": reference["worst10"],
            "wall_s": record["wall_s"], "steps": record["steps"], "windows": record["steps"] * BATCH,
            "versions": record.get("versions", {}), "history": record.get("history", []),
        })
    return table
