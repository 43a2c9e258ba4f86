"""Data centres sizing capacity against carbon (paper Eq. 12).

Data centre j with demand w and latency weight lambda_j picks capacity p to
minimise ``p * c + lambda_j * w / (p - w)`` for the carbon signal c. Its best
response is ``p = w + sqrt(lambda_j * w / c)`` and its cost there is
``c * w + 2 * sqrt(lambda_j * w * c)``. Acting on a forecast c_hat and paying
under the truth c gives the closed-form regret

    C = sqrt(lambda_j * w / c_hat) * (sqrt(c_hat) - sqrt(c))^2  >= 0,

zero exactly at c_hat = c and smooth in c_hat > 0. The best response needs
a positive carbon price, so both the forecast and the truth are floored at
``SIGNAL_FLOOR`` (3.7 % of CAISO hours have a MOER of exactly 0). With a horizon H > 1 the
data centre holds one capacity for the whole window: it uses the mean of the
forecast, and its true cost is set by the mean of the truth (the cost is
linear in c for a fixed p).

Own region (the clock context ``carbon`` given): the data centre sizes its
capacity on the public forecast but runs in another grid region and pays
under that region's carbon (the window's mean); the regret above holds with
c that region's carbon, so a perfect public forecast leaves it regret.

Per unit (``unit_cost`` given), each agent's regret is divided by its own mean
cost of the best decision, ``c w + 2 sqrt(lambda_j w c)`` averaged over the
training windows under the truth: the share of its usual bill it overpays.
A constant per agent, so it removes size (demand, lambda) without reshaping
which windows matter to whom. (Per unit of demand, C / w, would grow without
bound as demand falls to 0; relative to each window's own best cost it would
grow without bound in the hours of zero carbon.)
"""

from __future__ import annotations

from typing import ClassVar

from torch import Tensor

from eq_gym.agents.base import Agents, ContextPool, Contexts

SIGNAL_FLOOR = 1e-3
"""Forecast and true carbon below this (signal units) are raised to it."""


def datacentre_regret(forecast: Tensor, truth: Tensor, demand: Tensor, lam: Tensor, paid: Tensor | None = None) -> Tensor:
    """Regret of Eq. 12, (M, B), from forecast and truth (B, H), demand (M, B), lambda (M,).

    ``paid`` (M, B): the window-mean carbon each agent pays under, instead of the truth's mean.
    """
    c_hat = forecast.mean(dim=1).clamp_min(SIGNAL_FLOOR)
    c = (truth.mean(dim=1) if paid is None else paid.to(truth.dtype)).clamp_min(SIGNAL_FLOOR)
    root_hat = c_hat.sqrt()
    return (lam[:, None] * demand).sqrt() * ((root_hat - c.sqrt()) ** 2 / root_hat)


def best_cost(carbon: Tensor, demand: Tensor, lam: Tensor) -> Tensor:
    """Cost of the best capacity, ``c w + 2 sqrt(lambda w c)``, (M, B), for the window-mean carbon
    paid (B,) or (M, B)."""
    c = carbon.clamp_min(SIGNAL_FLOOR)
    return c * demand + 2.0 * (lam[:, None] * demand * c).sqrt()


class DataCentres(Agents):
    """Data centres of Eq. 12; contexts: ``demand`` (workload w, >= 0), and ``carbon`` (the window-mean
    carbon of each one's own region) when a clock table of it is given.

    ``unit_cost`` (M,): divide each agent's regret by it (per unit); ``None``: the paper's absolute regret.
    """

    smooth: ClassVar[bool] = True
    need: ClassVar[str] = "demand"
    context_keys: ClassVar[tuple[str, ...]] = ("demand",)

    def __init__(
        self, pool: ContextPool, lam: Tensor, label: str = "data centres", unit_cost: Tensor | None = None,
        clock: dict[str, Tensor] | None = None,
    ) -> None:
        super().__init__(pool, label, clock=clock)
        if lam.shape != (pool.num_agents,):
            raise ValueError(f"lam has shape {tuple(lam.shape)}; need one lambda per agent ({pool.num_agents},)")
        self.lam = lam
        self.unit_cost = unit_cost

    def regret(self, forecast: Tensor, truth: Tensor, contexts: Contexts) -> Tensor:
        regret = datacentre_regret(forecast, truth, contexts["demand"], self.lam.to(forecast.dtype), contexts.get("carbon"))
        return regret if self.unit_cost is None else regret / self.unit_cost.to(regret.dtype)[:, None]
