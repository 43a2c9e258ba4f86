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
"""

from __future__ import annotations

from typing import ClassVar

import torch
from torch import Tensor

from eq_gym.agents.base import Agents, ContextPool, Contexts

SIGNAL_FLOOR = 1e-3
"""Forecast and true carbon below this (signal units) are raised to it."""


def datacentre_regret(forecast: Tensor, truth: Tensor, demand: Tensor, lam: Tensor) -> Tensor:
    """Regret of Eq. 12, (M, B), from forecast and truth (B, H), demand (M, B), lambda (M,)."""
    c_hat = forecast.mean(dim=1).clamp_min(SIGNAL_FLOOR)
    c = truth.mean(dim=1).clamp_min(SIGNAL_FLOOR)
    root_hat = c_hat.sqrt()
    return (lam[:, None] * demand).sqrt() * ((root_hat - c.sqrt()) ** 2 / root_hat)


class DataCentres(Agents):
    """Data centres of Eq. 12; contexts: ``demand`` (workload w, >= 0)."""

    smooth: ClassVar[bool] = True
    need: ClassVar[str] = "demand"
    context_keys: ClassVar[tuple[str, ...]] = ("demand",)

    def __init__(self, pool: ContextPool, lam: Tensor, label: str = "data centres") -> None:
        super().__init__(pool, label)
        if lam.shape != (pool.num_agents,):
            raise ValueError(f"lam has shape {tuple(lam.shape)}; need one lambda per agent ({pool.num_agents},)")
        self.lam = lam

    def regret(self, forecast: Tensor, truth: Tensor, contexts: Contexts) -> Tensor:
        return datacentre_regret(forecast, truth, contexts["demand"], self.lam.to(forecast.dtype))

    def to(self, device: torch.device | str) -> DataCentres:
        return DataCentres(self.pool.to(device), self.lam.to(device), self.label)
