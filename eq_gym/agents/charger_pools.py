"""EV and phone chargers built from the shipped data: what each needs, when it plugs in, what it pays under.

Every population is built deterministically (fixed construction seed): the
episode seed only decides the order of windows and the context draws.
Each agent's pool is split chronologically, its first part for training.

``timing="shared"`` (the paper's code release): every agent acts on every
window alike, with contexts drawn from its pool independently of the window.
``timing="own"``: agents act on their own hours (``plug_in``) and a data
centre's demand follows the clock.

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

Under own priorities each charger pays under the mix of its place in the
cycle (:mod:`eq_gym.agents.priorities`). Regret per unit (``per_unit=True``): chargers per kWh bought, data centres
relative to their mean cost of the best decision on the training windows
(``eq_gym.agents.datacentre``).
"""

from __future__ import annotations

import numpy as np
import torch

from eq_gym import data
from eq_gym.agents.base import CONSTRUCTION_SEED
from eq_gym.agents.charging import SlotChargers
from eq_gym.agents.priorities import PayingUnder

MAX_SCALE = 4.5
PHONES_PER_STATION = 100
PHONE_SESSIONS = 200
EVENING_HOUR = 16
"""Caltech sessions that start at this local hour or later are the "evening" third."""
PHONE_HOURS = (18, 19, 20, 21, 22, 23, 0, 1, 2)
"""Local hours at which phone stations plug in under own timing."""
PHONE_PEAKS = (19.0, 25.0)
"""Range of phone stations' peak plug-in hours ("different"; 25 is 1 h); "similar" all peak at 22 h."""
PHONE_SPREAD_H = 1.5


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
    *, agents: str, num_agents: int, split: str, train_fraction: float, timing: str = "shared", per_unit: bool = False,
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
    *, agents: str, num_agents: int, split: str, train_fraction: float, timing: str = "shared", per_unit: bool = False,
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


def _phone_hours(agents: str, num_agents: int) -> torch.Tensor:
    """Evening and night plug-in shares, (M, 24): a discretised normal around each station's peak."""
    peaks = np.full(num_agents, 22.0) if agents == "similar" else np.linspace(*PHONE_PEAKS, num_agents)
    hours = np.array(PHONE_HOURS, dtype=np.float64)
    unwrapped = np.where(hours < 12, hours + 24, hours)  # 0-2 h follow 23 h
    density = np.exp(-0.5 * ((unwrapped[None, :] - peaks[:, None]) / PHONE_SPREAD_H) ** 2)
    shares = np.zeros((num_agents, 24))
    shares[:, list(PHONE_HOURS)] = density / density.sum(axis=1, keepdims=True)
    return torch.from_numpy(shares).float()
