"""Tasks: a signal's windows on one split plus the agents that act on them.

A task is everything an environment or a trainer needs, with no Gymnasium in
it: ``inputs`` (N, L, 1), ``targets`` (N, H), the population and its
``regret``. The environments wrap a task; the trainers use it directly so the
same regret code runs on the GPU without an env in the loop.

Every keyword is checked here, once, with an error that names it and what is
allowed.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cache
from typing import Any

import numpy as np
import torch

from eq_gym import data
from eq_gym.agents import pools
from eq_gym.agents.base import Agents
from eq_gym.agents.population import Population

LOOKBACK = 12
"""Past hours in each input window (the paper's sequence length)."""
SPLITS = ("train", "test")
AGENT_KINDS = ("similar", "different")
LAMBDA_KINDS = ("same", "different")
DC_TRAIN_FRACTION = 0.67
EV_TRAIN_FRACTION = 0.70


@dataclass(frozen=True)
class Task:
    """A forecasting task on one split.

    Attributes:
        name: "dc", "ev" or "mixed".
        signal: the scaled signal with its train/test cut.
        windows: the windows of ``split``.
        population: the agents, on the CPU.
        horizon: hours forecast per window, H.
        split: "train" or "test".
        train_fraction: share of the series (and of each agent's pool) used for training.
        region: CAISO region of the carbon signal.
        kwargs: the keywords the task was made with.
        signal_kind: "carbon", "ev" (carbon + water + price) or "price".
    """

    name: str
    signal: data.Signal
    windows: data.Windows
    population: Population
    horizon: int
    split: str
    train_fraction: float
    region: str
    kwargs: dict[str, Any] = field(default_factory=dict)
    signal_kind: str = "carbon"

    @property
    def num_windows(self) -> int:
        return int(self.windows.targets.shape[0])

    @property
    def num_agents(self) -> int:
        return self.population.num_agents

    @property
    def carbon_only(self) -> bool:
        """True when the forecast signal is the carbon (MOER) signal alone."""
        return self.signal_kind == "carbon"


def choose(keyword: str, value: Any, allowed: tuple) -> Any:
    """Return ``value`` if it is one of ``allowed``; else a ValueError naming ``keyword``."""
    if value not in allowed:
        raise ValueError(f"{keyword}={value!r} is not allowed; use one of {allowed}")
    return value


def positive_int(keyword: str, value: Any, minimum: int = 1) -> int:
    """Return ``value`` as an int >= ``minimum``; else a ValueError naming ``keyword``."""
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < minimum:
        raise ValueError(f"{keyword}={value!r} is not allowed; use an integer >= {minimum}")
    return int(value)


SIGNALS = {"carbon": data.carbon_signal, "ev": data.ev_signal, "price": data.price_signal}
"""The shipped signals a task can forecast, each scaled to [0, 10] on its training part."""


@cache
def _signal(kind: str, region: str, train_fraction: float) -> data.Signal:
    return SIGNALS[kind](region, train_fraction)


@cache
def _windows(kind: str, region: str, train_fraction: float, split: str, horizon: int) -> data.Windows:
    return data.windows(_signal(kind, region, train_fraction), split, LOOKBACK, horizon)


def _task(name, kind, horizon, split, region, train_fraction, population, kwargs) -> Task:
    return Task(
        name=name,
        signal=_signal(kind, region, train_fraction),
        windows=_windows(kind, region, train_fraction, split, horizon),
        population=population,
        horizon=horizon,
        split=split,
        train_fraction=train_fraction,
        region=region,
        kwargs=kwargs,
        signal_kind=kind,
    )


def dc_task(
    split: str = "train", agents: str = "similar", lambdas: str = "same", num_agents: int = 50, region: str = "SCE"
) -> Task:
    """50 data centres (Eq. 12) on the carbon signal, H = 1, 67/33 split."""
    kwargs = dict(split=split, agents=agents, lambdas=lambdas, num_agents=num_agents, region=region)
    _check(kwargs, minimum_agents=2)
    choose("lambdas", lambdas, LAMBDA_KINDS)
    group = pools.datacentres(agents, lambdas, num_agents, split, DC_TRAIN_FRACTION)
    return _task("dc", "carbon", 1, split, region, DC_TRAIN_FRACTION, Population([group]), kwargs)


def ev_task(split: str = "train", agents: str = "similar", num_agents: int = 70, region: str = "SCE") -> Task:
    """70 EV chargers (Eq. 13) on E_t = carbon + water + price, H = 12, 70/30 split."""
    kwargs = dict(split=split, agents=agents, num_agents=num_agents, region=region)
    _check(kwargs, minimum_agents=2 if agents == "similar" else 4)
    group = pools.ev_chargers(agents, num_agents, split, EV_TRAIN_FRACTION)
    return _task("ev", "ev", 12, split, region, EV_TRAIN_FRACTION, Population([group]), kwargs)


def mixed_task(split: str = "train", agents: str = "similar", num_agents: int = 60, region: str = "SCE") -> Task:
    """Data centres, EV and phone chargers (paper A.4), a third each, on carbon, H = 12, 67/33 split."""
    kwargs = dict(split=split, agents=agents, num_agents=num_agents, region=region)
    _check(kwargs, minimum_agents=6 if agents == "similar" else 12)
    third = num_agents // 3
    sizes = (num_agents - 2 * third, third, third)
    groups = [
        pools.datacentres(agents, "same", sizes[0], split, DC_TRAIN_FRACTION),
        pools.ev_chargers(agents, sizes[1], split, DC_TRAIN_FRACTION),
        pools.phone_chargers(sizes[2], split, DC_TRAIN_FRACTION),
    ]
    return _task("mixed", "carbon", 12, split, region, DC_TRAIN_FRACTION, Population(groups), kwargs)


def _check(kwargs: dict[str, Any], minimum_agents: int) -> None:
    choose("split", kwargs["split"], SPLITS)
    choose("agents", kwargs["agents"], AGENT_KINDS)
    choose("region", kwargs["region"], data.REGIONS)
    positive_int("num_agents", kwargs["num_agents"], minimum_agents)


def custom_task(
    population: Callable[..., Population | Agents], signal: str = "carbon", horizon: int = 12,
    split: str = "train", region: str = "SCE", **kwargs: Any,
) -> Task:
    """A task for agents of your own on a shipped signal.

    Args:
        population: ``population(split=..., train_fraction=..., **kwargs)`` returns the agents
            (a :class:`Population` or one group of :class:`~eq_gym.agents.base.Agents`) of that split.
        signal: "carbon", "ev" (carbon + water + price) or "price".
        horizon: hours forecast per window, H.
        split, region: as for the built-in envs.
        **kwargs: passed on to ``population`` (e.g. ``num_agents``).
    """
    choose("signal", signal, tuple(SIGNALS))
    choose("split", split, SPLITS)
    choose("region", region, data.REGIONS)
    horizon = positive_int("horizon", horizon)
    if not callable(population):
        raise ValueError(f"population={population!r} is not callable; pass a function that builds the agents of a split")
    fraction = EV_TRAIN_FRACTION if signal == "ev" else DC_TRAIN_FRACTION
    built = population(split=split, train_fraction=fraction, **kwargs)
    agents = built if isinstance(built, Population) else Population([built])
    task_kwargs = dict(split=split, region=region, signal=signal, horizon=horizon, **kwargs)
    return _task("custom", signal, horizon, split, region, fraction, agents, task_kwargs)


TASKS = {"dc": dc_task, "ev": ev_task, "mixed": mixed_task}
"""Task builders by name; each takes the env's task keywords."""


def make_task(name: str, **kwargs: Any) -> Task:
    """Build task ``name`` ("dc", "ev", "mixed") with its keywords."""
    return TASKS[choose("task", name, tuple(TASKS))](**kwargs)


def contexts_generator(seed: int, device: torch.device | str = "cpu") -> torch.Generator:
    """A torch generator for context draws, seeded."""
    generator = torch.Generator(device=device)
    generator.manual_seed(int(seed))
    return generator
