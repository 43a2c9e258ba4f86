"""The Equitable Objective: the one place where q enters.

For each agent m, Cbar_m is its mean regret over a batch (or a split). The
paper's Eq. 2 aggregates them as

    L_q = sum_m Cbar_m^(q+1)                               (form "paper")

and its (q+1)-th root, scaled to a mean, has the same minimiser and the scale
of one agent's regret for every q:

    P_q = (mean_m Cbar_m^(q+1))^(1/(q+1))                  (form "power_mean")

q = 0 gives the total (paper) or mean (power_mean) regret; a larger q weighs
the worse-served agents more, and the power mean's limit q = inf is the
largest Cbar (min-max), its gradient on the worst-served agent. Powers are
taken after dividing by the largest Cbar, in float64, so the power mean is
finite and differentiable for every q in [0, inf]. The paper's form is finite
while max Cbar^(q+1) is below float64's 1.8e308; past that (q + 1 = 40 with a
largest Cbar above 4e7, q + 1 = 1000 above 2.1) it is refused with a
ValueError naming the values rather than returned as inf, and q = inf is
refused in that form (:func:`eq_gym.choices.check_q`).

Each agent's Cbar on a batch is the weighted mean of :func:`mean_regret`, and
the weights of L_q can come from :class:`RunningMeanRegret` instead of one
batch.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
from torch import Tensor

from eq_gym.choices import MEMORY, REWARD_FORMS, check_q


@dataclass(frozen=True)
class WindowWeights:
    """Window weights rho (M, B) in factored form: rho_{m,i} = per_hour[m, hour[i]].

    Attributes:
        per_hour: rho of a window starting at each local hour, (M, 24).
        hour: local hour each window starts at, (B,) int64.
    """

    per_hour: Tensor
    hour: Tensor

    def dense(self) -> Tensor:
        """rho, (M, B)."""
        return self.per_hour[:, self.hour]

    def windows(self, index: slice | Tensor) -> WindowWeights:
        """The weights of a subset of the windows."""
        return WindowWeights(self.per_hour, self.hour[index])


def weighted(regret: Tensor, weight: WindowWeights | None) -> Tensor:
    """rho * C for regret (M, ..., B) (None: rho = 1), broadcast over the middle axes."""
    if weight is None:
        return regret
    dense = weight.dense()
    return regret * dense.view((dense.shape[0],) + (1,) * (regret.dim() - 2) + (dense.shape[1],)).to(regret.dtype)


def regret_sum(regret: Tensor, weight: WindowWeights | None) -> Tensor:
    """sum of rho * C over the windows (and samples) of regret (M, ..., B), (M,).

    With weights, the windows are summed per local hour first and then weighed, so rho (M, B) is
    never built: at M = 10,000 and B = 1,024 that halves a step. On the CPU the sum per hour adds
    each window's row of the window-major regret (:meth:`~eq_gym.agents.population.Population.regret`)
    into its hour's, a quarter of a one-hot matmul's time there; elsewhere it is that matmul, as
    index_add_ adds with atomics on a GPU and would not repeat a run bit for bit.
    """
    flat = regret if regret.dim() == 2 else regret.sum(dim=tuple(range(1, regret.dim() - 1)))  # (M, B)
    if weight is None:
        return flat.sum(dim=1)
    hours = weight.per_hour.shape[1]
    if flat.device.type == "cpu":
        by_hour = flat.new_zeros((hours, flat.shape[0])).index_add_(0, weight.hour, flat.T).T
    else:
        by_hour = flat @ torch.nn.functional.one_hot(weight.hour, hours).to(flat.dtype)
    return (by_hour * weight.per_hour.to(flat.dtype)).sum(dim=1)


def mean_regret(regret: Tensor, weight: WindowWeights | None) -> Tensor:
    """Cbar (M,): the mean of rho * C over the windows (and samples) of regret (M, ..., B)."""
    return regret_sum(regret, weight) / (regret[0].numel())


def _scaled(agent_regret: Tensor) -> tuple[Tensor, Tensor]:
    """Cbar in float64 and its largest entry (detached, >= tiny), for stable powers."""
    values = agent_regret.double()
    top = values.detach().amax(dim=-1, keepdim=True).clamp_min(torch.finfo(torch.float64).tiny)
    return values, top


def equitable_objective(agent_regret: Tensor, q: float, form: str = "paper") -> Tensor:
    """L_q (form "paper") or P_q (form "power_mean") of mean regrets (..., M), float64 (...)."""
    _check(q, form)
    return _refused_if_overflowing(_objective(agent_regret, q, form), q, form, agent_regret)


def _refused_if_overflowing(value: Tensor, q: float, form: str, agent_regret: Tensor) -> Tensor:
    if form == "paper":
        _refuse_overflow(value, "L_q", q, agent_regret)
    return value


def objective_for_info(agent_regret: Tensor, q: float) -> tuple[float, str]:
    """L_q of Cbar (M,) and its form: the paper's where float64 holds it, else (q = inf, or a huge q) the power
    mean, which is finite for every q; the paper form computed once."""
    if math.isfinite(q):
        paper = _objective(agent_regret.detach(), q, "paper")
        if torch.isfinite(paper).all():
            return float(paper), "paper"
    return float(_objective(agent_regret.detach(), q, "power_mean")), "power_mean"


def _check(q: float, form: str) -> None:
    if form not in REWARD_FORMS:
        raise ValueError(f"form={form!r} is not known; use one of {REWARD_FORMS}")
    check_q(q, form)


def _refuse_overflow(value: Tensor, what: str, q: float, agent_regret: Tensor) -> None:
    """A ValueError naming the values where the paper form's ``what`` overflowed float64."""
    if not torch.isfinite(value).all():
        raise ValueError(
            f"the paper-form {what} at q={q:g} overflows float64 (largest mean regret "
            f"{float(agent_regret.detach().double().max()):.4g}, to the power {q + 1:g}); use the power-mean form or a smaller q"
        )


