"""Shared fixtures: tasks are built once per session (they read the shipped data)."""

import pytest

from eq_gym.tasks import make_task


@pytest.fixture(scope="session")
def ev_train():
    return make_task("ev", split="train")


@pytest.fixture(scope="session")
def dc_train():
    return make_task("dc", split="train", agents="different", lambdas="different", timing="shared")
