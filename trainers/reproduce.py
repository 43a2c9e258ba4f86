"""``eqpm reproduce``: the paper's experiments on the shipped data, over seeds, as tables and figures.

Each run is one ``eqpm train`` into ``OUT/runs/<name>``, its name made of
everything that defines it (env, keywords, algo, q+1, beta, seed, epochs), so
a run shared by two experiments is trained once, a finished run is never
trained again (an interrupted sweep picks up where it stopped), and shards of
a sweep run on several machines merge by copying their ``runs/`` folders
together: the summary reads only the run folders.

Paper tables show q + 1; the env keyword and ``--q`` are q. Every experiment
runs in the paper's setting (``timing="shared"``, ``features="paper"``: every
agent acts on every window alike, 12 past hours of the signal alone).
"""

from __future__ import annotations

import csv
import json
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np

from eq_gym.metrics import METRIC_NAMES as STATS
from eq_gym.metrics import METRIC_TITLES
from trainers.config import TrainConfig
from trainers.sweep import finished, over_seeds, run_all, train_once

DC, EV, MIXED = "EquitablePM-DC-v0", "EquitablePM-EV-v0", "EquitablePM-Mixed-v0"


@dataclass(frozen=True)
class Budget:
    """Epochs, full and ``--quick`` (learning rates: the config's defaults, chosen on the training split)."""

    epochs: int
    quick_epochs: int


@dataclass(frozen=True)
class Setting:
    """One block of a paper table: an env and its keywords, the Plain PM and the Equitable PMs over q + 1."""

    experiment: str
    title: str
    env: str
    env_kwargs: dict[str, Any]
    backbone: str
    algos: tuple[str, ...]
    """Equitable PM estimators; the first is the main one (figures, claims), the others extra rows."""
    q_plus_one: tuple[float, ...]
    betas: tuple[float, ...] = (0.0,)
    theory_q_plus_one: tuple[float, ...] = field(default=())
    """Extra q + 1 values, beyond the paper's, run to check Theorems 4.3 and 4.4."""
    form: str = "paper"
    """Form of L_q trained on. In the paper's form L_q reaches ~1e52 at q + 1 = 40 and beta * L_f
    vanishes beside it (beta is a no-op); the power-mean form keeps one agent's scale."""


BUDGETS = {DC: Budget(epochs=30, quick_epochs=5), EV: Budget(epochs=12, quick_epochs=2), MIXED: Budget(epochs=12, quick_epochs=2)}

PAPER = {"timing": "shared", "features": "paper"}
"""The paper's setting: every agent on every window alike, 12 past hours of the signal alone."""

EXPERIMENTS: dict[str, list[Setting]] = {
    "dc": [
        Setting("dc", "Similar Agents, Different λ", DC, PAPER | {"agents": "similar", "lambdas": "different"}, "lstm",
                ("diff",), (1.0, 1.1, 1.5), theory_q_plus_one=(2.0,)),
        Setting("dc", "Different Agents, Same λ", DC, PAPER | {"agents": "different", "lambdas": "same"}, "lstm",
                ("diff",), (1.0, 3.0, 20.0), theory_q_plus_one=(2.0,)),
        Setting("dc", "Different Agents, Different λ", DC, PAPER | {"agents": "different", "lambdas": "different"}, "lstm",
                ("diff",), (1.0, 3.0, 10.0), theory_q_plus_one=(2.0,)),
    ],
    "ev": [
        Setting("ev", "Similar Agents", EV, PAPER | {"agents": "similar"}, "transformer", ("rloo", "pg"), (20.0, 30.0, 40.0)),
        Setting("ev", "Different Agents", EV, PAPER | {"agents": "different"}, "transformer", ("rloo", "pg"), (20.0, 30.0, 40.0)),
        # Same minimiser, better conditioned at large q: each batch's weights are normalised by its power mean.
        Setting("ev", "Similar Agents, power-mean form", EV, PAPER | {"agents": "similar"}, "transformer", ("rloo",),
                (20.0, 30.0, 40.0), form="power_mean"),
        Setting("ev", "Different Agents, power-mean form", EV, PAPER | {"agents": "different"}, "transformer", ("rloo",),
                (20.0, 30.0, 40.0), form="power_mean"),
    ],
    "mixed": [
        Setting("mixed", "Data centres, EVs and phone chargers", MIXED, PAPER | {"agents": "similar"}, "transformer",
                ("rloo",), (1.0, 1.1)),
    ],
    "beta": [
        Setting("beta", "Different Agents, q+1 = 40, power-mean form", EV, PAPER | {"agents": "different"}, "transformer",
                ("rloo",), (40.0,), betas=(0.0, 0.2, 0.8), form="power_mean"),
    ],
}
PLAIN = "mse"
PAPER_METHOD = {"diff": "Equitable PM", "rloo": "Equitable PM (rloo)", "pg": "Equitable PM (pg, paper Eq. 4)", PLAIN: "Plain PM"}


