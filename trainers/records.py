"""metrics.json: what a run records, written and read in this one place.

A record holds the test metrics (``eq_gym.metrics.METRIC_NAMES``), ``agent_regret`` (M,), the env id, its
keywords (``env_kwargs``) and ``split``, then the run's own fields (algo, q, beta, seed, backbone, wall_s,
and for a training run epochs, lr, form, samples, batch_size, device, world_size, steps, history, weighing, init and
``train_agent_regret`` (M,), each agent's regret on the training split, and ``train_mse``, the mean forecast's MSE
there, which a q-sweep's objective consistency reads);
docs/trainers.md, "metrics.json", lists them. A folder whose metrics.json exists holds a finished run.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import numpy as np

from eq_gym.tasks import Task

METRICS_FILE = "metrics.json"


def record(metrics: dict, agent_regret: np.ndarray, task: Task, env: str, **fields: Any) -> dict[str, Any]:
    """A metrics.json record: the metrics, each agent's regret, the env and its keywords (from ``task``), then ``fields``."""
    env_kwargs = {k: v for k, v in task.kwargs.items() if k != "split"}
    return {**metrics, "agent_regret": np.asarray(agent_regret).tolist(), "env": env, "env_kwargs": env_kwargs,
            "split": task.split, **fields}


def write_record(folder: Path, result: dict[str, Any]) -> Path:
    """Write ``result`` as ``folder/metrics.json`` (whole or not at all: a temporary file renamed); its path."""
    path = Path(folder) / METRICS_FILE
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_suffix(".json.partial")
    partial.write_text(json.dumps(result, indent=2) + "\n")
    os.replace(partial, path)
    return path


def read_record(folder: Path) -> dict[str, Any] | None:
    """The record of the run in ``folder``, or None if it has not finished."""
    path = Path(folder) / METRICS_FILE
    return json.loads(path.read_text()) if path.is_file() else None
