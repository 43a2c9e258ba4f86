"""The Gaussian forecast policy: a backbone, a linear head for the mean, a learned std.

The inputs are standardised feature by feature
(:meth:`eq_gym.tasks.Task.input_standardisation`: the signal, water and price
by their training part's mean and std; the clock and flags pass as they are)
and the mean forecast is mapped back to signal units, so one learning rate
suits every signal. Where parts of the signal are known ahead (E_t's water
term and day-ahead price, ``features="ahead"``), the model forecasts the rest
(carbon) from its past and the clock of past and forecast hours, and adds the
known parts read off the forecast rows: it need not learn to copy them, nor
extrapolate when the test split's prices leave the training range (2021's
prices reach far above 2019-2020's). By default (``known_ahead="index"``)
it adds them at the index's weights and the network does not see them; with
``known_ahead="learned"`` each known part's weight is a parameter (starting
at the index's), so a public model may weigh the day-ahead price otherwise
than the index does, and the network sees each known part standardised
within its own window (its shape over the window's rows, not its level,
so 2021's prices need no extrapolation). At inference the forecast is the
mean (the paper's arg max of sigma).
"""

from __future__ import annotations

import math

import numpy as np
import torch
from torch import Tensor, nn

from eq_gym.tasks import Task
from trainers.backbones import BACKBONES
from trainers.config import TrainConfig


class GaussianPolicy(nn.Module):
    """Forecast distribution N(mean(x), diag(std^2)) over the H hours of each window."""

    def __init__(
        self, backbone: nn.Module, horizon: int, loc: np.ndarray, scale: np.ndarray, init_std: float,
        known: np.ndarray | None = None, output: tuple[float, float] | None = None, learn_known: bool = False,
    ) -> None:
        super().__init__()
        self.backbone = backbone
        self.head = nn.Linear(backbone.out_features, horizon)
        self.log_std = nn.Parameter(torch.full((horizon,), math.log(init_std)))
        self.register_buffer("loc", torch.tensor(loc, dtype=torch.float32))
        self.register_buffer("scale", torch.tensor(scale, dtype=torch.float32))
        known = np.zeros(len(loc)) if known is None else known
        output = (loc[0], scale[0]) if output is None else output
        if known.any():  # column 0 becomes the signal's unknown part; the known columns are left out
            loc, scale = loc.copy(), scale.copy()
            loc[0], scale[0] = output
            loc[known != 0], scale[known != 0] = 0.0, 1.0
        # derived from the task at build time, so not part of a checkpoint
        self.register_buffer("known", torch.tensor(known, dtype=torch.float32), persistent=False)
        self.register_buffer("output", torch.tensor(output, dtype=torch.float32), persistent=False)
        self.adds_known = bool(known.any())
        self.learn_known = learn_known and self.adds_known
        if self.learn_known:  # each known part's weight in the forecast, starting at the index's
            self.known_weight = nn.Parameter(torch.tensor(known[known != 0], dtype=torch.float32))

    def forward(self, x: Tensor) -> tuple[Tensor, Tensor]:
        """Mean forecast (B, H) in signal units and log std (H,), from input rows (B, L, F)."""
        if self.adds_known:
            known = (x * self.known).sum(dim=-1)  # (B, rows): the signal's known parts at each row
            unknown = (x[..., 0] - known) * x[..., -1]  # past rows (observed = 1): the rest; forecast rows: 0
            parts = x[..., self.known != 0]  # (B, rows, K)
            shown = within_window(parts) if self.learn_known else torch.zeros_like(parts)
            x = torch.cat([unknown.unsqueeze(-1), x[..., 1:]], dim=-1)
            x[..., self.known != 0] = shown
        features = self.backbone((x - self.loc) / self.scale)
        mean = self.output[0] + self.output[1] * self.head(features)
        if self.adds_known:  # add the known parts of the forecast hours
            horizon = mean.shape[-1]
            added = parts[:, -horizon:] @ self.known_weight if self.learn_known else known[:, -horizon:]
            mean = mean + added
        return mean, self.log_std

    def predict(self, x: Tensor) -> Tensor:
        """The deterministic forecast (B, H): the mean."""
        return self(x)[0]


def within_window(parts: Tensor) -> Tensor:
    """Each column of ``parts`` (B, rows, K) standardised over its window's rows: its shape, not its level."""
    centred = parts - parts.mean(dim=1, keepdim=True)
    return centred / (centred.square().mean(dim=1, keepdim=True).sqrt() + 1e-6)


def log_prob(mean: Tensor, log_std: Tensor, sample: Tensor) -> Tensor:
    """Log-density of ``sample`` (..., B, H) under N(mean, exp(log_std)), summed over hours: (..., B)."""
    z = (sample - mean) / log_std.exp()
    return (-0.5 * z**2 - log_std - 0.5 * math.log(2 * math.pi)).sum(dim=-1)


def entropy(log_std: Tensor) -> Tensor:
    """Entropy of one window's forecast distribution (H hours), nats."""
    return (log_std + 0.5 * math.log(2 * math.pi * math.e)).sum()


def build_policy(config: TrainConfig, task: Task) -> GaussianPolicy:
    """The configured policy for ``task``'s windows: inputs standardised, the known-ahead parts of the signal added."""
    loc, scale = task.input_standardisation()
    features = len(loc)
    name = config.backbone
    if name == "lstm":
        backbone = BACKBONES[name](features=features, hidden=config.hidden)
    elif name == "transformer":
        backbone = BACKBONES[name](features=features, d_model=config.d_model, heads=config.heads)
    elif name == "mlp":
        backbone = BACKBONES[name](features=features, rows=task.lookback, width=config.width)
    else:
        raise ValueError(f"backbone={name!r} is not known; use one of {tuple(BACKBONES)}")
    return GaussianPolicy(backbone, task.horizon, loc, scale, config.init_std, task.known_ahead_weights(),
                          task.output_standardisation(), learn_known=config.known_ahead == "learned")
