"""The leaderboard's algorithms by name: eqpm's own, Stable-Baselines3's, and any a plugin registers."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from eq_gym.choices import BATCH_SIZE
from eq_gym.envs.base import task_of
from eq_gym.forecasters import policy_forecaster
from trainers.config import TrainConfig
from trainers.estimators import ESTIMATORS
from trainers.evaluate import evaluate
from trainers.records import record

BATCH = BATCH_SIZE
SB3_BATCH = 8
SB3_ALGOS = ("ppo", "a2c", "ppo-windows", "a2c-windows")
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
