"""The paper's experiments: their settings in both setups, budgets, and the runs each needs."""

from __future__ import annotations

import math
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from eq_gym.tasks import PAPER_SETTING
from trainers.config import LEARNER, TrainConfig
from trainers.studies.report import PLAIN

DC, EV, MIXED = "EquitablePM-DC-v0", "EquitablePM-EV-v0", "EquitablePM-Mixed-v0"


@dataclass(frozen=True)
class Budget:
    """Epochs, full and ``--quick`` (learning rates: the config's defaults, chosen on the training split)."""

    epochs: int
    quick_epochs: int
    quick_learner: dict[str, int] = field(default_factory=dict)
    """The equitable learner's schedule under ``--quick`` (its ``epochs`` at q = 0 and ``rung_epochs``); a full run
    takes the learner's defaults (trainers/config.py:LEARNER)."""


SETUPS = {"paper": PAPER_SETTING, "default": {}}
CEILING_RESOLUTION = 15
"""Grid steps of the hindsight ceiling drawn on each frontier figure (``eqpm bench frontier`` takes 30 by default; on
EV's defaults the test worst tenth at 15 steps is within 0.045 of 30 steps' at every q + 1, the same at 5 and inf)."""
"""The two setups every block runs in, with the same seeds. ``paper``: every agent acts on every window
alike, pays under the public signal and the model sees 12 past hours of the signal alone (the paper's
code), kept to compare with the paper; ``default``: the envs' defaults (agents on their own hours,
paying under their own priorities, per-unit regret; the model sees 24 past hours with the clock, and on
EV the forecast hours' known-ahead inputs)."""


@dataclass(frozen=True)
class Setting:
    """One block of a paper table in one setup: an env and its keywords, the Plain PM and the Equitable PMs over q + 1."""

    experiment: str
    title: str
    setup: str
    """A key of ``SETUPS``."""
    env: str
    env_kwargs: dict[str, Any]
    backbone: str | None
    """The network of every run; None: the env's default (trainers/config.py:DEFAULT_NETWORK)."""
    algos: tuple[str, ...]
    """Equitable PM estimators; the first is the main one (figures, claims), the others extra rows."""
    q_plus_one: tuple[float, ...]
    quick_q_plus_one: tuple[float, ...] | None
    """q + 1 values that ``--quick`` runs; None leaves the block out of ``--quick``."""
    betas: tuple[float, ...] = (0.0,)
    theory_q_plus_one: tuple[float, ...] = field(default=())
    """Extra q + 1 values, beyond the paper's, run to check Theorems 4.3 and 4.4."""
    recipe: str = "paper"
    """``paper``: every run one ``eqpm train --recipe paper`` at its q for the experiment's epochs (the paper's
    method); ``path``: the equitable learner (``eqpm train``'s default recipe, with its beta and keep), its Plain PM
    (``--algo mse``) trained alike."""

    @property
    def method(self) -> str:
        """The block's method as the tables name it."""
        return "the paper's recipe" if self.recipe == "paper" else "the equitable learner"

    def grid(self, quick: bool) -> list[tuple[str, float, float]]:
        """(algo, q + 1, beta) of every Equitable PM run of this block."""
        q_values = self.quick_q_plus_one if quick else self.q_plus_one
        return [
            (algo, q1, beta)
            for algo in self.algos
            for q1 in sorted(set(q_values or ()) | set(self.theory_q_plus_one if algo == self.algos[0] else ()))
            for beta in self.betas
        ]


def in_both_setups(experiment: str, title: str, env: str, env_kwargs: dict[str, Any], **fields: Any) -> list[Setting]:
    """A block run in the paper's setup and in the default one, alike otherwise."""
    return [Setting(experiment, title, setup, env, SETUPS[setup] | env_kwargs, **fields) for setup in SETUPS]


def with_the_learner(experiment: str, title: str, env: str, env_kwargs: dict[str, Any], **fields: Any) -> list[Setting]:
    """A block of the paper's method in both setups, each followed by the equitable learner (``eqpm train``'s
    defaults: its estimator and network) at q = 0 and q + 1 = inf, on the same agents and seeds."""
    paper = in_both_setups(experiment, title, env, env_kwargs, **fields)
    learner = [replace(setting, backbone=None, algos=("rloo",), q_plus_one=(1.0, math.inf), quick_q_plus_one=(1.0, math.inf),
                       theory_q_plus_one=(), betas=(LEARNER[env]["beta"],), recipe="path") for setting in paper]
    return [block for pair in zip(paper, learner) for block in pair]


QUICK_LEARNER = {"epochs": 15, "rung_epochs": 4}
"""The equitable learner's ``--quick`` schedule on EV: 15 epochs at q = 0, then 4 per rung (q + 1 = 2, 5, 20, inf),
31 in all against the default 220. Measured on the 2-core machine (2026-12-07, 3 seeds, "different" agents, default
setup): q + 1 = inf's test worst tenth 0.912 against 1.144 at q = 0 and 1.172 for its Plain PM, mean 2 % and 3 % lower
(levels up against both); 30 + 4 x 8 gave 0.862 against 1.113 and 1.151 at twice the time. The 18 runs of both
setups take 4 min 22 s at two at a time."""
BUDGETS = {DC: Budget(epochs=15, quick_epochs=5), EV: Budget(epochs=3, quick_epochs=2, quick_learner=QUICK_LEARNER),
           MIXED: Budget(epochs=3, quick_epochs=1)}
