"""pg -- the paper's batched REINFORCE (Eq. 3-4, with A.5's Eq. 37 for beta > 0), as written.

One forecast is sampled per window from the Gaussian policy; the batch's
objective L = sum_m [(1 - beta) Cbar_m^(q+1) + beta * MSE] of the samples
multiplies the sum of the log-probabilities over agents and windows:

    grad ~ [sum_m sum_i grad log sigma(y_i | x_i)] * L.

Unbiased for the gradient of the expected batch objective, but with no
baseline and one score for the whole batch its variance grows with the batch,
the number of agents and L itself. Kept for faithful comparison.

Numerics: L is computed in float64 and divided by a running scale of past
batches' L (see :class:`RunningScale`), which keeps the estimate's direction
and makes it finite in float32 at q + 1 = 40.

Reference: Liu et al., Building Socially-Equitable Public Models, ICML 2024.
"""

import torch

from trainers.distributed import all_sum
from trainers.estimators.base import Batch, Estimator, StepResult, global_mean_regret, global_mse
from trainers.policy import log_prob


class PaperPolicyGradient(Estimator):
    name = "pg"
    weighs_agents = False
    stochastic = True

    def step(self, mean, log_std, batch: Batch) -> StepResult:
        sample = (mean + log_std.exp() * batch.noise(1)[0]).detach()
        with torch.no_grad():
            cbar = global_mean_regret(self.population.regret(sample, batch.targets, batch.contexts), batch)
            objective = self.objective.combined(cbar, global_mse(sample, batch.targets, batch.global_size))
            mse = global_mse(mean, batch.targets, batch.global_size)
        score = all_sum(log_prob(mean, log_std, sample).sum()) * self.population.num_agents
        loss = score * (objective / self.scale(objective)).float()
        return StepResult(loss, objective, cbar, mse)
