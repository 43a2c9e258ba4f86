"""PPO on the window view, in one file, CleanRL-style: the reference to copy and modify.

Each window of the EV env is a one-step episode (a contextual bandit): the
policy forecasts its 12 hours, the reward is minus the window's credit, its
share of the gradient of L_q (``eq_gym.envs.windows``). With one-step
episodes the advantage is r - V(s): no bootstrapping, no GAE.

    python examples/ppo_windows.py --total-windows 86016 --q 0
    tensorboard --logdir runs/ppo_windows
    PYTHONPATH=examples eqpm benchmark --plugin ppo_windows --algos mse rloo ppo ppo-example

TensorBoard tags (CleanRL's vocabulary): ``charts/episodic_return`` (mean
reward of a rollout's windows), ``charts/learning_rate``, ``charts/SPS``
(windows per second), ``losses/value_loss``, ``losses/policy_loss``,
``losses/entropy``, ``losses/approx_kl``, ``losses/clipfrac``, and
``eval/mean``, ``eval/worst10``, ``eval/entropy`` (test split, every
``--eval-every`` updates, scored like every eqpm model).
"""

from __future__ import annotations

import argparse
import dataclasses
import time
from dataclasses import dataclass
from pathlib import Path

import gymnasium as gym
import numpy as np
import torch
from torch import nn
from torch.utils.tensorboard import SummaryWriter

import eq_gym  # noqa: F401  (registers the envs and their window views)
from eq_gym.envs.base import task_of
from eq_gym.metrics import METRIC_NAMES
from trainers.benchmark import BATCH as WINDOWS_PER_UPDATE
from trainers.benchmark import BenchmarkRun, algorithm
from trainers.evaluate import evaluate
from trainers.records import record


@dataclass
class Args:
    env_id: str = "EquitablePM-EV-v0"
    """registered env id (its window view is used)"""
    agents: str = "different"
    """env keyword: similar or different"""
    q: float = 0.0
    """fairness knob of L_q"""
    seed: int = 0
    """seeds torch, numpy and the env"""
    total_windows: int = 86_016
    """windows to train on (86,016: as many as 6 epochs of eqpm train on EV)"""
    num_envs: int = 64
    """windows per step (sub-envs of the window view)"""
    num_steps: int = 16
    """steps per rollout: a rollout holds num_envs * num_steps windows"""
    learning_rate: float = 3e-4
    """Adam's learning rate, annealed linearly to 0"""
    update_epochs: int = 10
    """passes over each rollout"""
    num_minibatches: int = 4
    """minibatches per pass"""
    clip_coef: float = 0.2
    """PPO's clipping of the probability ratio"""
    ent_coef: float = 0.0
    """entropy bonus"""
    vf_coef: float = 0.5
    """value loss weight"""
    max_grad_norm: float = 0.5
    """gradient clipping"""
    hidden: int = 128
    """width of the two hidden layers of actor and critic"""
    eval_every: int = 20
    """updates between test-split evaluations"""
    out: str = "runs/ppo_windows"
    """TensorBoard folder"""


def layer(inputs: int, outputs: int, std: float = np.sqrt(2)) -> nn.Linear:
    linear = nn.Linear(inputs, outputs)
    nn.init.orthogonal_(linear.weight, std)
    nn.init.zeros_(linear.bias)
    return linear


