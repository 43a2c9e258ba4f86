"""Env steps and regret evaluations per second on the EV env.

``eqpm bench env-speed`` times both timings (``own`` hours and ``shared``), at M = 70 agents and B = 128
windows and at M = 10,000, B = 1,024 (each group's agents tiled up to M,
each group keeping its share); at M = 70 beside a Python loop over agents and
windows with one top-k each (the way the paper's code release computes the
regret), checked equal first; at M = 10,000 beside the floor: the slot
lookups, reading their index and filling the regret, each timed alone.
Every figure is a median over repeats, printed with the machine it ran on;
ratios are measured side by side in the same run.
"""

from __future__ import annotations

import itertools
from dataclasses import replace

import gymnasium as gym
import numpy as np
import torch

from eq_gym.agents.base import ContextPool
from eq_gym.agents.charging import SlotChargers, slot_cost, slot_regret_table
from eq_gym.agents.population import Population
from trainers.studies.report import machine
from trainers.studies.study import Flag, Study
from trainers.studies.timing import median_seconds


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


def bench_env(repeats: int, loop_repeats: int = 5) -> list[dict]:
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
        else:
            row |= floor_ms(population, forecast, truth, contexts, repeats)
        rows.append(row)
    return rows


def floor_ms(population: Population, forecast: torch.Tensor, truth: torch.Tensor, contexts: list, repeats: int) -> dict:
    """What a step cannot do without, timed alone (ms): every group's slot lookup, (M, B) entries of its per-k
    table; reading the drawn index once (a sum); filling a kept (B, M) float32 regret."""
    tables = [slot_regret_table(forecast, group.paid_truth(truth, ctx)) for group, ctx in zip(population.groups, contexts)]
    kept = torch.empty((forecast.shape[0], population.num_agents))
    return {
        "lookup_ms": 1e3 * median_seconds(lambda: [slot_cost(t, None, ctx["slots"]) for t, ctx in zip(tables, contexts)], repeats),
        "read_ms": 1e3 * median_seconds(lambda: [ctx["slots"].sum() for ctx in contexts], repeats),
        "fill_ms": 1e3 * median_seconds(lambda: kept.fill_(1.0), repeats),
    }


def env_lines(rows: list[dict]) -> list[str]:
    """The rows as the report's lines."""
    lines = [f"EV env benchmark (medians; 'different' agents) on {machine()}"]
    for row in rows:
        lines.append(
            f"  timing={row['timing']:<6} regret={row['regret']:<8} M={row['M']:>6} B={row['B']:>5} H={row['H']}: env step {row['step_ms']:8.3f} ms "
            f"({row['steps_per_s']:9.1f} steps/s); regret {row['regret_ms']:8.3f} ms "
            f"({row['regrets_per_s']:9.1f} evaluations/s)"
        )
        if "loop_ms" in row:
            lines.append(
                f"  M={row['M']:>6} B={row['B']:>5} python loop over agents and windows, one top-k each: "
                f"{row['loop_ms']:.1f} ms -> env step {row['step_speedup']:.0f}x faster, "
                f"regret {row['regret_speedup']:.0f}x faster"
            )
        if "lookup_ms" in row:
            lines.append(
                f"  M={row['M']:>6} B={row['B']:>5} floor: the slot lookups alone {row['lookup_ms']:.1f} ms, reading "
                f"their index {row['read_ms']:.1f} ms, filling a kept (B, M) regret {row['fill_ms']:.1f} ms"
            )
    return lines


STUDY = Study(flags=(Flag("repeats", 30, "timed repeats per figure"),), analyse=bench_env, report=env_lines)
