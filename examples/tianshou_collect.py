"""Tianshou's Collector on the window view: a policy of your own, scored window by window.

Each window of the EV env is one Tianshou env (a one-step episode). The
policy here forecasts each window's next H hours as the same hours of the day
before, read off the window's own 24 past hours (the signal is feature 0 of
every feature set): persistence_daily, written as a Tianshou ``Policy``,
beside a flat forecast of the training split's mean. Replace the policy with
any Tianshou algorithm's to train on the window view.

Tianshou's policies clip their actions to [-1, 1] unless told otherwise
(``action_bound_method="clip"``): a policy that forecasts in signal units
passes ``action_bound_method=None``, one that acts in [-1, 1] passes
``action_scaling=True`` to have its actions mapped onto the forecast Box.

    python examples/tianshou_collect.py
"""

from __future__ import annotations

import argparse
from typing import Any

import numpy as np
from tianshou.algorithm.algorithm_base import Policy
from tianshou.data import Batch, Collector, VectorReplayBuffer

from eq_gym.envs.base import task_of
from eq_gym.tianshou import tianshou_env


class YesterdayPolicy(Policy):
    """Forecast hour h of a window as the signal 24 hours earlier: ``obs[:, h, 0]`` of a 24-hour window."""

    def forward(self, batch: Any, state: Any = None, **kwargs: Any) -> Batch:
        horizon = self.action_space.shape[0]
        return Batch(act=np.asarray(batch.obs)[:, :horizon, 0], state=state)


class FlatPolicy(Policy):
    """Forecast every hour as one value (signal units)."""

    def __init__(self, value: float, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.value = value

    def forward(self, batch: Any, state: Any = None, **kwargs: Any) -> Batch:
        return Batch(act=np.full((len(batch.obs), *self.action_space.shape), self.value, np.float32), state=state)


def collect(policy: Policy, env: Any, steps: int) -> dict[str, float]:
    """Mean reward per window and the windows' mean agent regret over ``steps`` steps of every window."""
    buffer = VectorReplayBuffer(steps * len(env), len(env))
    collector = Collector(policy, env, buffer)
    collector.reset(reset_buffer=True, gym_reset_kwargs={"seed": 0})
    stats = collector.collect(n_step=steps * len(env))
    regret = np.stack([info["agent_regret"] for info in buffer.info[: len(buffer)]]) if len(buffer) else np.zeros(1)
    return {"windows": int(stats.n_collected_steps), "mean_reward": float(np.mean(stats.returns)),
            "mean_regret": float(regret.mean())}


def main(num_envs: int = 64, steps: int = 16, env_id: str = "EquitablePM-EV-v0") -> dict[str, dict[str, float]]:
    """Collect the yesterday policy and the flat one on the window view, each on a fresh view seeded alike."""
    env = tianshou_env(env_id, num_envs=num_envs, agents="different")
    task = task_of(env_id, "train", {"agents": "different"})
    box = env.action_space[0]
    results = {
        "yesterday": collect(YesterdayPolicy(action_space=box, action_bound_method=None), env, steps),
        "flat": collect(FlatPolicy(float(task.signal.values[: task.signal.cut].mean()), action_space=box,
                                   action_bound_method=None), tianshou_env(env_id, num_envs=num_envs, agents="different"), steps),
    }
    for name, result in results.items():
        print(f"{name:>9}: {result['windows']} windows, mean reward {result['mean_reward']:.4f}, "
              f"mean agent regret {result['mean_regret']:.4f}")
    return results


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--num-envs", type=int, default=64)
    parser.add_argument("--steps", type=int, default=16)
    arguments = parser.parse_args()
    main(arguments.num_envs, arguments.steps)
