"""Equity and accuracy metrics of a public model (paper Section 5, Eq. 7).

All take the per-agent mean regret over a whole split, Cbar (M,).
"""

from __future__ import annotations

import numpy as np

METRIC_TITLES = {
    "variance": "Variance", "mean": "Mean", "c95_c5": "C95-C5", "worst10": "Worst 10 %", "mse": "MSE", "entropy": "Entropy",
}
"""The per-split figures every report shows, in this order (metrics.json, TensorBoard, tables), with their column titles."""
METRIC_NAMES = tuple(METRIC_TITLES)
WORST_SHARE = 0.1
"""``worst10`` averages the worst-served tenth of the agents."""


def normalised_entropy(agent_regret: np.ndarray) -> float:
    """Entropy of the agents' regret shares (paper Eq. 7) divided by log M.

    1 means every agent bears the same share of the total regret; lower values
    mean a less uniform distribution. All-zero regret counts as uniform (1).
    """
    regret = np.asarray(agent_regret, dtype=np.float64)
    total = regret.sum()
    if regret.size < 2 or total <= 0.0:
        return 1.0
    share = regret / total
    positive = share[share > 0]
    return float(-(positive * np.log(positive)).sum() / np.log(regret.size))


def worst_served(agent_regret: np.ndarray, share: float = WORST_SHARE) -> float:
    """Mean regret of the ceil(share * M) agents with the largest regret."""
    regret = np.sort(np.asarray(agent_regret, dtype=np.float64))
    return float(regret[-max(1, int(np.ceil(share * regret.size))) :].mean())


def best_served(agent_regret: np.ndarray, share: float = WORST_SHARE) -> float:
    """Mean regret of the ceil(share * M) agents with the smallest regret."""
    return -worst_served(-np.asarray(agent_regret, dtype=np.float64), share)


def equity_metrics(agent_regret: np.ndarray) -> dict[str, float]:
    """variance (population, ddof 0), mean, c95_c5 (95th minus 5th percentile,
    linear interpolation), worst10 (mean of the worst-served tenth) and the
    normalised entropy of Cbar (M,)."""
    regret = np.asarray(agent_regret, dtype=np.float64)
    return {
        "variance": float(regret.var()),
        "mean": float(regret.mean()),
        "c95_c5": float(np.percentile(regret, 95) - np.percentile(regret, 5)),
        "worst10": worst_served(regret),
        "entropy": normalised_entropy(regret),
    }


def mean_squared_error(forecast: np.ndarray, truth: np.ndarray) -> float:
    """Mean over windows and hours of the squared forecast error (signal units^2)."""
    return float(np.mean((np.asarray(forecast, np.float64) - np.asarray(truth, np.float64)) ** 2))
