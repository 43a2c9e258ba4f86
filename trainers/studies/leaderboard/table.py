"""runs.csv: one tidy row per finished run of the leaderboard, written and read in this one place."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from trainers.studies.report import write_csv

RUNS_FILE = "runs.csv"
"""The raw data: one tidy row per finished run, from which ``--report-only`` rebuilds every table and figure."""
JSON_COLUMNS = ("env_kwargs", "versions", "history")
"""Columns of runs.csv that hold a JSON value."""


def write_run_table(table: list[dict[str, Any]], out: Path) -> None:
    """The tidy rows as ``OUT/runs.csv`` (JSON in the columns that hold a dict or a list)."""
    out.mkdir(parents=True, exist_ok=True)
    write_csv(out / RUNS_FILE, [row | {k: json.dumps(row[k]) for k in JSON_COLUMNS} for row in table])


def read_run_table(out: Path) -> list[dict[str, Any]]:
    """``OUT/runs.csv`` back as the rows :func:`run_table` made (for ``--report-only``)."""
    import pandas as pd

    path = out / RUNS_FILE
    if not path.is_file():
        raise ValueError(f"--report-only: no {path}; run `eqpm benchmark --out {out}` first")
    table = pd.read_csv(path, float_precision="round_trip").to_dict("records")  # every float exactly as written
    return [row | {k: json.loads(row[k]) for k in JSON_COLUMNS} for row in table]
