"""Reference forecasters that any env can use as a policy: a baseline row.

- ``persistence_daily``: each hour repeats the same hour of the previous day
  (the last value where the series has no previous day).
- ``persistence_last``: every hour repeats the last observed hour.
- ``vendor``: WattTime's own forecast of the coming hour's MOER, shipped in
  the MOER file: a real, deployed public model. Carbon signal, H = 1 (DC) only:
  the file holds one hour-ahead forecast per hour, nothing further ahead.

A forecaster reads ``info["time_index"]`` (the first target hour of each
window of the current observation) and returns the action (B, H)::

    env = gym.make("EquitablePM-DC-v0", split="test")
    forecaster = ReferenceForecaster(env, "vendor")
    obs, info = env.reset(seed=0)
    obs, reward, terminated, truncated, info = env.step(forecaster(info))
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    from eq_gym.tasks import Task

FORECASTERS = ("persistence_daily", "persistence_last", "vendor")
HOURS_PER_DAY = 24


def reference_forecast(task: Task, name: str, start: np.ndarray) -> np.ndarray:
    """Forecast (B, H) float32 of ``name`` for windows whose first target hour is ``start`` (B,)."""
    from eq_gym import data  # here, so that the names above load without the data and torch (eqpm --help)
    from eq_gym.tasks import choose

    choose("forecaster", name, FORECASTERS)
    series = task.signal.values
    ahead = start[:, None] + np.arange(task.horizon)[None, :]
    if name == "persistence_daily":
        if task.horizon > HOURS_PER_DAY:
            raise ValueError(f"persistence_daily needs a horizon <= 24 h, this task has {task.horizon}")
        day_before = ahead - HOURS_PER_DAY
        return series[np.where(day_before >= 0, day_before, start[:, None] - 1)]
    if name == "persistence_last":
        return np.repeat(series[start - 1][:, None], task.horizon, axis=1)
    if not (task.carbon_only and task.horizon == 1):
        raise ValueError(
            f"forecaster 'vendor' forecasts carbon one hour ahead; task {task.name!r} forecasts "
            f"{task.signal.name} {task.horizon} h ahead. Use it on EquitablePM-DC-v0."
        )
    return data.vendor_signal(task.region, task.train_fraction)[ahead]


class ReferenceForecaster:
    """A reference forecaster bound to an env: ``forecaster(info) -> action``."""

    def __init__(self, env: Any, name: str) -> None:
        self.task: Task = env.unwrapped.task
        from eq_gym.tasks import choose

        self.name = choose("forecaster", name, FORECASTERS)
        reference_forecast(self.task, name, self.task.windows.start[:1])  # refuse early if it does not apply

    def __call__(self, info: dict[str, Any]) -> np.ndarray:
        return reference_forecast(self.task, self.name, info["time_index"])
