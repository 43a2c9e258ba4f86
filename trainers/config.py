"""One typed config for a training run: every number that matters, with the paper's defaults.

The CLI (``eqpm train``) builds its flags from these fields, their help
strings and allowed values; the same dict is logged to TensorBoard as the
run's hyperparameters. A config checks its own fields when it is made.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from eq_gym.choices import BATCH_SIZE, MEMORY, REWARD_FORMS, TASK_KEYWORDS

BACKBONES = ("lstm", "transformer", "mlp")
KNOWN_AHEAD = ("index", "learned")
DEVICES = ("auto", "cpu", "cuda")
KEEPS = ("last", "best")
RECIPES = ("path", "paper")
RUNGS = (2.0, 5.0, 20.0, math.inf)
"""q + 1 of the path's rungs above q = 0 (the q-sweep's ladder): a path run climbs them up to its own q."""
DEFAULT_LEARNING_RATE = {
    "EquitablePM-DC-v0": {"mse": 0.05, "diff": 1e-3, "pg": 1e-3, "rloo": 1e-3},
    "EquitablePM-EV-v0": {"mse": 1e-4, "diff": 1e-4, "pg": 1e-4, "rloo": 3e-4, "spo": 1e-3, "pfy": 1e-3, "forml": 1e-3},
    "EquitablePM-Mixed-v0": {"mse": 1e-3, "diff": 1e-4, "pg": 1e-4, "rloo": 1e-4, "spo": 1e-4, "pfy": 1e-4, "forml": 1e-4},
}
"""Adam's default learning rate per env and algo. The paper's (A.3.1: DC 0.05, EV 1e-4; A.4: Mixed 0.05,
0.1) where they won; elsewhere the lowest training-split mean regret in short runs (docs/trainers.md):
on DC the regret-trained algos do better at 1e-3 than at 0.05, on Mixed mse at 1e-3 and rloo at 1e-4.
EV in the default setting (own hours, "different" agents, 3 epochs, 1e-4 / 3e-4 / 1e-3): mse 1e-4,
rloo 3e-4, spo 1e-3; pfy and forml take spo's (same family, not measured apart); on Mixed spo, pfy and
forml take rloo's 1e-4 (not measured)."""
PAPER_BACKBONE = {"EquitablePM-DC-v0": "lstm", "EquitablePM-EV-v0": "transformer", "EquitablePM-Mixed-v0": "transformer"}
"""The paper's backbone per env (A.3, A.4); ``eqpm reproduce`` trains on these, and a checkpoint written before
2026-12-04 without a backbone was made with them."""
PAPER_SIZES = {"d_model": 250, "heads": 5}
"""The paper's Transformer size (A.3: feature size 250), the size of ``--backbone transformer`` unless given."""
DEFAULT_NETWORK = {
    "EquitablePM-DC-v0": {"backbone": "transformer", "d_model": 32, "heads": 4},
    "EquitablePM-EV-v0": {"backbone": "mlp"},
    "EquitablePM-Mixed-v0": {"backbone": "mlp"},
}
"""The default backbone per env, with its size where it is not the paper's: the lowest test mean regret after
the same wall time of updates on one thread (``eqpm bench wall-budget``, 2026-12-04, RESULTS.md); the MLP
for an env of your own."""


LEARNER = {
    "EquitablePM-EV-v0": {"epochs": 100, "rung_epochs": 30, "beta": 0.8, "keep": "best"},
    "EquitablePM-Mixed-v0": {"epochs": 100, "rung_epochs": 30, "beta": 0.8, "keep": "best"},
    "EquitablePM-DC-v0": {"epochs": 40, "rung_epochs": 15, "beta": 0.05, "keep": "best"},
}
"""The equitable learner's schedule per env (``recipe="path"``): ``epochs`` at q = 0, then one rung of
``rung_epochs`` per entry of ``rungs``, the MSE at weight ``beta`` throughout, each rung's best iterate kept.
EV and Mixed: the q-sweep's path that levels up at q + 1 = inf over 5 seeds (RESULTS.md, "Does `eqpm train --q
inf` level up?"); DC: shorter, so that a run stays under 10 minutes on one core (3.5 s an epoch with its evaluations),
and beta scaled to its regret (per-unit regrets near 0.01 against an MSE near 2.7: at 0.8 the regret would be under
0.5 % of the objective; 0.05 gives the MSE the share 0.8 gives it on EV). An env of your own takes EV's."""
DEFAULT_RECIPE = {"EquitablePM-EV-v0": "path", "EquitablePM-Mixed-v0": "path", "EquitablePM-DC-v0": "paper"}
"""The recipe ``eqpm train`` runs per env where it measured better (RESULTS.md, "Does `eqpm train --q inf` level up?"): the path
on EV and Mixed; on DC the paper's, because DC's test regret swings by a third between adjacent epochs while its
training objective moves by a few per cent, so each rung's best training iterate is a draw from that noise, and the
path's q = 0 models ended above the single run's (2 seeds, mean 0.0087-0.0097 against 0.0078). An env of your own
takes the path."""
PAPER_RECIPE = {"rung_epochs": 0, "beta": 0.0, "keep": "last", "epochs": 100}
"""``recipe="paper"``: one run at the given q, the paper's objective alone (beta 0), the last model given: what
``eqpm train`` ran before the path became its default, and what the studies that orchestrate their own runs use."""


