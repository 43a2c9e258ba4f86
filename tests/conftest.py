"""Shared fixtures: tasks are built once per session (they read the shipped data)."""

import importlib.util
import sys
from pathlib import Path

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


def load_example(name: str):
    """Import ``examples/<name>.py`` as a module (the examples are scripts, not a package)."""
    spec = importlib.util.spec_from_file_location(name, Path(__file__).resolve().parents[1] / "examples" / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module  # dataclasses look their module up there
    spec.loader.exec_module(module)
    return module
