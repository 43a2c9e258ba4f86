"""REINFORCE on the window view, from docs/benchmark.md alone: a Gaussian forecast, a critic as per-window
baseline, scored on the test split beside persistence_daily.  python examples/reinforce_windows.py [updates] [seed]"""

import sys
import time

import gymnasium as gym
import torch
from torch import nn

import eq_gym  # noqa: F401  (registers the envs and their window views)
from eq_gym.envs.base import task_of
from trainers.evaluate import evaluate, reference_forecaster

ENV, LEARNING_RATE = "EquitablePM-EV-v0", 3e-4
UPDATES, SEED = int(sys.argv[1]) if len(sys.argv) > 1 else 40_000, int(sys.argv[2]) if len(sys.argv) > 2 else 0
torch.manual_seed(SEED)
torch.set_num_threads(1)  # small tensors: more threads only wait on each other
envs = gym.make_vec(ENV, num_envs=128, vectorization_mode="vector_entry_point")
task = envs.unwrapped.task
(rows, features), hours = envs.single_observation_space.shape, envs.single_action_space.shape[0]
loc, scale = (torch.tensor(part, dtype=torch.float32) for part in task.input_standardisation())
known = torch.tensor(task.known_ahead_weights(), dtype=torch.float32)  # (F,): which columns add up to E_t's known part
rest_loc, rest_scale = task.output_standardisation()


def mlp(outputs: int) -> nn.Module:
    return nn.Sequential(nn.Flatten(), nn.Linear(rows * features, 128), nn.Tanh(), nn.Linear(128, outputs))


rest, critic = mlp(hours), mlp(1)  # the forecast's unknown rest (carbon), standardised; the per-window baseline
log_std = nn.Parameter(torch.zeros(hours))  # in units of the rest's std: wide, as the regret sees only a ranking
optimizer = torch.optim.Adam([*rest.parameters(), *critic.parameters(), log_std], lr=LEARNING_RATE)


def forecast(obs: torch.Tensor) -> torch.Tensor:
    """Mean forecast (B, H), signal units: each hour's known-ahead part plus the learnt rest."""
    return obs[:, -hours:] @ known + rest_loc + rest_scale * rest((obs - loc) / scale)


obs, started = torch.as_tensor(envs.reset(seed=SEED)[0]), time.perf_counter()
for update in range(UPDATES):
    noise, value = torch.distributions.Normal(forecast(obs), rest_scale * log_std.exp()), critic((obs - loc) / scale)[:, 0]
    action = noise.sample()
    next_obs, reward, _, _, _ = envs.step(action.numpy())  # one-step episodes; clipped into the Box by the env
    obs, reward = torch.as_tensor(next_obs), torch.as_tensor(reward, dtype=torch.float32)
    advantage = reward - value.detach()  # the window's own difficulty taken out by the critic, then standardised
    advantage = (advantage - advantage.mean()) / (advantage.std() + 1e-8)
    loss = -(advantage * noise.log_prob(action).sum(-1)).mean() + 0.5 * ((value - reward) ** 2).mean()
    optimizer.zero_grad()
    loss.backward()
    optimizer.step()
    if update % 5000 == 0:
        print(f"update {update:5d}  mean reward {reward.mean():8.4f}  {time.perf_counter() - started:6.1f} s", flush=True)

test = task_of(ENV, "test", {})
trained, _ = evaluate(lambda inputs, start: forecast(inputs), test)  # evaluate runs without gradients
reference, _ = evaluate(reference_forecaster(test, "persistence_daily"), test)
print(f"test mean regret: REINFORCE {trained['mean']:.4f} (worst10 {trained['worst10']:.4f}), persistence_daily "
      f"{reference['mean']:.4f} (worst10 {reference['worst10']:.4f}); {time.perf_counter() - started:.0f} s")