def _objective(agent_regret: Tensor, q: float, form: str) -> Tensor:
    """L_q or P_q of checked ``q`` and ``form``."""
    values, top = _scaled(agent_regret)
    if math.isinf(q):
        return values.amax(dim=-1)  # its gradient is split evenly among tied largest entries
    power = q + 1.0
    ratio = (values / top) ** power
    if form == "paper":
        return (top.squeeze(-1) ** power) * ratio.sum(dim=-1)
    return top.squeeze(-1) * ratio.mean(dim=-1) ** (1.0 / power)


def agent_weights(agent_regret: Tensor, q: float, form: str = "paper") -> Tensor:
    """d objective / d Cbar_m, (..., M) float64: how much each agent's regret counts.

    "paper": (q+1) * Cbar_m^q. "power_mean": (Cbar_m / P_q)^q / M, which sums
    to 1 over the agents when all regrets are equal; at q = inf, 1 on the
    largest Cbar (split evenly among ties).
    """
    _check(q, form)
    return _weights(agent_regret, q, form)


def _weights(agent_regret: Tensor, q: float, form: str) -> Tensor:
    """:func:`agent_weights` of checked ``q`` and ``form``."""
    values, top = _scaled(agent_regret)
    if math.isinf(q):
        largest = (values >= top).double()
        return largest / largest.sum(dim=-1, keepdim=True)
    if form == "paper":
        weights = (q + 1.0) * top**q * (values / top) ** q
        _refuse_overflow(weights, "weights (q+1) Cbar^q", q, agent_regret)
        return weights
    mean_power = _objective(values, q, "power_mean").clamp_min(torch.finfo(torch.float64).tiny)
    return (values / mean_power.unsqueeze(-1)) ** q / values.shape[-1]


def mse_weight(num_agents: int, form: str = "paper") -> float:
    """Factor of the MSE in the combined objective: paper A.5 sums each agent's MSE
    (M times the shared forecast's MSE); the power-mean form keeps one agent's scale."""
    return float(num_agents) if form == "paper" else 1.0


def combined_objective(agent_regret: Tensor, mse: Tensor, q: float, beta: float, form: str = "paper") -> Tensor:
    """(1 - beta) * L_q + beta * L_f (paper Eq. 36), float64; beta = 0 gives L_q alone."""
    return Objective(q, form, beta).combined(agent_regret, mse)


