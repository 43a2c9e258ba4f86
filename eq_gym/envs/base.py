"""What every EquitablePM env shares: spaces, seeding, refusals, regret -> reward.

The env is a contextual bandit over batches: an observation holds B windows of
past hours, the action is the forecast of each window, and the reward is minus
the q-aggregated regret of the agents over the batch. Each agent's mean regret
is the weighted mean over the batch's windows of :mod:`eq_gym.agents.population`
(its own hours under ``timing="own"``).

A step's torch work runs on one intra-op thread (the caller's setting is
restored after): its tensors are small, and on a machine that other work
shares more threads slow it many times over (EV step at M = 70, B = 128:
1.4 ms with one thread, 10.4 ms with two, with one other busy process on 2
cores; at M = 10,000, B = 1,024 one thread was no slower either; measured
2026-12-01, CHANGELOG.md).
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, ClassVar

import gymnasium as gym
import numpy as np
import torch
from gymnasium import spaces
from gymnasium.envs.registration import load_env_creator
from torch import Tensor

from eq_gym.agents.population import ContextSampler
from eq_gym.choices import BATCH_SIZE, REWARD_FORMS
from eq_gym.metrics import mean_squared_error
from eq_gym.objective import Objective, WindowWeights, mean_regret, objective_for_info
from eq_gym.tasks import Task, choose, contexts_generator, make_task, positive_int, refuse_unknown, task_keywords

ENV_KEYWORDS = ("q", "batch_size", "reward_form", "render_mode")
"""Keywords every env takes besides its task's."""


@contextmanager
def one_thread() -> Iterator[None]:
    """torch's intra-op threads set to 1 inside the block, the caller's number restored after."""
    threads = torch.get_num_threads()
    if threads == 1:
        yield
        return
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(threads)


@dataclass(frozen=True)
class Outcome:
    """What one batch of forecasts did to the agents.

    Attributes:
        forecast: the clipped forecast, (B, H) float32. truth: (B, H).
        regret: C, (M, B): a view of a buffer the env reuses, valid until its next step (``.clone()`` it to keep it).
        weight: rho (factored), or None when all 1.
        agent_regret: Cbar, (M,): the weighted mean of C over the batch.
        clipped: how many action entries were clipped into the Box.
        start: axis index of each window's first forecast hour, (B,).
    """

    forecast: np.ndarray
    truth: Tensor
    regret: Tensor
    weight: WindowWeights | None
    agent_regret: Tensor
    clipped: int
    start: np.ndarray


