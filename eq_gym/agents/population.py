"""A population: the groups of agents that share one public forecast, and who acts on which window.

Agent m's mean regret on a batch is ``Cbar_m = (1/B) sum_i rho_{m,i} C_{m,i}``
with the window weight ``rho_{m,i} = p_m(h_i) / s(h_i)``: ``p_m(h)`` the share of
m's sessions that start at local hour h (its ``plug_in`` row), ``s(h)`` the share
of the split's windows that start at h, and h_i the local hour window i starts
at. Batches draw windows uniformly from the split, so E[rho_{m,i} C_{m,i}] is
m's mean regret over its own windows (importance weighting): Cbar_m is an
unbiased estimate of the paper's per-agent mean over D_m, and over a whole split
it is that mean exactly. An agent without ``plug_in`` has rho = 1.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
from torch import Tensor

from eq_gym.agents.base import Agents, Contexts, ContextTape
from eq_gym.objective import WindowWeights

QUANTILE_LEVELS = 1000
"""Grid of quantile levels on which Wasserstein distances are computed."""


@dataclass(frozen=True)
class Draw:
    """What the agents bring to one batch of windows.

    Attributes:
        contexts: each group's context for each window, name -> (M_g, B).
        weight: window weights rho (factored), or None when every agent acts on every window alike.
    """

    contexts: list[Contexts]
    weight: WindowWeights | None


class Population:
    """Groups of agents stacked along the agent axis (M = sum of the groups' sizes).

    ``hour`` (T,): local hour of each hour of the time axis; ``window_share`` (24,): share of the
    split's windows starting at each local hour. Both are needed, and given here, when a group has
    ``plug_in`` hours or ``clock`` contexts: a population is built whole, with its clock.
    """

    def __init__(self, groups: list[Agents], hour: Tensor | None = None, window_share: Tensor | None = None) -> None:
        if not groups:
            raise ValueError("a population needs at least one group of agents")
        clocked = [g.label for g in groups if g.plug_in is not None or g.clock]
        if clocked and (hour is None or window_share is None):
            raise ValueError(f"{', '.join(clocked)} act on their own hours or read a clock: give the population "
                             "hour (T,) and window_share (24,) of the time axis")
        self.groups = groups
        self.hour, self.window_share = hour, window_share
        self.hour_weight = None
        if any(g.plug_in is not None for g in groups) and window_share is not None:
            shares = [g.plug_in if g.plug_in is not None else window_share.expand(g.num_agents, -1) for g in groups]
            seen = window_share > 0
            self.hour_weight = torch.where(seen, torch.cat(shares) / torch.where(seen, window_share, 1.0), 0.0).float()
            """(M, 24): rho of a window that starts at each local hour."""

    @property
    def timed(self) -> bool:
        """True when some agent acts on its own hours (window weights differ from 1)."""
        return any(g.plug_in is not None for g in self.groups)

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

    def regret(self, forecast: Tensor, truth: Tensor, contexts: list[Contexts], out: Tensor | None = None) -> Tensor:
        """Regret matrix C, (M, B), from forecast and truth (B, H): the transposed view of a window-major (B, M)
        tensor, written into ``out`` (B, M) when given (the env keeps one, so a step writes into memory it has
        touched before: a fresh 40 MB tensor costs more to fill than the regret itself at M = 10,000, B = 1,024)."""
        parts = [group.regret(forecast, truth, ctx).T for group, ctx in zip(self.groups, contexts)]
        if out is None and len(parts) == 1:
            return parts[0].T
        return torch.cat(parts, dim=1, out=out).T

    def to(self, device: torch.device | str) -> Population:
        moved = (None if t is None else t.to(device) for t in (self.hour, self.window_share))
        return Population([group.to(device) for group in self.groups], *moved)

    def window_weight(self, start: Tensor) -> WindowWeights | None:
        """rho of windows whose first forecast hour is ``start`` (B,) on the axis; None if all 1."""
        if not self.timed:
            return None
        return WindowWeights(self.hour_weight, self.hour[start])

    def plug_in_hours(self) -> dict[str, np.ndarray]:
        """Per group that acts on its own hours: each agent's share of sessions by local hour, (M_g, 24)."""
        return {g.label: g.plug_in.cpu().numpy() for g in self.groups if g.plug_in is not None}

    def wasserstein_range(self) -> dict[str, tuple[float, float]]:
        """Per kind of agents (groups that differ only in what they pay taken together): the smallest and
        largest 1-Wasserstein distance between two of its agents' distributions of their need (demand or energy)."""
        needs: dict[str, list[np.ndarray]] = {}
        for group in self.groups:
            needs.setdefault(group.kind, []).extend(group.pool.agent_values(group.need))
        return {kind: wasserstein_range(samples) for kind, samples in needs.items()}


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
    """Contexts of every group of a population, batch after batch.

    Pooled contexts come from a :class:`ContextTape` per group; contexts on the
    clock are read at each window's first forecast hour.
    """

    def __init__(self, population: Population, batch: int, generator: torch.Generator) -> None:
        self.population = population
        self.tapes = [
            ContextTape(g.pool, g.pooled_keys, batch, generator) if g.pooled_keys else None for g in population.groups
        ]

    def draw(self, start: Tensor) -> Draw:
        """Contexts and window weights for the windows whose first forecast hour is ``start`` (B,)."""
        size = start.shape[0]
        contexts = []
        for group, tape in zip(self.population.groups, self.tapes):
            drawn = {} if tape is None else {k: v[:, :size] for k, v in tape.draw().items()}
            contexts.append(drawn | {key: table[:, start] for key, table in group.clock.items()})
        return Draw(contexts, self.population.window_weight(start))
