"""The policy on known-ahead inputs: it forecasts the unknown part of the signal and adds the known parts."""

import numpy as np
import torch

from eq_gym.tasks import make_task
from trainers.config import TrainConfig
from trainers.policy import build_policy


def policy_for(task):
    torch.manual_seed(0)
    return build_policy(TrainConfig(env="EquitablePM-EV-v0", d_model=16, heads=2), task)


def test_a_known_ahead_part_moves_the_forecast_by_exactly_its_change():
    task = make_task("ev", split="test")
    policy = policy_for(task)
    x = torch.tensor(task.windows.inputs[:8])
    price = task.feature_names.index("price")
    raised = x.clone()
    raised[:, 24 + 5, price] += 2.0  # the day-ahead price of the sixth forecast hour, 2 units up
    before, after = policy.predict(x), policy.predict(raised)
    torch.testing.assert_close(after[:, 5] - before[:, 5], torch.full((8,), 2.0), rtol=0, atol=1e-5)
    others = [h for h in range(12) if h != 5]
    torch.testing.assert_close(after[:, others], before[:, others])


def test_the_model_sees_the_unknown_part_of_the_past_not_the_prices():
    """Past rows reach the backbone as E_t less water and price (the carbon): a price moved with E_t changes nothing."""
    task = make_task("ev", split="test")
    policy = policy_for(task)
    x = torch.tensor(task.windows.inputs[:8])
    signal, price = 0, task.feature_names.index("price")
    moved = x.clone()
    moved[:, :24, price] += 3.0
    moved[:, :24, signal] += 3.0  # the same price change inside E_t: the carbon is unchanged
    torch.testing.assert_close(policy.predict(moved), policy.predict(x), rtol=0, atol=1e-5)


def test_without_known_ahead_inputs_the_policy_is_the_plain_one():
    task = make_task("ev", split="test", features="calendar")
    policy = policy_for(task)
    assert not policy.adds_known and policy.known.abs().sum() == 0
    loc, scale = task.input_standardisation()
    assert policy.output.tolist() == [np.float32(loc[0]), np.float32(scale[0])]
    assert "known" not in policy.state_dict() and "output" not in policy.state_dict()  # not in checkpoints
