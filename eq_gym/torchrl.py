"""TorchRL on the EquitablePM envs: the batched env and the window view as TorchRL envs.

    from eq_gym.torchrl import torchrl_env

    batched = torchrl_env("EquitablePM-EV-v0", batch_size=64)     # batch_size []: one (B, L, F) observation a step
    windows = torchrl_env("EquitablePM-EV-v0", num_envs=64)       # batch_size [64]: a window per sub-env
    rollout = windows.rollout(3, break_when_any_done=False)       # rollout["next", "reward"]: (64, 3, 1)

The batched env is TorchRL's ``GymWrapper`` around ``gym.make(env_id)``
unchanged. The window view (``gym.make_vec(..., vectorization_mode=
"vector_entry_point")``, one-step episodes, same-step autoreset) goes through
``GymWrapper`` with two adjustments, both of what TorchRL can hold, not of the
data:

- TorchRL's vector-env reader fills the final observation of a reset, which
  has none, with zeros, outside the signal's bounds; the observation is
  therefore declared unbounded (the values are the env's own).
- TorchRL resets the finished sub-envs after every step; a reset without a
  seed therefore keeps the windows the view has already moved on to, so a
  rollout sees the windows in the view's own order (a shuffled pass).
- ``info["start_time"]`` (datetime64) is left out: a TensorDict holds no
  datetimes; ``info["time_index"]`` is kept, and the env's
  ``task.start_time(time_index)`` turns it into UTC times.

The view itself gives a step's info also as ``info["final_info"]``, as
Gymnasium's vector envs do under same-step autoreset (and TorchRL reads):
``rollout["next", "agent_regret"]`` is the step's.

Every other info key of a step (``agent_regret``, ``window_weight``,
``agent_weights``, ``target``, ``objective``) is in the rollout. Needs the
``torchrl`` extra: ``pip install -c constraints.txt -e ".[torchrl]"``.
"""

from __future__ import annotations

from typing import Any

import gymnasium as gym
import numpy as np
from torchrl.envs import EnvBase, GymWrapper

LEFT_OUT = ("start_time", "_start_time")


class TorchRLWindows(gym.vector.VectorWrapper):
    """The window view as TorchRL's ``GymWrapper`` can hold it (see the module docstring)."""

    def __init__(self, env: gym.vector.VectorEnv) -> None:
        super().__init__(env)
        shape = env.single_observation_space.shape
        self.single_observation_space = gym.spaces.Box(-np.inf, np.inf, shape, np.float32)
        self.observation_space = gym.vector.utils.batch_space(self.single_observation_space, env.num_envs)
        self.autoreset_mode = env.autoreset_mode
        self._started = False

    @staticmethod
    def _kept(info: dict[str, Any]) -> dict[str, Any]:
        return {key: value for key, value in info.items() if key not in LEFT_OUT}

    def reset(self, *, seed: int | None = None, options: dict[str, Any] | None = None):
        """A reset with a seed or options starts a pass; one without, as TorchRL sends after every step, keeps
        the windows the sub-envs already moved on to (they reset in the same step)."""
        if seed is None and options is None and self._started:
            observation, times = self.env.unwrapped.current()
            return observation, self._kept(times)
        self._started = True
        observation, info = self.env.reset(seed=seed, options=options)
        return observation, self._kept(info)

    def step(self, actions: np.ndarray):
        """The view's step, its info without the datetimes."""
        observation, reward, terminated, truncated, info = self.env.step(actions)
        return observation, reward, terminated, truncated, self._kept(info)


def torchrl_env(env_id: str, num_envs: int | None = None, device: str = "cpu", **kwargs: Any) -> EnvBase:
    """A TorchRL env: the batched env (``num_envs`` None; ``kwargs`` to ``gym.make``) or its window view of
    ``num_envs`` windows (``kwargs`` to ``gym.make_vec``)."""
    if num_envs is None:
        return GymWrapper(gym.make(env_id, **kwargs), device=device)
    windows = gym.make_vec(env_id, num_envs=num_envs, vectorization_mode="vector_entry_point", **kwargs)
    return GymWrapper(TorchRLWindows(windows), device=device)