@dataclass(frozen=True)
class Objective:
    """What a public model is trained on: (1 - beta) L_q + beta L_f in a form, checked once, when made.

    The env, an estimator and its agents' weighing share one; their steps then compute without checking again.
    """

    q: float
    form: str = "power_mean"
    beta: float = 0.0

    def __post_init__(self) -> None:
        _check(self.q, self.form)
        if not 0.0 <= self.beta <= 1.0:
            raise ValueError(f"beta={self.beta} is not allowed; use a number in [0, 1]")

    def value(self, agent_regret: Tensor) -> Tensor:
        """L_q or P_q of mean regrets (..., M), float64 (...); the paper form refuses an overflow by its values."""
        return _refused_if_overflowing(_objective(agent_regret, self.q, self.form), self.q, self.form, agent_regret)

    def combined(self, agent_regret: Tensor, mse: Tensor) -> Tensor:
        """(1 - beta) L_q + beta L_f, float64."""
        weight = mse_weight(agent_regret.shape[-1], self.form)
        return (1.0 - self.beta) * self.value(agent_regret) + self.beta * weight * mse.double()

    def weights(self, agent_regret: Tensor) -> Tensor:
        """d L_q / d Cbar_m, (..., M) float64 (:func:`agent_weights`)."""
        return _weights(agent_regret, self.q, self.form)

    def mse_weight(self, num_agents: int) -> float:
        """The MSE's factor in :meth:`combined` (:func:`mse_weight`)."""
        return mse_weight(num_agents, self.form)

    def toward_weights(self, log_weight: Tensor, log_cbar: Tensor, step: float) -> Tensor:
        """One step of log-weights (M,) toward L_q's own weighting, w proportional to Cbar^q, normalised
        (logsumexp 0): at rate min(1, step / q) toward q log Cbar; at q = inf up by step * log Cbar (group-DRO
        on the log-regrets); at q = 0 unchanged (uniform stays uniform)."""
        if math.isinf(self.q):
            log_weight = log_weight + step * log_cbar
        elif self.q > 0:
            rate = min(1.0, step / self.q)
            log_weight = (1.0 - rate) * log_weight + rate * self.q * log_cbar
        return log_weight - log_weight.logsumexp(dim=-1)


class RunningMeanRegret:
    """Each agent's mean regret over past batches, for the weights of L_q.

    The paper's Eq. 2 raises each agent's mean over its whole data set to the
    power q + 1, so the weight of agent m in the gradient, dL/dCbar_m, belongs
    to that mean. One batch's own Cbar is a noisy plug-in: at q + 1 = 20 a 10 %
    error in it moves (q+1) Cbar^q by a factor 6. This keeps an exponential
    average over batches instead, forgetting with a memory of ``memory``
    windows (decay exp(-B / memory) per batch of B windows, so the memory does not
    depend on the batch size), bias-corrected as Adam's moments are.

    Update rule: :meth:`update` returns the estimate *before* the batch (the
    first batch's own Cbar on the first call), then folds the batch in. The
    weights are then independent of the batch they weigh, so a gradient built
    from them is unbiased for sum_m w_m grad E[Cbar_m] at those w.

    Bias traded for variance: the estimate lags the model by about ``memory``
    windows (it averages regrets of recent, slightly older models), while its
    variance is about B / (2 memory) of one batch's.
    """

    def __init__(self, memory: float = MEMORY) -> None:
        if isinstance(memory, bool) or not isinstance(memory, (int, float)) or not 0 < memory < math.inf:
            raise ValueError(f"memory={memory!r} is not allowed; use a positive, finite number of windows (default {MEMORY:g})")
        self.memory = float(memory)
        self.value: Tensor | None = None
        self.mass = 0.0

    @property
    def estimate(self) -> Tensor | None:
        """The current estimate of each agent's mean regret (M,) float64, or None before any batch."""
        return None if self.value is None else self.value / self.mass

    def update(self, batch_mean: Tensor, windows: int) -> Tensor:
        """The estimate before this batch (its own ``batch_mean`` if none), then fold the batch in."""
        current = batch_mean.detach().double()
        if self.value is not None:  # a resumed estimate is loaded on the CPU: follow the batch's device
            self.value = self.value.to(current.device)
        before = current if self.value is None else self.estimate
        decay = math.exp(-windows / self.memory)
        previous = torch.zeros_like(current) if self.value is None else self.value
        self.value = decay * previous + (1.0 - decay) * current
        self.mass = decay * self.mass + (1.0 - decay)
        return before

    def state_dict(self) -> dict:
        return {"memory": self.memory, "value": self.value, "mass": self.mass}

    def load_state_dict(self, state: dict) -> None:
        self.memory, self.value, self.mass = state["memory"], state["value"], state["mass"]
