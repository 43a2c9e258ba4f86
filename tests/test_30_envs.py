"""The registered envs: Gymnasium's checker, seeding, reward, refusals. Parametrised over the registry."""

import warnings

import gymnasium as gym
import numpy as np
import pytest
import torch
from gymnasium.utils.env_checker import check_env

import eq_gym
import eq_gym.envs.dc
from eq_gym.envs.ev import EVChargingEnv
from eq_gym.tasks import PAPER_SETTING

ENV_IDS = list(eq_gym.ENV_IDS)
TIMINGS = pytest.mark.parametrize("timing", ["own", "shared"])
ALLOWED_CHECK_ENV_WARNINGS: tuple[str, ...] = ()
"""Gymnasium's check_env warns of nothing on these envs; a warning that starts with none of these fails."""
SETTINGS = pytest.mark.parametrize("setting", [{}, PAPER_SETTING], ids=["default", "paper"])


def truth_action(env, info):
    """The true targets of the current observation's windows, read from the task."""
    windows = env.unwrapped.task.windows
    return windows.targets[np.searchsorted(windows.start, info["time_index"])]


def rollout(env, seed, steps, rng_seed=0):
    rng = np.random.default_rng(rng_seed)
    obs, info = env.reset(seed=seed)
    trace = [obs]
    for _ in range(steps):
        action = truth_action(env, info) + rng.normal(0.0, 1.0, env.action_space.shape).astype(np.float32)
        obs, reward, terminated, truncated, info = env.step(action)
        trace += [obs, reward, info["agent_regret"]]
    return trace


@SETTINGS
@pytest.mark.parametrize("env_id", ENV_IDS)
@pytest.mark.parametrize("split", ["train", "test"])
def test_gymnasium_check_env(env_id, split, setting):
    env = gym.make(env_id, split=split, batch_size=32, **setting)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        check_env(env.unwrapped, skip_render_check=True)
    assert not [str(w.message) for w in caught if not str(w.message).startswith(ALLOWED_CHECK_ENV_WARNINGS)]


@SETTINGS
@pytest.mark.parametrize("env_id", ENV_IDS)
def test_same_seed_and_actions_give_the_same_episode(env_id, setting):
    first = rollout(gym.make(env_id, **setting), seed=7, steps=3)
    second = rollout(gym.make(env_id, **setting), seed=7, steps=3)
    for a, b in zip(first, second):
        np.testing.assert_array_equal(a, b)
    other = rollout(gym.make(env_id, **setting), seed=8, steps=3)
    assert not np.array_equal(first[0], other[0])


@TIMINGS
@pytest.mark.parametrize("env_id", ENV_IDS)
def test_forecasting_the_truth_gives_zero_regret_where_all_pay_under_it(env_id, timing):
    env = gym.make(env_id, q=3.0, timing=timing, agents="different", priorities="shared")
    obs, info = env.reset(seed=0)
    for _ in range(3):
        obs, reward, terminated, truncated, info = env.step(truth_action(env, info))
        assert reward == 0.0 and info["mse"] == 0.0
        assert (info["agent_regret"] == 0).all()


@TIMINGS
@pytest.mark.parametrize("env_id", ENV_IDS)
def test_with_own_priorities_the_perfect_public_forecast_leaves_regret_to_those_who_pay_otherwise(env_id, timing):
    """The agents paying under the public signal get none; those paying under their own mix or region get some."""
    env = gym.make(env_id, q=3.0, timing=timing, agents="different")
    population = env.unwrapped.task.population
    pays_public = np.concatenate([
        np.full(g.num_agents, "paid" not in g.clock) if "paid" in g.clock or "carbon" not in g.clock
        else np.arange(g.num_agents) % 4 != 1  # data centres: all but every fourth in the public signal's region
        for g in population.groups
    ])
    obs, info = env.reset(seed=0)
    total = np.zeros(population.num_agents)
    for _ in range(3):
        obs, reward, terminated, truncated, info = env.step(truth_action(env, info))
        assert info["mse"] == 0.0 and reward < 0.0
        total += info["agent_regret"]
    assert (total[pays_public] < 1e-9).all()  # zero up to the rounding of a window's mean (data centres on Mixed)
    assert (total[~pays_public] > 0).mean() > 0.9  # an agent with no window of its own hours in 3 batches may see none


