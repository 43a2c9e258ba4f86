"""Wall time, measured the one way every speed figure is: a median over repeats after a warm-up."""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable


def median_seconds(fn: Callable[[], object], repeats: int, warmup: int = 2) -> float:
    """Median wall time of ``fn()`` over ``repeats`` calls, after ``warmup`` calls."""
    for _ in range(warmup):
        fn()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def update_seconds(config, repeats: int) -> float:
    """Median wall time of one training update of ``config`` (a TrainConfig) on its first batch, on this
    process's threads: forecast, estimate, backward and Adam, as ``eqpm train`` runs them."""
    from trainers.loop import set_up, train_step

    run = set_up(config, resume=False)
    run.stream.start_epoch(0)
    batch = run.stream.batch(0)
    return median_seconds(lambda: train_step(run.model, run.estimator, run.optimizer, batch), repeats)
