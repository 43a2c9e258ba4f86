"""forml -- per-agent weights meta-learned against a held-out batch's fairness (FORML).

Idea (Yan and Howard, 2022, after Ren et al.'s learning to reweight): give
agent m's loss a weight eps_m, take one look-ahead step
theta' = theta - alpha * grad sum_m eps_m S_m(theta) on the training batch, and
ask how a fairness measure F of a *held-out* training batch would change:

    dF(theta') / d eps_m at eps = 0  =  -alpha * grad F(theta) . grad S_m(theta).

Agents whose loss gradient agrees with the held-out fairness gradient get
weight w_m proportional to max(0, grad F . grad S_m), normalised to sum to 1
(uniform when none agrees); the update is then sum_m w_m S_m. One double
backward gives every agent's alignment at once. S_m is ``spo``'s SPO+ for
slot-choosing agents and the regret for smooth ones; F is the objective's own
aggregate (power mean or the paper's L_q, same q) of the held-out batch's S.

How it differs from the Equitable Objective: L_q fixes the weights in closed
form, w_m = dL/dCbar_m, a function of each agent's own regret; FORML learns
them from data, batch by batch, as whatever makes a held-out batch fairer
after one step, so agents can be up-weighted for helping others' regret
(their gradients align), and no agent gets a negative weight. Bias: the
one-step look-ahead is a local, first-order view of fairness; the weights
carry the held-out batch's noise (no running average: FORML's own rule).
Variance: a second batch per step, about three backward passes.

Reference: B. Yan, C. Seto, N. Apostoloff, FORML: Learning to Reweight Data
for Fairness, arXiv 2202.01719, 2022.
"""

import torch
from torch import Tensor
from torch.nn.attention import SDPBackend, sdpa_kernel

from trainers.distributed import all_sum
from trainers.estimators.base import Batch
from trainers.estimators.spo import spo_plus_table
from trainers.estimators.surrogate import SlotSurrogate


class FairnessReweighting(SlotSurrogate):
    name = "forml"
    needs_held_out = True
    needs_model = True
    weighs_agents = False

    def table(self, forecast: Tensor, truth: Tensor, batch: Batch) -> Tensor:
        return spo_plus_table(forecast, truth)

    def agent_weighting(self, mean: Tensor, batch: Batch, cbar: Tensor) -> Tensor:
        # FORML's weights are its own; the weighing's running estimate is kept current so that a checkpoint holds
        # each agent's mean regret as every estimator's does
        self.weighing(cbar, batch.global_size)
        parameters = [p for p in self.model.parameters() if p.requires_grad]
        held = batch.held_out
        with sdpa_kernel(SDPBackend.MATH):  # the look-ahead differentiates twice: attention's math kernel can
            fairness = self.objective.value(self.agent_losses(self.model(held.inputs)[0], held))
            looked = self.model(batch.inputs)[0]
        fair_grad = [all_sum(g) for g in torch.autograd.grad(fairness, parameters, allow_unused=True, materialize_grads=True)]
        eps = torch.zeros(self.population.num_agents, dtype=torch.float64, device=mean.device, requires_grad=True)
        inner = torch.autograd.grad((eps * self.agent_losses(looked, batch)).sum(), parameters, create_graph=True,
                                    allow_unused=True, materialize_grads=True)
        alignment = torch.autograd.grad(sum((a * g.detach()).sum() for a, g in zip(inner, fair_grad)), eps)[0]
        alignment = all_sum(alignment.detach()).clamp_min(0.0)
        total = alignment.sum()
        return alignment / total if total > 0 else torch.full_like(alignment, 1.0 / len(alignment))
