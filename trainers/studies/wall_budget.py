"""Which backbone learns most in a given time: each network trained for the same wall time of updates.

``eqpm bench wall-budget`` first times one update of each network on each env on one thread (the median
of ``--repeats``; the times are kept in ``OUT/update_seconds.json``, so a rerun or another shard trains the
same runs: delete it to time again), then trains each network for ``--seconds`` of updates (updates =
seconds / update time) with the env's defaults (algo rloo, its default keywords and learning rate),
single-threaded, over seeds. Reports each network's update time, updates, test mean regret and the
worst-served tenth's with 95 % bootstrap intervals over seeds, beside the env's best reference forecaster,
and checks that each env's default network (``trainers/config.py:DEFAULT_NETWORK``) reaches the lowest
test mean. The budget counts updates only; each run's wall time with its per-epoch test evaluations is
reported beside it.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from eq_gym import ENV_IDS
from trainers.config import PAPER_SIZES, TrainConfig
from trainers.estimators import MODULES
from trainers.evaluate import reference_records
from trainers.studies.report import machine, markdown_table
from trainers.studies.study import Finished, Flag, Study
from trainers.studies.sweep import over_seeds

NETWORKS = {
    "transformer": {"backbone": "transformer", **PAPER_SIZES},
    "transformer-32": {"backbone": "transformer", "d_model": 32, "heads": 4},
    "lstm": {"backbone": "lstm", "hidden": 50},
    "mlp": {"backbone": "mlp", "width": 128},
}
"""The networks compared, as TrainConfig fields: the paper's Transformer and LSTM, a Transformer of
d_model 32, and the MLP over the window."""
TIMES = "update_seconds.json"
STATS = ("mean", "worst10")


def network_of(config: TrainConfig) -> str | None:
    """The name in :data:`NETWORKS` of a run's network (None: none of them)."""
    return next((name for name, fields in NETWORKS.items() if all(getattr(config, k) == v for k, v in fields.items())),
                None)


def base_config(env: str, network: str, algo: str | None, **fields: Any) -> TrainConfig:
    return TrainConfig(env=env, progress=False, recipe="paper", **({"algo": algo} if algo else {}), **NETWORKS[network],
                       **fields)


def prepare(options: dict[str, Any]) -> dict[str, Any]:
    """The update times: read from ``OUT/update_seconds.json`` where it has them, else measured (one thread) and
    written there."""
    from eq_gym.envs.base import one_thread
    from trainers.studies.timing import update_seconds

    path = Path(options["out"]) / TIMES
    times = json.loads(path.read_text()) if path.is_file() else {}
    wanted = [(env, network) for env in options["envs"] for network in options["networks"]]
    missing = [(env, network) for env, network in wanted if f"{env} {network}" not in times]
    if missing:
        with one_thread():
            for env, network in missing:
                config = base_config(env, network, options["algo"], out=Path(options["out"]) / "timing", **options["fields"])
                times[f"{env} {network}"] = update_seconds(config, options["repeats"])
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(times, indent=1) + "\n")
    options["update_seconds"] = {pair: times[f"{pair[0]} {pair[1]}"] for pair in wanted}
    return options


def grid(envs: tuple[str, ...], networks: tuple[str, ...], seconds: float, seeds: int, algo: str | None, out: Path,
         update_seconds: dict[tuple[str, str], float], fields: dict[str, Any], **_: Any) -> list[list[TrainConfig]]:
    runs = []
    for env in envs:
        for network in networks:
            steps = max(1, round(seconds / update_seconds[(env, network)]))
            for seed in range(seeds):
                name = f"{env.split('-')[1]}-{network}-steps={steps}-seed={seed}"
                runs.append(base_config(env, network, algo, steps=steps, seed=seed, out=out / name, **fields))
    return [runs]


def point(config: TrainConfig) -> tuple[str, str]:
    return config.env, network_of(config)


def analyse(groups: dict[tuple[str, str], list[Finished]], seconds: float, update_seconds: dict[tuple[str, str], float],
            **_: Any) -> dict[str, Any]:
    """One row per (env, network), the env's best reference forecaster, and the checks."""
    rows, references = [], {}
    for (env, network), finished in groups.items():
        if env not in references:
            references[env] = min(reference_records(env).items(), key=lambda item: item[1]["mean"])
        records = [run.record for run in finished]
        rows.append({"env": env, "network": network, "update_ms": 1e3 * update_seconds[(env, network)],
                     "steps": records[0]["steps"], "wall_s": sum(r["wall_s"] for r in records) / len(records),
                     "seeds": len(records), **over_seeds(records, STATS)})
    checks = {}
    for env, (name, reference) in references.items():
        mine = [row for row in rows if row["env"] == env]
        best = min(mine, key=lambda row: row["mean"])
        default = network_of(TrainConfig(env=env))
        if default in {row["network"] for row in mine}:
            checks[f"{env}: the default network ({default}) reaches the lowest test mean"] = best["network"] == default
        checks[f"{env}: the lowest ({best['network']}) beats {name} on the test mean"] = best["mean"] < reference["mean"]
    return {"rows": rows, "references": {env: {"name": name, **{k: ref[k] for k in STATS}}
                                         for env, (name, ref) in references.items()},
            "seconds": seconds, "checks": checks, "machine": machine()}


def report_lines(result: dict[str, Any]) -> list[str]:
    lines = [f"Networks after {result['seconds']:g} s of updates each (one thread; test split, mean and 95 % interval "
             f"over seeds) on {result['machine']}", ""]
    interval = lambda r, k: f"{r[k]:.4f} [{r[k + '_low']:.4f}, {r[k + '_high']:.4f}]"  # noqa: E731
    table = []
    for env, reference in result["references"].items():
        table.append([env, reference["name"], "-", "-", "-", "-", f"{reference['mean']:.4f}", f"{reference['worst10']:.4f}"])
        for r in (row for row in result["rows"] if row["env"] == env):
            table.append([env, r["network"], f"{r['update_ms']:.1f}", str(r["steps"]), f"{r['wall_s']:.0f}", str(r["seeds"]),
                          interval(r, "mean"), interval(r, "worst10")])
    lines += markdown_table(["env", "network", "ms/update", "updates", "wall s", "seeds", "test mean", "worst tenth"], table)
    return lines + [""] + [f"  {'holds' if holds else 'does not hold'}: {claim}" for claim, holds in result["checks"].items()]


STUDY = Study(
    flags=(Flag("envs", tuple(ENV_IDS), "envs, each with its defaults", many=True, choices=tuple(ENV_IDS)),
           Flag("networks", tuple(NETWORKS), "networks to compare", many=True, choices=tuple(NETWORKS)),
           Flag("seconds", 120.0, "wall time of updates each run gets (one thread)"),
           Flag("seeds", 3, "seeds per network and env"),
           Flag("algo", None, "estimator of every run; default: the config's (rloo)", kind=str, choices=tuple(MODULES)),
           Flag("repeats", 20, "timed updates per network and env (median)")),
    grid=grid, key=point, analyse=analyse, report=report_lines, prepare=prepare, out="runs/bench-wall-budget",
)
