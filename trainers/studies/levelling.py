"""Levelling up or down: what a q did to the worst-served and the best-served, and whether it optimised its own objective.

Equity is judged by the worst-served agents in absolute terms. Regret that is
"more even" because the best-served got worse is levelling down. Against a
baseline (q = 0, the Plain PM), each point gets the change in its worst-served
tenth's and its best-served tenth's test regret (mean over seeds, 95 %
percentile-bootstrap interval of the difference, the two groups of seeds
resampled apart), and one verdict (none from a single seed):

- **levels up**: the worst tenth lower beyond its interval, the best tenth not
  higher beyond its interval;
- **trade**: one tenth lower and the other higher, each beyond its interval;
- **levels down**: the worst tenth not lower, and the best tenth or the worst
  tenth higher beyond its interval;
- **within noise**: neither tenth moved beyond its interval.

A point is **dominated** when another point (a q, the Plain PM or a
reference forecaster) has both a lower mean and a lower worst tenth.

**Objective consistency**: the model trained at q_a should score at least as
well on the training split's P_{q_a} (power-mean form) as the models trained
at the other q. :func:`consistency` scores every model on every q's
objective and flags a column whose own model is worse than another beyond
the two groups' intervals.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from eq_gym.metrics import best_served, worst_served
from trainers.studies.intervals import bootstrap_interval, difference_interval
from trainers.studies.report import PLAIN, markdown_table

VERDICTS = ("levels up", "trade", "levels down", "within noise")
ONE_SEED = "one seed: no verdict"
"""What :func:`levelling` says when either side has a single run: no interval, so no call."""


def classify(worst: tuple[float, float, float], best: tuple[float, float, float]) -> str:
    """The verdict from the (change, low, high) of the worst-served and the best-served tenth's regret."""
    worst_lower, worst_higher = worst[2] < 0.0, worst[1] > 0.0
    best_lower, best_higher = best[2] < 0.0, best[1] > 0.0
    if worst_lower:
        return "trade" if best_higher else "levels up"
    if worst_higher and best_lower:
        return "trade"
    if worst_higher or best_higher:
        return "levels down"
    return "within noise"


def tenths(records: Sequence[dict[str, Any]]) -> dict[str, list[float]]:
    """Per run: the test mean, the worst-served and the best-served tenth's regret (from ``agent_regret``, or a
    leaderboard row's ``mean``, ``worst10`` and ``best10``)."""
    if records and "agent_regret" not in records[0]:
        return {key: [float(r[key]) for r in records] for key in ("mean", "worst10", "best10")}
    regrets = [np.asarray(r["agent_regret"], dtype=float) for r in records]
    return {"mean": [float(a.mean()) for a in regrets], "worst10": [worst_served(a) for a in regrets],
            "best10": [best_served(a) for a in regrets]}


def levelling(point: Sequence[dict[str, Any]], base: Sequence[dict[str, Any]]) -> dict[str, Any]:
    """The changes from ``base``'s runs to ``point``'s (worst tenth, best tenth, mean: change, low, high) and the verdict."""
    mine, theirs = tenths(point), tenths(base)
    changes = {key: difference_interval(mine[key], theirs[key]) for key in ("worst10", "best10", "mean")}
    verdict = classify(changes["worst10"], changes["best10"]) if min(len(point), len(base)) > 1 else ONE_SEED
    return {**changes, "verdict": verdict,
            "mean_ratio": float(np.mean(mine["mean"]) / np.mean(theirs["mean"]))}


def dominated(points: dict[str, tuple[float, float]]) -> set[str]:
    """The labels of ``points`` (label -> (mean, worst10)) that another point beats on both."""
    return {label for label, (mean, worst) in points.items()
            if any(m < mean and w < worst for other, (m, w) in points.items() if other != label)}


