"""The training batches of a run: one stream, read by the training loop, the throughput study and the tests.

Each epoch has its own seed (:func:`epoch_seed`): it orders the training windows, and seeds the torch
generator from which the contexts and the noise are drawn. An estimator that needs held-out batches
(``needs_held_out``) gets a second stream in its own order and generator. Under torchrun each rank draws
for the whole global batch and keeps its share, so one process and N give the same run.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch

from eq_gym.agents.population import Population
from eq_gym.tasks import Task
from trainers.estimators.base import Batch

STREAMS = ("generator", "held_out")
"""The names a checkpoint keeps the draws' states under: the main stream's, then the held-out one's."""


def epoch_seed(seed: int, epoch: int) -> int:
    """The seed of one epoch's window order, context draws and noise."""
    return int(np.random.SeedSequence([seed, epoch]).generate_state(1, np.uint64)[0] >> 1)


class BatchStream:
    """Batches of ``batch_size`` training windows of ``task``, this rank's ``share`` of each, epoch by epoch.

    Call :meth:`start_epoch` before an epoch's :meth:`batch` calls; :meth:`state` and :meth:`restore` carry
    the draws' position across an interruption inside an epoch.
    """

    def __init__(self, task: Task, population: Population, batch_size: int, seed: int, device: torch.device,
                 share: slice = slice(None), held_out: bool = False) -> None:
        self.task, self.population, self.batch_size, self.seed = task, population, batch_size, seed
        self.device, self.share, self.held_out = device, share, held_out
        self.inputs = torch.tensor(task.windows.inputs).to(device)
        self.targets = torch.tensor(task.windows.targets).to(device)
        self.starts = torch.tensor(task.windows.start).to(device)
        self.steps_per_epoch = task.num_windows // batch_size
        self._streams: list[tuple[torch.Tensor, Any, torch.Generator]] = []

    def start_epoch(self, epoch: int) -> None:
        """Order the windows and seed the draws of ``epoch`` (and of its held-out stream)."""
        seed = epoch_seed(self.seed, epoch)
        orders = [np.random.default_rng(seed)] + ([np.random.default_rng([seed, 1])] if self.held_out else [])
        self._streams = []
        for offset, rng in enumerate(orders):
            order = torch.from_numpy(rng.permutation(self.task.num_windows)).to(self.device)
            generator = torch.Generator(device=self.device).manual_seed(seed + offset)
            self._streams.append((order, self.population.sampler(self.batch_size, generator), generator))

    def batch(self, step: int) -> Batch:
        """The ``step``-th batch of the epoch, with its held-out batch if the stream has one."""
        rows = slice(step * self.batch_size, (step + 1) * self.batch_size)
        batches = [self._batch_of(order[rows], sampler, generator) for order, sampler, generator in self._streams]
        batches[0].held_out = batches[1] if self.held_out else None
        return batches[0]

    def state(self) -> dict[str, torch.Tensor]:
        """Where the draws of the epoch stand: each generator's state."""
        return {name: generator.get_state() for name, (_, _, generator) in zip(STREAMS, self._streams)}

    def restore(self, state: dict[str, torch.Tensor]) -> None:
        """Put the draws back where :meth:`state` found them."""
        for name, (_, _, generator) in zip(STREAMS, self._streams):
            generator.set_state(state[name])

    def _batch_of(self, global_windows: torch.Tensor, sampler: Any, generator: torch.Generator) -> Batch:
        """This rank's share of the global batch of ``global_windows``, with contexts and noise."""
        windows, share, size, horizon = global_windows[self.share], self.share, self.batch_size, self.task.horizon
        draw = sampler.draw(self.starts[global_windows])
        return Batch(
            inputs=self.inputs[windows],
            targets=self.targets[windows],
            contexts=[{k: v[:, share] for k, v in ctx.items()} for ctx in draw.contexts],
            weight=None if draw.weight is None else draw.weight.windows(share),
            global_size=size,
            noise=lambda samples: torch.randn((samples, size, horizon), generator=generator, device=self.device)[:, share],
        )
