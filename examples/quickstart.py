"""Quickstart: every env on its test split, with each reference forecaster as the policy.

Prints, per env and forecaster, the statistics of the agents' mean regret over
one pass of the test split (mean, variance, C95-C5) and the forecast MSE.

    python examples/quickstart.py
"""

import gymnasium as gym
import numpy as np

import eq_gym
from eq_gym.forecasters import FORECASTERS, ReferenceForecaster


def run_episode(env, policy, seed=0):
    """Mean regret of each agent, (M,), and the mean squared error over one pass."""
    obs, info = env.reset(seed=seed)
    regrets, errors, terminated = [], [], False
    while not terminated:
        obs, reward, terminated, truncated, info = env.step(policy(info))
        regrets.append(info["agent_regret"])
        errors.append(info["mse"])
    return np.mean(regrets, axis=0), float(np.mean(errors))


def main():
    print(f"{'env':<22} {'forecaster':<18} {'mean':>8} {'variance':>9} {'C95-C5':>8} {'MSE':>7}")
    for env_id in eq_gym.ENV_IDS:
        env = gym.make(env_id, split="test")
        for name in FORECASTERS:
            try:
                forecaster = ReferenceForecaster(env, name)
            except ValueError:  # the vendor forecast exists for carbon one hour ahead only
                continue
            regret, mse = run_episode(env, forecaster)
            spread = np.percentile(regret, 95) - np.percentile(regret, 5)
            print(f"{env_id:<22} {name:<18} {regret.mean():8.4g} {regret.var():9.3g} {spread:8.4g} {mse:7.3f}")


if __name__ == "__main__":
    main()
