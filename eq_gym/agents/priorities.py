"""What each agent pays under: one cycle of priorities over the agents of every kind.

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

Both kinds read the one cycle, ``PRIORITY_CYCLE``: a charger pays under its
priority's mix (``PRIORITY_SHARES``), and a data centre in the cycle's
``"price"`` place runs in the other region (its cost ranks a window's hours
by another grid's carbon, as a price payer's ranks them by the market).
"""

from __future__ import annotations

import numpy as np
import torch

from eq_gym import signals
from eq_gym.agents.base import ContextPool
from eq_gym.agents.charging import SlotChargers, hours_ahead

PRIORITY_SHARES = {"index": None, "price": (0.0, 0.0, 1.0), "footprint": (0.5, 0.5, 0.0)}
"""Share of each part (carbon, water, price) in what a charger of each priority pays; "index": the
public signal. Scaled by the index's total weight (3 for E_t, 1 for carbon)."""
PRIORITY_CYCLE = ("index", "price", "index", "footprint")
"""Agent m of a group has priority ``PRIORITY_CYCLE[m % 4]`` under own priorities, chargers and data centres alike."""
OTHER_REGION = "price"
"""The place in the cycle whose data centres run in the other CAISO region (a quarter: m % 4 == 1)."""


def priority_cycle(num_agents: int) -> np.ndarray:
    """Each of ``num_agents`` agents' priority under own priorities, (M,) str."""
    return np.resize(np.array(PRIORITY_CYCLE), num_agents)


def datacentre_regions(num_agents: int, region: str) -> list[str]:
    """Own priorities: the grid region each data centre runs in; those in the cycle's ``OTHER_REGION`` place in the
    other one."""
    return [signals.other_region(region) if priority == OTHER_REGION else region for priority in priority_cycle(num_agents)]


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
        cycle = priority_cycle(len(pools))
        groups = []
        for priority in PRIORITY_SHARES:
            members = np.flatnonzero(cycle == priority)
            if len(members) == 0:
                continue
            pool = ContextPool.from_agents([pools[m] for m in members]).split(train_fraction, split)
            shares = None if plug_in is None else plug_in[torch.from_numpy(members)]
            groups.append(SlotChargers(pool, f"{label} paying {priority}", per_unit, shares, self.paid(priority), label))
        return groups
