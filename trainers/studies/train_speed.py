"""Training windows per second: one update of each case, and the regret's share of it.

``eqpm bench train-speed`` times one update (forecast, estimate, backward, Adam) of each case of
``TRAIN_CASES`` (the default MLP, and the paper's networks at their sizes; global B = 128, q = 1), with 1, 2, ...
processes (``--nproc``; more than one under torchrun: gloo on the CPU, NCCL on
CUDA), and the share of the update the agents' regret takes. With one process it
also breaks an update into its parts (:data:`PARTS`), each timed in place inside
the same updates. Every figure is a median over repeats, printed with the machine
it ran on.
"""

from __future__ import annotations

import os
import statistics
import time

import torch

from trainers.config import DEVICES
from trainers.studies.report import machine
from trainers.studies.study import Flag, Study
from trainers.studies.timing import median_seconds

TRAIN_CASES = (
    ("EquitablePM-EV-v0", "mlp", "rloo", "local"),
    ("EquitablePM-Mixed-v0", "mlp", "rloo", "local"),
    ("EquitablePM-EV-v0", "transformer", "rloo", "local"),
    ("EquitablePM-EV-v0", "transformer", "rloo", "sampled"),
    ("EquitablePM-EV-v0", "transformer", "pg", "local"),
    ("EquitablePM-DC-v0", "lstm", "diff", "local"),
    ("EquitablePM-DC-v0", "lstm", "mse", "local"),
)
"""(env, backbone, algo, rloo's --score): the steps timed; rows name rloo's sampled score "rloo/sampled"."""
PARTS = ("batch", "forward", "estimator", "backward", "adam")
"""An update's parts, in order: assembling the next batch, the network's forward pass, the estimator's loss
(the agents' regret, weights and score terms), backward through the network, Adam's step."""


def update_parts(model, estimator, optimizer, stream, device: torch.device, repeats: int, warmup: int = 2) -> dict:
    """Median milliseconds of each of :data:`PARTS`, stamped inside ``warmup + repeats`` whole updates of
    ``stream``'s epoch (started), so the parts are the update's own (on CUDA each stamp synchronises)."""
    times: dict[str, list[float]] = {part: [] for part in PARTS}
    stamps: list[float] = []

    def stamp():
        if device.type == "cuda":
            torch.cuda.synchronize()
        stamps.append(time.perf_counter())

    for count in range(warmup + repeats):
        stamps.clear()
        stamp()
        batch = stream.batch(count % stream.steps_per_epoch)
        stamp()
        mean, log_std = model(batch.inputs)
        stamp()
        result = estimator.step(mean, log_std, batch)
        stamp()
        optimizer.zero_grad(set_to_none=True)
        result.loss.backward()
        stamp()
        optimizer.step()
        stamp()
        if count >= warmup:
            for part, start, end in zip(PARTS, stamps, stamps[1:]):
                times[part].append(end - start)
    return {part: 1e3 * statistics.median(values) for part, values in times.items()}


