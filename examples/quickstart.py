"""Quickstart: every env on its test split, with each reference forecaster as the policy.

Prints, per env and forecaster, the statistics of the agents' mean regret over
one pass of the env on the test split (mean, variance, C95-C5), the forecast
MSE, and beside them the mean regret that ``eqpm evaluate --forecaster``
reports. The two means differ a little by construction: an env pass averages
the batches' means over its full batches (the split's last partial batch is
dropped) with that episode's draws of the agents' contexts, while ``eqpm
evaluate`` scores every window of the split once.

    python examples/quickstart.py
"""

import gymnasium as gym
import numpy as np

import eq_gym
from eq_gym.forecasters import FORECASTERS, ReferenceForecaster
from trainers.evaluate import evaluate_forecaster


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
    print(f"{'env':<22} {'forecaster':<18} {'mean':>8} {'variance':>9} {'C95-C5':>8} {'MSE':>7} {'mean, eqpm evaluate':>20}")
    for env_id in eq_gym.ENV_IDS:
        env = gym.make(env_id, split="test")
        for name in FORECASTERS:
            try:
                forecaster = ReferenceForecaster(env, name)
            except ValueError:  # the vendor forecast exists for carbon one hour ahead only
                continue
            regret, mse = run_episode(env, forecaster)
            spread = np.percentile(regret, 95) - np.percentile(regret, 5)
            whole = evaluate_forecaster(name, env_id)["mean"]
            print(f"{env_id:<22} {name:<18} {regret.mean():8.4g} {regret.var():9.3g} {spread:8.4g} {mse:7.3f} {whole:20.4g}")


if __name__ == "__main__":
    main()
