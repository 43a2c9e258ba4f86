"""Who acts on which window: own hours vs the paper's shared timing, the window view, and refusals."""

import re

import gymnasium as gym
import numpy as np
import pytest
import torch
from gymnasium.vector import AutoresetMode

import eq_gym
from eq_gym.objective import RunningMeanRegret, WindowWeights, agent_weights, equitable_objective, mean_regret
from eq_gym.tasks import make_task

ENV_IDS = list(eq_gym.ENV_IDS)
TASKS = {"EquitablePM-DC-v0": "dc", "EquitablePM-EV-v0": "ev", "EquitablePM-Mixed-v0": "mixed"}


def test_window_weights_are_nonnegative_and_unbiased_over_the_split():
    task = make_task("ev", agents="different")
    weight = task.population.window_weight(torch.tensor(task.windows.start))
    dense = weight.dense()
    assert (dense >= 0).all() and dense.shape == (task.num_agents, task.num_windows)
    torch.testing.assert_close(dense.mean(dim=1), torch.ones(task.num_agents), rtol=1e-5, atol=1e-5)
    regret = torch.rand(task.num_agents, task.num_windows, dtype=torch.float64)
    equal = WindowWeights(torch.ones(task.num_agents, 24), weight.hour)
    torch.testing.assert_close(mean_regret(regret, equal), regret.mean(dim=1))
    torch.testing.assert_close(mean_regret(regret, weight), (regret * dense).mean(dim=1))
    jpl = dense[0]  # the JPL third: early-morning arrivals weigh morning windows only
    hours = task.population.hour[torch.tensor(task.windows.start)]
    assert jpl[(hours >= 18) | (hours < 3)].max() < jpl[(hours >= 5) & (hours < 8)].min()


def test_the_weighted_mean_is_the_same_for_a_window_major_and_an_agents_major_regret():
    task = make_task("ev", agents="different")
    weight = task.population.window_weight(torch.tensor(task.windows.start[:300]))
    agents_major = torch.rand(task.num_agents, 300, dtype=torch.float64, generator=torch.Generator().manual_seed(0))
    window_major = agents_major.T.contiguous().T  # the layout a population's regret comes in
    expected = (agents_major * weight.dense()).mean(dim=1)
    torch.testing.assert_close(mean_regret(window_major, weight), expected)
    torch.testing.assert_close(mean_regret(agents_major, weight), expected)


def test_an_agent_that_plugs_in_like_the_windows_has_the_plain_mean():
    task = make_task("ev", agents="different", priorities="shared")
    population = task.population
    group = population.groups[0].to("cpu")
    group.plug_in = population.window_share.expand(group.num_agents, -1).clone()
    uniform = type(population)([group], population.hour, population.window_share)
    weight = uniform.window_weight(torch.tensor(task.windows.start[:256]))
    regret = torch.rand(task.num_agents, 256)
    torch.testing.assert_close(mean_regret(regret, weight), regret.mean(dim=1))


@pytest.mark.parametrize("env_id", ENV_IDS)
def test_start_time_is_the_utc_hour_of_time_index(env_id):
    env = gym.make(env_id, batch_size=16)
    obs, info = env.reset(seed=0)
    task = env.unwrapped.task
    expected = task.times[info["time_index"]].astype("datetime64[s]")
    np.testing.assert_array_equal(info["start_time"].astype("datetime64[s]"), expected)
    obs, reward, terminated, truncated, info = env.step(np.full(env.action_space.shape, 5.0, np.float32))
    assert info["start_time"].shape == (16,)


@pytest.mark.parametrize("features, shape", [("calendar", (8, 24, 5)), ("paper", (8, 12, 1))])
def test_features_give_the_documented_observation(features, shape):
    env = gym.make("EquitablePM-EV-v0", batch_size=8, features=features)
    obs, info = env.reset(seed=0)
    assert obs.shape == shape and env.observation_space.contains(obs)
    task = env.unwrapped.task
    np.testing.assert_array_equal(obs[:, -1, 0], task.signal.values[info["time_index"] - 1])
    if features == "calendar":
        np.testing.assert_allclose(obs[..., 1] ** 2 + obs[..., 2] ** 2, 1.0, atol=1e-5)  # sine and cosine of the hour


@pytest.mark.parametrize("env_id", ENV_IDS)
@pytest.mark.parametrize("q", [0.0, 39.0, 100.0, 1e6, float("inf")])
def test_every_q_gives_a_finite_power_mean_reward_and_objective(env_id, q):
    env = gym.make(env_id, q=q)
    obs, info = env.reset(seed=0)
    action = np.full(env.action_space.shape, float(env.action_space.low.min()), np.float32)
    obs, reward, terminated, truncated, info = env.step(action)
    cbar = info["agent_regret"]
    assert np.isfinite(reward) and np.isfinite(info["objective"]) and reward < 0
    assert cbar.max() * len(cbar) ** (-1 / (q + 1)) <= -reward <= cbar.max() * (1 + 1e-12)  # mean^(1/p) <= P_q <= max
    if q == float("inf"):
        assert -reward == cbar.max() and info["objective_form"] == "power_mean" and info["objective"] == -reward


