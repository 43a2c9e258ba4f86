"""train(config) -> metrics: the whole training run, top to bottom.

Runs the same in one process and under ``torchrun`` (see
:mod:`trainers.distributed`): every rank draws the global batch's window
order, contexts and noise from the same per-epoch seed and keeps its own
share (:class:`trainers.batches.BatchStream`), so N processes take exactly
the steps one process takes.

:func:`train` reads as the run goes: :func:`set_up` (seeds, the task on both
splits, the batch stream, estimator, model, optimiser, a resumed state),
then each epoch's updates (:func:`train_epoch`) and its test charts and
checkpoint (:func:`end_epoch`), then the final record (:func:`finish`).
Under ``--keep best`` the run also scores its start and each epoch's end on
its own objective over the whole training split, or under ``--validation`` over
its held-out latest part (:mod:`trainers.selection`), and gives the best of them.

A run on a path in q (``recipe="path"``, the default: ``TrainConfig.path``)
climbs its rungs in this one loop: at each rung's first epoch
:func:`begin_rung` takes the model the rung before gives (its best iterate
under ``--keep best``) and starts a fresh estimator at the rung's q, a fresh
optimiser and step schedule, the rung's batches seeded as a run of its own:
the rung is the run ``eqpm train --init PREVIOUS_RUNG --epochs N --q Q`` would
be. One run folder, one TensorBoard curve (rungs as steps of it), one
checkpoint that ``--resume`` continues mid-rung.
"""

from __future__ import annotations

import dataclasses
import random
import signal
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch
from tqdm import tqdm

from eq_gym.envs.base import task_of
from trainers import checkpoint, distributed
from trainers.batches import BatchStream
from trainers.config import Rung, TrainConfig, rung_at
from trainers.distributed import World
from trainers.estimators import Batch, Estimator, StepResult, build_estimator, check_names
from trainers.evaluate import evaluate
from trainers.interrupts import Interrupted, StopOnSignal
from trainers.policy import GaussianPolicy, build_policy, entropy
from trainers.records import read_record, record, write_record
from trainers.runlog import RunLog
from trainers.selection import climbed, hold_out, keep_if_best, rung_summary, score_name


def train_step(model: torch.nn.Module, estimator: Estimator, optimizer: torch.optim.Optimizer, batch: Batch) -> StepResult:
    """One update: forecast, estimate the gradient, step."""
    mean, log_std = model(batch.inputs)
    result = estimator.step(mean, log_std, batch)
    optimizer.zero_grad(set_to_none=True)
    result.loss.backward()
    optimizer.step()
    return result


@dataclass
class Run:
    """A training run in progress: what :func:`set_up` builds and the epochs advance."""

    config: TrainConfig
    world: World
    train_task: Any
    test_task: Any
    scored_on: Any
    """The windows ``--keep best`` scores on: the training split's, or under ``--validation`` its held-out part."""
    stream: BatchStream
    estimator: Estimator
    policy: GaussianPolicy
    model: torch.nn.Module
    optimizer: torch.optim.Optimizer
    scheduler: Any
    epochs: int
    total_steps: int
    started: float
    rung: int = 0  # the rung (index into ``path``) the estimator, optimiser and scheduler are at
    reference: Any = None
    first_epoch: int = 0
    first_step: int = 0
    streams: dict = field(default_factory=dict)
    wall_before: float = 0.0
    history: list = field(default_factory=list)
    log: RunLog | None = None
    kept: dict | None = None
    """Under ``--keep best``: the rung's best iterate so far (``epoch``, ``objective``, ``start_objective``, ``model``)."""
    climbed: list = field(default_factory=list)
    """Each finished rung of a path (:func:`rung_summary`)."""

    @property
    def path(self) -> tuple[Rung, ...]:
        return self.config.path

    @property
    def out(self) -> Path:
        return Path(self.config.out)

    def state(self, epoch: int, step: int = 0, streams: dict | None = None) -> dict:
        """A checkpoint: ``epoch`` epochs done and ``step`` updates into the next (with its random ``streams``' states)."""
        return {
            "step": step,
            "streams": streams or {},
            "history": self.history,
            "model": self.policy.state_dict(),
            "kept": self.kept,
            "rung": self.rung,
            "climbed": self.climbed,
            "estimator": self.estimator.state_dict(),
            "optimizer": self.optimizer.state_dict(),
            "scheduler": self.scheduler.state_dict(),
            "rng": checkpoint.rng_states(),
            "epoch": epoch,
            "config": self.config.as_dict(),
            "wall_s": self.wall_before + time.perf_counter() - self.started,
        }


