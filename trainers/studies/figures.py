"""Figures of ``eqpm reproduce``: the equity frontier and the per-agent regret distributions.

- ``frontier-<experiment>.png``: for each block and setup, one point per q
  (or beta) of each estimator: mean regret against the worst-served tenth's
  regret, and against C95-C5; error bars are 95 % bootstrap intervals over
  seeds; the Plain PM (star) and the reference forecasters (crosses) drawn
  on the chart, wherever they lie, and the hindsight ceiling (grey
  triangles: the true signal's parts re-weighted per q, which needs perfect
  information; :mod:`trainers.studies.hindsight`). A point another point beats on both mean
  and worst tenth (a q, the Plain PM or a reference) is marked "dominated";
  which q lifts the worst-served, and at whose cost, is the summary's
  levelling table (:mod:`trainers.studies.levelling`).
- ``regret-<experiment>-<block>.png``: one small histogram per method and q,
  one row per setup; each agent's regret is averaged over the seeds, the
  Plain PM's histogram drawn in grey behind each Equitable PM's, and each
  panel titled with the mean over agents and its 95 % bootstrap interval.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from eq_gym.metrics import equity_metrics
from trainers.studies.intervals import bootstrap_interval
from trainers.studies.levelling import captured_share, dominated
from trainers.studies.report import PLAIN

PANELS = (("worst10", "worst 10 % of agents: mean regret"), ("c95_c5", "C95-C5 of the agents' regret"))


def pyplot() -> Any:
    """matplotlib.pyplot on the Agg backend (files only, no display)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def _save(figure: Any, title: str, path: Path) -> Path:
    """Title, lay out, write and close ``figure``; returns ``path``."""
    figure.suptitle(title, fontsize=9)
    figure.tight_layout()
    figure.savefig(path, dpi=110)
    pyplot().close(figure)
    return path


def _point_label(row: dict, betas: tuple[float, ...]) -> str:
    return f"β={row['beta']:g}" if len(betas) > 1 else f"q+1={row['q+1']}"


def _errors(rows: list[dict], stat: str) -> np.ndarray | None:
    """Asymmetric error bars (2, n) from the rows' bootstrap intervals; None for rows without seeds."""
    if any(f"{stat}_low" not in r for r in rows):
        return None
    return np.array([[r[stat] - r[f"{stat}_low"] for r in rows], [r[f"{stat}_high"] - r[stat] for r in rows]])


class PanelLabels:
    """The point labels of one panel, whatever series they belong to, placed once the panel is drawn
    (:meth:`draw`): each label goes to the first place, stepping away from its point (up, or down for
    ``below``), where its box (estimated from its font size) overlaps no label placed before it, a thin line back
    to its point if it had to move, so that labels of points close together stay readable."""

    def __init__(self, axis: Any) -> None:
        self.axis = axis
        self.labels: list[tuple[float, float, str, bool, dict[str, Any]]] = []

    def add(self, x: float, y: float, text: str, below: bool = False, **style: Any) -> None:
        self.labels.append((x, y, text, below, style))

    def draw(self) -> list[tuple[float, float]]:
        """Annotate every label; returns each one's offset from its point (points)."""
        self.axis.get_xlim(), self.axis.get_ylim()  # settle the limits, so that data map to their final places
        to_points = 72.0 / self.axis.figure.dpi
        placed: list[tuple[float, float, float, float]] = []
        offsets = []
        for x, y, text, below, style in self.labels:
            size = style.get("fontsize", 7)
            width, height = 0.6 * size * len(text), 1.2 * size
            px, py = self.axis.transData.transform((x, y)) * to_points
            for step in range(60):
                dy = -(height + 2 + step * height) if below else 3 + step * height
                box = (px + 4, py + dy, px + 4 + width, py + dy + height)
                if not any(box[0] < b[2] and b[0] < box[2] and box[1] < b[3] and b[1] < box[3] for b in placed):
                    break
            placed.append(box)
            offsets.append((4.0, dy))
            moved = {"arrowprops": {"arrowstyle": "-", "linewidth": 0.4, "color": style.get("color", "black")}} if step else {}
            self.axis.annotate(text, (x, y), textcoords="offset points", xytext=(4, dy), **style, **moved)
        return offsets