# --- the runs ------------------------------------------------------------------


def run_configs(setting: Setting, seeds: int, epochs: int, out: Path) -> list[TrainConfig]:
    """Every run of a setting: the Plain PM, then each algo x q+1 x beta, each over the seeds."""
    grid = [(PLAIN, 1.0, 0.0)] + [
        (algo, q1, beta)
        for algo in setting.algos
        for q1 in sorted(set(setting.q_plus_one) | set(setting.theory_q_plus_one if algo == setting.algos[0] else ()))
        for beta in setting.betas
    ]
    configs = []
    for algo, q1, beta in grid:
        for seed in range(seeds):
            config = TrainConfig(
                env=setting.env, algo=algo, q=round(q1 - 1.0, 10), beta=beta, backbone=setting.backbone,
                epochs=epochs, seed=seed, progress=False, form=setting.form if algo != PLAIN else "paper",
                **setting.env_kwargs,
            )
            configs.append(replace(config, out=out / "runs" / run_name(config)))
    return configs


def run_name(config: TrainConfig) -> str:
    keywords = "-".join(str(v) for k, v in sorted(config.env_kwargs().items()) if k != "region" and v is not None)
    short = config.env.removeprefix("EquitablePM-").removesuffix("-v0").lower()
    form = "" if config.form == "paper" else f"-{config.form}"
    return f"{short}-{keywords}-{config.algo}{form}-q+1={config.q + 1:g}-beta={config.beta:g}-seed={config.seed}-epochs={config.epochs}"


def reproduce(
    experiments: list[str], quick: bool = False, seeds: int = 3, out: Path = Path("runs/reproduce"),
    jobs: int = 1, shard: str = "0/1", epochs: int | None = None,
) -> dict[str, list[dict]]:
    """Run (this shard of) the experiments, then summarise every finished run; returns the summary rows."""
    unknown = [e for e in experiments if e not in EXPERIMENTS]
    if unknown:
        raise ValueError(f"experiment {unknown[0]!r} is not known; use one of {(*EXPERIMENTS, 'all')}")
    if seeds < 1:
        raise ValueError(f"--seeds {seeds} is not allowed; use 1 or more")
    settings = [s for name in experiments for s in EXPERIMENTS[name]]
    configs: list[TrainConfig] = []
    for setting in settings:
        budget = BUDGETS[setting.env]
        for config in run_configs(setting, seeds, epochs or (budget.quick_epochs if quick else budget.epochs), out):
            if config not in configs:
                configs.append(config)
    done = sum(finished(Path(c.out)) is not None for c in configs)
    if done:
        print(f"reusing {done} of {len(configs)} finished runs from {out / 'runs'} (delete a run's folder to train it again)")
    run_all(train_once, configs, jobs, shard, desc=f"reproduce {'+'.join(experiments)}")
    return {name: summarise(name, EXPERIMENTS[name], out, seeds, epochs or _epochs(name, quick)) for name in experiments}


