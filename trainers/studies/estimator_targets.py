"""Do the estimators realise the Equitable Objective on EV?

``eqpm bench estimator-targets`` trains on ``EquitablePM-EV-v0`` with "different" agents and the env's defaults
otherwise (own hours, calendar features, per-unit regret), over seeds: the
Plain PM (``mse``), and ``rloo`` and ``spo`` at q = 0 and q + 1 = 20 (plus any
other estimators asked for), each for the same number of updates. Prints
every run's test metrics (mean ± std over seeds) next to the Plain PM and the
``persistence_daily`` forecaster, then checks the targets:

- at q = 0, ``rloo`` and ``spo`` each reach a lower test mean regret than the
  Plain PM and than persistence_daily;
- from q = 0 to q + 1 = 20, for ``rloo`` and ``spo``: normalised entropy up and
  (C95-C5) / mean down, each by more than the sum of the two seeds' stds;
- ``rloo`` within 15 % of ``spo``'s mean regret at q = 0;
- updates each needs to reach persistence_daily's mean regret (the first
  epoch's end at which the test mean regret is at or below it; median over
  seeds; "-" if never);

and, for each estimator, what q + 1 = 20 does against q = 0 and the Plain PM
(levels up, trade, levels down or within noise: :mod:`trainers.studies.levelling`)
and whether each model scores best on its own objective on the training split.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from trainers.config import TrainConfig
from trainers.estimators import MODULES, SCORE_TERMS, foreign_settings
from trainers.evaluate import evaluate_forecaster
from trainers.studies.levelling import q_comparison_lines
from trainers.studies.report import PLAIN, machine
from trainers.studies.study import Finished, Flag, Study
from trainers.studies.sweep import over_seeds, updates_to_level

ENV = "EquitablePM-EV-v0"
ENV_KWARGS = {"agents": "different"}
STATS = ("mean", "worst10", "entropy", "spread", "mse")


def configs(algos: tuple[str, ...], seeds: int, epochs: int, out: Path, **model: Any) -> list[TrainConfig]:
    """The Plain PM, then each algo at q = 0 and q + 1 = 20, over the seeds (``model``: other config fields,
    an estimator's own settings given only to the estimators that take them)."""
    grid = [(PLAIN, 0.0)] + [(algo, q) for algo in algos for q in (0.0, 19.0)]
    return [
        TrainConfig(env=ENV, algo=algo, q=q, epochs=epochs, seed=seed, progress=False, recipe="paper", **ENV_KWARGS,
                    **{k: v for k, v in model.items() if k not in foreign_settings(algo)},
                    out=out / f"{algo}-q+1={q + 1:g}-epochs={epochs}-seed={seed}")
        for algo, q in grid for seed in range(seeds)
    ]


def grid(algos: tuple[str, ...], seeds: int, epochs: int, out: Path, fields: dict[str, Any]) -> list[list[TrainConfig]]:
    return [configs(algos, seeds, epochs, out, **fields)]


def point(config: TrainConfig) -> tuple[str, float]:
    return config.algo, config.q


def analyse(groups: dict[tuple[str, float], list[Finished]], algos: tuple[str, ...], seeds: int, epochs: int, out: Path,
            fields: dict[str, Any]) -> dict[str, Any]:
    """The rows per (algo, q) beside persistence_daily, the levelling and the target checks."""
    reference = evaluate_forecaster("persistence_daily", ENV, env_kwargs=ENV_KWARGS)
    level = reference["mean"]
    rows = [{"algo": "persistence_daily", "q+1": "-", "seeds": 1, "updates_to_level": 0,
             **over_seeds([{**reference, "spread": reference["c95_c5"] / reference["mean"]}], STATS)}]
    grouped = {key: [run.record for run in finished] for key, finished in groups.items()}
    for (algo, q), records in grouped.items():
        rows.append({"algo": algo, "q+1": "-" if algo == PLAIN else f"{q + 1:g}", "seeds": len(records),
                     "updates_to_level": updates_to_level(records, level),
                     **over_seeds([{**r, "spread": r["c95_c5"] / r["mean"]} for r in records], STATS)})
    levels = []
    for algo in algos:
        levels += q_comparison_lines({q: grouped[(algo, q)] for q in (0.0, 19.0)}, grouped[(PLAIN, 0.0)],
                                     {"persistence_daily": reference}, prefix=f"{algo}, ")
    return {"rows": rows, "checks": checks(rows, algos), "level": level, "levelling": levels}


def checks(rows: list[dict[str, Any]], algos: tuple[str, ...]) -> dict[str, bool]:
    """The issue's targets, judged from the rows."""
    by = {(r["algo"], r["q+1"]): r for r in rows}
    plain, reference = by[(PLAIN, "-")], by[("persistence_daily", "-")]
    result = {}
    for algo in algos:
        low, high = by[(algo, "1")], by[(algo, "20")]
        result[f"{algo}, q = 0: lower mean regret than the Plain PM and persistence_daily"] = \
            low["mean"] < plain["mean"] and low["mean"] < reference["mean"]
        result[f"{algo}, q = 0 -> q + 1 = 20: entropy up beyond the seeds' spread"] = \
            high["entropy"] - low["entropy"] > high["entropy_std"] + low["entropy_std"]
        result[f"{algo}, q = 0 -> q + 1 = 20: (C95-C5)/mean down beyond the seeds' spread"] = \
            low["spread"] - high["spread"] > high["spread_std"] + low["spread_std"]
    if {"rloo", "spo"} <= set(algos):
        result["rloo within 15 % of spo's mean regret at q = 0"] = by[("rloo", "1")]["mean"] <= 1.15 * by[("spo", "1")]["mean"]
    return result


def report_lines(result: dict[str, Any]) -> list[str]:
    lines = [f"Estimators on {ENV}, agents 'different', env defaults; test split, mean ± std over seeds; on {machine()}",
             f"{'algo':<18} {'q+1':>4} {'mean':>17} {'worst10':>17} {'entropy':>19} {'(C95-C5)/mean':>17} {'updates to persistence':>24}"]
    for r in result["rows"]:
        cell = lambda k, f: f"{r[k]:{f}} ± {r[k + '_std']:{f}}"  # noqa: E731
        reached = "-" if r["updates_to_level"] is None else f"{r['updates_to_level']:g}"
        lines.append(f"{r['algo']:<18} {r['q+1']:>4} {cell('mean', '.4f'):>17} {cell('worst10', '.4f'):>17} "
                     f"{cell('entropy', '.5f'):>19} {cell('spread', '.4f'):>17} {reached:>24}")
    lines += [f"  {'holds' if holds else 'does not hold'}: {claim}" for claim, holds in result["checks"].items()]
    return [*lines, "", *result["levelling"]]


STUDY = Study(
    flags=(Flag("algos", ("rloo", "spo"), "the estimators to train at q = 0 and q + 1 = 20", many=True, choices=tuple(MODULES)),
           Flag("score", None, "rloo's score term for slot-choosing agents", kind=str, choices=SCORE_TERMS, run_field=True),
           Flag("epochs", 8, "epochs of each run"),
           Flag("seeds", 3, "seeds per run")),
    grid=grid, key=point, analyse=analyse, report=report_lines, out="runs/bench-estimators",
)
