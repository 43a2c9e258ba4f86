"""``eqpm benchmark``: every algorithm on each env for the same budget, as a leaderboard.

The budget is counted in env steps of the default batch (B = 128 windows):
every algorithm sees the same number of training windows. eqpm's own
algorithms take ``budget`` updates of 128 windows (``--steps``);
Stable-Baselines3's PPO and A2C act on an env with ``batch_size=8`` for
``budget * 128 / 8`` of its steps (``ppo``, ``a2c``: one flattened action per
batch of 8 windows, one reward), or on the window view, a window per sub-env
and its own credit, for ``budget * 128`` windows (``ppo-windows``,
``a2c-windows``: ``eq_gym.sb3``, 64 windows a step, observations
standardised with ``VecNormalize``).

Each row gives the interquartile mean (IQM) of the seeds' test mean regret
with its 95 % percentile-bootstrap interval (``trainers.studies.intervals``: within
one env the stratified bootstrap is a bootstrap over seeds), beside mean ±
std of every metric. Every algorithm is scored the same way, by :func:`trainers.evaluate.evaluate`
on the test split, after training and along the way (the learning curves).
"Steps to level" is the first point of the curve where the test mean regret
is at or below the best reference forecaster's on that env (WattTime's own
forecast on DC, ``persistence_daily`` elsewhere): models that need no
training.

Add an algorithm of your own with :func:`algorithm`, in a module you name
with ``--plugin``::

    # my_algos.py
    from trainers.studies.leaderboard import BenchmarkRun, algorithm

    @algorithm("mine")
    def train_mine(run: BenchmarkRun) -> dict:
        ...  # train on run.env for run.windows windows, seed run.seed
        return trainers.records.record(...)  # plus "history", "steps", "wall_s"

    $ eqpm benchmark --plugin my_algos --algos mse rloo mine
"""

from __future__ import annotations

import importlib
import json
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from eq_gym.forecasters import policy_forecaster
from eq_gym.metrics import METRIC_NAMES as STATS
from eq_gym.metrics import METRIC_TITLES, best_served
from trainers.config import TrainConfig
from trainers.estimators import ESTIMATORS
from trainers.evaluate import evaluate, reference_records, task_of
from trainers.records import read_record, record, write_record
from trainers.studies import aggregates
from trainers.studies.hindsight import read_frontier
from trainers.studies.intervals import bootstrap_interval
from trainers.studies.levelling import captured_share, levelling, q_label
from trainers.studies.report import PLAIN, markdown_table, write_csv
from trainers.studies.sweep import over_seeds, run_all, updates_to_level

BATCH = 128
SB3_BATCH = 8
SB3_ALGOS = ("ppo", "a2c", "ppo-windows", "a2c-windows")
RUNS_FILE = "runs.csv"
"""The raw data: one tidy row per finished run, from which ``--report-only`` rebuilds every table and figure."""
JSON_COLUMNS = ("env_kwargs", "versions", "history")
"""Columns of runs.csv that hold a JSON value."""
CURVE_POINTS = 5


@dataclass(frozen=True)
class BenchmarkRun:
    """One algorithm on one env with one seed, for ``budget`` env steps of 128 windows."""

    env: str
    algo: str
    seed: int
    budget: int
    q: float
    out: Path
    plugins: tuple[str, ...] = ()
    """Modules to import first (they register algorithms or envs), also in worker processes."""

    @property
    def windows(self) -> int:
        return self.budget * BATCH


ALGORITHMS: dict[str, Callable[[BenchmarkRun], dict[str, Any]]] = {}
"""Benchmark algorithms by name: ``run -> metrics.json record`` with ``history``, ``steps``, ``wall_s``."""


def algorithm(name: str) -> Callable:
    """Register ``function(run) -> record`` as benchmark algorithm ``name``."""

    def register(function: Callable[[BenchmarkRun], dict[str, Any]]) -> Callable:
        ALGORITHMS[name] = function
        return function

    return register


