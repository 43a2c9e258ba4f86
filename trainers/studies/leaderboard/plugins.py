"""The leaderboard's algorithms by name: eqpm's own, Stable-Baselines3's on the window view, and any a plugin registers."""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from eq_gym.choices import BATCH_SIZE
from eq_gym.envs.base import task_of
from trainers.config import TrainConfig
from trainers.estimators import ESTIMATORS
from trainers.evaluate import evaluate
from trainers.records import record
from trainers.studies.leaderboard import SB3_ALGOS
from trainers.studies.leaderboard.baselines import sb3_model

BATCH = BATCH_SIZE
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

        return train_once(TrainConfig(env=run.env, algo=algo, q=run.q, seed=run.seed, steps=run.budget, out=run.out,
                                      progress=False, recipe="paper"))

    return run_eqpm


for _name in ESTIMATORS:
    algorithm(_name)(_eqpm(_name))


def learner_config(run: BenchmarkRun) -> TrainConfig:
    """``eqpm train``'s default at the run's q, on the board's budget: the env's recipe (the path on EV and Mixed,
    the paper's on DC), the path's epochs scaled to the budget in its own proportions (a rung of ``rung_epochs /
    (epochs + rungs x rung_epochs)`` of the budget's whole epochs, at least one; q = 0 the rest), the last rung
    taking the remainder up to ``budget`` updates."""
    config = TrainConfig(env=run.env, q=run.q, seed=run.seed, steps=run.budget, out=run.out, progress=False)
    if config.recipe == "paper":
        return config
    per_epoch = task_of(run.env, "train", config.env_kwargs()).num_windows // config.batch_size
    whole = run.budget // per_epoch
    share = config.rung_epochs / (config.epochs + len(config.rungs) * config.rung_epochs)
    rung = max(1, round(whole * share))
    return dataclasses.replace(config, epochs=max(1, whole - len(config.rungs) * rung), rung_epochs=rung)


@algorithm("learner")
def run_learner(run: BenchmarkRun) -> dict[str, Any]:
    """The equitable learner, ``eqpm train``'s default (:func:`learner_config`)."""
    from trainers.studies.sweep import train_once

    return train_once(learner_config(run))


def _learn_and_score(run: BenchmarkRun, algo: str, model: Any, forecaster: Callable, started: float) -> dict[str, Any]:
    """Train an SB3 ``model`` on the window view for ``run.windows`` windows, scoring ``forecaster`` on the test
    split before training, along the way and at the end."""
    from stable_baselines3.common.callbacks import BaseCallback

    test = task_of(run.env, "test", {})
    every = max(1, run.windows // CURVE_POINTS)
    history: list[dict[str, Any]] = []

    class Curve(BaseCallback):
        """Scores the policy after the updates: at a rollout's start (the previous rollout's update done) once
        another ``every`` windows have passed, and at the end of training (the table's model)."""

        scored = -1

        def _on_step(self) -> bool:
            return True

        def _on_rollout_start(self) -> None:
            if self.num_timesteps // every > self.scored:
                self._score()

        def _on_training_end(self) -> None:
            self._score()

        def _score(self) -> None:
            self.scored = self.num_timesteps // every
            history.append({"steps": self.num_timesteps / BATCH, **evaluate(forecaster, test)[0]})

    model.learn(total_timesteps=run.windows, callback=Curve())
    metrics, agent_regret = evaluate(forecaster, test)
    return record(metrics, agent_regret, test, run.env, algo=algo, q=run.q, beta=0.0, seed=run.seed,
                  backbone="mlp (sb3, window view)", wall_s=time.perf_counter() - started,
                  steps=model.num_timesteps / BATCH, history=history)


def _sb3(name: str) -> Callable[[BenchmarkRun], dict[str, Any]]:
    def run_sb3(run: BenchmarkRun) -> dict[str, Any]:
        started = time.perf_counter()
        model, forecaster = sb3_model(name, run.env, run.q, run.seed, run.windows)
        return _learn_and_score(run, name, model, forecaster, started)

    return run_sb3


for _name in SB3_ALGOS:
    algorithm(_name)(_sb3(_name))


def allowed(algo: str, env: str) -> bool:
    """Whether an estimator suits the env's agents, from its own flags: ``diff`` needs every agent smooth,
    ``spo``, ``pfy`` and ``forml`` some that choose slots; every other algorithm runs everywhere."""
    if algo not in ESTIMATORS:
        return True
    cls, smooth = ESTIMATORS[algo], task_of(env, "train", {}).population.smooth
    return not (cls.needs_smooth_agents and not smooth) and not (cls.needs_slot_agents and smooth)
