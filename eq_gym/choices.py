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
BATCH_SIZE = 128
"""Windows per batch by default: an env step's, a training update's (the paper's), the window view's sub-envs."""
MEMORY = 1280.0
"""Windows the running estimate of each agent's mean regret remembers by default (10 batches)."""

def check_q(q: object, form: str = "power_mean") -> float:
    """q as a float in [0, inf] (inf: the largest Cbar, min-max); the paper form takes finite q only.

    Else a ValueError naming q and what is allowed. Where the paper form's value overflows float64 (a huge q
    and regrets above 1) is refused later, from the values (:func:`eq_gym.objective.equitable_objective`).
    """
    if isinstance(q, bool) or not isinstance(q, (int, float)) or math.isnan(q) or q < 0:
        raise ValueError(f"q={q!r} is not allowed; use a number >= 0, or inf for the largest mean regret (min-max)")
    if math.isinf(q) and form == "paper":
        raise ValueError("q=inf is not allowed in the paper form: sum_m Cbar_m^(q+1) has no finite value there; "
                         "use the power-mean form (reward_form='power_mean' / --form power_mean), whose q = inf is "
                         "the largest Cbar")
    return float(q)
