"""The leaderboard's tables and figures, from runs.csv alone (``eqpm benchmark --report-only``)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from eq_gym.metrics import METRIC_NAMES as STATS
from eq_gym.metrics import METRIC_TITLES
from trainers.evaluate import reference_records
from trainers.studies import aggregates
from trainers.studies.hindsight import read_frontier
from trainers.studies.intervals import bootstrap_interval
from trainers.studies.leaderboard.table import RUNS_FILE
from trainers.studies.levelling import captured_share, levelling, q_label
from trainers.studies.report import PLAIN, markdown_table, write_csv
from trainers.studies.sweep import over_seeds, updates_to_level


def report(table: list[dict[str, Any]], out: Path, frontiers: tuple[Path, ...] = ()) -> list[dict[str, Any]]:
    """Every table and figure from the tidy run rows: per env (with learning curves, and the captured share of
    each env that ``frontiers`` holds) and across envs."""
    if not table:
        raise ValueError(f"no finished run in {out}: nothing to rank (run `eqpm benchmark --out {out}` first)")
    truths = {found["env"]: found["truth"] for found in map(read_frontier, frontiers)}
    rows, curves = per_env_rows(table, out, truths)
    across, figures = across_envs(table, out)
    (out / "leaderboard.md").write_text(render(rows) + "\n" + row_notes(rows) + "\n" + across)
    write_csv(out / "leaderboard.csv", rows)
    print(render(rows))
    print(across)
    written = [out / "leaderboard.md", out / "leaderboard.csv", out / RUNS_FILE, *curves, *figures]
    print(f"wrote {', '.join(str(path) for path in written)}")
    return rows


def per_env_rows(table: list[dict[str, Any]], out: Path, truths: dict[str, dict[str, Any]] | None = None,
                 ) -> tuple[list[dict[str, Any]], list[Path]]:
    """One row per env and algorithm (IQM of the mean regret over seeds with its interval, mean ± std of every
    metric, wall time, updates, updates to the reference's level, the levelling against the Plain PM and, for an
    env of ``truths`` (env -> ``eqpm bench frontier``'s truth family), the captured share); the learning curves per
    env, and their paths."""
    rows, curves = [], []
    for env in dict.fromkeys(r["env"] for r in table):
        mine = [r for r in table if r["env"] == env]
        level = mine[0]["reference_mean"]
        for algo in dict.fromkeys(r["algo"] for r in mine):
            records = [r for r in mine if r["algo"] == algo]
            row: dict[str, Any] = {"env": env, "algo": algo, "seeds": len(records), "level": level}
            row |= over_seeds(records, STATS)
            row["iqm"], row["iqm_low"], row["iqm_high"] = bootstrap_interval([m["mean"] for m in records], "iqm")
            row["wall_s"] = float(np.mean([m["wall_s"] for m in records]))
            row["steps"] = float(np.mean([m["steps"] for m in records]))
            row["windows"] = float(np.mean([m["windows"] for m in records]))
            row["steps_to_level"] = updates_to_level(records, level)
            plain = [r for r in mine if r["algo"] == PLAIN]
            row["levelling"] = levelling(records, plain)["verdict"] if plain and algo != PLAIN and "best10" in records[0] else "-"
            row["captured"] = captured(records, plain, (truths or {}).get(env)) if algo != PLAIN else None
            rows.append(row)
        curves.append(_curves(env, mine, level, out))
    rows.sort(key=lambda r: (r["env"], r["mean"]))
    return rows, curves


ROW_NOTES = {
    PLAIN: "the Plain PM: the MSE alone, the paper's accuracy-trained model",
    "pg": "the paper's REINFORCE as written (one score for the whole batch, no baseline); its floor: one draw's cosine "
          "with the expected gradient is 0.013 +- 0.276 on EV (`eqpm bench gradient-noise`), so it stays near its "
          "untrained model at any budget a board buys",
    "rloo": "eqpm's REINFORCE with a leave-one-out baseline per window, the paper's recipe (one run at q)",
    "learner": "eqpm train's default: rloo along the path in q (EV, Mixed; the path's epochs scaled to the budget) or "
               "the paper's recipe (DC, where it is the rloo row's run)",
    "ppo": "Stable-Baselines3's PPO on the window view, its per-env hyperparameters from "
           "trainers/studies/leaderboard/hyperparameters.py (`eqpm tune`)",
    "a2c": "Stable-Baselines3's A2C, as ppo",
    "sac": "Stable-Baselines3's SAC, as ppo",
}
"""What each of the board's own rows is, written under the table for the rows it has."""


def row_notes(rows: list[dict[str, Any]]) -> str:
    """The rows' notes (:data:`ROW_NOTES`) for the algorithms on the board, as a Markdown list."""
    algos = [algo for algo in dict.fromkeys(r["algo"] for r in rows) if algo in ROW_NOTES]
    return "".join(f"- `{algo}`: {ROW_NOTES[algo]}\n" for algo in algos)


def captured(records: list[dict[str, Any]], plain: list[dict[str, Any]], truth: dict[str, Any] | None) -> float | None:
    """An algorithm's captured share of the hindsight lift at its q: its worst tenth's fall from the Plain PM's
    (the board's accuracy-trained model, its q = 0) over the ``truth`` front's fall from q = 0 to that q (means
    over seeds, test split); None without the front, the Plain PM or that q in the front."""
    label = q_label(float(records[0]["q"]))
    if truth is None or not plain or label == "1" or label not in truth:
        return None
    return captured_share(float(np.mean([r["worst10"] for r in plain])), float(np.mean([r["worst10"] for r in records])),
                          truth["1"]["test"]["worst10"], truth[label]["test"]["worst10"])


def across_envs(table: list[dict[str, Any]], out: Path) -> tuple[str, list[Path]]:
    """The Markdown table across envs: each score's aggregates with intervals, and the calls against the
    Plain PM and rloo that the intervals allow; the performance-profile and improvement figures and their paths
    (none where no algorithm has runs on every env with equal seeds)."""
    matrices = {score: aggregates.score_matrices(table, score) for score in aggregates.SCORES}
    estimates = {score: aggregates.interval_estimates(m) for score, m in matrices.items()}
    over_plain = {score: aggregates.probability_of_improvement(m, PLAIN) for score, m in matrices.items()}
    over_rloo = {score: aggregates.probability_of_improvement(m, "rloo") for score, m in matrices.items()}
    some = next(iter(matrices["mean"].values()), None)
    if some is None:
        return "No algorithm has runs on every env with equal seeds: no aggregates across envs.\n", []
    method = ("rliable's stratified bootstrap (runs resampled within each env)" if aggregates.have_rliable() else
              "a percentile bootstrap over the pooled runs (install the [rliable] extra for rliable's stratified bootstrap)")
    lines = ["## Across envs: normalised scores (1: zero regret, 0: the env's best reference forecaster)", "",
             f"Intervals rest on {some.size} runs per algorithm ({some.shape[1]} envs x {some.shape[0]} seeds), 95 %, "
             f"{method}. A difference is called only where the intervals do not overlap.", ""]
    header = ["Score", "Algo", "IQM", "Mean", "Median", "Optimality gap", "P(better than Plain PM)", "P(better than rloo)",
              "IQM vs Plain PM"]
    cells = []
    for score in aggregates.SCORES:
        plain = estimates[score].get(PLAIN)
        for algo, found in sorted(estimates[score].items(), key=lambda item: -item[1]["iqm"][0]):
            call = "-" if plain is None or algo == PLAIN else aggregates.difference(found["iqm"], plain["iqm"])
            cells.append([score, algo, *(_interval(found[a]) for a in aggregates.AGGREGATES),
                          _interval(over_plain[score].get(algo)), _interval(over_rloo[score].get(algo)), call])
    lines += markdown_table(header, cells)
    return "\n".join(lines) + "\n", aggregates.figures(matrices, over_plain, out)


def _interval(estimate: tuple[float, float, float] | None) -> str:
    if estimate is None:
        return "-"
    point, low, high = estimate
    return f"{point:.3f}" if np.isnan(low) else f"{point:.3f} [{low:.3f}, {high:.3f}]"


def reference_record(env: str) -> dict[str, Any]:
    """The test record of the best reference forecaster (lowest mean regret) that applies to ``env``."""
    return min(reference_records(env).values(), key=lambda r: r["mean"])


def render(rows: list[dict[str, Any]]) -> str:
    header = ["Env", "Algo", "Mean regret: IQM [95 % CI]", *(METRIC_TITLES[s] for s in STATS), "vs Plain PM",
              "Captured share", "Wall (s)", "Updates", "Windows seen", "Steps to level", "Seeds"]
    table = []
    for row in rows:
        cells = [row["env"], row["algo"], f"{row['iqm']:.4f} [{row['iqm_low']:.4f}, {row['iqm_high']:.4f}]"]
        for stat in STATS:
            fmt = "{:.3g}" if abs(row[stat]) < 1e-3 else "{:.4f}"
            cells.append(fmt.format(row[stat]) + (f" ± {fmt.format(row[stat + '_std'])}" if row["seeds"] > 1 else ""))
        level = "-" if row["steps_to_level"] is None else f"{row['steps_to_level']:.0f}"
        share = row["captured"]
        cells += [row["levelling"], "-" if share is None else f"{100 * share:.0f} %", f"{row['wall_s']:.1f}", f"{row['steps']:.0f}", f"{row['windows']:,.0f}", level, str(row["seeds"])]
        table.append(cells)
    return "\n".join(markdown_table(header, table)) + "\n"


def _curves(env: str, table: list[dict[str, Any]], level: float, out: Path) -> Path:
    from trainers.studies.figures import pyplot

    plt = pyplot()
    figure, axis = plt.subplots(figsize=(6.4, 4.0))
    for algo in dict.fromkeys(r["algo"] for r in table):
        histories = [r["history"] for r in table if r["algo"] == algo and r["history"]]
        if histories:
            length = min(len(h) for h in histories)
            steps = [h["steps"] for h in histories[0][:length]]
            axis.plot(steps, np.mean([[h["mean"] for h in hist[:length]] for hist in histories], axis=0), marker="o", label=algo)
    axis.axhline(level, color="grey", linestyle="--", label="best reference forecaster")
    axis.set_xlabel("env steps of 128 windows")
    axis.set_ylabel("test mean regret")
    axis.set_title(env)
    axis.legend(fontsize=8)
    figure.tight_layout()
    out.mkdir(parents=True, exist_ok=True)
    figure.savefig(out / f"curves-{env}.png", dpi=120)
    plt.close(figure)
    return out / f"curves-{env}.png"
