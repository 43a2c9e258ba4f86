"""How much room each env leaves to q.

Where one forecast is best for every agent at once, q can only re-weight the
data (and level down); where agents want different things of one forecast,
q has something to trade. Three measurements tell a user which settings pose
a genuine conflict:

- **share divergence**: two forecasters, each perfect but for one stretch of
  the day (windows starting at 6-12 h local time take a flat forecast, the
  last observed hour; or windows starting at 16-22 h), give the agents
  shares of the total regret s and s'. Their total-variation distance,
  ``0.5 * sum_m |s_m - s'_m|``, is 0 when who bears the regret cannot depend on
  where the model errs (pure scale), and up to 1 when it depends entirely.
- **conflict**: the mean regret that the perfect forecast of the public
  signal leaves the agents, over persistence_daily's on the same split. Zero
  exactly when the truth is every agent's best forecast (everyone pays under
  the signal forecast); positive when some agents pay under a signal of
  their own, so that no single forecast is best for all.
- **q sweep**: a short training run at q = 0 and at q + 1 = 20 per setting;
  the mean regret beside the worst-served and the best-served tenth's, and
  from two seeds on (``--seeds``) the verdict of :mod:`trainers.studies.levelling`
  (levels up, trade, levels down, within noise), so that a more even regret
  bought by raising the best-served tenth shows as levelling down.
"""

from __future__ import annotations

import itertools
from pathlib import Path
from typing import Any

import numpy as np
import torch

from eq_gym import ENV_IDS, data
from eq_gym.envs.base import task_of
from eq_gym.tasks import PAPER_SETTING, Task
from trainers.config import TrainConfig
from trainers.evaluate import Forecaster, evaluate, perfect_forecaster, reference_forecaster
from trainers.studies.levelling import ONE_SEED, levelling, tenths
from trainers.studies.report import machine
from trainers.studies.study import Finished, Flag, Study

MORNING, EVENING = (6, 12), (16, 22)
"""Local hours [from, to) at which the windows a garbled forecaster gets wrong start."""
SETTINGS = {"default": {}, "hours": {"priorities": "shared"}, "payers": {"timing": "shared"}, "paper": PAPER_SETTING}
"""The envs' defaults (own hours and own priorities; known-ahead inputs on EV), own hours alone, own
priorities alone, and the paper's setting."""
Q_SWEEP = (0.0, 19.0)


def garbled_forecaster(task: Task, hours: tuple[int, int]) -> Forecaster:
    """The truth, except for windows starting at local ``hours`` [from, to): a flat forecast at the last observed hour."""
    local = data.local_hour(task.region)
    truth, flat = perfect_forecaster(task), reference_forecaster(task, "persistence_last")

    def forecast(inputs: torch.Tensor, start: np.ndarray) -> torch.Tensor:
        wrong = torch.from_numpy((local[start] >= hours[0]) & (local[start] < hours[1]))
        return torch.where(wrong[:, None], flat(inputs, start), truth(inputs, start))

    return forecast


def conflict(task: Task) -> float:
    """Mean regret the perfect public forecast leaves the agents, over persistence_daily's mean regret."""
    _, perfect = evaluate(perfect_forecaster(task), task)
    _, persistence = evaluate(reference_forecaster(task, "persistence_daily"), task)
    return float(perfect.mean() / persistence.mean())


def share_divergence(task: Task) -> float:
    """Total-variation distance between the agents' regret shares under the morning- and evening-garbled forecasters."""
    shares = []
    for hours in (MORNING, EVENING):
        _, agent_regret = evaluate(garbled_forecaster(task, hours), task)
        shares.append(agent_regret / agent_regret.sum())
    return float(0.5 * np.abs(shares[0] - shares[1]).sum())


def grid(envs: tuple[str, ...], epochs: int, seeds: int, out: Path, fields: dict[str, Any]) -> list[list[TrainConfig]]:
    """Per env and setting, short runs at each q of ``Q_SWEEP`` over the seeds (``diff`` where every agent is
    smooth, else ``rloo``); none at ``epochs`` 0."""
    if epochs == 0:
        return []
    runs = []
    for env, (name, setting) in itertools.product(envs, SETTINGS.items()):
        algo = "diff" if task_of(env, "train", setting).population.smooth else "rloo"
        runs += [TrainConfig(env=env, algo=algo, q=q, epochs=epochs, seed=seed, form="power_mean", progress=False, recipe="paper",
                             **setting, **fields,
                             out=out / (f"{env}-{name}-q{q:g}-epochs={epochs}" + (f"-seed={seed}" if seed else "")))
                 for q in Q_SWEEP for seed in range(seeds)]
    return [runs]


def point(config: TrainConfig) -> tuple[str, str, float]:
    """A run's env, setting and q."""
    named = {key for value in SETTINGS.values() for key in value}
    setting = {k: v for k, v in config.env_kwargs().items() if k in named}
    return config.env, next(name for name, value in SETTINGS.items() if value == setting), config.q


def analyse(groups: dict[tuple[str, str, float], list[Finished]], envs: tuple[str, ...], epochs: int, **_: Any) -> list[dict]:
    """Per env and setting: the share divergence, the conflict and the q sweep's mean, worst and best tenth (mean over
    seeds) with the levelling verdict of q + 1 = 20 against q = 0 (from 2 seeds on)."""
    rows = []
    for env in envs:
        for name, setting in SETTINGS.items():
            task = task_of(env, "test", setting)
            row = {"env": env, "setting": name, "divergence": share_divergence(task), "conflict": conflict(task)}
            if epochs > 0:
                runs = {q: [run.record for run in groups[(env, name, q)]] for q in Q_SWEEP}
                for q, records in runs.items():
                    for key, values in tenths(records).items():
                        row[f"{key}_q{q:g}"] = float(np.mean(values))
                row["verdict"] = levelling(runs[Q_SWEEP[1]], runs[Q_SWEEP[0]])["verdict"]
            rows.append(row)
    return rows


def report_lines(rows: list[dict]) -> list[str]:
    lines = [f"Room for q (test split) on {machine()}",
             "  settings: default = the env's keywords; hours = own hours, priorities='shared'; "
             "payers = own priorities, timing='shared'; paper = " + ", ".join(f"{k}={v!r}" for k, v in PAPER_SETTING.items())]
    for row in rows:
        line = f"  {row['env']:<22} {row['setting']:<8} share divergence {row['divergence']:.3f}  conflict {row['conflict']:.3f}"
        if "mean_q0" in row:
            line += "  " + "  ".join(
                f"{label} {row[f'{key}_q0']:.4f} -> {row[f'{key}_q19']:.4f}"
                for key, label in (("mean", "mean"), ("worst10", "worst tenth"), ("best10", "best tenth"))
            ) + f"  (q = 0 -> q + 1 = 20): {row['verdict']}" + (" (--seeds 2 or more)" if row["verdict"] == ONE_SEED else "")
        lines.append(line)
    return lines


STUDY = Study(
    flags=(Flag("envs", tuple(ENV_IDS), "the envs", many=True, choices=tuple(ENV_IDS)),
           Flag("epochs", 2, "epochs of each q-sweep run, 0 for the share divergence and conflict only"),
           Flag("seeds", 1, "seeds of each q-sweep run; 2 or more for a levelling verdict")),
    grid=grid, key=point, analyse=analyse, report=report_lines, out="runs/room",
)
