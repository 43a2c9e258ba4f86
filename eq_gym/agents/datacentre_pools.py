"""Data centres built from the shipped data: what each needs and when.

Every population is built deterministically (fixed construction seed): the
episode seed only decides the order of windows and the context draws.
Each agent's pool is split chronologically, its first part for training.

``timing="shared"`` (the paper's code release): every agent acts on every
window alike, with contexts drawn from its pool independently of the window.
``timing="own"``: agents act on their own hours (``plug_in``) and a data
centre's demand follows the clock.

Data centres (demand w on the [0, 10] scale of the 2019 Azure series):
- shared, "similar": the series cut into ``num_agents`` contiguous slices;
  "different": as "similar", then 40 % of the agents (20 of 50, chosen with the
  construction seed) get ``w + delta_j + eps`` with delta_j ~ U(0, 60) and
  eps ~ N(0, 1) per sample, clipped at 0: the paper's "random noise".
- own: data centre j's demand at each hour is the Azure demand at the same
  week, weekday and hour of its users' local time (``data.azure_demand_at``);
  "similar": users in the four US mainland time zones (UTC-8 to UTC-5),
  "different": time zones spread around the clock (UTC-12 to UTC+11), and
  the same 40 % shifted and noised per hour as above. With H > 1 (Mixed) a
  data centre holds one capacity per window and sees the window's mean demand.
- lambdas "same": 2 for all; "different": 2, 4, ..., 2 * num_agents.

Under own priorities a quarter of them run in the other CAISO region
(:mod:`eq_gym.agents.priorities`). Regret per unit (``per_unit=True``): chargers per kWh bought, data centres
relative to their mean cost of the best decision on the training windows
(``eq_gym.agents.datacentre``).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import torch

from eq_gym import data, observations, signals
from eq_gym.agents.base import CONSTRUCTION_SEED, ContextPool
from eq_gym.agents.datacentre import DataCentres, best_cost
from eq_gym.agents.priorities import datacentre_regions
from eq_gym.choices import REGIONS

PERTURBED_FRACTION = 0.4
PERTURB_MAX_SHIFT = 60.0
US_ZONES = (-8.0, -5.0)
"""UTC offsets of the US mainland time zones, hours ("similar" data centres under own timing)."""


def _perturbed(num_agents: int) -> tuple[np.random.Generator, np.ndarray]:
    rng = np.random.default_rng(CONSTRUCTION_SEED)
    chosen = rng.choice(num_agents, size=round(PERTURBED_FRACTION * num_agents), replace=False)
    return rng, np.sort(chosen)


def _lambdas(lambdas: str, num_agents: int) -> torch.Tensor:
    return torch.full((num_agents,), 2.0) if lambdas == "same" else 2.0 * torch.arange(1, num_agents + 1).float()


def datacentres(
    *, agents: str, lambdas: str, num_agents: int, split: str, train_fraction: float, timing: str = "shared",
    per_unit: bool = False, truth: observations.Windows | None = None, region: str = "SCE", priorities: str = "shared",
) -> DataCentres:
    """Data-centre agents of Eq. 12 on ``split``.

    ``truth``: the training windows of the carbon signal, needed for per-unit regret (each
    agent's mean best cost) and, under own timing or own priorities, for the window length H.
    """
    lam = _lambdas(lambdas, num_agents)
    if (timing == "own" or priorities == "own") and truth is None:
        raise ValueError("data centres on their own clock or region need the training windows (truth=...)")
    clock: dict[str, torch.Tensor] = {}
    if priorities == "own":
        clock["carbon"] = _clock_carbon(num_agents, truth.targets.shape[1], region, train_fraction)
    if timing == "own":
        clock["demand"] = _clock_demand(agents, num_agents, truth.targets.shape[1], region)
        pool = ContextPool.from_agents([{"demand": row.numpy()} for row in clock["demand"]])
        demand = clock["demand"][:, torch.tensor(truth.start)]
    else:
        slices = np.array_split(data.azure_demand(), num_agents)
        if agents == "different":
            rng, chosen = _perturbed(num_agents)
            for m in chosen:
                shift = rng.uniform(0.0, PERTURB_MAX_SHIFT)
                slices[m] = np.maximum(slices[m] + shift + rng.normal(0.0, 1.0, slices[m].shape), 0.0)
        pool = ContextPool.from_agents([{"demand": d.astype(np.float32)} for d in slices])
        demand = None
    pool_of_split = pool.split(train_fraction, split)
    unit_cost = None
    if per_unit:
        if truth is None:
            raise ValueError("per-unit data-centre regret needs the training windows (truth=...)")
        carbon = torch.tensor(truth.targets).double().mean(dim=1)
        if "carbon" in clock:
            carbon = clock["carbon"][:, torch.tensor(truth.start)].double()
        unit_cost = _mean_best_cost(carbon, demand if demand is not None else pool.split(train_fraction, "train"), lam)
    return DataCentres(pool_of_split, lam, unit_cost=unit_cost, clock=clock or None)


def _window_mean(table: np.ndarray, horizon: int) -> np.ndarray:
    """The mean of each row of ``table`` (M, T) over the H hours from each hour on (the last hours repeat the edge)."""
    if horizon == 1:
        return table
    padded = np.concatenate([table, np.repeat(table[:, -1:], horizon - 1, axis=1)], axis=1)
    sums = np.cumsum(np.concatenate([np.zeros((table.shape[0], 1)), padded], axis=1), axis=1)
    return (sums[:, horizon:] - sums[:, :-horizon]) / horizon


def _clock_demand(agents: str, num_agents: int, horizon: int, region: str) -> torch.Tensor:
    """Each data centre's demand at every hour of the axis, (M, T) float32, averaged over the H hours ahead."""
    axis = data.hours(region)
    zones = np.linspace(*US_ZONES, num_agents) if agents == "similar" else np.arange(num_agents) * 24.0 / num_agents - 12.0
    table = np.stack([data.azure_demand_at(axis + pd.Timedelta(hours=round(z))) for z in zones])
    if agents == "different":
        rng, chosen = _perturbed(num_agents)
        for m in chosen:
            shift = rng.uniform(0.0, PERTURB_MAX_SHIFT)
            table[m] = np.maximum(table[m] + shift + rng.normal(0.0, 1.0, table.shape[1]), 0.0)
    return torch.from_numpy(_window_mean(table, horizon).astype(np.float32))




def _clock_carbon(num_agents: int, horizon: int, region: str, train_fraction: float) -> torch.Tensor:
    """Each data centre's own region's carbon on the public scale, averaged over the H hours ahead, (M, T) float32."""
    own = {r: signals.carbon_of(r, region, train_fraction) for r in REGIONS}
    table = np.stack([own[r] for r in datacentre_regions(num_agents, region)])
    return torch.from_numpy(_window_mean(table, horizon).astype(np.float32))


def _mean_best_cost(carbon: torch.Tensor, demand: torch.Tensor | ContextPool, lam: torch.Tensor) -> torch.Tensor:
    """Each agent's mean cost of the best decision on the training windows, (M,).

    ``carbon``: the window-mean carbon paid, (N,) for all or (M, N) each its own. ``demand``: (M, N)
    demand at each window (own timing), or the training pools (shared timing: every window with
    every context of the agent's pool, since the two are drawn independently).
    """
    if isinstance(demand, torch.Tensor):
        return best_cost(carbon, demand.double(), lam.double()).mean(dim=1).float()
    costs = []
    for m, values in enumerate(demand.agent_values("demand")):
        w = torch.from_numpy(values).double()
        paid = carbon if carbon.dim() == 1 else carbon[m]
        grid = best_cost(paid, w[:, None].expand(-1, paid.shape[0]).contiguous(), lam[m : m + 1].double().expand(len(w)))
        costs.append(grid.mean())
    return torch.stack(costs).float()
