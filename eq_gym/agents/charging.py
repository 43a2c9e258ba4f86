"""Chargers that pick the k cheapest slots of a window (paper Eq. 13 and A.4).

An EV (or a phone charger) needs k slots of its H-slot window at a constant
rate zeta (kW); it charges in the k slots cheapest under the forecast and
pays zeta times the true signal summed over them. Its regret is

    C = zeta * (sum of truth over the forecast's k cheapest slots
                - sum of truth over the truth's k cheapest slots)  >= 0,

exact (no surrogate) and piecewise constant in the forecast: no useful
gradient, hence the policy gradient.

Own priorities (``paid`` given): the charger still picks its slots on the one
public forecast, but pays under a signal of its own (its own weights on
carbon, water and price), and its best choice is the k cheapest slots of that
signal. The formula above holds with the truth replaced by the paid signal, so
even a perfect forecast of the public signal leaves it regret wherever the
two rank the hours differently. Per unit (``per_unit=True``), the regret
is divided by the energy the agent buys, zeta * k kWh: what it overpays per
kWh, the same for a small and a large car that need the same hours. Slots the forecast ties go to the
earlier slot (a stable sort), so a flat forecast charges first-come.

Vectorised with prefix sums: per window, sort the slots once by the forecast
and once by the truth; the regret of every k is a difference of prefix sums,
and each agent picks its k with one gather. O(B H log H + M B).
"""

from __future__ import annotations

from typing import ClassVar

import torch
from torch import Tensor

from eq_gym.agents.base import Agents, ContextPool, Contexts


def slot_regret_table(forecast: Tensor, truth: Tensor) -> Tensor:
    """Regret per unit rate of charging in k slots, for every k.

    Args:
        forecast: (B, H). truth: (B, H).

    Returns:
        (H + 1, B): row k is the true cost of the forecast's k cheapest slots
        minus that of the truth's k cheapest slots (row 0 is zero).
    """
    chosen = truth.gather(1, forecast.argsort(dim=1, stable=True)).cumsum(dim=1)
    best = truth.sort(dim=1).values.cumsum(dim=1)
    table = torch.zeros((truth.shape[1] + 1, truth.shape[0]), dtype=truth.dtype, device=truth.device)
    table[1:] = (chosen - best).T.clamp_min(0.0)  # clamp: only float rounding goes below 0
    return table


def slot_cost(table: Tensor, rate: Tensor | None, slots: Tensor) -> Tensor:
    """Each agent's entry of a per-k table (H + 1, B): (M, B), times its rate (M, B), or per kWh (``rate=None``: per slot).

    The gather runs window-major, (B, M), the layout of a drawn context (:class:`~eq_gym.agents.base.ContextTape`),
    and returns its transposed view."""
    if rate is None:
        table = table / torch.arange(table.shape[0], device=table.device).clamp_min(1).to(table.dtype)[:, None]
    cost = table.T.gather(1, slots.T).T
    return cost if rate is None else rate * cost


def charging_regret(forecast: Tensor, truth: Tensor, rate: Tensor | None, slots: Tensor) -> Tensor:
    """Regret of Eq. 13, (M, B), from forecast and truth (B, H), rate and slots (M, B).

    ``rate=None`` gives the regret per kWh bought: per unit rate and per slot.
    """
    return slot_cost(slot_regret_table(forecast, truth), rate, slots)


def hours_ahead(signal: Tensor, horizon: int) -> Tensor:
    """A signal on the time axis (T,) as a clock table (H, T): row h holds the signal h hours later
    (the last hours repeat the edge), so that ``table[:, start]`` is each window's H hours, (H, B)."""
    padded = torch.cat([signal, signal[-1:].expand(horizon - 1)])
    return torch.stack([padded[h : h + signal.shape[0]] for h in range(horizon)])


def distinct_paid(groups: list[Agents], contexts: list[Contexts], truth: Tensor) -> tuple[list[Tensor], list[int | None]]:
    """The distinct signals that the slot-choosing groups pay under on a batch, each (B, H), and for each
    group the index of its signal (None for agents that do not choose slots). Equal signals are one entry:
    the public one, and on Mixed the EV and phone chargers of one priority; so a surrogate table or a
    score is computed once per signal paid."""
    signals: list[Tensor] = []
    which: list[int | None] = []
    for group, ctx in zip(groups, contexts):
        if not isinstance(group, SlotChargers):
            which.append(None)
            continue
        paid = group.paid_truth(truth, ctx)
        found = next((i for i, signal in enumerate(signals) if signal is paid or torch.equal(signal, paid)), None)
        if found is None:
            signals.append(paid)
            found = len(signals) - 1
        which.append(found)
    return signals, which


class SlotChargers(Agents):
    """EVs or phone chargers; contexts: ``rate`` (kW), ``slots`` (k, int64), ``energy`` (kWh).

    Regret in signal units x kWh (``per_unit=False``, the paper's) or per kWh bought.
    ``paid`` (H, T): the signal the group pays under, as a clock table (:func:`hours_ahead`);
    ``None``: the public signal itself. Read on each window as the context ``paid``, (H, B).
    """

    smooth: ClassVar[bool] = False
    need: ClassVar[str] = "energy"
    context_keys: ClassVar[tuple[str, ...]] = ("rate", "slots")

    def __init__(
        self, pool: ContextPool, label: str, per_unit: bool = False, plug_in: Tensor | None = None,
        paid: Tensor | None = None, kind: str | None = None,
    ) -> None:
        super().__init__(pool, label, plug_in=plug_in, clock=None if paid is None else {"paid": paid}, kind=kind)
        self.per_unit = per_unit

    def paid_truth(self, truth: Tensor, contexts: Contexts) -> Tensor:
        """The signal the group pays under on each window, (B, H): its own, or the public ``truth``."""
        return truth if "paid" not in contexts else contexts["paid"].T.to(truth.dtype)

    def regret(self, forecast: Tensor, truth: Tensor, contexts: Contexts) -> Tensor:
        rate = None if self.per_unit else contexts["rate"].to(forecast.dtype)
        return charging_regret(forecast, self.paid_truth(truth, contexts), rate, contexts["slots"])
