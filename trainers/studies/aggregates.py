"""The leaderboard's statistics across envs: two normalised scores per run, aggregated over env x seed.

**Scores.** Each run gives two: its test mean regret and its worst-served
tenth's regret (``worst10``). Each is normalised against the env's best
reference forecaster (a model that needs no training: WattTime's forecast on
DC, ``persistence_daily`` elsewhere), on the same split and context draws::

    score = 1 - regret / reference's regret

so 1 is zero regret (every agent served as by the truth), 0 is the
reference, and below 0 worse than it. Regrets differ in scale between envs
(per-unit prices of chargers, shares of a data centre's bill); the ratio to a
model every user can run makes them comparable, and zero regret is the one
fixed point that needs no choice. (PyEPO's normalised regret divides by the
optimal cost instead; the agents here have costs of different kinds, and a
reference of the same kind as the models is what a user compares against.)

**Aggregates** (Agarwal et al., NeurIPS 2021, through ``rliable``, the
``[rliable]`` extra): the interquartile mean (IQM), mean, median and
optimality gap (the mean shortfall below a score of 1) of each algorithm's
runs, with 95 % stratified-bootstrap intervals (runs resampled within each
env); the probability that a run of one algorithm scores higher than a run of
another (probability of improvement), with its interval; and performance
profiles (the share of runs scoring above each threshold). Without rliable
the same point estimates come with a percentile bootstrap over the pooled
runs (not stratified), and the table says so.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from trainers.studies import intervals

SCORES = ("mean", "worst10")
"""The metrics each run is scored on."""
AGGREGATES = ("iqm", "mean", "median", "optimality_gap")
"""Each a statistic of :mod:`trainers.studies.intervals` over the pooled runs."""


def normalised_score(regret: float, reference: float) -> float:
    """1 at zero regret, 0 at the reference's regret (both > 0 for the reference)."""
    if not reference > 0:
        raise ValueError(f"reference regret {reference} is not > 0: no scale to normalise by")
    return 1.0 - regret / reference


def have_rliable() -> bool:
    """True when the ``[rliable]`` extra is installed."""
    import importlib.util

    return importlib.util.find_spec("rliable") is not None


def score_matrices(rows: list[dict[str, Any]], score: str) -> dict[str, np.ndarray]:
    """Each algorithm's normalised ``score`` as a (seeds, envs) matrix, from tidy run rows (``runs.csv``'s).

    An algorithm enters only with the same number of seeds on every env the rows hold, so that each
    column is one env (a stratum); the others are left out of the aggregates (their per-env rows remain)."""
    envs = sorted({r["env"] for r in rows})
    matrices = {}
    for algo in dict.fromkeys(r["algo"] for r in rows):
        columns = [[normalised_score(r[score], r[f"reference_{score}"]) for r in sorted(rows, key=lambda r: r["seed"])
                    if r["algo"] == algo and r["env"] == env] for env in envs]
        if len({len(c) for c in columns}) == 1 and columns[0]:
            matrices[algo] = np.array(columns, dtype=float).T
    return matrices


def _aggregate_all(scores: np.ndarray) -> np.ndarray:
    """Every aggregate of a (seeds, envs) matrix, its runs pooled."""
    return np.array([float(intervals.STATISTICS[name](scores, axis=None)) for name in AGGREGATES])


def interval_estimates(matrices: dict[str, np.ndarray]) -> dict[str, dict[str, tuple[float, float, float]]]:
    """algo -> aggregate -> (point, low, high): rliable's stratified bootstrap, else a pooled percentile bootstrap."""
    if not matrices:
        return {}
    if have_rliable():
        points, bounds = _rliable_estimates(matrices, _aggregate_all)
    else:  # the pooled runs' percentile bootstrap, each aggregate on its own
        return {algo: {name: intervals.bootstrap_interval(np.ravel(m), name) for name in AGGREGATES} for algo, m in matrices.items()}
    return {algo: {name: (float(points[algo][i]), float(bounds[algo][0][i]), float(bounds[algo][1][i]))
                   for i, name in enumerate(AGGREGATES)} for algo in matrices}


def _rliable_estimates(score_dict: dict[str, Any], function: Any) -> tuple[dict, dict]:
    """rliable's stratified percentile bootstrap, seeded. Its bootstrap (arch's) also draws from numpy's global
    random state whatever ``random_state`` says (measured: the same call gave other intervals after other
    draws), so that state is seeded for the call and put back after it: the same runs give the same
    intervals in any process. (arch's notice that seeding by a RandomState is deprecated is rliable's call,
    not ours, and is silenced.)"""
    import warnings

    from rliable import library as rly

    saved = np.random.get_state()
    np.random.seed(intervals.SEED)
    try:
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", message="random_state is deprecated", category=FutureWarning)
            return rly.get_interval_estimates(score_dict, function, reps=intervals.RESAMPLES,
                                              confidence_interval_size=intervals.CONFIDENCE,
                                              random_state=np.random.RandomState(intervals.SEED))
    finally:
        np.random.set_state(saved)


