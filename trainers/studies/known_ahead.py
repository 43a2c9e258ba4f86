"""Does knowing what is public ahead serve the agents better?

``eqpm bench known-ahead`` trains on ``EquitablePM-EV-v0`` with the env's defaults ("different" agents on
their own hours, paying under their own priorities) at q = 0, over seeds, the
Plain PM (``mse``) and ``spo``, each with the known-ahead inputs
(``features="ahead"``: the day-ahead price where it was published before the
window starts, the typical year's water term and the clock of the 12
forecast hours) and without them (``features="calendar"``: the past 24 hours
and their clock), for the same number of updates. Prints the test mean regret
and the worst-served tenth's (mean ± std over seeds) beside
persistence_daily, and checks that each model with the inputs beats the same
model without them on both, and beats persistence_daily.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from trainers.config import TrainConfig
from trainers.estimators import MODULES
from trainers.evaluate import evaluate_forecaster
from trainers.studies.report import machine
from trainers.studies.study import Finished, Flag, Study
from trainers.studies.sweep import over_seeds

ENV = "EquitablePM-EV-v0"
FEATURES = ("ahead", "calendar")
STATS = ("mean", "worst10", "mse")


def configs(algos: tuple[str, ...], seeds: int, epochs: int, out: Path, **fields: Any) -> list[TrainConfig]:
    """Each algo at q = 0 with and without the known-ahead inputs, over the seeds (``fields``: other TrainConfig
    fields of every run)."""
    return [
        TrainConfig(env=ENV, algo=algo, q=0.0, epochs=epochs, seed=seed, features=features, progress=False, recipe="paper",
                    **fields,
                    out=out / f"{algo}-{features}-epochs={epochs}-seed={seed}")
        for algo in algos for features in FEATURES for seed in range(seeds)
    ]


def grid(algos: tuple[str, ...], seeds: int, epochs: int, out: Path, fields: dict[str, Any]) -> list[list[TrainConfig]]:
    return [configs(algos, seeds, epochs, out, **fields)]


def point(config: TrainConfig) -> tuple[str, str]:
    return config.algo, config.features


def analyse(groups: dict[tuple[str, str], list[Finished]], algos: tuple[str, ...], **_: Any) -> dict[str, Any]:
    """One row per (algo, features) beside persistence_daily, and the checks."""
    reference = evaluate_forecaster("persistence_daily", ENV)
    rows = [{"algo": "persistence_daily", "features": "-", "seeds": 1, **over_seeds([reference], STATS)}]
    for (algo, features), finished in groups.items():
        rows.append({"algo": algo, "features": features, "seeds": len(finished),
                     **over_seeds([run.record for run in finished], STATS)})
    by = {(r["algo"], r["features"]): r for r in rows}
    checks = {}
    for algo in algos:
        ahead, calendar = by[(algo, "ahead")], by[(algo, "calendar")]
        for stat, title in (("mean", "mean regret"), ("worst10", "worst-served tenth's regret")):
            checks[f"{algo}: known-ahead inputs lower the {title}"] = ahead[stat] < calendar[stat]
            checks[f"{algo} with known-ahead inputs: lower {title} than persistence_daily"] = ahead[stat] < reference[stat]
    return {"rows": rows, "checks": checks}


def report_lines(result: dict[str, Any]) -> list[str]:
    lines = [f"Known-ahead inputs on {ENV}, env defaults, q = 0; test split, mean ± std over seeds; on {machine()}",
             f"{'algo':<18} {'features':<9} {'seeds':>5} {'mean':>17} {'worst10':>17} {'mse':>17}"]
    for r in result["rows"]:
        cell = lambda k: f"{r[k]:.4f} ± {r[k + '_std']:.4f}"  # noqa: E731
        lines.append(f"{r['algo']:<18} {r['features']:<9} {r['seeds']:>5} {cell('mean'):>17} {cell('worst10'):>17} {cell('mse'):>17}")
    return lines + [f"  {'holds' if holds else 'does not hold'}: {claim}" for claim, holds in result["checks"].items()]


STUDY = Study(
    flags=(Flag("algos", ("mse", "spo"), "the algorithms to train with and without the inputs", many=True,
                choices=tuple(MODULES)),
           Flag("epochs", 3, "epochs of each run"),
           Flag("seeds", 3, "seeds per run")),
    grid=grid, key=point, analyse=analyse, report=report_lines, out="runs/bench-ahead",
)
