"""Stable-Baselines3's PPO on the window view of the EV env, as SB3 users write it; then the test equity metrics.

Each window is its own one-step sub-env, rewarded with minus its share of the
gradient of L_q (``eq_gym.envs.windows``); ``eq_gym.sb3.window_vec_env`` makes
that an SB3 VecEnv. Scored like every eqpm model: every test window, the
fixed evaluation draws.

    pip install -c constraints.txt -e ".[sb3]"
    python examples/sb3_ppo.py [WINDOWS] [AGENTS]      # defaults: 86016 different
"""

import sys

import numpy as np
import torch
from stable_baselines3 import PPO
from stable_baselines3.common.vec_env import VecNormalize

from eq_gym.envs.base import task_of
from eq_gym.sb3 import window_vec_env
from trainers.evaluate import evaluate

ENV_ID = "EquitablePM-EV-v0"


def main(windows: int = 86_016, agents: str = "different") -> None:
    adapter = window_vec_env(ENV_ID, num_envs=64, agents=agents, q=0.0)
    venv = VecNormalize(adapter, norm_reward=False)  # standardise the observations, as SB3 users do
    model = PPO("MlpPolicy", venv, n_steps=16, batch_size=256, seed=0, device="cpu", verbose=0)
    test = task_of(ENV_ID, "test", {"agents": agents})

    def forecaster(inputs: torch.Tensor, start: np.ndarray) -> torch.Tensor:
        action, _ = model.predict(venv.normalize_obs(inputs.numpy()), deterministic=True)
        return torch.from_numpy(adapter.to_forecast(action))

    before, _ = evaluate(forecaster, test)
    model.learn(total_timesteps=windows)
    venv.training = False  # freeze the observation statistics for scoring
    after, _ = evaluate(forecaster, test)
    print(f"PPO on the window view of {ENV_ID} (agents {agents!r}, q = 0), {windows} windows; test split, per-agent mean regret:")
    for name, metrics in (("untrained", before), ("trained", after)):
        print(f"  {name:>9}: mean {metrics['mean']:.4f}  worst10 {metrics['worst10']:.4f}  "
              f"C95-C5 {metrics['c95_c5']:.4f}  MSE {metrics['mse']:.3f}  entropy {metrics['entropy']:.5f}")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 86_016, sys.argv[2] if len(sys.argv) > 2 else "different")
