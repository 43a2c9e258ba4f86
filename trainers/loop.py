"""train(config) -> metrics: the whole training run, top to bottom.

Runs the same in one process and under ``torchrun`` (see
:mod:`trainers.distributed`): every rank draws the global batch's window
order, contexts and noise from the same per-epoch seed and keeps its own
share, so N processes take exactly the steps one process takes.
"""

from __future__ import annotations

import json
import random
import signal
import time
from pathlib import Path
from typing import Any

import numpy as np
import torch
from tqdm import tqdm

from eq_gym.objective import REWARD_FORMS, check_q
from trainers import checkpoint, distributed
from trainers.config import TrainConfig
from trainers.estimators import ESTIMATORS, Batch, Estimator, StepResult
from trainers.evaluate import evaluate, record, task_of
from trainers.interrupts import Interrupted, StopOnSignal
from trainers.logging import RunLog
from trainers.policy import GaussianPolicy, build_policy, entropy

METRICS_FILE = "metrics.json"


def epoch_seed(seed: int, epoch: int) -> int:
    """The seed of one epoch's window order, context draws and noise."""
    return int(np.random.SeedSequence([seed, epoch]).generate_state(1, np.uint64)[0] >> 1)


def train_step(model: torch.nn.Module, estimator: Estimator, optimizer: torch.optim.Optimizer, batch: Batch) -> StepResult:
    """One update: forecast, estimate the gradient, step."""
    mean, log_std = model(batch.inputs)
    result = estimator.step(mean, log_std, batch)
    optimizer.zero_grad(set_to_none=True)
    result.loss.backward()
    optimizer.step()
    return result


