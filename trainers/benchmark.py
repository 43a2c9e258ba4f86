"""The leaderboard's plugin API at the import path the docs give: ``from trainers.benchmark import
BenchmarkRun, algorithm``. The leaderboard itself is a study: :mod:`trainers.studies.leaderboard`."""

from trainers.studies.leaderboard import BATCH, BenchmarkRun, algorithm, benchmark

__all__ = ["BATCH", "BenchmarkRun", "algorithm", "benchmark"]