def train(config: TrainConfig) -> dict[str, Any]:
    """Train a public model as ``config`` says (the config checked its own fields when it was made); write
    the run folder; return the test metrics."""
    resume = checkpoint.check_out(Path(config.out), config.resume)
    run = set_up(config, resume)
    done = run.first_epoch * run.stream.steps_per_epoch + run.first_step
    finished = read_record(run.out) if resume and done >= run.total_steps else None
    if finished is not None:  # nothing left: say so, write nothing
        if run.world.is_main:
            print(f"{run.out} is a finished run ({done} updates of {run.total_steps}); nothing to resume. "
                  f"Evaluate it with `eqpm evaluate --run {run.out}`, or give more --epochs to train on.")
        distributed.teardown()
        return finished
    if resume and run.world.is_main:
        print(f"resuming {run.out} after {done} of {run.total_steps} updates (epoch {run.first_epoch + 1}, step {run.first_step})")
    if run.world.is_main:
        run.out.mkdir(parents=True, exist_ok=True)
    run.log = RunLog(run.out, run.world.is_main, purge_step=done if resume else None)
    progress = tqdm(total=max(0, run.total_steps - done), disable=not (run.world.is_main and config.progress),
                    desc=f"{config.algo} q={config.q:g} {config.env}", unit="batch", mininterval=2.0)
    if config.keep == "best" and run.kept is None:  # the start is a candidate too
        keep_if_best(run, run.first_epoch)
    scored = None
    with StopOnSignal() as stop:
        for epoch in range(run.first_epoch, run.epochs):
            rung = rung_at(run.path, epoch)
            if rung > run.rung:
                begin_rung(run, rung)
            windows_per_s = train_epoch(run, epoch, stop, progress)
            scored = end_epoch(run, epoch, windows_per_s)
    progress.close()
    return finish(run, scored)


def set_up(config: TrainConfig, resume: bool) -> Run:
    """Seeds, the task on both splits, the batch stream, estimator, model, optimiser; a checkpoint's state if resuming."""
    check_names(config)  # before the data: a name no estimator or weighing has
    world = distributed.setup(config.device)
    started = time.perf_counter()
    random.seed(config.seed)
    np.random.seed(config.seed)
    torch.manual_seed(config.seed)
    train_task = task_of(config.env, "train", config.env_kwargs())
    test_task = task_of(config.env, "test", config.env_kwargs())
    fitted, scored_on = hold_out(train_task, config.validation) if config.validation else (train_task, train_task)
    population = train_task.population.to(world.device)
    if config.batch_size > fitted.num_windows:
        raise ValueError(f"batch_size={config.batch_size} exceeds the {fitted.num_windows} training windows the updates fit on")
    policy = build_policy(config, train_task).to(world.device)
    if config.init is not None and not resume:
        policy.load_state_dict(initial_model(config))
    reference = None
    if config.weighing == "excess" and config.init is not None:  # each agent's training-split regret under the start
        reference = torch.from_numpy(evaluate(lambda x, _: policy.predict(x), train_task, world.device)[1])
    state = checkpoint.load(Path(config.out), config.as_dict()) if resume else {}
    rung = state.get("rung", 0)
    estimator, optimizer, scheduler = rung_learner(config, config.path[rung].q, population, policy, reference)
    stream = BatchStream(fitted, population, config.batch_size, config.seed, world.device,
                         world.share(config.batch_size), estimator.needs_held_out)
    epochs = config.epochs_for(stream.steps_per_epoch)
    total_steps = epochs * stream.steps_per_epoch if config.steps is None else config.steps
    model: torch.nn.Module = policy
    if world.size > 1:
        device_ids = [world.device.index] if world.device.type == "cuda" else None
        model = torch.nn.parallel.DistributedDataParallel(policy, device_ids=device_ids)
    run = Run(config, world, train_task, test_task, scored_on, stream, estimator, policy, model, optimizer, scheduler, epochs,
              total_steps, started, rung, reference)
    if resume:
        policy.load_state_dict(state["model"])
        optimizer.load_state_dict(state["optimizer"])
        scheduler.load_state_dict(state["scheduler"])
        checkpoint.restore_rng_states(state["rng"])
        estimator.load_state_dict(state["estimator"])
        run.first_epoch, run.wall_before, run.history = state["epoch"], state["wall_s"], state["history"]
        run.first_step, run.streams, run.kept = state.get("step", 0), state.get("streams", {}), state.get("kept")
        run.climbed = state.get("climbed", [])
    return run


