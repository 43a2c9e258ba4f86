"""What a public forecast could do for the worst-served, in hindsight.

A learner that does not lift the worst-served may have failed, or nothing in
reach may lift them. For each q + 1 (default 1, 2, 5, 20, inf) this picks the
best public forecast of five families by the training split's power mean
P_q of the agents' mean regrets, and scores the pick on the test split, so a
user can tell "unsolved" from "impossible":

- ``truth``: the true signal's parts re-weighted, ``w . (carbon, water,
  price)`` at the forecast hours, the weights on a grid over the simplex of
  total weight the index's (step total / ``resolution``). The index's own
  weights are a grid point: there the forecast is the perfect forecaster's,
  bit for bit. It needs perfect information; it is the ceiling of what a
  re-weighting of the signal could do for the agents. (A data centre that
  pays the other region's carbon is served by no point of it.)
- ``posthoc``: a trained model's forecast (the q = 0 model's or the Plain
  PM's: the pick names which) with its known-ahead parts re-weighted and its
  unknown part scaled, ``a * rest + sum_j b_j known_j`` (``rest``: the
  forecast less the known-ahead parts at the index's weights; on a task
  without known-ahead inputs, ``a * forecast``): how far weighing what a
  trained model knows could go.
- ``mixture``: ``(1 - m) * Plain PM + m * q = 0 model``, m in [0, 1].
- ``information``: ``truth + (1 - s) * (forecast - truth)``, the q = 0 model's
  error shrunk toward the truth by a share s in ``SHARES``: not chosen by q but
  a curve, which tells how much of the worst-served's regret is information
  the model lacks rather than how it weighs the agents.
- ``informed``: ``posthoc`` on the q = 0 model's forecast with its error shrunk
  toward the truth by a share s in ``INFORMED_SHARES`` first (s = 0:
  ``posthoc`` on that model alone; s = 1: a point of ``truth`` re-scaled),
  picked per q and s:
  how much information the re-weighting's lift needs. The model's known-ahead
  parts are exact, so s shrinks the error of what it must forecast.

The families built on trained models are scored per seed (each seed's Plain
PM and q = 0 model, trained here or read from ``--out``); ``truth`` needs no
model. Writes ``frontier.json`` (per family and q + 1: the chosen parameters,
and train and test mean, worst-served and best-served tenth and largest regret, per seed) and
``frontier.md`` (those, and each point in the levelling words against its
family's q = 0 point and against the Plain PM), and ``frontier.png``.
"""

from __future__ import annotations

import itertools
import json
from pathlib import Path
from typing import Any

import numpy as np
import torch

from eq_gym import ENV_IDS
from eq_gym.metrics import worst_served
from eq_gym.objective import equitable_objective
from trainers.config import TrainConfig
from trainers.estimators import MODULES
from trainers.evaluate import evaluate, run_forecaster
from trainers.studies.hindsight import (
    Q_PLUS_ONE,
    RESOLUTION,
    Build,
    Forecasts,
    choose,
    hindsight_front,
    information_forecaster,
    known_parts,
    mixture_forecaster,
    posthoc_forecaster,
    scores,
    train_regrets,
)
from trainers.studies.levelling import levelling, q_label, with_q_zero
from trainers.studies.report import PLAIN, machine, markdown_table
from trainers.studies.study import Finished, Flag, Study

SHARES = (0.0, 0.25, 0.5, 0.75)
"""How much of the q = 0 model's error the ``information`` family removes."""
INFORMED_SHARES = (0.0, 0.25, 0.5, 0.75, 1.0)
"""How much of the q = 0 model's error ``informed`` removes before re-weighting (0: ``posthoc`` on that model alone)."""
FAMILIES = ("truth", "posthoc", "mixture", "information", "informed")
SCALES = (0.5, 1.0, 2.0)
"""The unknown part's scales ``a`` in ``posthoc``."""
KNOWN_WEIGHTS = tuple(float(w) for w in np.round(np.arange(0.0, 2.01, 0.25), 2))
"""Each known-ahead part's weights ``b_j`` in ``posthoc`` (1: the index's)."""


