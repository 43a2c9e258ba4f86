"""Populations built from the shipped data: who the agents are, what they need, and when they act.

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

EV chargers (ACN sessions of 3 to 12 h; energy = kWh delivered, rate =
energy / duration, slots k = ceil(duration); plug-in hour = the local hour
of ``connection_time``):
- "similar": the Caltech sessions cut into ``num_agents`` chronological pools
  (each agent's plug-in hours are its own sessions', through the day).
- shared, "different": half the agents from Caltech as above; the other
  half from JPL (another site, longer stays) with the energy need and rate
  scaled by 1 to 4.5 across agents, so mean needs span about 11 to 70 kWh.
- own, "different": a third from JPL (early-morning workplace arrivals, 5-7 h),
  a third from Caltech's sessions that start before 16 h (campus arrivals
  through the day), a third from Caltech's sessions that start at 16 h or later
  (evening arrivals); in each third the energy need and rate are scaled by 1 to
  4.5 across agents, so size does not go with timing.

Phone chargers (paper A.4: an EV with a small energy need): each agent is a
charging station for 100 phones charged together; a session needs 5-15 Wh
per phone at 5-20 W per phone (so 0.5-1.5 kWh at 0.5-2 kW, k = 1 to 3 slots),
drawn with the construction seed, 200 sessions per agent. Under ``own`` they
plug in in the evening and at night, 18 h to 2 h: most phone charging starts
in the evening and the longest charges run overnight (Ferreira, Dey, Kostakos,
"Understanding Human-Smartphone Concerns: A Study of Battery Life",
Pervasive 2011). The hours are a discretised normal (sd 1.5 h) around a
peak, cut to 18-2 h: 22 h for every station ("similar"), peaks spread from
19 h to 1 h across stations ("different"). This shape is our choice, guided
by the study, not data.

What the agents pay under (``priorities``): "shared" (the paper's): every
agent pays under the public signal it acts on. "own": chargers act on the one
public forecast but pay under their own mix of carbon, water and price
(each part on its [0, 10] scale, the weights summing to the public index's
total weight, so the cost keeps the index's scale), in a repeating cycle over
the agents (index, price, index, footprint), so that every plug-in group and
every size holds each priority:
- "index", half the chargers: they pay what the public index measures (on EV
  E_t itself, on Mixed the carbon): the index is published for them.
- "price", a quarter: households on a dynamic tariff pay the day-ahead price
  alone.
- "footprint", a quarter: fleets with carbon and water targets on a flat
  tariff pay carbon and water, equally weighted, and no price.
Data centres under "own": a quarter (m % 4 == 1) run in the other CAISO
region than the public signal's (SCE and PGE, hourly correlation 0.81), the
rest in its region: each sizes capacity on the public forecast and pays
under its own region's carbon, on the public signal's scale. (With half in
the other region the agents' irreducible regret swamps where the forecast
errs: the share test of ``eqpm bench room`` gave 0.030 for "different" data
centres while this code put every other one there, 0.066 with a quarter.)
This mix is our choice: three kinds of buyer a public index serves, with
costs that rank a window's hours differently, so the perfect forecast of the
index leaves the price and footprint payers regret (the conflict test of
``eqpm bench room``).

Regret per unit (``per_unit=True``): chargers per kWh bought, data centres
relative to their mean cost of the best decision on the training windows
(``eq_gym.agents.datacentre``).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import torch

from eq_gym import data, observations, signals
from eq_gym.agents.base import ContextPool
from eq_gym.agents.charging import SlotChargers, hours_ahead
from eq_gym.agents.datacentre import DataCentres, best_cost
from eq_gym.agents.newsvendor import Newsvendors
from eq_gym.choices import REGIONS

CONSTRUCTION_SEED = 2024
PERTURBED_FRACTION = 0.4
PERTURB_MAX_SHIFT = 60.0
MAX_SCALE = 4.5
PHONES_PER_STATION = 100
PHONE_SESSIONS = 200
US_ZONES = (-8.0, -5.0)
"""UTC offsets of the US mainland time zones, hours ("similar" data centres under own timing)."""
EVENING_HOUR = 16
"""Caltech sessions that start at this local hour or later are the "evening" third."""
PHONE_HOURS = (18, 19, 20, 21, 22, 23, 0, 1, 2)
"""Local hours at which phone stations plug in under own timing."""
PHONE_PEAKS = (19.0, 25.0)
"""Range of phone stations' peak plug-in hours ("different"; 25 is 1 h); "similar" all peak at 22 h."""
PHONE_SPREAD_H = 1.5
PRIORITY_SHARES = {"index": None, "price": (0.0, 0.0, 1.0), "footprint": (0.5, 0.5, 0.0)}
"""Share of each part (carbon, water, price) in what a charger of each priority pays; "index": the
public signal. Scaled by the index's total weight (3 for E_t, 1 for carbon)."""
PRIORITY_CYCLE = ("index", "price", "index", "footprint")
"""Charger m pays under ``PRIORITY_CYCLE[m % 4]`` with own priorities."""


