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

and back: :func:`policy_forecaster` turns a policy that acts on a (wrapped) env into a
forecaster of windows, so it is scored as every eqpm model is (``trainers.evaluate.evaluate``).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    import torch

    from eq_gym.tasks import Task

FORECASTERS = ("persistence_daily", "persistence_last", "vendor")


def reference_forecast(task: Task, name: str, start: np.ndarray) -> np.ndarray:
    """Forecast (B, H) float32 of ``name`` for windows whose first target hour is ``start`` (B,)."""
    from eq_gym import signals  # here, so that the names above load without the data and torch (eqpm --help)
    from eq_gym.data import HOURS_PER_DAY
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
    return signals.vendor_signal(task.region, task.train_fraction)[ahead]


class ReferenceForecaster:
    """A reference forecaster bound to an env: ``forecaster(info) -> action``."""

    def __init__(self, env: Any, name: str) -> None:
        self.task: Task = env.unwrapped.task
        from eq_gym.tasks import choose

        self.name = choose("forecaster", name, FORECASTERS)
        reference_forecast(self.task, name, self.task.windows.start[:1])  # refuse early if it does not apply

    def __call__(self, info: dict[str, Any]) -> np.ndarray:
        return reference_forecast(self.task, self.name, info["time_index"])


def policy_forecaster(env: Any, predict: Callable[[np.ndarray], np.ndarray]) -> Callable[[torch.Tensor, np.ndarray], torch.Tensor]:
    """A forecaster from a policy that acts on a (wrapped) EquitablePM env, e.g. a Stable-Baselines3 model.

    Windows are cut into the env's batches (the last one padded), each passed
    through the env's observation wrappers (inner to outer) to ``predict``, and
    its action back through the action wrappers (outer to inner), then clipped
    into the env's Box, as a step would: ``forecast(inputs (B, L, F), start (B,)) -> (B, H)``, what
    ``trainers.evaluate.evaluate`` scores.
    """
    import gymnasium as gym
    import torch

    chain = []
    while isinstance(env, gym.Wrapper):
        chain.append(env)
        env = env.env
    size, low, high = env.batch_size, env.action_space.low, env.action_space.high

    def forecast(inputs: torch.Tensor, start: np.ndarray) -> torch.Tensor:
        windows = inputs.cpu().numpy()
        count = len(windows)
        padded = np.concatenate([windows, np.repeat(windows[-1:], (-count) % size, axis=0)])
        actions = []
        for chunk in padded.reshape(-1, size, *windows.shape[1:]):
            observation = chunk
            for wrapper in reversed(chain):
                if isinstance(wrapper, gym.ObservationWrapper):
                    observation = wrapper.observation(observation)
            action = np.asarray(predict(observation))
            for wrapper in chain:
                if isinstance(wrapper, gym.ActionWrapper):
                    action = wrapper.action(action)
            actions.append(np.clip(np.asarray(action).reshape(low.shape), low, high))
        return torch.from_numpy(np.concatenate(actions)[:count].astype(np.float32))

    return forecast
