"""eq_gym.tasks and the task behind an env id: built without making the env, the same windows and agents as the env's."""

import re

import gymnasium as gym
import numpy as np
import pytest
import torch

import eq_gym
from eq_gym.envs.base import EquitableForecastEnv, task_of
from eq_gym.tasks import PAPER_SETTING, make_task


@pytest.mark.parametrize("env_id", list(eq_gym.ENV_IDS))
def test_an_env_ids_task_is_the_envs_own_and_no_env_is_made(env_id, monkeypatch):
    made = gym.make(env_id, split="test", batch_size=1, disable_env_checker=True).unwrapped.task

    def refuse(*args, **kwargs):
        raise AssertionError("task_of made an env")

    monkeypatch.setattr(EquitableForecastEnv, "__init__", refuse)
    task = task_of(env_id, "test", {"q": 3.0})  # an env keyword is the env's, not the task's
    assert task.split == "test" and task.num_agents == made.num_agents
    np.testing.assert_array_equal(task.windows.inputs, made.windows.inputs)
    np.testing.assert_array_equal(task.windows.start, made.windows.start)


def test_an_id_registered_with_keywords_builds_its_task_with_them():
    gym.register("EquitablePM-EV-paper-test-v0", entry_point=eq_gym.ENV_IDS["EquitablePM-EV-v0"],
                 kwargs=dict(PAPER_SETTING))
    try:
        task = task_of("EquitablePM-EV-paper-test-v0", "train")
        assert task.kwargs["features"] == PAPER_SETTING["features"]
        assert task_of("EquitablePM-EV-paper-test-v0", "train", {"features": "ahead"}).kwargs["features"] == "ahead"
    finally:
        del gym.registry["EquitablePM-EV-paper-test-v0"]


@pytest.mark.parametrize("env_id, message", [("CartPole-v1", "is not an EquitablePM env"), ("Nope-v0", "is not registered")])
def test_other_ids_are_refused_by_name(env_id, message):
    with pytest.raises(ValueError, match=message):
        task_of(env_id, "test")


def test_an_unknown_task_keyword_is_refused():
    with pytest.raises(ValueError, match="memroy"):
        task_of("EquitablePM-EV-v0", "test", {"memroy": 3})


def test_a_population_is_built_whole_with_its_clock():
    from eq_gym.agents.population import Population

    task = make_task("ev", split="test")
    timed = [g for g in task.population.groups if g.plug_in is not None]
    assert timed and task.population.window_weight(torch.tensor(task.windows.start[:4])) is not None
    with pytest.raises(ValueError, match=f"{timed[0].label}.*act on their own hours.*give the population hour"):
        Population(timed)


@pytest.mark.parametrize("env_id", list(eq_gym.ENV_IDS))
def test_each_env_pages_keyword_table_lists_the_allowed_values_and_the_real_default(env_id):
    """The env's docstring (its doc page) against eq_gym.choices and the task builder's defaults."""
    import inspect

    from eq_gym.choices import REWARD_FORMS, TASK_KEYWORDS
    from eq_gym.tasks import TASKS

    env_class = gym.registry[env_id].entry_point
    env_class = gym.envs.registration.load_env_creator(env_class) if isinstance(env_class, str) else env_class
    rows = re.findall(r"^\s*\| ``(\w+)`` \| ([^|]*) \| ([^|]*) \|", env_class.__doc__, re.M)
    defaults = {name: p.default for name, p in inspect.signature(TASKS[env_class.task_name]).parameters.items()}
    checked = 0
    for name, default, allowed in rows:
        choices = REWARD_FORMS if name == "reward_form" else TASK_KEYWORDS.get(name)
        if choices is None:
            continue
        assert set(re.findall(r'"([^"]+)"', allowed)) == set(choices), name
        if name in defaults and isinstance(defaults[name], str):
            assert default.strip() == f'"{defaults[name]}"', name
        checked += 1
    assert checked >= 5