@SETTINGS
@pytest.mark.parametrize("env_id", ENV_IDS)
@pytest.mark.parametrize("q", [0.0, 1.5, 39.0])
def test_reward_is_the_q_aggregate_of_agent_regret_in_both_forms(env_id, q, setting):
    for form in ("paper", "power_mean"):
        env = gym.make(env_id, q=q, reward_form=form, **setting)
        obs, info = env.reset(seed=1)
        action = truth_action(env, info) + np.random.default_rng(0).normal(0.0, 2.0, env.action_space.shape)
        obs, reward, terminated, truncated, info = env.step(action)
        cbar = info["agent_regret"]
        assert cbar.shape == (env.unwrapped.task.num_agents,) and (cbar >= 0).all() and cbar.max() > 0
        assert np.isfinite(reward) and np.isfinite(info["objective"])
        top = cbar.max()
        paper = top ** (q + 1) * np.sum((cbar / top) ** (q + 1))
        power_mean = top * np.mean((cbar / top) ** (q + 1)) ** (1 / (q + 1))
        assert info["objective"] == pytest.approx(paper, rel=1e-9)
        assert reward == pytest.approx(-(paper if form == "paper" else power_mean), rel=1e-9)
        assert info["target"].shape == env.action_space.shape
        assert info["mse"] == pytest.approx(np.mean((np.clip(action, env.action_space.low, env.action_space.high) - info["target"]) ** 2), rel=1e-5)


def test_an_episode_is_one_pass_over_the_split():
    env = gym.make("EquitablePM-DC-v0", split="test", batch_size=512)
    obs, info = env.reset(seed=0)
    seen, steps, terminated = [info["time_index"]], 0, False
    while not terminated:
        obs, reward, terminated, truncated, info = env.step(np.full(env.action_space.shape, 5.0, np.float32))
        steps += 1
        seen.append(info["time_index"])
        assert not truncated
    task = env.unwrapped.task
    assert steps == task.num_windows // 512
    assert len(np.unique(np.concatenate(seen[:-1]))) == steps * 512  # no window twice
    with pytest.raises(RuntimeError, match="episode is over"):
        env.step(np.full(env.action_space.shape, 5.0, np.float32))


def test_out_of_box_actions_are_clipped_and_counted():
    env = gym.make("EquitablePM-EV-v0", batch_size=4)
    obs, info = env.reset(seed=0)
    action = np.full(env.action_space.shape, 1e6)
    action[0, 0] = env.action_space.high[0, 0] - 1.0
    obs, reward, terminated, truncated, info = env.step(action)
    assert info["clipped"] == action.size - 1 and np.isfinite(reward)
    env.reset(seed=0)
    obs, clipped_reward, *_ = env.step(np.clip(action, env.action_space.low, env.action_space.high))
    assert clipped_reward == reward


@pytest.mark.parametrize(
    "kwargs, message",
    [
        (dict(q=-1.0), "q=-1.0"),
        (dict(q=float("nan")), "q=nan"),
        (dict(batch_size=0), "batch_size=0"),
        (dict(batch_size=10**6), "batch_size=1000000"),
        (dict(split="valid"), "split='valid'"),
        (dict(agents="mixed"), "agents='mixed'"),
        (dict(lambdas="random"), "lambdas='random'"),
        (dict(num_agents=1), "num_agents=1"),
        (dict(num_agents=2.5), "num_agents=2.5"),
        (dict(reward_form="log"), "reward_form='log'"),
        (dict(region="ERCOT"), "region='ERCOT'"),
    ],
)
def test_bad_keywords_are_refused_by_name(kwargs, message):
    with pytest.raises(ValueError, match=message.replace("(", r"\(").replace(".", r"\.")):
        gym.make("EquitablePM-DC-v0", **kwargs)


