"""TorchRL on the EquitablePM envs: the batched env and the window view as TorchRL envs.

    from eq_gym.torchrl import torchrl_env

    batched = torchrl_env("EquitablePM-EV-v0", batch_size=64)     # batch_size []: one (B, L, F) observation a step
    windows = torchrl_env("EquitablePM-EV-v0", num_envs=64)       # batch_size [64]: a window per sub-env
    rollout = windows.rollout(3, break_when_any_done=False)       # rollout["next", "reward"]: (64, 3, 1)

The batched env is TorchRL's ``GymWrapper`` around ``gym.make(env_id)``
unchanged. The window view (``gym.make_vec(..., vectorization_mode=
"vector_entry_point")``, one-step episodes, same-step autoreset, every info
value numeric) can be wrapped raw too: ``GymWrapper(gym.make_vec(...))``
passes ``check_env_specs`` and rolls out (tested); TorchRL reads the info
keys that the top level names (``time_index``, the raw view's after a reset
and a step) and takes a finished sub-env's values from ``final_info``, so a
transition's ``("next", "time_index")`` is the acted windows'. ``torchrl_env``
adds two adjustments, for what TorchRL does rather than what it can hold. TorchRL
resets the finished sub-envs after every step, and a reset without a seed
starts a new shuffled pass of the raw view, so each step's windows would be
the first of a fresh shuffle (windows drawn with replacement); here such a
reset keeps the windows the view has already moved on to, so a rollout sees
the windows in the view's own order (one shuffled pass, then the next). And
it names every key of the acted windows' info on the step's top level, so
that TorchRL keeps them all.

Every key of the acted windows' info (``agent_regret``, ``window_weight``,
``agent_weights``, ``target``, ``time_index``, ``objective``, ``clipped``) is
in the rollout under ``"next"``; ``task.start_time(time_index)`` gives the UTC times. Needs the
``torchrl`` extra: ``pip install -c constraints.txt -e ".[torchrl]"``.
"""

from __future__ import annotations

from typing import Any

import gymnasium as gym
from torchrl.envs import EnvBase, GymWrapper


class TorchRLWindows(gym.vector.VectorWrapper):
    """The window view whose unseeded resets keep its order of windows (see the module docstring)."""

    def __init__(self, env: gym.vector.VectorEnv) -> None:
        super().__init__(env)
        self.autoreset_mode = env.autoreset_mode
        self._started = False

    def reset(self, *, seed: int | None = None, options: dict[str, Any] | None = None):
        """A reset with a seed or options starts a pass; one without, as TorchRL sends after every step, keeps
        the windows the sub-envs already moved on to (they reset in the same step)."""
        if seed is None and options is None and self._started:
            return self.env.unwrapped.current()
        self._started = True
        return self.env.reset(seed=seed, options=options)

    def step(self, actions):
        """The view's step with every key of the acted windows' info (``final_info``) named on the top level:
        TorchRL keeps the keys the top level names, and takes a finished sub-env's values from ``final_info``."""
        observation, reward, terminated, truncated, info = self.env.step(actions)
        return observation, reward, terminated, truncated, info | info["final_info"]


def torchrl_env(env_id: str, num_envs: int | None = None, device: str = "cpu", **kwargs: Any) -> EnvBase:
    """A TorchRL env: the batched env (``num_envs`` None; ``kwargs`` to ``gym.make``) or its window view of
    ``num_envs`` windows (``kwargs`` to ``gym.make_vec``)."""
    if num_envs is None:
        return GymWrapper(gym.make(env_id, **kwargs), device=device)
    windows = gym.make_vec(env_id, num_envs=num_envs, vectorization_mode="vector_entry_point", **kwargs)
    return GymWrapper(TorchRLWindows(windows), device=device)
