"""An EquitablePM env for downstream agents of your own, on any shipped signal."""

from typing import Any

from eq_gym.envs.base import EquitableForecastEnv
from eq_gym.tasks import Task, custom_task


class CustomAgentsEnv(EquitableForecastEnv):
    r"""
    ## Description

    Serves a population of agents that you define, on one of the shipped
    signals. Everything else (spaces, reward forms, ``info``, seeding,
    refusals, episodes) is as in the built-in envs, and ``eqpm``'s trainers
    train on it. Three steps:

    1. Subclass :class:`eq_gym.agents.base.Agents` (pass ``plug_in`` (M, 24) to
       its constructor for agents that act on their own hours): say whether the regret is
       ``smooth``, which context tells agents apart (``need``), which contexts
       ``regret`` reads (``context_keys``), and write ``regret(forecast, truth,
       contexts)`` -> (M, B), vectorised in torch, >= 0, zero when the forecast
       is the truth: the cost of the agent's best response to the forecast minus
       that of its best response to the truth, both paid under the truth.
    2. Write a function ``population(split, train_fraction, **kwargs)`` that
       builds the agents of a split, each with its own pool of contexts
       (``ContextPool.from_agents([...]).split(train_fraction, split)``).
    3. Register an id for it::

           gym.register("BatteryArbitrage-v0", entry_point="eq_gym.envs.custom:CustomAgentsEnv",
                        kwargs={"population": battery_population, "signal": "price", "horizon": 12})

    ``examples/custom_agent.py`` does all three for batteries that trade
    energy on the day-ahead price, then trains a public model for them.

    ## Action Space, Observation Space, Rewards, Starting State, Episode End

    As in ``EquitablePM-EV-v0``, with H = ``horizon`` and the chosen signal.

    ## Arguments

    | keyword | default | allowed |
    | --- | --- | --- |
    | ``population`` | (required) | a function ``(split, train_fraction, **kwargs) -> Agents or a list of them`` |
    | ``signal`` | "carbon" | "carbon", "ev" (carbon + water + price), "price" |
    | ``horizon`` | 12 | >= 1 |
    | ``q``, ``batch_size``, ``split``, ``reward_form``, ``region``, ``features`` | | as in the built-in envs |
    | other keywords | | passed on to ``population`` |

    ## Version History

    - v0: initial release.
    """

    task_name = "custom"

    @classmethod
    def make_task(cls, **task_kwargs: Any) -> Task:
        return custom_task(**task_kwargs)
