"""Stable-Baselines3 on the window view: an SB3 ``VecEnv`` whose sub-envs are the windows.

    from stable_baselines3 import PPO
    from stable_baselines3.common.vec_env import VecNormalize
    from eq_gym.sb3 import window_vec_env

    venv = VecNormalize(window_vec_env("EquitablePM-EV-v0", num_envs=64, q=19.0), norm_reward=False)
    model = PPO("MlpPolicy", venv, seed=0).learn(100_000)

Each SB3 sub-env is one window of the window view (``eq_gym.envs.windows``):
observation (L, F), action (H,), reward minus the window's credit, every episode
one step long (``dones`` all True, ``infos[i]["terminal_observation"]`` the window
acted on, as SB3's own vector envs report it). So SB3's PPO and A2C learn
per-window policies with per-window credit, the chain rule of L_q.

Actions: SB3's Gaussian policies act on a symmetric box, so the adapter's
action space is [-1, 1]^H, mapped linearly onto the env's forecast Box
(``forecast = low + (action + 1) / 2 * (high - low)``, after clipping to [-1, 1]);
:func:`to_forecast` gives the same map for evaluation. Observations are the
env's own; wrap the adapter in SB3's ``VecNormalize`` to standardise them.
Needs the ``sb3`` extra: ``pip install -c constraints.txt -e ".[sb3]"``.
"""

from __future__ import annotations

from typing import Any

import gymnasium as gym
import numpy as np
from gymnasium import spaces
from stable_baselines3.common.vec_env.base_vec_env import VecEnv, VecEnvIndices

from eq_gym.envs.windows import WindowVectorEnv


class WindowVecEnv(VecEnv):
    """An SB3 VecEnv over a :class:`~eq_gym.envs.windows.WindowVectorEnv` (one sub-env per window)."""

    def __init__(self, envs: WindowVectorEnv) -> None:
        self.envs = envs
        box = envs.single_action_space
        self.low, self.high = box.low.astype(np.float32), box.high.astype(np.float32)
        action_space = spaces.Box(-1.0, 1.0, box.shape, np.float32)
        super().__init__(envs.num_envs, envs.single_observation_space, action_space)
        self._actions: np.ndarray | None = None

    def to_forecast(self, actions: np.ndarray) -> np.ndarray:
        """Actions in [-1, 1] (clipped) -> forecasts in the env's Box, (..., H)."""
        return self.low + (np.clip(actions, -1.0, 1.0) + 1.0) / 2.0 * (self.high - self.low)

    def reset(self) -> np.ndarray:
        observation, _ = self.envs.reset(seed=self._seeds[0], options=self._options[0] or None)
        self._reset_seeds()
        self._reset_options()
        return observation

    def step_async(self, actions: np.ndarray) -> None:
        self._actions = np.asarray(actions, dtype=np.float32).reshape(self.num_envs, -1)

    def step_wait(self):
        observation, reward, terminated, truncated, info = self.envs.step(self.to_forecast(self._actions))
        infos = [{"terminal_observation": info["final_obs"][i], "TimeLimit.truncated": bool(truncated[i])}
                 for i in range(self.num_envs)]
        return observation, reward.astype(np.float32), terminated | truncated, infos

    def close(self) -> None:
        self.envs.close()

    def get_attr(self, attr_name: str, indices: VecEnvIndices = None) -> list[Any]:
        """The batched env's attribute, once per sub-env (they share one env)."""
        return [getattr(self.envs.env, attr_name)] * len(list(self._get_indices(indices)))

    def set_attr(self, attr_name: str, value: Any, indices: VecEnvIndices = None) -> None:
        setattr(self.envs.env, attr_name, value)

    def env_method(self, method_name: str, *method_args, indices: VecEnvIndices = None, **method_kwargs) -> list[Any]:
        result = getattr(self.envs.env, method_name)(*method_args, **method_kwargs)
        return [result] * len(list(self._get_indices(indices)))

    def env_is_wrapped(self, wrapper_class: type[gym.Wrapper], indices: VecEnvIndices = None) -> list[bool]:
        return [False] * len(list(self._get_indices(indices)))


def window_vec_env(env_id: str, num_envs: int = 64, **kwargs: Any) -> WindowVecEnv:
    """``gym.make_vec(env_id, num_envs, vectorization_mode="vector_entry_point", **kwargs)`` as an SB3 VecEnv."""
    return WindowVecEnv(gym.make_vec(env_id, num_envs=num_envs, vectorization_mode="vector_entry_point", **kwargs))