def _perturbed(num_agents: int) -> tuple[np.random.Generator, np.ndarray]:
    rng = np.random.default_rng(CONSTRUCTION_SEED)
    chosen = rng.choice(num_agents, size=round(PERTURBED_FRACTION * num_agents), replace=False)
    return rng, np.sort(chosen)


def _lambdas(lambdas: str, num_agents: int) -> torch.Tensor:
    return torch.full((num_agents,), 2.0) if lambdas == "same" else 2.0 * torch.arange(1, num_agents + 1).float()


def datacentres(
    agents: str, lambdas: str, num_agents: int, split: str, train_fraction: float, timing: str = "shared",
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


def datacentre_regions(num_agents: int, region: str) -> list[str]:
    """Own priorities: the grid region each data centre runs in; every fourth (m % 4 == 1) in the other one."""
    return [signals.other_region(region) if m % 4 == 1 else region for m in range(num_agents)]


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


def _hour_shares(hours: list[np.ndarray]) -> torch.Tensor:
    """Each agent's share of sessions by local hour of the day, (M, 24)."""
    counts = np.stack([np.bincount(h, minlength=24) for h in hours]).astype(np.float64)
    return torch.from_numpy(counts / counts.sum(axis=1, keepdims=True)).float()


def _charging_pools(sessions: data.Sessions, num_agents: int, scale: np.ndarray | None = None) -> tuple[list[dict], list[np.ndarray]]:
    """Chronological pools of ``num_agents`` agents, and each agent's plug-in hours (at most half as many
    agents as sessions: :func:`ev_shares` checks that first)."""
    energy, duration, hours = (np.array_split(x, num_agents) for x in (sessions.energy_kwh, sessions.duration_h, sessions.start_hour))
    scale = np.ones(num_agents) if scale is None else scale
    pools = [
        {
            "rate": (s * e / d).astype(np.float32),
            "slots": np.ceil(d - 1e-9).astype(np.int64),
            "energy": (s * e).astype(np.float32),
        }
        for e, d, s in zip(energy, duration, scale)
    ]
    return pools, hours


def _starting(sessions: data.Sessions, keep: np.ndarray) -> data.Sessions:
    return data.Sessions(sessions.energy_kwh[keep], sessions.duration_h[keep], sessions.start_hour[keep])


def _thirds(num_agents: int) -> tuple[int, int, int]:
    third = num_agents // 3
    return num_agents - 2 * third, third, third


def _ev_session_sets(agents: str, timing: str) -> list[tuple[data.Sessions, bool]]:
    """The session sets EV chargers are drawn from, each with whether its agents' needs and rates are
    stretched by 1 to ``MAX_SCALE``."""
    caltech = data.ev_sessions("caltech")
    if agents == "similar":
        return [(caltech, False)]
    if timing == "shared":
        return [(caltech, False), (data.ev_sessions("jpl"), True)]
    evening = caltech.start_hour >= EVENING_HOUR
    return [(sessions, True) for sessions in (data.ev_sessions("jpl"), _starting(caltech, ~evening), _starting(caltech, evening))]


def _ev_sizes(agents: str, timing: str, num_agents: int) -> tuple[int, ...]:
    """How many of ``num_agents`` EV chargers each of :func:`_ev_session_sets` holds."""
    if agents == "similar":
        return (num_agents,)
    if timing == "shared":
        return num_agents - num_agents // 2, num_agents // 2
    return _thirds(num_agents)


def ev_shares(agents: str, timing: str, num_agents: int) -> list[tuple[data.Sessions, int, bool]]:
    """(sessions, agents, scaled) per session set. Refuses a number that leaves an agent fewer than 2
    sessions (one to train on, one to test), naming the largest number these keywords take."""
    sets = _ev_session_sets(agents, timing)

    def fits(n: int) -> bool:
        return all(size <= len(sessions.energy_kwh) // 2 for (sessions, _), size in zip(sets, _ev_sizes(agents, timing, n)))

    if not fits(num_agents):
        most = next(n for n in range(num_agents - 1, 0, -1) if fits(n))
        raise ValueError(
            f"num_agents={num_agents} is more than agents={agents!r} under timing={timing!r} takes: at most {most:,} "
            f"EV chargers (each needs 2 charging sessions of its set, one to train on and one to test; the smallest "
            f"set has {min(len(s.energy_kwh) for s, _ in sets):,}); use num_agents <= {most:,}")
    return [(sessions, size, scaled) for (sessions, scaled), size in zip(sets, _ev_sizes(agents, timing, num_agents))]


def ev_chargers(
    agents: str, num_agents: int, split: str, train_fraction: float, timing: str = "shared", per_unit: bool = False,
    priorities: str = "shared", signal: str = "ev", region: str = "SCE", horizon: int = 12,
) -> list[SlotChargers]:
    """EV agents of Eq. 13 on ``split``: one group, or one per priority (own priorities on ``signal``)."""
    pools, hours = [], []
    for sessions, size, scaled in ev_shares(agents, timing, num_agents):
        more, more_hours = _charging_pools(sessions, size, np.linspace(1.0, MAX_SCALE, size) if scaled else None)
        pools, hours = pools + more, hours + more_hours
    plug_in = _hour_shares(hours) if timing == "own" else None
    paying = PayingUnder(priorities, signal, region, train_fraction, horizon)
    return paying.groups(pools, "EV chargers", split, train_fraction, per_unit, plug_in)


def phone_chargers(
    agents: str, num_agents: int, split: str, train_fraction: float, timing: str = "shared", per_unit: bool = False,
    priorities: str = "shared", signal: str = "carbon", region: str = "SCE", horizon: int = 12,
) -> list[SlotChargers]:
    """Phone-charging stations of paper A.4 on ``split``: one group, or one per priority."""
    rng = np.random.default_rng(CONSTRUCTION_SEED + 1)
    shape = (num_agents, PHONE_SESSIONS)
    energy_kwh = rng.uniform(5.0, 15.0, shape) * PHONES_PER_STATION / 1000.0
    rate_kw = rng.uniform(5.0, 20.0, shape) * PHONES_PER_STATION / 1000.0
    pools = [
        {"rate": r.astype(np.float32), "slots": np.ceil(e / r - 1e-9).astype(np.int64), "energy": e.astype(np.float32)}
        for e, r in zip(energy_kwh, rate_kw)
    ]
    plug_in = _phone_hours(agents, num_agents) if timing == "own" else None
    paying = PayingUnder(priorities, signal, region, train_fraction, horizon)
    return paying.groups(pools, "phone chargers", split, train_fraction, per_unit, plug_in)


NEWSVENDOR_MIX = ((0.1, 0.9), (0.9, 0.1))
"""``newsvendors``: (critical fractile, share of the agents) of each kind."""


def newsvendors(num_agents: int, mix: tuple[tuple[float, float], ...] = NEWSVENDOR_MIX) -> Newsvendors:
    """Agents with asymmetric costs (:mod:`eq_gym.agents.newsvendor`): by default nine in ten fear
    surplus (fractile 0.1: booking too much costs nine times booking too little) and one in ten fears
    shortfall (0.9), in that order. Every agent acts on every window alike."""
    fractiles, shares = np.array(mix, dtype=np.float64).T
    counts = np.round(shares / shares.sum() * num_agents).astype(int)
    counts[-1] = num_agents - counts[:-1].sum()
    if (counts < 1).any():
        raise ValueError(f"num_agents={num_agents} leaves a kind of newsvendor with no agent; use at least {len(mix)} "
                         "and shares that give each kind one")
    return Newsvendors(torch.from_numpy(np.repeat(fractiles, counts).astype(np.float32)), "newsvendors")


class PayingUnder:
    """Who among a list of chargers pays under which signal (``PRIORITY_CYCLE``), for one public ``signal``."""

    def __init__(self, priorities: str, signal: str, region: str, train_fraction: float, horizon: int) -> None:
        self.priorities, self.signal, self.region = priorities, signal, region
        self.train_fraction, self.horizon = train_fraction, horizon

    def weights(self, priority: str) -> tuple[float, float, float] | None:
        """The (carbon, water, price) weights a charger of ``priority`` pays under; None: the public signal."""
        shares = PRIORITY_SHARES[priority]
        total = sum(signals.INDEX_WEIGHTS[self.signal])
        return None if shares is None else tuple(total * share for share in shares)

    def paid(self, priority: str) -> torch.Tensor | None:
        """The clock table (H, T) of what chargers of ``priority`` pay; None for the public signal."""
        weights = self.weights(priority)
        if weights is None:
            return None
        return hours_ahead(torch.from_numpy(signals.mix(weights, self.region, self.train_fraction)), self.horizon)

    def groups(
        self, pools: list[dict], label: str, split: str, train_fraction: float, per_unit: bool, plug_in: torch.Tensor | None,
    ) -> list[SlotChargers]:
        """The chargers of ``pools`` as one group ("shared") or one group per priority ("own"), agents in order."""
        if self.priorities == "shared":
            return [SlotChargers(ContextPool.from_agents(pools).split(train_fraction, split), label, per_unit, plug_in)]
        cycle = np.resize(np.array(PRIORITY_CYCLE), len(pools))
        groups = []
        for priority in PRIORITY_SHARES:
            members = np.flatnonzero(cycle == priority)
            if len(members) == 0:
                continue
            pool = ContextPool.from_agents([pools[m] for m in members]).split(train_fraction, split)
            shares = None if plug_in is None else plug_in[torch.from_numpy(members)]
            groups.append(SlotChargers(pool, f"{label} paying {priority}", per_unit, shares, self.paid(priority), label))
        return groups


def _phone_hours(agents: str, num_agents: int) -> torch.Tensor:
    """Evening and night plug-in shares, (M, 24): a discretised normal around each station's peak."""
    peaks = np.full(num_agents, 22.0) if agents == "similar" else np.linspace(*PHONE_PEAKS, num_agents)
    hours = np.array(PHONE_HOURS, dtype=np.float64)
    unwrapped = np.where(hours < 12, hours + 24, hours)  # 0-2 h follow 23 h
    density = np.exp(-0.5 * ((unwrapped[None, :] - peaks[:, None]) / PHONE_SPREAD_H) ** 2)
    shares = np.zeros((num_agents, 24))
    shares[:, list(PHONE_HOURS)] = density / density.sum(axis=1, keepdims=True)
    return torch.from_numpy(shares).float()
