"""The score term of slot-choosing agents with each hour's noise integrated exactly.

REINFORCE estimates d/dmu_h E[R(f)] for f ~ N(mu, diag sigma^2) as
R(f) (f_h - mu_h) / sigma_h^2 from sampled forecasts. For an agent that
charges in the k cheapest of H slots, R depends on f_h only through the rank
f_h takes among the sample's other hours f_{-h}: as f_h moves, R is a step
function with H - 1 steps, at the values of f_{-h}. Its expectation over f_h
alone is then exact (local expectation gradients, Titsias and Lazaro-Gredilla,
2015): with R_r the credit when hour h takes rank r (r = 0 the cheapest) and
z_a, z_b the standardised ends of the interval of f_h that gives rank r,

    d/dmu_h    E_{f_h}[R] = (1 / sigma_h) sum_r R_r (phi(z_a) - phi(z_b)),
    d/dsigma_h E_{f_h}[R] = (1 / sigma_h) sum_r R_r (z_a phi(z_a) - z_b phi(z_b)),

phi the standard normal density (phi(+-inf) = 0). Averaged over samples of
f_{-h} this is unbiased for the gradient of the sampled objective, as
REINFORCE is, with no noise from f_h itself: on EV "different" agents the
variance per sample falls some hundred-fold. Sum_r (phi(z_a) - phi(z_b)) = 0,
so the terms are centred with no baseline.

Summed by parts, only the steps matter: with phi_r, z_r at the r-th cheapest
of the other hours (r = 0..H-2), sum_r R_r (phi(z_a) - phi(z_b)) =
sum_r phi_r (R_{r+1} - R_r), and likewise with z_r phi_r. The credit of a
window is linear in its per-k table, R = sum_k n_k chosen_k, with chosen_k the
true signal summed over the k cheapest slots; moving hour h from rank r to
r + 1 swaps it with the r-th cheapest other hour in the (r + 1)-cheapest set
only, so R_{r+1} - R_r = n_{r+1} (u_r - y_h), u_r that other hour's truth.
For G signals paid under (one per priority), n_{r+1} u_r is summed over them
before anything grows to (S, B, H, H - 1): cost O(S B H^2), a dozen ops.
"""

from __future__ import annotations

import math

import torch
from torch import Tensor

from eq_gym.agents.charging import distinct_paid
from eq_gym.agents.population import Population
from eq_gym.objective import WindowWeights


def per_k_credit(population: Population, weights: Tensor, contexts: list[dict[str, Tensor]],
                 weight: WindowWeights | None, truth: Tensor) -> list[tuple[Tensor, Tensor]]:
    """Per signal the slot-choosing agents pay under: that signal (B, H) and n (B, H + 1), the credit of
    charging k slots summed over those agents of each window.

    n[i, k] = sum over chargers m with k_{m,i} = k of w_m rho_{m,i} (per kWh: / k; absolute: * rate),
    so that the window's credit sum_m w_m rho_{m,i} C_{m,i} is sum_k n[i, k] (chosen_k - best_k).
    ``weights`` (M,): every agent's weight (the others' rows are not read). ``truth`` (B, H): the
    public signal. Groups that pay under the same signal share one credit (EV and phone chargers of one
    priority on Mixed), so the local score runs once per distinct signal.
    """
    dense = None if weight is None else weight.dense()
    size, horizon = truth.shape
    signals, which = distinct_paid(population.groups, contexts, truth)
    credits = [torch.zeros((size, horizon + 1), dtype=torch.float32, device=weights.device) for _ in signals]
    start = 0
    for group, ctx, index in zip(population.groups, contexts, which):
        rows = slice(start, start + group.num_agents)
        start += group.num_agents
        if index is None:
            continue
        value = weights[rows, None].float().expand(-1, size)
        if dense is not None:
            value = value * dense[rows].float()
        slots = ctx["slots"]
        value = value / slots.clamp_min(1).float() if group.per_unit else value * ctx["rate"].float()
        credits[index].scatter_add_(1, slots.T, value.T)
    return list(zip(signals, credits))


def local_score(mean: Tensor, std: Tensor, samples: Tensor, truth: Tensor, credit: Tensor) -> tuple[Tensor, Tensor]:
    """Per sample, d/dmu_h and d/dsigma_h of E_{f_h}[R] given the sample's other hours.

    Args:
        mean: (B, H). std: (H,). samples: (S, B, H) forecasts drawn from N(mean, std^2).
        truth: (B, H), or (G, B, H) for G signals paid under. credit: (B, H + 1), or (G, B, H + 1), from
            :func:`per_k_credit`; R is the sum of the G signals' credits.

    Returns:
        (S, B, H) and (S, B, H); their mean over S estimates the gradient of E[R] in mean and std.
    """
    count, size, horizon = samples.shape
    truth, credit = truth.reshape(-1, size, horizon), credit.reshape(-1, size, horizon + 1)
    order = samples.argsort(dim=-1, stable=True)
    rank = order.argsort(dim=-1).unsqueeze(-1)  # (S, B, H, 1): where each hour sits
    step = credit[..., 1:horizon].unsqueeze(1)  # (G, 1, B, H - 1): n_{r+1}
    y_sorted = truth.unsqueeze(1).expand(-1, count, -1, -1).gather(-1, order.expand(len(truth), -1, -1, -1))
    below = (step * y_sorted[..., :-1]).sum(dim=0)  # (S, B, H - 1): sum_g n_{r+1} u_r, u_r below hour h's rank
    above = (step * y_sorted[..., 1:]).sum(dim=0)  # ... u_r above it
    own = torch.einsum("gbr,gbh->bhr", step.squeeze(1), truth)  # (B, H, H - 1): sum_g n_{r+1} y_h
    other = torch.arange(horizon - 1, device=samples.device) < rank  # (S, B, H, H - 1): the r-th other hour is below h
    jump = torch.where(other, below.unsqueeze(-2), above.unsqueeze(-2)) - own  # R_{r+1} - R_r
    sorted_values = samples.gather(-1, order)
    edges = torch.where(other, sorted_values[..., :-1].unsqueeze(-2), sorted_values[..., 1:].unsqueeze(-2))
    z = (edges - mean.unsqueeze(-1)) / std.unsqueeze(-1)
    weighted_density = torch.exp(-0.5 * z * z) * jump
    scale = math.sqrt(2.0 * math.pi) * std
    return weighted_density.sum(dim=-1) / scale, (z * weighted_density).sum(dim=-1) / scale
