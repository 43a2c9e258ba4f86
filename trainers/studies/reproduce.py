"""``eqpm reproduce``: the paper's experiments on the shipped data, over seeds, as tables and figures.

Each run is one ``eqpm train`` into ``OUT/runs/<name>``, its name made of
everything that defines it (env, keywords, algo, q+1, beta, seed, epochs), so
a run shared by two experiments is trained once, a finished run is never
trained again (an interrupted sweep picks up where it stopped), and shards of
a sweep run on several machines merge by copying their ``runs/`` folders
together: the summary reads only the run folders.

Paper tables show q + 1; the env keyword and ``--q`` are q. Every block runs
in two setups with the same seeds (``SETUPS``): the paper's (every agent acts
on every window alike and pays under the public signal, 12 past hours of the
signal alone) and the envs' defaults (agents on their own hours and
priorities, the clock among the features, known-ahead inputs on EV). The
summary adds the reference forecasters, 95 % bootstrap intervals over seeds,
the equity frontier (``frontier-<experiment>.png``) and the per-agent regret
distributions (``regret-<experiment>-<block>.png``).
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np

from eq_gym.metrics import METRIC_NAMES as STATS
from eq_gym.metrics import METRIC_TITLES
from eq_gym.tasks import PAPER_SETTING
from trainers.config import TrainConfig
from trainers.records import read_record
from trainers.studies.report import PLAIN, markdown_table, write_csv
from trainers.studies.sweep import over_seeds, run_all, train_once

DC, EV, MIXED = "EquitablePM-DC-v0", "EquitablePM-EV-v0", "EquitablePM-Mixed-v0"


@dataclass(frozen=True)
class Budget:
    """Epochs, full and ``--quick`` (learning rates: the config's defaults, chosen on the training split)."""

    epochs: int
    quick_epochs: int


SETUPS = {"paper": PAPER_SETTING, "default": {}}
CEILING_RESOLUTION = 15
"""Grid steps of the hindsight ceiling drawn on each frontier figure (``eqpm bench frontier`` takes 30 by default; on
EV's defaults the test worst tenth at 15 steps is within 0.045 of 30 steps' at every q + 1, the same at 5 and inf)."""
"""The two setups every block runs in, with the same seeds. ``paper``: every agent acts on every window
alike, pays under the public signal and the model sees 12 past hours of the signal alone (the paper's
code), kept to compare with the paper; ``default``: the envs' defaults (agents on their own hours,
paying under their own priorities, per-unit regret; the model sees 24 past hours with the clock, and on
EV the forecast hours' known-ahead inputs)."""


@dataclass(frozen=True)
class Setting:
    """One block of a paper table in one setup: an env and its keywords, the Plain PM and the Equitable PMs over q + 1."""

    experiment: str
    title: str
    setup: str
    """A key of ``SETUPS``."""
    env: str
    env_kwargs: dict[str, Any]
    backbone: str
    algos: tuple[str, ...]
    """Equitable PM estimators; the first is the main one (figures, claims), the others extra rows."""
    q_plus_one: tuple[float, ...]
    quick_q_plus_one: tuple[float, ...] | None
    """q + 1 values that ``--quick`` runs; None leaves the block out of ``--quick``."""
    betas: tuple[float, ...] = (0.0,)
    theory_q_plus_one: tuple[float, ...] = field(default=())
    """Extra q + 1 values, beyond the paper's, run to check Theorems 4.3 and 4.4."""

    def grid(self, quick: bool) -> list[tuple[str, float, float]]:
        """(algo, q + 1, beta) of every Equitable PM run of this block."""
        q_values = self.quick_q_plus_one if quick else self.q_plus_one
        return [
            (algo, q1, beta)
            for algo in self.algos
            for q1 in sorted(set(q_values or ()) | set(self.theory_q_plus_one if algo == self.algos[0] else ()))
            for beta in self.betas
        ]


def in_both_setups(experiment: str, title: str, env: str, env_kwargs: dict[str, Any], **fields: Any) -> list[Setting]:
    """A block run in the paper's setup and in the default one, alike otherwise."""
    return [Setting(experiment, title, setup, env, SETUPS[setup] | env_kwargs, **fields) for setup in SETUPS]


BUDGETS = {DC: Budget(epochs=15, quick_epochs=5), EV: Budget(epochs=3, quick_epochs=2), MIXED: Budget(epochs=3, quick_epochs=1)}
"""Sized so that ``eqpm reproduce all`` runs in about an hour on 2 cores (``--jobs 2``): an EV or Mixed
epoch is 112 updates of the 250-wide Transformer, ~17 s on one core; a DC epoch ~2 s. RESULTS.md gives
the learning curves behind these numbers. EV's quick budget is 2 epochs: after one, the Plain PM and the
Equitable PM serve the worst-served tenth alike within the seeds' spread (0.88-0.97 against 0.87-0.95,
seeds 0-2); after two they part (`eqpm bench q-sweep`, RESULTS.md)."""

EV_ALGOS = ("spo",)
"""EV and Mixed train the Equitable PM with SPO+, the estimator that realises L_q on slot-choosing agents
(RESULTS.md, estimators); `eqpm bench estimator-targets` sets rloo and pg beside it."""

EXPERIMENTS: dict[str, list[Setting]] = {
    "dc": [
        *in_both_setups("dc", "Similar Agents, Different λ", DC, {"agents": "similar", "lambdas": "different"},
                        backbone="lstm", algos=("diff",), q_plus_one=(1.0, 1.1, 1.5), quick_q_plus_one=(1.0, 1.1, 1.5),
                        theory_q_plus_one=(2.0,)),
        *in_both_setups("dc", "Different Agents, Same λ", DC, {"agents": "different", "lambdas": "same"},
                        backbone="lstm", algos=("diff",), q_plus_one=(1.0, 3.0, 20.0), quick_q_plus_one=(1.0, 3.0, 20.0),
                        theory_q_plus_one=(2.0,)),
        *in_both_setups("dc", "Different Agents, Different λ", DC, {"agents": "different", "lambdas": "different"},
                        backbone="lstm", algos=("diff",), q_plus_one=(1.0, 3.0, 10.0), quick_q_plus_one=(1.0, 3.0, 10.0),
                        theory_q_plus_one=(2.0,)),
    ],
    "ev": [
        *in_both_setups("ev", "Similar Agents", EV, {"agents": "similar"}, backbone="transformer", algos=EV_ALGOS,
                        q_plus_one=(1.0, 20.0, 40.0), quick_q_plus_one=None),
        *in_both_setups("ev", "Different Agents", EV, {"agents": "different"}, backbone="transformer", algos=EV_ALGOS,
                        q_plus_one=(1.0, 20.0, 40.0), quick_q_plus_one=(1.0, 40.0)),
    ],
    "mixed": in_both_setups("mixed", "Data centres, EVs and phone chargers", MIXED, {"agents": "similar"},
                            backbone="transformer", algos=EV_ALGOS, q_plus_one=(1.0, 1.1, 20.0), quick_q_plus_one=(1.0, 20.0)),
    "beta": in_both_setups("beta", "Different Agents, q+1 = 40", EV, {"agents": "different"}, backbone="transformer",
                           algos=EV_ALGOS, q_plus_one=(40.0,), quick_q_plus_one=(40.0,), betas=(0.0, 0.2, 0.8)),
}
METHOD = {"diff": "Equitable PM", "spo": "Equitable PM (spo)", "rloo": "Equitable PM (rloo)", "pg": "Equitable PM (pg, paper Eq. 4)",
          PLAIN: "Plain PM"}


# --- the runs ------------------------------------------------------------------


def run_configs(setting: Setting, seeds: int, epochs: int, out: Path, quick: bool = False) -> list[TrainConfig]:
    """Every run of a setting: the Plain PM, then each algo x q+1 x beta, each over the seeds."""
    configs = []
    for algo, q1, beta in [(PLAIN, 1.0, 0.0), *setting.grid(quick)]:
        for seed in range(seeds):
            config = TrainConfig(env=setting.env, algo=algo, q=round(q1 - 1.0, 10), beta=beta, backbone=setting.backbone,
                                 epochs=epochs, seed=seed, progress=False, **setting.env_kwargs)
            configs.append(replace(config, out=out / "runs" / run_name(config)))
    return configs


def run_name(config: TrainConfig) -> str:
    keywords = "-".join(str(v) for k, v in sorted(config.env_kwargs().items()) if k != "region" and v is not None)
    short = config.env.removeprefix("EquitablePM-").removesuffix("-v0").lower()
    form = "" if config.algo == PLAIN else f"-{config.form}"
    return f"{short}-{keywords}-{config.algo}{form}-q+1={config.q + 1:g}-beta={config.beta:g}-seed={config.seed}-epochs={config.epochs}"


def reproduce(
    experiments: list[str], quick: bool = False, seeds: int = 3, out: Path = Path("runs/reproduce"),
    jobs: int = 1, shard: str = "0/1", epochs: int | None = None, ray: str | None = None,
) -> dict[str, list[dict]]:
    """Run (this shard of) the experiments, then summarise every finished run; returns the summary rows."""
    unknown = [e for e in experiments if e not in EXPERIMENTS]
    if unknown:
        raise ValueError(f"experiment {unknown[0]!r} is not known; use one of {(*EXPERIMENTS, 'all')}")
    if seeds < 1:
        raise ValueError(f"--seeds {seeds} is not allowed; use 1 or more")
    chosen = {name: [s for s in EXPERIMENTS[name] if not quick or s.quick_q_plus_one is not None] for name in experiments}
    configs: list[TrainConfig] = []
    for name, settings in chosen.items():
        for setting in settings:
            for config in run_configs(setting, seeds, epochs or _epochs(name, quick), out, quick):
                if config not in configs:
                    configs.append(config)
    done = sum(read_record(Path(c.out)) is not None for c in configs)
    if done:
        print(f"reusing {done} of {len(configs)} finished runs from {out / 'runs'} (delete a run's folder to train it again)")
    run_all(train_once, configs, jobs, shard, desc=f"reproduce {'+'.join(experiments)}", ray=ray)
    return {name: summarise(name, settings, out, seeds, epochs or _epochs(name, quick), quick) for name, settings in chosen.items()}


def _epochs(experiment: str, quick: bool) -> int:
    budget = BUDGETS[EXPERIMENTS[experiment][0].env]
    return budget.quick_epochs if quick else budget.epochs


# --- the summary ---------------------------------------------------------------


def summarise(experiment: str, settings: list[Setting], out: Path, seeds: int, epochs: int, quick: bool = False) -> list[dict]:
    """Tables (Markdown, CSV, terminal) and figures of one experiment from its run folders."""
    from trainers.evaluate import reference_records
    from trainers.studies.figures import distribution_figure, frontier_figure
    from trainers.studies.hindsight import hindsight_front

    folder = out / experiment
    folder.mkdir(parents=True, exist_ok=True)
    rows, agent_regret, levels, ceilings = [], {}, [], {}
    for setting in settings:
        records, references = _records(setting, seeds, epochs, out, quick), reference_records(setting.env, setting.env_kwargs)
        rows += _rows(setting, records) + _reference_rows(setting, references)
        agent_regret[(setting.title, setting.setup)] = {key: np.mean([r["agent_regret"] for r in runs], axis=0) for key, runs in records.items()}
        levels += levelling_section(setting, records, references)
        ceilings[(setting.title, setting.setup)] = hindsight_front(setting.env, setting.env_kwargs, resolution=CEILING_RESOLUTION)
    figures = [frontier_figure(experiment, settings, rows, folder / f"frontier-{experiment}.png", ceilings)]
    for title in dict.fromkeys(s.title for s in settings):
        figures.append(distribution_figure(
            experiment, [s for s in settings if s.title == title], agent_regret, folder / f"regret-{experiment}-{slug(title)}.png"))
    markdown = render_markdown(experiment, rows, settings) + "\n" + "\n".join(levels) + "\n" + "\n".join(ceiling_lines(settings, ceilings))
    (folder / "summary.md").write_text(markdown)
    write_csv(folder / "summary.csv", rows)
    print(markdown)
    print(f"wrote {folder / 'summary.md'}, {folder / 'summary.csv'}" + "".join(f", {f}" for f in figures if f))
    return rows


def slug(title: str) -> str:
    """An ASCII file-name part of a block title: 'Different Agents, Same λ' -> 'different-agents-same-lambda'."""
    title = title.lower().replace("λ", "lambda").replace("+", " plus ")
    return "-".join("".join(ch if ch.isascii() and ch.isalnum() else " " for ch in title).split())


def _records(setting: Setting, seeds: int, epochs: int, out: Path, quick: bool) -> dict[tuple, list[dict]]:
    """Finished runs of a setting, grouped by (algo, q+1, beta): a list over seeds."""
    grouped: dict[tuple, list[dict]] = {}
    for config in run_configs(setting, seeds, epochs, out, quick):
        record = read_record(Path(config.out))
        if record is not None:
            key = (record["algo"], round(record["q"] + 1.0, 6), record["beta"])
            grouped.setdefault(key, []).append(record)
    return grouped


def levelling_section(setting: Setting, records: dict[tuple, list[dict]], references: dict[str, dict]) -> list[str]:
    """Levelling against q = 0 and the Plain PM, and objective consistency over q, of the setting's main estimator
    (first beta)."""
    from trainers.studies.levelling import q_comparison_lines

    main = {q1 - 1.0: runs for (algo, q1, beta), runs in records.items() if algo == setting.algos[0] and beta == setting.betas[0]}
    if not main:
        return []
    plain = next((runs for key, runs in records.items() if key[0] == PLAIN), [])
    return [f"### {setting.title}, {setting.setup} setup: {METHOD.get(setting.algos[0], setting.algos[0])} over q", "",
            *q_comparison_lines(main, plain, references)]


def ceiling_lines(settings: list[Setting], ceilings: dict[tuple[str, str], dict[str, Any]]) -> list[str]:
    """The hindsight ceiling of each setting as Markdown: per q + 1, the test mean and worst tenth of the true
    signal's parts re-weighted for that q (``eqpm bench frontier``'s truth family)."""
    labels = list(next(iter(ceilings.values())))
    rows = []
    for setting in settings:
        picks = ceilings[(setting.title, setting.setup)]
        rows.append([setting.title, setting.setup,
                     *(f"{picks[label]['test']['mean']:.4f} / {picks[label]['test']['worst10']:.4f}" for label in labels)])
    return [f"### The hindsight ceiling (the true signal's parts re-weighted per q, grid step 1/{CEILING_RESOLUTION} of the "
            "index's total weight; test mean / worst tenth; needs perfect information: `eqpm bench frontier`)", "",
            *markdown_table(["Setting", "Setup", *(f"q+1 = {label}" for label in labels)], rows), ""]


def _label(setting: Setting) -> dict[str, Any]:
    return {"experiment": setting.experiment, "setting": setting.title, "setup": setting.setup}


def _rows(setting: Setting, records: dict[tuple, list[dict]]) -> list[dict]:
    rows = []
    for (algo, q1, beta), runs in records.items():
        row = _label(setting) | {"method": METHOD.get(algo, algo), "algo": algo, "q+1": "-" if algo == PLAIN else f"{q1:g}",
                                 "beta": beta, "seeds": len(runs), "theory_only": algo != PLAIN and q1 not in setting.q_plus_one}
        rows.append(row | over_seeds(runs, STATS))
    order = {PLAIN: 1}
    return sorted(rows, key=lambda r: (order.get(r["algo"], 0), setting.algos.index(r["algo"]) if r["algo"] in setting.algos else 9,
                                       r["beta"], float(r["q+1"]) if r["q+1"] != "-" else 0.0))


def _reference_rows(setting: Setting, references: dict[str, dict]) -> list[dict]:
    """The reference forecasters that apply to the setting's task (persistence, vendor), on the test split."""
    return [_label(setting) | {"method": f"reference: {name}", "algo": name, "q+1": "-", "beta": 0.0, "seeds": 0,
                               "theory_only": False} | {stat: record[stat] for stat in STATS}
            for name, record in references.items()]


def _cell(row: dict, stat: str) -> str:
    value = row[stat]
    digits = "{:.3g}" if abs(value) < 1e-3 else "{:.4f}"
    if row["seeds"] < 2:
        return digits.format(value)
    return f"{digits.format(value)} [{digits.format(row[stat + '_low'])}, {digits.format(row[stat + '_high'])}]"


SETUP_NOTE = ("Setup `paper`: the paper's setting (every agent acts on every window alike and pays under the public "
              "signal, 12 past hours of the signal alone, absolute regret), kept to compare with the paper. Setup `default`: "
              "the envs' defaults (agents act on their own hours and pay under their own priorities, per-unit regret; "
              "24 past hours with the clock, on EV with the forecast hours' known-ahead inputs). Both use the same seeds.")


def render_markdown(experiment: str, rows: list[dict], settings: list[Setting]) -> str:
    """The paper's layout (Setting, Method, q+1, the metrics) with the setup beside the setting."""
    show_beta = any(len(s.betas) > 1 for s in settings)
    lines = [f"## {experiment}: mean [95 % bootstrap interval] over seeds, test split", ""]
    header = ["Setting", "Setup", "Method", "q+1"] + (["β"] if show_beta else []) + [METRIC_TITLES[s] for s in STATS] + ["Seeds"]
    table = []
    for row in rows:
        q1 = row["q+1"] + (" (theory)" if row["theory_only"] else "")
        cells = [row["setting"], row["setup"], row["method"], q1] + ([f"{row['beta']:g}"] if show_beta else [])
        table.append(cells + [_cell(row, stat) for stat in STATS] + [str(row["seeds"]) if row["seeds"] else "-"])
    lines += markdown_table(header, table)
    lines += ["", SETUP_NOTE, "Intervals: percentile bootstrap of the mean over seeds (scipy.stats.bootstrap); with 3 "
              "seeds they span the seeds' range. Reference forecasters need no training (no seeds)."]
    if any(row["theory_only"] for row in rows):
        lines += ["", "Rows marked (theory) are not in the paper: q + 1 = 2 is run to check Theorem 4.3 (at the optimum, "
                  "the variance of the agents' regret is lower for q = 1 than for q = 0)."]
    lines += ["", *claims(rows, settings), ""]
    return "\n".join(lines)


def claims(rows: list[dict], settings: list[Setting]) -> list[str]:
    """For each setting and setup, whether the paper's claims hold on these runs (main estimator, first beta)."""
    lines = []
    for setting in settings:
        mine = [r for r in rows if r["setting"] == setting.title and r["setup"] == setting.setup]
        plain = next((r for r in mine if r["algo"] == PLAIN), None)
        equitable = sorted(
            (r for r in mine if r["algo"] == setting.algos[0] and r["beta"] == setting.betas[0] and not r["theory_only"]),
            key=lambda r: float(r["q+1"]),
        )
        if plain is None or not equitable:
            continue
        top, low = equitable[-1], equitable[0]
        checks = {
            "Equitable PM more uniform than Plain PM (variance and C95-C5 lower at the largest q)":
                top["variance"] < plain["variance"] and top["c95_c5"] < plain["c95_c5"],
            "lower mean regret than Plain PM (largest q)": top["mean"] < plain["mean"],
            "MSE a little higher than Plain PM (largest q)": top["mse"] >= plain["mse"],
        }
        if len(equitable) > 1:
            checks |= {
                "variance and C95-C5 fall as q grows":
                    all(b["variance"] <= a["variance"] and b["c95_c5"] <= a["c95_c5"] for a, b in zip(equitable, equitable[1:])),
                "normalised entropy rises with q (Theorem 4.4)":
                    all(b["entropy"] >= a["entropy"] for a, b in zip(equitable, equitable[1:])),
                "more even at the largest q than at the smallest (entropy higher, (C95-C5)/mean lower)":
                    _more_even(top, low),
            }
        checks["more even than Plain PM at the largest q (entropy higher, (C95-C5)/mean lower)"] = _more_even(top, plain)
        by_beta = sorted((r for r in mine if r["algo"] == setting.algos[0] and r["q+1"] == top["q+1"]), key=lambda r: r["beta"])
        if len(by_beta) > 1:
            checks["MSE falls as β grows (paper A.5)"] = all(b["mse"] <= a["mse"] for a, b in zip(by_beta, by_beta[1:]))
        by_q = {r["q+1"]: r for r in mine if r["algo"] == setting.algos[0] and r["beta"] == setting.betas[0]}
        if "1" in by_q and "2" in by_q:
            checks["variance at q = 1 below q = 0 (Theorem 4.3)"] = by_q["2"]["variance"] < by_q["1"]["variance"]
        lines.append(f"- {setting.title}, {setting.setup}: "
                     + "; ".join(f"{claim}: {_verdict(ok)}" for claim, ok in checks.items()))
    return lines


def _more_even(row: dict, other: dict) -> bool | str:
    """Whether ``row``'s agents' regret is more even than ``other``'s (entropy higher, C95-C5 relative to the mean
    lower); "within noise" when it is but the two entropies' bootstrap intervals overlap."""
    if not (row["entropy"] > other["entropy"] and row["c95_c5"] / row["mean"] < other["c95_c5"] / other["mean"]):
        return False
    apart = row.get("entropy_low", row["entropy"]) > other.get("entropy_high", other["entropy"])
    return True if apart else "within noise"


def _verdict(ok: bool | str) -> str:
    if isinstance(ok, str):
        return f"holds {ok} (the entropies' intervals overlap)"
    return "holds" if ok else "does not hold"

