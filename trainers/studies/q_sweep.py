"""Does a q lift the worst-served, and does each model optimise its own objective?

``eqpm bench q-sweep`` trains one estimator on one env (its defaults: agents that want different
things of the forecast) at each q + 1 asked for (default 1, 2, 5, 20, inf)
and the Plain PM (``mse``), over seeds, each for the same epochs; with
``--continuation`` every q > 0 run starts from the same seed's q = 0 model
(``eqpm train --init``) and trains that many epochs more; with ``--chain N``
every point is one run of the equitable learner (``eqpm train --recipe path``:
q rising from 0 through the sweep's q + 1 in rungs of N epochs up to its own,
so all points have the same schedule). Reports, judged on
the final models over the seeds (not on one epoch: the worst tenth moves by
several percent from one epoch to the next):

- each point's test mean, worst-served and best-served tenth's regret, with
  95 % bootstrap intervals, beside the reference forecasters;
- levelling against q = 0 and the Plain PM (:mod:`trainers.studies.levelling`):
  *levels up*, *trade*, *levels down* or *within noise*, and whether another
  point dominates it;
- objective consistency on the training split: each model scored on every
  q's power mean;
- the targets: consistency holds; the q with the lowest worst tenth levels up
  against both q = 0 and the Plain PM with a mean at most 5 % above q = 0's;
  the largest q's worst tenth no higher than q = 0's beyond the interval.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import numpy as np

from eq_gym import ENV_IDS
from eq_gym.envs.base import task_of
from trainers.config import KEEPS, KNOWN_AHEAD, TrainConfig
from trainers.estimators import MODULES, WEIGHING_SETTINGS, WEIGHINGS, foreign_settings
from trainers.evaluate import reference_records
from trainers.studies.hindsight import read_truth
from trainers.studies.levelling import (
    captured_lines,
    consistency,
    levelling,
    q_comparison_lines,
    q_label,
    tenths,
    weight_shares,
    with_q_zero,
)
from trainers.studies.report import PLAIN, machine, markdown_table
from trainers.studies.study import Finished, Flag, Study

Q_PLUS_ONE = (1.0, 2.0, 5.0, 20.0, math.inf)
MEAN_ALLOWANCE = 0.05
"""How much higher than q = 0's a mean regret may be for a point that levels up to meet the target."""


def configs(env: str, algo: str, q_plus_one: tuple[float, ...], seeds: int, epochs: int, out: Path,
            continuation: bool, chain: int = 0, **fields: Any) -> list[list[TrainConfig]]:
    """The runs in stages. Without ``continuation`` or ``chain``: one stage, the Plain PM and each q + 1 over the
    seeds, each one run at its q (``recipe="paper"``). With ``continuation``: first the q = 0 runs every point
    starts from; then every q (q = 0 too, so that all points have had the same updates) trains ``epochs`` more from
    the same seed's start, and the Plain PM trains twice ``epochs``. With ``chain``: one stage, every point one run
    of the equitable learner (``recipe="path"``, :mod:`trainers.loop`): ``epochs`` at q = 0, then a rung of
    ``chain`` epochs per q + 1 above 1 asked for, at min(rung, its own q + 1), so that all points have the same
    updates and the same restarts of the optimiser; the learner's beta and keep unless ``fields`` give them.
    ``fields``: other TrainConfig fields of every run (the weighing's and the estimator's own settings only of the
    estimator's runs)."""
    short = env.removeprefix("EquitablePM-").removesuffix("-v0").lower()
    not_plain = set(WEIGHING_SETTINGS) | foreign_settings(PLAIN) | {"beta"}  # not the Plain PM's: it is the MSE
    rungs = tuple(q1 for q1 in sorted(q_plus_one) if q1 > 1.0)
    recipe = {"recipe": "path", "rung_epochs": chain, "rungs": rungs} if chain else {"recipe": "paper"}

    def config(algo_: str, q1: float, seed: int, epochs_: int = epochs, init: Path | None = None) -> TrainConfig:
        extra = {k: v for k, v in fields.items() if algo_ != PLAIN or k not in not_plain}
        tag = "".join(f"-{k}={v}" for k, v in sorted(extra.items()))
        how = f"-path={chain}x{'+'.join(f'{r:g}' for r in rungs)}" if chain else "-continued" if init else ""
        return TrainConfig(env=env, algo=algo_, q=q1 - 1.0, epochs=epochs_, seed=seed, progress=False, init=init,
                           out=out / f"{short}-{algo_}-q+1={q1:g}{tag}{how}-epochs={epochs_}-seed={seed}",
                           **recipe, **extra)

    if chain:
        return [[config(PLAIN, 1.0, seed) for seed in range(seeds)]
                + [config(algo, q1, seed) for q1 in q_plus_one for seed in range(seeds)]]
    start = [config(algo, 1.0, seed) for seed in range(seeds)] if continuation else []
    plain = [config(PLAIN, 1.0, seed, 2 * epochs if continuation else epochs) for seed in range(seeds)]
    return [start, plain + [config(algo, q1, seed, init=start[seed].out if continuation else None)
                            for q1 in q_plus_one for seed in range(seeds)]]


