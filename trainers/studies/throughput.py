"""Throughput benchmarks: ``eqpm bench env`` (and ``eqpm bench train``).

Every figure is a median over repeats, printed with the machine it ran on.
Ratios are measured side by side in the same run.
"""

from __future__ import annotations

import itertools
import os
import statistics
import time
from collections.abc import Callable
from dataclasses import replace

import gymnasium as gym
import numpy as np
import torch

from eq_gym.agents.base import ContextPool
from eq_gym.agents.charging import SlotChargers
from eq_gym.agents.population import Population
from trainers.studies.report import machine


def median_seconds(fn: Callable[[], object], repeats: int, warmup: int = 2) -> float:
    """Median wall time of ``fn()`` over ``repeats`` calls, after ``warmup`` calls."""
    for _ in range(warmup):
        fn()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def looped_charging_regret(forecast: torch.Tensor, truth: torch.Tensor, rate: torch.Tensor, slots: torch.Tensor) -> torch.Tensor:
    """The same regret as :func:`eq_gym.agents.charging.charging_regret`, the way the paper's
    code release computes it: a Python loop over agents and windows, one top-k each.

    The truth's optimal cost per window and k is precomputed outside the loop,
    which favours the loop.
    """
    best = truth.sort(dim=1).values.cumsum(dim=1)
    regret = torch.zeros(slots.shape)
    for m in range(slots.shape[0]):
        for i in range(slots.shape[1]):
            k = int(slots[m, i])
            if k == 0:
                continue
            chosen = torch.topk(forecast[i], k, largest=False).indices
            regret[m, i] = rate[m, i] * (truth[i, chosen].sum() - best[i, k - 1])
    return regret


def tiled_ev_env(num_agents: int, batch_size: int, timing: str) -> gym.Env:
    """An EV env ("different" agents, ``timing``) whose population cycles each group's agents up to
    ``num_agents`` in all, each group keeping its share."""
    env = gym.make("EquitablePM-EV-v0", batch_size=batch_size, agents="different", timing=timing).unwrapped
    population = env.task.population
    sizes = np.diff(np.round(np.cumsum([0] + [g.num_agents for g in population.groups]) * num_agents / population.num_agents))
    groups = []
    for group, size in zip(population.groups, sizes.astype(int)):
        rows = torch.arange(size) % group.num_agents
        tiled = ContextPool({name: table[rows] for name, table in group.pool.values.items()}, group.pool.count[rows])
        plug_in = None if group.plug_in is None else group.plug_in[rows]
        groups.append(SlotChargers(tiled, f"{group.label} (tiled)", group.per_unit, plug_in, group.clock.get("paid")))
    env.task = replace(env.task, population=Population(groups, population.hour, population.window_share))
    return env


def bench_env(repeats: int = 50, loop_repeats: int = 5) -> list[dict]:
    """Env steps/s and regret evaluations/s on the EV env, both timings; the loop baseline at M=70, B=128."""
    rows = []
    for timing, num_agents, batch_size in itertools.product(("own", "shared"), (70, 10_000), (128, 1_024)):
        if (num_agents, batch_size) not in ((70, 128), (10_000, 1_024)):
            continue
        env = tiled_ev_env(num_agents, batch_size, timing)
        env.reset(seed=0)
        rng = np.random.default_rng(0)
        action = rng.uniform(5.0, 25.0, env.action_space.shape).astype(np.float32)

        def step():
            _, _, terminated, _, _ = env.step(action)
            if terminated:
                env.reset()

        population = env.task.population
        forecast = torch.from_numpy(action)
        truth = torch.tensor(env.task.windows.targets[:batch_size])
        start = torch.tensor(env.task.windows.start[:batch_size])
        draw = population.sampler(batch_size, torch.Generator().manual_seed(0)).draw(start)
        contexts = draw.contexts
        step_s = median_seconds(step, repeats)
        regret_s = median_seconds(lambda: population.regret(forecast, truth, contexts), repeats)
        row = {"timing": timing, "regret": env.task.kwargs["regret"], "M": num_agents, "B": batch_size, "H": 12, "step_ms": 1e3 * step_s,
               "steps_per_s": 1 / step_s, "regret_ms": 1e3 * regret_s, "regrets_per_s": 1 / regret_s}
        if num_agents == 70:
            def looped():
                parts = []
                for group, ctx in zip(population.groups, contexts):
                    rate = 1.0 / ctx["slots"].clamp_min(1) if group.per_unit else ctx["rate"]  # per kWh: per slot
                    parts.append(looped_charging_regret(forecast, group.paid_truth(truth, ctx), rate, ctx["slots"]))
                return torch.cat(parts)

            torch.testing.assert_close(looped(), population.regret(forecast, truth, contexts), rtol=0, atol=1e-3)
            loop_s = median_seconds(looped, loop_repeats, warmup=1)
            row |= {"loop_ms": 1e3 * loop_s, "step_speedup": loop_s / step_s, "regret_speedup": loop_s / regret_s}
        rows.append(row)
    return rows


