"""The allowed values of every keyword, in one place: the envs, the tasks, the trainers' config, the
``eqpm`` command's flags and the tests read them from here. Plain Python, so ``eqpm --help`` stays fast."""

from __future__ import annotations

import math

SPLITS = ("train", "test")
AGENT_KINDS = ("similar", "different")
LAMBDA_KINDS = ("same", "different")
TIMINGS = ("own", "shared")
PRIORITIES = ("own", "shared")
REGRETS = ("per_unit", "absolute")
REGIONS = ("SCE", "PGE")
FEATURES = {"ahead": 24, "calendar": 24, "paper": 12}
"""Past hours in each input window, L, per ``features`` ("paper": the paper's sequence length)."""
REWARD_FORMS = ("power_mean", "paper")
TASK_KEYWORDS = {
    "agents": AGENT_KINDS, "lambdas": LAMBDA_KINDS, "num_agents": None, "region": REGIONS, "timing": TIMINGS,
    "features": tuple(FEATURES), "priorities": PRIORITIES, "regret": REGRETS,
}
"""The keywords that shape a built-in env's task, and their allowed values (None: a positive integer)."""
MAX_Q = 39.0
"""Largest q accepted: q + 1 = 40, the paper's largest."""


def check_q(q: object) -> float:
    """q as a float in [0, MAX_Q]; else a ValueError naming it."""
    if isinstance(q, bool) or not isinstance(q, (int, float)) or not math.isfinite(q) or not 0 <= q <= MAX_Q:
        raise ValueError(
            f"q={q!r} is not allowed; use a number in [0, {MAX_Q:g}] (q + 1 is the paper's column, up to "
            f"{MAX_Q + 1:g} there). Beyond it the paper's L_q = sum Cbar^(q+1) soon overflows float64, and the power "
            "mean is already within a few percent of the largest Cbar"
        )
    return float(q)
