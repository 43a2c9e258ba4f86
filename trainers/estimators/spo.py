"""spo -- SPO+: the convex surrogate of decision regret for a linear objective.

Idea: a charger's cost is linear in the signal for a fixed choice of slots,
y . x, minimised over the choices of k slots x. SPO+ (Elmachtoub and Grigas,
2022) bounds the regret of acting on the forecast f by

    l(f, y) = max_x (y - 2 f) . x + 2 f . x*(y) - y . x*(y)
            = -min_x (2 f - y) . x + 2 f . x*(y) - z*(y)  >=  regret(f, y),

convex in f, with subgradient 2 (x*(y) - x*(2 f - y)). For k slots the
minimum over choices is the sum of the k smallest entries of 2 f - y, so one
sort and a prefix sum give l for every k at once (the regret's own trick), and
each agent picks its k with one gather; per unit rate, or per kWh.

Each agent's SPO+ is averaged over its own windows and weighted by w_m from
past batches (:class:`WeightedSurrogate`); smooth agents in the
population (data centres on Mixed) train through their regret, as ``diff``.
Bias: SPO+ is a surrogate, Fisher-consistent for the regret when the
conditional distribution of y is continuous and symmetric about its mean;
its minimiser need not be the regret's. Variance: none from sampling.
Pair it with EV and Mixed.

Reference: A. N. Elmachtoub, P. Grigas, Smart "Predict, then Optimize",
Management Science 68(1), 2022.
"""

from torch import Tensor

from trainers.estimators.base import Batch
from trainers.estimators.surrogate import SlotSurrogate, cost_of_true_best, with_zero_row


def spo_plus_table(forecast: Tensor, truth: Tensor) -> Tensor:
    """SPO+ per unit rate of charging in k slots, for every k: (H + 1, B), from forecast and truth (B, H)."""
    relaxed = (2.0 * forecast - truth).sort(dim=1).values.cumsum(dim=1)  # min over k-choices of (2f - y) . x
    best = truth.sort(dim=1).values.cumsum(dim=1)  # z*(y)
    return with_zero_row(-relaxed + 2.0 * cost_of_true_best(forecast, truth) - best)


class SPOPlus(SlotSurrogate):
    name = "spo"

    def table(self, forecast: Tensor, truth: Tensor, batch: Batch) -> Tensor:
        return spo_plus_table(forecast, truth)
