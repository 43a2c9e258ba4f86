"""The window view: the same task as a Gymnasium ``VectorEnv`` of one-window sub-envs.

    envs = gym.make_vec("EquitablePM-EV-v0", num_envs=64, vectorization_mode="vector_entry_point")

Each of the B = ``num_envs`` sub-envs sees one window per step: observation
(L, F), action (H,), and its own reward, minus the window's **credit**

    r_i = - sum_m w_m rho_{m,i} C_{m,i},      w_m = dL/dCbar_m at Cbar_hat,

where C_{m,i} is agent m's regret on window i, rho_{m,i} the window's weight in
agent m's mean (1 under ``timing="shared"``; see
:mod:`eq_gym.agents.population`), and Cbar_hat a running estimate of each
agent's mean regret (:class:`eq_gym.objective.RunningMeanRegret`, memory
``memory`` windows; the estimate before the current step, the first step's own
Cbar on the first). ``w`` follows ``reward_form``: ``(Cbar_m / P_q)^q / M`` for
"power_mean" (default; every agent 1/M at q = 0, so a reward is one agent's
scale) and ``(q + 1) Cbar_m^q`` for "paper" (every agent 1 at q = 0).

Why this is the chain rule of L_q: with Cbar = (1/B) sum_i rho_i C_i the step's
mean regrets, L(Cbar) = L(Cbar_hat) + sum_m w_m (Cbar_m - Cbar_hat_m) + O(|Cbar - Cbar_hat|^2),
and sum_i r_i = -B sum_m w_m Cbar_m. So the rewards of a step sum, times -1/B,
to the first-order part of L_q at the running estimate, and each window
gets the share it caused: maximising each sub-env's return follows the
gradient of L_q, which is how per-window policy-gradient learners (PPO, A2C,
REINFORCE of any library) learn the Equitable Objective.

Episodes are one step (a contextual bandit): ``terminated`` is True for every
sub-env at every step, and each sub-env resets in the same step
(``metadata["autoreset_mode"] = AutoresetMode.SAME_STEP``): the observation
returned is the next window's, and ``info["final_obs"]`` holds the window
that was acted on (nothing follows it). Windows come in the batched env's
order for the same seed: a shuffled pass over the split, then another.

``info`` follows Gymnasium's vector envs under same-step autoreset. After a
step, as after ``reset``, its top level describes the observation returned:
``time_index`` (B,), the axis index of the next windows' first forecast hour
(UTC times: ``envs.unwrapped.task.start_time(info["time_index"])``), as the
batched env's ``info["time_index"]`` does. What the step did to the windows
just acted on is the finished episode's info, under ``info["final_info"]``
(and their observation under ``info["final_obs"]``), every array with the
sub-envs first: ``agent_regret`` (B, M) C_{m,i}, ``window_weight`` (B, M)
rho_{m,i}, ``agent_weights`` (B, M) w_m (the same row for every window),
``target`` (B, H), ``time_index`` (B,) of the acted windows, ``objective``
(B,) the step's L_q as the batched env's ``info["objective"]`` (paper form
where float64 holds it, else the power mean; the same for every window), and
``clipped`` (B,) how many of each window's forecast hours were clipped into
the action bounds. Every info value is a numeric array with the sub-envs
first (no datetimes, unlike the batched env's ``start_time``), so any
vector-env client, TorchRL's ``GymWrapper`` included, holds it as it is. The
reward is ``-(f["agent_weights"] * f["window_weight"] * f["agent_regret"]).sum(axis=1)``
with ``f = info["final_info"]``.
"""

from __future__ import annotations

from typing import Any, ClassVar

import numpy as np
import torch
from gymnasium import spaces
from gymnasium.vector import AutoresetMode, VectorEnv

from eq_gym.choices import BATCH_SIZE, MEMORY
from eq_gym.envs.base import ENV_KEYWORDS, EquitableForecastEnv, TooLargeBatch
from eq_gym.envs.dc import DataCentreEnv
from eq_gym.envs.ev import EVChargingEnv
from eq_gym.envs.mixed import MixedAgentsEnv
from eq_gym.objective import RunningMeanRegret
from eq_gym.tasks import positive_int, refuse_unknown, task_keywords