def test_lambdas_is_a_dc_keyword_only():
    with pytest.raises(ValueError, match=r"lambdas='same' is not a keyword of EVChargingEnv; it takes q, batch_size.*timing"):
        gym.make("EquitablePM-EV-v0", lambdas="same")


@pytest.mark.parametrize("env_id", ENV_IDS)
def test_nan_inf_and_wrong_shapes_are_refused(env_id):
    env = gym.make(env_id, batch_size=8)
    env.reset(seed=0)
    action = np.ones(env.action_space.shape, np.float32)
    action[2, 0], action[5, -1] = np.nan, np.inf
    with pytest.raises(ValueError, match=r"2 NaN or inf entries, at \(window, hour\) \[\(2, 0\), \(5, "):
        env.step(action)
    with pytest.raises(ValueError, match=r"action has shape \(8,\)"):
        env.step(np.ones(8, np.float32))


def test_step_before_reset_is_refused():
    env = eq_gym.envs.dc.DataCentreEnv(batch_size=4)
    with pytest.raises(RuntimeError, match="before reset"):
        env.step(np.ones((4, 1), np.float32))


def test_a_step_runs_on_one_thread_and_restores_the_callers_setting(monkeypatch):
    env = gym.make("EquitablePM-EV-v0", batch_size=16).unwrapped
    seen = []
    regret = env.task.population.regret
    monkeypatch.setattr(env.task.population, "regret", lambda *a, **k: seen.append(torch.get_num_threads()) or regret(*a, **k))
    before = torch.get_num_threads()
    torch.set_num_threads(2)
    try:
        env.reset(seed=0)
        env.step(np.full(env.action_space.shape, 10.0, np.float32))
        assert seen == [1] and torch.get_num_threads() == 2
    finally:
        torch.set_num_threads(before)


def test_a_steps_regret_is_a_buffer_the_next_step_overwrites_and_its_weighted_mean_is_cbar():
    from eq_gym.objective import mean_regret

    env = gym.make("EquitablePM-EV-v0").unwrapped
    env.reset(seed=0)
    action = np.full(env.action_space.shape, 10.0, np.float32)
    first = env.act(action)
    kept = first.regret.clone()
    torch.testing.assert_close(mean_regret(kept, first.weight), first.agent_regret)
    second = env.act(action)
    assert torch.equal(first.regret, second.regret) and not torch.equal(kept, second.regret)  # documented: clone to keep


@pytest.mark.parametrize("keywords, most", [({}, 2003), ({"timing": "shared"}, 9660), ({"agents": "similar"}, 4830)])
def test_too_many_agents_are_refused_naming_the_envs_own_limit(keywords, most):
    """The refusal names the largest num_agents these keywords take (the env page's numbers), not a group's."""
    for num_agents in (10**6, most + 1):
        with pytest.raises(ValueError, match=f"num_agents={num_agents} .* at most {most:,} EV chargers") as refused:
            gym.make("EquitablePM-EV-v0", num_agents=num_agents, **keywords)
        assert len(str(refused.value)) < 400 and "\n" not in str(refused.value)
    assert gym.make("EquitablePM-EV-v0", num_agents=most, **keywords).unwrapped.task.num_agents == most
    assert f"{most:,}" in EVChargingEnv.__doc__


def test_writing_into_an_observation_changes_no_env_data():
    """A wrapper that normalises observations in place must not reach the windows every env shares."""
    first = gym.make("EquitablePM-EV-v0", batch_size=8)
    obs, _ = first.reset(seed=3)
    kept = obs.copy()
    obs[:] = 0.0
    first.step(np.full(first.action_space.shape, 10.0, np.float32))[0][:] = -1.0
    again, _ = gym.make("EquitablePM-EV-v0", batch_size=8).reset(seed=3)
    np.testing.assert_array_equal(again, kept)
