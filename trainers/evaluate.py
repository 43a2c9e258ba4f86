"""Evaluation on a whole split: per-agent mean regret and the DESIGN metrics.

Every window of the split is used once (no window dropped), each agent pairs
it with a context drawn with a fixed seed, so every model and every reference
forecaster is scored on the same draws. Each agent's mean regret is the mean of
rho * C over the split: its mean over its own windows (:mod:`eq_gym.agents.population`).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import Tensor

from eq_gym.envs.base import task_of
from eq_gym.forecasters import reference_forecast
from eq_gym.metrics import equity_metrics
from eq_gym.objective import regret_sum
from eq_gym.tasks import Task, contexts_generator
from trainers.records import record

EVAL_SEED = 12345
EVAL_BATCH = 1024

Forecaster = Callable[[Tensor, np.ndarray], Tensor]
"""(inputs (B, L, F), first target hour (B,)) -> forecast (B, H)."""


@torch.no_grad()
def evaluate(forecaster: Forecaster, task: Task, device: torch.device | str = "cpu") -> tuple[dict, np.ndarray]:
    """Metrics of ``forecaster`` on ``task``: (variance, mean, c95_c5, entropy, mse), and Cbar (M,)."""
    population = task.population.to(device)
    sampler = population.sampler(EVAL_BATCH, contexts_generator(EVAL_SEED, device))
    inputs = torch.tensor(task.windows.inputs).to(device)
    targets = torch.tensor(task.windows.targets).to(device)
    starts = torch.tensor(task.windows.start).to(device)
    total = torch.zeros(task.num_agents, dtype=torch.float64, device=device)
    squared_error = torch.zeros((), dtype=torch.float64, device=device)
    for start in range(0, task.num_windows, EVAL_BATCH):
        window = slice(start, min(start + EVAL_BATCH, task.num_windows))
        forecast = forecaster(inputs[window], task.windows.start[window]).to(device)
        draw = sampler.draw(starts[window])
        regret = population.regret(forecast, targets[window], draw.contexts)
        total += regret_sum(regret, draw.weight).double()
        squared_error += ((forecast - targets[window]).double() ** 2).sum()
    agent_regret = (total / task.num_windows).cpu().numpy()
    metrics = equity_metrics(agent_regret)
    metrics["mse"] = float(squared_error / targets.numel())
    return metrics, agent_regret


def perfect_forecaster(task: Task) -> Forecaster:
    """The truth of the public signal."""
    def forecast(inputs: torch.Tensor, start: np.ndarray) -> torch.Tensor:
        return torch.from_numpy(task.signal.values[start[:, None] + np.arange(task.horizon)[None, :]])

    return forecast


def reference_forecaster(task: Task, name: str) -> Forecaster:
    """A reference forecaster (persistence, vendor) of ``task`` as a :data:`Forecaster`."""
    return lambda inputs, start: torch.from_numpy(reference_forecast(task, name, start))


def evaluate_forecaster(name: str, env: str, split: str = "test", env_kwargs: dict[str, Any] | None = None) -> dict[str, Any]:
    """The metrics.json record of a reference forecaster (persistence, vendor) on ``split``."""
    task = task_of(env, split, env_kwargs or {})
    metrics, agent_regret = evaluate(reference_forecaster(task, name), task)
    return record(metrics, agent_regret, task, env, algo=name, q=None, beta=None, seed=None, backbone=None, wall_s=0.0)


def reference_records(env: str, env_kwargs: dict[str, Any] | None = None, split: str = "test") -> dict[str, dict[str, Any]]:
    """The records of every reference forecaster that applies to the env's task (the vendor forecast exists
    for DC's one hour ahead only), by name."""
    from eq_gym.forecasters import FORECASTERS

    records = {}
    for name in FORECASTERS:
        try:
            records[name] = evaluate_forecaster(name, env, split, env_kwargs)
        except ValueError:
            continue
    return records


def run_forecaster(run: Path, split: str = "test", device: str = "auto") -> tuple[Forecaster, Task, dict[str, Any]]:
    """A trained run's model as a :data:`Forecaster` on ``split`` of its env (on ``device``: its forecasts come
    back on it), the task, and the run's checkpoint state (``config`` as a :class:`TrainConfig`)."""
    from trainers import checkpoint
    from trainers.config import TrainConfig
    from trainers.distributed import pick_device
    from trainers.policy import build_policy

    path = Path(run) / checkpoint.CHECKPOINT
    if not path.is_file():
        raise ValueError(f"--run {run}: no {checkpoint.CHECKPOINT} there; train first with `eqpm train --out {run}`")
    state = checkpoint.read(path)
    config = TrainConfig(**{**state["config"], "out": Path(state["config"]["out"])})
    task = task_of(config.env, split, config.env_kwargs())
    policy = build_policy(config, task)
    policy.load_state_dict(checkpoint.given_model(state))
    target = pick_device(device)
    policy.to(target).eval()
    return (lambda inputs, _: policy.predict(inputs.to(target))), task, state | {"config": config, "device": target}


def evaluate_run(run: Path, split: str = "test", device: str = "auto") -> dict[str, Any]:
    """The metrics.json record of a trained run's checkpoint on ``split``."""
    forecaster, task, state = run_forecaster(run, split, device)
    config = state["config"]
    metrics, agent_regret = evaluate(forecaster, task, state["device"])
    return record(
        metrics, agent_regret, task, config.env, algo=config.algo, q=config.q, beta=config.beta,
        seed=config.seed, backbone=config.backbone, wall_s=state["wall_s"], epochs=state["epoch"],
    )