class WindowVectorEnv(VectorEnv):
    """One sub-env per window of a batched EquitablePM env (see the module docstring)."""

    metadata: ClassVar[dict[str, Any]] = {"autoreset_mode": AutoresetMode.SAME_STEP}
    autoreset_mode: ClassVar[AutoresetMode] = AutoresetMode.SAME_STEP
    """As Gymnasium's own vector envs expose it (TorchRL's GymWrapper reads the attribute)."""
    batched: ClassVar[type[EquitableForecastEnv]]

    def __init__(self, num_envs: int = BATCH_SIZE, memory: float = MEMORY, **kwargs: Any) -> None:
        positive_int("num_envs", num_envs)
        allowed = ("num_envs", "memory") + tuple(k for k in ENV_KEYWORDS if k != "batch_size")
        refuse_unknown(kwargs, allowed + task_keywords(self.batched.task_name), f"{type(self).__name__} (the window view)")
        self.running = RunningMeanRegret(memory)
        try:
            self.env = self.batched(batch_size=num_envs, **kwargs)
        except TooLargeBatch as large:
            raise TooLargeBatch(large.size, large.windows, large.split, "num_envs") from None
        self.num_envs = self.env.batch_size
        self.observation_space, self.action_space = self.env.observation_space, self.env.action_space
        box = self.env.observation_space
        self.single_observation_space = spaces.Box(box.low[0], box.high[0], box.shape[1:], np.float32)
        self.single_action_space = spaces.Box(self.env.action_space.low[0], self.env.action_space.high[0],
                                              self.env.action_space.shape[1:], np.float32)

    @property
    def task(self):
        """The task behind the view (windows, agents)."""
        return self.env.task

    def reset(self, *, seed: int | None = None, options: dict[str, Any] | None = None):
        self.env.reset(seed=seed, options=options)
        return self.current()

    def current(self) -> tuple[np.ndarray, dict[str, np.ndarray]]:
        """Observation and info (``time_index``) of the windows the sub-envs are at: what ``reset`` returns,
        and what a library that resets finished sub-envs itself (Tianshou) should see after a step."""
        every = np.ones(self.num_envs, dtype=bool)
        return self.env.current_observation(), {"time_index": self.env.current_times()["time_index"], "_time_index": every}

    def step(self, actions: np.ndarray):
        acted = self.env.current_observation()
        outcome = self.env.act(actions)
        clipped = np.count_nonzero((actions < self.env.action_space.low) | (actions > self.env.action_space.high), axis=1)
        weights = self.env.reward_objective.weights(self.running.update(outcome.agent_regret, self.num_envs))
        own = torch.ones_like(outcome.regret) if outcome.weight is None else outcome.weight.dense().to(outcome.regret.dtype)
        credit = (weights[:, None] * own * outcome.regret).sum(dim=0)
        if self.env.episode_over:  # a pass over the split is done: start the next
            self.env.reset()
        size = self.num_envs
        every = np.ones(size, dtype=bool)
        acted_info = {
            "agent_regret": outcome.regret.T.double().numpy(),
            "window_weight": own.T.double().numpy(),
            "agent_weights": np.broadcast_to(weights.numpy(), (size, len(weights))).copy(),
            "target": outcome.truth.numpy(),
            "time_index": outcome.start,
            "objective": np.full(size, self.env.objective(outcome.agent_regret)[0]),
            "clipped": clipped,
        }
        acted_info |= {f"_{key}": every for key in list(acted_info)}
        observation, info = self.current()
        # as Gymnasium's vector envs under same-step autoreset: the info of the observation returned on top, the
        # finished episode's (the acted windows') under final_info and its observation under final_obs
        info |= {"final_obs": acted, "_final_obs": every.copy(), "final_info": acted_info,
                 "_final_info": every.copy()}
        return observation, -credit.double().numpy(), every.copy(), np.zeros(size, bool), info


class DataCentreWindows(WindowVectorEnv):
    batched = DataCentreEnv


class EVChargingWindows(WindowVectorEnv):
    batched = EVChargingEnv


class MixedAgentsWindows(WindowVectorEnv):
    batched = MixedAgentsEnv