def model_families(runs: dict[str, Path], q_plus_one: tuple[float, ...], resolution: int, scales: tuple[float, ...] = SCALES,
                   known_weights: tuple[float, ...] = KNOWN_WEIGHTS) -> dict[str, dict[str, Any]]:
    """``posthoc``, ``mixture``, ``information`` and ``informed`` for one seed's Plain PM and q = 0 model (``runs``: ``PLAIN`` and
    ``"model"`` -> run folder), and the two models' own test regrets (``learned``)."""
    tasks, forecasts = {}, {}
    for split in ("train", "test"):
        for name, folder in runs.items():
            forecaster, tasks[split], _ = run_forecaster(folder, split, "cpu")
            forecasts[split, name] = Forecasts(forecaster, tasks[split])
    known = list(known_parts(tasks["train"]))
    weighings = [{"scale": a, "known": dict(zip(known, b))} for a in scales for b in itertools.product(known_weights, repeat=len(known))]
    posthoc = [{"model": name, **w} for name in ("model", PLAIN) for w in weighings]
    mixture = [{"share": float(m)} for m in np.linspace(0.0, 1.0, resolution + 1)]
    information = {}
    for share in SHARES:
        train_regret, test_regret = (evaluate(information_forecaster(tasks[split], forecasts[split, "model"], share), tasks[split])[1]
                                     for split in ("train", "test"))
        objective = {q_label(q1 - 1.0): float(equitable_objective(torch.from_numpy(train_regret), q1 - 1.0, "power_mean"))
                     for q1 in q_plus_one}
        information[f"{share:g}"] = {"parameters": {"share": share}, "objective": objective, "train": scores(train_regret),
                                     "test": scores(test_regret), "test_agent_regret": test_regret.tolist()}

    def reweighted(share: float) -> Build:
        return lambda split, c: posthoc_forecaster(tasks[split], forecasts[split, c["model"]], c["scale"], c["known"], share)

    own = posthoc[:len(weighings)]  # the q = 0 model's re-weightings, which informed shrinks
    posthoc_train = train_regrets(posthoc, reweighted(0.0), tasks["train"])
    informed = {f"{share:g}": choose(own, reweighted(share), tasks, q_plus_one, posthoc_train[:len(own)] if share == 0 else None)
                for share in INFORMED_SHARES}
    learned = {name: {"test_agent_regret": evaluate(lambda x, start, n=name: forecasts["test", n].rows(start), tasks["test"])[1].tolist()}
               for name in runs}
    return {
        "learned": learned,
        "posthoc": choose(posthoc, reweighted(0.0), tasks, q_plus_one, posthoc_train),
        "mixture": choose(mixture, lambda split, c: mixture_forecaster(forecasts[split, PLAIN], forecasts[split, "model"], c["share"]),
                          tasks, q_plus_one),
        "information": information,
        "informed": informed,
    }


def configs(env: str, algo: str, seeds: int, epochs: int, out: Path, **fields: Any) -> dict[int, dict[str, TrainConfig]]:
    """Each seed's Plain PM and q = 0 model: seed -> {"mse": config, "model": config}."""
    short = env.removeprefix("EquitablePM-").removesuffix("-v0").lower()
    tag = "".join(f"-{k}={v}" for k, v in sorted(fields.items()))

    def config(algo_: str, seed: int) -> TrainConfig:
        return TrainConfig(env=env, algo=algo_, q=0.0, epochs=epochs, seed=seed, progress=False, recipe="paper",
                           out=out / "runs" / f"{short}-{algo_}-q+1=1{tag}-epochs={epochs}-seed={seed}", **fields)

    return {seed: {PLAIN: config(PLAIN, seed), "model": config(algo, seed)} for seed in range(seeds)}


def prepare(options: dict[str, Any]) -> dict[str, Any]:
    """q = 0 is always a point; the grid needs a step."""
    options["q_plus_one"] = with_q_zero(tuple(options["q_plus_one"]))
    if options["resolution"] < 1:
        raise ValueError(f"--resolution {options['resolution']} is not allowed; use 1 or more grid steps")
    return options


