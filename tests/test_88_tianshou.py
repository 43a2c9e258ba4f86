"""Tianshou: its vector envs and Collector on the batched env and the window view."""

import gymnasium as gym
import numpy as np
import pytest

pytest.importorskip("tianshou")

from tianshou.algorithm.algorithm_base import RandomActionPolicy  # noqa: E402
from tianshou.data import Collector, VectorReplayBuffer  # noqa: E402

import eq_gym  # noqa: E402,F401
from eq_gym.tianshou import tianshou_env  # noqa: E402
from tests.support.examples import load_example  # noqa: E402

ENV_IDS = ("EquitablePM-DC-v0", "EquitablePM-EV-v0", "EquitablePM-Mixed-v0")


@pytest.mark.parametrize("env_id", ENV_IDS)
@pytest.mark.parametrize("view", ["batched", "windows"])
def test_the_collector_runs_on_both_views(env_id, view):
    env = tianshou_env(env_id, batch_size=8) if view == "batched" else tianshou_env(env_id, num_envs=8)
    collector = Collector(RandomActionPolicy(action_space=env.action_space[0]), env, VectorReplayBuffer(64, len(env)))
    collector.reset(reset_buffer=True, gym_reset_kwargs={"seed": 0})
    stats = collector.collect(n_step=16)
    assert stats.n_collected_steps == 16
    if view == "windows":  # every window is a one-step episode with a finite, non-positive return
        assert stats.n_collected_episodes == 16 and np.isfinite(stats.returns).all() and (stats.returns <= 0).all()


@pytest.mark.parametrize("env_id", ENV_IDS)
def test_the_window_workers_give_the_views_windows_rewards_and_info(env_id):
    env = tianshou_env(env_id, num_envs=8)
    view = gym.make_vec(env_id, num_envs=8, vectorization_mode="vector_entry_point")
    observation, _ = env.reset(seed=0)
    expected, _ = view.reset(seed=0)
    rng, box = np.random.default_rng(0), env.action_space[0]
    for _ in range(2):
        np.testing.assert_array_equal(observation, expected)
        actions = rng.uniform(box.low, box.high, (8, *box.shape)).astype(np.float32)
        _, reward, terminated, _, info = env.step(actions)
        expected, expected_reward, _, _, expected_info = view.step(actions)
        np.testing.assert_array_equal(reward, expected_reward)
        assert terminated.all()
        np.testing.assert_array_equal(np.stack([i["agent_regret"] for i in info]), expected_info["final_info"]["agent_regret"])
        observation, _ = env.reset(env_id=np.arange(8))  # keeps the windows the view moved on to


def test_stepping_some_windows_only_is_refused():
    env = tianshou_env("EquitablePM-DC-v0", num_envs=4)
    env.reset(seed=0)
    with pytest.raises(ValueError, match="steps all its windows together"):
        env.step(np.zeros((2, 1), np.float32), id=[0, 1])


def test_the_tianshou_example_runs():
    example = load_example("tianshou_collect")
    result = example.main(num_envs=8, steps=4)
    assert result["yesterday"]["windows"] == result["flat"]["windows"] == 32
    # the same windows, forecast two ways: the day before serves EV chargers better than a flat line
    assert result["yesterday"]["mean_regret"] < result["flat"]["mean_regret"]
