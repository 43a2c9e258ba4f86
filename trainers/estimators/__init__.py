"""Gradient estimators, by name: the registry gives ``--algo`` its choices and drives the tests.

``ESTIMATORS`` maps each name to its class, imported on first use (so that
``eqpm --help`` need not load torch); ``estimator_summary(name)`` is the first
line of its module's docstring, read without importing it.
"""

from __future__ import annotations

import importlib
from collections.abc import Iterator, Mapping
from typing import Any

MODULES = {
    "mse": "trainers.estimators.mse:MSE",
    "diff": "trainers.estimators.diff:Differentiable",
    "pg": "trainers.estimators.pg:PaperPolicyGradient",
    "rloo": "trainers.estimators.rloo:LeaveOneOutPolicyGradient",
    "spo": "trainers.estimators.spo:SPOPlus",
    "pfy": "trainers.estimators.pfy:PerturbedFenchelYoung",
    "forml": "trainers.estimators.forml:FairnessReweighting",
}
"""Each estimator's name and where its class lives (``module:Class``); the class's ``name`` is the key."""


class Registry(Mapping):
    """Name -> estimator class, each imported when first asked for."""

    def __init__(self, paths: dict[str, str]) -> None:
        self.paths, self.loaded = paths, {}

    def __getitem__(self, name: str) -> Any:
        if name not in self.loaded:
            module, cls = self.paths[name].split(":")
            self.loaded[name] = getattr(importlib.import_module(module), cls)
        return self.loaded[name]

    def __iter__(self) -> Iterator[str]:
        return iter(self.paths)

    def __len__(self) -> int:
        return len(self.paths)


ESTIMATORS = Registry(MODULES)


def estimator_summary(name: str) -> str:
    """The first line of the estimator's module docstring ("name -- idea"), read from its source."""
    from trainers.summaries import summary

    return summary(MODULES[name].split(":")[0])


def foreign_settings(algo: str) -> set[str]:
    """The settings other estimators take and ``algo`` does not."""
    return {name for other in ESTIMATORS for name in ESTIMATORS[other].settings} - set(ESTIMATORS[algo].settings)


WEIGHINGS = Registry({
    "running": "trainers.estimators.weighing:AgentWeighing",
    "multiplicative": "trainers.estimators.weighing:MultiplicativeWeighing",
    "excess": "trainers.estimators.weighing:ExcessWeighing",
})
"""Each way of weighing the agents by name (``--weighing``), its class imported on first use."""
SCORE_TERMS = ("local", "sampled")
"""``rloo``'s score terms for slot-choosing agents (``--score``)."""
WEIGHING_SETTINGS = ("weighing", "weight_step")
"""TrainConfig fields that only estimators which weigh agents (``Estimator.weighs_agents``) use."""


def build_estimator(config: Any, population: Any, model: Any, reference: Any = None) -> Any:
    """The estimator ``config.algo`` for ``population``: its own settings read from ``config`` (a TrainConfig),
    ``model`` (the policy) for one that looks at its parameters, its agents' weighing (``config.weighing``;
    ``reference``: each agent's reference regret (M,), for ``excess``). A setting of another estimator that
    ``config`` gives a value other than its default is refused by name: it would change nothing."""
    import dataclasses

    check_names(config)
    cls = ESTIMATORS[config.algo]
    defaults = {f.name: f.default for f in dataclasses.fields(config)}
    foreign = foreign_settings(config.algo) | (set() if cls.weighs_agents else set(WEIGHING_SETTINGS))
    unused = sorted(name for name in foreign if getattr(config, name) != defaults[name])
    if unused:
        raise ValueError(f"--{unused[0].replace('_', '-')} {getattr(config, unused[0])} is not used by algo '{cls.name}' "
                         f"(it takes {', '.join('--' + s for s in cls.settings) or 'no settings of its own'}"
                         f"{'' if cls.weighs_agents else ' and weighs no agents by L_q'}); leave it out")
    own = {name: getattr(config, name) for name in cls.settings}
    objective = config.objective
    weighing = WEIGHINGS[config.weighing](objective, config.memory, config.weight_step, reference)
    return cls(population, objective, weighing, model=model if cls.needs_model else None, **own)


def check_names(config: Any) -> None:
    """Refuse, by name, an ``algo`` or ``weighing`` of ``config`` that no estimator or weighing has."""
    for field, registry in (("algo", ESTIMATORS), ("weighing", WEIGHINGS)):
        if getattr(config, field) not in registry:
            raise ValueError(f"{field}={getattr(config, field)!r} is not allowed; use one of {tuple(registry)}")


def __getattr__(name: str) -> Any:  # Batch, Estimator, StepResult: from base, on first use
    if name in ("Batch", "Estimator", "StepResult"):
        return getattr(importlib.import_module("trainers.estimators.base"), name)
    raise AttributeError(name)


__all__ = ["ESTIMATORS", "MODULES", "SCORE_TERMS", "WEIGHINGS", "check_names", "Batch", "Estimator", "StepResult", "build_estimator", "estimator_summary", "foreign_settings"]
