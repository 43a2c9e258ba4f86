"""The Gaussian forecast policy: a backbone, a linear head for the mean, a learned std.

The signal (input feature 0) is standardised with the training split's mean
and std and the mean forecast is mapped back to signal units, so one learning
rate suits every signal; the clock features (sine and cosine, in [-1, 1]) pass
as they are. At inference the forecast is the mean (the paper's arg max of sigma).
"""

from __future__ import annotations

import math

import torch
from torch import Tensor, nn

from trainers.backbones import BACKBONES
from trainers.config import TrainConfig


class GaussianPolicy(nn.Module):
    """Forecast distribution N(mean(x), diag(std^2)) over the H hours of each window."""

    def __init__(self, backbone: nn.Module, horizon: int, features: int, loc: float, scale: float, init_std: float) -> None:
        super().__init__()
        self.backbone = backbone
        self.head = nn.Linear(backbone.out_features, horizon)
        self.log_std = nn.Parameter(torch.full((horizon,), math.log(init_std)))
        self.register_buffer("loc", torch.zeros(features).index_fill_(0, torch.tensor([0]), float(loc)))
        self.register_buffer("scale", torch.ones(features).index_fill_(0, torch.tensor([0]), float(scale)))

    def forward(self, x: Tensor) -> tuple[Tensor, Tensor]:
        """Mean forecast (B, H) in signal units and log std (H,), from past hours (B, L, F)."""
        features = self.backbone((x - self.loc) / self.scale)
        return self.loc[0] + self.scale[0] * self.head(features), self.log_std

    def predict(self, x: Tensor) -> Tensor:
        """The deterministic forecast (B, H): the mean."""
        return self(x)[0]


def log_prob(mean: Tensor, log_std: Tensor, sample: Tensor) -> Tensor:
    """Log-density of ``sample`` (..., B, H) under N(mean, exp(log_std)), summed over hours: (..., B)."""
    z = (sample - mean) / log_std.exp()
    return (-0.5 * z**2 - log_std - 0.5 * math.log(2 * math.pi)).sum(dim=-1)


def entropy(log_std: Tensor) -> Tensor:
    """Entropy of one window's forecast distribution (H hours), nats."""
    return (log_std + 0.5 * math.log(2 * math.pi * math.e)).sum()


def build_policy(config: TrainConfig, horizon: int, features: int, loc: float, scale: float) -> GaussianPolicy:
    """The configured policy for windows of ``features`` inputs per hour, forecasting ``horizon`` hours."""
    name = config.backbone_name
    if name == "lstm":
        backbone = BACKBONES[name](features=features, hidden=config.hidden)
    elif name == "transformer":
        backbone = BACKBONES[name](features=features, d_model=config.d_model, heads=config.heads)
    else:
        raise ValueError(f"backbone={name!r} is not known; use one of {tuple(BACKBONES)}")
    return GaussianPolicy(backbone, horizon, features, loc, scale, config.init_std)
