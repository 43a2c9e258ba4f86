"""``eqpm``: the command line, thin: parse -> config -> call.

    eqpm train --env EquitablePM-EV-v0 --algo rloo --q 19 --epochs 10 --out runs/ev-q19
    eqpm evaluate --run runs/ev-q19
    eqpm evaluate --forecaster vendor --env EquitablePM-DC-v0
    eqpm bench env

A refused combination exits with status 2 and a one-line reason.
"""

from __future__ import annotations

import argparse
import dataclasses
import sys
import typing
from pathlib import Path

from eq_gym import ENV_IDS
from eq_gym.choices import SPLITS, TASK_KEYWORDS
from trainers.config import TrainConfig
from trainers.estimators import ESTIMATORS, estimator_summary

CHOICES = {"env": tuple(ENV_IDS)} | {f.name: f.metadata["choices"] for f in dataclasses.fields(TrainConfig) if "choices" in f.metadata}
"""Each flag's allowed values, read from TrainConfig's fields (and they from eq_gym.choices)."""


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


def cmd_bench_env(args: argparse.Namespace) -> None:
    from trainers.studies import throughput

    throughput.print_env_rows(throughput.bench_env(repeats=args.repeats))


def cmd_bench_train(args: argparse.Namespace) -> None:
    from trainers.studies import throughput

    nproc = tuple(int(n) for n in args.nproc.split(","))
    throughput.print_train_rows(throughput.bench_train(repeats=args.repeats, nproc=nproc, device=args.device))


def cmd_bench_room(args: argparse.Namespace) -> None:
    from trainers.studies.room import bench_room, print_room_rows

    print_room_rows(bench_room(list(ENV_IDS), args.epochs, args.out, args.seeds))


def cmd_bench_estimators(args: argparse.Namespace) -> None:
    from trainers.studies.estimator_targets import bench_estimators, print_estimator_rows

    print_estimator_rows(bench_estimators(tuple(args.algos), args.seeds, args.epochs, args.out, args.jobs, ray=ray_of(args),
                                          score=args.score))


def cmd_bench_ahead(args: argparse.Namespace) -> None:
    from trainers.studies.known_ahead import bench_known_ahead, print_known_ahead_rows

    print_known_ahead_rows(bench_known_ahead(seeds=args.seeds, epochs=args.epochs, out=args.out, jobs=args.jobs))


def cmd_bench_q(args: argparse.Namespace) -> None:
    from trainers.studies.q_sweep import bench_q, print_q_sweep

    fields = {name: getattr(args, name) for name in ("weighing", "weight_step", "keep") if getattr(args, name) is not None}
    print_q_sweep(bench_q(args.env, args.algo, tuple(args.q_plus_one), args.seeds, args.epochs, args.out, args.jobs,
                          args.continuation, ray=ray_of(args), frontier=args.frontier, **fields))


def cmd_bench_frontier(args: argparse.Namespace) -> None:
    from trainers.studies.frontier import bench_frontier, report_lines

    result = bench_frontier(args.env, args.algo, args.seeds, args.epochs, args.out, tuple(args.q_plus_one), args.resolution,
                            args.jobs, ray=ray_of(args))
    print("\n".join(report_lines(result)))
    print(f"wrote {args.out / 'frontier.json'}, {args.out / 'frontier.md'}, {args.out / 'frontier.png'}")


def cmd_bench_descent(args: argparse.Namespace) -> None:
    from trainers.studies.descent import bench_descent, print_descent

    print_descent(bench_descent(args.run, args.algo, tuple(args.q_plus_one), args.batches))


def shared_flags() -> tuple[argparse.ArgumentParser, argparse.ArgumentParser]:
    """The flags several commands share: --threads (every command), and --ray / --ray-address (the sweeps)."""
    threads = argparse.ArgumentParser(add_help=False)
    threads.add_argument("--threads", type=int, default=1,
                         help="torch's intra-op threads in this process (default: 1: the windows are small, and more "
                              "threads slow them many times over on a machine other work shares)")
    ray = argparse.ArgumentParser(add_help=False)
    ray.add_argument("--ray", action="store_true", help="run each run as a Ray task on a Ray started on this machine, "
                                                         "--jobs CPUs (the [ray] extra)")
    ray.add_argument("--ray-address", metavar="ADDR", help="run on the Ray cluster at ADDR (started with `ray start "
                                                             "--head`; give --out on a filesystem every node sees)")
    return threads, ray


def ray_of(args: argparse.Namespace) -> str | None:
    """Where to run the runs as Ray tasks: a cluster's address, "local" (--ray), or None (the process pool)."""
    if args.ray and args.ray_address:
        raise ValueError("give --ray (a Ray on this machine) or --ray-address ADDR (a running cluster), not both")
    return args.ray_address or ("local" if args.ray else None)


