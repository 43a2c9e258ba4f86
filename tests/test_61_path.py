"""The equitable learner: one run climbs a path in q, equal to the chain of runs it replaces, resumable mid-rung."""

import json
import math
from pathlib import Path

import pytest
import torch

from trainers import checkpoint
from trainers.config import DEFAULT_RECIPE, LEARNER, PAPER_RECIPE, RUNGS, TrainConfig
from trainers.interrupts import Interrupted, StopOnSignal
from trainers.loop import train

TINY = dict(env="EquitablePM-EV-v0", width=16, batch_size=2048, num_agents=20, progress=False, seed=3)
"""7 updates an epoch on EV: a path of 2 + 1 + 1 epochs in a few seconds."""


@pytest.mark.parametrize("env", list(LEARNER))
def test_every_q_climbs_the_documented_rungs_on_the_same_schedule(env):
    """q = 0, then min(rung, q + 1) - 1 per rung; every q the same epochs in the same number of rungs."""
    schedule = LEARNER[env]
    paths = {q: TrainConfig(env=env, q=q, recipe="path").path for q in (0.0, 1.0, 9.0, math.inf)}
    assert [r.q for r in paths[math.inf]] == [0.0, 1.0, 4.0, 19.0, math.inf]
    assert [r.q for r in paths[9.0]] == [0.0, 1.0, 4.0, 9.0, 9.0]
    assert [r.q for r in paths[0.0]] == [0.0] * (1 + len(RUNGS))
    for path in paths.values():
        assert [r.epochs for r in path] == [schedule["epochs"]] + [schedule["rung_epochs"]] * len(RUNGS)
        assert [r.first for r in path] == [sum(r.epochs for r in path[:k]) for k in range(len(path))]
    config = TrainConfig(env=env, q=math.inf, recipe="path")
    assert (config.beta, config.keep) == (schedule["beta"], schedule["keep"])
    assert TrainConfig(env=env, algo="mse", recipe="path").beta == 0.0  # the Plain PM trains on the MSE alone
    assert TrainConfig(env=env).recipe == DEFAULT_RECIPE[env]  # each env's default recipe, named in its record


def test_the_papers_recipe_is_one_run_at_q_as_before_the_path():
    config = TrainConfig(q=4.0, recipe="paper")
    assert [(r.q, r.epochs, r.first) for r in config.path] == [(4.0, PAPER_RECIPE["epochs"], 0)]
    assert (config.beta, config.keep, config.rung_epochs) == (0.0, "last", 0)
    assert TrainConfig(q=4.0, beta=0.5, recipe="paper").beta == 0.5  # a given value wins over the recipe's
    assert len(TrainConfig(q=4.0, epochs=0).path) == 1  # --epochs 0: the untrained model, no rung trained
    with pytest.raises(ValueError, match="rungs=\\(1.0,\\): give one or more q \\+ 1 above 1"):
        TrainConfig(rungs=(1.0,))


def test_a_path_run_is_the_chain_of_init_runs_it_replaces_bit_for_bit(tmp_path):
    """Each rung is the run `eqpm train --init PREVIOUS --epochs N --q Q` would be: same model, same regrets."""
    torch.set_num_threads(1)
    common = dict(TINY, beta=0.8, keep="best")
    path = train(TrainConfig(q=math.inf, epochs=2, rung_epochs=1, rungs=(2.0, math.inf), out=tmp_path / "path", **common))
    train(TrainConfig(q=0.0, epochs=2, recipe="paper", out=tmp_path / "a", **common))
    train(TrainConfig(q=1.0, epochs=1, recipe="paper", init=tmp_path / "a", out=tmp_path / "b", **common))
    chained = train(TrainConfig(q=math.inf, epochs=1, recipe="paper", init=tmp_path / "b", out=tmp_path / "c", **common))
    assert path["agent_regret"] == chained["agent_regret"]
    assert path["train_agent_regret"] == chained["train_agent_regret"]
    assert [rung["q"] for rung in path["path"]] == [0.0, 1.0, math.inf] and path["epochs"] == 4
    assert path["path"][-1]["train_objective"] == pytest.approx(chained["train_objective"], rel=1e-12)
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    log = EventAccumulator(str(tmp_path / "path")).Reload()  # one curve: the rungs as its steps, in order
    assert [event.step for event in log.Scalars("losses/objective")] == list(range(4 * 7))
    assert [event.value for event in log.Scalars("path/rung")] == [0, 0, 1, 2]


