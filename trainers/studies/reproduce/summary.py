"""The summary of one experiment from its run folders: Markdown and CSV tables, the claims, the figures."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from eq_gym.metrics import METRIC_NAMES as STATS
from eq_gym.metrics import METRIC_TITLES
from trainers.config import TrainConfig
from trainers.records import read_record
from trainers.studies.report import PLAIN, markdown_table, write_csv
from trainers.studies.reproduce.experiments import CEILING_RESOLUTION, METHOD, Setting, run_configs
from trainers.studies.sweep import over_seeds


def summarise(experiment: str, settings: list[Setting], out: Path, seeds: int, epochs: int, quick: bool = False) -> list[dict]:
    """Tables (Markdown, CSV, terminal) and figures of one experiment from its run folders."""
    from trainers.evaluate import reference_records
    from trainers.studies.figures import distribution_figure, frontier_figure
    from trainers.studies.hindsight import hindsight_front

    folder = out / experiment
    folder.mkdir(parents=True, exist_ok=True)
    rows, agent_regret, levels, ceilings, headlines = [], {}, [], {}, []
    for setting in settings:
        block = (setting.title, setting.setup)
        if block not in ceilings:
            ceilings[block] = hindsight_front(setting.env, setting.env_kwargs, resolution=CEILING_RESOLUTION)
        records, references = _records(setting, seeds, epochs, out, quick), reference_records(setting.env, setting.env_kwargs)
        rows += _rows(setting, records) + (_reference_rows(setting, references) if setting.recipe == "paper" else [])
        agent_regret[(*block, setting.recipe)] = {key: np.mean([r["agent_regret"] for r in runs], axis=0) for key, runs in records.items()}
        levels += levelling_section(setting, records, references, ceilings[block])
        headlines += headline(setting, records)
    figures = [frontier_figure(experiment, settings, rows, folder / f"frontier-{experiment}.png", ceilings)]
    for title in dict.fromkeys(s.title for s in settings):
        figures.append(distribution_figure(
            experiment, [s for s in settings if s.title == title], agent_regret, folder / f"regret-{experiment}-{slug(title)}.png"))
    markdown = ("\n".join(headline_lines(experiment, headlines)) + render_markdown(experiment, rows, settings) + "\n"
                + "\n".join(levels) + "\n" + "\n".join(ceiling_lines(settings, ceilings)))
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


def _main_runs(setting: Setting, records: dict[tuple, list[dict]]) -> tuple[dict[float, list[dict]], list[dict]]:
    """The runs of the setting's main estimator (first beta) by q, and of its Plain PM."""
    main = {q1 - 1.0: runs for (algo, q1, beta), runs in records.items() if algo == setting.algos[0] and beta == setting.betas[0]}
    return main, next((runs for key, runs in records.items() if key[0] == PLAIN), [])


def method_name(setting: Setting, algo: str) -> str:
    """A row's method: the paper's names for the paper's recipe; the learner's estimator and beta, or its Plain PM."""
    if setting.recipe == "paper":
        return METHOD.get(algo, algo)
    return "Plain PM, trained as the learner" if algo == PLAIN else f"Equitable learner ({algo}, β {setting.betas[0]:g})"


def method_title(setting: Setting) -> str:
    """The block's estimator and recipe as the section headings name them."""
    return method_name(setting, setting.algos[0]) + (", the paper's recipe" if setting.recipe == "paper" else "")


def levelling_section(setting: Setting, records: dict[tuple, list[dict]], references: dict[str, dict],
                      ceiling: dict[str, Any] | None = None) -> list[str]:
    """Levelling against q = 0 and the Plain PM, objective consistency over q, and the captured share of the hindsight
    lift (``ceiling``: the setting's truth family, by q + 1 label) of the setting's main estimator (first beta)."""
    from trainers.studies.levelling import captured_lines, q_comparison_lines, q_label

    main, plain = _main_runs(setting, records)
    if not main:
        return []
    captured = captured_lines({q_label(q): runs for q, runs in main.items()}, ceiling) if ceiling else []
    return [f"### {setting.title}, {setting.setup} setup: {method_title(setting)}, over q", "",
            *q_comparison_lines(main, plain, references),
            *(["Captured share of the hindsight lift (the worst tenth's fall from q = 0, learned against the hindsight "
               "ceiling's):", "", *captured, ""] if captured else [])]


