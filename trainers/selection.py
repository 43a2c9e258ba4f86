"""Which model a run gives under ``--keep best``, and the windows it is chosen on.

``--keep best`` scores a rung's start and each epoch's end on the rung's own objective,
(1 - beta) L_q + beta L_f, and gives the lowest (:func:`keep_if_best`). It scores on the whole training
split, or, with ``--validation F``, on the latest share F of the training windows, which the updates then
never see (:func:`hold_out`): early stopping on data the model was not fitted to, held out at the end of
the training period as the test split follows the training one. Under ``--keep last`` the held-out windows
only score the last model, so that two schedules can be compared on windows neither was fitted to.
"""

from __future__ import annotations

import dataclasses
from typing import TYPE_CHECKING

import torch

from eq_gym.observations import Windows
from eq_gym.tasks import Task
from trainers.config import Rung
from trainers.evaluate import evaluate

if TYPE_CHECKING:
    from trainers.loop import Run


def hold_out(task: Task, share: float) -> tuple[Task, Task]:
    """``task`` split in time: (fitted, held out), the latest ``share`` of its windows held out, and the fitted
    part's last ``horizon - 1`` windows dropped so that no hour is a target of both. Both keep ``task``'s
    agents (the training split's population); the windows keep their order."""
    held = round(share * task.num_windows)
    fitted = task.num_windows - held - (task.horizon - 1)
    if held < 1 or fitted < 1:
        raise ValueError(f"validation={share} holds out {held} of the {task.num_windows} training windows and fits "
                         f"on {max(fitted, 0)}; use a share that leaves windows on both sides, e.g. 0.2")
    windows = task.windows

    def part(rows: slice) -> Task:
        return dataclasses.replace(task, windows=Windows(windows.inputs[rows], windows.targets[rows], windows.start[rows]))

    return part(slice(0, fitted)), part(slice(task.num_windows - held, None))


def score_name(validation: float) -> str:
    """The name of the keep-best score in the history, the rung summaries and TensorBoard (``charts/...``)."""
    return "validation_objective" if validation else "train_objective"


def keep_if_best(run: Run, epoch: int) -> float:
    """Score the model after ``epoch`` epochs on the rung's own objective over the scored windows (the training
    split, or its held-out part); keep it (a copy of its weights) if it is the lowest so far (the first candidate
    is the rung's start, whose score the kept iterate carries as ``start_objective``). Returns the score."""
    metrics, agent_regret = evaluate(lambda x, _: run.policy.predict(x), run.scored_on, run.world.device)
    objective = float(run.estimator.split_objective(torch.from_numpy(agent_regret), torch.tensor(metrics["mse"])))
    if run.kept is None or objective < run.kept["objective"]:
        start = objective if run.kept is None else run.kept["start_objective"]
        run.kept = {"epoch": epoch, "objective": objective, "start_objective": start,
                    "model": {name: value.detach().clone() for name, value in run.policy.state_dict().items()}}
    run.log.scalars({f"charts/{score_name(run.config.validation)}": objective}, epoch)
    return objective


def climbed(run: Run) -> list[dict]:
    """Each rung of the path the run trained on (:func:`rung_summary`), the rung the run ended on last."""
    return [*run.climbed, rung_summary(run.path[run.rung], run.kept, run.config.validation)]


def rung_summary(rung: Rung, kept: dict | None, validation: float) -> dict:
    """A rung's record entry: q, epochs; under --keep best its given model's epoch, its and its start's scores."""
    given = {} if kept is None else {"kept_epoch": kept["epoch"], score_name(validation): kept["objective"],
                                     "start_objective": kept["start_objective"]}
    return {"q": rung.q, "epochs": rung.epochs, **given}