def train(config: TrainConfig) -> dict[str, Any]:
    """Train a public model as ``config`` says; write the run folder; return the test metrics."""
    # --- check the run before any work -----------------------------------------
    if config.algo not in ESTIMATORS:
        raise ValueError(f"algo={config.algo!r} is not known; use one of {tuple(ESTIMATORS)}")
    if config.epochs < 0 or config.batch_size < 1 or (config.steps is not None and config.steps < 0):
        raise ValueError(f"epochs={config.epochs}, steps={config.steps}, batch_size={config.batch_size}: "
                         "need epochs >= 0, steps >= 0, batch_size >= 1")
    if config.q < 0 or not np.isfinite(config.q):
        raise ValueError(f"q={config.q} is not allowed; use a finite number >= 0")
    if not 0.0 <= config.beta <= 1.0:
        raise ValueError(f"beta={config.beta} is not allowed; use a number in [0, 1]")
    if config.form not in REWARD_FORMS:
        raise ValueError(f"form={config.form!r} is not allowed; use one of {REWARD_FORMS}")
    check_q(config.q)
    resume = checkpoint.check_out(Path(config.out), config.resume)

    # --- processes, seeds, device ----------------------------------------------
    world = distributed.setup(config.device)
    started = time.perf_counter()
    random.seed(config.seed)
    np.random.seed(config.seed)
    torch.manual_seed(config.seed)
    out = Path(config.out)

    # --- data: the env's task on both splits -------------------------------------
    train_task = task_of(config.env, "train", config.env_kwargs())
    test_task = task_of(config.env, "test", config.env_kwargs())
    population = train_task.population.to(world.device)
    inputs = torch.tensor(train_task.windows.inputs).to(world.device)
    targets = torch.tensor(train_task.windows.targets).to(world.device)
    starts = torch.tensor(train_task.windows.start).to(world.device)
    if config.batch_size > train_task.num_windows:
        raise ValueError(f"batch_size={config.batch_size} exceeds the {train_task.num_windows} training windows")
    steps_per_epoch = train_task.num_windows // config.batch_size
    epochs = config.epochs_for(steps_per_epoch)
    total_steps = epochs * steps_per_epoch if config.steps is None else config.steps
    estimator = ESTIMATORS[config.algo](population, config.q, config.beta, config.form, config.samples,
                                        config.memory, config.perturbation, config.score)

    # --- model, optimiser, schedule ----------------------------------------------
    policy = build_policy(config, train_task)
    policy.log_std.requires_grad_(estimator.stochastic)
    policy.to(world.device)
    estimator.model = policy
    model: torch.nn.Module = policy
    if world.size > 1:
        device_ids = [world.device.index] if world.device.type == "cuda" else None
        model = torch.nn.parallel.DistributedDataParallel(policy, device_ids=device_ids)
    optimizer = torch.optim.Adam([p for p in policy.parameters() if p.requires_grad], lr=config.learning_rate)
    scheduler = torch.optim.lr_scheduler.StepLR(optimizer, step_size=config.lr_step, gamma=config.lr_gamma)
    first_epoch, first_step, streams, wall_before, history = 0, 0, {}, 0.0, []
    if resume:
        state = checkpoint.load(out, config.as_dict())
        policy.load_state_dict(state["model"])
        optimizer.load_state_dict(state["optimizer"])
        scheduler.load_state_dict(state["scheduler"])
        checkpoint.restore_rng_states(state["rng"])
        estimator.load_state_dict(state["estimator"])
        first_epoch, wall_before, history = state["epoch"], state["wall_s"], state["history"]
        first_step, streams = state.get("step", 0), state.get("streams", {})
        done = first_epoch * steps_per_epoch + first_step
        if done >= total_steps and (out / METRICS_FILE).is_file():  # nothing left to do: say so, write nothing
            if world.is_main:
                print(f"{out} is a finished run ({done} updates of {total_steps}); nothing to resume. "
                      f"Evaluate it with `eqpm evaluate --run {out}`, or give more --epochs to train on.")
            distributed.teardown()
            return json.loads((out / METRICS_FILE).read_text())
        if world.is_main:
            print(f"resuming {out} after {done} of {total_steps} updates (epoch {first_epoch + 1}, step {first_step})")

    # --- logging -----------------------------------------------------------------
    if world.is_main:
        out.mkdir(parents=True, exist_ok=True)
    done_before = first_epoch * steps_per_epoch + first_step
    log = RunLog(out, world.is_main, purge_step=done_before if resume else None)
    share = world.share(config.batch_size)
    progress = tqdm(
        total=max(0, total_steps - done_before),
        disable=not (world.is_main and config.progress),
        desc=f"{config.algo} q={config.q:g} {config.env}",
        unit="batch",
        mininterval=2.0,
    )

    # --- training ------------------------------------------------------------------
    def batch_of(global_windows: torch.Tensor, sampler, generator: torch.Generator) -> Batch:
        """This rank's share of the global batch of ``global_windows``, with contexts and noise."""
        windows = global_windows[share]
        draw = sampler.draw(starts[global_windows])
        return Batch(
            inputs=inputs[windows],
            targets=targets[windows],
            contexts=[{k: v[:, share] for k, v in ctx.items()} for ctx in draw.contexts],
            weight=None if draw.weight is None else draw.weight.windows(share),
            global_size=config.batch_size,
            noise=lambda samples: torch.randn(
                (samples, config.batch_size, train_task.horizon), generator=generator, device=world.device
            )[:, share],
        )

    with StopOnSignal() as stop:
        for epoch in range(first_epoch, epochs):
            seed = epoch_seed(config.seed, epoch)
            order = torch.from_numpy(np.random.default_rng(seed).permutation(train_task.num_windows)).to(world.device)
            generator = torch.Generator(device=world.device).manual_seed(seed)
            contexts = population.sampler(config.batch_size, generator)
            held_order, held_generator, held_contexts = None, None, None
            if estimator.needs_held_out:  # a second stream of training batches, in its own order
                held_order = torch.from_numpy(np.random.default_rng([seed, 1]).permutation(train_task.num_windows)).to(world.device)
                held_generator = torch.Generator(device=world.device).manual_seed(seed + 1)
                held_contexts = population.sampler(config.batch_size, held_generator)
            start_step = first_step if epoch == first_epoch else 0
            if start_step:  # resume inside the epoch: the streams where the interrupted run left them
                generator.set_state(streams["generator"])
                if held_generator is not None:
                    held_generator.set_state(streams["held_out"])

            epoch_start, running = time.perf_counter(), []
            model.train()
            epoch_steps = min(steps_per_epoch, total_steps - epoch * steps_per_epoch)
            for step in range(start_step, epoch_steps):
                window_slice = slice(step * config.batch_size, (step + 1) * config.batch_size)
                batch = batch_of(order[window_slice], contexts, generator)
                if held_order is not None:
                    batch.held_out = batch_of(held_order[window_slice], held_contexts, held_generator)
                result = train_step(model, estimator, optimizer, batch)
                global_step = epoch * steps_per_epoch + step
                running.append(float(result.objective))
                log.scalars(
                    {"losses/loss": result.loss.item(), "losses/objective": running[-1], "losses/mse": float(result.mse)},
                    global_step,
                )
                progress.update()
                progress.set_postfix(objective=f"{np.mean(running[-20:]):.4g}", epoch=epoch + 1, refresh=False)  # redraw at tqdm's pace
                if stop.requested(world.size > 1, world.device):  # Ctrl-C or SIGTERM: keep this update, then stop
                    where = {"generator": generator.get_state()}
                    if held_generator is not None:
                        where["held_out"] = held_generator.get_state()
                    if world.is_main:
                        checkpoint.save(out, _state(policy, optimizer, scheduler, estimator, config, epoch, wall_before,
                                                    started, history, step + 1, where))
                    progress.close()
                    log.close()
                    distributed.teardown()
                    raise Interrupted(
                        f"stopped after update {global_step + 1} of {total_steps}; kept {out / checkpoint.CHECKPOINT} "
                        f"(epoch {epoch + 1}, step {step + 1}); continue with the same command and --resume",
                        stop.received or signal.SIGTERM)
            scheduler.step()
            windows_per_s = (epoch_steps - start_step) * config.batch_size / (time.perf_counter() - epoch_start)

            # --- end of epoch: test charts and a checkpoint, on rank 0 -------------------
            if world.is_main:
                metrics, agent_regret = evaluate(lambda x, _: policy.predict(x), test_task, world.device)
                log.epoch(metrics, agent_regret, epoch + 1)
                history.append({"epoch": epoch + 1, "steps": epoch * steps_per_epoch + epoch_steps, **metrics})
                log.scalars(
                    {
                        "policy/std": policy.log_std.detach().exp().mean().item(),
                        "policy/entropy": entropy(policy.log_std.detach()).item(),
                        "perf/windows_per_s": windows_per_s,
                        "losses/learning_rate": scheduler.get_last_lr()[0],
                    },
                    epoch + 1,
                )
                checkpoint.save(out, _state(policy, optimizer, scheduler, estimator, config, epoch + 1, wall_before, started, history))
    progress.close()

    # --- the test metrics of the final model (the last epoch's, or a fresh evaluation) ---
    result: dict[str, Any] = {}
    if world.is_main:
        if epochs <= first_epoch:  # nothing trained in this call (--epochs 0, or a finished run resumed)
            metrics, agent_regret = evaluate(lambda x, _: policy.predict(x), test_task, world.device)
        result = record(
            metrics, agent_regret, test_task, config.env, algo=config.algo, q=config.q, beta=config.beta,
            seed=config.seed, backbone=config.backbone_name, wall_s=wall_before + time.perf_counter() - started,
            epochs=epochs, lr=config.learning_rate, form=config.form, samples=config.samples,
            batch_size=config.batch_size, device=str(world.device), world_size=world.size,
            steps=total_steps, history=history,
        )
        if epochs <= first_epoch:  # keep a checkpoint to evaluate later
            checkpoint.save(out, _state(policy, optimizer, scheduler, estimator, config, first_epoch, wall_before, started, history))
        (out / METRICS_FILE).write_text(json.dumps(result, indent=2) + "\n")
        log.hparams(config.as_dict(), metrics)
    log.close()
    distributed.teardown()
    return result


def _state(policy: GaussianPolicy, optimizer, scheduler, estimator, config: TrainConfig, epoch, wall_before, started, history,
           step: int = 0, streams: dict | None = None) -> dict:
    """A checkpoint: ``epoch`` epochs done and ``step`` updates into the next (with its random ``streams``' states)."""
    return {
        "step": step,
        "streams": streams or {},
        "history": history,
        "model": policy.state_dict(),
        "estimator": estimator.state_dict(),
        "optimizer": optimizer.state_dict(),
        "scheduler": scheduler.state_dict(),
        "rng": checkpoint.rng_states(),
        "epoch": epoch,
        "config": config.as_dict(),
        "wall_s": wall_before + time.perf_counter() - started,
    }
