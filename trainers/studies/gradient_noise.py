"""How much of one update's gradient is signal: each policy gradient's draws against the expected gradient.

``eqpm bench gradient-noise`` builds the default model of an env (untrained, seed 0) and one batch of
its training split, and draws each estimator's gradient of the mean forecast's weights ``--draws`` times
(fresh forecast samples each time; the std held fixed) at q = 0, where every estimator's expected
gradient is that of the mean regret. The expected gradient is the mean of ``--reference``'s draws (rloo,
per-window credit), from draws apart from those scored. Reports, per estimator, the cosine of one draw with it (mean and std over draws), the
cosine of the mean of all draws with it, and the draws one update would need to average for a cosine
of 0.9 (signal-to-noise: 0.9^2 / (1 - 0.9^2) over one draw's squared cosine / (1 - it)): the updates a
learner spends to move as far as one step of the expected gradient. Measured on the training split's
first batch; a figure for the start of training, not for its end.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from eq_gym import ENV_IDS
from trainers.estimators import MODULES
from trainers.studies.report import machine
from trainers.studies.study import Flag, Study

TARGET_COSINE = 0.9


def draws_needed(cosine: float) -> float:
    """Draws to average so that their mean has ``TARGET_COSINE`` with the expected gradient, if one draw has
    mean ``cosine`` (independent draws: the signal adds, the noise adds in quadrature)."""
    if cosine <= 0:
        return float("inf")
    signal_to_noise = cosine**2 / max(1.0 - cosine**2, 1e-12)
    return max(1.0, TARGET_COSINE**2 / (1.0 - TARGET_COSINE**2) / signal_to_noise)


def gradient_draws(env: str, algo: str, draws: int, batch_size: int, seed: int) -> np.ndarray:
    """``draws`` gradients (draws, P) of the mean forecast's weights by ``algo`` at q = 0 on the first batch,
    the forecast samples drawn from ``seed``."""
    import torch

    from eq_gym.envs.base import task_of
    from trainers.batches import BatchStream
    from trainers.config import TrainConfig
    from trainers.estimators import build_estimator
    from trainers.policy import build_policy

    config = TrainConfig(env=env, algo=algo, q=0.0, batch_size=batch_size, recipe="paper")
    task = task_of(env, "train", config.env_kwargs())
    torch.manual_seed(0)
    policy = build_policy(config, task)
    policy.log_std.requires_grad_(False)
    estimator = build_estimator(config, task.population, policy)
    stream = BatchStream(task, task.population, batch_size, 0, torch.device("cpu"), held_out=estimator.needs_held_out)
    stream.start_epoch(0)
    batch = stream.batch(0)
    generator = torch.Generator().manual_seed(seed)
    batch.noise = lambda samples: torch.randn((samples, *batch.targets.shape), generator=generator)
    weights = [p for p in policy.parameters() if p.requires_grad]
    rows = []
    for _ in range(draws):
        mean, log_std = policy(batch.inputs)
        if hasattr(estimator, "scale"):
            estimator.scale.value = 1.0  # a fixed scale: raw draws, comparable with each other
        grads = torch.autograd.grad(estimator.step(mean, log_std, batch).loss, weights, allow_unused=True)
        rows.append(torch.cat([(g if g is not None else torch.zeros_like(w)).flatten() for g, w in zip(grads, weights)]))
    return torch.stack(rows).double().numpy()


def analyse(env: str, algos: tuple[str, ...], reference: str, draws: int, batch_size: int) -> dict[str, Any]:
    expected = gradient_draws(env, reference, draws, batch_size, seed=1).mean(axis=0)  # apart from the draws scored
    unit = expected / np.linalg.norm(expected)
    rows = []
    for algo in algos:
        sample = gradient_draws(env, algo, draws, batch_size, seed=2)
        cosines = sample @ unit / np.linalg.norm(sample, axis=1)
        average = sample.mean(axis=0)
        rows.append({"algo": algo, "cosine": float(cosines.mean()), "cosine_std": float(cosines.std()),
                     "mean_cosine": float(average @ unit / np.linalg.norm(average)),
                     "draws_needed": draws_needed(float(cosines.mean()))})
    return {"env": env, "reference": reference, "draws": draws, "batch_size": batch_size, "rows": rows,
            "machine": machine()}


def report_lines(result: dict[str, Any]) -> list[str]:
    lines = [f"Gradient draws on {result['env']} (default model, untrained; q = 0; B = {result['batch_size']}; "
             f"{result['draws']} draws each; expected gradient: the mean of {result['reference']}'s) on {result['machine']}",
             f"{'algo':<8} {'one draw: cosine':>20} {'mean of the draws':>18} {'draws for cosine 0.9':>21}"]
    for r in result["rows"]:
        lines.append(f"{r['algo']:<8} {r['cosine']:>11.3f} ± {r['cosine_std']:.3f} {r['mean_cosine']:>18.3f} "
                     f"{r['draws_needed']:>21.3g}")
    return lines


STUDY = Study(
    flags=(Flag("env", "EquitablePM-EV-v0", "env, with its defaults", choices=tuple(ENV_IDS)),
           Flag("algos", ("rloo", "pg"), "estimators whose draws to compare", many=True, choices=tuple(MODULES)),
           Flag("reference", "rloo", "the estimator whose mean draw stands for the expected gradient",
                choices=tuple(MODULES)),
           Flag("draws", 200, "draws of each estimator's gradient"),
           Flag("batch_size", 128, "windows of the batch")),
    analyse=analyse, report=report_lines,
)