def rung_learner(config: TrainConfig, q: float, population: Any, policy: GaussianPolicy, reference: Any) -> tuple:
    """A fresh estimator of (1 - beta) L_q + beta L_f at ``q`` (the rung's), with Adam and its StepLR schedule."""
    estimator = build_estimator(dataclasses.replace(config, q=q), population, policy, reference)
    policy.log_std.requires_grad_(estimator.stochastic)
    optimizer = torch.optim.Adam([p for p in policy.parameters() if p.requires_grad], lr=config.learning_rate)
    scheduler = torch.optim.lr_scheduler.StepLR(optimizer, step_size=config.lr_step, gamma=config.lr_gamma)
    return estimator, optimizer, scheduler


def begin_rung(run: Run, rung: int) -> None:
    """Climb to ``rung``: record the rung left, take the model it gives (its best iterate under --keep best), and
    start the new rung's estimator, optimiser and schedule; under --keep best its start is its first candidate."""
    left = run.path[run.rung]
    run.climbed.append(rung_summary(left, run.kept, run.config.validation))
    if run.kept is not None:
        run.policy.load_state_dict(run.kept["model"])
    run.rung, run.kept = rung, None
    run.estimator, run.optimizer, run.scheduler = rung_learner(run.config, run.path[rung].q, run.stream.population,
                                                               run.policy, run.reference)
    if run.config.keep == "best":
        keep_if_best(run, run.path[rung].first)


MODEL_FIELDS = ("env", "backbone", "hidden", "d_model", "heads", "width", "agents", "timing", "features", "priorities", "regret",
                "lambdas", "num_agents", "region")
"""What an --init run must share with the run it starts: the task and the network's shape."""


def initial_model(config: TrainConfig) -> dict:
    """The model weights of ``config.init``'s checkpoint, refused by name if it is another task or network."""
    path = Path(config.init) / checkpoint.CHECKPOINT
    if not path.is_file():
        raise ValueError(f"--init {config.init}: no {checkpoint.CHECKPOINT} there; give the folder of a finished run")
    state = checkpoint.read(path)
    made, asked = state["config"], config.as_dict()
    checkpoint.refuse_other_settings(made, {k: asked[k] for k in MODEL_FIELDS}, f"--init {config.init}", set())
    return checkpoint.given_model(state)


def train_epoch(run: Run, epoch: int, stop: StopOnSignal, progress: tqdm) -> float:
    """The updates of one epoch (from where a resumed run left it); stops cleanly on Ctrl-C or SIGTERM.
    Returns the epoch's training windows per second."""
    stream, per_epoch = run.stream, run.stream.steps_per_epoch
    stream.start_epoch(epoch - run.path[run.rung].first)  # each rung's batches seeded as a run of its own
    start_step = run.first_step if epoch == run.first_epoch else 0
    if start_step:  # resume inside the epoch: the streams where the interrupted run left them
        stream.restore(run.streams)
    epoch_start, running = time.perf_counter(), []
    run.model.train()
    epoch_steps = min(per_epoch, run.total_steps - epoch * per_epoch)
    for step in range(start_step, epoch_steps):
        result = train_step(run.model, run.estimator, run.optimizer, stream.batch(step))
        global_step = epoch * per_epoch + step
        running.append(float(result.objective))
        run.log.scalars({"losses/loss": result.loss.item(), "losses/objective": running[-1], "losses/mse": float(result.mse)},
                        global_step)
        progress.update()
        progress.set_postfix(objective=f"{np.mean(running[-20:]):.4g}", epoch=epoch + 1, refresh=False)  # redraw at tqdm's pace
        if stop.requested(run.world.size > 1, run.world.device):  # Ctrl-C or SIGTERM: keep this update, then stop
            if run.world.is_main:
                checkpoint.save(run.out, run.state(epoch, step + 1, stream.state()))
            progress.close()
            run.log.close()
            distributed.teardown()
            raise Interrupted(
                f"stopped after update {global_step + 1} of {run.total_steps}; kept {run.out / checkpoint.CHECKPOINT} "
                f"(epoch {epoch + 1}, step {step + 1}); continue with the same command and --resume",
                stop.received or signal.SIGTERM)
    run.scheduler.step()
    return (epoch_steps - start_step) * run.config.batch_size / (time.perf_counter() - epoch_start)