def frontier_figure(experiment: str, settings: list[Any], rows: list[dict], path: Path,
                    ceilings: dict[tuple[str, str], dict[str, Any]] | None = None) -> Path:
    """The equity frontier of one experiment (see the module docstring), one row of panels per block and setup with
    every recipe's points on it, and each block's hindsight ceiling of ``ceilings`` ((title, setup) -> ``eqpm bench
    frontier``'s truth family) where given, a point's captured share of its lift beside it; returns ``path``."""
    plt = pyplot()
    blocks = list(dict.fromkeys((s.title, s.setup) for s in settings))
    figure, axes = plt.subplots(len(blocks), len(PANELS), figsize=(11.0, 3.8 * len(blocks)), squeeze=False)
    panels: list[PanelLabels] = []
    for block, row_axes in zip(blocks, axes):
        mine = [r for r in rows if (r["setting"], r["setup"]) == block]
        beaten = dominated({_label_of(r): (r["mean"], r["worst10"]) for r in mine})
        ceiling = (ceilings or {}).get(block)
        for (stat, ylabel), axis in zip(PANELS, row_axes):
            labels = PanelLabels(axis)  # every recipe's labels and the ceiling's, placed apart at the end
            for setting in (s for s in settings if (s.title, s.setup) == block):
                _draw_setting(axis, setting, [r for r in mine if r["recipe"] == setting.recipe], stat, beaten, ceiling,
                              labels)
            for r in (r for r in mine if not r["seeds"]):
                axis.plot([r["mean"]], [r[stat]], marker="x", markersize=8, linestyle="none", label=r["method"])
            if ceiling:
                points = [equity_metrics(np.asarray(pick["test_agent_regret"])) for pick in ceiling.values()]
                axis.plot([p["mean"] for p in points], [p[stat] for p in points], marker="^", linestyle="--",
                          color="grey", label="hindsight ceiling (truth re-weighted)")
                for label, p in zip(ceiling, points):
                    labels.add(p["mean"], p[stat], f"q+1={label}", below=True, fontsize=6, color="grey")
            for r in mine:
                if _label_of(r) in beaten and not r["seeds"]:
                    labels.add(r["mean"], r[stat], "dominated", below=True, fontsize=6, color="firebrick")
            panels.append(labels)
            axis.set_xlabel("mean regret over agents")
            axis.set_ylabel(ylabel)
            axis.set_title(f"{block[0]} ({block[1]} setup)", fontsize=9)
            axis.grid(alpha=0.3)
        row_axes[0].legend(fontsize=7)
    figure.tight_layout()  # the panels' final sizes first, then their labels placed apart
    for labels in panels:
        labels.draw()
    return _save(figure, f"{experiment.upper()}: mean against worst-served regret (test split; bars: 95 % bootstrap over "
                         "seeds; crosses: reference forecasters)\n'dominated': another point, the Plain PM or a "
                         "reference has a lower mean and a lower worst tenth\n'captured': the share of the hindsight "
                         "ceiling's fall in the worst tenth from q = 0 that a point's fall from its own q = 0 makes", path)


PLAIN_COLOUR = {"paper": "black", "path": "tab:green"}
"""The Plain PM's star per recipe (the paper's method, the equitable learner); every label is its row's method."""


def _draw_setting(axis: Any, setting: Any, rows: list[dict], stat: str, beaten: set, ceiling: dict[str, Any] | None,
                  labels: PanelLabels) -> None:
    """One recipe's points of a block on one panel: a line over q per estimator, its Plain PM as a star; their
    labels go to the panel's ``labels``."""
    for algo in setting.algos:
        points = sorted((r for r in rows if r["algo"] == algo), key=lambda r: (float(r["q+1"]), r["beta"]))
        if not points:
            continue
        axis.errorbar([r["mean"] for r in points], [r[stat] for r in points], xerr=_errors(points, "mean"),
                      yerr=_errors(points, stat), marker="o" if setting.recipe == "paper" else "s", capsize=3,
                      label=points[0]["method"])
        zero = next((r for r in points if r["q+1"] == "1"), None)
        for r in points:
            mark = ", dominated" if _label_of(r) in beaten else ""
            share = captured(zero, r, ceiling)
            labels.add(r["mean"], r[stat], _point_label(r, setting.betas) + mark +
                       ("" if share is None else f", captured {100 * share:.0f} %"), fontsize=7,
                       color="firebrick" if mark else "black")
    for r in (r for r in rows if r["seeds"] and r["algo"] == PLAIN):
        axis.errorbar([r["mean"]], [r[stat]], xerr=_errors([r], "mean"), yerr=_errors([r], stat), marker="*",
                      markersize=12, color=PLAIN_COLOUR[setting.recipe], capsize=3, linestyle="none", label=r["method"])
        if _label_of(r) in beaten:
            labels.add(r["mean"], r[stat], "dominated", below=True, fontsize=6, color="firebrick")


