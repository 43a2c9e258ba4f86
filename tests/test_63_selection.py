"""--validation: --keep best chooses on the training period's latest windows, which the updates never see."""

import math

import numpy as np
import pytest
import torch
from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

from eq_gym.envs.base import task_of
from eq_gym.objective import Objective
from trainers import checkpoint, loop
from trainers.config import TrainConfig
from trainers.evaluate import evaluate
from trainers.policy import build_policy
from trainers.selection import hold_out

TINY = dict(env="EquitablePM-EV-v0", width=16, batch_size=2048, num_agents=20, progress=False, seed=3)
"""About 5 updates an epoch on EV's fitted windows."""


@pytest.mark.parametrize("env", ["EquitablePM-DC-v0", "EquitablePM-EV-v0"])  # H = 1 and H = 12
def test_the_held_out_windows_are_the_latest_and_no_hour_is_a_target_of_both_parts(env):
    task = task_of(env, "train")
    fitted, held = hold_out(task, 0.2)
    assert held.num_windows == round(0.2 * task.num_windows)
    np.testing.assert_array_equal(held.windows.targets, task.windows.targets[-held.num_windows:])
    np.testing.assert_array_equal(fitted.windows.inputs, task.windows.inputs[: fitted.num_windows])
    last_fitted_hour = fitted.windows.start[-1] + task.horizon - 1
    assert last_fitted_hour == held.windows.start[0] - 1  # no hour of both, and no more windows dropped than that
    assert held.population is task.population and fitted.population is task.population


def test_a_share_that_leaves_one_side_empty_is_refused():
    with pytest.raises(ValueError, match=r"validation=1e-09 holds out 0 of the 14346 training windows"):
        hold_out(task_of("EquitablePM-EV-v0", "train"), 1e-9)
    for share in (1.0, -0.1):
        with pytest.raises(ValueError, match=f"validation={share} is not allowed; use a share in"):
            TrainConfig(validation=share, keep="best")


def test_under_keep_last_the_held_out_windows_only_score_the_last_model(tmp_path):
    torch.set_num_threads(1)
    config = TrainConfig(q=math.inf, epochs=2, recipe="paper", validation=0.3, out=tmp_path / "run", **TINY)
    record = loop.train(config)
    fitted, held = hold_out(task_of(config.env, "train", config.env_kwargs()), 0.3)
    assert record["keep"] == "last" and record["kept_epoch"] is None
    assert record["steps"] == 2 * (fitted.num_windows // config.batch_size)  # the updates ran on the fitted part alone
    policy = build_policy(config, fitted)
    policy.load_state_dict(checkpoint.given_model(checkpoint.read(tmp_path / "run" / checkpoint.CHECKPOINT)))
    assert record["validation_agent_regret"] == pytest.approx(evaluate(lambda x, _: policy.predict(x), held)[1].tolist())
    assert all("validation_objective" not in h for h in record["history"])


def test_a_run_fits_on_the_earlier_windows_and_gives_each_rungs_lowest_held_out_score(tmp_path, monkeypatch):
    torch.set_num_threads(1)
    streams = []

    class SeenStream(loop.BatchStream):
        def __init__(self, task, *args, **kwargs):
            super().__init__(task, *args, **kwargs)
            streams.append(task)

    monkeypatch.setattr(loop, "BatchStream", SeenStream)
    config = TrainConfig(q=math.inf, epochs=2, rung_epochs=2, rungs=(math.inf,), recipe="path", validation=0.3,
                         out=tmp_path / "run", **TINY)
    record = loop.train(config)
    train_task = task_of(config.env, "train", config.env_kwargs())
    fitted, held = hold_out(train_task, 0.3)
    assert streams[0].windows.start[-1] == fitted.windows.start[-1] < held.windows.start[0]  # the updates never saw them
    scores = [h["validation_objective"] for h in record["history"]]
    for rung, epochs in zip(record["path"], ([0, 1, 2], [2, 3, 4])):
        candidates = [rung["start_objective"]] + scores[epochs[1] - 1: epochs[2]]
        assert rung["validation_objective"] == pytest.approx(min(candidates))
        assert rung["kept_epoch"] == epochs[int(np.argmin(candidates))]
    policy = build_policy(config, train_task)
    policy.load_state_dict(checkpoint.given_model(checkpoint.read(tmp_path / "run" / checkpoint.CHECKPOINT)))
    metrics, regret = evaluate(lambda x, _: policy.predict(x), held)
    given = Objective(math.inf, config.form, config.beta).combined(torch.from_numpy(regret), torch.tensor(metrics["mse"]))
    assert float(given) == pytest.approx(record["path"][-1]["validation_objective"], rel=1e-6)  # scored on the held-out windows
    assert record["validation_agent_regret"] == pytest.approx(regret.tolist())
    assert record["train_agent_regret"] == pytest.approx(evaluate(lambda x, _: policy.predict(x), train_task)[1].tolist())
    assert record["validation"] == 0.3
    tags = EventAccumulator(str(tmp_path / "run")).Reload().Tags()["scalars"]
    assert "charts/validation_objective" in tags and "charts/train_objective" not in tags