def end_epoch(run: Run, epoch: int, windows_per_s: float) -> tuple[dict, np.ndarray] | None:
    """On rank 0: the test metrics and charts after ``epoch``, and a checkpoint; returns the metrics and Cbar. Under
    --keep best every rank scores the model (each needs the kept iterate to start the next rung from)."""
    score = keep_if_best(run, epoch + 1) if run.config.keep == "best" else None
    if not run.world.is_main:
        return None
    metrics, agent_regret = evaluate(lambda x, _: run.policy.predict(x), run.test_task, run.world.device)
    run.log.epoch(metrics, agent_regret, epoch + 1)
    per_epoch = run.stream.steps_per_epoch
    run.history.append({"epoch": epoch + 1, "steps": epoch * per_epoch + min(per_epoch, run.total_steps - epoch * per_epoch),
                        **metrics})
    if score is not None:
        run.history[-1][score_name(run.config.validation)] = score
    log_std = run.policy.log_std.detach()
    run.log.scalars({"policy/std": log_std.exp().mean().item(), "policy/entropy": entropy(log_std).item(), "path/rung": run.rung,
                     "perf/windows_per_s": windows_per_s, "losses/learning_rate": run.scheduler.get_last_lr()[0]}, epoch + 1)
    checkpoint.save(run.out, run.state(epoch + 1))
    return metrics, agent_regret


def finish(run: Run, scored: tuple[dict, np.ndarray] | None) -> dict[str, Any]:
    """The final model's test record, written as metrics.json: the last epoch's metrics, or, under ``--keep best``
    with an earlier iterate kept or when nothing was trained in this call, a fresh evaluation of the model given."""
    config, result = run.config, {}
    if run.world.is_main:
        kept = run.kept
        if kept is not None and kept["epoch"] < run.epochs:  # an earlier iterate than the last one is given
            run.policy.load_state_dict(kept["model"])
            scored = None
        if scored is None:  # also: nothing trained in this call (--epochs 0, or a finished run resumed)
            scored = evaluate(lambda x, _: run.policy.predict(x), run.test_task, run.world.device)
        metrics, agent_regret = scored
        train_metrics, train_regret = evaluate(lambda x, _: run.policy.predict(x), run.train_task, run.world.device)
        train_objective = run.estimator.split_objective(torch.from_numpy(train_regret), torch.tensor(train_metrics["mse"]))
        held_out = {"validation_agent_regret": evaluate(lambda x, _: run.policy.predict(x), run.scored_on,
                                                        run.world.device)[1].tolist()} if config.validation else {}
        result = record(
            metrics, agent_regret, run.test_task, config.env, algo=config.algo, q=config.q, beta=config.beta,
            seed=config.seed, backbone=config.backbone, wall_s=run.wall_before + time.perf_counter() - run.started,
            epochs=run.epochs, lr=config.learning_rate, form=config.form, samples=config.samples,
            batch_size=config.batch_size, device=str(run.world.device), world_size=run.world.size,
            steps=run.total_steps, history=run.history, weighing=config.weighing, init=config.as_dict()["init"],
            train_agent_regret=train_regret.tolist(), train_mse=float(train_metrics["mse"]),
            train_objective=float(train_objective), keep=config.keep, validation=config.validation,
            kept_epoch=None if kept is None else kept["epoch"], **held_out,
            **({"recipe": config.recipe, "path": climbed(run)} if len(run.path) > 1 else {}),
        )
        if run.epochs <= run.first_epoch:  # keep a checkpoint to evaluate later
            checkpoint.save(run.out, run.state(run.first_epoch))
        write_record(run.out, result)
        run.log.hparams(config.as_dict(), metrics)
    run.log.close()
    distributed.teardown()
    return result
