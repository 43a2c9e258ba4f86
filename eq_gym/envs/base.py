"""What every EquitablePM env shares: spaces, seeding, refusals, regret -> reward.

The env is a contextual bandit over batches: an observation holds B windows of
past hours, the action is the forecast of each window, and the reward is minus
the q-aggregated regret of the agents over the batch.
"""

from __future__ import annotations

from typing import Any, ClassVar

import gymnasium as gym
import numpy as np
import torch
from gymnasium import spaces

from eq_gym.agents.population import ContextSampler
from eq_gym.metrics import mean_squared_error
from eq_gym.objective import REWARD_FORMS, equitable_objective
from eq_gym.tasks import LOOKBACK, Task, choose, contexts_generator, make_task, positive_int


class EquitableForecastEnv(gym.Env[np.ndarray, np.ndarray]):
    """Base class of the EquitablePM envs; subclasses name their task and document it."""

    metadata: ClassVar[dict[str, Any]] = {"render_modes": []}
    task_name: ClassVar[str]

    def __init__(
        self,
        q: float = 0.0,
        batch_size: int = 128,
        reward_form: str = "power_mean",
        render_mode: str | None = None,
        **task_kwargs: Any,
    ) -> None:
        if isinstance(q, bool) or not isinstance(q, (int, float)) or not np.isfinite(q) or q < 0:
            raise ValueError(f"q={q!r} is not allowed; use a finite number >= 0 (q + 1 is the paper's column)")
        if render_mode is not None:
            raise ValueError(f"render_mode={render_mode!r} is not allowed; these envs do not render (use None)")
        self.q = float(q)
        self.reward_form = choose("reward_form", reward_form, REWARD_FORMS)
        self.task: Task = self.make_task(**task_kwargs)
        self.batch_size = positive_int("batch_size", batch_size)
        if self.batch_size > self.task.num_windows:
            raise ValueError(
                f"batch_size={batch_size} is larger than the {self.task.num_windows} windows of "
                f"split={self.task.split!r}; use at most {self.task.num_windows}"
            )
        low, high = self.task.signal.bounds
        self.observation_space = spaces.Box(low, high, (self.batch_size, LOOKBACK, 1), np.float32)
        self.action_space = spaces.Box(low, high, (self.batch_size, self.task.horizon), np.float32)
        self.steps_per_episode = self.task.num_windows // self.batch_size
        self._inputs = self.task.windows.inputs
        self._targets = torch.from_numpy(self.task.windows.targets)
        self._order: np.ndarray | None = None
        self._contexts: ContextSampler | None = None
        self._step = 0

    # --- Gymnasium API ----------------------------------------------------------

    def reset(self, *, seed: int | None = None, options: dict[str, Any] | None = None):
        super().reset(seed=seed)
        self._order = self.np_random.permutation(self.task.num_windows)
        generator = contexts_generator(int(self.np_random.integers(2**62)))
        self._contexts = self.task.population.sampler(self.batch_size, generator)
        self._step = 0
        return self._observation(), {"time_index": self._batch_start()}

    def step(self, action: np.ndarray):
        if self._order is None:
            raise RuntimeError("step() was called before reset(); call env.reset(seed=...) first")
        if self._step >= self.steps_per_episode:
            raise RuntimeError("the episode is over (terminated=True was returned); call env.reset()")
        forecast, clipped = self._checked(action)
        batch = self._batch()
        truth = self._targets[batch]
        contexts = self._contexts.draw()
        agent_regret = self.task.population.regret(torch.from_numpy(forecast), truth, contexts).mean(dim=1)
        objective = float(equitable_objective(agent_regret, self.q, "paper"))
        loss = objective if self.reward_form == "paper" else float(equitable_objective(agent_regret, self.q, self.reward_form))
        self._step += 1
        terminated = self._step >= self.steps_per_episode
        target = truth.numpy()
        info = {
            "agent_regret": agent_regret.double().numpy(),
            "target": target,
            "mse": mean_squared_error(forecast, target),
            "objective": objective,
            "clipped": clipped,
            "time_index": self._batch_start(),
        }
        return self._observation(), -loss, terminated, False, info

    def make_task(self, **task_kwargs: Any) -> Task:
        """The task this env serves, from its keywords (an env of your own overrides it)."""
        return make_task(self.task_name, **task_kwargs)

    # --- helpers ---------------------------------------------------------------

    def _batch(self) -> np.ndarray:
        """Window indices of the current batch (the last one again once the episode is over)."""
        step = min(self._step, self.steps_per_episode - 1)
        return self._order[step * self.batch_size : (step + 1) * self.batch_size]

    def _batch_start(self) -> np.ndarray:
        return self.task.windows.start[self._batch()]

    def _observation(self) -> np.ndarray:
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
