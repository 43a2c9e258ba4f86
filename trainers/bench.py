"""Throughput benchmarks: ``eqpm bench env`` (and ``eqpm bench train``).

Every figure is a median over repeats, printed with the machine it ran on.
Ratios are measured side by side in the same run.
"""

from __future__ import annotations

import os
import platform
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


def cpu_name() -> str:
    """The CPU model (from /proc/cpuinfo where there is one)."""
    try:
        with open("/proc/cpuinfo") as info:
            for line in info:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def machine() -> str:
    """One line naming the machine a figure was measured on."""
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    gpu = f", GPU {torch.cuda.get_device_name()}" if torch.cuda.is_available() else ""
    return f"{cpu_name()}, {cores} CPU cores{gpu}, torch {torch.__version__} ({torch.get_num_threads()} threads)"


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


def tiled_ev_env(num_agents: int, batch_size: int) -> gym.Env:
    """An EV env whose population cycles the 70 Caltech agents' pools up to ``num_agents``."""
    env = gym.make("EquitablePM-EV-v0", batch_size=batch_size).unwrapped
    pool = env.task.population.groups[0].pool
    rows = torch.arange(num_agents) % pool.num_agents
    tiled = ContextPool({name: table[rows] for name, table in pool.values.items()}, pool.count[rows])
    env.task = replace(env.task, population=Population([SlotChargers(tiled, "EV chargers (tiled)")]))
    return env


def bench_env(repeats: int = 50, loop_repeats: int = 5) -> list[dict]:
    """Env steps/s and regret evaluations/s on the EV env; the loop baseline at M=70, B=128."""
    rows = []
    for num_agents, batch_size in ((70, 128), (10_000, 1_024)):
        env = tiled_ev_env(num_agents, batch_size)
        obs, info = env.reset(seed=0)
        rng = np.random.default_rng(0)
        action = rng.uniform(5.0, 25.0, env.action_space.shape).astype(np.float32)

        def step():
            nonlocal info
            if env._step >= env.steps_per_episode:
                env.reset()
            env.step(action)

        population = env.task.population
        forecast = torch.from_numpy(action)
        truth = torch.from_numpy(env.task.windows.targets[:batch_size])
        contexts = population.sampler(batch_size, torch.Generator().manual_seed(0)).draw()
        step_s = median_seconds(step, repeats)
        regret_s = median_seconds(lambda: population.regret(forecast, truth, contexts), repeats)
        row = {"M": num_agents, "B": batch_size, "H": 12, "step_ms": 1e3 * step_s,
               "steps_per_s": 1 / step_s, "regret_ms": 1e3 * regret_s, "regrets_per_s": 1 / regret_s}
        if num_agents == 70:
            ctx = contexts[0]
            looped = lambda: looped_charging_regret(forecast, truth, ctx["rate"], ctx["slots"])  # noqa: E731
            torch.testing.assert_close(looped(), population.regret(forecast, truth, contexts), rtol=0, atol=1e-3)
            loop_s = median_seconds(looped, loop_repeats, warmup=1)
            row |= {"loop_ms": 1e3 * loop_s, "step_speedup": loop_s / step_s, "regret_speedup": loop_s / regret_s}
        rows.append(row)
    return rows


def print_env_rows(rows: list[dict]) -> None:
    print(f"EV env benchmark (medians) on {machine()}")
    for row in rows:
        print(
            f"  M={row['M']:>6} B={row['B']:>5} H={row['H']}: env step {row['step_ms']:8.3f} ms "
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
    ("EquitablePM-EV-v0", "transformer", "rloo"),
    ("EquitablePM-EV-v0", "transformer", "pg"),
    ("EquitablePM-DC-v0", "lstm", "diff"),
    ("EquitablePM-DC-v0", "lstm", "mse"),
)


def bench_train(repeats: int = 30) -> list[dict]:
    """Windows/s of one training step (B = 128, paper sizes), and the share of it spent in the regret."""
    from trainers.config import TrainConfig
    from trainers.estimators import ESTIMATORS, Batch
    from trainers.evaluate import task_of
    from trainers.loop import train_step
    from trainers.policy import build_policy

    rows = []
    for env, backbone, algo in TRAIN_CASES:
        config = TrainConfig(env=env, backbone=backbone, algo=algo, q=1.0)
        task = task_of(env, "train", {})
        generator = torch.Generator().manual_seed(0)
        size = config.batch_size
        batch = Batch(
            inputs=torch.from_numpy(task.windows.inputs[:size]),
            targets=torch.from_numpy(task.windows.targets[:size]),
            contexts=task.population.sampler(size, generator).draw(),
            global_size=size,
            noise=lambda samples: torch.randn((samples, size, task.horizon), generator=generator),
        )
        values = task.signal.values[: task.signal.cut]
        policy = build_policy(config, task.horizon, float(values.mean()), float(values.std()))
        estimator = ESTIMATORS[algo](task.population, config.q, config.beta, config.form, config.samples)
        policy.log_std.requires_grad_(estimator.stochastic)
        optimizer = torch.optim.Adam([p for p in policy.parameters() if p.requires_grad], lr=config.learning_rate)
        step_s = median_seconds(lambda: train_step(policy, estimator, optimizer, batch), repeats)
        forecasts = (config.samples if algo == "rloo" else 1) * size
        truth = batch.targets.repeat(forecasts // size, 1)
        contexts = [{k: v.repeat(1, forecasts // size) for k, v in ctx.items()} for ctx in batch.contexts]
        regret_s = median_seconds(lambda: task.population.regret(truth + 0.5, truth, contexts), repeats)
        rows.append({"env": env, "backbone": backbone, "algo": algo, "M": task.num_agents, "B": size,
                     "step_ms": 1e3 * step_s, "windows_per_s": size / step_s, "regret_share": regret_s / step_s})
    return rows


def print_train_rows(rows: list[dict]) -> None:
    print(f"Training step benchmark (medians, q = 1, B = 128) on {machine()}")
    for row in rows:
        print(
            f"  {row['env']:<20} {row['backbone']:<11} {row['algo']:<4} M={row['M']:<3} "
            f"step {row['step_ms']:7.2f} ms  {row['windows_per_s']:8.0f} windows/s  "
            f"regret {100 * row['regret_share']:4.1f} % of the step"
        )
