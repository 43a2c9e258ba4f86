"""diff -- backpropagation through smooth agents (paper Section 3.2, first formula).

The agents' regret is differentiable in the forecast (data centres, Eq. 12), so
the gradient of L_q follows from the chain rule through the regret code
itself: sum_m w_m grad Cbar_m, with w_m from past batches (``--weighing``,
:mod:`trainers.estimators.weighing`), and the loss divided by a running
scale so it stays O(1) at any q.

Bias: the weights lag the model (exact at q = 0, where every agent weighs
the same). Variance: no sampling; the weights average many batches instead
of following one batch's worst agent.
Refused on envs whose agents pick discrete slots.
"""

from trainers.estimators.base import Batch
from trainers.estimators.surrogate import WeightedSurrogate


class Differentiable(WeightedSurrogate):
    name = "diff"
    needs_smooth_agents = True

    def surrogate(self, mean, batch: Batch):
        return self.population.regret(mean, batch.targets, batch.contexts)

    def batch_regret(self, mean, batch: Batch, losses):
        return losses.detach()  # the surrogate is the regret: no second evaluation