def time_training_steps(world, repeats: int) -> list[dict]:
    """Median time of one training step of each case on this world (one process or a torchrun group)."""
    from eq_gym.envs.base import task_of
    from trainers.batches import BatchStream
    from trainers.config import TrainConfig
    from trainers.estimators import build_estimator
    from trainers.loop import train_step
    from trainers.policy import build_policy

    rows = []
    for env, backbone, algo, score in TRAIN_CASES:
        config = TrainConfig(env=env, backbone=backbone, algo=algo, q=1.0, score=score, recipe="paper")
        task = task_of(env, "train", {})
        population = task.population.to(world.device)
        stream = BatchStream(task, population, config.batch_size, seed=0, device=world.device,
                             share=world.share(config.batch_size))
        stream.start_epoch(0)
        batch = stream.batch(0)
        torch.manual_seed(0)
        policy = build_policy(config, task).to(world.device)
        estimator = build_estimator(config, population, policy)
        policy.log_std.requires_grad_(estimator.stochastic)
        model = policy
        if world.size > 1:
            device_ids = [world.device.index] if world.device.type == "cuda" else None
            model = torch.nn.parallel.DistributedDataParallel(policy, device_ids=device_ids)
        optimizer = torch.optim.Adam([p for p in policy.parameters() if p.requires_grad], lr=config.learning_rate)

        def step():
            train_step(model, estimator, optimizer, batch)
            if world.device.type == "cuda":
                torch.cuda.synchronize()

        step_s = median_seconds(step, repeats)
        forecasts = (config.samples if algo == "rloo" else 1) * batch.targets.shape[0]
        truth = batch.targets.repeat(forecasts // batch.targets.shape[0], 1)
        contexts = [{k: v.repeat(1, forecasts // batch.targets.shape[0]) for k, v in ctx.items()} for ctx in batch.contexts]
        regret_s = median_seconds(lambda: population.regret(truth + 0.5, truth, contexts), repeats)
        label = f"{algo}/{score}" if algo == "rloo" and score != "local" else algo
        rows.append({"env": env, "backbone": backbone, "algo": label, "M": task.num_agents, "B": config.batch_size,
                     "processes": world.size, "device": str(world.device), "step_ms": 1e3 * step_s,
                     "windows_per_s": config.batch_size / step_s, "regret_share": regret_s / step_s, "regret_ms": 1e3 * regret_s})
        if world.size == 1:
            rows[-1]["parts_ms"] = update_parts(model, estimator, optimizer, stream, world.device, repeats)
    return rows


def bench_train(repeats: int, nproc: tuple[int, ...], device: str) -> list[dict]:
    """Windows/s of one training step (global B = 128, paper sizes) with 1, 2, ... processes, and the
    share of a step spent in the regret; N > 1 runs under torchrun (gloo on the CPU, NCCL on CUDA)."""
    import json
    import subprocess
    import sys

    from trainers.distributed import World, pick_device

    rows = []
    for count in nproc:
        if count == 1:
            rows += time_training_steps(World(0, 1, pick_device(device)), repeats)
            continue
        threads = max(1, (os.cpu_count() or 1) // count)
        command = [sys.executable, "-m", "torch.distributed.run", "--standalone", f"--nproc_per_node={count}",
                   "-m", "trainers.studies.train_speed", "--repeats", str(repeats), "--device", device]
        done = subprocess.run(command, capture_output=True, text=True, env={**os.environ, "OMP_NUM_THREADS": str(threads)})
        if done.returncode != 0:
            raise RuntimeError(f"torchrun with {count} processes failed:\n{done.stderr[-2000:]}")
        rows += json.loads(done.stdout.strip().splitlines()[-1])
    single = {(r["env"], r["backbone"], r["algo"]): r["windows_per_s"] for r in rows if r["processes"] == 1}
    for row in rows:
        base = single.get((row["env"], row["backbone"], row["algo"]))
        if base:
            row["speedup"] = row["windows_per_s"] / base
            row["efficiency"] = row["speedup"] / row["processes"]
    return rows


def process_counts(options: dict) -> dict:
    """--nproc as integers, from "1 2" or "1,2"."""
    options["nproc"] = tuple(int(n) for value in options["nproc"] for n in str(value).split(","))
    return options


def train_lines(rows: list[dict]) -> list[str]:
    """The rows as the report's lines; then, for the one-process rows, each update's parts."""
    lines = [f"Training step benchmark (medians, q = 1, global B = 128) on {machine()}"]
    for row in rows:
        scaling = f"  x{row['speedup']:.2f} ({100 * row['efficiency']:.0f} % efficiency)" if "speedup" in row else ""
        lines.append(
            f"  {row['env']:<20} {row['backbone']:<11} {row['algo']:<12} M={row['M']:<3} {row['processes']} proc {row['device']:<6} "
            f"step {row['step_ms']:7.2f} ms  {row['windows_per_s']:8.0f} windows/s  "
            f"regret {100 * row['regret_share']:4.1f} % of the step{scaling}"
        )
    parted = [row for row in rows if "parts_ms" in row]
    if parted:
        lines.append("Where an update's time goes (ms, medians of each part timed inside the same updates; the agents' "
                     "regret, timed alone, is part of the estimator):")
        for row in parted:
            parts = "  ".join(f"{part} {row['parts_ms'][part]:7.2f}" for part in PARTS)
            lines.append(f"  {row['env']:<20} {row['backbone']:<11} {row['algo']:<12} {parts}  (regret {row['regret_ms']:6.2f})")
    return lines


STUDY = Study(
    flags=(Flag("repeats", 30, "timed repeats per figure"),
           Flag("nproc", (1,), "process counts to compare, more than one under torchrun, e.g. 1 2 (or 1,2)", kind=str,
                many=True),
           Flag("device", "auto", "device", choices=DEVICES)),
    analyse=bench_train, report=train_lines, prepare=process_counts,
)


def _worker() -> None:
    """One torchrun process of ``bench_train``: rank 0 prints the rows as JSON on its last line."""
    import argparse
    import gc
    import json

    from trainers import distributed

    parser = argparse.ArgumentParser()
    parser.add_argument("--repeats", type=int, default=30)
    parser.add_argument("--device", default="auto")
    args = parser.parse_args()
    world = distributed.setup(args.device)
    rows = time_training_steps(world, args.repeats)
    if world.is_main:
        print(json.dumps(rows), flush=True)
    gc.collect()  # release the DDP wrappers before their process group goes
    distributed.teardown()


if __name__ == "__main__":
    _worker()
