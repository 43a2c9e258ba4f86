"""The leaderboard's plugin API at the import path the docs give: ``from trainers.benchmark import
BenchmarkRun, algorithm``. The leaderboard itself is a study: :mod:`trainers.studies.leaderboard`."""

from trainers.studies.leaderboard.board import benchmark
from trainers.studies.leaderboard.plugins import BATCH, BenchmarkRun, algorithm

__all__ = ["BATCH", "BenchmarkRun", "algorithm", "benchmark"]
