"""mse -- the Plain PM: accuracy only.

Minimises the mean squared error of the mean forecast; the agents' regret is
computed for logging only. The reference every Equitable PM is compared with.
"""

import torch

from trainers.estimators.base import Batch, Estimator, StepResult, global_mean_regret, global_mse


class MSE(Estimator):
    name = "mse"
    weighs_agents = False

    def step(self, mean, log_std, batch: Batch) -> StepResult:
        mse = global_mse(mean, batch.targets, batch.global_size)
        with torch.no_grad():
            cbar = global_mean_regret(self.population.regret(mean, batch.targets, batch.contexts), batch)
        return StepResult(mse, mse.detach().double(), cbar, mse.detach())

    def split_objective(self, agent_regret, mse):
        """The MSE alone: the Plain PM's objective."""
        return mse.double()
