"""TorchRL's PPO (``ClipPPOLoss`` with ``GAE``) on the window view of an EquitablePM env.

Each window is a one-step episode: TorchRL's GAE then gives the advantage
r - V(s). The actor is a Gaussian over the H-hour forecast (its mean an MLP of
the standardised window, its std a learned parameter), the critic an MLP; both
are TorchRL modules, so the loss, the advantage and the rollout are TorchRL's.

    python examples/torchrl_ppo.py --updates 84 --q 0     # 86,016 windows, as 6 epochs of eqpm train on EV
    tensorboard --logdir runs/torchrl_ppo

TensorBoard tags: ``charts/episodic_return`` (mean reward of a rollout's
windows), ``losses/objective``, ``losses/critic``, ``losses/entropy``, and
``eval/mean``, ``eval/worst10``, ``eval/entropy`` (test split, scored like
every eqpm model). Needs the ``torchrl`` extra.
"""

from __future__ import annotations

import argparse
from dataclasses import dataclass, fields

import numpy as np
import torch
from tensordict import TensorDict
from tensordict.nn import TensorDictModule
from torch import nn
from torch.utils.tensorboard import SummaryWriter
from torchrl.envs.utils import ExplorationType, set_exploration_type
from torchrl.modules import IndependentNormal, ProbabilisticActor, ValueOperator
from torchrl.objectives import ClipPPOLoss
from torchrl.objectives.value import GAE

from eq_gym.envs.base import task_of
from eq_gym.torchrl import torchrl_env
from trainers.evaluate import evaluate


@dataclass
class Args:
    env_id: str = "EquitablePM-EV-v0"
    agents: str = "different"
    q: float = 0.0
    seed: int = 0
    num_envs: int = 64
    num_steps: int = 16
    updates: int = 84
    update_epochs: int = 10
    num_minibatches: int = 4
    learning_rate: float = 3e-4
    hidden: int = 128
    eval_every: int = 20
    out: str = "runs/torchrl_ppo"


class Standardise(nn.Module):
    """(N, L, F) window -> (N, L*F), each feature standardised with the training part's mean and std
    (``Task.input_standardisation``: the signal, water and price; the clock and flags as they are)."""

    def __init__(self, loc: np.ndarray, scale: np.ndarray) -> None:
        super().__init__()
        self.register_buffer("loc", torch.tensor(loc, dtype=torch.float32))
        self.register_buffer("scale", torch.tensor(scale, dtype=torch.float32))

    def forward(self, observation: torch.Tensor) -> torch.Tensor:
        return ((observation - self.loc) / self.scale).flatten(-2)


class GaussianHead(nn.Module):
    """Features -> (loc, scale) of the forecast, signal units: an MLP mean and a learned log-std."""

    def __init__(self, body: nn.Module, size: int, horizon: int, hidden: int, loc: float, scale: float) -> None:
        super().__init__()
        self.body, self.loc, self.scale = body, loc, scale
        self.mean = nn.Sequential(nn.Linear(size, hidden), nn.Tanh(), nn.Linear(hidden, hidden), nn.Tanh(), nn.Linear(hidden, horizon))
        self.log_std = nn.Parameter(torch.zeros(horizon))

    def forward(self, observation: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        mean = self.loc + self.scale * self.mean(self.body(observation))
        return mean, self.log_std.exp().expand_as(mean)


def main(args: Args) -> dict[str, dict]:
    """Train; the test metrics before and after: ``{"untrained": ..., "trained": ...}``."""
    torch.manual_seed(args.seed)
    env = torchrl_env(args.env_id, num_envs=args.num_envs, q=args.q, agents=args.agents)
    env.set_seed(args.seed)
    task = task_of(args.env_id, "train", {"agents": args.agents})
    loc, scale = task.input_standardisation()
    window, horizon = task.lookback * task.num_features, task.horizon

    body = Standardise(loc, scale)
    head = GaussianHead(body, window, horizon, args.hidden, float(loc[0]), float(scale[0]))
    actor = ProbabilisticActor(TensorDictModule(head, in_keys=["observation"], out_keys=["loc", "scale"]),
                               in_keys=["loc", "scale"], distribution_class=IndependentNormal,
                               return_log_prob=True)
    critic = ValueOperator(nn.Sequential(Standardise(loc, scale), nn.Linear(window, args.hidden), nn.Tanh(),
                                         nn.Linear(args.hidden, 1)), in_keys=["observation"])
    advantage = GAE(gamma=0.99, lmbda=0.95, value_network=critic, average_gae=True)
    loss = ClipPPOLoss(actor, critic, clip_epsilon=0.2, entropy_coeff=0.0)
    optimizer = torch.optim.Adam(loss.parameters(), lr=args.learning_rate)
    test = task_of(args.env_id, "test", {"agents": args.agents})
    writer = SummaryWriter(args.out)

    def score() -> dict:
        with torch.no_grad(), set_exploration_type(ExplorationType.DETERMINISTIC):
            forecast = lambda inputs, start: actor(TensorDict({"observation": inputs}, batch_size=[len(inputs)]))["action"]  # noqa: E731
            return evaluate(forecast, test)[0]

    untrained, windows = score(), 0
    for update in range(1, args.updates + 1):
        with torch.no_grad(), set_exploration_type(ExplorationType.RANDOM):  # sample: the actor's default is its mean
            rollout = env.rollout(args.num_steps, actor, break_when_any_done=False)  # (num_envs, num_steps)
            advantage(rollout)
        data = rollout.reshape(-1)
        size = len(data) // args.num_minibatches
        for _ in range(args.update_epochs):
            for batch in data[torch.randperm(len(data))].split(size):
                parts = loss(batch)
                total = parts["loss_objective"] + parts["loss_critic"] + parts["loss_entropy"]
                optimizer.zero_grad()
                total.backward()
                nn.utils.clip_grad_norm_(loss.parameters(), 0.5)
                optimizer.step()
        windows += len(data)
        writer.add_scalar("charts/episodic_return", rollout["next", "reward"].mean().item(), windows)
        for tag in ("objective", "critic", "entropy"):
            writer.add_scalar(f"losses/{tag}", parts[f"loss_{tag}"].item(), windows)
        if update % args.eval_every == 0 or update == args.updates:
            metrics = score()
            for name in ("mean", "worst10", "entropy"):
                writer.add_scalar(f"eval/{name}", metrics[name], windows)
    writer.close()
    return {"untrained": untrained, "trained": score()}


def parse(argv: list[str] | None = None) -> Args:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    for field in fields(Args):
        parser.add_argument(f"--{field.name.replace('_', '-')}", type=type(field.default), default=field.default)
    return Args(**vars(parser.parse_args(argv)))


if __name__ == "__main__":
    result = main(parse())
    for when, metrics in result.items():
        print(f"{when}: test mean regret {metrics['mean']:.4f}, worst 10 % {metrics['worst10']:.4f}, entropy {metrics['entropy']:.5f}")
