"""Tianshou on the EquitablePM envs: the batched env and the window view as Tianshou vector envs.

    from tianshou.data import Collector
    from eq_gym.tianshou import tianshou_env

    batched = tianshou_env("EquitablePM-EV-v0", batch_size=64)   # one env: a step is a (B, L, F) batch
    windows = tianshou_env("EquitablePM-EV-v0", num_envs=64)     # 64 envs: a window each, one-step episodes

The batched env is Tianshou's ``DummyVectorEnv`` over ``gym.make(env_id)``.
The window view steps all its windows in one call of the batched env, while
Tianshou's vector envs step one worker at a time: here each window is a
worker that holds its action until every window has one, then the first to be
asked for its result steps the view for all (:class:`WindowWorker`). Tianshou
steps every ready env together and resets every finished one, so the
Collector drives the view as it is made to be driven; stepping a subset of the
windows is refused. A reset without a seed keeps the windows the view has
already moved on to (the sub-envs reset in the same step), so the Collector
sees the view's own order. Each window's info is a dict of its own row of the
view's info (``agent_regret`` (M,), ``window_weight`` (M,), ``target`` (H,), ...).
Tianshou's policies clip their actions to [-1, 1] unless made with
``action_bound_method=None`` (actions in signal units) or
``action_scaling=True`` (actions in [-1, 1] mapped onto the forecast Box).
Needs the ``tianshou`` extra: ``pip install -c constraints.txt -e ".[tianshou]"``.
"""

from __future__ import annotations

from typing import Any

import gymnasium as gym
import numpy as np
from tianshou.env import BaseVectorEnv, DummyVectorEnv
from tianshou.env.worker import EnvWorker

from eq_gym.envs.windows import WindowVectorEnv


class SharedView:
    """The window view and the round of actions its windows' workers are filling."""

    def __init__(self, view: WindowVectorEnv) -> None:
        self.view = view
        self.actions = np.zeros(view.action_space.shape, np.float32)
        self.pending: set[int] = set()
        self.result: tuple | None = None
        self.started = False

    def act(self, index: int, action: np.ndarray) -> None:
        self.result = None  # a new round
        self.actions[index] = action
        self.pending.add(index)

    def step_result(self, index: int) -> tuple:
        if self.result is None:
            if len(self.pending) != self.view.num_envs:
                raise ValueError(f"{len(self.pending)} of the {self.view.num_envs} windows acted; the window view "
                                 "steps all its windows together: step every env of the Tianshou vector env at once")
            self.result, self.pending = self.view.step(self.actions), set()
        observation, reward, terminated, truncated, info = self.result
        acted = info["final_info"]  # Tianshou resets finished envs itself: a transition carries the acted window's info
        row = {key: value[index] for key, value in acted.items() if not key.startswith("_")}
        return observation[index], reward[index], terminated[index], truncated[index], row

    def reset_result(self, index: int, seed: int | None) -> tuple[np.ndarray, dict]:
        if seed is not None or not self.started:
            self.view.reset(seed=seed)
            self.started = True
        observation, times = self.view.current()
        return observation[index], {key: value[index] for key, value in times.items() if not key.startswith("_")}


class WindowWorker(EnvWorker):
    """One window of a shared window view, as a Tianshou worker (see the module docstring)."""

    def __init__(self, shared: SharedView, index: int) -> None:
        self.shared, self.index = shared, index
        super().__init__(lambda: None)

    def get_env_attr(self, key: str) -> Any:
        view = self.shared.view
        spaces = {"action_space": view.single_action_space, "observation_space": view.single_observation_space}
        return spaces[key] if key in spaces else getattr(view, key)

    def set_env_attr(self, key: str, value: Any) -> None:
        setattr(self.shared.view, key, value)

    def send(self, action: np.ndarray | None, **kwargs: Any) -> None:
        if action is None:
            self.result = self.shared.reset_result(self.index, kwargs.get("seed"))
        else:
            self.shared.act(self.index, action)
            self.result = None

    def recv(self) -> Any:
        return self.result if self.result is not None else self.shared.step_result(self.index)

    def reset(self, **kwargs: Any) -> tuple[np.ndarray, dict]:
        return self.shared.reset_result(self.index, kwargs.get("seed"))

    @staticmethod
    def wait(workers: list[WindowWorker], wait_num: int, timeout: float | None = None) -> list[WindowWorker]:
        return workers

    def seed(self, seed: int | None = None) -> list[int] | None:
        if self.index == 0 and seed is not None:
            self.shared.reset_result(0, seed)
        return super().seed(seed)

    def render(self, **kwargs: Any) -> Any:
        raise NotImplementedError("the EquitablePM envs do not render")

    def close_env(self) -> None:
        if self.index == 0:
            self.shared.view.close()


def tianshou_env(env_id: str, num_envs: int | None = None, **kwargs: Any) -> BaseVectorEnv:
    """A Tianshou vector env: one batched env (``num_envs`` None; ``kwargs`` to ``gym.make``) or the window view
    of ``num_envs`` windows, a worker each (``kwargs`` to ``gym.make_vec``)."""
    if num_envs is None:
        return DummyVectorEnv([lambda: gym.make(env_id, **kwargs)])
    view = gym.make_vec(env_id, num_envs=num_envs, vectorization_mode="vector_entry_point", **kwargs)
    shared = SharedView(view.unwrapped)
    return BaseVectorEnv([lambda index=index: index for index in range(num_envs)],
                         lambda index: WindowWorker(shared, index()))
