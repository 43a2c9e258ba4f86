"""The agent interface: a group of agents of one kind and their context pools.

Agents are plain torch (no Gymnasium), so the environments and the trainers'
differentiable path run the very same regret code, on CPU or GPU.

Shapes: M agents, B windows, H forecast hours, P contexts per agent (padded),
T hours on the data's time axis.

Who acts on which window is one mechanism for every kind of agent:

- ``plug_in`` (M, 24): the share of agent m's sessions that start at each local
  hour of the day. Agent m acts on a window in proportion to it; ``None`` means
  the agent acts on every window alike (data centres run around the clock).
- ``clock`` (name -> (M, T)): contexts that follow the clock (a data centre's
  demand at each hour), read at each window's time instead of drawn from the pool.
"""

from __future__ import annotations

import copy
from abc import ABC, abstractmethod
from dataclasses import dataclass
from typing import ClassVar

import numpy as np
import torch
from torch import Tensor

Contexts = dict[str, Tensor]
"""One context per agent and window: name -> (M, B) tensor."""

CONSTRUCTION_SEED = 2024
"""Seeds every population's construction: a population is the same in every run; the episode seed orders windows
and draws contexts."""


@dataclass(frozen=True)
class ContextPool:
    """Each agent's own pool of contexts, padded to a rectangle.

    Attributes:
        values: name -> (M, P) tensor; row m holds agent m's contexts in its
            first ``count[m]`` columns.
        count: number of contexts of each agent, (M,) int64, all >= 1.
    """

    values: dict[str, Tensor]
    count: Tensor

    @classmethod
    def from_agents(cls, per_agent: list[dict[str, np.ndarray]]) -> ContextPool:
        """Pad a list of per-agent pools (name -> (P_m,) array) into one rectangle."""
        count = np.array([len(next(iter(pool.values()))) for pool in per_agent])
        if (count < 1).any():
            empty = np.flatnonzero(count < 1)
            raise ValueError(f"{len(empty)} agents have no context (the first: {empty[:5].tolist()}); use fewer agents")
        width = int(count.max())
        values = {}
        for name in per_agent[0]:
            first = per_agent[0][name]
            table = np.zeros((len(per_agent), width), dtype=first.dtype)
            for m, pool in enumerate(per_agent):
                table[m, : count[m]] = pool[name]
            values[name] = torch.from_numpy(table)
        return cls(values, torch.from_numpy(count))

    @property
    def num_agents(self) -> int:
        return int(self.count.shape[0])

    def split(self, fraction: float, part: str) -> ContextPool:
        """The first ``fraction`` of each agent's pool ("train") or the rest ("test").

        Each part keeps at least one context per agent, so every agent needs two.
        """
        count = self.count.numpy()
        if (count < 2).any():
            short = np.flatnonzero(count < 2)
            raise ValueError(
                f"{len(short)} agents have fewer than 2 contexts to split into train and test (the first: "
                f"{short[:5].tolist()}); use fewer agents"
            )
        cut = np.clip(np.round(count * fraction).astype(int), 1, count - 1)
        bounds = [(0, c) if part == "train" else (c, n) for c, n in zip(cut, count)]
        return ContextPool.from_agents(
            [{name: table[m, lo:hi].numpy() for name, table in self.values.items()} for m, (lo, hi) in enumerate(bounds)]
        )

    def to(self, device: torch.device | str) -> ContextPool:
        return ContextPool({k: v.to(device) for k, v in self.values.items()}, self.count.to(device))

    def agent_values(self, name: str) -> list[np.ndarray]:
        """Agent m's contexts ``name`` as a list of (count[m],) arrays."""
        return [self.values[name][m, : int(self.count[m])].cpu().numpy() for m in range(self.num_agents)]