def _eqpm(algo: str) -> Callable[[BenchmarkRun], dict[str, Any]]:
    def run_eqpm(run: BenchmarkRun) -> dict[str, Any]:
        from trainers.studies.sweep import train_once

        return train_once(TrainConfig(env=run.env, algo=algo, q=run.q, seed=run.seed, steps=run.budget, out=run.out, progress=False))

    return run_eqpm


for _name in ESTIMATORS:
    algorithm(_name)(_eqpm(_name))


def _stable_baselines3(algo: str) -> Any:
    """The stable_baselines3 module, or a refusal that names the extra to install."""
    try:
        import stable_baselines3
    except ImportError as error:
        raise ValueError(f"algo {algo!r} needs Stable-Baselines3: pip install 'eq-gym[sb3]'") from error
    return stable_baselines3


def _learn_and_score(run: BenchmarkRun, algo: str, model: Any, forecaster: Callable, timesteps: int,
                     windows_per_timestep: int, backbone: str, started: float) -> dict[str, Any]:
    """Train an SB3 ``model`` for ``timesteps``, scoring ``forecaster`` on the test split along the way and at the end."""
    from stable_baselines3.common.callbacks import BaseCallback

    test = task_of(run.env, "test", {})
    every = max(1, timesteps // CURVE_POINTS)
    history: list[dict[str, Any]] = []

    class Curve(BaseCallback):
        """Scores the policy after the updates: at a rollout's start (the previous rollout's update done) once
        another ``every`` timesteps have passed, and at the end of training (the table's model)."""

        scored = 0

        def _on_step(self) -> bool:
            return True

        def _on_rollout_start(self) -> None:
            if self.num_timesteps // every > self.scored:
                self._score()

        def _on_training_end(self) -> None:
            self._score()

        def _score(self) -> None:
            self.scored = self.num_timesteps // every
            history.append({"steps": self.num_timesteps * windows_per_timestep / BATCH, **evaluate(forecaster, test)[0]})

    model.learn(total_timesteps=timesteps, callback=Curve())
    metrics, agent_regret = evaluate(forecaster, test)
    return record(metrics, agent_regret, test, run.env, algo=algo, q=run.q, beta=0.0, seed=run.seed, backbone=backbone,
                  wall_s=time.perf_counter() - started, steps=model.num_timesteps * windows_per_timestep / BATCH,
                  history=history)


def _sb3(name: str) -> Callable[[BenchmarkRun], dict[str, Any]]:
    def run_sb3(run: BenchmarkRun) -> dict[str, Any]:
        import gymnasium as gym
        from gymnasium.wrappers import FlattenObservation, RescaleAction

        stable_baselines3 = _stable_baselines3(name)
        started = time.perf_counter()
        env = FlattenObservation(RescaleAction(gym.make(run.env, q=run.q, batch_size=SB3_BATCH), np.float32(-1), np.float32(1)))
        total = run.windows // SB3_BATCH
        # rollouts that divide the budget (a multiple of 16 steps), so no algorithm trains past it
        rollout = {"n_steps": min(128, total), "batch_size": min(64, total)} if name == "ppo" else {"n_steps": 8}
        model = getattr(stable_baselines3, name.upper())("MlpPolicy", env, seed=run.seed, device="cpu", verbose=0, **rollout)
        forecaster = policy_forecaster(env, lambda obs: model.predict(obs, deterministic=True)[0])
        return _learn_and_score(run, name, model, forecaster, total, SB3_BATCH, "mlp (sb3)", started)

    return run_sb3


for _name in ("ppo", "a2c"):
    algorithm(_name)(_sb3(_name))

WINDOW_ENVS = 64
"""Sub-envs (windows) per step of the window-view learners."""


def _sb3_windows(name: str) -> Callable[[BenchmarkRun], dict[str, Any]]:
    def run_sb3_windows(run: BenchmarkRun) -> dict[str, Any]:
        import torch

        stable_baselines3 = _stable_baselines3(f"{name}-windows")
        from stable_baselines3.common.vec_env import VecNormalize

        from eq_gym.sb3 import window_vec_env

        started = time.perf_counter()
        adapter = window_vec_env(run.env, num_envs=WINDOW_ENVS, q=run.q)
        venv = VecNormalize(adapter, norm_reward=False)  # scoring reads its statistics, never updates them
        rollout = {"n_steps": 16, "batch_size": 256} if name == "ppo" else {"n_steps": 8}  # 1,024 and 512 windows
        model = getattr(stable_baselines3, name.upper())("MlpPolicy", venv, seed=run.seed, device="cpu", verbose=0, **rollout)

        def forecaster(inputs: Any, start: np.ndarray) -> Any:
            action, _ = model.predict(venv.normalize_obs(inputs.numpy()), deterministic=True)
            return torch.from_numpy(adapter.to_forecast(action))

        return _learn_and_score(run, f"{name}-windows", model, forecaster, run.windows, 1, "mlp (sb3, window view)", started)

    return run_sb3_windows


for _name in ("ppo", "a2c"):
    algorithm(f"{_name}-windows")(_sb3_windows(_name))


def allowed(algo: str, env: str) -> bool:
    """Whether an estimator suits the env's agents, from its own flags: ``diff`` needs every agent smooth,
    ``spo``, ``pfy`` and ``forml`` some that choose slots; every other algorithm runs everywhere."""
    if algo not in ESTIMATORS:
        return True
    cls, smooth = ESTIMATORS[algo], task_of(env, "train", {}).population.smooth
    return not (cls.needs_smooth_agents and not smooth) and not (cls.needs_slot_agents and smooth)


def run_benchmark_run(run: BenchmarkRun) -> dict[str, Any]:
    """Run one benchmark run unless it is done; its record lands in ``run.out/metrics.json``.

    eqpm's own algorithms check a finished run's settings before reusing it (:func:`trainers.studies.sweep.train_once`);
    other libraries' learners are reused as they are.
    """
    for plugin in run.plugins:
        importlib.import_module(plugin)
    done = read_record(run.out)
    if done is not None and run.algo not in ESTIMATORS:
        return done
    result = ALGORITHMS[run.algo](run) | {"versions": versions(run.algo)}
    write_record(run.out, result)
    return result


def versions(algo: str) -> dict[str, str]:
    """The versions a run was made with: eq_gym, torch, gymnasium, and the learner's library."""
    from importlib.metadata import PackageNotFoundError, version

    learner = "stable-baselines3" if algo in SB3_ALGOS else "eq-gym" if algo in ESTIMATORS else None
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


def write_run_table(table: list[dict[str, Any]], out: Path) -> None:
    """The tidy rows as ``OUT/runs.csv`` (JSON in the columns that hold a dict or a list)."""
    out.mkdir(parents=True, exist_ok=True)
    write_csv(out / RUNS_FILE, [row | {k: json.dumps(row[k]) for k in JSON_COLUMNS} for row in table])


def read_run_table(out: Path) -> list[dict[str, Any]]:
    """``OUT/runs.csv`` back as the rows :func:`run_table` made (for ``--report-only``)."""
    import pandas as pd

    path = out / RUNS_FILE
    if not path.is_file():
        raise ValueError(f"--report-only: no {path}; run `eqpm benchmark --out {out}` first")
    table = pd.read_csv(path, float_precision="round_trip").to_dict("records")  # every float exactly as written
    return [row | {k: json.loads(row[k]) for k in JSON_COLUMNS} for row in table]


def report(table: list[dict[str, Any]], out: Path, frontiers: tuple[Path, ...] = ()) -> list[dict[str, Any]]:
    """Every table and figure from the tidy run rows: per env (with learning curves, and the captured share of
    each env that ``frontiers`` holds) and across envs."""
    if not table:
        raise ValueError(f"no finished run in {out}: nothing to rank (run `eqpm benchmark --out {out}` first)")
    truths = {found["env"]: found["truth"] for found in map(read_frontier, frontiers)}
    rows, curves = per_env_rows(table, out, truths)
    across, figures = across_envs(table, out)
    (out / "leaderboard.md").write_text(render(rows) + "\n" + across)
    write_csv(out / "leaderboard.csv", rows)
    print(render(rows))
    print(across)
    written = [out / "leaderboard.md", out / "leaderboard.csv", out / RUNS_FILE, *curves, *figures]
    print(f"wrote {', '.join(str(path) for path in written)}")
    return rows


def per_env_rows(table: list[dict[str, Any]], out: Path, truths: dict[str, dict[str, Any]] | None = None,
                 ) -> tuple[list[dict[str, Any]], list[Path]]:
    """One row per env and algorithm (IQM of the mean regret over seeds with its interval, mean ± std of every
    metric, wall time, updates, updates to the reference's level, the levelling against the Plain PM and, for an
    env of ``truths`` (env -> ``eqpm bench frontier``'s truth family), the captured share); the learning curves per
    env, and their paths."""
    rows, curves = [], []
    for env in dict.fromkeys(r["env"] for r in table):
        mine = [r for r in table if r["env"] == env]
        level = mine[0]["reference_mean"]
        for algo in dict.fromkeys(r["algo"] for r in mine):
            records = [r for r in mine if r["algo"] == algo]
            row: dict[str, Any] = {"env": env, "algo": algo, "seeds": len(records), "level": level}
            row |= over_seeds(records, STATS)
            row["iqm"], row["iqm_low"], row["iqm_high"] = bootstrap_interval([m["mean"] for m in records], "iqm")
            row["wall_s"] = float(np.mean([m["wall_s"] for m in records]))
            row["steps"] = float(np.mean([m["steps"] for m in records]))
            row["windows"] = float(np.mean([m["windows"] for m in records]))
            row["steps_to_level"] = updates_to_level(records, level)
            plain = [r for r in mine if r["algo"] == PLAIN]
            row["levelling"] = levelling(records, plain)["verdict"] if plain and algo != PLAIN and "best10" in records[0] else "-"
            row["captured"] = captured(records, plain, (truths or {}).get(env)) if algo != PLAIN else None
            rows.append(row)
        curves.append(_curves(env, mine, level, out))
    rows.sort(key=lambda r: (r["env"], r["mean"]))
    return rows, curves


def captured(records: list[dict[str, Any]], plain: list[dict[str, Any]], truth: dict[str, Any] | None) -> float | None:
    """An algorithm's captured share of the hindsight lift at its q: its worst tenth's fall from the Plain PM's
    (the board's accuracy-trained model, its q = 0) over the ``truth`` front's fall from q = 0 to that q (means
    over seeds, test split); None without the front, the Plain PM or that q in the front."""
    label = q_label(float(records[0]["q"]))
    if truth is None or not plain or label == "1" or label not in truth:
        return None
    return captured_share(float(np.mean([r["worst10"] for r in plain])), float(np.mean([r["worst10"] for r in records])),
                          truth["1"]["test"]["worst10"], truth[label]["test"]["worst10"])


def across_envs(table: list[dict[str, Any]], out: Path) -> tuple[str, list[Path]]:
    """The Markdown table across envs: each score's aggregates with intervals, and the calls against the
    Plain PM and rloo that the intervals allow; the performance-profile and improvement figures and their paths
    (none where no algorithm has runs on every env with equal seeds)."""
    matrices = {score: aggregates.score_matrices(table, score) for score in aggregates.SCORES}
    estimates = {score: aggregates.interval_estimates(m) for score, m in matrices.items()}
    over_plain = {score: aggregates.probability_of_improvement(m, PLAIN) for score, m in matrices.items()}
    over_rloo = {score: aggregates.probability_of_improvement(m, "rloo") for score, m in matrices.items()}
    some = next(iter(matrices["mean"].values()), None)
    if some is None:
        return "No algorithm has runs on every env with equal seeds: no aggregates across envs.\n", []
    method = ("rliable's stratified bootstrap (runs resampled within each env)" if aggregates.have_rliable() else
              "a percentile bootstrap over the pooled runs (install the [rliable] extra for rliable's stratified bootstrap)")
    lines = ["## Across envs: normalised scores (1: zero regret, 0: the env's best reference forecaster)", "",
             f"Intervals rest on {some.size} runs per algorithm ({some.shape[1]} envs x {some.shape[0]} seeds), 95 %, "
             f"{method}. A difference is called only where the intervals do not overlap.", ""]
    header = ["Score", "Algo", "IQM", "Mean", "Median", "Optimality gap", "P(better than Plain PM)", "P(better than rloo)",
              "IQM vs Plain PM"]
    cells = []
    for score in aggregates.SCORES:
        plain = estimates[score].get(PLAIN)
        for algo, found in sorted(estimates[score].items(), key=lambda item: -item[1]["iqm"][0]):
            call = "-" if plain is None or algo == PLAIN else aggregates.difference(found["iqm"], plain["iqm"])
            cells.append([score, algo, *(_interval(found[a]) for a in aggregates.AGGREGATES),
                          _interval(over_plain[score].get(algo)), _interval(over_rloo[score].get(algo)), call])
    lines += markdown_table(header, cells)
    return "\n".join(lines) + "\n", aggregates.figures(matrices, over_plain, out)


def _interval(estimate: tuple[float, float, float] | None) -> str:
    if estimate is None:
        return "-"
    point, low, high = estimate
    return f"{point:.3f}" if np.isnan(low) else f"{point:.3f} [{low:.3f}, {high:.3f}]"


def reference_record(env: str) -> dict[str, Any]:
    """The test record of the best reference forecaster (lowest mean regret) that applies to ``env``."""
    return min(reference_records(env).values(), key=lambda r: r["mean"])


def render(rows: list[dict[str, Any]]) -> str:
    header = ["Env", "Algo", "Mean regret: IQM [95 % CI]", *(METRIC_TITLES[s] for s in STATS), "vs Plain PM",
              "Captured share", "Wall (s)", "Updates", "Windows seen", "Steps to level", "Seeds"]
    table = []
    for row in rows:
        cells = [row["env"], row["algo"], f"{row['iqm']:.4f} [{row['iqm_low']:.4f}, {row['iqm_high']:.4f}]"]
        for stat in STATS:
            fmt = "{:.3g}" if abs(row[stat]) < 1e-3 else "{:.4f}"
            cells.append(fmt.format(row[stat]) + (f" ± {fmt.format(row[stat + '_std'])}" if row["seeds"] > 1 else ""))
        level = "-" if row["steps_to_level"] is None else f"{row['steps_to_level']:.0f}"
        share = row["captured"]
        cells += [row["levelling"], "-" if share is None else f"{100 * share:.0f} %", f"{row['wall_s']:.1f}", f"{row['steps']:.0f}", f"{row['windows']:,.0f}", level, str(row["seeds"])]
        table.append(cells)
    return "\n".join(markdown_table(header, table)) + "\n"


def _curves(env: str, table: list[dict[str, Any]], level: float, out: Path) -> Path:
    from trainers.studies.figures import pyplot

    plt = pyplot()
    figure, axis = plt.subplots(figsize=(6.4, 4.0))
    for algo in dict.fromkeys(r["algo"] for r in table):
        histories = [r["history"] for r in table if r["algo"] == algo and r["history"]]
        if histories:
            length = min(len(h) for h in histories)
            steps = [h["steps"] for h in histories[0][:length]]
            axis.plot(steps, np.mean([[h["mean"] for h in hist[:length]] for hist in histories], axis=0), marker="o", label=algo)
    axis.axhline(level, color="grey", linestyle="--", label="best reference forecaster")
    axis.set_xlabel("env steps of 128 windows")
    axis.set_ylabel("test mean regret")
    axis.set_title(env)
    axis.legend(fontsize=8)
    figure.tight_layout()
    out.mkdir(parents=True, exist_ok=True)
    figure.savefig(out / f"curves-{env}.png", dpi=120)
    plt.close(figure)
    return out / f"curves-{env}.png"
