"""The board's SB3 baselines' hyperparameters per env, in one reviewed file (the RL zoo's convention).

Each value is either fixed by the problem (``FIXED``: every window is a one-step
episode with a continuous action in [-1, 1]^H) or found by the search
``eqpm tune --algo ALGO --env ENV`` (``TUNED``: Optuna's TPE sampler, the space
in :mod:`~trainers.studies.leaderboard.tune`, scored by the training split's mean
regret only, never the test split), rounded to three significant digits. The
comment beside each tuned value of EV gives its search range (the same for every
env); the command, budget and date of each search are in RESULTS.md ("Which
hyperparameters do the board's baselines use?").
"""

from __future__ import annotations

from typing import Any

FIXED: dict[str, dict[str, Any]] = {
    "ppo": {
        "gamma": 0.0,  # one-step episodes: no future to discount; 0 makes it explicit (the value is unused)
        "gae_lambda": 1.0,  # the same: the advantage is the reward minus the value, whatever lambda
        "ent_coef": 0.0,  # exploration is the Gaussian's own width (log_std_init, learned); SB3's default
    },
    "a2c": {
        "gamma": 0.0,
        "gae_lambda": 1.0,
        "ent_coef": 0.0,
    },
    "sac": {
        "gamma": 0.0,  # every transition is terminal, so the critic's target is the reward alone
        "buffer_size": 100_000,  # transitions (windows): the last 40 % of a 256,000-window board run; bounds memory
        "learning_starts": 100,  # steps of 64 windows (6,400 windows) drawn at random first; SB3's default
        "ent_coef": "auto",  # SAC's own entropy tuning; SB3's default
    },
}
"""Values the one-step, continuous-action problem sets, the same on every env."""

TUNED: dict[str, dict[str, dict[str, Any]]] = {
    "ppo": {
        "EquitablePM-EV-v0": {
            "learning_rate": 5.19e-4,  # log-uniform [1e-5, 3e-3]
            "n_steps": 16,  # {8, 16, 32} steps of 64 windows per rollout
            "batch_size": 256,  # {256, 512, 1024} windows per minibatch
            "n_epochs": 5,  # {1, 2, 5} passes over each rollout
            "clip_range": 0.2,  # {0.1, 0.2, 0.3}
            "log_std_init": -0.851,  # uniform [-3, 0]: the initial std of each action in [-1, 1] is exp of this
            "net_arch": [64, 64],  # {[64, 64], [256, 256]}, actor and critic alike
        },
        "EquitablePM-Mixed-v0": {  # searched at the board's whole budget (at a quarter, 1.84e-3, 32, 256, 5, 0.3,
            "learning_rate": 5.19e-4,  # -0.247 ended above persistence_daily, its curve flat from 1,200 updates)
            "n_steps": 16,
            "batch_size": 256,
            "n_epochs": 5,
            "clip_range": 0.2,
            "log_std_init": -0.851,
            "net_arch": [64, 64],
        },
        "EquitablePM-DC-v0": {
            "learning_rate": 1.33e-3,
            "n_steps": 32,
            "batch_size": 1024,
            "n_epochs": 5,
            "clip_range": 0.3,
            "log_std_init": -2.15,
            "net_arch": [64, 64],
        },
    },
    "a2c": {
        "EquitablePM-EV-v0": {
            "learning_rate": 6.02e-4,  # log-uniform [1e-5, 3e-3]
            "n_steps": 2,  # {1, 2, 4, 8} steps of 64 windows per update
            "normalize_advantage": False,  # {False, True}
            "log_std_init": -0.843,  # uniform [-3, 0]
            "net_arch": [64, 64],  # {[64, 64], [256, 256]}
        },
        "EquitablePM-Mixed-v0": {
            "learning_rate": 1.43e-4,
            "n_steps": 1,
            "normalize_advantage": True,
            "log_std_init": -2.06,
            "net_arch": [256, 256],
        },
        "EquitablePM-DC-v0": {
            "learning_rate": 2.03e-3,
            "n_steps": 2,
            "normalize_advantage": True,
            "log_std_init": -1.49,
            "net_arch": [64, 64],
        },
    },
    "sac": {
        "EquitablePM-EV-v0": {
            "learning_rate": 1.12e-3,  # log-uniform [1e-5, 3e-3]
            "batch_size": 512,  # {256, 512} windows per gradient step
            "gradient_steps": 2,  # {1, 2} gradient steps per step of 64 windows
            "net_arch": [256, 256],  # {[64, 64], [256, 256]}
        },
        "EquitablePM-Mixed-v0": {  # EV's values were this search's trial 13: 0.2243 against its best 0.2241
            "learning_rate": 9.54e-4,
            "batch_size": 512,
            "gradient_steps": 2,
            "net_arch": [256, 256],
        },
        "EquitablePM-DC-v0": {  # the range's lowest rate: faster ones scored worse (best 0.0195; PPO 0.00855)
            "learning_rate": 1.01e-5,
            "batch_size": 256,
            "gradient_steps": 1,
            "net_arch": [64, 64],
        },
    },
}
"""The searched values per algorithm and env; an env without its own takes EV's."""

SEARCHES: dict[tuple[str, str], dict[str, int]] = {
    ("ppo", "EquitablePM-EV-v0"): {"trials": 20, "budget": 512},
    ("ppo", "EquitablePM-Mixed-v0"): {"trials": 20, "budget": 2000},
    ("ppo", "EquitablePM-DC-v0"): {"trials": 20, "budget": 512},
    ("a2c", "EquitablePM-EV-v0"): {"trials": 20, "budget": 512},
    ("a2c", "EquitablePM-Mixed-v0"): {"trials": 20, "budget": 512},
    ("a2c", "EquitablePM-DC-v0"): {"trials": 20, "budget": 512},
    ("sac", "EquitablePM-EV-v0"): {"trials": 20, "budget": 512},
    ("sac", "EquitablePM-Mixed-v0"): {"trials": 20, "budget": 512},
    ("sac", "EquitablePM-DC-v0"): {"trials": 20, "budget": 512},
}
"""The search behind each ``TUNED`` entry: ``eqpm tune --algo ALGO --env ENV --trials T --budget B`` (q = 1,
seed 0); ``eqpm tune --all`` runs every one and says whether each finds the values above."""


def hyperparameters(algo: str, env: str) -> dict[str, Any]:
    """SB3 keyword arguments of ``algo`` on ``env`` (``net_arch`` and ``log_std_init`` go to the policy):
    its fixed values and the env's tuned ones (EV's for an env of your own)."""
    if algo not in TUNED:
        raise ValueError(f"algo {algo!r} has no hyperparameters here; use one of {tuple(TUNED)}")
    tuned = TUNED[algo].get(env, TUNED[algo]["EquitablePM-EV-v0"])
    return FIXED[algo] | tuned