class Agent(nn.Module):
    """A Gaussian actor over the H-hour forecast and a critic, both MLPs over one window (L, F).

    Each feature is standardised with the training part's mean and std (``Task.input_standardisation``:
    the signal, water and price; the clock and flags pass as they are), and the actor's mean is mapped
    back to signal units, as eqpm's own policy does.
    """

    def __init__(self, window: tuple[int, int], horizon: int, hidden: int, loc: np.ndarray, scale: np.ndarray) -> None:
        super().__init__()
        size = window[0] * window[1]
        self.register_buffer("loc", torch.tensor(loc, dtype=torch.float32))
        self.register_buffer("scale", torch.tensor(scale, dtype=torch.float32))
        self.critic = nn.Sequential(layer(size, hidden), nn.Tanh(), layer(hidden, hidden), nn.Tanh(), layer(hidden, 1, 1.0))
        self.actor_mean = nn.Sequential(layer(size, hidden), nn.Tanh(), layer(hidden, hidden), nn.Tanh(), layer(hidden, horizon, 0.01))
        self.actor_logstd = nn.Parameter(torch.zeros(horizon))

    def features(self, obs: torch.Tensor) -> torch.Tensor:
        return ((obs - self.loc) / self.scale).flatten(1)

    def value(self, obs: torch.Tensor) -> torch.Tensor:
        return self.critic(self.features(obs)).squeeze(-1)

    def mean(self, obs: torch.Tensor) -> torch.Tensor:
        """The deterministic forecast, signal units, (B, H)."""
        return self.loc[0] + self.scale[0] * self.actor_mean(self.features(obs))

    def act(self, obs: torch.Tensor, action: torch.Tensor | None = None):
        dist = torch.distributions.Normal(self.mean(obs), self.actor_logstd.exp())
        action = dist.sample() if action is None else action
        return action, dist.log_prob(action).sum(-1), dist.entropy().sum(-1), self.value(obs)


def main(args: Args) -> dict:
    # --- seeding and logging -------------------------------------------------------------------
    torch.manual_seed(args.seed)
    np.random.seed(args.seed)
    writer = SummaryWriter(args.out)
    writer.add_text("hyperparameters", "\n".join(f"|{k}|{v}|" for k, v in dataclasses.asdict(args).items()))

    # --- env and agent -------------------------------------------------------------------------
    envs = gym.make_vec(args.env_id, num_envs=args.num_envs, vectorization_mode="vector_entry_point", q=args.q, agents=args.agents)
    task = envs.unwrapped.task
    agent = Agent(envs.single_observation_space.shape, envs.single_action_space.shape[0], args.hidden,
                  *task.input_standardisation())
    optimizer = torch.optim.Adam(agent.parameters(), lr=args.learning_rate, eps=1e-5)
    test = task_of(args.env_id, "test", {"agents": args.agents})

    def score() -> dict:
        with torch.no_grad():
            metrics, agent_regret = evaluate(lambda inputs, start: agent.mean(inputs), test)
        return {**metrics, "agent_regret": agent_regret.tolist()}

    # --- rollout storage -----------------------------------------------------------------------
    batch_size = args.num_envs * args.num_steps
    minibatch_size = batch_size // args.num_minibatches
    updates = args.total_windows // batch_size
    obs_shape, act_shape = envs.single_observation_space.shape, envs.single_action_space.shape
    observations = torch.zeros((args.num_steps, args.num_envs, *obs_shape))
    actions = torch.zeros((args.num_steps, args.num_envs, *act_shape))
    logprobs, rewards, values = (torch.zeros((args.num_steps, args.num_envs)) for _ in range(3))

    # --- the loop: collect a rollout, then PPO epochs over it ----------------------------------------
    next_obs = torch.as_tensor(envs.reset(seed=args.seed)[0])
    started, windows, history = time.time(), 0, []
    for update in range(1, updates + 1):
        for group in optimizer.param_groups:
            group["lr"] = (1.0 - (update - 1.0) / updates) * args.learning_rate
        for step in range(args.num_steps):
            observations[step] = next_obs
            with torch.no_grad():
                action, logprob, _, value = agent.act(next_obs)
            obs, reward, _, _, _ = envs.step(action.numpy())  # clipped into the Box by the env
            actions[step], logprobs[step], values[step] = action, logprob, value
            rewards[step] = torch.as_tensor(reward, dtype=torch.float32)
            next_obs = torch.as_tensor(obs)
            windows += args.num_envs
        advantages = rewards - values  # one-step episodes: the return is the reward

        flat = [x.reshape(batch_size, *x.shape[2:]) for x in (observations, actions, logprobs, advantages, rewards)]
        b_obs, b_actions, b_logprobs, b_advantages, b_returns = flat
        clipfracs = []
        for _ in range(args.update_epochs):
            order = torch.randperm(batch_size)
            for start in range(0, batch_size, minibatch_size):
                index = order[start : start + minibatch_size]
                _, newlogprob, entropy, newvalue = agent.act(b_obs[index], b_actions[index])
                logratio = newlogprob - b_logprobs[index]
                ratio = logratio.exp()
                with torch.no_grad():
                    approx_kl = ((ratio - 1) - logratio).mean()
                    clipfracs.append(((ratio - 1.0).abs() > args.clip_coef).float().mean().item())
                advantage = b_advantages[index]
                advantage = (advantage - advantage.mean()) / (advantage.std() + 1e-8)
                policy_loss = torch.max(-advantage * ratio, -advantage * ratio.clamp(1 - args.clip_coef, 1 + args.clip_coef)).mean()
                value_loss = 0.5 * ((newvalue - b_returns[index]) ** 2).mean()
                loss = policy_loss - args.ent_coef * entropy.mean() + args.vf_coef * value_loss
                optimizer.zero_grad()
                loss.backward()
                nn.utils.clip_grad_norm_(agent.parameters(), args.max_grad_norm)
                optimizer.step()

        writer.add_scalar("charts/episodic_return", rewards.mean().item(), windows)
        writer.add_scalar("charts/learning_rate", optimizer.param_groups[0]["lr"], windows)
        writer.add_scalar("charts/SPS", windows / (time.time() - started), windows)
        for tag, value in (("value_loss", value_loss), ("policy_loss", policy_loss), ("entropy", entropy.mean()),
                           ("approx_kl", approx_kl)):
            writer.add_scalar(f"losses/{tag}", value.item(), windows)
        writer.add_scalar("losses/clipfrac", np.mean(clipfracs), windows)
        if update % args.eval_every == 0 or update == updates:
            metrics = score()
            history.append({"steps": windows / WINDOWS_PER_UPDATE, **{k: v for k, v in metrics.items() if k != "agent_regret"}})
            for name in ("mean", "worst10", "entropy"):
                writer.add_scalar(f"eval/{name}", metrics[name], windows)
    writer.close()
    return {**score(), "history": history}


