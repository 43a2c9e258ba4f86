"""95 % bootstrap intervals over seeds (or agents), from ``scipy.stats.bootstrap``.

Percentile intervals: with 3 seeds the bias-corrected (BCa) interval is not
defined, and the percentile interval of the mean of 3 values is what a reader
can check by hand. The resampling generator is seeded, so a summary is the
same every time it is written. Within one env (one task), the stratified
bootstrap of rliable reduces to this plain bootstrap over seeds.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np
from scipy import stats

CONFIDENCE = 0.95
RESAMPLES = 2000
SEED = 0


def interquartile_mean(values: np.ndarray, axis: int = -1) -> np.ndarray:
    """Mean of the middle half of ``values`` along ``axis`` (25 % trimmed from each end), as rliable's IQM."""
    return stats.trim_mean(values, 0.25, axis=axis)


def optimality_gap(values: np.ndarray, axis: int | None = -1) -> np.ndarray:
    """Mean shortfall below a normalised score of 1 along ``axis`` (scores above 1 count as 1), as rliable's."""
    return np.mean(1.0 - np.minimum(values, 1.0), axis=axis)


STATISTICS: dict[str, Callable[..., np.ndarray]] = {"mean": np.mean, "iqm": interquartile_mean, "median": np.median,
                                                    "optimality_gap": optimality_gap}


def bootstrap_interval(values: Sequence[float], statistic: str = "mean") -> tuple[float, float, float]:
    """(point, low, high): ``statistic`` of ``values`` and its 95 % percentile-bootstrap interval.

    One value, or values all equal, give a zero-width interval at the value.
    """
    if statistic not in STATISTICS:
        raise ValueError(f"statistic {statistic!r} is not known; use one of {tuple(STATISTICS)}")
    sample = np.asarray(values, dtype=float)
    if sample.ndim != 1 or sample.size == 0:
        raise ValueError(f"bootstrap_interval needs a non-empty 1-D sequence, got shape {sample.shape}")
    function = STATISTICS[statistic]
    point = float(function(sample, axis=-1))
    if sample.size == 1 or np.ptp(sample) == 0.0:
        return point, point, point
    result = stats.bootstrap((sample,), function, n_resamples=RESAMPLES, confidence_level=CONFIDENCE,
                             method="percentile", vectorized=True, rng=np.random.default_rng(SEED))
    return point, float(result.confidence_interval.low), float(result.confidence_interval.high)


def difference_interval(values: Sequence[float], base: Sequence[float]) -> tuple[float, float, float]:
    """(change, low, high): mean(values) - mean(base) and its 95 % percentile-bootstrap interval, each group
    of seeds resampled apart (different models trained with the same seeds are not paired draws)."""
    sample, other = np.asarray(values, dtype=float), np.asarray(base, dtype=float)
    if sample.size == 0 or other.size == 0:
        raise ValueError("difference_interval needs values in both groups")
    point = float(sample.mean() - other.mean())
    if np.ptp(sample) == 0.0 and np.ptp(other) == 0.0:
        return point, point, point
    if min(sample.size, other.size) == 1:  # one side is one run: only the other is resampled
        return bootstrap_interval(sample - other[0] if other.size == 1 else sample[0] - other)
    result = stats.bootstrap((sample, other), lambda a, b, axis: np.mean(a, axis=axis) - np.mean(b, axis=axis),
                             n_resamples=RESAMPLES, confidence_level=CONFIDENCE, method="percentile", vectorized=True,
                             rng=np.random.default_rng(SEED))
    return point, float(result.confidence_interval.low), float(result.confidence_interval.high)
