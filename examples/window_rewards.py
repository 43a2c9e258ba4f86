"""The window view's reward scale per env: persistence_daily's forecasts as the actions, every reward pooled.

What a per-window learner (PPO, A2C, SAC, your own) sees: each env's rewards
over 50 steps of 128 windows after ``reset(seed=0)``, at q = 0 and at the
board's q = 1, and the share of a reward's variance that is which window was
drawn (a per-window baseline can take it out) rather than the action.

    python examples/window_rewards.py
"""

import gymnasium as gym
import numpy as np
import torch

import eq_gym
from trainers.evaluate import reference_forecaster

STEPS, WINDOWS = 50, 128


def rewards(env_id: str, q: float, noise: float) -> tuple[np.ndarray, np.ndarray]:
    """(steps x windows,) rewards of persistence_daily's forecasts, and of the same forecasts with Gaussian noise of
    ``noise`` signal units on the same windows (the same seed: the same windows in the same order)."""
    found = []
    for scale in (0.0, noise):
        envs = gym.make_vec(env_id, num_envs=WINDOWS, vectorization_mode="vector_entry_point", q=q)
        forecast = reference_forecaster(envs.unwrapped.task, "persistence_daily")
        obs, info = envs.reset(seed=0)
        generator, pooled = np.random.default_rng(0), []
        for _ in range(STEPS):
            action = forecast(torch.as_tensor(obs), info["time_index"]).numpy()
            obs, reward, _, _, info = envs.step(action + scale * generator.standard_normal(action.shape))
            pooled.append(reward)
        found.append(np.concatenate(pooled))
    return found[0], found[1]


def main() -> None:
    torch.set_num_threads(1)
    print(f"{'env':<22} {'q':>3} {'mean':>9} {'std':>9} {'median':>9} {'1st pct':>9} {'min':>9} {'window share':>13}")
    for env_id in eq_gym.ENV_IDS:
        for q in (0.0, 1.0):
            plain, noisy = rewards(env_id, q, noise=0.5)
            window_share = np.corrcoef(plain, noisy)[0, 1] ** 2  # variance explained by the window alone
            print(f"{env_id:<22} {q:>3g} {plain.mean():>9.4f} {plain.std():>9.4f} {np.median(plain):>9.4f} "
                  f"{np.percentile(plain, 1):>9.4f} {plain.min():>9.4f} {window_share:>13.2f}")


if __name__ == "__main__":
    main()
