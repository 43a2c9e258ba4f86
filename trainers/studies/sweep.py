"""Many independent runs: in this process, in parallel processes (``--jobs``), as Ray tasks on this machine
or a cluster (``--ray``, ``--ray-address``, the ``[ray]`` extra), or a slice (``--shard``, for Slurm arrays).

Each run is single-threaded and writes its own folder, so the results do not
depend on ``--jobs``, and a run whose ``metrics.json`` exists is read, not run
again: an interrupted sweep picks up where it stopped, and slices run on
several machines merge by copying their run folders together.
"""

from __future__ import annotations

import os
import signal
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor, wait
from multiprocessing import get_context
from pathlib import Path
from typing import Any, TypeVar

from tqdm import tqdm

from trainers.records import read_record

Item = TypeVar("Item")


def parse_shard(shard: str) -> tuple[int, int]:
    """'i/n' -> (i, n) with 0 <= i < n."""
    try:
        index, count = (int(part) for part in shard.split("/"))
    except ValueError:
        index, count = -1, 0
    if not 0 <= index < count:
        raise ValueError(f"--shard {shard!r} is not allowed; use i/n with 0 <= i < n, e.g. 0/2 and 1/2 on two machines")
    return index, count


def ray_target(ray: bool, address: str | None) -> str | None:
    """Where to run the runs as Ray tasks: a cluster's ``address``, "local" (``--ray``), or None (the process pool)."""
    if ray and address:
        raise ValueError("give --ray (a Ray on this machine) or --ray-address ADDR (a running cluster), not both")
    return address or ("local" if ray else None)


def train_once(config: Any) -> dict[str, Any]:
    """Train one run of ``TrainConfig`` (resuming it if it was interrupted), unless it is done.

    A finished run is reused only if it was made with the same settings, epochs included; one made
    otherwise (another config, or an older version of eq_gym whose config lacks a field) is refused
    with the fields that differ.
    """
    from dataclasses import replace

    from trainers import checkpoint
    from trainers.loop import train

    done = read_record(Path(config.out))
    if done is not None:
        checkpoint.refuse_other_settings(checkpoint.made_with(Path(config.out)), config.as_dict(),
                                         f"{config.out} (a finished run)", checkpoint.RESUMABLE_CHANGES - {"epochs"})
        return done
    return train(replace(config, resume=(Path(config.out) / "checkpoint.pt").is_file()))


def over_seeds(records: Sequence[dict[str, Any]], keys: Sequence[str]) -> dict[str, float]:
    """Over runs, for each key: mean, std (ddof 0) and 95 % bootstrap interval of the mean.

    ``{key: mean, key_std: std, key_low: low, key_high: high}``.
    """
    import numpy as np

    from trainers.studies.intervals import bootstrap_interval

    summary = {}
    for key in keys:
        values = np.array([r[key] for r in records], dtype=float)
        summary[key], summary[f"{key}_low"], summary[f"{key}_high"] = bootstrap_interval(values)
        summary[f"{key}_std"] = float(values.std())
    return summary


def updates_to_level(records: Sequence[dict[str, Any]], level: float) -> float | None:
    """Median over runs of the updates done when the test mean regret first reached ``level`` (from each run's
    ``history``); None if some run never reached it."""
    import numpy as np

    reached = [next((h["steps"] for h in r["history"] if h["mean"] <= level), None) for r in records]
    return None if None in reached else float(np.median(reached))


def single_threaded(run: Callable[[Item], Any], item: Item) -> Any:
    import torch

    torch.set_num_threads(1)
    return run(item)


def shard_of(items: Sequence[Item], shard: str) -> list[Item]:
    """The slice of ``items`` that shard ``i/n`` runs: every n-th from the i-th."""
    index, count = parse_shard(shard)
    return list(items)[index::count]


def run_all(run: Callable[[Item], Any], items: Sequence[Item], jobs: int = 1, shard: str = "0/1", desc: str = "runs",
            ray: str | None = None) -> None:
    """Run this shard's slice of ``items`` with ``run`` (a module-level function), ``jobs`` at a time, or as Ray
    tasks (``ray``: "local" starts Ray on this machine with ``jobs`` CPUs; else the address of a running cluster)."""
    if jobs < 1:
        raise ValueError(f"--jobs {jobs} is not allowed; use 1 or more")
    mine = shard_of(items, shard)
    progress = tqdm(total=len(mine), desc=desc, unit="run")
    if ray is not None:
        run_on_ray(run, mine, ray, jobs, progress)
    elif jobs == 1:
        for item in mine:
            single_threaded(run, item)
            progress.update()
    else:
        run_in_pool(run, mine, jobs, progress)
    progress.close()


PARENT_POLL_S = 1.0
"""How often a pool worker checks that its driver is still there."""