def prepare(options: dict[str, Any]) -> dict[str, Any]:
    """q = 0 is always a point (every verdict is against it); a run starts from q = 0 or from the q below, not both."""
    options["q_plus_one"] = with_q_zero(tuple(options["q_plus_one"]))
    if options["chain"] < 0 or (options["chain"] and options["continuation"]):
        raise ValueError(f"chain={options['chain']}, continuation={options['continuation']}: give --chain EPOCHS > 0 "
                         "(each q from the q below it) or --continuation (each q from q = 0), not both")
    if options["chain"] and max(options["q_plus_one"]) <= 1.0:
        raise ValueError(f"--chain {options['chain']} with q + 1 = {options['q_plus_one']}: a path needs a q + 1 above 1")
    return options


def grid(env: str, algo: str, q_plus_one: tuple[float, ...], seeds: int, epochs: int, out: Path, continuation: bool,
         chain: int, frontier: Path | None, fields: dict[str, Any]) -> list[list[TrainConfig]]:
    """The stages of :func:`configs`."""
    return configs(env, algo, tuple(q_plus_one), seeds, epochs, out, continuation, chain, **fields)


def point(config: TrainConfig) -> str:
    """A run's point: the Plain PM, or its q + 1."""
    return PLAIN if config.algo == PLAIN else q_label(config.q)


def analyse(groups: dict[str, list[Finished]], env: str, algo: str, q_plus_one: tuple[float, ...], seeds: int, epochs: int,
            out: Path, continuation: bool, chain: int, frontier: Path | None, fields: dict[str, Any]) -> dict[str, Any]:
    """The points, the levelling, the consistency matrix and the target checks; with ``frontier`` (an ``eqpm bench
    frontier --out`` folder of the same env), each q's captured share of the hindsight lift."""
    runs = {label: [run.record for run in finished] for label, finished in groups.items()}
    models = {finished[0].config.q: runs[label] for label, finished in groups.items() if label != PLAIN}
    matrix = consistency(models)
    return {"env": env, "algo": algo, "fields": fields, "continuation": continuation, "chain": chain, "epochs": epochs,
            "seeds": seeds, "kept_start": kept_start(groups),
            "runs": runs, "models": models, "references": reference_records(env), "consistency": matrix,
            "checks": checks(runs, matrix), "truth": read_truth(frontier, env), "groups": group_shares(models)}


def kept_start(groups: dict[str, list[Finished]]) -> dict[str, list[int]]:
    """Per point of the estimator's runs that started from another model under ``--keep best``: [how many gave
    back that start (no epoch's end beat it on the run's own training objective), how many runs]. Under
    ``--chain`` the start is the path's last rung's: the model the rung below gave."""
    counts = {}
    for label, finished in groups.items():
        if label == PLAIN:
            continue
        starts = [gave_back_start(run.record) for run in finished if run.config.keep == "best"
                  and (run.config.init is not None or len(run.config.path) > 1)]
        if starts:
            counts[label] = [sum(starts), len(starts)]
    return counts