def _epochs(experiment: str, quick: bool) -> int:
    budget = BUDGETS[EXPERIMENTS[experiment][0].env]
    return budget.quick_epochs if quick else budget.epochs


# --- the summary ---------------------------------------------------------------



def summarise(experiment: str, settings: list[Setting], out: Path, seeds: int, epochs: int) -> list[dict]:
    """Tables (Markdown, CSV, terminal) and figures of one experiment from its run folders."""
    rows, figures = [], []
    folder = out / experiment
    folder.mkdir(parents=True, exist_ok=True)
    for setting in settings:
        records = _records(setting, seeds, epochs, out)
        rows += _rows(setting, records)
        figure = _figure(setting, records, folder)
        if figure:
            figures.append(figure)
    markdown = render_markdown(experiment, rows, settings)
    (folder / "summary.md").write_text(markdown)
    _write_csv(folder / "summary.csv", rows)
    print(markdown)
    print(f"wrote {folder / 'summary.md'}, {folder / 'summary.csv'}" + "".join(f", {f}" for f in figures))
    return rows


def _records(setting: Setting, seeds: int, epochs: int, out: Path) -> dict[tuple, list[dict]]:
    """Finished runs of a setting, grouped by (algo, q+1, beta): a list over seeds."""
    grouped: dict[tuple, list[dict]] = {}
    for config in run_configs(setting, seeds, epochs, out):
        path = Path(config.out) / "metrics.json"
        if path.is_file():
            record = json.loads(path.read_text())
            key = (record["algo"], round(record["q"] + 1.0, 6), record["beta"])
            grouped.setdefault(key, []).append(record)
    return grouped


def _rows(setting: Setting, records: dict[tuple, list[dict]]) -> list[dict]:
    rows = []
    for (algo, q1, beta), runs in records.items():
        row = {"experiment": setting.experiment, "setting": setting.title, "method": PAPER_METHOD[algo], "algo": algo,
               "q+1": "-" if algo == PLAIN else f"{q1:g}", "beta": beta, "seeds": len(runs),
               "theory_only": algo != PLAIN and q1 not in setting.q_plus_one}
        rows.append(row | over_seeds(runs, STATS))
    order = {PLAIN: 1}
    return sorted(rows, key=lambda r: (order.get(r["algo"], 0), setting.algos.index(r["algo"]) if r["algo"] in setting.algos else 9,
                                       r["beta"], float(r["q+1"]) if r["q+1"] != "-" else 0.0))


def _cell(row: dict, stat: str) -> str:
    mean, std = row[stat], row[f"{stat}_std"]
    digits = "{:.3g}" if abs(mean) < 1e-3 else "{:.4f}"
    text = digits.format(mean)
    return text if row["seeds"] < 2 else f"{text} ± {digits.format(std)}"


def render_markdown(experiment: str, rows: list[dict], settings: list[Setting]) -> str:
    """The paper's layout: Setting, Method, q+1 (beta), the metrics (Variance, Mean, C95-C5, ...) and the seeds."""
    show_beta = any(len(s.betas) > 1 for s in settings)
    lines = [f"## {experiment}: mean ± std over seeds (test split)", ""]
    header = ["Setting", "Method", "q+1"] + (["β"] if show_beta else []) + [METRIC_TITLES[s] for s in STATS] + ["Seeds"]
    lines += ["| " + " | ".join(header) + " |", "|" + " --- |" * len(header)]
    for row in rows:
        q1 = row["q+1"] + (" (theory)" if row["theory_only"] else "")
        cells = [row["setting"], row["method"], q1] + ([f"{row['beta']:g}"] if show_beta else [])
        cells += [_cell(row, stat) for stat in STATS] + [str(row["seeds"])]
        lines.append("| " + " | ".join(cells) + " |")
    if any(row["theory_only"] for row in rows):
        lines += ["", "Rows marked (theory) are not in the paper: q + 1 = 2 is run to check Theorem 4.3 (at the optimum, "
                  "the variance of the agents' regret is lower for q = 1 than for q = 0)."]
    lines += ["", *claims(rows, settings), ""]
    return "\n".join(lines)


