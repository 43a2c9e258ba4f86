"""The hindsight ceiling: the true signal's parts re-weighted per q, picked on the training split by P_q.

Shared by the studies that draw the ceiling (``eqpm bench frontier`` builds it with its other families, ``eqpm
reproduce`` draws it on each frontier figure) and those that read it back from ``frontier.json`` (``eqpm bench q-sweep
--frontier``, ``eqpm benchmark --frontier``). ``truth`` is ``w . (carbon, water, price)`` at the forecast hours,
the weights on a grid over the simplex of total weight the index's (step total / ``resolution``); the index's own
weights are a grid point, where the forecast is the perfect forecaster's bit for bit. It needs perfect
information: the ceiling of what a re-weighting of the signal could do for the agents.

Also the forecasts the frontier's model families build on a trained model's (:class:`Forecasts`): its
known-ahead parts re-weighted (``posthoc``), mixed with another model's (``mixture``), its error shrunk toward
the truth (``information``).
"""

from __future__ import annotations

import itertools
import json
import math
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import torch

from eq_gym import signals
from eq_gym.envs.base import task_of
from eq_gym.metrics import best_served, worst_served
from eq_gym.objective import equitable_objective
from eq_gym.tasks import Task
from trainers.evaluate import Forecaster, evaluate
from trainers.studies.levelling import q_label

Q_PLUS_ONE = (1.0, 2.0, 5.0, 20.0, math.inf)
RESOLUTION = 30
"""Grid steps across the total weight in ``truth`` (and across m in ``frontier``'s ``mixture``): ``--resolution``."""


def simplex(parts: int, total: float, steps: int) -> np.ndarray:
    """Every weight vector of ``parts`` nonnegative entries summing to ``total`` on a grid of ``steps``: (G, parts)."""
    points = [c for c in itertools.product(range(steps + 1), repeat=parts - 1) if sum(c) <= steps]
    grid = np.array([(*c, steps - sum(c)) for c in points], dtype=np.float64)
    return np.round(grid * (total / steps), 12)  # 0.6, not 0.6000000000000001; the index's weights exactly


def ahead(task: Task, start: np.ndarray) -> np.ndarray:
    """The axis indices of the forecast hours of windows starting at ``start``: (B, H)."""
    return start[:, None] + np.arange(task.horizon)[None, :]


def truth_forecaster(task: Task, weights: np.ndarray) -> Forecaster:
    """The true parts (carbon, water, price) mixed with ``weights``: at the index's weights the perfect forecast."""
    series = torch.from_numpy(signals.mix(tuple(float(w) for w in weights), task.region, task.train_fraction))
    return lambda inputs, start: series[torch.from_numpy(ahead(task, start))]


def scores(agent_regret: np.ndarray) -> dict[str, float]:
    """The mean, the worst-served and best-served tenth's and the largest regret of each agent's regrets (M,)."""
    return {"mean": float(agent_regret.mean()), "worst10": worst_served(agent_regret), "best10": best_served(agent_regret),
            "largest": float(agent_regret.max())}


Build = Callable[[str, dict[str, Any]], Forecaster]
"""(split, a candidate's parameters) -> its forecaster on that split."""


def train_regrets(candidates: list[dict[str, Any]], build: Build, task: Task) -> np.ndarray:
    """Each candidate's agents' regret on the training split ``task``: (C, M)."""
    return np.stack([evaluate(build("train", c), task)[1] for c in candidates])


def choose(candidates: list[dict[str, Any]], build: Build, tasks: dict[str, Task], q_plus_one: tuple[float, ...],
           train_regret: np.ndarray | None = None) -> dict[str, dict[str, Any]]:
    """Each q + 1's pick among ``candidates`` (parameter dicts) by the training split's P_q, and its scores on
    both splits (``tasks``: split -> task): q label -> {"parameters", "objective", "train", "test", "test_agent_regret"}.
    ``train_regret``: the candidates' :func:`train_regrets`, where already computed."""
    if train_regret is None:
        train_regret = train_regrets(candidates, build, tasks["train"])
    picks = {}
    for q1 in q_plus_one:
        objective = equitable_objective(torch.from_numpy(train_regret), q1 - 1.0, "power_mean").numpy()
        best = int(np.argmin(objective))
        test_regret = evaluate(build("test", candidates[best]), tasks["test"])[1]
        picks[q_label(q1 - 1.0)] = {"parameters": candidates[best], "objective": float(objective[best]),
                                    "train": scores(train_regret[best]), "test": scores(test_regret),
                                    "test_agent_regret": test_regret.tolist()}
    return picks