def cmd_reproduce(args: argparse.Namespace) -> None:
    from trainers.studies.reproduce import EXPERIMENTS, reproduce

    experiments = list(EXPERIMENTS) if args.experiment == "all" else [args.experiment]
    reproduce(experiments, quick=args.quick, seeds=args.seeds, out=args.out, jobs=args.jobs, shard=args.shard, epochs=args.epochs,
              ray=ray_of(args))


def cmd_benchmark(args: argparse.Namespace) -> None:
    from trainers.studies.leaderboard import benchmark, read_run_table, report

    if args.report_only:
        report(read_run_table(args.out), args.out, tuple(args.frontier))
        return
    benchmark(args.envs, args.algos, args.budget, seeds=args.seeds, q=args.q, out=args.out, jobs=args.jobs,
              shard=args.shard, plugins=tuple(args.plugin), ray=ray_of(args), frontiers=tuple(args.frontier))


def algorithm_lines() -> list[str]:
    """One line per registered estimator: the first line of its module's docstring ("name -- idea")."""
    return [estimator_summary(name) for name in ESTIMATORS]


def format_metrics(metrics: dict) -> str:
    from eq_gym.metrics import METRIC_NAMES

    return "  ".join(f"{k}={metrics[k]:.6g}" for k in METRIC_NAMES)


def parser() -> argparse.ArgumentParser:
    from eq_gym.forecasters import FORECASTERS

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

    reproduce = commands.add_parser("reproduce", parents=[threads, ray], help="the paper's experiments over seeds: tables (Markdown, CSV) and figures")
    reproduce.add_argument("experiment", choices=("dc", "ev", "mixed", "beta", "all"),
                           help="dc: Table 1; ev: Figure 3 and Table 2; mixed: Table 3; beta: Figure 6 and Table 4")
    reproduce.add_argument("--quick", action="store_true",
                           help="fewer epochs (dc: 5, ev/beta: 2, mixed: 1), fewer q + 1 values per block, and only the blocks "
                                "with a quick grid (trainers/studies/reproduce.py: quick_q_plus_one)")
    reproduce.add_argument("--seeds", type=int, default=3,
                           help="seeds per configuration, each cell reported as the mean with its 95 %% bootstrap interval (default: 3)")
    reproduce.add_argument("--out", type=Path, default=Path("runs/reproduce"), help="folder of runs/ and summaries (default: runs/reproduce)")
    reproduce.add_argument("--jobs", type=int, default=1, help="runs in parallel processes, each single-threaded (default: 1)")
    reproduce.add_argument("--shard", default="0/1", help="i/n: run only every n-th run from the i-th, for n machines (default: 0/1)")
    reproduce.add_argument("--epochs", type=int, help="override the epochs of every run")
    reproduce.set_defaults(run_command=cmd_reproduce)

    board = commands.add_parser("benchmark", parents=[threads, ray], help="every algorithm on each env for the same budget: a leaderboard and learning curves")
    board.add_argument("--envs", nargs="+", default=list(ENV_IDS), help="env ids (default: the three built-in envs)")
    board.add_argument("--algos", nargs="+", default=["mse", "diff", "pg", "rloo", "ppo", "a2c"],
                       help="algorithms (default: mse diff pg rloo ppo a2c; also spo pfy forml, ppo-windows a2c-windows "
                            "(SB3 on the window view) and any a --plugin registers; diff only where every agent is smooth)")
    board.add_argument("--budget", type=int, default=500, help="env steps of 128 windows each algorithm may train on (default: 500)")
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
    board.add_argument("--plugin", action="append", default=[], help="module to import first; it registers algorithms (trainers.studies.leaderboard.algorithm) or envs")
    board.set_defaults(run_command=cmd_benchmark)

    add_bench_commands(ray, commands.add_parser("bench", help="the studies that measure: speed, room for q, estimator targets, "
                                                         "known-ahead inputs (medians, with the machine named)"), threads)
    return root


