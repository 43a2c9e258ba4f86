"""The Equitable Objective: the one place where q enters.

For each agent m, Cbar_m is its mean regret over a batch (or a split). The
paper's Eq. 2 aggregates them as

    L_q = sum_m Cbar_m^(q+1)                               (form "paper")

and its (q+1)-th root, scaled to a mean, has the same minimiser and the scale
of one agent's regret for every q:

    P_q = (mean_m Cbar_m^(q+1))^(1/(q+1))                  (form "power_mean")

q = 0 gives the total (paper) or mean (power_mean) regret; a larger q weighs
the worse-served agents more. Powers are taken after dividing by the largest
Cbar, in float64, so both forms stay finite for q + 1 up to 100 whenever the
result itself is representable.
"""

from __future__ import annotations

import torch
from torch import Tensor

REWARD_FORMS = ("power_mean", "paper")


def _scaled(agent_regret: Tensor) -> tuple[Tensor, Tensor]:
    """Cbar in float64 and its largest entry (detached, >= tiny), for stable powers."""
    values = agent_regret.double()
    top = values.detach().amax(dim=-1, keepdim=True).clamp_min(torch.finfo(torch.float64).tiny)
    return values, top


def equitable_objective(agent_regret: Tensor, q: float, form: str = "paper") -> Tensor:
    """L_q (form "paper") or P_q (form "power_mean") of mean regrets (..., M), float64 (...)."""
    if form not in REWARD_FORMS:
        raise ValueError(f"form={form!r} is not known; use one of {REWARD_FORMS}")
    values, top = _scaled(agent_regret)
    power = q + 1.0
    ratio = (values / top) ** power
    if form == "paper":
        return (top.squeeze(-1) ** power) * ratio.sum(dim=-1)
    return top.squeeze(-1) * ratio.mean(dim=-1) ** (1.0 / power)


def agent_weights(agent_regret: Tensor, q: float, form: str = "paper") -> Tensor:
    """d objective / d Cbar_m, (..., M) float64: how much each agent's regret counts.

    "paper": (q+1) * Cbar_m^q. "power_mean": (Cbar_m / P_q)^q / M, which sums
    to 1 over the agents when all regrets are equal.
    """
    if form not in REWARD_FORMS:
        raise ValueError(f"form={form!r} is not known; use one of {REWARD_FORMS}")
    values, top = _scaled(agent_regret)
    if form == "paper":
        return (q + 1.0) * top**q * (values / top) ** q
    mean_power = equitable_objective(values, q, "power_mean").clamp_min(torch.finfo(torch.float64).tiny)
    return (values / mean_power.unsqueeze(-1)) ** q / values.shape[-1]


def mse_weight(num_agents: int, form: str = "paper") -> float:
    """Factor of the MSE in the combined objective: paper A.5 sums each agent's MSE
    (M times the shared forecast's MSE); the power-mean form keeps one agent's scale."""
    return float(num_agents) if form == "paper" else 1.0


def combined_objective(agent_regret: Tensor, mse: Tensor, q: float, beta: float, form: str = "paper") -> Tensor:
    """(1 - beta) * L_q + beta * L_f (paper Eq. 36), float64; beta = 0 gives L_q alone."""
    if not 0.0 <= beta <= 1.0:
        raise ValueError(f"beta={beta!r} is not allowed; use a number in [0, 1]")
    weight = mse_weight(agent_regret.shape[-1], form)
    return (1.0 - beta) * equitable_objective(agent_regret, q, form) + beta * weight * mse.double()
