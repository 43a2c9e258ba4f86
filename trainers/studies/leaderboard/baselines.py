"""The board's standard baselines: Stable-Baselines3's PPO, A2C and SAC on the window view.

Each window is a one-step sub-env (``eq_gym.sb3.window_vec_env``: observation
(L, F), action [-1, 1]^H mapped onto the forecast Box, reward minus the window's
credit), 64 windows a step, observations standardised by SB3's ``VecNormalize``
(rewards left as they are: one-step episodes, and PPO and A2C normalise their
advantages). Each algorithm takes its per-env hyperparameters from
:mod:`~trainers.studies.leaderboard.hyperparameters`; ``eqpm bench tune`` finds
them (:mod:`trainers.studies.tune`). A run sees ``budget * 128`` windows, as
many as every other algorithm on the board.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from trainers.studies.leaderboard.hyperparameters import hyperparameters

WINDOWS_PER_STEP = 64
"""Sub-envs (windows) per step of the window view."""


def stable_baselines3(algo: str) -> Any:
    """The stable_baselines3 module, or a refusal that names the extra to install."""
    try:
        import stable_baselines3
    except ImportError as error:
        raise ValueError(f"algo {algo!r} needs Stable-Baselines3: pip install 'eq-gym[sb3]'") from error
    return stable_baselines3


def within_budget(settings: dict[str, Any], windows: int) -> dict[str, Any]:
    """``settings`` with rollouts that divide ``windows`` (a multiple of 64), so that no on-policy algorithm trains
    past it: ``n_steps`` cut to its largest divisor of the budget's steps (the same for powers of two and the
    board's budgets: 2,000 updates are 4,000 steps of 64), a minibatch no larger than a rollout."""
    if "n_steps" not in settings:
        return settings
    n_steps = math.gcd(settings["n_steps"], windows // WINDOWS_PER_STEP)
    cut = {"n_steps": n_steps} | ({"batch_size": min(settings["batch_size"], n_steps * WINDOWS_PER_STEP)}
                                  if "batch_size" in settings else {})
    return settings | cut


def sb3_model(algo: str, env: str, q: float, seed: int, windows: int, params: dict[str, Any] | None = None,
              ) -> tuple[Any, Any]:
    """An untrained SB3 ``algo`` on the window view of ``env`` at ``q``, to train on ``windows`` windows, and its
    forecaster ``(inputs (B, L, F), start (B,)) -> (B, H)`` (what :func:`trainers.evaluate.evaluate` scores), made
    with ``params`` (default: the board's for the env, :func:`~trainers.studies.leaderboard.hyperparameters.hyperparameters`),
    its rollouts cut to the budget by :func:`within_budget`."""
    import torch

    library = stable_baselines3(algo)
    from stable_baselines3.common.vec_env import VecNormalize

    from eq_gym.sb3 import window_vec_env

    settings = within_budget(dict(hyperparameters(algo, env) if params is None else params), windows)
    policy = {"net_arch": settings.pop("net_arch")} | (
        {"log_std_init": settings.pop("log_std_init")} if "log_std_init" in settings else {})
    adapter = window_vec_env(env, num_envs=WINDOWS_PER_STEP, q=q)
    venv = VecNormalize(adapter, norm_reward=False)
    model = getattr(library, algo.upper())("MlpPolicy", venv, seed=seed, device="cpu", verbose=0, policy_kwargs=policy,
                                           **settings)

    def forecaster(inputs: Any, start: np.ndarray) -> Any:
        action, _ = model.predict(venv.normalize_obs(inputs.numpy()), deterministic=True)  # reads the statistics only
        return torch.from_numpy(adapter.to_forecast(action))

    return model, forecaster
