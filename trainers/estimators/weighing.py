"""How much each agent's regret counts in a step: the weights w_m of sum_m w_m grad Cbar_m.

The gradient of L_q is sum_m w_m grad Cbar_m with w_m = dL/dCbar_m, a function
of every agent's mean regret over the whole data set (paper Eq. 2). A step sees
one batch, so the weights come from an estimate built over past batches, never
from the batch they weigh (so the gradient stays unbiased at those weights).
Three ways, by name (``trainers.estimators.WEIGHINGS``, the ``--weighing`` flag):

- ``running``: w = dL/dCbar at each agent's running mean regret
  (:class:`eq_gym.objective.RunningMeanRegret`, ``memory`` windows). It
  follows the model within about ``memory`` windows; at large q the weights
  are a steep function of a lagged estimate, and where agents conflict they
  swing from one group to the other and back.
- ``multiplicative``: mirror ascent on the weights themselves (group-DRO,
  Sagawa et al. 2020), with an entropy term that ties its fixed point to q:
  exponentiated-gradient ascent with step ``step`` on
  max over w in the simplex of [sum_m w_m log Cbar_m - KL(w || uniform) / q],
  whose maximiser, w proportional to Cbar^q, is the power mean's own
  weighting of the agents (dP_q/dCbar_m is proportional to Cbar_m^q). Each
  batch moves the log-weights as

      log w <- (1 - g) log w + g q log Cbar_m,   g = min(1, step / q),

  normalised to the simplex (:meth:`eq_gym.objective.Objective.toward_weights`, where q enters): an
  average of q log Cbar over about q / step
  batches, so the larger q, the slower and smoother the weights (a running
  mean's weights are a steep function, Cbar^q, of a lagged estimate). q = 0
  gives uniform weights exactly; q = inf is group-DRO on the log-regrets,
  log w <- log w + step log Cbar_m, which concentrates on the worst-served
  (min-max). The weights start uniform, so a run starts as at q = 0 and its
  weights move toward q's as the model learns, rather than at the untrained
  model's Cbar^q; they are scaled to ``running``'s total.
- ``excess``: ``running``'s weights taken at each agent's running regret
  above a reference regret r_m (a reference model's training-split regret:
  ``eqpm train --init RUN``), floored at a thousandth of the mean, so an agent
  whose regret no forecast removes stops absorbing the gradient (in the
  spirit of minimax-Pareto fairness, Martinez et al. 2020). It trains
  P_q(Cbar - r), not P_q(Cbar).

Every weighing sees the global batch's Cbar (all-reduced under torchrun), so
every process holds the same state; :meth:`AgentWeighing.state_dict` goes
into the checkpoint.
"""

from __future__ import annotations

from typing import ClassVar

import torch
from torch import Tensor

from eq_gym.choices import MEMORY
from eq_gym.objective import Objective, RunningMeanRegret

EXCESS_FLOOR = 1e-3
"""``excess`` floors each agent's excess at this share of the agents' mean running regret."""


class AgentWeighing:
    """``running``: dL/dCbar at the running mean; the base of the other weighings."""

    name: ClassVar[str] = "running"

    def __init__(self, objective: Objective, memory: float = MEMORY, step: float = 0.1, reference: Tensor | None = None) -> None:
        self.objective, self.step = objective, step
        self.running = RunningMeanRegret(memory)

    def __call__(self, cbar: Tensor, windows: int) -> Tensor:
        """w (M,) float64 from the batches before this one (this batch's own Cbar on the first); then fold
        ``cbar`` (M,), the mean regret of this global batch of ``windows`` windows, in."""
        return self.objective.weights(self.running.update(cbar, windows))

    def state_dict(self) -> dict:
        return {"running": self.running.state_dict()}

    def load_state_dict(self, state: dict) -> None:
        self.running.load_state_dict(state["running"])


class MultiplicativeWeighing(AgentWeighing):
    name: ClassVar[str] = "multiplicative"

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.log_weight: Tensor | None = None

    def __call__(self, cbar: Tensor, windows: int) -> Tensor:
        estimate = self.running.update(cbar, windows)
        log_cbar = cbar.detach().double().clamp_min(torch.finfo(torch.float64).tiny).log()
        if self.log_weight is None:  # uniform: the run starts as at q = 0 and the weights move toward q's
            self.log_weight = torch.zeros_like(log_cbar)
        self.log_weight = self.log_weight.to(log_cbar.device)
        share = torch.softmax(self.log_weight, dim=-1)
        weights = share * self.objective.weights(estimate).sum()
        self.log_weight = self.objective.toward_weights(self.log_weight, log_cbar, self.step)
        return weights

    def state_dict(self) -> dict:
        return super().state_dict() | {"log_weight": self.log_weight}

    def load_state_dict(self, state: dict) -> None:
        super().load_state_dict(state)
        self.log_weight = state["log_weight"]


class ExcessWeighing(AgentWeighing):
    name: ClassVar[str] = "excess"

    def __init__(self, objective: Objective, memory: float = MEMORY, step: float = 0.1, reference: Tensor | None = None) -> None:
        super().__init__(objective, memory, step)
        if reference is None:
            raise ValueError("weighing='excess' weighs each agent's regret above a reference model's: give --init RUN, "
                             "a finished run (q = 0 or the Plain PM) whose training-split regret is the reference")
        self.reference = reference.detach().double()

    def __call__(self, cbar: Tensor, windows: int) -> Tensor:
        estimate = self.running.update(cbar, windows)
        reference = self.reference.to(estimate.device)
        excess = (estimate - reference).clamp_min(EXCESS_FLOOR * float(estimate.mean()))
        weights = self.objective.weights(excess)
        return weights * self.objective.weights(estimate).sum() / weights.sum()

    def state_dict(self) -> dict:
        return super().state_dict() | {"reference": self.reference}

    def load_state_dict(self, state: dict) -> None:
        super().load_state_dict(state)
        self.reference = state["reference"]

