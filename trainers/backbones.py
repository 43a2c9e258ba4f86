"""Backbones: a window of past hours (B, L, F) -> features (B, D).

Each treats each window on its own: the LSTM runs along one window's hours,
the Transformer attends over the time steps of one window (batch-first, no
mask needed), never across the windows of a batch, and the MLP reads the
window's rows flattened into one vector (a window of fixed length L).
"""

from __future__ import annotations

import math

import torch
from torch import Tensor, nn

from trainers.config import BACKBONES as BACKBONE_NAMES


class LSTMBackbone(nn.Module):
    """One-layer LSTM; features are its last hidden state (paper: hidden 50)."""

    def __init__(self, features: int = 1, hidden: int = 50) -> None:
        super().__init__()
        self.lstm = nn.LSTM(features, hidden, batch_first=True)
        self.out_features = hidden

    def forward(self, x: Tensor) -> Tensor:
        """(B, L, F) -> (B, hidden)."""
        _, (h, _) = self.lstm(x)
        return h[-1]


class TransformerBackbone(nn.Module):
    """Linear embedding, sinusoidal positional encoding, one encoder layer; features are
    the mean over the window's time steps (paper: feature size 250)."""

    def __init__(self, features: int = 1, d_model: int = 250, heads: int = 5, max_len: int = 512) -> None:
        super().__init__()
        if d_model % heads:
            raise ValueError(f"heads={heads} must divide d_model={d_model}")
        self.embed = nn.Linear(features, d_model)
        position = torch.arange(max_len)[:, None]
        frequency = torch.exp(torch.arange(0, d_model, 2) * (-math.log(10000.0) / d_model))
        encoding = torch.zeros(max_len, d_model)
        encoding[:, 0::2] = torch.sin(position * frequency)
        encoding[:, 1::2] = torch.cos(position * frequency[: d_model // 2])
        self.register_buffer("positional", encoding, persistent=False)
        self.encoder = nn.TransformerEncoderLayer(d_model, heads, dim_feedforward=2 * d_model, dropout=0.0, batch_first=True)
        self.out_features = d_model
        # The key bias adds one constant to all of a query's attention scores, which softmax ignores: its
        # true gradient is 0. Adam would turn float noise in it into full-size steps, whose signs depend on
        # the summation order (and so on the number of processes); keep it at 0 instead.
        key_bias = torch.zeros(3 * d_model)
        key_bias[:d_model] = key_bias[2 * d_model :] = 1.0
        self.register_buffer("key_bias_mask", key_bias, persistent=False)
        with torch.no_grad():
            self.encoder.self_attn.in_proj_bias[d_model : 2 * d_model] = 0.0
        self.encoder.self_attn.in_proj_bias.register_hook(lambda grad: grad * self.key_bias_mask)

    def forward(self, x: Tensor) -> Tensor:
        """(B, L, F) -> (B, d_model)."""
        h = self.embed(x) + self.positional[: x.shape[1]]
        return self.encoder(h).mean(dim=1)


class MLPBackbone(nn.Module):
    """The window's L rows of F features flattened, one tanh layer; features are its output. A few
    hundred times fewer multiply-adds per window than the paper's Transformer."""

    def __init__(self, features: int = 1, rows: int = 1, width: int = 128) -> None:
        super().__init__()
        self.rows = rows
        self.layer = nn.Sequential(nn.Flatten(), nn.Linear(rows * features, width), nn.Tanh())
        self.out_features = width

    def forward(self, x: Tensor) -> Tensor:
        """(B, L, F) -> (B, width); L must be the ``rows`` it was built for."""
        if x.shape[1] != self.rows:
            raise ValueError(f"the MLP backbone reads windows of {self.rows} rows; got {x.shape[1]}")
        return self.layer(x)


BACKBONES = dict(zip(BACKBONE_NAMES, (LSTMBackbone, TransformerBackbone, MLPBackbone)))