class EquitableForecastEnv(gym.Env[np.ndarray, np.ndarray]):
    """Base class of the EquitablePM envs; subclasses name their task and document it."""

    metadata: ClassVar[dict[str, Any]] = {"render_modes": []}
    task_name: ClassVar[str]

    def __init__(
        self,
        q: float = 0.0,
        batch_size: int = BATCH_SIZE,
        reward_form: str = "power_mean",
        render_mode: str | None = None,
        **task_kwargs: Any,
    ) -> None:
        if render_mode is not None:
            raise ValueError(f"render_mode={render_mode!r} is not allowed; these envs do not render (use None)")
        self.reward_objective = Objective(q, choose("reward_form", reward_form, REWARD_FORMS))  # the reward: minus its value
        self.task: Task = self.make_task(**task_kwargs)
        self.batch_size = positive_int("batch_size", batch_size)
        if self.batch_size > self.task.num_windows:
            raise TooLargeBatch(self.batch_size, self.task.num_windows, self.task.split)
        low, high = self.task.signal.bounds
        shape = (self.batch_size, self.task.lookback, self.task.num_features)
        feature_low, feature_high = self.task.feature_bounds()
        observation_low = np.broadcast_to(feature_low, shape).copy()
        observation_high = np.broadcast_to(feature_high, shape).copy()
        self.observation_space = spaces.Box(observation_low, observation_high, shape, np.float32)
        self.action_space = spaces.Box(low, high, (self.batch_size, self.task.horizon), np.float32)
        self.steps_per_episode = self.task.num_windows // self.batch_size
        self._inputs = self.task.windows.inputs
        self._targets = torch.tensor(self.task.windows.targets)
        self._start = torch.tensor(self.task.windows.start)
        self._regret: Tensor | None = None
        self._order: np.ndarray | None = None
        self._contexts: ContextSampler | None = None
        self._step = 0
        if self.reward_form == "paper" and 0 < self.q:
            self._refuse_paper_overflow()

    @property
    def q(self) -> float:
        """The fairness knob q of the reward."""
        return self.reward_objective.q

    @property
    def reward_form(self) -> str:
        """The reward's form of L_q: "power_mean" or "paper"."""
        return self.reward_objective.form

    # --- Gymnasium API ----------------------------------------------------------

    def reset(self, *, seed: int | None = None, options: dict[str, Any] | None = None):
        """Start a shuffled pass over the split. ``options`` must be None or empty: no option changes a pass."""
        if options:
            raise ValueError(f"reset(options={options!r}): these envs take no reset options; every setting is a "
                             "keyword of gym.make (see the env's page), and reset(seed=...) picks the shuffle")
        super().reset(seed=seed)
        self._order = self.np_random.permutation(self.task.num_windows)
        generator = contexts_generator(int(self.np_random.integers(2**62)))
        self._contexts = self.task.population.sampler(self.batch_size, generator)
        self._regret = torch.empty((self.batch_size, self.task.num_agents), dtype=self._targets.dtype)  # C, window-major
        self._step = 0
        return self.current_observation(), self.current_times()

    def step(self, action: np.ndarray):
        outcome = self.act(action)
        objective, objective_form = self.objective(outcome.agent_regret)
        loss = objective if objective_form == self.reward_form else float(self.reward_objective.value(outcome.agent_regret))
        target = outcome.truth.numpy()
        info = {
            "agent_regret": outcome.agent_regret.double().numpy(),
            "target": target,
            "mse": mean_squared_error(outcome.forecast, target),
            "objective": objective,
            "objective_form": objective_form,
            "clipped": outcome.clipped,
            **self.current_times(),
        }
        return self.current_observation(), -loss, self.episode_over, False, info

    def objective(self, agent_regret: torch.Tensor) -> tuple[float, str]:
        """L_q of a batch's Cbar (M,) for ``info``, and its form: the paper's where float64 holds it, else (q = inf,
        or a huge q under the power-mean reward) the power mean, which is finite for every q."""
        return objective_for_info(agent_regret, self.q)

    def act(self, action: Any) -> Outcome:
        """Score ``action`` on the current batch and move to the next: the agents' regret and weights."""
        if self._order is None:
            raise RuntimeError("step() was called before reset(); call env.reset(seed=...) first")
        if self.episode_over:
            raise RuntimeError("the episode is over (terminated=True was returned); call env.reset()")
        forecast, clipped = self._checked(action)
        batch = self._batch()
        with one_thread():
            truth = self._targets[batch]
            draw = self._contexts.draw(self._start[batch])
            regret = self.task.population.regret(torch.from_numpy(forecast), truth, draw.contexts, out=self._regret)
            agent_regret = mean_regret(regret, draw.weight)
        self._step += 1
        return Outcome(forecast, truth, regret, draw.weight, agent_regret, clipped, self.task.windows.start[batch])

    @property
    def episode_over(self) -> bool:
        """True once the pass over the split is done: the next call must be ``reset``."""
        return self._step >= self.steps_per_episode

    @classmethod
    def make_task(cls, **task_kwargs: Any) -> Task:
        """The task this env serves, from its keywords (an env of your own overrides it)."""
        refuse_unknown(task_kwargs, ENV_KEYWORDS + task_keywords(cls.task_name), cls.__name__)
        return make_task(cls.task_name, **task_kwargs)

    # --- helpers ---------------------------------------------------------------

    def _refuse_paper_overflow(self) -> None:
        """Refuse, at make, a q whose paper-form L_q float64 cannot hold at the regrets of an uninformed forecast
        (the training mean of the signal, constant) on the split's first windows: a run would start there."""
        windows = np.arange(self.batch_size)
        start = torch.from_numpy(self.task.windows.start[windows])
        draw = self.task.population.sampler(self.batch_size, contexts_generator(0)).draw(start)
        truth = self._targets[windows]
        with one_thread():
            uninformed = torch.full_like(truth, float(self.task.signal.values[: self.task.signal.cut].mean()))
            cbar = mean_regret(self.task.population.regret(uninformed, truth, draw.contexts), draw.weight).double()
        if objective_for_info(cbar, self.q)[1] == "paper":
            return
        largest = float(cbar.max())
        most = math.log(np.finfo(np.float64).max / len(cbar)) / math.log(largest) - 1.0
        raise ValueError(
            f"reward_form='paper' at q={self.q:g}: sum_m Cbar_m^(q+1) overflows float64 at this task's regrets (an "
            f"uninformed forecast's largest mean regret is {largest:.3g}, to the power {self.q + 1:g}); use "
            f"reward_form='power_mean' (any q, inf included) or q <= {math.floor(most)} in the paper form")

    def _batch(self) -> np.ndarray:
        """Window indices of the current batch (the last one again once the episode is over)."""
        step = min(self._step, self.steps_per_episode - 1)
        return self._order[step * self.batch_size : (step + 1) * self.batch_size]

    def current_times(self) -> dict[str, np.ndarray]:
        """``time_index`` (axis index) and ``start_time`` (UTC) of the next windows' first forecast hour."""
        start = self.task.windows.start[self._batch()]
        return {"time_index": start, "start_time": self.task.start_time(start)}

    def current_observation(self) -> np.ndarray:
        """The windows the next action is for, (B, L, F)."""
        return self._inputs[self._batch()]

    def _checked(self, action: Any) -> tuple[np.ndarray, int]:
        """The action as float32 (B, H), clipped into the Box; refuse bad shapes and NaN/inf."""
        array = np.asarray(action)
        if array.shape != self.action_space.shape:
            raise ValueError(
                f"action has shape {array.shape}; this env needs {self.action_space.shape} "
                "(batch_size, horizon): one forecast per window of the observation"
            )
        if not np.issubdtype(array.dtype, np.number):
            raise ValueError(f"action has dtype {array.dtype}; give a float array")
        bad = ~np.isfinite(array)
        if bad.any():
            where = [tuple(int(i) for i in index) for index in np.argwhere(bad)[:5]]
            raise ValueError(
                f"action has {int(bad.sum())} NaN or inf entries, at (window, hour) {where}"
                f"{' and more' if bad.sum() > 5 else ''}; every forecast must be finite"
            )
        low, high = self.action_space.low, self.action_space.high
        clipped = int(np.count_nonzero((array < low) | (array > high)))
        return np.clip(array, low, high).astype(np.float32), clipped


