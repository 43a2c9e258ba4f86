"""diff -- backpropagation through smooth agents (paper Section 3.2, first formula).

The agents' regret is differentiable in the forecast (data centres, Eq. 12), so
the exact gradient of (1 - beta) L_q + beta L_f on the batch follows from the
chain rule through the regret code itself (divided by a running scale of past
batches, see :class:`RunningScale`, to stay finite in float32 at any q). Refused on envs whose agents pick
discrete slots. Unbiased for the batch objective; no sampling variance.
"""

from eq_gym.objective import combined_objective
from trainers.estimators.base import Batch, Estimator, StepResult, global_mean_regret, global_mse


class Differentiable(Estimator):
    name = "diff"
    needs_smooth_agents = True

    def step(self, mean, log_std, batch: Batch) -> StepResult:
        cbar = global_mean_regret(self.population.regret(mean, batch.targets, batch.contexts), batch)
        mse = global_mse(mean, batch.targets, batch.global_size)
        objective = combined_objective(cbar, mse, self.q, self.beta, self.form)
        return StepResult(objective / self.scale(objective), objective.detach(), cbar.detach(), mse.detach())
