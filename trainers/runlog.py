"""TensorBoard for a run: the documented tag vocabulary, written by rank 0 only.

| tag | when | what |
| --- | --- | --- |
| ``losses/loss`` | each step | the estimator's loss (its gradient is the update) |
| ``losses/objective`` | each step | the run's objective (1 - beta) L_q + beta L_f on the batch |
| ``losses/mse`` | each step | MSE of the mean forecast on the batch |
| ``losses/learning_rate`` | each epoch | Adam's learning rate |
| ``charts/variance`` | each epoch | test split: variance of the agents' mean regret |
| ``charts/mean`` | each epoch | test split: mean of the agents' mean regret |
| ``charts/c95_c5`` | each epoch | test split: 95th minus 5th percentile across agents |
| ``charts/worst10`` | each epoch | test split: mean regret of the worst-served tenth of the agents |
| ``charts/mse`` | each epoch | test split: MSE of the mean forecast |
| ``charts/entropy`` | each epoch | test split: normalised entropy of the regret shares (1 = uniform) |
| ``charts/agent_regret`` | each epoch | histogram of the agents' test mean regret |
| ``charts/train_objective`` | start, each epoch | ``--keep best``: the run's objective on the whole training split |
| ``charts/validation_objective`` | start, each epoch | ``--keep best --validation F``, in its place: on the held-out share F |
| ``policy/std`` | each epoch | mean std of the Gaussian policy, signal units |
| ``policy/entropy`` | each epoch | entropy of one window's forecast distribution, nats |
| ``path/rung`` | each epoch | the rung of the path in q the epoch trained on (0: q = 0) |
| ``perf/windows_per_s`` | each epoch | training windows per second, all processes together |

The run's config is logged as hyperparameters (``hparams``) with the final
test metrics.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from eq_gym.metrics import METRIC_NAMES as EPOCH_TAGS


class RunLog:
    """A SummaryWriter that does nothing on ranks other than 0."""

    def __init__(self, folder: Path, enabled: bool, purge_step: int | None = None) -> None:
        self.writer = None
        if enabled:
            from torch.utils.tensorboard import SummaryWriter

            self.writer = SummaryWriter(str(folder), purge_step=purge_step)

    def scalars(self, values: dict[str, float], step: int) -> None:
        if self.writer:
            for tag, value in values.items():
                self.writer.add_scalar(tag, value, step)

    def epoch(self, metrics: dict[str, float], agent_regret: np.ndarray, epoch: int) -> None:
        if self.writer:
            self.scalars({f"charts/{k}": metrics[k] for k in EPOCH_TAGS}, epoch)
            finite = agent_regret[np.isfinite(agent_regret)]  # a diverged model's NaN regrets: scalars show them
            if finite.size:
                self.writer.add_histogram("charts/agent_regret", finite, epoch)

    def hparams(self, config: dict[str, Any], metrics: dict[str, float]) -> None:
        if self.writer:
            flat = {k: (v if isinstance(v, (int, float, str, bool)) else str(v)) for k, v in config.items()}
            self.writer.add_hparams(flat, {f"hparam/{k}": metrics[k] for k in EPOCH_TAGS}, run_name=".")

    def close(self) -> None:
        if self.writer:
            self.writer.close()
