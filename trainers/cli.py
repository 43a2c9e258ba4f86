"""``eqpm``: the command line, thin: parse -> config -> call.

    eqpm train --env EquitablePM-EV-v0 --algo rloo --q 19 --epochs 10 --out runs/ev-q19
    eqpm evaluate --run runs/ev-q19
    eqpm evaluate --forecaster vendor --env EquitablePM-DC-v0
    eqpm bench env-speed

A refused combination exits with status 2 and a one-line reason.
"""

from __future__ import annotations

import argparse
import dataclasses
import sys
import typing
from pathlib import Path
from typing import Any

from eq_gym import ENV_IDS
from eq_gym.choices import SPLITS, TASK_KEYWORDS
from trainers.config import TrainConfig
from trainers.estimators import ESTIMATORS, SCORE_TERMS, WEIGHINGS, estimator_summary
from trainers.studies.leaderboard import BOARD_ALGOS, SB3_ALGOS

CHOICES = ({"env": tuple(ENV_IDS), "algo": tuple(ESTIMATORS), "weighing": tuple(WEIGHINGS), "score": SCORE_TERMS}
           | {f.name: f.metadata["choices"] for f in dataclasses.fields(TrainConfig) if "choices" in f.metadata})
"""Each flag's allowed values: the estimators' registries' names and TrainConfig's fields' (they from eq_gym.choices)."""


def _scalar_type(annotation: str):
    """int, float, str or Path from a dataclass annotation such as 'float | None'."""
    for name, kind in (("Path", Path), ("float", float), ("int", int), ("bool", bool)):
        if name in annotation:
            return kind
    return str


def add_config_flags(parser: argparse.ArgumentParser, fields: typing.Iterable[str] | None = None) -> None:
    """One flag per TrainConfig field (or the named ones), with its default and help."""
    for f in dataclasses.fields(TrainConfig):
        if fields is not None and f.name not in fields:
            continue
        flag = "--" + f.name.replace("_", "-")
        kind = _scalar_type(str(f.type))
        help_text = f.metadata["help"] + ("" if f.default is None else f" (default: {f.default})")
        if kind is bool:
            parser.add_argument(flag, action=argparse.BooleanOptionalAction, default=f.default, help=help_text)
        elif "tuple" in str(f.type):
            parser.add_argument(flag, type=kind, nargs="+", default=f.default, help=help_text)
        else:
            parser.add_argument(flag, type=kind, default=f.default, choices=CHOICES.get(f.name), help=help_text)


def config_from(args: argparse.Namespace) -> TrainConfig:
    names = {f.name for f in dataclasses.fields(TrainConfig)}
    return TrainConfig(**{k: v for k, v in vars(args).items() if k in names})


def cmd_train(args: argparse.Namespace) -> None:
    from trainers import records
    from trainers.loop import train

    metrics = train(config_from(args))
    if metrics:
        print(format_metrics(metrics))
        print(f"wrote {Path(args.out) / records.METRICS_FILE}")


def cmd_evaluate(args: argparse.Namespace) -> None:
    from trainers import records
    from trainers.evaluate import evaluate_forecaster, evaluate_run

    if (args.run is None) == (args.forecaster is None):
        raise ValueError("give either --run DIR (a trained model) or --forecaster NAME (a reference forecaster)")
    given = [k for k in TASK_KEYWORDS if getattr(args, k) is not None]
    if args.forecaster is not None and args.env is None:
        raise ValueError(f"--forecaster {args.forecaster} needs --env: the env to score it on, one of {CHOICES['env']}")
    if args.run is not None and args.env is not None:
        raise ValueError("--env is the env of --forecaster; a --run is scored on the env it was trained with "
                         "(see its metrics.json)")
    if args.run is not None and given:
        raise ValueError(f"--{given[0].replace('_', '-')} is an env keyword of --forecaster; a --run is scored on the "
                         "env and keywords it was trained with (see its metrics.json)")
    if args.run is not None:
        metrics = evaluate_run(Path(args.run), args.split, args.device)
    else:
        env_kwargs = {k: getattr(args, k) for k in TASK_KEYWORDS if getattr(args, k) is not None}
        metrics = evaluate_forecaster(args.forecaster, args.env, args.split, env_kwargs)
    print(format_metrics(metrics))
    if args.out is not None:
        print(f"wrote {records.write_record(Path(args.out), metrics)}")


