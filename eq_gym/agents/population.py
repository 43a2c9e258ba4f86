"""A population: the groups of agents that share one public forecast."""

from __future__ import annotations

import numpy as np
import torch
from torch import Tensor

from eq_gym.agents.base import Agents, ContextTape, Contexts

QUANTILE_LEVELS = 1000
"""Grid of quantile levels on which Wasserstein distances are computed."""


class Population:
    """Groups of agents stacked along the agent axis (M = sum of the groups' sizes)."""

    def __init__(self, groups: list[Agents]) -> None:
        if not groups:
            raise ValueError("a population needs at least one group of agents")
        self.groups = groups

    @property
    def num_agents(self) -> int:
        return sum(group.num_agents for group in self.groups)

    @property
    def smooth(self) -> bool:
        """True when every group's regret is differentiable in the forecast."""
        return all(group.smooth for group in self.groups)

    def sampler(self, batch: int, generator: torch.Generator) -> ContextSampler:
        """A fresh sampler of contexts for batches of ``batch`` windows (one per episode or epoch)."""
        return ContextSampler(self, batch, generator)

    def regret(self, forecast: Tensor, truth: Tensor, contexts: list[Contexts]) -> Tensor:
        """Regret matrix C, (M, B), from forecast and truth (B, H)."""
        parts = [group.regret(forecast, truth, ctx) for group, ctx in zip(self.groups, contexts)]
        return parts[0] if len(parts) == 1 else torch.cat(parts, dim=0)

    def to(self, device: torch.device | str) -> Population:
        return Population([group.to(device) for group in self.groups])

    def wasserstein_range(self) -> dict[str, tuple[float, float]]:
        """Per group: the smallest and largest 1-Wasserstein distance between two
        of its agents' distributions of their need (demand or energy)."""
        return {group.label: wasserstein_range(group.pool.agent_values(group.need)) for group in self.groups}


def wasserstein_range(samples: list[np.ndarray]) -> tuple[float, float]:
    """Min and max pairwise 1-Wasserstein distance between 1-D samples.

    W1 is the L1 distance between quantile functions, taken on a grid of
    ``QUANTILE_LEVELS`` mid-point levels.
    """
    if len(samples) < 2:
        raise ValueError(f"a Wasserstein range needs at least 2 agents, got {len(samples)}")
    levels = (np.arange(QUANTILE_LEVELS) + 0.5) / QUANTILE_LEVELS
    quantiles = torch.from_numpy(np.stack([np.quantile(s, levels) for s in samples]))
    distance = torch.cdist(quantiles, quantiles, p=1.0) / QUANTILE_LEVELS
    pairs = distance[torch.triu_indices(len(samples), len(samples), offset=1).unbind()]
    return float(pairs.min()), float(pairs.max())


class ContextSampler:
    """Contexts of every group of a population, batch after batch (see :class:`ContextTape`)."""

    def __init__(self, population: Population, batch: int, generator: torch.Generator) -> None:
        self.tapes = [ContextTape(g.pool, g.context_keys, batch, generator) for g in population.groups]

    def draw(self) -> list[Contexts]:
        """One context per agent and window, for each group in order: name -> (M_g, B)."""
        return [tape.draw() for tape in self.tapes]