def headline(setting: Setting, records: dict[tuple, list[dict]]) -> list[str]:
    """One line: what the setting's largest q does against its q = 0 and its Plain PM, in the levelling's words."""
    from trainers.studies.levelling import levelling, q_label, tenths

    main, plain = _main_runs(setting, records)
    top = max(main, default=0.0)
    if top == 0.0:
        return []
    worst = lambda runs: float(np.mean(tenths(runs)["worst10"]))  # noqa: E731
    against = [(name, base) for name, base in (("its q = 0", main.get(0.0, [])), ("its Plain PM", plain)) if base]
    calls = []
    for name, base in against:
        result = levelling(main[top], base)
        calls.append(f"**{result['verdict']}** against {name} (worst tenth {worst(base):.3f} -> {worst(main[top]):.3f}, "
                     f"mean {100 * (result['mean_ratio'] - 1):+.1f} %)")
    return [f"- {setting.title}, {setting.setup} setup, {method_title(setting)}: q+1 = {q_label(top)} " + "; ".join(calls)]


def headline_lines(experiment: str, headlines: list[str]) -> list[str]:
    """The summary's first lines: which method's largest q levels up, per setting and setup."""
    if not headlines:
        return []
    return [f"## {experiment}: which levels up (test split, final models, mean over seeds; the verdicts of the "
            "levelling tables below)", "", *headlines, "", ""]


def ceiling_lines(settings: list[Setting], ceilings: dict[tuple[str, str], dict[str, Any]]) -> list[str]:
    """The hindsight ceiling of each setting as Markdown: per q + 1, the test mean and worst tenth of the true
    signal's parts re-weighted for that q (``eqpm bench frontier``'s truth family)."""
    labels = list(next(iter(ceilings.values())))
    rows = []
    for title, setup in dict.fromkeys((s.title, s.setup) for s in settings):
        picks = ceilings[(title, setup)]
        rows.append([title, setup,
                     *(f"{picks[label]['test']['mean']:.4f} / {picks[label]['test']['worst10']:.4f}" for label in labels)])
    return [f"### The hindsight ceiling (the true signal's parts re-weighted per q, grid step 1/{CEILING_RESOLUTION} of the "
            "index's total weight; test mean / worst tenth; needs perfect information: `eqpm bench frontier`)", "",
            *markdown_table(["Setting", "Setup", *(f"q+1 = {label}" for label in labels)], rows), ""]


def _label(setting: Setting) -> dict[str, Any]:
    return {"experiment": setting.experiment, "setting": setting.title, "setup": setting.setup, "recipe": setting.recipe}


def _rows(setting: Setting, records: dict[tuple, list[dict]]) -> list[dict]:
    rows = []
    for (algo, q1, beta), runs in records.items():
        row = _label(setting) | {"method": method_name(setting, algo), "algo": algo, "q+1": "-" if algo == PLAIN else f"{q1:g}",
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
              "24 past hours with the clock, on EV with the forecast hours' known-ahead inputs). Both use the same seeds. "
              "In the paper setup `persistence_daily` copies the hours 24 h before each forecast hour, outside the "
              "model's 12-hour window: no model there sees what it uses, and on EV none reaches it (RESULTS.md, "
              "`eqpm train` with its defaults).")


def network_note(settings: list[Setting]) -> str:
    """Which network every run of these settings trained: the paper's for each env, named with its size."""
    def network(setting: Setting) -> str:
        config = TrainConfig(env=setting.env, backbone=setting.backbone)
        size = {"transformer": f"the Transformer (d_model {config.d_model}, {config.heads} heads)",
                "lstm": f"the LSTM (hidden {config.hidden})", "mlp": f"the MLP (width {config.width})"}
        whose = "the paper's" if setting.recipe == "paper" else "the learner's: `eqpm train`'s default"
        return f"{setting.env} {size[config.backbone]} ({whose})"

    used = dict.fromkeys(network(s) for s in settings)
    return (f"Network of every run: {'; '.join(used)}; `eqpm train` defaults to the network that learns most in the "
            "same time (trainers/config.py:DEFAULT_NETWORK).")


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
    lines += ["", SETUP_NOTE, network_note(settings), "Intervals: percentile bootstrap of the mean over seeds (scipy.stats.bootstrap); with 3 "
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
        learner = "" if setting.recipe == "paper" else f", {setting.method}"
        lines.append(f"- {setting.title}, {setting.setup}{learner}: "
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
