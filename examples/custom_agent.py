"""A downstream agent of your own: batteries that trade on a public price forecast.

Battery m may trade during the first h hours of a 12-hour window: it charges
``capacity`` kWh in the hour the forecast says is cheapest and discharges it
in the hour the forecast says is dearest (it starts half full, so either
order works). Its regret is ``capacity * (best true spread - true spread of
the hours it picked)`` among its first h hours. Batteries differ in capacity
and in how many hours they may trade, so they weigh the hours of a window
differently: q matters.

Run it to check the env and train a public model for these batteries:

    python examples/custom_agent.py
"""

import tempfile
from pathlib import Path
from typing import ClassVar

import gymnasium as gym
import numpy as np
import torch

from eq_gym.agents.base import Agents, ContextPool, Contexts

ENV_ID = "BatteryArbitrage-v0"


def arbitrage_regret_table(forecast: torch.Tensor, truth: torch.Tensor) -> torch.Tensor:
    """(H + 1, B): row h is the regret per kWh of trading within the first h hours (row 0 is 0)."""
    buy = forecast.cummin(dim=1).indices
    sell = forecast.cummax(dim=1).indices
    realised = truth.gather(1, sell) - truth.gather(1, buy)
    best = truth.cummax(dim=1).values - truth.cummin(dim=1).values
    table = torch.zeros((truth.shape[1] + 1, truth.shape[0]), dtype=truth.dtype, device=truth.device)
    table[1:] = (best - realised).T
    return table


class Batteries(Agents):
    """Battery traders; contexts: ``capacity`` (kWh), ``hours`` (int, trading hours at the window's start)."""

    smooth: ClassVar[bool] = False
    need: ClassVar[str] = "capacity"
    context_keys: ClassVar[tuple[str, ...]] = ("capacity", "hours")

    def regret(self, forecast: torch.Tensor, truth: torch.Tensor, contexts: Contexts) -> torch.Tensor:
        table = arbitrage_regret_table(forecast, truth)
        return contexts["capacity"].to(forecast.dtype) * table.gather(0, contexts["hours"])


def battery_population(split: str, train_fraction: float, num_agents: int = 30, horizon: int = 12) -> Batteries:
    """Batteries of 5-50 kWh; battery m trades in 2 to ``horizon`` hours, around its own typical number."""
    rng = np.random.default_rng(7)
    typical = np.linspace(2, horizon, num_agents)
    pools = [
        {
            "capacity": rng.uniform(5.0, 50.0, 200).astype(np.float32),
            "hours": np.clip(np.round(rng.normal(t, 1.0, 200)), 2, horizon).astype(np.int64),
        }
        for t in typical
    ]
    return Batteries(ContextPool.from_agents(pools).split(train_fraction, split), "batteries")


gym.register(ENV_ID, entry_point="eq_gym.envs.custom:CustomAgentsEnv",
             kwargs={"population": battery_population, "signal": "price", "horizon": 12})


def main() -> None:
    from gymnasium.utils.env_checker import check_env

    from trainers.config import TrainConfig
    from trainers.loop import train

    env = gym.make(ENV_ID, q=2.0, split="test")
    check_env(env.unwrapped)
    print(f"{ENV_ID}: {env.unwrapped.task.num_agents} batteries, observation {env.observation_space.shape}, "
          f"action {env.action_space.shape}")
    # one run at q for two epochs (the paper's recipe), to show in seconds that it learns; the default recipe,
    # the path in q, trains 220 epochs
    settings = dict(env=ENV_ID, algo="rloo", q=2.0, lr=3e-3, d_model=32, heads=2, recipe="paper")
    runs = Path(tempfile.mkdtemp(prefix="battery-"))
    before = train(TrainConfig(epochs=0, out=runs / "untrained", **settings))
    after = train(TrainConfig(epochs=2, out=runs / "rloo", **settings))
    for name, metrics in (("untrained", before), ("rloo, 2 epochs", after)):
        print(f"{name:>15}: mean regret {metrics['mean']:.3f}  variance {metrics['variance']:.4f}  C95-C5 {metrics['c95_c5']:.3f}")


if __name__ == "__main__":
    main()
