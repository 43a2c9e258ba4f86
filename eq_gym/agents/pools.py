"""Populations built from the shipped data: who the agents are and what they need.

Every population is built deterministically (fixed construction seed): the
episode seed only decides the order of windows and the context draws.
Each agent's pool is split chronologically, its first part for training.

Data centres (demand w on the [0, 10] scale of the Azure series):
- "similar": the 2019 Azure series cut into ``num_agents`` contiguous slices.
- "different": as "similar", then 40 % of the agents (20 of 50, chosen with
  the construction seed) get ``w + delta_j + eps`` with delta_j ~ U(0, 60)
  and eps ~ N(0, 1) per sample, clipped at 0: the paper's "random noise" that
  spreads mean demand up to about 60.
- lambdas "same": 2 for all; "different": 2, 4, ..., 2 * num_agents.

EV chargers (ACN sessions of 3 to 12 h; energy = kWh delivered, rate =
energy / duration, slots k = ceil(duration)):
- "similar": the Caltech sessions cut into ``num_agents`` chronological pools.
- "different": half the agents from Caltech as above; the other half from
  JPL (another site, longer stays) with the energy need and rate scaled by
  1 to 4.5 across agents, so mean needs span about 11 to 70 kWh.

Phone chargers (paper A.4: an EV with a small energy need): each agent is a
charging station for 100 phones charged together; a session needs 5-15 Wh
per phone at 5-20 W per phone (so 0.5-1.5 kWh at 0.5-2 kW, k = 1 to 3 slots),
drawn with the construction seed, 200 sessions per agent.
"""

from __future__ import annotations

import numpy as np
import torch

from eq_gym import data
from eq_gym.agents.base import ContextPool
from eq_gym.agents.charging import SlotChargers
from eq_gym.agents.datacentre import DataCentres

CONSTRUCTION_SEED = 2024
PERTURBED_FRACTION = 0.4
PERTURB_MAX_SHIFT = 60.0
JPL_MAX_SCALE = 4.5
PHONES_PER_STATION = 100
PHONE_SESSIONS = 200


def datacentres(agents: str, lambdas: str, num_agents: int, split: str, train_fraction: float) -> DataCentres:
    """Data-centre agents of Eq. 12 on ``split``."""
    demand = np.array_split(data.azure_demand(), num_agents)
    if agents == "different":
        rng = np.random.default_rng(CONSTRUCTION_SEED)
        chosen = rng.choice(num_agents, size=round(PERTURBED_FRACTION * num_agents), replace=False)
        for m in np.sort(chosen):
            shift = rng.uniform(0.0, PERTURB_MAX_SHIFT)
            demand[m] = np.maximum(demand[m] + shift + rng.normal(0.0, 1.0, demand[m].shape), 0.0)
    pool = ContextPool.from_agents([{"demand": d.astype(np.float32)} for d in demand])
    lam = torch.full((num_agents,), 2.0) if lambdas == "same" else 2.0 * torch.arange(1, num_agents + 1)
    return DataCentres(pool.split(train_fraction, split), lam.float())


def _charging_pools(energy_kwh: np.ndarray, duration_h: np.ndarray, num_agents: int, scale=None) -> list[dict]:
    energy = np.array_split(energy_kwh, num_agents)
    duration = np.array_split(duration_h, num_agents)
    scale = np.ones(num_agents) if scale is None else scale
    return [
        {
            "rate": (s * e / d).astype(np.float32),
            "slots": np.ceil(d - 1e-9).astype(np.int64),
            "energy": (s * e).astype(np.float32),
        }
        for e, d, s in zip(energy, duration, scale)
    ]


def ev_chargers(agents: str, num_agents: int, split: str, train_fraction: float) -> SlotChargers:
    """EV agents of Eq. 13 on ``split``."""
    caltech = data.ev_sessions("caltech")
    if agents == "similar":
        pools = _charging_pools(caltech.energy_kwh, caltech.duration_h, num_agents)
    else:
        jpl_agents = num_agents // 2
        jpl = data.ev_sessions("jpl")
        pools = _charging_pools(caltech.energy_kwh, caltech.duration_h, num_agents - jpl_agents)
        scale = np.linspace(1.0, JPL_MAX_SCALE, jpl_agents)
        pools += _charging_pools(jpl.energy_kwh, jpl.duration_h, jpl_agents, scale)
    return SlotChargers(ContextPool.from_agents(pools).split(train_fraction, split), "EV chargers")


def phone_chargers(num_agents: int, split: str, train_fraction: float) -> SlotChargers:
    """Phone-charging stations of paper A.4 on ``split``."""
    rng = np.random.default_rng(CONSTRUCTION_SEED + 1)
    shape = (num_agents, PHONE_SESSIONS)
    energy_kwh = rng.uniform(5.0, 15.0, shape) * PHONES_PER_STATION / 1000.0
    rate_kw = rng.uniform(5.0, 20.0, shape) * PHONES_PER_STATION / 1000.0
    pools = [
        {"rate": r.astype(np.float32), "slots": np.ceil(e / r - 1e-9).astype(np.int64), "energy": e.astype(np.float32)}
        for e, r in zip(energy_kwh, rate_kw)
    ]
    return SlotChargers(ContextPool.from_agents(pools).split(train_fraction, split), "phone chargers")