def test_the_paper_form_is_finite_where_float64_holds_it_and_refused_by_name_past_it():
    env = gym.make("EquitablePM-DC-v0", q=39.0, reward_form="paper", timing="shared", regret="absolute")
    env.reset(seed=0)
    obs, reward, terminated, truncated, info = env.step(np.full(env.action_space.shape, 0.0, np.float32))
    assert np.isfinite(reward) and info["objective_form"] == "paper" and reward == -info["objective"]
    # refused at make, where an uninformed forecast's regrets already overflow it, naming the largest q that holds
    for env_id, q in (("EquitablePM-EV-v0", 1e6), ("EquitablePM-EV-v0", 1000.0), ("EquitablePM-Mixed-v0", 1000.0)):
        with pytest.raises(ValueError, match=re.escape(f"reward_form='paper' at q={q:g}: ") + ".* overflows float64 .* or q <= "):
            gym.make(env_id, q=q, reward_form="paper")
    most = gym.make("EquitablePM-EV-v0", q=100.0, reward_form="paper")  # and a q it holds is made and steps
    most.reset(seed=0)
    assert np.isfinite(most.step(np.full(most.action_space.shape, 15.0, np.float32))[1])
    with pytest.raises(ValueError, match="q=inf is not allowed in the paper form"):
        gym.make("EquitablePM-EV-v0", q=float("inf"), reward_form="paper")


@pytest.mark.parametrize("kwargs, message", [(dict(q=-1), r"q=-1 is not allowed; use a number >= 0, or inf"),
                                             (dict(q=float("nan")), r"q=nan is not allowed"),
                                             (dict(timing="late"), "timing='late'"),
                                             (dict(features="weather"), "features='weather'"),
                                             (dict(regret="relative"), "regret='relative'"),
                                             (dict(horizon=6), r"horizon=6 is not a keyword of EVChargingEnv; it takes q, ")])
def test_bad_keywords_are_refused_by_name(kwargs, message):
    with pytest.raises(ValueError, match=message):
        gym.make("EquitablePM-EV-v0", **kwargs)


# --- the window view -----------------------------------------------------------


@pytest.mark.parametrize("env_id", ENV_IDS)
def test_window_view_shapes_one_step_episodes_and_autoreset(env_id):
    envs = gym.make_vec(env_id, num_envs=6, vectorization_mode="vector_entry_point", agents="different")
    assert envs.metadata["autoreset_mode"] == AutoresetMode.SAME_STEP
    obs, info = envs.reset(seed=1)
    task = envs.unwrapped.env.task
    assert envs.single_observation_space.shape == (task.lookback, task.num_features)
    assert obs.shape == (6, task.lookback, task.num_features)
    action = np.full(envs.action_space.shape, 5.0, np.float32)
    for _ in range(3):
        before = obs
        obs, reward, terminated, truncated, info = envs.step(action)
        assert terminated.all() and not truncated.any() and reward.shape == (6,) and (reward <= 0).all()
        np.testing.assert_array_equal(info["final_obs"], before)
        assert not np.array_equal(obs, before)


def test_window_view_numbers_are_the_batched_envs_and_its_rewards_are_the_chain_rule():
    q, size, kwargs = 3.0, 32, dict(agents="different")
    envs = gym.make_vec("EquitablePM-EV-v0", num_envs=size, vectorization_mode="vector_entry_point", q=q, **kwargs)
    env = gym.make("EquitablePM-EV-v0", batch_size=size, q=q, **kwargs)
    window_obs, _ = envs.reset(seed=5)
    batch_obs, _ = env.reset(seed=5)
    np.testing.assert_array_equal(window_obs, batch_obs)
    rng = np.random.default_rng(0)
    estimate = None
    for _ in range(3):
        action = rng.uniform(5.0, 25.0, env.action_space.shape).astype(np.float32)
        window_obs, reward, _, _, info = envs.step(action)
        batch_obs, _, _, _, batch_info = env.step(action)
        np.testing.assert_array_equal(window_obs, batch_obs)
        # as Gymnasium's same-step autoreset: the top-level info is the returned windows', the acted ones' in final_info
        np.testing.assert_array_equal(info["time_index"], batch_info["time_index"])
        acted = info["final_info"]
        assert set(info) == {"time_index", "_time_index", "final_obs", "_final_obs", "final_info", "_final_info"}
        np.testing.assert_allclose(reward, -(acted["agent_weights"] * acted["window_weight"] * acted["agent_regret"]).sum(axis=1),
                                   rtol=1e-5)
        info = acted
        cbar = (info["window_weight"] * info["agent_regret"]).mean(axis=0)
        np.testing.assert_allclose(cbar, batch_info["agent_regret"], rtol=1e-5)
        # the weights are dL/dCbar at the estimate before this step (this step's own Cbar at the first)
        estimate = cbar if estimate is None else estimate
        weights = agent_weights(torch.from_numpy(estimate), q, "power_mean").numpy()
        np.testing.assert_allclose(info["agent_weights"][0], weights, rtol=1e-5)
        np.testing.assert_allclose(reward.sum(), -size * (weights * cbar).sum(), rtol=1e-5)
        # first-order change of P_q from the estimate towards this step's Cbar
        step = 1e-6
        change = equitable_objective(torch.from_numpy(estimate + step * (cbar - estimate)), q, "power_mean") \
            - equitable_objective(torch.from_numpy(estimate), q, "power_mean")
        assert float(change) / step == pytest.approx(-(reward.sum() / size) - (weights * estimate).sum(), rel=1e-3, abs=1e-7)
        estimate = envs.unwrapped.running.estimate.numpy()