def consistency(models: dict[float, Sequence[dict[str, Any]]]) -> dict[str, Any]:
    """Every model (trained at q, its runs over seeds) scored on every q's training-split objective as the runs
    trained on it: the power mean P_q, or where the runs' ``beta`` is above 0 (the same in every run)
    (1 - beta) P_q + beta MSE.

    Returns ``{"q": [...], "beta": beta, "value": {(q_model, q_objective): (mean, low, high)}, "violations":
    [(q_objective, q_better_model)], "missing": [q]}``: a violation where another model's interval lies wholly
    below the interval of the model trained for that objective. Runs without ``train_agent_regret`` (with
    ``beta`` > 0: or without ``train_mse``) are left out (``missing``).
    """
    import torch

    from eq_gym.objective import Objective

    betas = {float(r.get("beta", 0.0)) for runs in models.values() for r in runs}
    if len(betas) > 1:
        raise ValueError(f"runs trained with beta {sorted(betas)}: compare models trained on one objective family "
                         "(one beta) at a time")
    beta = betas.pop() if betas else 0.0
    needed = ("train_agent_regret", "train_mse") if beta > 0.0 else ("train_agent_regret",)
    qs = sorted(models)
    missing = [q for q in qs if not all(key in r for r in models[q] for key in needed)]
    qs = [q for q in qs if q not in missing and models[q]]
    value = {}
    for trained in qs:
        regrets = torch.tensor([r["train_agent_regret"] for r in models[trained]], dtype=torch.float64)
        mse = torch.tensor([r.get("train_mse", 0.0) for r in models[trained]], dtype=torch.float64)
        for objective in qs:
            scores = Objective(objective, "power_mean", beta).combined(regrets, mse).numpy()
            value[(trained, objective)] = bootstrap_interval(scores)
    violations = [(objective, other) for objective in qs for other in qs
                  if other != objective and value[(other, objective)][2] < value[(objective, objective)][1]]
    return {"q": qs, "beta": beta, "value": value, "violations": violations, "missing": missing}


def captured_share(learned_q0: float, learned_q: float, hindsight_q0: float, hindsight_q: float) -> float | None:
    """The share of the hindsight lift a learner captured at a q: its worst-served tenth's fall from q = 0 over
    the fall of ``eqpm bench frontier``'s ``truth`` family between the same q (test split); None where
    hindsight offers no lift."""
    lift = hindsight_q0 - hindsight_q
    return None if lift <= 0.0 else (learned_q0 - learned_q) / lift


def captured_lines(runs: dict[str, Sequence[dict[str, Any]]], truth: dict[str, Any]) -> list[str]:
    """One line per q > 0 of ``runs`` (q label -> runs) that ``truth`` (frontier.json's ``truth``) also holds: the
    learner's captured share of the hindsight lift in the worst-served tenth."""
    lines = []
    if "1" not in runs or "1" not in truth:
        return lines
    learned_zero = float(np.mean(tenths(runs["1"])["worst10"]))
    for label, records in runs.items():
        if label in ("1", PLAIN) or label not in truth:
            continue
        learned, hindsight = float(np.mean(tenths(records)["worst10"])), truth[label]["test"]["worst10"]
        share = captured_share(learned_zero, learned, truth["1"]["test"]["worst10"], hindsight)
        lines.append(f"- q+1 = {label}: worst tenth {learned_zero:.4f} -> {learned:.4f} learned, "
                     f"{truth['1']['test']['worst10']:.4f} -> {hindsight:.4f} in hindsight (truth re-weighted): captured "
                     + ("nothing (no hindsight lift)" if share is None else f"{100 * share:.0f} % of the lift"))
    return lines


def weight_shares(regret: np.ndarray, q: float) -> np.ndarray:
    """Each agent's share of the power mean P_q's gradient at the agents' regrets (M,) -> (M,), summing to 1:
    :func:`eq_gym.objective.agent_weights` normalised (q = 0: even; q = inf: even over the largest regrets)."""
    import torch

    from eq_gym.objective import agent_weights

    weights = agent_weights(torch.from_numpy(np.asarray(regret, dtype=np.float64)), q, "power_mean").numpy()
    return weights / weights.sum()


def with_q_zero(q_plus_one: tuple[float, ...]) -> tuple[float, ...]:
    """The q + 1 values with 1 (q = 0, what every verdict is against) first when it is missing."""
    return q_plus_one if 1.0 in q_plus_one else (1.0, *q_plus_one)


def q_label(q: float) -> str:
    """q + 1 as the tables show it ('1', '20', 'inf')."""
    return f"{q + 1:g}"