def claims(rows: list[dict], settings: list[Setting]) -> list[str]:
    """For each setting, whether the paper's claims hold on these runs (main estimator, first beta)."""
    lines = []
    for setting in settings:
        mine = [r for r in rows if r["setting"] == setting.title]
        plain = next((r for r in mine if r["algo"] == PLAIN), None)
        equitable = sorted(
            (r for r in mine if r["algo"] == setting.algos[0] and r["beta"] == setting.betas[0] and not r["theory_only"]),
            key=lambda r: float(r["q+1"]),
        )
        if plain is None or not equitable:
            continue
        top = equitable[-1]
        checks = {
            "Equitable PM more uniform than Plain PM (variance and C95-C5 lower at the largest q)":
                top["variance"] < plain["variance"] and top["c95_c5"] < plain["c95_c5"],
            "variance and C95-C5 fall as q grows":
                all(b["variance"] <= a["variance"] and b["c95_c5"] <= a["c95_c5"] for a, b in zip(equitable, equitable[1:])),
            "lower mean regret than Plain PM (largest q)": top["mean"] < plain["mean"],
            "MSE a little higher than Plain PM (largest q)": top["mse"] >= plain["mse"],
            "normalised entropy rises with q (Theorem 4.4)":
                all(b["entropy"] >= a["entropy"] for a, b in zip(equitable, equitable[1:])),
        }
        by_q = {r["q+1"]: r for r in mine if r["algo"] == setting.algos[0] and r["beta"] == setting.betas[0]}
        if "1" in by_q and "2" in by_q:
            checks["variance at q = 1 below q = 0 (Theorem 4.3)"] = by_q["2"]["variance"] < by_q["1"]["variance"]
        lines.append(f"- {setting.title}: " + "; ".join(f"{claim}: {'holds' if ok else 'does not hold'}" for claim, ok in checks.items()))
    return lines


def _write_csv(path: Path, rows: list[dict]) -> None:
    if not rows:
        path.write_text("")
        return
    with path.open("w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)


def _figure(setting: Setting, records: dict[tuple, list[dict]], folder: Path) -> Path | None:
    """Per-agent regret distributions per q+1 (paper Figures 2 and 3), agents' regret averaged over seeds."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    curves = []
    for (algo, q1, beta), runs in sorted(records.items(), key=lambda item: (item[0][0] != PLAIN, item[0][1])):
        if algo not in (PLAIN, setting.algos[0]):
            continue
        regret = np.mean([r["agent_regret"] for r in runs], axis=0)
        label = "Plain PM" if algo == PLAIN else f"Equitable PM, q+1 = {q1:g}" + (f", β = {beta:g}" if len(setting.betas) > 1 else "")
        curves.append((label, regret))
    if not curves:
        return None
    figure, axis = plt.subplots(figsize=(6.4, 4.0))
    edges = np.histogram_bin_edges(np.concatenate([c for _, c in curves]), bins=30)
    for label, regret in curves:
        axis.hist(regret, bins=edges, histtype="step", linewidth=1.6, density=True, label=label)
    axis.set_xlabel("mean regret of an agent on the test split")
    axis.set_ylabel("density")
    axis.set_title(f"{setting.experiment.upper()}: {setting.title}")
    axis.legend(fontsize=8)
    figure.tight_layout()
    title = setting.title.lower().replace("λ", "lambda")
    slug = "-".join("".join(ch if ch.isascii() and ch.isalnum() else " " for ch in title).split())  # an ASCII file name
    path = folder / f"regret-{slug}.png"
    figure.savefig(path, dpi=120)
    plt.close(figure)
    return path