@algorithm("ppo-example")
def ppo_in_the_benchmark(run: BenchmarkRun) -> dict:
    """This file's PPO as a leaderboard row, on ``run.windows`` windows of the env's default agents:
    ``PYTHONPATH=examples eqpm benchmark --plugin ppo_windows --algos mse rloo ppo-example``."""
    started = time.time()
    result = main(Args(env_id=run.env, agents="similar", q=run.q, seed=run.seed, total_windows=run.windows,
                       out=str(run.out / "tensorboard")))
    metrics = {name: result[name] for name in METRIC_NAMES}
    return record(metrics, np.array(result["agent_regret"]), task_of(run.env, "test", {}), run.env, algo="ppo-example",
                  q=run.q, beta=0.0, seed=run.seed, backbone="mlp (examples/ppo_windows.py)", wall_s=time.time() - started,
                  steps=result["history"][-1]["steps"] if result["history"] else 0.0, history=result["history"])


def parse(argv: list[str] | None = None) -> Args:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    for field in dataclasses.fields(Args):
        parser.add_argument("--" + field.name.replace("_", "-"), type=type(field.default), default=field.default)
    return Args(**vars(parser.parse_args(argv)))


if __name__ == "__main__":
    args = parse()
    metrics = main(args)
    print(f"PPO on the window view of {args.env_id} ({args.agents}, q = {args.q:g}), {args.total_windows} windows: "
          f"test mean regret {metrics['mean']:.4f}, worst10 {metrics['worst10']:.4f}, entropy {metrics['entropy']:.5f}")
    print(f"TensorBoard: tensorboard --logdir {Path(args.out)}")
