"""Agents with asymmetric costs: each hour a newsvendor, short and surplus priced differently.

An agent commits, for each of the H hours, to the amount the forecast says
(it books the forecast signal level: capacity, a hedge, a reserve) and pays
under the truth y: ``under`` per unit short of it and ``over`` per unit beyond
it. Acting on the truth costs nothing, so its regret per window is the mean
over the hours of

    C = under * (y - f)^+ + over * (f - y)^+   >= 0,

the pinball (quantile) loss of the forecast f. Its expected value over y is
least at f = the ``under / (under + over)`` quantile of y (the newsvendor's
critical fractile: Arrow, Harris and Marschak, "Optimal Inventory Policy",
Econometrica 19(3), 1951; the quantile loss: Koenker and Bassett,
"Regression Quantiles", Econometrica 46(1), 1978). So an agent with a low
fractile wants a forecast below the mean and one with a high fractile a
forecast above it: no forecast is best for both, whatever the model knows.
Costs are normalised so that under + over = 2 (a fractile of 0.5 is the
absolute error). Piecewise linear in f with a useful gradient almost
everywhere: ``diff`` trains through it.
"""

from __future__ import annotations

from typing import ClassVar

import numpy as np
import torch
from torch import Tensor

from eq_gym.agents.base import Agents, ContextPool, Contexts


def newsvendor_regret(forecast: Tensor, truth: Tensor, fractile: Tensor) -> Tensor:
    """Regret (M, B) from forecast and truth (B, H) and each agent's critical fractile (M,) in (0, 1)."""
    error = (truth - forecast).unsqueeze(0)  # (1, B, H): positive where the forecast is short
    under, over = 2.0 * fractile, 2.0 * (1.0 - fractile)
    short = error.clamp_min(0.0) * under.to(error.dtype)[:, None, None]
    surplus = (-error).clamp_min(0.0) * over.to(error.dtype)[:, None, None]
    return (short + surplus).mean(dim=-1)


class Newsvendors(Agents):
    """Agents with asymmetric costs; ``fractile`` (M,): under / (under + over) per agent, in (0, 1).

    No context is drawn per window: the fractile is the agent's whole context (its pool holds it, so
    that Wasserstein ranges and reports treat it as the agents' need).
    """

    smooth: ClassVar[bool] = True
    need: ClassVar[str] = "fractile"
    context_keys: ClassVar[tuple[str, ...]] = ()

    def __init__(self, fractile: Tensor, label: str = "newsvendors", plug_in: Tensor | None = None) -> None:
        fractile = torch.as_tensor(fractile, dtype=torch.float32)
        if fractile.dim() != 1 or not ((fractile > 0) & (fractile < 1)).all():
            raise ValueError(f"fractile={fractile.tolist()} is not allowed; give one value in (0, 1) per agent, (M,)")
        pool = ContextPool.from_agents([{"fractile": np.full(2, float(f), np.float32)} for f in fractile])
        super().__init__(pool, label, plug_in=plug_in)
        self.fractile = fractile

    def regret(self, forecast: Tensor, truth: Tensor, contexts: Contexts) -> Tensor:
        return newsvendor_regret(forecast, truth, self.fractile.to(forecast.device))


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
