"""Shared fixtures: tasks are built once per session (they read the shipped data)."""

import pytest
import torch

from eq_gym.tasks import make_task

torch.set_num_threads(1)  # small tensors: more threads only slow the suite on a shared machine (as eqpm's --threads 1)


@pytest.fixture(scope="session")
def ev_train():
    return make_task("ev", split="train")


@pytest.fixture(scope="session")
def dc_train():
    return make_task("dc", split="train", agents="different", lambdas="different", timing="shared")