def captured(zero: dict | None, row: dict, ceiling: dict[str, Any] | None) -> float | None:
    """The share of the hindsight ceiling's fall in the worst tenth from q = 0 that ``row`` (a q > 0) captured from
    ``zero`` (the same estimator's q = 0 row); None where the ceiling lacks the q or offers no lift."""
    if zero is None or row is zero or not ceiling or row["q+1"] not in ceiling or "1" not in ceiling:
        return None
    return captured_share(zero["worst10"], row["worst10"], ceiling["1"]["test"]["worst10"], ceiling[row["q+1"]]["test"]["worst10"])


def _label_of(row: dict) -> tuple:
    return row["algo"], row["q+1"], row["beta"], row.get("recipe", "paper")


def _panel_title(label: str, regret: np.ndarray) -> str:
    mean, low, high = bootstrap_interval(regret)
    return f"{label}\nmean {mean:.3g} [{low:.3g}, {high:.3g}]"


def distribution_figure(experiment: str, settings: list[Any], agent_regret: dict[tuple[str, str, str], dict[tuple, np.ndarray]],
                        path: Path) -> Path | None:
    """Small multiples of the per-agent regret of one block: a row per setup and recipe (``agent_regret``'s keys:
    (title, setup, recipe)), a panel per method and q."""
    plt = pyplot()
    panels = []
    for setting in settings:
        curves = agent_regret.get((setting.title, setting.setup, setting.recipe), {})
        keys = sorted((k for k in curves if k[0] == setting.algos[0]), key=lambda k: (k[1], k[2]))
        plain = curves.get(next((k for k in curves if k[0] == PLAIN), None))
        panels.append((setting, plain, [(k, curves[k]) for k in keys]))
    columns = max((len(p[2]) + 1 for p in panels if p[1] is not None or p[2]), default=0)
    if columns == 0:
        return None
    figure, axes = plt.subplots(len(panels), columns, figsize=(2.6 * columns, 2.6 * len(panels)), squeeze=False)
    for (setting, plain, equitable), row_axes in zip(panels, axes):
        every = [c for _, c in equitable] + ([plain] if plain is not None else [])
        if not every:
            continue
        edges = np.histogram_bin_edges(np.concatenate(every), bins=20)
        if plain is not None:
            row_axes[0].hist(plain, bins=edges, color="black", alpha=0.6)
            row_axes[0].set_title(_panel_title("Plain PM", plain), fontsize=8)
        for ((algo, q1, beta), regret), axis in zip(equitable, row_axes[1:]):
            if plain is not None:
                axis.hist(plain, bins=edges, histtype="step", color="grey", linewidth=1.0)
            axis.hist(regret, bins=edges, color="tab:blue", alpha=0.8)
            label = f"{algo}, q+1 = {q1:g}" + (f", β = {beta:g}" if len(setting.betas) > 1 else "")
            axis.set_title(_panel_title(label, regret), fontsize=8)
        for axis in row_axes:
            axis.tick_params(labelsize=7)
        row_axes[0].set_ylabel(f"{setting.setup} setup, {setting.method}\nagents", fontsize=8)
        for axis in row_axes[len(equitable) + 1:]:
            axis.axis("off")
    return _save(figure, f"{experiment.upper()}, {settings[0].title}: each agent's test regret, averaged over seeds "
                         "(grey: Plain PM; [ ]: 95 % bootstrap over agents)", path)
