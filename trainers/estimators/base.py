"""What every estimator shares: the batch it sees and the global sums it needs.

An estimator turns one batch into a loss whose gradient estimates the
gradient of the run's objective. Every quantity that averages over windows
goes through :func:`trainers.distributed.all_sum`, so under torchrun each
rank's loss equals the single-process loss of the global batch.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, ClassVar

import torch
from torch import Tensor

from eq_gym.agents.base import Contexts
from eq_gym.agents.population import Population
from eq_gym.objective import Objective, WindowWeights, regret_sum
from trainers.distributed import all_sum
from trainers.estimators.weighing import AgentWeighing, MultiplicativeWeighing


@dataclass
class Batch:
    """This rank's share of one global batch.

    Attributes:
        inputs: past hours, (B, L, F). targets: true hours, (B, H).
        contexts: each group's contexts for these windows, name -> (M_g, B).
        weight: each agent's window weights rho of these windows, or None when all 1.
        global_size: windows in the global batch (all ranks).
        noise: ``noise(S)`` gives standard normal draws (S, B, H), this rank's
            share of draws made for the whole global batch.
        held_out: another batch of the training split, for estimators that
            need one (``needs_held_out``), else None.
    """

    inputs: Tensor
    targets: Tensor
    contexts: list[Contexts]
    weight: WindowWeights | None
    global_size: int
    noise: Callable[[int], Tensor]
    held_out: Batch | None = None


@dataclass
class StepResult:
    """A loss to backpropagate and what to log about the batch.

    Attributes:
        loss: scalar whose gradient is the estimate.
        objective: the run's objective on the batch (of the sampled forecasts
            for the policy-gradient estimators), float64 scalar.
        agent_regret: Cbar of the batch, (M,).
        mse: MSE of the mean forecast on the batch.
    """

    loss: Tensor
    objective: Tensor
    agent_regret: Tensor
    mse: Tensor


class Estimator(ABC):
    """One way to estimate the gradient of (1 - beta) L_q + beta L_f."""

    name: ClassVar[str]
    needs_smooth_agents: ClassVar[bool] = False
    needs_slot_agents: ClassVar[bool] = False
    """True when the estimator's own path is for agents that choose slots (on smooth agents alone it is diff's)."""
    stochastic: ClassVar[bool] = False
    """True when the estimator samples forecasts (and so trains the policy's std)."""
    needs_held_out: ClassVar[bool] = False
    """True when each step needs a second, held-out batch of the training split (``Batch.held_out``)."""
    needs_model: ClassVar[bool] = False
    """True when each step looks at the policy's parameters (``model``, given to the constructor)."""
    weighs_agents: ClassVar[bool] = True
    """True when the step weighs each agent's regret by w_m = dL/dCbar_m (``--weighing`` applies)."""
    settings: ClassVar[dict[str, Any]] = {}
    """The estimator's own settings and their defaults (TrainConfig fields of the same names, so ``eqpm train``
    flags); the constructor takes these and no others."""

    def __init__(self, population: Population, objective: Objective, weighing: AgentWeighing | None = None, *,
                 model: torch.nn.Module | None = None, **settings: Any) -> None:
        unknown = [name for name in settings if name not in self.settings]
        if unknown:
            raise ValueError(f"{unknown[0]}={settings[unknown[0]]!r} is not a setting of algo '{self.name}'; "
                             f"it takes {', '.join(self.settings) or 'none'}")
        if self.needs_model and model is None:
            raise ValueError(f"algo '{self.name}' looks at the policy's parameters: give it model=the policy")
        if self.needs_smooth_agents and not population.smooth:
            rough = [g.label for g in population.groups if not g.smooth]
            raise ValueError(
                f"algo '{self.name}' backpropagates through the agents' regret, but {', '.join(rough)} "
                "choose discrete slots (no useful gradient); use rloo, spo, pfy or pg on this env"
            )
        if self.needs_slot_agents and population.smooth:
            raise ValueError(
                f"algo '{self.name}' trains agents that choose slots through its surrogate; every agent of this env is "
                "smooth, where it would run diff's code and nothing of its own: use diff"
            )
        self.population, self.objective, self.model = population, objective, model
        for name, default in self.settings.items():
            setattr(self, name, settings.get(name, default))
        self.scale = RunningScale()
        self.weighing = weighing or MultiplicativeWeighing(objective)

    def weights(self, agent_regret: Tensor, batch: Batch) -> Tensor:
        """w_m (M,), float64: how much each agent's regret counts in this step, from the batches before it
        (:mod:`trainers.estimators.weighing`); then the batch's Cbar (global) is folded in."""
        return self.weighing(agent_regret, batch.global_size)

    def split_objective(self, agent_regret: Tensor, mse: Tensor) -> Tensor:
        """The run's objective on a whole split, float64 (): (1 - beta) L_q + beta L_f in the run's form, from each
        agent's mean regret (M,) and the mean forecast's MSE ()."""
        return self.objective.combined(agent_regret, mse)

    def state_dict(self) -> dict:
        """What a checkpoint needs to resume the estimator exactly."""
        return {"scale": self.scale.value, "weighing": self.weighing.state_dict()}

    def load_state_dict(self, state: dict) -> None:
        self.scale.value = state["scale"]
        self.weighing.load_state_dict(state["weighing"])

    @abstractmethod
    def step(self, mean: Tensor, log_std: Tensor, batch: Batch) -> StepResult:
        """The loss for one batch, from the policy's output on it: mean (B, H), log std (H,)."""

    def weighted_loss(self, mean: Tensor, log_std: Tensor, batch: Batch, weights: Tensor) -> Tensor:
        """A loss whose gradient estimates sum_m w_m grad Cbar_m (the direction of a step that serves the agents
        by ``weights`` (M,)), without the weighing, the running scale or the MSE part: what
        ``eqpm bench descent`` steps down. Estimators that do not weigh each agent's own term refuse."""
        raise ValueError(f"algo '{self.name}' has no direction for given agents' weights")


class RunningScale:
    """A positive scale to divide losses by, from the batches before this one.

    L_q reaches 1e50 at q + 1 = 40 once mean regrets pass 20, beyond float32
    gradients. Dividing a loss by a factor that does not depend on the current
    batch keeps its gradient unbiased in direction and its size O(1): a
    slowly varying step size, which Adam's normalisation all but cancels. The
    factor is an exponential moving average (``decay``) of past batches'
    values; the first batch uses its own value.
    """

    def __init__(self, decay: float = 0.9) -> None:
        self.decay = decay
        self.value: float | None = None

    def __call__(self, current: Tensor) -> float:
        """The scale for this batch, then fold ``current`` (detached, > 0) into the average."""
        now = max(float(current.detach().abs()), torch.finfo(torch.float64).tiny)
        scale = now if self.value is None else self.value
        self.value = now if self.value is None else self.decay * self.value + (1.0 - self.decay) * now
        return scale


def global_mean_regret(regret: Tensor, batch: Batch) -> Tensor:
    """Cbar (M,) over the global batch from this rank's regrets (M, ..., B): weighted sum, all-reduce, divide."""
    samples = regret[0].numel() // regret.shape[-1]
    return all_sum(regret_sum(regret, batch.weight)) / (samples * batch.global_size)


def global_mse(forecast: Tensor, targets: Tensor, global_size: int) -> Tensor:
    """MSE over the global batch of this rank's forecasts (..., B, H)."""
    squared = ((forecast - targets) ** 2).sum()
    return all_sum(squared) / (global_size * targets.shape[-1] * forecast[..., 0, 0].numel())


def sampled_regret(population: Population, forecasts: Tensor, targets: Tensor, contexts: list[Contexts]) -> Tensor:
    """Regret (M, S, B) of S sampled forecasts (S, B, H), each window keeping its contexts."""
    samples, batch = forecasts.shape[0], forecasts.shape[1]
    repeated = [{k: v.repeat(1, samples) for k, v in ctx.items()} for ctx in contexts]
    flat = population.regret(forecasts.reshape(samples * batch, -1), targets.repeat(samples, 1), repeated)
    return flat.view(-1, samples, batch)
