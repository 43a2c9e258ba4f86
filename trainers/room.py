"""How much room each env leaves to q: ``eqpm bench room``.

With the paper's agents the conditional mean forecast is the best forecast for
every agent at once (ranking the hours by the expected signal is optimal for
any k; a data centre's regret is least in expectation near the expected
carbon). So q can only trade what a model of finite size cannot fit for
everyone at once, or what the agents' own hours and needs pull apart. Two
measurements tell a user which settings are worth benchmarking:

- **share divergence**: two forecasters, each perfect but for one stretch of
  the day (windows starting at 6-12 h local time take a flat forecast, the
  last observed hour; or windows starting at 16-22 h), give the agents
  shares of the total regret s and s'. Their total-variation distance,
  ``0.5 * sum_m |s_m - s'_m|``, is 0 when who bears the regret cannot depend on
  where the model errs (pure scale), and up to 1 when it depends entirely.
- **q sweep**: a short training run at q = 0 and at q + 1 = 20 per setting;
  the change in normalised entropy and in C95-C5 relative to the mean.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import torch

from eq_gym import data
from eq_gym.forecasters import reference_forecast
from eq_gym.tasks import Task
from trainers.evaluate import Forecaster, evaluate, task_of

MORNING, EVENING = (6, 12), (16, 22)
"""Local hours [from, to) at which the windows a garbled forecaster gets wrong start."""
SETTINGS = {"own": {}, "shared": {"timing": "shared", "features": "paper"}}
"""The default setting (own hours, calendar features) and the paper's."""


def garbled_forecaster(task: Task, hours: tuple[int, int]) -> Forecaster:
    """The truth, except for windows starting at local ``hours`` [from, to): a flat forecast at the last observed hour."""
    local = data.local_hour(task.region)

    def forecast(inputs: torch.Tensor, start: np.ndarray) -> torch.Tensor:
        truth = task.signal.values[start[:, None] + np.arange(task.horizon)[None, :]]
        flat = reference_forecast(task, "persistence_last", start)
        wrong = (local[start] >= hours[0]) & (local[start] < hours[1])
        return torch.from_numpy(np.where(wrong[:, None], flat, truth))

    return forecast


def share_divergence(task: Task) -> float:
    """Total-variation distance between the agents' regret shares under the morning- and evening-garbled forecasters."""
    shares = []
    for hours in (MORNING, EVENING):
        _, agent_regret = evaluate(garbled_forecaster(task, hours), task)
        shares.append(agent_regret / agent_regret.sum())
    return float(0.5 * np.abs(shares[0] - shares[1]).sum())


def q_sweep(env: str, setting: dict[str, Any], epochs: int, out: Path, seed: int = 0) -> dict[float, dict]:
    """Test metrics of a short run at q = 0 and q + 1 = 20 (``diff`` where every agent is smooth, else ``rloo``)."""
    from trainers.config import TrainConfig
    from trainers.sweep import train_once

    smooth = task_of(env, "train", {"agents": "different", **setting}).population.smooth
    runs = {}
    for q in (0.0, 19.0):
        config = TrainConfig(env=env, algo="diff" if smooth else "rloo", q=q, agents="different", epochs=epochs,
                             seed=seed, form="power_mean", progress=False,
                             out=out / f"{env}-{setting.get('timing', 'own')}-q{q:g}-epochs={epochs}",
                             **setting)
        runs[q] = train_once(config)
    return runs


def bench_room(envs: list[str], epochs: int, out: Path) -> list[dict]:
    """Per env and setting ("different" agents): the share divergence and the q sweep's trend."""
    rows = []
    for env in envs:
        for name, setting in SETTINGS.items():
            task = task_of(env, "test", {"agents": "different", **setting})
            row = {"env": env, "setting": name, "divergence": share_divergence(task)}
            if epochs > 0:
                runs = q_sweep(env, setting, epochs, out)
                for q, metrics in runs.items():
                    row[f"entropy_q{q:g}"] = metrics["entropy"]
                    row[f"spread_q{q:g}"] = metrics["c95_c5"] / metrics["mean"]
                    row[f"mean_q{q:g}"] = metrics["mean"]
            rows.append(row)
    return rows


def print_room_rows(rows: list[dict]) -> None:
    from trainers.bench import machine

    print(f"Room for q ('different' agents, test split) on {machine()}")
    for row in rows:
        line = f"  {row['env']:<22} {row['setting']:<7} share divergence {row['divergence']:.3f}"
        if "entropy_q0" in row:
            line += (f"  entropy {row['entropy_q0']:.5f} -> {row['entropy_q19']:.5f}"
                     f"  (C95-C5)/mean {row['spread_q0']:.3f} -> {row['spread_q19']:.3f}"
                     f"  mean {row['mean_q0']:.4g} -> {row['mean_q19']:.4g}  (q = 0 -> q + 1 = 20)")
        print(line)