"""Sized so that ``eqpm reproduce all`` runs in about an hour on 2 cores (``--jobs 2``): an EV or Mixed
epoch is 112 updates of the 250-wide Transformer, ~17 s on one core; a DC epoch ~2 s. EV's quick budget is
2 epochs: after one, the Plain PM and the Equitable PM serve the worst-served tenth alike within the seeds'
spread (0.88-0.97 against 0.87-0.95, seeds 0-2, measured with `eqpm bench q-sweep`); after two they part."""

EV_ALGOS = ("spo",)
"""EV and Mixed train the Equitable PM with SPO+, the estimator that realises L_q on slot-choosing agents
(RESULTS.md, estimators: at 8 epochs it passes persistence_daily first); `eqpm bench estimator-targets` sets
rloo and pg beside it."""

EXPERIMENTS: dict[str, list[Setting]] = {
    "dc": [
        *in_both_setups("dc", "Similar Agents, Different λ", DC, {"agents": "similar", "lambdas": "different"},
                        backbone="lstm", algos=("diff",), q_plus_one=(1.0, 1.1, 1.5), quick_q_plus_one=(1.0, 1.1, 1.5),
                        theory_q_plus_one=(2.0,)),
        *in_both_setups("dc", "Different Agents, Same λ", DC, {"agents": "different", "lambdas": "same"},
                        backbone="lstm", algos=("diff",), q_plus_one=(1.0, 3.0, 20.0), quick_q_plus_one=(1.0, 3.0, 20.0),
                        theory_q_plus_one=(2.0,)),
        *in_both_setups("dc", "Different Agents, Different λ", DC, {"agents": "different", "lambdas": "different"},
                        backbone="lstm", algos=("diff",), q_plus_one=(1.0, 3.0, 10.0), quick_q_plus_one=(1.0, 3.0, 10.0),
                        theory_q_plus_one=(2.0,)),
    ],
    "ev": [
        *in_both_setups("ev", "Similar Agents", EV, {"agents": "similar"}, backbone="transformer", algos=EV_ALGOS,
                        q_plus_one=(1.0, 20.0, 40.0), quick_q_plus_one=None),
        *with_the_learner("ev", "Different Agents", EV, {"agents": "different"}, backbone="transformer", algos=EV_ALGOS,
                          q_plus_one=(1.0, 20.0, 40.0), quick_q_plus_one=(1.0, 40.0)),
    ],
    "mixed": in_both_setups("mixed", "Data centres, EVs and phone chargers", MIXED, {"agents": "similar"},
                            backbone="transformer", algos=EV_ALGOS, q_plus_one=(1.0, 1.1, 20.0), quick_q_plus_one=(1.0, 20.0)),
    "beta": in_both_setups("beta", "Different Agents, q+1 = 40", EV, {"agents": "different"}, backbone="transformer",
                           algos=EV_ALGOS, q_plus_one=(40.0,), quick_q_plus_one=(40.0,), betas=(0.0, 0.2, 0.8)),
}
METHOD = {"diff": "Equitable PM", "spo": "Equitable PM (spo)", "rloo": "Equitable PM (rloo)", "pg": "Equitable PM (pg, paper Eq. 4)",
          PLAIN: "Plain PM"}


def run_configs(setting: Setting, seeds: int, epochs: int, out: Path, quick: bool = False) -> list[TrainConfig]:
    """Every run of a setting: the Plain PM, then each algo x q+1 x beta, each over the seeds. ``epochs``: of the
    paper's recipe; the learner's runs take its schedule (``Budget.quick_learner`` under ``quick``)."""
    if setting.recipe == "paper":
        schedule: dict[str, Any] = {"epochs": epochs}
    else:
        schedule = BUDGETS[setting.env].quick_learner if quick else {}
    configs = []
    for algo, q1, beta in [(PLAIN, 1.0, 0.0), *setting.grid(quick)]:
        for seed in range(seeds):
            config = TrainConfig(env=setting.env, algo=algo, q=round(q1 - 1.0, 10), beta=None if algo == PLAIN else beta,
                                 backbone=setting.backbone, seed=seed, progress=False, recipe=setting.recipe, **schedule,
                                 **setting.env_kwargs)
            configs.append(replace(config, out=out / "runs" / run_name(config)))
    return configs


def run_name(config: TrainConfig) -> str:
    keywords = "-".join(str(v) for k, v in sorted(config.env_kwargs().items()) if k != "region" and v is not None)
    short = config.env.removeprefix("EquitablePM-").removesuffix("-v0").lower()
    form = "" if config.algo == PLAIN else f"-{config.form}"
    schedule = (f"epochs={config.epochs}" if config.recipe == "paper" else
                f"{config.backbone}-path={config.epochs}+{len(config.rungs)}x{config.rung_epochs}")
    return f"{short}-{keywords}-{config.algo}{form}-q+1={config.q + 1:g}-beta={config.beta:g}-seed={config.seed}-{schedule}"