def cmd_bench(args: argparse.Namespace) -> None:
    from trainers.studies.study import load, run_study

    result = run_study(args.study, **args.options)
    if result is not None:
        print("\n".join(load(args.study).report(result)))


def shared_flags() -> tuple[argparse.ArgumentParser, argparse.ArgumentParser]:
    """The flags several commands share: --threads (every command), and --ray / --ray-address (the sweeps)."""
    from trainers.studies.study import RAY_FLAGS

    threads = argparse.ArgumentParser(add_help=False)
    threads.add_argument("--threads", type=int, default=1,
                         help="torch's intra-op threads in this process (default: 1: the windows are small, and more "
                              "threads slow them many times over on a machine other work shares)")
    ray = argparse.ArgumentParser(add_help=False)
    for flag in RAY_FLAGS:
        flag.add_to(ray)
    return threads, ray


def ray_of(args: argparse.Namespace) -> str | None:
    """Where to run the runs as Ray tasks: a cluster's address, "local" (--ray), or None (the process pool)."""
    from trainers.studies.sweep import ray_target

    return ray_target(args.ray, args.ray_address)


def cmd_reproduce(args: argparse.Namespace) -> None:
    from trainers.studies.reproduce.experiments import EXPERIMENTS
    from trainers.studies.reproduce.runs import reproduce

    experiments = list(EXPERIMENTS) if args.experiment == "all" else [args.experiment]
    reproduce(experiments, quick=args.quick, seeds=args.seeds, out=args.out, jobs=args.jobs, shard=args.shard, epochs=args.epochs,
              ray=ray_of(args))


def cmd_benchmark(args: argparse.Namespace) -> None:
    from trainers.studies.leaderboard.board import benchmark
    from trainers.studies.leaderboard.render import report
    from trainers.studies.leaderboard.table import read_run_table

    if args.report_only:
        report(read_run_table(args.out), args.out, tuple(args.frontier))
        return
    benchmark(args.envs, args.algos, args.budget, seeds=args.seeds, q=args.q, out=args.out, jobs=args.jobs,
              shard=args.shard, plugins=tuple(args.plugin), ray=ray_of(args), frontiers=tuple(args.frontier))


TUNE_FLAGS = ("env", "trials", "budget", "q", "seed")
"""``eqpm tune --algo``'s per-search flags; one not given takes ``tune``'s default (``--all``: each search's own)."""


def cmd_tune(args: argparse.Namespace) -> None:
    from trainers.studies.leaderboard.tune import tune, tune_all

    given = {flag: getattr(args, flag) for flag in TUNE_FLAGS if getattr(args, flag) is not None}
    if args.all and given:
        raise ValueError(f"--all runs each search with its recorded settings (hyperparameters.py SEARCHES); "
                         f"drop --{' --'.join(given)}")
    if args.all:
        tune_all(args.out)
    else:
        tune(args.algo, out=args.out, **given)


def algorithm_lines() -> list[str]:
    """One line per registered estimator: the first line of its module's docstring ("name -- idea")."""
    return [estimator_summary(name) for name in ESTIMATORS]


def format_metrics(metrics: dict) -> str:
    from eq_gym.metrics import METRIC_NAMES

    return "  ".join(f"{k}={metrics[k]:.6g}" for k in METRIC_NAMES)