class TooLargeBatch(ValueError):
    """A batch of more windows than the split has (the window view renames it ``num_envs``)."""

    def __init__(self, size: int, windows: int, split: str, name: str = "batch_size") -> None:
        super().__init__(f"{name}={size} is larger than the {windows} windows of split={split!r}; use at most {windows}")
        self.size, self.windows, self.split = size, windows, split


def task_of(env_id: str, split: str = "train", env_kwargs: dict[str, Any] | None = None) -> Task:
    """The task behind a registered EquitablePM env id (built-in or your own) on ``split``, built without
    making the env: the id's registered keywords, then ``env_kwargs``; the env's own keywords (``q``,
    ``batch_size``, ``reward_form``, ``render_mode``) are left aside, as they do not change the task."""
    if env_id not in gym.registry:
        from eq_gym import ENV_IDS

        raise ValueError(f"env={env_id!r} is not registered; use one of {tuple(ENV_IDS)} or register yours first")
    spec = gym.registry[env_id]
    env_class = load_env_creator(spec.entry_point) if isinstance(spec.entry_point, str) else spec.entry_point
    if not (isinstance(env_class, type) and issubclass(env_class, EquitableForecastEnv)):
        raise ValueError(f"env={env_id!r} is not an EquitablePM env (eq_gym.envs.base.EquitableForecastEnv)")
    keywords = {**spec.kwargs, **(env_kwargs or {}), "split": split}
    return env_class.make_task(**{k: v for k, v in keywords.items() if k not in ENV_KEYWORDS})
