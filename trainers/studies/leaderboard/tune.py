"""``eqpm tune``: the board's SB3 baselines' hyperparameters, by Optuna search on the training split only.

Each trial trains ``algo`` on the window view of ``env`` (q as on the board) for
``budget`` env steps of 128 windows with values drawn from the space below by
Optuna's TPE sampler (seeded), and scores it by the training split's mean regret
(every training window, the fixed evaluation draws): the test split is never
read. Trials are stored in ``OUT/study.db`` (SQLite), so an interrupted search
goes on where it stopped; ``OUT/trials.csv`` lists every trial and
``OUT/best.json`` the best, in the form of
:data:`~trainers.studies.leaderboard.hyperparameters.TUNED`. ``eqpm tune --all``
runs every search behind that file (its ``SEARCHES``) and says whether each
finds the file's values. Needs the ``tune`` extra (``pip install -c
constraints.txt -e ".[sb3,tune]"``).
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from eq_gym.choices import BATCH_SIZE
from trainers.studies.leaderboard.baselines import WINDOWS_PER_STEP, sb3_model
from trainers.studies.leaderboard.hyperparameters import FIXED, SEARCHES, TUNED
from trainers.studies.report import write_csv

NETS = {"small": [64, 64], "medium": [256, 256]}


def ppo_space(trial: Any) -> dict[str, Any]:
    n_steps = trial.suggest_categorical("n_steps", [8, 16, 32])
    return {
        "learning_rate": trial.suggest_float("learning_rate", 1e-5, 3e-3, log=True),
        "n_steps": n_steps,
        "batch_size": min(trial.suggest_categorical("batch_size", [256, 512, 1024]), n_steps * WINDOWS_PER_STEP),
        "n_epochs": trial.suggest_categorical("n_epochs", [1, 2, 5]),
        "clip_range": trial.suggest_categorical("clip_range", [0.1, 0.2, 0.3]),
        "log_std_init": trial.suggest_float("log_std_init", -3.0, 0.0),
        "net_arch": NETS[trial.suggest_categorical("net", list(NETS))],
    }


def a2c_space(trial: Any) -> dict[str, Any]:
    return {
        "learning_rate": trial.suggest_float("learning_rate", 1e-5, 3e-3, log=True),
        "n_steps": trial.suggest_categorical("n_steps", [1, 2, 4, 8]),
        "normalize_advantage": trial.suggest_categorical("normalize_advantage", [False, True]),
        "log_std_init": trial.suggest_float("log_std_init", -3.0, 0.0),
        "net_arch": NETS[trial.suggest_categorical("net", list(NETS))],
    }


def sac_space(trial: Any) -> dict[str, Any]:
    return {
        "learning_rate": trial.suggest_float("learning_rate", 1e-5, 3e-3, log=True),
        "batch_size": trial.suggest_categorical("batch_size", [256, 512]),
        "gradient_steps": trial.suggest_categorical("gradient_steps", [1, 2]),
        "net_arch": NETS[trial.suggest_categorical("net", list(NETS))],
    }


SPACES: dict[str, Callable[[Any], dict[str, Any]]] = {"ppo": ppo_space, "a2c": a2c_space, "sac": sac_space}
"""Each algorithm's search space: trial -> the tuned keywords (the rest are FIXED). The zoo's ranges, bounded by
the board's hour: PPO at most 5 passes over a rollout and SAC 2 gradient steps per 64 windows, so that the
slowest point of either stays near a minute a board run on one core (PPO's 10 passes of a 256-wide net took
34 s at a quarter of the budget, 2.3 minutes a board run)."""


def train_and_score(algo: str, env: str, q: float, seed: int, budget: int, params: dict[str, Any], train: Any) -> float:
    """The mean regret on ``train`` (the env's training task) of ``algo`` trained with ``params`` for ``budget``
    steps of 128 windows."""
    from trainers.evaluate import evaluate

    model, forecaster = sb3_model(algo, env, q, seed, budget * BATCH_SIZE, FIXED[algo] | params)
    model.learn(total_timesteps=budget * BATCH_SIZE)
    return float(evaluate(forecaster, train)[0]["mean"])


def tune(algo: str, env: str = "EquitablePM-EV-v0", trials: int = 20, budget: int = 512, q: float = 1.0, seed: int = 0,
         out: Path | None = None) -> dict[str, Any]:
    """Run (or go on with) the search until ``trials`` trials are finished; write trials.csv and best.json in
    ``out`` (default ``runs/tune/ENV-ALGO``) and return the best trial: its score, params and tuned keywords."""
    try:
        import optuna
    except ImportError as error:
        raise ValueError("eqpm tune needs Optuna: pip install -c constraints.txt -e '.[sb3,tune]'") from error
    if algo not in SPACES:
        raise ValueError(f"--algo {algo!r} has no search space; use one of {tuple(SPACES)}")
    if trials < 1 or budget < 1:
        raise ValueError(f"--trials {trials} --budget {budget}: both need to be >= 1")
    out = Path(out or f"runs/tune/{env}-{algo}")
    out.mkdir(parents=True, exist_ok=True)
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    study = optuna.create_study(study_name=f"{env}-{algo}-q={q:g}-budget={budget}-seed={seed}", direction="minimize",
                                storage=f"sqlite:///{out / 'study.db'}", load_if_exists=True,
                                sampler=optuna.samplers.TPESampler(seed=seed))

    from eq_gym.envs.base import task_of

    train = task_of(env, "train", {})  # built once: every trial is scored on it

    def objective(trial: Any) -> float:
        started = time.perf_counter()
        score = train_and_score(algo, env, q, seed, budget, SPACES[algo](trial), train)
        print(f"trial {trial.number}: train mean regret {score:.5f} in {time.perf_counter() - started:.0f} s, "
              f"{trial.params}", flush=True)
        return score

    finished = [t for t in study.trials if t.state == optuna.trial.TrialState.COMPLETE]
    study.optimize(objective, n_trials=max(0, trials - len(finished)))
    return write_results(study, algo, out)


def write_results(study: Any, algo: str, out: Path) -> dict[str, Any]:
    """trials.csv (every finished trial) and best.json (the best one, with its tuned keywords) in ``out``."""
    import optuna

    done = [t for t in study.trials if t.state == optuna.trial.TrialState.COMPLETE]
    write_csv(out / "trials.csv", [{"trial": t.number, "train_mean": t.value, **t.params} for t in done])
    best = study.best_trial
    result = {"study": study.study_name, "trials": len(done), "train_mean": best.value, "params": best.params,
              "tuned": SPACES[algo](optuna.trial.FixedTrial(best.params))}
    (out / "best.json").write_text(json.dumps(result, indent=2) + "\n")
    print(f"best of {len(done)} trials ({study.study_name}): train mean regret {best.value:.5f}\n"
          f"  {json.dumps(result['tuned'])}\nwrote {out / 'trials.csv'}, {out / 'best.json'}")
    return result


def tune_all(out: Path | None = None) -> list[dict[str, Any]]:
    """Every search behind ``TUNED`` (``SEARCHES``, one after another, each into ``out/ENV-ALGO``, default
    ``runs/tune``); writes ``out/searches.csv`` with, per search, its best score and whether its best values are
    the file's at three significant digits. Returns those rows."""
    root = Path(out or "runs/tune")
    rows = []
    for (algo, env), search in SEARCHES.items():
        best = tune(algo, env, trials=search["trials"], budget=search["budget"], out=root / f"{env}-{algo}")
        rows.append({"algo": algo, "env": env, **search, "train_mean": best["train_mean"],
                     "as_in_the_file": as_in_the_file(best["tuned"], TUNED[algo][env])})
    write_csv(root / "searches.csv", rows)
    for row in rows:
        verdict = "finds the file's values" if row["as_in_the_file"] else "does NOT find the file's values"
        print(f"{row['algo']:>4} {row['env']:<22} best train mean {row['train_mean']:.5f}: {verdict}")
    print(f"wrote {root / 'searches.csv'}")
    return rows


def as_in_the_file(found: dict[str, Any], recorded: dict[str, Any]) -> bool:
    """Whether a search's tuned values are the recorded ones, numbers compared at three significant digits."""
    def rounded(value: Any) -> Any:
        return float(f"{value:.3g}") if isinstance(value, float) else value

    return found.keys() == recorded.keys() and all(rounded(found[k]) == rounded(recorded[k]) for k in found)
