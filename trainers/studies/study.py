"""What an ``eqpm bench`` study declares, and the one runner of every study.

A study is a module ``trainers/studies/NAME.py`` listed in :data:`trainers.studies.BENCH` that declares
``STUDY = Study(...)``; it is the command ``eqpm bench NAME`` (``-`` for ``_``) and the call
``run_study("NAME", **options)``. It gives:

- ``flags``: its options, each with its default and help, written once: the command's flags and the call's
  keywords are both built from them;
- ``grid(**options)``: the training runs it needs (TrainConfigs) in stages: a run of a later stage may start
  from one of an earlier stage (``init``); the analysis reads the last stage's runs. None for a study that
  trains nothing;
- ``key(config)``: the group a run of the last stage joins (its point: an algo, a q, a seed, ...);
- ``analyse(groups, **options)``: the measurements and the checks from the groups' finished runs, in grid
  order; ``analyse(**options)`` for a study that trains nothing: it measures there;
- ``report(result)``: the report's lines;
- ``prepare(options)``: optional, checks and completes the options before anything runs.

:func:`run_study` runs every study the same way: each stage's runs through :func:`trainers.studies.sweep.run_all`
(in this process, a process pool, on Ray, or one shard of them), a finished run in its folder reused, then the
analysis. A study that trains also takes ``--out``, ``--jobs``, ``--ray``, ``--ray-address`` and ``--shard``,
and, in Python, any TrainConfig field as a keyword given to every run of its grid (the option ``fields``).
This module loads no torch: ``eqpm --help`` builds flags from it.
"""

from __future__ import annotations

import argparse
import dataclasses
import importlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NamedTuple

from trainers.studies import BENCH, command_name


@dataclass(frozen=True)
class Flag:
    """One option of a study: the flag ``--NAME`` (``-`` for ``_``) and the keyword ``NAME``."""

    name: str
    default: Any
    help: str
    kind: Callable[[str], Any] | None = None
    """How the command reads one value; default: the type of ``default`` (a switch when it is False)."""
    choices: Sequence[Any] | None = None
    many: bool = False
    """One or more values (a tuple)."""
    run_field: bool = False
    """A TrainConfig field of every run of the grid; None leaves the config's default (and the run folders' names)."""
    required: bool = False

    def add_to(self, parser: argparse.ArgumentParser) -> None:
        flag = "--" + self.name.replace("_", "-")
        if self.default is False:
            parser.add_argument(flag, action="store_true", help=self.help)
            return
        kind = self.kind or type(self.default[0] if self.many else self.default)
        parser.add_argument(flag, type=kind, nargs="+" if self.many else None, default=self.default, choices=self.choices,
                            required=self.required, help=f"{self.help}{self.shown_default()}")

    def shown_default(self) -> str:
        if self.required:
            return ""
        if self.default is None:
            return " (default: the config's)" if self.run_field else ""
        values = self.default if self.many else (self.default,)
        return " (default: " + " ".join(f"{v:g}" if isinstance(v, float) else str(v) for v in values) + ")"


RAY_FLAGS = (
    Flag("ray", False, "run each run as a Ray task on a Ray started on this machine, --jobs CPUs (the [ray] extra)"),
    Flag("ray_address", None, "run on the Ray cluster at ADDR (started with `ray start --head`; give --out on a "
                              "filesystem every node sees)", kind=str),
)
RUNNER_FLAGS = (
    Flag("jobs", 1, "runs in parallel processes, each single-threaded"),
    *RAY_FLAGS,
    Flag("shard", "0/1", "i/n: run only every n-th run of each stage from the i-th, for n machines; the report comes "
                         "once every run is in --out"),
)
RUNNER = tuple(flag.name for flag in RUNNER_FLAGS)


class Finished(NamedTuple):
    """A finished run of a study's grid: its config and its metrics.json record."""

    config: Any
    record: dict[str, Any]