def gave_back_start(record: dict) -> bool:
    """Whether a --keep best run gave back the model its last rung started from (a run of one rung: its --init)."""
    rungs = record.get("path", [])
    return record.get("kept_epoch") == sum(rung["epochs"] for rung in rungs[:-1])


def group_shares(models: dict[float, list[dict]]) -> dict[str, Any]:
    """Who each q-trained model serves and whom its objective pushes for, on the training split: per q and group
    of agents (the env's, in agent order), the group's mean regret and its share of P_q's gradient at the model's
    own regrets, each a mean over seeds. Empty without runs that recorded ``train_agent_regret``."""
    runs = [r for q in models for r in models[q] if "train_agent_regret" in r]
    if not runs:
        return {}
    task = task_of(runs[0]["env"], "train", runs[0].get("env_kwargs", {}))
    sizes = [group.num_agents for group in task.population.groups]
    bounds = np.cumsum([0, *sizes])
    result = {"groups": [group.label for group in task.population.groups], "sizes": sizes, "q": {}}
    for q, records in sorted(models.items()):
        regrets = [np.asarray(r["train_agent_regret"], dtype=float) for r in records if "train_agent_regret" in r]
        if not regrets:
            continue
        per_group = lambda values: [float(np.mean([v[a:b] for v in values], axis=0).mean()) for a, b in zip(bounds, bounds[1:])]  # noqa: E731
        shares = [weight_shares(r, q) for r in regrets]
        result["q"][q_label(q)] = {"regret": per_group(regrets),
                                   "share": [float(np.mean([s[a:b].sum() for s in shares])) for a, b in zip(bounds, bounds[1:])]}
    return result


def group_lines(found: dict[str, Any]) -> list[str]:
    """The groups' training regret and gradient share per q as Markdown (nothing for one group)."""
    if not found or len(found["groups"]) < 2:
        return []
    header = ["trained at q+1", *(f"{label} ({size})" for label, size in zip(found["groups"], found["sizes"]))]
    rows = [[label, *(f"{regret:.4f} ({100 * share:.0f} %)" for regret, share in zip(cells["regret"], cells["share"]))]
            for label, cells in found["q"].items()]
    return ["Whom each model serves and whom its objective pushes for (training split, mean over seeds; each group's "
            "mean regret (its share of the gradient of P_q at the model's own regrets); agents in brackets):", "",
            *markdown_table(header, rows), ""]


def checks(runs: dict[str, list[dict]], matrix: dict[str, Any]) -> dict[str, bool]:
    """The targets, judged from the runs (see the module docstring)."""
    points = [label for label in runs if label not in (PLAIN, "1")]
    result = {"objective consistency: no model beats the one trained for an objective": not matrix["violations"]}
    if not points or "1" not in runs or PLAIN not in runs:
        return result
    best = min(points, key=lambda label: sum(tenths(runs[label])["worst10"]) / len(runs[label]))
    against_zero, against_plain = levelling(runs[best], runs["1"]), levelling(runs[best], runs[PLAIN])
    result[f"q+1 = {best} (the lowest worst tenth) levels up against q = 0"] = against_zero["verdict"] == "levels up"
    result[f"q+1 = {best} levels up against the Plain PM"] = against_plain["verdict"] == "levels up"
    result[f"q+1 = {best}: mean regret at most {100 * MEAN_ALLOWANCE:g} % above q = 0's"] = \
        against_zero["mean_ratio"] <= 1.0 + MEAN_ALLOWANCE
    largest = max(points, key=float)
    result[f"q+1 = {largest}: worst tenth no higher than q = 0's beyond the interval"] = \
        levelling(runs[largest], runs["1"])["worst10"][1] <= 0.0
    return result


def training_line(result: dict[str, Any]) -> str:
    """How the sweep's runs were trained, for the report's title."""
    epochs = result["epochs"]
    if result.get("chain"):
        rungs = len(result["models"]) - 1
        return (f", each point one run of the equitable learner (`eqpm train`'s path in q): {epochs} epochs at q = 0, "
                f"then {rungs} rungs of {result['chain']} epochs, each at the next higher q + 1 up to the point's own, "
                f"each rung a fresh optimiser: every point {epochs + rungs * result['chain']} epochs in {rungs + 1} rungs")
    if result["continuation"]:
        return f", every q trained {epochs} epochs from a {epochs}-epoch q = 0 model (the Plain PM {2 * epochs} epochs)"
    return f", {epochs} epochs each"