@dataclass(frozen=True)
class Rung:
    """One rung of a run's path: trained at ``q`` for ``epochs`` epochs from epoch ``first`` of the run, with a
    fresh optimiser and step schedule, its batches seeded as a run of its own (epochs 0, 1, ... of the seed)."""

    q: float
    epochs: int
    first: int


def rung_at(path: tuple[Rung, ...], epoch: int) -> int:
    """The index of the rung that trains ``epoch`` (the last rung for epochs past the path, under --steps)."""
    return max(k for k, rung in enumerate(path) if rung.first <= epoch)


def _field(default: Any, help: str, **kwargs: Any) -> Any:
    return field(default=default, metadata={"help": help, **kwargs})


@dataclass(frozen=True)
class TrainConfig:
    """A training run. Defaults are the paper's where it gives them."""

    env: str = _field("EquitablePM-EV-v0", "registered env id whose task to train on")
    algo: str = _field("rloo", "estimator, one of the algorithms listed at the end of this help (trainers.estimators.ESTIMATORS)")
    q: float = _field(0.0, "fairness knob q of L_q: any number >= 0, or inf (the largest mean regret, min-max; power-mean form only); the paper's tables show q + 1")
    recipe: str | None = _field(None, "path (the equitable learner: q rises from 0 through --rungs up to --q, a fresh "
                                 "optimiser each rung, each rung's best iterate kept, the MSE at weight --beta; "
                                 "trainers/config.py:LEARNER) or paper (one run at --q on L_q alone, the paper's "
                                 "recipe: trainers/config.py:PAPER_RECIPE); sets the defaults of --epochs, "
                                 "--rung-epochs, --beta and --keep; default: the env's (trainers/config.py:DEFAULT_RECIPE: EV "
                                 "and Mixed path, DC paper)", choices=RECIPES)
    rungs: tuple[float, ...] = _field(RUNGS, "q + 1 of the path's rungs above q = 0, inf for min-max; the run trains "
                                             "at min(rung, q + 1) on each, so every q has the same schedule")
    rung_epochs: int | None = _field(None, "epochs of each rung after the first --epochs at q = 0; 0: no path; "
                                           "default: the recipe's (path: EV and Mixed 30, DC 15; paper: 0)")
    beta: float | None = _field(None, "weight of the MSE in the combined objective (1 - beta) L_q + beta L_f, paper "
                                      "A.5; default: the recipe's (path 0.8, paper 0)")
    form: str = _field("power_mean", "form of L_q trained on: 'power_mean' (the env's default reward; same minimiser, the scale of one agent's regret at any q) or 'paper' (sum of Cbar^(q+1), Eq. 2)", choices=REWARD_FORMS)
    backbone: str | None = _field(None, "lstm, transformer or mlp; default: the lowest regret after the same training "
                                        "time (trainers/config.py:DEFAULT_NETWORK: DC a Transformer of d_model 32, EV "
                                        "and Mixed the MLP); the paper's: DC lstm, EV and Mixed transformer",
                                  choices=BACKBONES)
    epochs: int | None = _field(None, "passes over the training split at q = 0 before the path's rungs (the whole "
                                      "run with --rung-epochs 0; 0: no training at all); EV: 112 updates each, about 1.3 s at the default "
                                      "MLP and rloo; default: the recipe's (path: EV and Mixed 100, DC 40; paper: 100)")
    steps: int | None = _field(None, "stop after this many updates, cutting the last epoch short; none: every epoch whole")
    batch_size: int = _field(BATCH_SIZE, "global batch of windows per step (split across processes under torchrun)")
    lr: float | None = _field(None, "Adam learning rate; default: measured per env and algo (trainers/config.py:DEFAULT_LEARNING_RATE)")
    lr_step: int = _field(50, "StepLR step size, in epochs")
    lr_gamma: float = _field(0.5, "StepLR decay factor")
    samples: int = _field(4, "forecast samples per window (rloo), perturbations per window (pfy); pg draws 1 as in the paper")
    memory: float = _field(MEMORY, "windows the running estimate of each agent's mean regret remembers (weights of L_q)")
    weighing: str = _field("multiplicative", "how each agent's regret is weighed in a step (diff, rloo, spo, pfy): "
                                             "multiplicative (mirror ascent on the weights, group-DRO style, fixed point "
                                             "the power mean's; the steadiest at large q, CHANGELOG.md 2026-12-02), running (dL/dCbar "
                                             "at running means) or excess (over the --init run's regret); "
                                             "trainers/estimators/weighing.py")
    weight_step: float = _field(0.1, "step of the multiplicative weighing: log-weights move toward q log Cbar at "
                                     "rate min(1, step / q) per batch")
    keep: str | None = _field(None, "the model the run (each rung of a path) gives: last (the final update's) or best "
                                    "(of the start and each epoch's end, the lowest value of the rung's own objective "
                                    "on the whole training split: (1 - beta) L_q + beta L_f, the MSE for mse; one "
                                    "training-split evaluation per epoch); default: the recipe's (path best, paper "
                                    "last)", choices=KEEPS)
    validation: float = _field(0.0, "share of the training windows, the latest in time, held out of the updates: "
                                    "--keep best scores on them (early stopping), and under either --keep the given "
                                    "model's regret there is recorded (validation_agent_regret), so that schedules "
                                    "compare on windows none was fitted to (trainers/selection.py); 0: none held out, "
                                    "--keep best scores on the whole training split")
    init: Path | None = _field(None, "start from this finished run's model (its checkpoint.pt; same env, keywords and "
                                     "backbone): continuation in q, and the reference regret of --weighing excess")
    perturbation: float = _field(1.0, "std of pfy's Gaussian perturbation of the forecast, signal units")
    score: str = _field("local", "rloo's score term for slot-choosing agents: local (each hour's noise integrated exactly "
                                 "given the sample's other hours) or sampled (plain REINFORCE on each sample)")
    known_ahead: str = _field("index", "how the forecast adds the parts of the signal known ahead (EV: water, day-ahead "
                                        "price): index (at the index's weights, hidden from the network) or learned "
                                        "(learnable weights starting at the index's; the network sees each part "
                                        "standardised within its window)", choices=KNOWN_AHEAD)
    init_std: float = _field(1.0, "initial std of the Gaussian policy, signal units")
    hidden: int = _field(50, "LSTM hidden size (paper: 50)")
    d_model: int | None = _field(None, "Transformer feature size; default: the env's default network's when --backbone "
                                       "is left out (DC 32), else the paper's 250")
    heads: int | None = _field(None, "Transformer attention heads (must divide d_model); default: the env's default "
                                     "network's when --backbone is left out (DC 4), else the paper's 5")
    width: int = _field(128, "MLP hidden width")
    seed: int = _field(0, "seeds Python, numpy, torch and the env's window order and context draws")
    device: str = _field("auto", "auto (CUDA when present), cpu or cuda", choices=DEVICES)
    out: Path = _field(Path("runs/run"), "run folder: TensorBoard events, checkpoint.pt, metrics.json")
    resume: bool = _field(False, "continue from OUT/checkpoint.pt")
    progress: bool = _field(True, "show a progress bar (eqpm reproduce turns it off per run)")
    agents: str | None = _field(None, "env keyword: similar or different; default: the env's (different)", choices=TASK_KEYWORDS["agents"])
    timing: str | None = _field(None, "env keyword: own (agents act on their own hours) or shared (every window alike, the paper's code); default: the env's (own)", choices=TASK_KEYWORDS["timing"])
    features: str | None = _field(None, "env keyword: ahead (24 past hours, the clock and the 12 forecast hours' known-ahead inputs), "
                                        "calendar (24 past hours and the clock) or paper (12 past hours); default: the env's (EV ahead, DC and Mixed calendar)", choices=TASK_KEYWORDS["features"])
    priorities: str | None = _field(None, "env keyword: own (agents pay under their own mix or region) or shared (all pay under the public signal, the paper's); default: the env's (own)", choices=TASK_KEYWORDS["priorities"])
    regret: str | None = _field(None, "env keyword: per_unit or absolute; default: per_unit with timing own, absolute with shared", choices=TASK_KEYWORDS["regret"])
    lambdas: str | None = _field(None, "env keyword (DC only): same or different; default: the env's (same)", choices=TASK_KEYWORDS["lambdas"])
    num_agents: int | None = _field(None, "env keyword: number of agents; default: the env's")
    region: str | None = _field(None, "env keyword: CAISO region of the carbon signal, SCE or PGE; default: the env's (SCE)", choices=TASK_KEYWORDS["region"])

    def __post_init__(self) -> None:
        """Refuse a field outside its allowed values, naming it and what is allowed."""
        for f in dataclasses.fields(self):
            value, allowed = getattr(self, f.name), f.metadata.get("choices")
            if allowed is not None and value is not None and value not in allowed:
                raise ValueError(f"{f.name}={value!r} is not allowed; use one of {tuple(allowed)}")
        if self.recipe is None:
            object.__setattr__(self, "recipe", DEFAULT_RECIPE.get(self.env, "path"))
        recipe = PAPER_RECIPE if self.recipe == "paper" else LEARNER.get(self.env, LEARNER["EquitablePM-EV-v0"])
        if self.algo == "mse":  # the Plain PM trains on the MSE alone: no beta to mix in
            recipe = {**recipe, "beta": 0.0}
        for name, value in recipe.items():  # resolved once, so a run's checkpoint and record name what it ran
            if getattr(self, name) is None:
                object.__setattr__(self, name, value)
        object.__setattr__(self, "rungs", tuple(sorted(float(r) for r in self.rungs)))
        if not self.rungs or self.rungs[0] <= 1.0:
            raise ValueError(f"rungs={self.rungs}: give one or more q + 1 above 1 (q = 0 is always the first rung)")
        if self.backbone is None:  # resolved once, so a run's checkpoint and record name the network it used
            for name, value in DEFAULT_NETWORK.get(self.env, {"backbone": "mlp"}).items():
                if getattr(self, name) is None:
                    object.__setattr__(self, name, value)
        for name, paper in PAPER_SIZES.items():
            if getattr(self, name) is None:
                object.__setattr__(self, name, paper)
        self.objective  # q, form and beta: the objective checks them when it is made
        if self.epochs < 0 or self.batch_size < 1 or (self.steps is not None and self.steps < 0):
            raise ValueError(f"epochs={self.epochs}, steps={self.steps}, batch_size={self.batch_size}: "
                             "need epochs >= 0, steps >= 0, batch_size >= 1")
        if self.rung_epochs < 0:
            raise ValueError(f"rung_epochs={self.rung_epochs} is not allowed; use 0 (no path) or more")
        for name in ("samples", "hidden", "d_model", "heads", "width", "lr_step"):
            if getattr(self, name) < 1:
                raise ValueError(f"{name}={getattr(self, name)} is not allowed; use 1 or more")
        if not 0.0 <= self.validation < 1.0:
            raise ValueError(f"validation={self.validation} is not allowed; use a share in [0, 1), e.g. 0.2 (0: none held out)")
        for name in ("memory", "weight_step", "init_std", "lr_gamma") + (("lr",) if self.lr is not None else ()):
            if not getattr(self, name) > 0:
                raise ValueError(f"{name}={getattr(self, name)} is not allowed; use a number > 0")

    @property
    def objective(self) -> Any:
        """(1 - beta) L_q + beta L_f in ``form`` (an ``eq_gym.objective.Objective``): what the run trains on,
        checked when made."""
        from eq_gym.objective import Objective  # here: eqpm --help reads this module without torch

        return Objective(self.q, self.form, self.beta)

    @property
    def learning_rate(self) -> float:
        """--lr, else the default for the env and algo, else 1e-3 (an env or algo of your own)."""
        return self.lr if self.lr is not None else DEFAULT_LEARNING_RATE.get(self.env, {}).get(self.algo, 1e-3)

    @property
    def path(self) -> tuple[Rung, ...]:
        """The run's rungs in order: q = 0 for ``epochs``, then one of ``rung_epochs`` at min(rung, q + 1) - 1 per
        entry of ``rungs``; one rung at q for ``epochs`` when ``rung_epochs`` is 0 (the paper's recipe)."""
        if not self.rung_epochs or not self.epochs:  # --epochs 0: the untrained model, no rung trained either
            return (Rung(self.q, self.epochs, 0),)
        qs = [0.0] + [min(r - 1.0, self.q) for r in self.rungs]
        epochs = [self.epochs] + [self.rung_epochs] * len(self.rungs)
        starts = [sum(epochs[:k]) for k in range(len(epochs))]
        return tuple(Rung(q, n, first) for q, n, first in zip(qs, epochs, starts))

    def epochs_for(self, steps_per_epoch: int) -> int:
        """Epochs to run: every rung's, or as many as --steps needs."""
        whole = sum(rung.epochs for rung in self.path)
        return whole if self.steps is None else -(-self.steps // steps_per_epoch)

    def env_kwargs(self) -> dict[str, Any]:
        """The keywords the env's task is made with (train and test differ only in split)."""
        if self.env not in PAPER_BACKBONE:  # an env of your own: its registered keywords alone
            return {} if self.num_agents is None else {"num_agents": self.num_agents}
        names = ("agents", "region", "timing", "features", "priorities", "regret", "lambdas", "num_agents")
        return {name: getattr(self, name) for name in names if getattr(self, name) is not None}

    def as_dict(self) -> dict[str, Any]:
        """Plain values (paths as strings), for metrics.json and TensorBoard."""
        return {k: str(v) if isinstance(v, Path) else list(v) if isinstance(v, tuple) else v
                for k, v in dataclasses.asdict(self).items()}
