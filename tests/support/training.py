"""Batches, small policies and gradients for the estimator tests, from the training loop's own batch stream."""

import torch

from trainers.batches import BatchStream
from trainers.config import TrainConfig
from trainers.policy import build_policy


def make_batch(task, size, seed=0, held_out=True):
    """The first batch of ``size`` windows of ``task`` that a run with ``seed`` draws (with its held-out batch)."""
    stream = BatchStream(task, task.population, size, seed, torch.device("cpu"), held_out=held_out)
    stream.start_epoch(0)
    return stream.batch(0)


def small_policy(task, backbone="lstm", init_std=0.3):
    config = TrainConfig(backbone=backbone, hidden=8, d_model=16, heads=2, init_std=init_std)
    torch.manual_seed(0)
    return build_policy(config, task)


def flat_grad(policy, loss):
    policy.zero_grad()
    loss.backward()
    return torch.cat([p.grad.flatten() for p in policy.parameters() if p.grad is not None])
