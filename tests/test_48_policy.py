"""The policy on known-ahead inputs: it forecasts the unknown part of the signal and adds the known parts."""

import numpy as np
import torch

from eq_gym.tasks import make_task
from trainers.config import TrainConfig
from trainers.policy import build_policy


def policy_for(task):
    torch.manual_seed(0)
    return build_policy(TrainConfig(env="EquitablePM-EV-v0", width=16), task)


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


def test_a_learned_known_part_weight_starts_at_the_index_and_moves_under_a_gradient_that_asks_for_it():
    task = make_task("ev", split="test")
    torch.manual_seed(0)
    policy = build_policy(TrainConfig(env="EquitablePM-EV-v0", width=16, known_ahead="learned"), task)
    names = [n for n, w in zip(task.feature_names, task.known_ahead_weights()) if w]
    assert names == ["water", "price"]
    torch.testing.assert_close(policy.known_weight.detach(), torch.ones(2))  # the index's weights
    x = torch.tensor(task.windows.inputs[:32])
    price = x[:, -12:, task.feature_names.index("price")]
    loss = -(policy.predict(x) * price).sum()  # asks for more of the day-ahead price in the forecast
    loss.backward()
    torch.optim.SGD([policy.known_weight], lr=1e-4).step()
    assert policy.known_weight[1] > 1.0 + 1e-3
    assert not hasattr(policy_for(task), "known_weight")  # the default adds the parts at the index's weights


def test_a_learned_policy_sees_each_known_part_by_its_shape_within_the_window_not_its_level():
    """2021's prices leave the training range: the network's view of them is the same for a shifted and scaled copy."""
    task = make_task("ev", split="test")
    torch.manual_seed(0)
    policy = build_policy(TrainConfig(env="EquitablePM-EV-v0", width=16, known_ahead="learned"), task)
    x = torch.tensor(task.windows.inputs[:8])
    price = task.feature_names.index("price")
    scaled = x.clone()
    scaled[:, :, price] = 3.0 * x[:, :, price] + 20.0
    scaled[:, :24, 0] += scaled[:, :24, price] - x[:, :24, price]  # E_t carries its price: the carbon is unchanged
    added = (scaled[:, -12:, price] - x[:, -12:, price]) * policy.known_weight[1]
    torch.testing.assert_close(policy.predict(scaled) - added, policy.predict(x), rtol=0, atol=1e-4)