def test_running_mean_regret_converges_to_the_true_means_on_a_fixed_stream():
    true = torch.tensor([1.0, 4.0, 9.0], dtype=torch.float64)
    generator = torch.Generator().manual_seed(0)
    errors = []
    for memory in (1_280.0, 20_480.0):
        running = RunningMeanRegret(memory)
        for _ in range(2_000):
            running.update(true * (1 + 0.5 * torch.randn(3, generator=generator, dtype=torch.float64)), windows=128)
        errors.append(float((running.estimate - true).abs().max()))
    assert errors[1] < errors[0] < 1.0 and errors[1] < 0.2, errors
    first = RunningMeanRegret()
    assert torch.equal(first.update(true, 128), true)  # the first batch's own Cbar
    assert torch.equal(first.update(2 * true, 128), true)  # then the estimate before the batch
    resumed = RunningMeanRegret()
    resumed.load_state_dict(first.state_dict())
    assert torch.equal(resumed.update(true.float(), 128), first.update(true, 128))  # float64, on the batch's device


def test_the_window_view_refuses_its_own_keywords_by_name_and_counts_clipped_hours():
    with pytest.raises(ValueError, match="memroy=10 is not a keyword.*num_envs, memory"):
        gym.make_vec("EquitablePM-EV-v0", vectorization_mode="vector_entry_point", memroy=10)
    with pytest.raises(ValueError, match="num_envs=0 is not allowed"):
        gym.make_vec("EquitablePM-EV-v0", num_envs=0, vectorization_mode="vector_entry_point")
    with pytest.raises(ValueError, match=r"num_envs=100000 is larger than the \d+ windows of split='train'"):
        gym.make_vec("EquitablePM-EV-v0", num_envs=100_000, vectorization_mode="vector_entry_point")
    for memory in ("abc", 0, float("inf"), True):
        with pytest.raises(ValueError, match=re.escape(f"memory={memory!r} is not allowed; use a positive, finite")):
            gym.make_vec("EquitablePM-EV-v0", vectorization_mode="vector_entry_point", memory=memory)
    envs = gym.make_vec("EquitablePM-EV-v0", num_envs=4, vectorization_mode="vector_entry_point")
    envs.reset(seed=0)
    action = np.full(envs.action_space.shape, 10.0, np.float32)
    action[1, :3] = 1e4
    acted_windows = envs.unwrapped.env.current_times()["time_index"]
    info = envs.step(action)[-1]
    # a finished episode's info where Gymnasium's vector envs put it under same-step autoreset
    assert info["_final_info"].all() and info["_final_obs"].all()
    np.testing.assert_array_equal(info["final_info"]["clipped"], [0, 3, 0, 0])
    assert info["final_info"]["_clipped"].all()
    np.testing.assert_array_equal(info["final_info"]["time_index"], acted_windows)
    np.testing.assert_array_equal(info["time_index"], envs.unwrapped.env.current_times()["time_index"])
    assert not np.array_equal(info["time_index"], acted_windows)


@pytest.mark.parametrize("vector", [False, True], ids=["batched", "window view"])
def test_reset_options_are_refused_by_name_not_ignored(vector):
    env = (gym.make_vec("EquitablePM-EV-v0", num_envs=4, vectorization_mode="vector_entry_point") if vector
           else gym.make("EquitablePM-EV-v0", batch_size=4))
    with pytest.raises(ValueError, match=r"reset\(options=\{'split': 'test'\}\): these envs take no reset options"):
        env.reset(seed=0, options={"split": "test"})
    observation, _ = env.reset(seed=0, options={})  # an empty dict asks for nothing
    assert observation.shape[0] == 4
