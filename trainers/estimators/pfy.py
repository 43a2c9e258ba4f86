"""pfy -- the perturbed Fenchel-Young loss for slot choices.

Idea: smooth the discrete choice of the k cheapest slots by perturbing the
forecast (Berthet et al., 2020). With F(f) = E_Z[min_x (f + sigma Z) . x],
concave and smooth, the Fenchel-Young loss against the best choice under the
truth x*(y) is

    l(f, y) = f . x*(y) - F(f)  >= 0,     grad l = x*(y) - E_Z[x*(f + sigma Z)],

which pushes down the forecast of the truly cheap slots and up that of the
slots the perturbed forecast picks instead. For k slots min_x is the sum of
the k smallest entries, so a sort and a prefix sum per perturbation give l for
every k; F is the mean over ``--samples`` standard normal draws Z from the
run's seeded generator, times ``--perturbation`` sigma (signal units). The
estimate's gradient is exactly that of its own Monte-Carlo loss.

Each agent's loss is averaged over its own windows and weighted by w_m from
past batches (:class:`WeightedSurrogate`); smooth agents train through
their regret. Bias: a surrogate whose minimiser shrinks the forecast's
spread towards sigma's scale; the Monte-Carlo F adds a small bias of order
1/samples. Variance: from the perturbations, shrinking with ``--samples``.
Pair it with EV and Mixed.

Reference: Q. Berthet, M. Blondel, O. Teboul, M. Cuturi, J.-P. Vert, F. Bach,
Learning with Differentiable Perturbed Optimizers, NeurIPS 2020.
"""

from typing import Any, ClassVar

from torch import Tensor

from trainers.estimators.base import Batch
from trainers.estimators.surrogate import SlotSurrogate, cost_of_true_best, with_zero_row


def fenchel_young_table(forecast: Tensor, truth: Tensor, noise: Tensor, sigma: float) -> Tensor:
    """Perturbed Fenchel-Young loss per unit rate for every k: (H + 1, B); noise (S, B, H) standard normal."""
    smoothed = (forecast.unsqueeze(0) + sigma * noise).sort(dim=2).values.cumsum(dim=2).mean(dim=0)  # F(f), (B, H)
    return with_zero_row(cost_of_true_best(forecast, truth) - smoothed)


class PerturbedFenchelYoung(SlotSurrogate):
    name = "pfy"
    settings: ClassVar[dict[str, Any]] = {"samples": 4, "perturbation": 1.0}

    def table(self, forecast: Tensor, truth: Tensor, batch: Batch) -> Tensor:
        return fenchel_young_table(forecast, truth, batch.noise(self.samples).to(forecast.dtype), self.perturbation)