def truth_family(tasks: dict[str, Task], q_plus_one: tuple[float, ...], resolution: int) -> dict[str, Any]:
    total = sum(signals.INDEX_WEIGHTS[tasks["train"].signal_kind])
    candidates = [{"weights": dict(zip(signals.PARTS, map(float, w)))} for w in simplex(len(signals.PARTS), total, resolution)]

    def build(split: str, candidate: dict[str, Any]) -> Forecaster:
        return truth_forecaster(tasks[split], np.array([candidate["weights"][p] for p in signals.PARTS]))

    return choose(candidates, build, tasks, q_plus_one)


def hindsight_front(env: str, env_kwargs: dict[str, Any], q_plus_one: tuple[float, ...] = Q_PLUS_ONE,
                    resolution: int = RESOLUTION) -> dict[str, Any]:
    """The ``truth`` family of an env with its keywords: the ceiling a trained point is drawn against."""
    return truth_family({split: task_of(env, split, env_kwargs) for split in ("train", "test")}, q_plus_one, resolution)


def read_frontier(folder: Path, env: str = "ENV") -> dict[str, Any]:
    """``folder/frontier.json`` as ``eqpm bench frontier --out folder`` wrote it (``env``: named in the error)."""
    path = Path(folder) / "frontier.json"
    if not path.is_file():
        raise ValueError(f"--frontier {folder}: no frontier.json there; run `eqpm bench frontier --env {env} --out {folder}`")
    return json.loads(path.read_text())


def read_truth(frontier: Path | None, env: str) -> dict[str, Any] | None:
    """The ``truth`` family of ``frontier/frontier.json`` (None without a folder), refused for another env."""
    if frontier is None:
        return None
    found = read_frontier(frontier, env)
    if found["env"] != env:
        raise ValueError(f"--frontier {frontier} is of {found['env']}, this run of {env}; give one of the same env")
    return found["truth"]


def known_parts(task: Task) -> dict[str, np.ndarray]:
    """The parts of the signal known ahead (EV: water, price), each at its index weight: name -> (T,)."""
    weights = dict(zip(task.feature_names, task.known_ahead_weights()))
    parts = signals.scaled_parts(task.region, task.train_fraction).astype(np.float32)  # as the signal mixes them
    return {name: part * weights[name] for name, part in zip(signals.PARTS, parts) if weights.get(name, 0.0)}


class Forecasts:
    """A model's forecast of every window of a task, computed once; rows looked up by first target hour."""

    def __init__(self, forecaster: Forecaster, task: Task) -> None:
        inputs = torch.tensor(task.windows.inputs)
        with torch.no_grad():
            self.values = torch.cat([forecaster(inputs[i:i + 1024], task.windows.start[i:i + 1024]).cpu().float()
                                     for i in range(0, task.num_windows, 1024)])
        self.start = task.windows.start

    def rows(self, start: np.ndarray) -> torch.Tensor:
        return self.values[torch.from_numpy(np.searchsorted(self.start, start))]


def posthoc_forecaster(task: Task, model: Forecasts, scale: float, known: dict[str, float], share: float = 0.0) -> Forecaster:
    """``scale * rest + sum_j known[j] * part_j``, rest the model's forecast less its known-ahead parts; with
    ``share``, rest's error shrunk toward the true rest by that share first (the known-ahead parts carry no error)."""
    parts = {name: torch.from_numpy(series) for name, series in known_parts(task).items()}
    informed = information_forecaster(task, model, share)

    def forecast(inputs: torch.Tensor, start: np.ndarray) -> torch.Tensor:
        hours = torch.from_numpy(ahead(task, start))
        rest = informed(inputs, start) - sum((series[hours] for series in parts.values()), torch.zeros(()))
        return scale * rest + sum((known[name] * series[hours] for name, series in parts.items()), torch.zeros(()))

    return forecast


def mixture_forecaster(plain: Forecasts, model: Forecasts, share: float) -> Forecaster:
    return lambda inputs, start: (1.0 - share) * plain.rows(start) + share * model.rows(start)


def information_forecaster(task: Task, model: Forecasts, share: float) -> Forecaster:
    """``forecast + share * (truth - forecast)``: the model's error shrunk toward the truth (share 0: the forecast)."""
    series = torch.from_numpy(task.signal.values)

    def forecast(inputs: torch.Tensor, start: np.ndarray) -> torch.Tensor:
        rows = model.rows(start)
        return rows + share * (series[torch.from_numpy(ahead(task, start))] - rows)

    return forecast
