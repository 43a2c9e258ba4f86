"""rloo -- REINFORCE with a leave-one-out baseline and per-window credit through the agents' weights.

Idea: the chain rule of L_q through the agents' mean regrets, as q-FFL weighs
devices. With w_m = dL/dCbar_m ((q+1) Cbar_m^q for the paper's form),

    grad L_q = sum_m w_m grad Cbar_m
             = (1/B) sum_i E[ r_i grad log sigma(y_i | x_i) ],   r_i = sum_m w_m C_{m,i},

so each window gets its own credit r_i instead of the whole batch's L. With S
forecasts per window, window i's sample s is scored against the mean credit of
its other S - 1 samples (the leave-one-out baseline of Kool et al., 2019),
which removes most of the variance at no bias. For agents that charge in
their k cheapest slots (EV, phone chargers) the score term goes further by
default (``score="local"``): the credit depends on one hour's forecast only
through its rank among the sample's other hours, so the expectation over that
hour's noise is taken exactly (:mod:`trainers.estimators.local_score`), still
an unbiased estimate of the same gradient, with no noise from the hour
itself; ``score="sampled"`` keeps plain REINFORCE for them. Other agents (data
centres on Mixed, agents of your own) always use the sampled score. The
beta * L_f part is differentiated directly through the mean forecast
(pathwise, exact). The whole loss is divided by a running scale of the total
weight sum_m (1 - beta) w_m + beta * M over past batches (see
:class:`RunningScale`), which keeps the gradient's direction and its size
O(1) at any q.

Weights: w_m comes from past batches (``--weighing``, :meth:`Estimator.weights`),
not from the batch's own Cbar: at q + 1 = 20 a 10 % error in one batch's
Cbar_m moves its weight 6-fold, so weights from one batch are mostly noise.
Bias: the weights lag the model (zero at q = 0). Variance:
one score per window and sample, centred by the baseline, so it does not grow
with B or M as the batch-level score of ``pg`` does; the local score removes
each hour's own noise (some hundred-fold less variance per sample on EV).
Pair it with EV and Mixed (discrete agents); on DC ``diff`` is exact.

References: Kool, van Hoof, Welling, Buy 4 REINFORCE Samples, Get a Baseline
for Free!, 2019; Li et al., Fair Resource Allocation in Federated Learning
(q-FFL), ICLR 2020; Titsias, Lazaro-Gredilla, Local Expectation Gradients for
Black Box Variational Inference, NeurIPS 2015.
"""

from typing import Any, ClassVar

import torch

from eq_gym.agents.charging import SlotChargers
from eq_gym.objective import weighted
from trainers.distributed import all_sum
from trainers.estimators import SCORE_TERMS
from trainers.estimators.base import (
    Batch,
    Estimator,
    StepResult,
    global_mean_regret,
    global_mse,
    sampled_regret,
)
from trainers.estimators.local_score import local_score, per_k_credit
from trainers.policy import log_prob


class LeaveOneOutPolicyGradient(Estimator):
    name = "rloo"
    stochastic = True
    settings: ClassVar[dict[str, Any]] = {"samples": 4, "score": "local"}

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        if self.samples < 2:
            raise ValueError(f"samples={self.samples} is not allowed for rloo; use >= 2 (the baseline leaves one out)")
        if self.score not in SCORE_TERMS:
            raise ValueError(f"score={self.score!r} is not allowed for rloo; use one of {SCORE_TERMS}")
        self.local = self.score == "local" and any(isinstance(g, SlotChargers) for g in self.population.groups)
        sampled = [torch.full((g.num_agents,), float(not (self.local and isinstance(g, SlotChargers))))
                   for g in self.population.groups]
        self.sampled = torch.cat(sampled)
        """(M,): 1 for the agents whose score term is sampled, 0 for those scored locally."""

    def step(self, mean, log_std, batch: Batch) -> StepResult:
        samples = self.draw(mean, log_std, batch)
        with torch.no_grad():
            regret = sampled_regret(self.population, samples, batch.targets, batch.contexts)  # (M, S, B)
            cbar = global_mean_regret(regret, batch)
            weights = (1.0 - self.objective.beta) * self.weights(cbar, batch)
            mse_part = self.objective.beta * self.objective.mse_weight(self.population.num_agents)
            scale = self.scale(weights.sum() + mse_part)
        score = self.score_loss(mean, log_std, batch, samples, regret, (weights / scale).float())
        mse = global_mse(mean, batch.targets, batch.global_size)
        loss = score + float(mse_part / scale) * mse
        objective = self.objective.combined(cbar, global_mse(samples, batch.targets, batch.global_size))
        return StepResult(loss, objective, cbar, mse.detach())

    def weighted_loss(self, mean, log_std, batch: Batch, weights) -> torch.Tensor:
        samples = self.draw(mean, log_std, batch)
        with torch.no_grad():
            regret = sampled_regret(self.population, samples, batch.targets, batch.contexts)
        return self.score_loss(mean, log_std, batch, samples, regret, weights.float())

    def draw(self, mean, log_std, batch: Batch) -> torch.Tensor:
        """S forecasts per window from the policy, (S, B, H), detached."""
        return (mean.unsqueeze(0) + log_std.exp() * batch.noise(self.samples)).detach()

    def score_loss(self, mean, log_std, batch: Batch, samples, regret, agent_weight) -> torch.Tensor:
        """The score-function loss of the ``samples`` (S, B, H) with their regret (M, S, B) at the agents' weights
        (M,): its gradient estimates sum_m w_m grad Cbar_m in the mean and the std."""
        std = log_std.exp()
        with torch.no_grad():
            sampled_weight = agent_weight * self.sampled.to(agent_weight.device)
            credit = torch.einsum("m,msb->sb", sampled_weight, weighted(regret, batch.weight))
            baseline = (credit.sum(dim=0, keepdim=True) - credit) / (self.samples - 1)
            advantage = credit - baseline
        score = (advantage * log_prob(mean, log_std, samples)).sum()
        if self.local:
            with torch.no_grad():
                signals, credits = zip(*per_k_credit(self.population, agent_weight, batch.contexts, batch.weight,
                                                     batch.targets))
                grad_mean, grad_std = local_score(mean.detach(), std.detach(), samples, torch.stack(signals),
                                                  torch.stack(credits))
            score = score + (grad_mean.sum(dim=0) * mean).sum() + (grad_std.sum(dim=(0, 1)) * std).sum()
        return all_sum(score) / (self.samples * batch.global_size)
