"""Reference forecasters used as policies."""

import gymnasium as gym
import numpy as np
import pytest

import eq_gym  # noqa: F401  (registers the envs)
from eq_gym.forecasters import ReferenceForecaster


def test_persistence_last_repeats_the_last_observed_hour():
    env = gym.make("EquitablePM-EV-v0", batch_size=16)
    obs, info = env.reset(seed=0)
    action = ReferenceForecaster(env, "persistence_last")(info)
    last_past = 24 - 1  # rows 0..23 are the past hours, 24..35 the forecast hours (features="ahead")
    assert env.unwrapped.task.feature_names[-1] == "observed" and (obs[:, last_past + 1 :, -1] == 0).all()
    np.testing.assert_array_equal(action, np.repeat(obs[:, last_past, :1], 12, axis=1))  # feature 0 is the signal


def test_persistence_daily_repeats_the_targets_of_the_day_before():
    env = gym.make("EquitablePM-EV-v0", split="test", batch_size=16)
    obs, info = env.reset(seed=0)
    windows = env.unwrapped.task.windows
    action = ReferenceForecaster(env, "persistence_daily")(info)
    day_before = np.searchsorted(windows.start, info["time_index"] - 24)
    inside = windows.start[np.minimum(day_before, len(windows.start) - 1)] == info["time_index"] - 24
    assert inside.any()
    np.testing.assert_array_equal(action[inside], windows.targets[day_before[inside]])


def episode_mse(env, forecaster):
    obs, info = env.reset(seed=0)
    errors, terminated = [], False
    while not terminated:
        obs, reward, terminated, truncated, info = env.step(forecaster(info))
        errors.append(info["mse"])
    return np.mean(errors)


def test_the_vendors_real_forecast_beats_persistence_on_carbon():
    env = gym.make("EquitablePM-DC-v0", split="test")
    vendor = episode_mse(env, ReferenceForecaster(env, "vendor"))
    assert vendor < episode_mse(env, ReferenceForecaster(env, "persistence_last"))


def test_vendor_is_refused_where_it_has_no_forecast():
    with pytest.raises(ValueError, match="Use it on EquitablePM-DC-v0"):
        ReferenceForecaster(gym.make("EquitablePM-EV-v0"), "vendor")
    with pytest.raises(ValueError, match="forecaster='oracle'"):
        ReferenceForecaster(gym.make("EquitablePM-EV-v0"), "oracle")
