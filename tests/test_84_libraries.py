"""For researchers bringing their own algorithms: SB3, vector envs, custom agents, the examples that learn."""

import itertools
import warnings

import gymnasium as gym
import numpy as np
import pytest
import torch
from gymnasium.wrappers import FlattenObservation, RescaleAction

import eq_gym
from eq_gym.envs.base import task_of
from eq_gym.forecasters import policy_forecaster
from tests.support.examples import load_example
from trainers.evaluate import evaluate

sb3 = pytest.importorskip("stable_baselines3")


def sb3_env(env_id: str, **kwargs) -> gym.Env:
    return FlattenObservation(RescaleAction(gym.make(env_id, batch_size=8, **kwargs), np.float32(-1), np.float32(1)))


@pytest.mark.parametrize("env_id", list(eq_gym.ENV_IDS))
def test_sb3_check_env_passes_and_ppo_trains(env_id):
    from stable_baselines3.common.env_checker import check_env

    env = sb3_env(env_id)
    check_env(env, warn=True)
    model = sb3.PPO("MlpPolicy", env, n_steps=32, batch_size=16, n_epochs=1, seed=0, device="cpu")
    before = [p.detach().clone() for p in model.policy.parameters()]
    model.learn(total_timesteps=64)
    assert any(not torch.equal(a, b) for a, b in zip(before, model.policy.parameters()))


def test_a_policy_forecaster_undoes_the_wrappers():
    env = sb3_env("EquitablePM-DC-v0", split="test")
    task = task_of("EquitablePM-DC-v0", "test", {})
    # a "policy" that reads the last observed hour and asks for it, in the wrapped spaces
    low, high = env.unwrapped.action_space.low, env.unwrapped.action_space.high
    last_hour = lambda obs: (2 * (obs.reshape(8, 24, 5)[:, -1, :1] - low) / (high - low) - 1)  # noqa: E731
    through_wrappers, _ = evaluate(policy_forecaster(env, last_hour), task)
    from eq_gym.forecasters import reference_forecast

    direct, _ = evaluate(lambda x, start: torch.from_numpy(reference_forecast(task, "persistence_last", start)), task)
    assert through_wrappers["mean"] == pytest.approx(direct["mean"], rel=1e-5)


@pytest.mark.parametrize("mode", ["sync", "async"])
def test_make_vec_runs_and_autoresets_on_the_next_step(mode):
    spawn = {"vector_kwargs": {"context": "spawn"}} if mode == "async" else {}  # fork after torch threads can hang
    envs = gym.make_vec("EquitablePM-DC-v0", num_envs=2, vectorization_mode=mode, split="test", batch_size=1024, **spawn)
    length = envs.get_attr("steps_per_episode")[0]
    obs, info = envs.reset(seed=3)
    action = np.full(envs.action_space.shape, 5.0, np.float32)
    for step in range(length):
        obs, reward, terminated, truncated, info = envs.step(action)
        assert terminated.all() == (step == length - 1) and (reward < 0).all()
    obs, reward, terminated, truncated, info = envs.step(action)  # the reset step: action ignored, reward 0
    assert (reward == 0).all() and not terminated.any() and obs.shape == (2, 1024, 24, 5)
    envs.close()


def test_the_custom_battery_agent_runs_through_its_env_and_matches_brute_force():
    example = load_example("custom_agent")
    from gymnasium.utils.env_checker import check_env

    env = gym.make(example.ENV_ID, q=2.0, batch_size=16)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # any checker warning fails the test
        check_env(env.unwrapped)
    obs, info = env.reset(seed=0)
    task = env.unwrapped.task
    truth = task.windows.targets[np.searchsorted(task.windows.start, info["time_index"])]
    obs, reward, *_ , info = env.step(truth)
    assert reward == 0.0
    rng = np.random.default_rng(0)
    forecast, truth = rng.normal(size=(6, 12)), rng.normal(size=(6, 12))
    table = example.arbitrage_regret_table(torch.from_numpy(forecast), torch.from_numpy(truth)).numpy()
    for i, h in itertools.product(range(6), range(1, 13)):
        f, t = forecast[i, :h], truth[i, :h]
        best = max(t[s] - t[b] for s in range(h) for b in range(h))
        assert table[h, i] == pytest.approx(best - (t[np.argmax(f)] - t[np.argmin(f)]))