def print_env_rows(rows: list[dict]) -> None:
    print(f"EV env benchmark (medians; 'different' agents) on {machine()}")
    for row in rows:
        print(
            f"  timing={row['timing']:<6} regret={row['regret']:<8} M={row['M']:>6} B={row['B']:>5} H={row['H']}: env step {row['step_ms']:8.3f} ms "
            f"({row['steps_per_s']:9.1f} steps/s); regret {row['regret_ms']:8.3f} ms "
            f"({row['regrets_per_s']:9.1f} evaluations/s)"
        )
        if "loop_ms" in row:
            print(
                f"  M={row['M']:>6} B={row['B']:>5} python loop over agents and windows, one top-k each: "
                f"{row['loop_ms']:.1f} ms -> env step {row['step_speedup']:.0f}x faster, "
                f"regret {row['regret_speedup']:.0f}x faster"
            )


TRAIN_CASES = (
    ("EquitablePM-EV-v0", "transformer", "rloo", "local"),
    ("EquitablePM-EV-v0", "transformer", "rloo", "sampled"),
    ("EquitablePM-EV-v0", "transformer", "pg", "local"),
    ("EquitablePM-DC-v0", "lstm", "diff", "local"),
    ("EquitablePM-DC-v0", "lstm", "mse", "local"),
)
"""(env, backbone, algo, rloo's --score): the steps timed; rows name rloo's sampled score "rloo/sampled"."""


def time_training_steps(world, repeats: int) -> list[dict]:
    """Median time of one training step of each case on this world (one process or a torchrun group)."""
    from trainers.batches import BatchStream
    from trainers.config import TrainConfig
    from trainers.estimators import build_estimator
    from trainers.evaluate import task_of
    from trainers.loop import train_step
    from trainers.policy import build_policy

    rows = []
    for env, backbone, algo, score in TRAIN_CASES:
        config = TrainConfig(env=env, backbone=backbone, algo=algo, q=1.0, score=score)
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
                     "windows_per_s": config.batch_size / step_s, "regret_share": regret_s / step_s})
    return rows


def bench_train(repeats: int = 30, nproc: tuple[int, ...] = (1,), device: str = "auto") -> list[dict]:
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
                   "-m", "trainers.studies.throughput", "--repeats", str(repeats), "--device", device]
        done = subprocess.run(command, capture_output=True, text=True, env={**os.environ, "OMP_NUM_THREADS": str(threads)})
        if done.returncode != 0:
            raise RuntimeError(f"torchrun with {count} processes failed:\n{done.stderr[-2000:]}")
        rows += json.loads(done.stdout.strip().splitlines()[-1])
    single = {(r["env"], r["algo"]): r["windows_per_s"] for r in rows if r["processes"] == 1}
    for row in rows:
        base = single.get((row["env"], row["algo"]))
        if base:
            row["speedup"] = row["windows_per_s"] / base
            row["efficiency"] = row["speedup"] / row["processes"]
    return rows


def print_train_rows(rows: list[dict]) -> None:
    print(f"Training step benchmark (medians, q = 1, global B = 128) on {machine()}")
    for row in rows:
        scaling = f"  x{row['speedup']:.2f} ({100 * row['efficiency']:.0f} % efficiency)" if "speedup" in row else ""
        print(
            f"  {row['env']:<20} {row['backbone']:<11} {row['algo']:<12} M={row['M']:<3} {row['processes']} proc {row['device']:<6} "
            f"step {row['step_ms']:7.2f} ms  {row['windows_per_s']:8.0f} windows/s  "
            f"regret {100 * row['regret_share']:4.1f} % of the step{scaling}"
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