def run_in_pool(run: Callable[[Item], Any], items: Sequence[Item], jobs: int, progress: tqdm) -> None:
    """``items`` in ``jobs`` spawned processes. A SIGINT or SIGTERM to the driver alone (as a scheduler sends)
    stops the sweep: queued runs are cancelled, each running one gets SIGTERM (it checkpoints after its update
    and stops, :mod:`trainers.interrupts`), a worker starts no run after that, and the driver exits with the
    signal's code once they have; a worker whose driver is gone (killed outright) stops its run the same way
    and exits. A run that fails lets the others finish, then its error is raised."""
    from trainers.interrupts import SIGNALS, Interrupted

    def stop(number: int, frame: Any) -> None:
        raise Interrupted(f"sweep stopped by signal {number}: finished runs are kept, each running one checkpointed "
                          "after its update; run the same command again to go on", number)

    pool = ProcessPoolExecutor(max_workers=jobs, mp_context=get_context("spawn"), initializer=pool_worker,
                               initargs=(os.getpid(),))
    previous = {number: signal.signal(number, stop) for number in SIGNALS} if on_main_thread() else {}
    futures = [pool.submit(in_pool_worker, run, item) for item in items]
    try:
        for future in futures:
            future.result()
            progress.update()
    except (Interrupted, KeyboardInterrupt):
        for future in futures:
            future.cancel()  # the queued ones
        for worker in list(getattr(pool, "_processes", {}).values()):  # the executor's own handles of its processes
            if worker.is_alive():
                worker.terminate()  # SIGTERM: the run checkpoints after its update and ends with Interrupted
        wait(futures)
        raise
    finally:
        pool.shutdown()  # a failed run lets the others finish, as they always did, before its error is raised
        for number, handler in previous.items():
            signal.signal(number, handler)


def on_main_thread() -> bool:
    import threading

    return threading.current_thread() is threading.main_thread()


class WorkerState:
    """A pool worker's own state: whether it was asked to stop, and whether a run is in progress."""

    stopping = False
    running = False


def pool_worker(driver: int) -> None:
    """A pool worker's start. SIGTERM outside a run (which stops on it by itself) marks the worker as stopping
    instead of killing it, which would break the pool and get the other workers killed before they checkpoint;
    a daemon thread sends SIGTERM once ``driver`` is gone, and ends the process once no run is in progress."""
    import threading
    import time

    def mark(number: int, frame: Any) -> None:
        WorkerState.stopping = True

    for number in (signal.SIGTERM, signal.SIGINT):
        signal.signal(number, mark)

    def watch() -> None:
        while os.getppid() == driver:
            time.sleep(PARENT_POLL_S)
        os.kill(os.getpid(), signal.SIGTERM)
        while WorkerState.running:
            time.sleep(PARENT_POLL_S)
        os._exit(143)

    threading.Thread(target=watch, daemon=True).start()


def in_pool_worker(run: Callable[[Item], Any], item: Item) -> Any:
    """``run(item)`` on one thread, unless the worker is stopping (then an Interrupted, nothing started)."""
    from trainers.interrupts import Interrupted

    if WorkerState.stopping:
        raise Interrupted("not started: the sweep is stopping", signal.SIGTERM)
    WorkerState.running = True
    try:
        return single_threaded(run, item)
    except Interrupted:
        WorkerState.stopping = True
        raise
    finally:
        WorkerState.running = False


RAY_RETRIES = 2
"""How many times Ray runs a task again after its worker died (a crash, a lost node); errors the run raises
itself are not retried: they would repeat."""


def run_on_ray(run: Callable[[Item], Any], items: Sequence[Item], address: str, jobs: int, progress: tqdm) -> None:
    """Each item as one Ray task (one CPU, and one GPU where this machine has CUDA), in the driver's folder; a
    task whose worker dies is retried, and runs that still fail are named in the error, never dropped."""
    try:
        import ray
    except ImportError as error:
        raise ValueError("--ray and --ray-address need Ray: pip install -c constraints.txt -e '.[ray]'") from error
    import os

    import torch

    started_here = not ray.is_initialized()
    if started_here:
        local = address == "local"
        ray.init(address=None if local else address, num_cpus=jobs if local else None, include_dashboard=False,
                 log_to_driver=False, runtime_env={"env_vars": {"OMP_NUM_THREADS": "1"}})
    task = ray.remote(num_cpus=1, num_gpus=int(torch.cuda.is_available()), max_retries=RAY_RETRIES)(in_folder)
    pending = {task.remote(run, item, os.getcwd()): item for item in items}
    failed = []
    try:
        while pending:
            done, _ = ray.wait(list(pending), num_returns=1)
            item = pending.pop(done[0])
            try:
                ray.get(done[0])
            except ray.exceptions.RayError as error:
                failed.append(f"{getattr(item, 'out', item)}: {type(error).__name__}: {str(error).strip().splitlines()[-1]}")
            progress.update()
    finally:
        if started_here:
            ray.shutdown()
    if failed:
        raise ValueError(f"{len(failed)} of {len(items)} runs failed on Ray (a dead worker is retried {RAY_RETRIES} "
                         "times); the finished ones are kept, run the same command again for the rest:\n  " + "\n  ".join(failed))


def in_folder(run: Callable[[Item], Any], item: Item, folder: str) -> Any:
    """``run(item)`` on one thread from ``folder`` (the driver's: relative run folders land where they would
    without Ray; on a cluster give --out on a filesystem every node sees)."""
    import os

    os.chdir(folder)
    return single_threaded(run, item)