def add_bench_commands(ray: argparse.ArgumentParser, bench: argparse.ArgumentParser, threads: argparse.ArgumentParser) -> None:
    """``eqpm bench STUDY``: one subcommand per study, each with its own flags."""
    studies = bench.add_subparsers(dest="study", required=True, metavar="STUDY")
    env = studies.add_parser("env", parents=[threads], help="EV env steps/s")
    env.add_argument("--repeats", type=int, default=30, help="timed repeats per figure (default: 30)")
    env.set_defaults(run_command=cmd_bench_env)
    train = studies.add_parser("train", parents=[threads], help="training windows/s")
    train.add_argument("--repeats", type=int, default=30, help="timed repeats per figure (default: 30)")
    train.add_argument("--nproc", default="1", help="process counts to compare under torchrun, e.g. 1,2 (default: 1)")
    train.add_argument("--device", choices=CHOICES["device"], default="auto", help="device (default: auto)")
    train.set_defaults(run_command=cmd_bench_train)
    room = studies.add_parser("room", parents=[threads],
                              help="how much room each env leaves to q: share divergence, conflict, a short q sweep")
    room.add_argument("--epochs", type=int, default=2, help="epochs of each q-sweep run, 0 for the share divergence and "
                                                           "conflict only (default: 2)")
    room.add_argument("--seeds", type=int, default=1, help="seeds of each q-sweep run; 2 or more for a levelling verdict "
                                                           "(default: 1)")
    estimators = studies.add_parser("estimators", parents=[threads, ray], help="the equity targets of rloo and spo on EV")
    estimators.add_argument("--algos", nargs="+", default=["rloo", "spo"],
                            help="the estimators to train at q = 0 and q + 1 = 20 (default: rloo spo)")
    estimators.add_argument("--score", choices=CHOICES["score"], default="local",
                            help="rloo's score term for slot-choosing agents (default: local)")
    estimators.add_argument("--epochs", type=int, default=8, help="epochs of each run (default: 8)")
    ahead = studies.add_parser("ahead", parents=[threads], help="EV models at q = 0 with and without the known-ahead inputs")
    ahead.add_argument("--epochs", type=int, default=3, help="epochs of each run (default: 3)")
    q_sweep = studies.add_parser("q", parents=[threads, ray], help="a q sweep: levelling up or down against q = 0 and the "
                                                                 "Plain PM, and objective consistency")
    frontier = studies.add_parser("frontier", parents=[threads, ray], help="the attainable frontier: the best public forecast "
                                  "per q in five hindsight families (truth re-weighted, post-hoc, mixture, information, informed)")
    for study in (q_sweep, frontier):
        study.add_argument("--env", choices=ENV_IDS, default="EquitablePM-EV-v0", help="env, with its defaults (default: EV)")
        study.add_argument("--algo", choices=CHOICES["algo"], default="spo", help="estimator of the q runs (default: spo)")
        study.add_argument("--q-plus-one", type=float, nargs="+", default=[1.0, 2.0, 5.0, 20.0, float("inf")],
                           help="q + 1 values, inf for min-max; 1 is always run (default: 1 2 5 20 inf)")
        study.add_argument("--epochs", type=int, default=3, help="epochs of each run (default: 3)")
        study.add_argument("--jobs", type=int, default=1, help="runs in parallel processes (default: 1)")
    q_sweep.add_argument("--weighing", choices=CHOICES["weighing"], help="agents' weighing of every run (default: the config's)")
    q_sweep.add_argument("--weight-step", type=float, help="step of the multiplicative weighing (default: the config's)")
    q_sweep.add_argument("--continuation", action="store_true", help="start every q > 0 run from the same seed's q = 0 model")
    q_sweep.add_argument("--keep", choices=CHOICES["keep"], help="the model each run gives: last or best (on its own "
                                                                 "training objective; default: the config's, last)")
    q_sweep.add_argument("--frontier", type=Path, help="an `eqpm bench frontier --out` folder of the same env: report each "
                                                       "q's captured share of the hindsight lift")
    q_sweep.add_argument("--seeds", type=int, default=5, help="seeds per point (default: 5)")
    frontier.add_argument("--resolution", type=int, default=30, help="grid steps across the truth family's total weight "
                                                                       "(the index's; EV: 3) and the mixture's share (default: 30)")
    frontier.add_argument("--seeds", type=int, default=3, help="seeds of the trained Plain PM and q = 0 model (default: 3)")
    descent = studies.add_parser("descent", parents=[threads], help="at a trained model: does a step down the estimator's "
                                 "weighted surrogate lower the objective it weighs for, group by group")
    descent.add_argument("--run", type=Path, required=True, help="folder of a finished run (its checkpoint.pt)")
    descent.add_argument("--algo", choices=CHOICES["algo"], default="spo", help="estimator whose surrogates to step down "
                                                                              "(spo, pfy, forml or diff; default: spo)")
    descent.add_argument("--q-plus-one", type=float, nargs="+", default=[1.0, 5.0, 20.0],
                         help="q + 1 values whose weighted steps to measure (default: 1 5 20)")
    descent.add_argument("--batches", type=int, default=30, help="training batches for the gradients, and as many others "
                                                                 "for the line search (default: 30)")
    descent.set_defaults(run_command=cmd_bench_descent)
    for study in (estimators, ahead):
        study.add_argument("--seeds", type=int, default=3, help="seeds per run (default: 3)")
        study.add_argument("--jobs", type=int, default=1, help="runs in parallel processes (default: 1)")
    for study, default, command in ((room, "room", cmd_bench_room), (estimators, "bench-estimators", cmd_bench_estimators),
                                    (ahead, "bench-ahead", cmd_bench_ahead), (q_sweep, "bench-q", cmd_bench_q),
                                    (frontier, "bench-frontier", cmd_bench_frontier)):
        study.add_argument("--out", type=Path, default=Path("runs") / default,
                           help=f"folder of the runs; a finished run there with the same settings is reused (default: runs/{default})")
        study.set_defaults(run_command=command)


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
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
