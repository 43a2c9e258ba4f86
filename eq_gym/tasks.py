"""Tasks: a signal's windows on one split plus the agents that act on them.

A task is everything an environment or a trainer needs, with no Gymnasium in
it: ``inputs`` (N, L, F), ``targets`` (N, H), the population and its
``regret``. The environments wrap a task; the trainers use it directly so the
same regret code runs on the GPU without an env in the loop.

Every keyword is checked here, once, with an error that names it and what is
allowed; an unknown keyword is refused with the list of known ones.

Settings shared by the three tasks:

- ``timing``: "own" (default: agents act on their own hours) or "shared"
  (every agent on every window alike, the paper's code release).
- ``features``: "calendar" (default: L = 24 past hours, F = 5: the signal and
  the sine and cosine of the local hour of the day and day of the week of
  each past hour) or "paper" (L = 12, F = 1: the signal alone).
- ``features="ahead"`` (EV's default): as "calendar", then the H forecast hours
  with what is public when the forecast is made (:func:`eq_gym.observations.known_ahead`).
- ``regret``: "per_unit" or "absolute" (the paper's); default "per_unit"
  under own timing (so that size alone does not make an agent worse served)
  and "absolute" under shared timing (the paper's setting, whole).
- ``priorities``: "own" (default: chargers pay under their own mix of carbon,
  water and price, data centres under their own region's carbon,
  :mod:`eq_gym.agents.priorities`) or "shared" (everyone pays under the public
  signal, the paper's).

``PAPER_SETTING`` holds the keywords of the paper's setting.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch

from eq_gym import data, observations, signals
from eq_gym.agents.base import Agents
from eq_gym.agents.charger_pools import ev_chargers, phone_chargers
from eq_gym.agents.datacentre_pools import datacentres
from eq_gym.agents.population import Population
from eq_gym.choices import AGENT_KINDS, FEATURES, LAMBDA_KINDS, PRIORITIES, REGIONS, REGRETS, SPLITS, TIMINGS

PAPER_SETTING = {"timing": "shared", "features": "paper", "priorities": "shared", "regret": "absolute"}
"""The keywords that give the paper's setting on every env."""
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
        times: the UTC hourly axis, (T,) datetime64.
        feature_names: what each input feature (the last axis of ``windows.inputs``) is.
    """

    name: str
    signal: signals.Signal
    windows: observations.Windows
    population: Population
    horizon: int
    split: str
    train_fraction: float
    region: str
    kwargs: dict[str, Any] = field(default_factory=dict)
    signal_kind: str = "carbon"
    times: np.ndarray = field(default_factory=lambda: np.array([], "datetime64[ns]"))
    feature_names: tuple[str, ...] = ("signal",)

    @property
    def num_windows(self) -> int:
        return int(self.windows.targets.shape[0])

    @property
    def lookback(self) -> int:
        """Input rows per window: the L past hours (and, with known-ahead features, the H forecast hours)."""
        return int(self.windows.inputs.shape[1])

    @property
    def num_features(self) -> int:
        """Features per input row, F."""
        return int(self.windows.inputs.shape[2])

    def feature_bounds(self) -> tuple[np.ndarray, np.ndarray]:
        """Finite low and high bounds of each input feature over the whole series, (F,) and (F,)."""
        low, high = self.signal.bounds
        if "observed" in self.feature_names:  # the forecast hours' rows hold 0 where the signal would be
            low = min(low, 0.0)
        units = {"signal": (low, high)} | {
            name: (float(np.floor(part.min()) - 1.0), float(np.ceil(part.max()) + 1.0)) for name, part in self._parts().items()
        }
        bounds = [units.get(name, (-1.0, 1.0) if name in observations.CALENDAR_FEATURES else (0.0, 1.0)) for name in self.feature_names]
        return np.array([b[0] for b in bounds], np.float32), np.array([b[1] for b in bounds], np.float32)

    def _parts(self) -> dict[str, np.ndarray]:
        """The parts that can be input features (water, price), scaled, over the whole axis: name -> (T,)."""
        return dict(zip(signals.PARTS[1:], signals.scaled_parts(self.region, self.train_fraction)[1:]))

    def known_ahead_weights(self) -> np.ndarray:
        """(F,): the weight of each input feature in the signal at the forecast rows (the parts of the
        signal known ahead: E_t's water and day-ahead price); zeros where nothing of it is known ahead."""
        if "observed" not in self.feature_names:
            return np.zeros(self.num_features)
        index = dict(zip(signals.PARTS, signals.INDEX_WEIGHTS[self.signal_kind]))
        return np.array([index.get(name, 0.0) if name in self._parts() else 0.0 for name in self.feature_names])

    def output_standardisation(self) -> tuple[float, float]:
        """Mean and std, over the training part, of what a model must forecast: the signal less its
        known-ahead parts (:meth:`known_ahead_weights`)."""
        cut, parts = self.signal.cut, self._parts()
        known = [(weight, parts[name][:cut]) for name, weight in zip(self.feature_names, self.known_ahead_weights()) if weight]
        unknown = self.signal.values[:cut] - sum(weight * part for weight, part in known) if known else self.signal.values[:cut]
        return float(unknown.mean()), float(unknown.std())

    def input_standardisation(self) -> tuple[np.ndarray, np.ndarray]:
        """Location and scale of each input feature for a model, (F,) and (F,) float64: the signal's
        (and the water's and price's) mean and std over the training part; 0 and 1 for the clock and flags."""
        loc, scale = np.zeros(self.num_features), np.ones(self.num_features)
        train = {"signal": self.signal.values} | self._parts()
        for column, name in enumerate(self.feature_names):
            if name in train:
                values = train[name][: self.signal.cut]
                loc[column], scale[column] = float(values.mean()), float(values.std())
        return loc, scale

    def start_time(self, start: np.ndarray) -> np.ndarray:
        """First forecast hour, UTC, of windows starting at axis indices ``start``: (B,) ``np.datetime64``s.

        The array has dtype object (each entry a ``np.datetime64[s]``) because Gymnasium's env
        checker compares info arrays with ``np.allclose``, which refuses a datetime64 array;
        ``.astype("datetime64[s]")`` gives one.
        """
        stamps = self.times[start].astype("datetime64[s]")
        boxed = np.empty(stamps.shape, dtype=object)
        boxed[:] = list(stamps)
        return boxed

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


def _task(*, name: str, kind: str, horizon: int, split: str, region: str, train_fraction: float, groups: list[Agents],
          kwargs: dict[str, Any], features: str = "paper") -> Task:
    """A task whose population is ``groups`` of agents, built whole on the split's clock."""
    if features == "ahead" and horizon > data.HOURS_PER_DAY:
        raise ValueError(f"features='ahead' forecasts at most {data.HOURS_PER_DAY} hours; horizon={horizon}")
    windows = observations.task_windows(kind, region, train_fraction, split, horizon, features)
    hour = data.local_hour(region)
    share = np.bincount(hour[windows.start], minlength=24) / len(windows.start)
    return Task(
        name=name,
        signal=observations.signal_of(kind, region, train_fraction),
        windows=windows,
        population=Population(groups, torch.from_numpy(hour), torch.from_numpy(share).float()),
        horizon=horizon,
        split=split,
        train_fraction=train_fraction,
        region=region,
        kwargs=kwargs,
        signal_kind=kind,
        times=data.hours(region).to_numpy(),
        feature_names=observations.feature_names(kind, features),
    )


def dc_task(
    split: str = "train", agents: str = "different", lambdas: str = "same", num_agents: int = 50, region: str = "SCE",
    timing: str = "own", features: str = "calendar", regret: str | None = None, priorities: str = "own",
) -> Task:
    """50 data centres (Eq. 12) on the carbon signal, H = 1, 67/33 split."""
    kwargs = _check(locals(), minimum_agents=2)
    choose("lambdas", lambdas, LAMBDA_KINDS)
    truth = observations.task_windows("carbon", region, DC_TRAIN_FRACTION, "train", 1, "paper")
    group = datacentres(agents=agents, lambdas=lambdas, num_agents=num_agents, split=split, train_fraction=DC_TRAIN_FRACTION,
                        timing=kwargs["timing"], per_unit=kwargs["regret"] == "per_unit", truth=truth, region=region,
                        priorities=priorities)
    return _task(name="dc", kind="carbon", horizon=1, split=split, region=region, train_fraction=DC_TRAIN_FRACTION,
                 groups=[group], kwargs=kwargs, features=features)


def ev_task(
    split: str = "train", agents: str = "different", num_agents: int = 70, region: str = "SCE",
    timing: str = "own", features: str = "ahead", regret: str | None = None, priorities: str = "own",
) -> Task:
    """70 EV chargers (Eq. 13) on E_t = carbon + water + price, H = 12, 70/30 split."""
    kwargs = _check(locals(), minimum_agents=2 if agents == "similar" else (6 if timing == "own" else 4))
    groups = ev_chargers(agents=agents, num_agents=num_agents, split=split, train_fraction=EV_TRAIN_FRACTION, timing=timing,
                         per_unit=kwargs["regret"] == "per_unit", priorities=priorities, signal="ev", region=region)
    return _task(name="ev", kind="ev", horizon=12, split=split, region=region, train_fraction=EV_TRAIN_FRACTION,
                 groups=groups, kwargs=kwargs, features=features)


def mixed_task(
    split: str = "train", agents: str = "different", num_agents: int = 60, region: str = "SCE",
    timing: str = "own", features: str = "calendar", regret: str | None = None, priorities: str = "own",
) -> Task:
    """Data centres, EV and phone chargers (paper A.4), a third each, on carbon, H = 12, 67/33 split."""
    kwargs = _check(locals(), minimum_agents=6 if agents == "similar" else (18 if timing == "own" else 12))
    third = num_agents // 3
    sizes = (num_agents - 2 * third, third, third)
    per_unit = kwargs["regret"] == "per_unit"
    truth = observations.task_windows("carbon", region, DC_TRAIN_FRACTION, "train", 12, "paper")
    shared = dict(agents=agents, split=split, train_fraction=DC_TRAIN_FRACTION, timing=timing, per_unit=per_unit,
                  region=region, priorities=priorities)
    groups = [
        datacentres(lambdas="same", num_agents=sizes[0], truth=truth, **shared),
        *ev_chargers(num_agents=sizes[1], signal="carbon", **shared),
        *phone_chargers(num_agents=sizes[2], signal="carbon", **shared),
    ]
    return _task(name="mixed", kind="carbon", horizon=12, split=split, region=region, train_fraction=DC_TRAIN_FRACTION,
                 groups=groups, kwargs=kwargs, features=features)


def _check(arguments: dict[str, Any], minimum_agents: int) -> dict[str, Any]:
    """Check the keywords every task shares; return them, with ``regret``'s default filled in."""
    kwargs = {k: v for k, v in arguments.items() if k != "minimum_agents"}
    choose("split", kwargs["split"], SPLITS)
    choose("agents", kwargs["agents"], AGENT_KINDS)
    choose("region", kwargs["region"], REGIONS)
    choose("timing", kwargs["timing"], TIMINGS)
    choose("features", kwargs["features"], tuple(FEATURES))
    choose("priorities", kwargs["priorities"], PRIORITIES)
    if kwargs["regret"] is None:
        kwargs["regret"] = "per_unit" if kwargs["timing"] == "own" else "absolute"
    choose("regret", kwargs["regret"], REGRETS)
    positive_int("num_agents", kwargs["num_agents"], minimum_agents)
    return kwargs


def custom_task(
    population: Callable[..., Agents | list[Agents] | Population], signal: str = "carbon", horizon: int = 12,
    split: str = "train", region: str = "SCE", features: str = "calendar", **kwargs: Any,
) -> Task:
    """A task for agents of your own on a shipped signal.

    Args:
        population: ``population(split=..., train_fraction=..., **kwargs)`` returns the agents of that
            split: one group of :class:`~eq_gym.agents.base.Agents` or a list of groups (or a
            :class:`Population`'s groups); the task builds the population whole, on the split's clock.
        signal: "carbon", "ev" (carbon + water + price) or "price".
        horizon: hours forecast per window, H.
        split: "train" or "test", as for the built-in envs.
        region: the CAISO region of the carbon signal, as for the built-in envs.
        features: what the model sees, as for the built-in envs.
        **kwargs: passed on to ``population`` (e.g. ``num_agents``).
    """
    choose("signal", signal, tuple(observations.SIGNALS))
    choose("split", split, SPLITS)
    choose("region", region, REGIONS)
    choose("features", features, tuple(FEATURES))
    horizon = positive_int("horizon", horizon)
    if not callable(population):
        raise ValueError(f"population={population!r} is not callable; pass a function that builds the agents of a split")
    fraction = EV_TRAIN_FRACTION if signal == "ev" else DC_TRAIN_FRACTION
    built = population(split=split, train_fraction=fraction, **kwargs)
    groups = built.groups if isinstance(built, Population) else list(built) if isinstance(built, (list, tuple)) else [built]
    task_kwargs = dict(split=split, region=region, signal=signal, horizon=horizon, features=features, **kwargs)
    return _task(name="custom", kind=signal, horizon=horizon, split=split, region=region, train_fraction=fraction,
                 groups=groups, kwargs=task_kwargs, features=features)


TASKS = {"dc": dc_task, "ev": ev_task, "mixed": mixed_task}
"""Task builders by name; each takes the env's task keywords."""


def task_keywords(name: str) -> tuple[str, ...]:
    """The keywords task ``name`` takes."""
    return tuple(inspect.signature(TASKS[choose("task", name, tuple(TASKS))]).parameters)


def refuse_unknown(kwargs: dict[str, Any], allowed: tuple[str, ...], what: str) -> None:
    """A ValueError naming the first keyword of ``kwargs`` that is not in ``allowed``, and listing those."""
    unknown = [k for k in kwargs if k not in allowed]
    if unknown:
        raise ValueError(f"{unknown[0]}={kwargs[unknown[0]]!r} is not a keyword of {what}; it takes {', '.join(allowed)}")


def make_task(name: str, **kwargs: Any) -> Task:
    """Build task ``name`` ("dc", "ev", "mixed") with its keywords."""
    refuse_unknown(kwargs, task_keywords(name), f"the {name!r} task")
    return TASKS[name](**kwargs)


def contexts_generator(seed: int, device: torch.device | str = "cpu") -> torch.Generator:
    """A torch generator for context draws, seeded."""
    generator = torch.Generator(device=device)
    generator.manual_seed(int(seed))
    return generator