def report_lines(result: dict[str, Any]) -> list[str]:
    """The study's report as Markdown."""
    from trainers.studies.intervals import bootstrap_interval

    runs, references = result["runs"], result["references"]
    fields = {"weighing": TrainConfig.weighing} | result["fields"]  # the config's default unless the sweep set one
    setting = ", ".join(f"{k} {v}" for k, v in fields.items())
    lines = [f"## q sweep: {result['algo']} on {result['env']} (env defaults), {setting}"
             + training_line(result)
             + f", {result['seeds']} seeds; on {machine()}", "",
             "Test split, final models, mean [95 % bootstrap interval] over seeds:", ""]
    rows = []
    for label, records in runs.items():
        values = tenths(records)
        cells = ["{:.4f} [{:.4f}, {:.4f}]".format(*bootstrap_interval(values[key])) for key in ("mean", "worst10", "best10")]
        rows.append(["Plain PM" if label == PLAIN else f"q+1 = {label}", *cells, str(len(records))])
    for name, record in references.items():
        values = tenths([record])
        rows.append([f"reference: {name}", *(f"{values[key][0]:.4f}" for key in ("mean", "worst10", "best10")), "-"])
    lines += [*markdown_table(["point", "mean", "worst tenth", "best tenth", "seeds"], rows), ""]
    lines += q_comparison_lines(result["models"], runs.get(PLAIN, []), references, matrix=result["consistency"])
    lines += group_lines(result.get("groups", {}))
    lines += [f"- {'holds' if holds else 'does not hold'}: {claim}" for claim, holds in result["checks"].items()]
    if result.get("kept_start"):
        lines += ["", "Runs that gave back the model they started from (--keep best: no epoch's end beat it on the "
                      "run's own training objective): " + ", ".join(f"q+1 = {label} {kept} of {count}"
                                                                   for label, (kept, count) in result["kept_start"].items())]
    if result.get("truth"):
        lines += ["", "Captured share of the hindsight lift (`eqpm bench frontier`'s truth family, test split):", "",
                  *captured_lines(runs, result["truth"])]
    return lines


STUDY = Study(
    flags=(
        Flag("env", "EquitablePM-EV-v0", "env, with its defaults", choices=tuple(ENV_IDS)),
        Flag("algo", "spo", "estimator of the q runs", choices=tuple(MODULES)),
        Flag("q_plus_one", Q_PLUS_ONE, "q + 1 values, inf for min-max; 1 is always run", many=True),
        Flag("epochs", 3, "epochs of each run"),
        Flag("seeds", 5, "seeds per point"),
        Flag("continuation", False, "start every q > 0 run from the same seed's q = 0 model"),
        Flag("chain", 0, "train every point as the equitable learner (`eqpm train --recipe path`): --epochs at q = 0, "
                         "then a rung of this many epochs per q + 1 asked for above 1, up to the point's own q, with "
                         "the learner's beta and keep unless given; 0: off (each point one run at its q, the paper's "
                         "recipe)"),
        Flag("weighing", None, "agents' weighing of every run", kind=str, choices=tuple(WEIGHINGS), run_field=True),
        Flag("weight_step", None, "step of the multiplicative weighing", kind=float, run_field=True),
        Flag("beta", None, "weight of the MSE in every q run's objective, (1 - beta) L_q + beta L_f (the Plain PM is "
                           "the MSE)", kind=float, run_field=True),
        Flag("keep", None, "the model each run gives: last or best (on its own training objective)", kind=str,
             choices=KEEPS, run_field=True),
        Flag("known_ahead", None, "how every run's forecast adds the parts known ahead: index or learned", kind=str,
             choices=KNOWN_AHEAD, run_field=True),
        Flag("frontier", None, "an `eqpm bench frontier --out` folder of the same env: report each q's captured share "
                               "of the hindsight lift", kind=Path),
    ),
    grid=grid, key=point, analyse=analyse, report=report_lines, out="runs/bench-q", prepare=prepare,
)