@pytest.mark.parametrize("env_id", list(eq_gym.ENV_IDS))
def test_the_sb3_window_adapter_gives_the_window_views_rewards_and_ppo_trains(env_id):
    from eq_gym.sb3 import window_vec_env

    adapter = window_vec_env(env_id, num_envs=8, q=3.0)
    envs = gym.make_vec(env_id, num_envs=8, vectorization_mode="vector_entry_point", q=3.0)
    adapter.seed(4)
    np.testing.assert_array_equal(adapter.reset(), envs.reset(seed=4)[0])
    rng = np.random.default_rng(0)
    for _ in range(3):
        actions = rng.uniform(-1.2, 1.2, (8, adapter.action_space.shape[0])).astype(np.float32)
        obs, reward, done, infos = adapter.step(actions)
        forecast = adapter.low + (np.clip(actions, -1, 1) + 1) / 2 * (adapter.high - adapter.low)
        window_obs, window_reward, _, _, info = envs.step(forecast)
        np.testing.assert_allclose(reward, window_reward, rtol=1e-6)
        np.testing.assert_array_equal(obs, window_obs)
        assert done.all() and np.array_equal(infos[2]["terminal_observation"], info["final_obs"][2])
    model = sb3.PPO("MlpPolicy", adapter, n_steps=8, batch_size=32, n_epochs=1, seed=0, device="cpu")
    before = [p.detach().clone() for p in model.policy.parameters()]
    model.learn(total_timesteps=128)
    assert any(not torch.equal(a, b) for a, b in zip(before, model.policy.parameters()))


def test_the_single_file_ppo_runs_logs_cleanrls_tags_and_learns(tmp_path):
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    example = load_example("ppo_windows")
    args = example.parse(["--total-windows", "1024", "--num-envs", "32", "--num-steps", "8", "--eval-every", "2",
                          "--out", str(tmp_path)])
    untrained = example.main(example.Args(**{**vars(args), "total_windows": 0, "out": str(tmp_path / "none")}))
    trained = example.main(args)
    assert trained["mean"] < untrained["mean"]
    tags = set(EventAccumulator(str(tmp_path)).Reload().Tags()["scalars"])
    assert {"charts/episodic_return", "charts/SPS", "losses/policy_loss", "losses/value_loss", "losses/approx_kl",
            "losses/clipfrac", "eval/mean", "eval/worst10"} <= tags


def test_the_reinforce_example_learns_the_rest_its_known_ahead_part_leaves(monkeypatch, capsys):
    """examples/reinforce_windows.py, 600 updates: its forecast beats its own start (each hour's known-ahead part
    plus the rest's training mean) on the test split, and it prints its score beside persistence_daily's."""
    from eq_gym.envs.base import task_of
    from trainers.evaluate import evaluate

    monkeypatch.setattr("sys.argv", ["reinforce_windows.py", "600", "0"])
    example = load_example("reinforce_windows")
    test = task_of("EquitablePM-EV-v0", "test", {})
    known = torch.tensor(test.known_ahead_weights(), dtype=torch.float32)
    start = evaluate(lambda inputs, _: inputs[:, -test.horizon:] @ known + example.rest_loc, test)[0]["mean"]
    trained = evaluate(lambda inputs, _: example.forecast(inputs), test)[0]["mean"]
    assert trained < start
    assert f"REINFORCE {trained:.4f}" in capsys.readouterr().out


def test_the_reward_scale_example_pools_every_windows_reward_on_the_same_windows():
    """examples/window_rewards.py: one reward per window acted on, never above 0 (minus a credit of regrets), the
    same windows for the same seed (equal rewards again), and noise on the actions changes them."""
    example = load_example("window_rewards")
    plain, noisy = example.rewards("EquitablePM-Mixed-v0", 1.0, noise=0.5)
    again, _ = example.rewards("EquitablePM-Mixed-v0", 1.0, noise=0.5)
    assert plain.shape == noisy.shape == (example.STEPS * example.WINDOWS,)
    assert (plain <= 0).all() and (noisy <= 0).all() and np.array_equal(plain, again) and not np.array_equal(plain, noisy)