def grid(env: str, algo: str, seeds: int, epochs: int, out: Path, fields: dict[str, Any], **_: Any) -> list[list[TrainConfig]]:
    """Each seed's Plain PM and q = 0 model."""
    return [[c for pair in configs(env, algo, seeds, epochs, out, **fields).values() for c in pair.values()]]


def role(config: TrainConfig) -> tuple[int, str]:
    """A run's seed and role: the Plain PM (``mse``) or the ``model``."""
    return config.seed, PLAIN if config.algo == PLAIN else "model"


def analyse(groups: dict[tuple[int, str], list[Finished]], env: str, algo: str, seeds: int, epochs: int, out: Path,
            q_plus_one: tuple[float, ...], resolution: int, scales: tuple[float, ...], known_weights: tuple[float, ...],
            fields: dict[str, Any]) -> dict[str, Any]:
    """Every family's point per q from each seed's Plain PM and q = 0 model; writes frontier.json, frontier.md and
    frontier.png in ``out``."""
    result: dict[str, Any] = {"env": env, "algo": algo, "seeds": seeds, "epochs": epochs, "resolution": resolution,
                              "q_plus_one": [q_label(q - 1.0) for q in q_plus_one], "fields": fields,
                              "truth": hindsight_front(env, {}, q_plus_one, resolution),
                              "truth_coarse": hindsight_front(env, {}, q_plus_one, max(1, resolution // 2)),
                              "seeded": {}}
    for seed in range(seeds):
        folders = {name: groups[(seed, name)][0].config.out for name in (PLAIN, "model")}
        result["seeded"][seed] = model_families(folders, q_plus_one, resolution, scales, known_weights)
    out.mkdir(parents=True, exist_ok=True)
    (out / "frontier.json").write_text(json.dumps(result, indent=1, default=str))
    (out / "frontier.md").write_text("\n".join(report_lines(result)) + "\n")
    draw(result, out / "frontier.png")
    return result | {"written": [str(out / name) for name in ("frontier.json", "frontier.md", "frontier.png")]}


def records_of(result: dict[str, Any], family: str, label: str) -> list[dict[str, Any]]:
    """The test agent regrets of a family's point (one per seed; one for ``truth``) as levelling records."""
    if family in ("truth", "truth_coarse"):
        return [{"agent_regret": result[family][label]["test_agent_regret"]}]
    return [{"agent_regret": result["seeded"][seed][family][label]["test_agent_regret"]} for seed in result["seeded"]]


def verdict_cell(point: list[dict], base: list[dict]) -> str:
    found = levelling(point, base)
    change = found["worst10"][0]
    if min(len(point), len(base)) < 2:
        return f"worst tenth {change:+.4f}, mean {100 * (found['mean_ratio'] - 1):+.1f} % (one forecast: no interval)"
    return (f"worst tenth {change:+.4f} [{found['worst10'][1]:+.4f}, {found['worst10'][2]:+.4f}], mean "
            f"{100 * (found['mean_ratio'] - 1):+.1f} %: **{found['verdict']}**")


def report_lines(result: dict[str, Any]) -> list[str]:
    """frontier.md: the picks per family and q, then the levelling of each against its q = 0 point and the Plain PM."""
    labels, seeds = result["q_plus_one"], list(result["seeded"])
    lines = [f"# The attainable frontier on {result['env']} (`eqpm bench frontier`)", "",
             f"q = 0 model: `{result['algo']}`, {result['epochs']} epochs, seeds {seeds}; truth grid step "
             f"1/{result['resolution']} of the total weight; on {machine()}.", "",
             "Each family's pick for each q + 1 by the training split's power mean P_q, scored on the test split "
             "(seeded families: mean over seeds).", ""]
    header = ["family", "q+1", "parameters (seed 0)", "train mean", "train worst tenth", "test mean", "test worst tenth",
              "test best tenth"]
    columns = (("train", "mean"), ("train", "worst10"), ("test", "mean"), ("test", "worst10"), ("test", "best10"))

    def row(family: str, label: str, picks: list[dict[str, Any]]) -> list[str]:
        return [family, label, json.dumps(picks[0]["parameters"]),
                *(f"{np.mean([p[split][key] for p in picks]):.4f}" for split, key in columns)]

    rows = [row(family, label, [result[family][label]] if family == "truth" else
                [result["seeded"][s][family][label] for s in seeds])
            for family in ("truth", "posthoc", "mixture") for label in labels]
    rows += [row("information", "-", [result["seeded"][s]["information"][f"{share:g}"] for s in seeds]) for share in SHARES]
    lines += markdown_table(header, rows) + [""]
    lines += ["Levelling (test split) of each pick against its family's q = 0 point and against the Plain PM:", ""]
    cells = []
    plain_records = [{"agent_regret": result["seeded"][s]["learned"][PLAIN]["test_agent_regret"]} for s in seeds]
    for family in ("truth", "posthoc", "mixture"):
        for label in labels[1:]:
            point, base = records_of(result, family, label), records_of(result, family, labels[0])
            cells.append([family, label, verdict_cell(point, base), verdict_cell(point, plain_records)])
    lines += markdown_table(["family", "q+1", "against the family's q = 0", "against the Plain PM"], cells) + [""]
    lines += informed_lines(result) + [""]
    coarse = [label for label in labels if result["truth"][label]["parameters"] != result["truth_coarse"][label]["parameters"]]
    lines.append(f"- truth grid: at half the resolution the picks {'differ at q+1 = ' + ', '.join(coarse) if coarse else 'are the same'}"
                 " (test worst tenth at both: " + ", ".join(
                     f"{label}: {result['truth'][label]['test']['worst10']:.4f} / {result['truth_coarse'][label]['test']['worst10']:.4f}"
                     for label in labels) + ")")
    return lines + [truth_front_line(result)]


def truth_front_line(result: dict[str, Any]) -> str:
    """The ``truth`` picks on the training split by q + 1: the worst tenth and the largest regret (each should not
    rise with q) and the mean (should not fall), each said monotone or not. P_inf's pick minimises the largest
    regret, not the tenth: the tenth may rise at the last step where the largest falls."""
    labels, parts = result["q_plus_one"], []
    for key, name, sign in (("worst10", "worst tenth", 1.0), ("largest", "largest regret", 1.0), ("mean", "mean", -1.0)):
        front = [result["truth"][label]["train"].get(key) for label in labels]
        if None in front:  # a frontier.json written before the largest regret was recorded
            continue
        monotone = all(sign * (b - a) <= 1e-12 for a, b in zip(front, front[1:]))
        parts.append(f"{name} {', '.join(f'{v:.4f}' for v in front)} ({'monotone' if monotone else 'not monotone'} in q)")
    return "- truth front on the training split by q+1: " + "; ".join(parts)


def lifted(result: dict[str, Any]) -> str:
    """The q + 1 label > 1 whose ``truth`` pick has the lowest test worst tenth (the first label if only q = 0 ran)."""
    labels = result["q_plus_one"]
    return min(labels[1:] or labels, key=lambda label: result["truth"][label]["test"]["worst10"])


def informed_lines(result: dict[str, Any]) -> list[str]:
    """The ``informed`` family as a table: rows the share s of the model's error removed, columns q + 1, cells the
    pick's test worst tenth and mean (over seeds), beside the q = 0 model's own."""
    labels, seeds = result["q_plus_one"], list(result["seeded"])
    learned = [np.asarray(result["seeded"][s]["learned"]["model"]["test_agent_regret"]) for s in seeds]
    rows = []
    for share in INFORMED_SHARES:
        picks = {label: [result["seeded"][seed]["informed"][f"{share:g}"][label]["test"] for seed in seeds] for label in labels}
        rows.append([f"{share:g}", *(f"{np.mean([p['worst10'] for p in picks[label]]):.4f} "
                                     f"({np.mean([p['mean'] for p in picks[label]]):.4f})" for label in labels)])
    return ["How much information the re-weighting needs (`informed`: the q = 0 model's error shrunk toward the truth "
            "by s, then its parts re-weighted per q; test worst tenth (mean), mean over seeds; the q = 0 model as "
            f"learned: {np.mean([worst_served(r) for r in learned]):.4f} ({np.mean([r.mean() for r in learned]):.4f})):", "",
            *markdown_table(["s \\ q+1", *labels], rows)]


def draw(result: dict[str, Any], path: Path) -> None:
    """Test mean against the worst-served tenth: each family's picks over q (a line, q+1 labelled), the ``information``
    curve, the ``informed`` curve at the q of the ceiling's lowest worst tenth, and the Plain PM and q = 0 model as
    learned."""
    from trainers.studies.figures import PanelLabels, pyplot

    plt = pyplot()
    figure, axis = plt.subplots(figsize=(6.4, 4.6))
    seeds, labels = list(result["seeded"]), result["q_plus_one"]
    placer = PanelLabels(axis)  # every family's labels, placed apart once all is drawn

    def point(picks: list[list[float]]) -> tuple[float, float]:
        regrets = [np.asarray(r) for r in picks]
        return float(np.mean([r.mean() for r in regrets])), float(np.mean([worst_served(r) for r in regrets]))

    for family in FAMILIES:
        if family == "information":
            picks = {f"s={s:g}": [result["seeded"][seed]["information"][f"{s:g}"]["test_agent_regret"] for seed in seeds] for s in SHARES}
        elif family == "informed":
            label = lifted(result)
            picks = {f"s={s:g}": [result["seeded"][seed]["informed"][f"{s:g}"][label]["test_agent_regret"] for seed in seeds]
                     for s in INFORMED_SHARES}
            family = f"informed, q+1={label}"
        elif family == "truth":
            picks = {f"q+1={label}": [result["truth"][label]["test_agent_regret"]] for label in labels}
        else:
            picks = {f"q+1={label}": [result["seeded"][seed][family][label]["test_agent_regret"] for seed in seeds] for label in labels}
        xy = np.array([point(p) for p in picks.values()])
        axis.plot(xy[:, 0], xy[:, 1], marker="o", label=family + (" (ceiling)" if family == "truth" else ""))
        for (x, y), name in zip(xy, picks):
            placer.add(x, y, name, fontsize=6)
    for name in (PLAIN, "model"):
        x, y = point([result["seeded"][seed]["learned"][name]["test_agent_regret"] for seed in seeds])
        axis.scatter([x], [y], marker="s", s=40, color="black" if name == PLAIN else "firebrick", zorder=3,
                     label="Plain PM" if name == PLAIN else f"{result['algo']}, q = 0")
    axis.set_xlabel("test mean regret")
    axis.set_ylabel("test worst-served tenth's regret")
    axis.set_title(f"{result['env']}: each q's pick by the training split, scored on the test split", fontsize=9)
    axis.legend(fontsize=7)
    figure.tight_layout()
    placer.draw()
    figure.savefig(path, dpi=120)
    plt.close(figure)


def printed_lines(result: dict[str, Any]) -> list[str]:
    """The report, and the files written."""
    return [*report_lines(result), f"wrote {', '.join(result['written'])}"]


STUDY = Study(
    flags=(
        Flag("env", "EquitablePM-EV-v0", "env, with its defaults", choices=tuple(ENV_IDS)),
        Flag("algo", "spo", "estimator of the q = 0 model", choices=tuple(MODULES)),
        Flag("q_plus_one", Q_PLUS_ONE, "q + 1 values, inf for min-max; 1 is always scored", many=True),
        Flag("epochs", 3, "epochs of each run"),
        Flag("seeds", 3, "seeds of the trained Plain PM and q = 0 model"),
        Flag("resolution", RESOLUTION, "grid steps across the truth family's total weight (the index's; EV: 3) and the "
                                       "mixture's share"),
        Flag("scales", SCALES, "posthoc's scales a of the unknown part", many=True),
        Flag("known_weights", KNOWN_WEIGHTS, "posthoc's weights b_j of each known-ahead part (1: the index's)", many=True),
    ),
    grid=grid, key=role, analyse=analyse, report=printed_lines, out="runs/bench-frontier", prepare=prepare,
)
