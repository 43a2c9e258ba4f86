"""Stable-Baselines3's PPO on the EV env, written as SB3 users write it; then the test equity metrics.

    pip install -c constraints.txt -e ".[sb3]"
    python examples/sb3_ppo.py [TIMESTEPS]
"""

import sys

import gymnasium as gym
import numpy as np
from gymnasium.wrappers import FlattenObservation, RescaleAction
from stable_baselines3 import PPO

import eq_gym  # noqa: F401  (registers the envs)
from trainers.evaluate import evaluate, policy_forecaster, task_of

ENV_ID = "EquitablePM-EV-v0"


def main(timesteps: int = 20_000) -> None:
    env = FlattenObservation(RescaleAction(gym.make(ENV_ID, batch_size=8, q=1.0), np.float32(-1), np.float32(1)))
    model = PPO("MlpPolicy", env, seed=0, device="cpu", verbose=0)
    test = task_of(ENV_ID, "test", {})
    forecaster = policy_forecaster(env, lambda obs: model.predict(obs, deterministic=True)[0])
    before, _ = evaluate(forecaster, test)
    model.learn(total_timesteps=timesteps, progress_bar=False)
    after, _ = evaluate(forecaster, test)
    print(f"PPO on {ENV_ID}, {timesteps} steps of 8 windows; test split, per-agent mean regret:")
    for name, metrics in (("untrained", before), ("trained", after)):
        print(f"  {name:>9}: mean {metrics['mean']:.3f}  variance {metrics['variance']:.3f}  "
              f"C95-C5 {metrics['c95_c5']:.3f}  MSE {metrics['mse']:.3f}  entropy {metrics['entropy']:.4f}")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 20_000)