def probability_of_improvement(matrices: dict[str, np.ndarray], baseline: str) -> dict[str, tuple[float, float, float]]:
    """algo -> (point, low, high): P(a run of algo scores higher than a run of ``baseline``), ties counted half,
    averaged over envs (Agarwal et al.); rliable's stratified bootstrap interval, else the point alone."""
    if baseline not in matrices:
        return {}
    others = {algo: m for algo, m in matrices.items() if algo != baseline}
    result = {}
    for algo, scores in others.items():
        point = improvement(scores, matrices[baseline])
        low = high = float("nan")
        if have_rliable():
            _, interval = _rliable_estimates({"pair": (scores, matrices[baseline])}, lambda x, y: np.array([improvement(x, y)]))
            low, high = float(interval["pair"][0][0]), float(interval["pair"][1][0])
        result[algo] = (point, low, high)
    return result


def improvement(x: np.ndarray, y: np.ndarray) -> float:
    """P(X > Y) + P(X = Y) / 2 between the runs of x and y (seeds, envs), each env on its own, then averaged."""
    per_env = [np.mean((x[:, e][:, None] > y[:, e][None, :]) + 0.5 * (x[:, e][:, None] == y[:, e][None, :]))
               for e in range(x.shape[1])]
    return float(np.mean(per_env))


def performance_profile(matrices: dict[str, np.ndarray], thresholds: np.ndarray) -> dict[str, np.ndarray]:
    """algo -> share of its runs whose score exceeds each threshold, (T,)."""
    return {algo: np.array([np.mean(m > t) for t in thresholds]) for algo, m in matrices.items()}


def difference(a: tuple[float, float, float], b: tuple[float, float, float], higher_is_better: bool = True) -> str:
    """"better", "worse" or "no call (intervals overlap)": a against b, from their 95 % intervals."""
    if a[1] > b[2]:
        return "better" if higher_is_better else "worse"
    if a[2] < b[1]:
        return "worse" if higher_is_better else "better"
    return "no call (intervals overlap)"


def figures(matrices_by_score: dict[str, dict[str, np.ndarray]], improvements: dict[str, dict[str, tuple]], out: Path) -> list[Path]:
    """``profile.png`` (one panel per score) and ``improvement.png`` (over the Plain PM, one panel per score)."""
    from trainers.studies.figures import pyplot

    plt = pyplot()
    written = []
    lowest = min(float(m.min()) for matrices in matrices_by_score.values() for m in matrices.values())
    thresholds = np.linspace(max(np.floor(lowest), -3.0), 1.0, 81)  # every run's score, outliers below -3 aside
    figure, axes = plt.subplots(1, len(matrices_by_score), figsize=(5.2 * len(matrices_by_score), 3.8), squeeze=False)
    for axis, (score, matrices) in zip(axes[0], matrices_by_score.items()):
        for algo, profile in performance_profile(matrices, thresholds).items():
            axis.plot(thresholds, profile, label=algo)
        axis.set_xlabel(f"normalised {score} score τ (1: zero regret, 0: best reference)")
        axis.set_ylabel("share of runs scoring above τ")
        axis.set_title(f"Performance profile, {score}")
        axis.legend(fontsize=7)
    figure.tight_layout()
    figure.savefig(out / "profile.png", dpi=120)
    plt.close(figure)
    written.append(out / "profile.png")
    figure, axes = plt.subplots(1, len(improvements), figsize=(5.2 * len(improvements), 3.4), squeeze=False)
    for axis, (score, over) in zip(axes[0], improvements.items()):
        names = list(over)
        points = [over[n][0] for n in names]
        errors = np.array([[over[n][0] - over[n][1], over[n][2] - over[n][0]] for n in names]).T
        axis.errorbar(points, range(len(names)), xerr=None if np.isnan(errors).any() else errors, fmt="o")
        axis.axvline(0.5, color="grey", linestyle="--")
        axis.set_yticks(range(len(names)), names)
        axis.set_xlim(0, 1)
        axis.set_xlabel("P(run scores higher than a Plain PM run)")
        axis.set_title(f"Probability of improvement, {score}")
    figure.tight_layout()
    figure.savefig(out / "improvement.png", dpi=120)
    plt.close(figure)
    written.append(out / "improvement.png")
    return written