@dataclass(frozen=True)
class Study:
    """An ``eqpm bench`` study (see the module docstring)."""

    flags: tuple[Flag, ...]
    analyse: Callable[..., Any]
    report: Callable[[Any], list[str]]
    grid: Callable[..., list[list[Any]]] | None = None
    key: Callable[[Any], Any] | None = None
    out: str | None = None
    """The default folder of the runs, for a study that trains."""
    prepare: Callable[[dict[str, Any]], dict[str, Any]] | None = None

    def all_flags(self) -> tuple[Flag, ...]:
        """Its own flags, and the runner's for a study that trains."""
        if self.grid is None:
            return self.flags
        out = Flag("out", Path(self.out), "folder of the runs; a finished run there with the same settings is reused")
        return (*self.flags, out, *RUNNER_FLAGS)

    def options(self, name: str, given: dict[str, Any]) -> dict[str, Any]:
        """Every option's value: ``given``, else its flag's default; the run fields given (flags marked
        ``run_field`` that are not None, and any other TrainConfig field) gathered in ``fields``."""
        from trainers.config import TrainConfig

        flags = {flag.name: flag for flag in self.all_flags()}
        options = {name_: flag.default for name_, flag in flags.items()}
        fields = {}
        config_fields = {f.name for f in dataclasses.fields(TrainConfig)} if self.grid is not None else set()
        for key, value in given.items():
            if key in flags:
                options[key] = value
            elif key in config_fields:
                fields[key] = value
            else:
                raise ValueError(f"{key}={value!r} is not an option of `eqpm bench {command_name(name)}`; it takes "
                                 f"{', '.join(flags)}" + (" and the fields of TrainConfig" if self.grid else ""))
        for flag in flags.values():
            if flag.run_field and (value := options.pop(flag.name)) is not None:
                fields[flag.name] = value
        if self.grid is not None:
            options["fields"] = fields
        return self.prepare(options) if self.prepare else options


def load(name: str) -> Study:
    """The study NAME (a module name of :data:`trainers.studies.BENCH`)."""
    if name not in BENCH:
        raise ValueError(f"no study {name!r}; the studies are {', '.join(BENCH)}")
    return importlib.import_module(f"trainers.studies.{name}").STUDY


def study_parser(name: str, parents: Sequence[argparse.ArgumentParser] = ()) -> argparse.ArgumentParser:
    """The command ``eqpm bench NAME``'s parser, built from the study's flags."""
    from trainers.summaries import summary

    parser = argparse.ArgumentParser(prog=f"eqpm bench {command_name(name)}", parents=list(parents),
                                     description=summary(f"trainers.studies.{name}"))
    for flag in load(name).all_flags():
        flag.add_to(parser)
    return parser


def run_study(name: str, **given: Any) -> Any:
    """Run the study NAME with the ``given`` options (the others at their defaults): its grid's runs, then its
    analysis. Returns the analysis's result, or None when runs of the grid are left to other shards."""
    from trainers.records import read_record
    from trainers.studies.sweep import ray_target, run_all, shard_of, train_once

    study = load(name)
    options = study.options(name, given)
    if study.grid is None:
        return study.analyse(**options)
    runner = {key: options.pop(key) for key in RUNNER}
    stages = [stage for stage in study.grid(**options) if stage]
    ray = ray_target(runner["ray"], runner["ray_address"])
    for number, stage in enumerate(stages, 1):
        ready = [c for c in shard_of(stage, runner["shard"]) if c.init is None or read_record(Path(c.init)) is not None]
        desc = f"bench {command_name(name)}" + (f" ({number}/{len(stages)})" if len(stages) > 1 else "")
        run_all(train_once, ready, runner["jobs"], desc=desc, ray=ray)
    waiting = [c for stage in stages for c in stage if read_record(Path(c.out)) is None]
    if waiting:
        print(f"bench {command_name(name)}: this shard's runs are done; {len(waiting)} of "
              f"{sum(len(stage) for stage in stages)} runs are not in {options['out']} yet: once every shard's run "
              "folders are there, run the command without --shard for the report")
        return None
    groups: dict[Any, list[Finished]] = {}
    for config in stages[-1] if stages else []:
        groups.setdefault(study.key(config), []).append(Finished(config, read_record(Path(config.out))))
    return study.analyse(groups, **options)