class ContextTape:
    """Draws each agent's contexts for a stream of batches, without replacement.

    At construction every agent's pool is put in a fresh random order and laid
    out cyclically on a tape of width P + B. Each draw reads B consecutive
    columns at one random offset: agent m then gets B consecutive contexts of
    its own cycle, so over many draws each of its contexts is used equally
    often (stratified sampling), and agents stay independent because their
    orders are. A draw costs one random number and no copy, which keeps a step
    with M = 10,000 agents cheap. The tape is stored window-major, (P + B, M),
    so a draw is one contiguous block and the (M, B) contexts it hands out are
    its transposed view: a gather over a draw then reads memory in order
    (at M = 10,000, B = 1,024 the agents-major layout made a step's gathers
    several times slower; RESULTS.md, env speed).
    """

    def __init__(self, pool: ContextPool, keys: tuple[str, ...], batch: int, generator: torch.Generator) -> None:
        device = generator.device
        count = pool.count.to(device)
        width = pool.values[keys[0]].shape[1]
        keys_random = torch.rand((pool.num_agents, width), generator=generator, device=device)
        keys_random.masked_fill_(torch.arange(width, device=device)[None, :] >= count[:, None], 2.0)
        order = keys_random.argsort(dim=1)
        cycle = torch.arange(width + batch, device=device)[None, :] % count[:, None]
        columns = order.gather(1, cycle)
        self.tape = {key: pool.values[key].to(device).gather(1, columns).T.contiguous() for key in keys}
        self.width, self.batch, self.generator = width, batch, generator

    def draw(self) -> Contexts:
        """One context per agent and window: name -> (M, B), the transposed view of a block of the tape."""
        offset = int(torch.randint(self.width, (1,), generator=self.generator, device=self.generator.device))
        return {key: table[offset : offset + self.batch].T for key, table in self.tape.items()}


class Agents(ABC):
    """A group of M downstream agents of one kind.

    Subclasses give the regret of each agent on each window: the cost of the
    action that is best under the forecast minus the cost of the action that is
    best under the truth, both paid under the truth (>= 0).
    """

    smooth: ClassVar[bool]
    """True when the regret is differentiable in the forecast almost everywhere
    with a useful gradient (so ``diff`` can train through it)."""
    need: ClassVar[str]
    """The context whose distribution tells the agents apart (for Wasserstein ranges)."""
    context_keys: ClassVar[tuple[str, ...]]
    """The contexts :meth:`regret` reads."""

    def __init__(
        self, pool: ContextPool, label: str, plug_in: Tensor | None = None, clock: dict[str, Tensor] | None = None,
        kind: str | None = None,
    ) -> None:
        self.pool = pool
        self.label = label
        self.kind = kind or label
        """What the agents are, shared by the groups of one kind that differ only in what they pay (``label``)."""
        self.clock = clock or {}
        self.plug_in = plug_in
        if plug_in is not None and (plug_in.shape != (pool.num_agents, 24) or (plug_in < 0).any()):
            raise ValueError(f"plug_in has shape {tuple(plug_in.shape)}; need non-negative shares ({pool.num_agents}, 24)")

    @property
    def num_agents(self) -> int:
        return self.pool.num_agents

    @property
    def pooled_keys(self) -> tuple[str, ...]:
        """The contexts drawn from each agent's pool (the others follow the clock)."""
        return tuple(key for key in self.context_keys if key not in self.clock)

    def to(self, device: torch.device | str) -> Agents:
        """A copy of the group with every tensor on ``device``."""
        moved = copy.copy(self)
        for name, value in vars(self).items():
            if isinstance(value, (Tensor, ContextPool)):
                setattr(moved, name, value.to(device))
            elif isinstance(value, dict) and value and all(isinstance(v, Tensor) for v in value.values()):
                setattr(moved, name, {k: v.to(device) for k, v in value.items()})
        return moved

    @abstractmethod
    def regret(self, forecast: Tensor, truth: Tensor, contexts: Contexts) -> Tensor:
        """Regret of each agent on each window.

        Args:
            forecast: the public model's forecast, (B, H).
            truth: the true signal, (B, H).
            contexts: each agent's context for each window, name -> (M, B).

        Returns:
            (M, B) regret, >= 0, in the agent's cost unit.
        """
