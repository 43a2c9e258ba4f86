"""Running (a shard of) the experiments, then summarising them."""

from __future__ import annotations

from pathlib import Path

from trainers.config import TrainConfig
from trainers.records import read_record
from trainers.studies.reproduce.experiments import BUDGETS, EXPERIMENTS, run_configs
from trainers.studies.reproduce.summary import summarise
from trainers.studies.sweep import run_all, train_once


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