@pytest.mark.parametrize("validation, per_epoch", [(0.0, 7), (0.3, 4)])  # updates an epoch: the held-out 30 % are fitted by none
def test_a_path_run_stopped_mid_rung_resumes_bit_for_bit(tmp_path, monkeypatch, validation, per_epoch):
    """Stopped at the second update of the second rung's first epoch."""
    torch.set_num_threads(1)
    config = TrainConfig(q=math.inf, epochs=1, rung_epochs=2, rungs=(5.0, math.inf), validation=validation,
                         out=tmp_path / "resumed", **TINY)
    straight = train(TrainConfig(**{**config.as_dict(), "out": tmp_path / "straight"}))
    calls, stop = {"n": 0}, per_epoch + 2

    def stop_at(self, distributed, device):
        calls["n"] += 1
        return calls["n"] == stop

    monkeypatch.setattr(StopOnSignal, "requested", stop_at)
    with pytest.raises(Interrupted, match=f"stopped after update {stop}"):
        train(config)
    state = checkpoint.read(tmp_path / "resumed" / checkpoint.CHECKPOINT)
    assert (state["rung"], state["epoch"], state["step"]) == (1, 1, 2) and len(state["climbed"]) == 1
    monkeypatch.undo()
    resumed = train(TrainConfig(**{**config.as_dict(), "resume": True}))
    assert resumed["agent_regret"] == straight["agent_regret"] and resumed["path"] == straight["path"]
    a, b = (checkpoint.read(tmp_path / name / checkpoint.CHECKPOINT) for name in ("straight", "resumed"))
    assert all(torch.equal(a["model"][k], b["model"][k]) for k in a["model"])


def test_the_papers_recipe_gives_todays_single_q_record_field_for_field(tmp_path):
    """`--recipe paper` is the run eqpm train made before the path: no field of the path in its metrics.json, and a
    single-rung run whatever the rungs say."""
    torch.set_num_threads(1)
    one = train(TrainConfig(q=4.0, epochs=1, recipe="paper", out=tmp_path / "one", **TINY))
    other = train(TrainConfig(q=4.0, epochs=1, recipe="paper", rungs=(3.0,), out=tmp_path / "other", **TINY))
    assert "path" not in one and "recipe" not in one and (one["beta"], one["keep"], one["epochs"]) == (0.0, "last", 1)
    assert {k: v for k, v in one.items() if k != "wall_s"} == {k: v for k, v in other.items() if k != "wall_s"}
    assert json.loads(Path(tmp_path / "one" / "metrics.json").read_text())["agent_regret"] == one["agent_regret"]


def test_an_older_checkpoint_reads_as_the_papers_recipe(tmp_path):
    torch.set_num_threads(1)
    config = TrainConfig(q=1.0, epochs=1, recipe="paper", out=tmp_path / "run", **TINY)
    train(config)
    state = checkpoint.read(tmp_path / "run" / checkpoint.CHECKPOINT)
    for name in ("recipe", "rung_epochs", "rungs", "validation"):  # as an eq_gym older than 2026-12-07 wrote it
        del state["config"][name]
    torch.save(state, tmp_path / "run" / checkpoint.CHECKPOINT)
    made = checkpoint.made_with(tmp_path / "run")
    assert (made["recipe"], made["rung_epochs"], made["validation"]) == ("paper", 0, 0.0)
    assert train(TrainConfig(**{**config.as_dict(), "resume": True}))["epochs"] == 1  # resumable: a finished run