def parser() -> argparse.ArgumentParser:
    root = argparse.ArgumentParser(prog="eqpm", description="Train and evaluate socially-equitable public models.")
    commands = root.add_subparsers(dest="command", required=True)
    threads, ray = shared_flags()

    train = commands.add_parser(
        "train", parents=[threads], help="train a public model; writes TensorBoard events, checkpoint.pt, metrics.json",
        epilog="algorithms (--algo):\n" + "\n".join(f"  {line}" for line in algorithm_lines()),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    add_config_flags(train)
    train.set_defaults(run_command=cmd_train)

    add_evaluate_command(commands, threads)

    reproduce = commands.add_parser("reproduce", parents=[threads, ray], help="the paper's experiments over seeds: tables (Markdown, CSV) and figures")
    reproduce.add_argument("experiment", choices=("dc", "ev", "mixed", "beta", "all"),
                           help="dc: Table 1; ev: Figure 3 and Table 2, its 'Different Agents' block also with the "
                                "equitable learner (eqpm train's default) beside the paper's method; mixed: Table 3; "
                                "beta: Figure 6 and Table 4")
    reproduce.add_argument("--quick", action="store_true",
                           help="fewer epochs (dc: 5, ev/beta: 2, mixed: 1; the equitable learner 15 + 4 x 4 instead of "
                                "100 + 4 x 30), fewer q + 1 values per block, and only the blocks with a quick grid "
                                "(trainers/studies/reproduce/experiments.py: quick_q_plus_one, QUICK_LEARNER)")
    reproduce.add_argument("--seeds", type=int, default=3,
                           help="seeds per configuration, each cell reported as the mean with its 95 %% bootstrap interval (default: 3)")
    reproduce.add_argument("--out", type=Path, default=Path("runs/reproduce"), help="folder of runs/ and summaries (default: runs/reproduce)")
    reproduce.add_argument("--jobs", type=int, default=1, help="runs in parallel processes, each single-threaded (default: 1)")
    reproduce.add_argument("--shard", default="0/1", help="i/n: run only every n-th run from the i-th, for n machines (default: 0/1)")
    reproduce.add_argument("--epochs", type=int, help="override the epochs of every run of the paper's recipe (the learner keeps its schedule)")
    reproduce.set_defaults(run_command=cmd_reproduce)

    board = commands.add_parser("benchmark", parents=[threads, ray], help="every algorithm on each env for the same budget: a leaderboard and learning curves")
    board.add_argument("--envs", nargs="+", default=list(ENV_IDS), help="env ids (default: the three built-in envs)")
    board.add_argument("--algos", nargs="+", default=list(BOARD_ALGOS),
                       help=f"algorithms (default: {' '.join(BOARD_ALGOS)}; ppo a2c sac: Stable-Baselines3's on the window "
                            "view with the per-env hyperparameters of trainers/studies/leaderboard/hyperparameters.py; "
                            "also spo pfy forml and any a --plugin registers; diff only where every agent is smooth)")
    board.add_argument("--budget", type=int, default=2000, help="env steps of 128 windows each algorithm may train on (default: 2000)")
    board.add_argument("--seeds", type=int, default=10, help="seeds per algorithm and env; the intervals across envs "
                                                             "rest on envs x seeds runs (default: 10)")
    board.add_argument("--report-only", action="store_true", help="rebuild every table and figure from OUT/runs.csv, "
                                                                    "training nothing")
    board.add_argument("--q", type=float, default=1.0, help="fairness knob q of every run, >= 0 or inf (default: 1)")
    board.add_argument("--out", type=Path, default=Path("runs/benchmark"), help="folder of runs/, leaderboard and curves (default: runs/benchmark)")
    board.add_argument("--jobs", type=int, default=1, help="runs in parallel processes, each single-threaded (default: 1)")
    board.add_argument("--shard", default="0/1", help="i/n: run only every n-th run from the i-th, for n machines (default: 0/1)")
    board.add_argument("--frontier", type=Path, nargs="+", default=[], metavar="DIR",
                       help="`eqpm bench frontier --out` folders (one per env): each of their envs' rows gets the captured "
                            "share of the hindsight lift at --q, against the Plain PM")
    board.add_argument("--plugin", action="append", default=[], help="module to import first; it registers algorithms (trainers.benchmark.algorithm) or envs")
    board.set_defaults(run_command=cmd_benchmark)

    add_tune_command(commands, threads)

    add_bench_command(commands)
    return root


def add_evaluate_command(commands: Any, threads: argparse.ArgumentParser) -> None:
    """``eqpm evaluate``: a trained run or a reference forecaster on a split."""
    from eq_gym.forecasters import FORECASTERS

    evaluate = commands.add_parser("evaluate", parents=[threads], help="metrics of a trained run or a reference forecaster on a split")
    evaluate.add_argument("--run", type=Path, help="run folder of `eqpm train` (uses its checkpoint.pt)")
    evaluate.add_argument("--forecaster", choices=FORECASTERS, help="a reference forecaster instead of a run")
    evaluate.add_argument("--env", choices=CHOICES["env"], help="env of --forecaster (required with it)")
    for keyword, allowed in TASK_KEYWORDS.items():
        kind = int if allowed is None else str
        evaluate.add_argument("--" + keyword.replace("_", "-"), type=kind, choices=allowed, help=f"env keyword {keyword} (--forecaster)")
    evaluate.add_argument("--split", choices=SPLITS, default="test", help="split to evaluate on (default: test)")
    evaluate.add_argument("--device", choices=CHOICES["device"], default="auto", help="device (default: auto)")
    evaluate.add_argument("--out", type=Path, help="folder to write metrics.json into")
    evaluate.set_defaults(run_command=cmd_evaluate)


def add_tune_command(commands: Any, threads: argparse.ArgumentParser) -> None:
    """``eqpm tune``: the search of the board's SB3 baselines' hyperparameters (:mod:`trainers.studies.leaderboard.tune`)."""
    searched = ("the board's SB3 baselines' hyperparameters on one env (--algo), or every search behind them (--all), by "
                "Optuna search scored on the training split alone (the [tune] extra); a result goes into "
                "trainers/studies/leaderboard/hyperparameters.py by review")
    tune = commands.add_parser("tune", parents=[threads], help=searched, description=searched)
    which = tune.add_mutually_exclusive_group(required=True)
    which.add_argument("--algo", choices=SB3_ALGOS, help="the baseline to tune")
    which.add_argument("--all", action="store_true", help="every search behind hyperparameters.py (its SEARCHES), "
                                                          "each into --out/ENV-ALGO (default: runs/tune), and whether "
                                                          "each finds the file's values (searches.csv)")
    tune.add_argument("--env", help="env id (default: EquitablePM-EV-v0)")
    tune.add_argument("--trials", type=int, help="finished trials to reach; a search in --out goes on (default: 20)")
    tune.add_argument("--budget", type=int, help="env steps of 128 windows per trial (default: 512, about a quarter "
                                                 "of the board's)")
    tune.add_argument("--q", type=float, help="fairness knob q, as on the board (default: 1)")
    tune.add_argument("--seed", type=int, help="seed of the sampler and of every trial's model (default: 0)")
    tune.add_argument("--out", type=Path, help="folder of study.db, trials.csv, best.json (default: runs/tune/ENV-ALGO)")
    tune.set_defaults(run_command=cmd_tune)


def add_bench_command(commands: Any) -> None:
    """``eqpm bench STUDY [options]``: the studies of :data:`trainers.studies.BENCH`; each study's own flags are
    parsed by its parser (:func:`bench_arguments`), built from the study's declaration."""
    from trainers.studies import ALIASES, BENCH, command_name
    from trainers.summaries import summary

    names = [command_name(name) for name in BENCH]
    listing = "\n".join(f"  {command:<18} {summary(f'trainers.studies.{name}')}" for command, name in zip(names, BENCH))
    bench = commands.add_parser(
        "bench", help="the studies that measure: speed, room for q, estimator targets, known-ahead inputs, q sweeps, the "
                      "attainable frontier, descent (medians, intervals, the machine named)",
        description=f"studies (`eqpm bench STUDY --help` lists a study's flags):\n{listing}\n\nearlier names, still "
                    f"accepted: {', '.join(f'{old} ({command_name(new)})' for old, new in ALIASES.items())}",
        formatter_class=argparse.RawDescriptionHelpFormatter)
    bench.add_argument("study", choices=[*names, *ALIASES], metavar="STUDY", help="one of " + ", ".join(names))
    bench.add_argument("options", nargs=argparse.REMAINDER, help="the study's flags")
    bench.set_defaults(run_command=cmd_bench)


def bench_arguments(args: argparse.Namespace) -> argparse.Namespace:
    """``eqpm bench STUDY ...``'s arguments: the study's module name, --threads and its options (tuples for flags
    of many values)."""
    from trainers.studies import module_name
    from trainers.studies.study import study_parser

    name = module_name(args.study)
    threads, _ = shared_flags()
    parsed = vars(study_parser(name, parents=[threads]).parse_args(args.options))
    options = {key: tuple(value) if isinstance(value, list) else value for key, value in parsed.items() if key != "threads"}
    return argparse.Namespace(command="bench", study=name, threads=parsed["threads"], options=options,
                              run_command=cmd_bench)


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    if args.command == "bench":
        args = bench_arguments(args)
    import torch

    from trainers.interrupts import Interrupted

    if args.threads < 1:
        print(f"eqpm: error: --threads {args.threads} is not allowed; use 1 or more", file=sys.stderr)
        return 2
    torch.set_num_threads(args.threads)
    try:
        args.run_command(args)
    except ValueError as error:
        print(f"eqpm: error: {error}", file=sys.stderr)
        return 2
    except Interrupted as stopped:
        print(f"eqpm: {stopped}", file=sys.stderr)
        return stopped.exit_code
    except KeyboardInterrupt:  # before or after the training loop: nothing was being written
        print("eqpm: interrupted", file=sys.stderr)
        return 130
    return 0


if __name__ == "__main__":
    sys.exit(main())