def consistency_lines(result: dict[str, Any]) -> list[str]:
    """The consistency matrix as Markdown: rows the models (trained at q + 1), columns the objectives P_{q+1}."""
    qs = result["q"]
    if len(qs) < 2:
        return []
    header = ["trained at q+1 \\ scored on P_q, q+1 ="] + [q_label(q) for q in qs]
    rows = []
    for trained in qs:
        cells = []
        for objective in qs:
            mean, low, high = result["value"][(trained, objective)]
            best = min(result["value"][(other, objective)][0] for other in qs)
            flag = " !" if (objective, trained) in result["violations"] else (" *" if mean == best else "")
            cells.append(f"{mean:.4f} [{low:.4f}, {high:.4f}]{flag}")
        rows.append([q_label(trained)] + cells)
    scored = f"(1 - beta) P_q + beta MSE, beta {result['beta']:g}" if result.get("beta") else "power-mean P_q"
    lines = [f"Objective consistency (training split, {scored}, mean [95 % interval] over seeds; * the column's "
             "lowest; ! a model beats the column's own beyond the intervals):", "", *markdown_table(header, rows), ""]
    if result["violations"]:
        lines += [f"- does not hold: the model trained at q+1 = {q_label(other)} scores lower on P at q+1 = {q_label(obj)} "
                  "than the model trained for it" for obj, other in result["violations"]]
    else:
        lines.append("- holds: no model beats the one trained for an objective beyond the intervals")
    if result["missing"]:
        lines.append(f"- left out (runs made before train_agent_regret, or with beta train_mse, was recorded): q+1 = "
                     f"{', '.join(q_label(q) for q in result['missing'])}")
    return lines + [""]


def levelling_lines(points: dict[str, Sequence[dict[str, Any]]], baselines: dict[str, Sequence[dict[str, Any]]],
                    references: dict[str, dict[str, Any]] | None = None) -> list[str]:
    """One Markdown row per point and baseline: the tenths' changes with intervals, the verdict, dominated or not."""
    summary = {label: tenths(runs) for label, runs in {**points, **baselines}.items() if runs}
    positions = {label: (float(np.mean(t["mean"])), float(np.mean(t["worst10"]))) for label, t in summary.items()}
    positions |= {label: (r["mean"], r["worst10"]) for label, r in (references or {}).items()}
    beaten = dominated(positions)
    header = ["point", "against", "worst tenth change", "best tenth change", "mean", "verdict", "dominated"]
    rows = []
    for label, runs in points.items():
        for base_label, base in baselines.items():
            if not runs or not base or base is runs:
                continue
            result = levelling(runs, base)
            cell = lambda key: "{:+.4f} [{:+.4f}, {:+.4f}]".format(*result[key])  # noqa: E731
            rows.append([label, base_label, cell("worst10"), cell("best10"), f"{100 * (result['mean_ratio'] - 1):+.1f} %",
                         f"**{result['verdict']}**", "yes" if label in beaten else "no"])
    if not rows:
        return []
    return ["Levelling (test split, final models, mean over seeds; changes with 95 % bootstrap intervals; "
            "dominated: another point, the Plain PM or a reference forecaster has a lower mean and a lower worst tenth):",
            "", *markdown_table(header, rows), ""]


def q_comparison_lines(models: dict[float, Sequence[dict[str, Any]]], plain: Sequence[dict[str, Any]],
                       references: dict[str, dict[str, Any]] | None = None, prefix: str = "",
                       matrix: dict[str, Any] | None = None) -> list[str]:
    """What every report that compares q prints: each q's runs (``models``, by q) against q = 0 and the Plain PM
    (:func:`levelling_lines`, ``references`` by forecaster name), then the consistency matrix (``matrix``, or
    :func:`consistency` of ``models``). ``prefix`` starts each point's label (e.g. the estimator's name)."""
    points = {f"{prefix}q+1 = {q_label(q)}": runs for q, runs in sorted(models.items())}
    baselines = {f"{prefix}q = 0": models.get(0.0, []), "Plain PM": plain}
    lines = levelling_lines(points, baselines, {f"reference: {name}": r for name, r in (references or {}).items()})
    return lines + consistency_lines(matrix or consistency(models))
