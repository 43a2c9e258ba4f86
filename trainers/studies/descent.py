"""Does a step down an estimator's weighted direction lower the objective it weighs for?

An estimator such as ``spo`` steps down sum_m w_m S_m, each agent's surrogate
S_m weighted by w_m, the power mean P_q's weight of the agent (proportional to
its regret^q); ``rloo`` steps down its sampled estimate of sum_m w_m grad Cbar_m
(:meth:`trainers.estimators.base.Estimator.weighted_loss`). The weights set whom the step serves only if each agent's
surrogate moves the forecast about as its regret would; where one group's
surrogate pushes harder than another's at equal regret, that group takes the
step whatever its weight. For ``rloo`` the question is whether P_q's expected
gradient, estimated over the batches, still lowers P_q of the deterministic
forecast a small step away. At a trained model (``--run``), on seeded training
batches, this measures, per group of agents (the env's, e.g. EV's chargers
paying the index, the price and the footprint):

- each group's mean regret and its share of P_q's gradient (the weights);
- the size of each group's own direction (its surrogate's gradient, or rloo's estimate of
  its regret's gradient) in the model's parameters, and
  the cosine between each q's weighted step and each group's own;
- a line search: the model moved a small distance down each direction (each
  group's own surrogate, each q's weighted one), and the change of every
  group's regret and of P_q, on other training batches than the gradient's.

A weighted step that raises its own P_q at every small distance explains a
model trained at that q losing on its own objective to the q = 0 model.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import torch

from eq_gym.objective import equitable_objective
from trainers import checkpoint
from trainers.config import TrainConfig
from trainers.estimators import MODULES
from trainers.estimators.base import global_mean_regret
from trainers.studies.levelling import weight_shares
from trainers.studies.report import machine, markdown_table
from trainers.studies.study import Flag, Study

DISTANCES = (0.005, 0.01, 0.02)
"""How far the line search moves the parameters down each direction (normalised to norm 1): the move's length."""


def with_directions() -> list[str]:
    """The estimators that give a direction for given agents' weights (:meth:`Estimator.weighted_loss`)."""
    from trainers.estimators import ESTIMATORS
    from trainers.estimators.base import Estimator

    return [name for name in MODULES if ESTIMATORS[name].weighted_loss is not Estimator.weighted_loss]


def trained_setup(run: Path, algo: str) -> Any:
    """The run's model and ``algo``'s estimator on its task (:func:`trainers.loop.set_up` from its checkpoint)."""
    from trainers.loop import set_up

    if algo not in with_directions():
        raise ValueError(f"algo '{algo}' gives no direction for given agents' weights; use one of "
                         f"{', '.join(with_directions())}")
    path = Path(run) / checkpoint.CHECKPOINT
    if not path.is_file():
        raise ValueError(f"--run {run}: no {checkpoint.CHECKPOINT} there; give the folder of a finished run")
    saved = checkpoint.read(path)["config"]
    config = TrainConfig(**(saved | {"algo": algo, "init": Path(run), "out": Path(run), "lr": None, "resume": False,
                                     "progress": False, "steps": None}))
    return set_up(config, False)


class Descent:
    """Directions down the estimator's weighted surrogate at the model, and moves along them."""

    def __init__(self, setup: Any, batches: int) -> None:
        self.estimator, self.policy = setup.estimator, setup.policy
        setup.stream.start_epoch(0)
        self.fit = [setup.stream.batch(i) for i in range(batches)]
        self.held = [setup.stream.batch(batches + i) for i in range(batches)]
        self.params = [p for p in self.policy.parameters() if p.requires_grad]
        self.start = [p.detach().clone() for p in self.params]

    def regret(self, chosen: list) -> torch.Tensor:
        """Each agent's mean regret (M,) over the ``chosen`` batches at the current parameters."""
        population = self.estimator.population
        with torch.no_grad():
            return torch.stack([global_mean_regret(population.regret(self.policy.predict(b.inputs), b.targets, b.contexts), b)
                                for b in chosen]).mean(0).double()

    def direction(self, weights: torch.Tensor) -> torch.Tensor:
        """The estimator's gradient of sum_m w_m Cbar_m (its surrogates', or its sampled estimate) over the fitting
        batches, flat."""
        for p in self.params:
            p.grad = None
        for b in self.fit:
            mean, log_std = self.policy(b.inputs)
            (self.estimator.weighted_loss(mean, log_std, b, weights) / len(self.fit)).backward()
        return torch.cat([torch.zeros_like(p).flatten() if p.grad is None else p.grad.detach().flatten()
                          for p in self.params])

    def moved(self, direction: torch.Tensor, distance: float) -> torch.Tensor:
        """The regret on the held-out batches after moving ``distance`` down ``direction`` (normalised), then back."""
        sizes = [p.numel() for p in self.params]
        with torch.no_grad():
            for p, p0, step in zip(self.params, self.start, torch.split(direction / direction.norm(), sizes)):
                p.copy_(p0 - distance * step.view_as(p))
        regret = self.regret(self.held)
        with torch.no_grad():
            for p, p0 in zip(self.params, self.start):
                p.copy_(p0)
        return regret


