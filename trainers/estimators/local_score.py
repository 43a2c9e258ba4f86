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

R_r for every hour and rank costs O(H^2) per sample with the regret's prefix
sums: the credit of a window is linear in its per-k table,
R = sum_k n_k chosen_k, with chosen_k the true signal summed over the k
cheapest slots; moving hour h to rank r leaves the order of the other hours,
so chosen_k is their prefix sum for k <= r and their prefix sum of k - 1 plus
y_h beyond. Cost O(S B H^2), memory (S, B, H, H).
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
        truth: (B, H). credit: (B, H + 1) from :func:`per_k_credit`.

    Returns:
        (S, B, H) and (S, B, H); their mean over S estimates the gradient of E[R] in mean and std.
    """
    count, size, horizon = samples.shape
    order = samples.argsort(dim=-1, stable=True)
    rank = order.argsort(dim=-1).unsqueeze(-1)  # (S, B, H, 1): where each hour sits
    y = truth.unsqueeze(0).expand(count, size, horizon)
    prefix = torch.cat([samples.new_zeros(count, size, 1), y.gather(-1, order).cumsum(dim=-1)], dim=-1)  # (S, B, H + 1)
    index = torch.arange(horizon, device=samples.device)
    y_h = y.unsqueeze(-1)
    # others[s, i, h, j]: truth summed over the j cheapest hours other than h, j = 0..H-1
    others = torch.where(index <= rank, prefix[..., :horizon].unsqueeze(-2), prefix[..., 1:].unsqueeze(-2) - y_h)
    n = credit[:, 1:].unsqueeze(0).unsqueeze(-2)  # (1, B, 1, H) for k = 1..H
    below = (n * torch.cat([others[..., 1:], others[..., -1:]], dim=-1)).cumsum(dim=-1)  # sum_{k <= r+1} n_k others_k
    below = torch.cat([torch.zeros_like(below[..., :1]), below[..., :-1]], dim=-1)  # sum_{k <= r}
    above = (n * (others + y_h)).flip(-1).cumsum(dim=-1).flip(-1)  # sum_{k > r} n_k (others_{k-1} + y_h)
    value = below + above  # (S, B, H, H): credit with hour h at rank r, up to a constant
    sorted_values = samples.sort(dim=-1).values
    # edges[s, i, h, r]: the r-th gap's position among the other hours, r = 0..H-2
    edges = torch.where(index[:-1] < rank, sorted_values[..., :-1].unsqueeze(-2), sorted_values[..., 1:].unsqueeze(-2))
    z = (edges - mean.unsqueeze(0).unsqueeze(-1)) / std.view(1, 1, horizon, 1)
    density = torch.exp(-0.5 * z * z) / math.sqrt(2.0 * math.pi)
    zero = torch.zeros_like(density[..., :1])
    low, high = torch.cat([zero, density], dim=-1), torch.cat([density, zero], dim=-1)
    z_low, z_high = torch.cat([zero, z * density], dim=-1), torch.cat([z * density, zero], dim=-1)
    grad_mean = (value * (low - high)).sum(dim=-1) / std
    grad_std = (value * (z_low - z_high)).sum(dim=-1) / std
    return grad_mean, grad_std
