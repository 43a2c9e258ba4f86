"""Estimators that train each agent's differentiable surrogate, weighted by w_m from past batches.

The gradient of L_q is sum_m w_m grad Cbar_m with w_m = dL/dCbar_m. These
estimators take w_m from the agents' weighing (:meth:`Estimator.weights`,
``--weighing``: weights from past batches, so they do not depend on the
batch they weigh) and replace grad Cbar_m by the gradient of a
surrogate of agent m's regret, averaged over the batch with the agent's own
window weights rho:

    loss = [sum_m (1 - beta) w_m S_m + beta * mse_weight * MSE] / scale,
    S_m = (1/B) sum_i rho_{m,i} s_{m,i}(forecast).

The forecast is the policy's mean (no sampling). ``diff`` uses the regret
itself as s (exact for smooth agents); ``spo`` and ``pfy`` use a surrogate
table for slot-choosing agents and the regret for smooth ones, so on a mixed
population the data centres train through ``diff``'s path inside the same
step.
"""

from __future__ import annotations

from abc import abstractmethod

import torch
from torch import Tensor

from eq_gym.agents.charging import SlotChargers, distinct_paid, slot_cost
from trainers.estimators.base import Batch, Estimator, StepResult, global_mean_regret, global_mse


class WeightedSurrogate(Estimator):
    """Base of ``diff``, ``spo``, ``pfy`` and ``forml``: one hook, :meth:`surrogate`."""

    @abstractmethod
    def surrogate(self, mean: Tensor, batch: Batch) -> Tensor:
        """Each agent's surrogate of its regret on each window, (M, B), differentiable in ``mean`` (B, H)."""

    def agent_losses(self, mean: Tensor, batch: Batch) -> Tensor:
        """S_m (M,): each agent's surrogate averaged over the global batch with its window weights."""
        return global_mean_regret(self.surrogate(mean, batch), batch)

    def weighted_loss(self, mean: Tensor, log_std: Tensor, batch: Batch, weights: Tensor) -> Tensor:
        return (weights.to(mean.dtype) * self.agent_losses(mean, batch)).sum()

    def step(self, mean, log_std, batch: Batch) -> StepResult:
        losses = self.agent_losses(mean, batch)
        cbar = self.batch_regret(mean, batch, losses)
        weights = (1.0 - self.objective.beta) * self.agent_weighting(mean, batch, cbar)
        mse_part = self.objective.beta * self.objective.mse_weight(self.population.num_agents)
        scale = self.scale(weights.sum() + mse_part)
        mse = global_mse(mean, batch.targets, batch.global_size)
        loss = ((weights / scale).to(losses.dtype) * losses).sum() + float(mse_part / scale) * mse
        objective = self.objective.combined(cbar, mse.detach())
        return StepResult(loss, objective, cbar, mse.detach())

    def batch_regret(self, mean: Tensor, batch: Batch, losses: Tensor) -> Tensor:
        """Cbar (M,) of the mean forecast on the global batch, given this batch's surrogates S_m (``losses``)."""
        with torch.no_grad():
            return global_mean_regret(self.population.regret(mean, batch.targets, batch.contexts), batch)

    def agent_weighting(self, mean: Tensor, batch: Batch, cbar: Tensor) -> Tensor:
        """The weight of each agent's surrogate, (M,): the weighing's, from past batches."""
        return self.weights(cbar, batch)


class SlotSurrogate(WeightedSurrogate):
    """Slot-choosing agents through a per-k surrogate table; smooth agents through their regret."""

    needs_slot_agents = True

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        other = [g.label for g in self.population.groups if not (isinstance(g, SlotChargers) or g.smooth)]
        if other:
            raise ValueError(
                f"algo '{self.name}' needs agents that choose slots (EV, phone chargers) or smooth ones (data centres); "
                f"{', '.join(other)} are neither: use rloo or pg"
            )

    @abstractmethod
    def table(self, forecast: Tensor, truth: Tensor, batch: Batch) -> Tensor:
        """The surrogate per unit rate of charging in k slots, for every k: (H + 1, B), row 0 zero; ``truth``
        (B, H) the signal the agents pay under."""

    def surrogate(self, mean: Tensor, batch: Batch) -> Tensor:
        signals, which = distinct_paid(self.population.groups, batch.contexts, batch.targets)
        tables = [self.table(mean, signal, batch) for signal in signals]  # one per signal paid under
        parts = []
        for group, contexts, index in zip(self.population.groups, batch.contexts, which):
            if index is None:
                parts.append(group.regret(mean, batch.targets, contexts))
                continue
            rate = None if group.per_unit else contexts["rate"].to(mean.dtype)
            parts.append(slot_cost(tables[index], rate, contexts["slots"]))
        return parts[0] if len(parts) == 1 else torch.cat(parts)


def with_zero_row(per_k: Tensor) -> Tensor:
    """(B, H) values for k = 1..H -> the (H + 1, B) table with row k = 0 set to 0."""
    return torch.cat([per_k.new_zeros(1, per_k.shape[0]), per_k.T])


def cost_of_true_best(forecast: Tensor, truth: Tensor) -> Tensor:
    """f . x*(y) for every k, (B, H): the forecast summed over the truth's k cheapest slots."""
    return forecast.gather(1, truth.argsort(dim=1, stable=True)).cumsum(dim=1)