def bench_descent(run: Path, algo: str, q_plus_one: tuple[float, ...], batches: int,
                  distances: tuple[float, ...]) -> dict[str, Any]:
    """The measurements of the module docstring at ``run``'s model, with ``algo``'s surrogates and ``batches``
    training batches for the gradients (and as many others for the line search)."""
    setup = trained_setup(run, algo)
    descent = Descent(setup, batches)
    groups = [group.label for group in descent.estimator.population.groups]
    bounds = np.cumsum([0, *(group.num_agents for group in descent.estimator.population.groups)])
    spans = list(zip(bounds, bounds[1:]))
    fitted, base = descent.regret(descent.fit).numpy(), descent.regret(descent.held)
    directions = {}
    for label, (a, b) in zip(groups, spans):
        weights = torch.zeros(int(bounds[-1]), dtype=torch.float64)
        weights[a:b] = 1.0 / (b - a)
        directions[label] = descent.direction(weights)
    shares = {}
    for q1 in q_plus_one:
        share = weight_shares(fitted, q1 - 1.0)
        shares[f"{q1:g}"] = [float(share[a:b].sum()) for a, b in spans]
        directions[f"P at q+1 = {q1:g}"] = descent.direction(torch.from_numpy(share))

    def power_mean_change(moved: torch.Tensor, q1: float) -> float:
        return float(equitable_objective(moved, q1 - 1.0, "power_mean") - equitable_objective(base, q1 - 1.0, "power_mean"))

    moves = {name: [{"distance": distance,
                     "groups": [float(moved[a:b].mean() - base[a:b].mean()) for a, b in spans],
                     "objectives": {f"{q1:g}": power_mean_change(moved, q1) for q1 in q_plus_one}}
                    for distance in distances for moved in [descent.moved(d, distance)]]
             for name, d in directions.items()}
    cosine = {a: {b: float(torch.nn.functional.cosine_similarity(directions[a], directions[b], dim=0)) for b in groups}
              for a in directions if a not in groups}
    return {"run": str(run), "algo": algo, "env": setup.config.env, "groups": groups, "batches": batches,
            "regret": [float(fitted[a:b].mean()) for a, b in spans], "shares": shares,
            "norms": {name: float(d.norm()) for name, d in directions.items()}, "cosine": cosine, "moves": moves}


def report_lines(result: dict[str, Any]) -> list[str]:
    """The measurements as Markdown."""
    groups, labels = result["groups"], list(result["shares"])
    lines = [f"## Descent test: `{result['algo']}` at {result['run']} ({result['env']}), {result['batches']} training "
             f"batches for the gradients and {result['batches']} others for the line search; on {machine()}", ""]
    rows = [[group, f"{regret:.4f}", *(f"{100 * result['shares'][label][i]:.0f} %" for label in labels),
             f"{result['norms'][group]:.4f}", *(f"{result['cosine'][f'P at q+1 = {label}'][group]:+.2f}" for label in labels)]
            for i, (group, regret) in enumerate(zip(groups, result["regret"]))]
    lines += markdown_table(["group", "mean regret", *(f"share of P_q's gradient, q+1 = {label}" for label in labels),
                             "own direction's norm", *(f"cosine with the q+1 = {label} step" for label in labels)], rows)
    lines += ["", "Line search: the model moved down each direction (normalised; distance in parameter space); change of "
                  "each group's regret and of each P_q on the other batches:", ""]
    rows = [[name, f"{move['distance']:g}", *(f"{change:+.4f}" for change in move["groups"]),
             *(f"{move['objectives'][label]:+.4f}" for label in labels)]
            for name, found in result["moves"].items() for move in found]
    lines += markdown_table(["step down", "distance", *groups, *(f"P, q+1 = {label}" for label in labels)], rows)
    ascents = [name for name, found in result["moves"].items() if name.startswith("P at")
               and all(move["objectives"][name.removeprefix("P at q+1 = ")] > 0.0 for move in found)]
    verdict = (f"- the weighted step raises its own objective at every distance: {', '.join(ascents)}" if ascents else
               "- every weighted step lowers its own objective at some distance")
    return lines + ["", verdict]


STUDY = Study(
    flags=(Flag("run", None, "folder of a finished run (its checkpoint.pt)", kind=Path, required=True),
           Flag("algo", "spo", "estimator whose weighted direction to step down (spo, pfy, forml, diff or rloo)",
                choices=tuple(MODULES)),
           Flag("q_plus_one", (1.0, 5.0, 20.0), "q + 1 values whose weighted steps to measure", many=True),
           Flag("batches", 30, "training batches for the gradients, and as many others for the line search"),
           Flag("distances", DISTANCES, "how far the line search moves down each normalised direction", many=True)),
    analyse=bench_descent, report=report_lines,
)

