"""Checkpoints hold tensors and plain values only: read with weights_only, RNG states exact, anything else refused."""

import random
from collections import OrderedDict

import numpy as np
import pytest
import torch

from trainers import checkpoint
from trainers.config import TrainConfig
from trainers.loop import train


class Payload:
    """Stands for any object a pickle could carry (and run code on load)."""


def test_a_checkpoint_carrying_a_pickled_object_is_refused_with_the_risk_named(tmp_path):
    torch.save({"config": {}, "payload": Payload()}, tmp_path / checkpoint.CHECKPOINT)
    with pytest.raises(ValueError, match="would run any code its pickle holds"):
        checkpoint.made_with(tmp_path)
    with pytest.raises(ValueError, match="refused"):
        checkpoint.load(tmp_path, {})


def test_rng_states_survive_a_weights_only_round_trip_with_their_gaussian_caches(tmp_path):
    random.seed(1), np.random.seed(2), torch.manual_seed(3)
    random.gauss(0, 1), np.random.standard_normal()  # leave a cached Gaussian in each
    checkpoint.save(tmp_path, {"rng": checkpoint.rng_states()})
    expected = [random.gauss(0, 1), random.random(), np.random.standard_normal(), np.random.rand(), torch.rand(1).item()]
    checkpoint.restore_rng_states(checkpoint.read(tmp_path / checkpoint.CHECKPOINT)["rng"])
    assert [random.gauss(0, 1), random.random(), np.random.standard_normal(), np.random.rand(), torch.rand(1).item()] == expected
    assert [p.name for p in tmp_path.iterdir()] == [checkpoint.CHECKPOINT]  # no temporary file left


def test_a_training_runs_checkpoint_loads_with_weights_only(tmp_path):
    config = TrainConfig(env="EquitablePM-DC-v0", algo="diff", epochs=1, steps=3, backbone="lstm", hidden=8, out=tmp_path / "run", progress=False)
    train(config)
    state = torch.load(tmp_path / "run" / checkpoint.CHECKPOINT, weights_only=True)
    assert set(state) >= {"model", "optimizer", "scheduler", "estimator", "rng", "config", "epoch"}
    assert isinstance(state["model"], (dict, OrderedDict)) and state["config"]["algo"] == "diff"


def test_a_run_names_its_backbone_and_an_older_checkpoint_without_one_reads_as_the_papers(tmp_path):
    config = TrainConfig(env="EquitablePM-EV-v0", algo="mse", steps=1, width=8, out=tmp_path / "run", progress=False)
    assert config.backbone == "mlp" and TrainConfig(backbone="lstm").backbone == "lstm"
    assert train(config)["backbone"] == "mlp"
    state = checkpoint.read(tmp_path / "run" / checkpoint.CHECKPOINT)
    assert state["config"]["backbone"] == "mlp"
    state["config"]["backbone"] = None  # as an eq_gym older than 2026-12-04 wrote it
    torch.save(state, tmp_path / "run" / checkpoint.CHECKPOINT)
    assert checkpoint.made_with(tmp_path / "run")["backbone"] == "transformer"
    with pytest.raises(ValueError, match="backbone: 'transformer' -> 'mlp'"):
        train(TrainConfig(**{**config.as_dict(), "out": tmp_path / "more", "init": tmp_path / "run"}))
