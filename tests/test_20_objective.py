"""The Equitable Objective and the metrics."""

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from eq_gym.choices import REWARD_FORMS
from eq_gym.metrics import equity_metrics, mean_squared_error, normalised_entropy
from eq_gym.objective import agent_weights, equitable_objective

regrets = arrays(np.float64, st.integers(2, 40), elements=st.one_of(st.just(0.0), st.floats(1e-3, 50.0)))  # no underflow in the naive reference


@settings(max_examples=100, deadline=None)
@given(regrets, st.floats(0.0, 5.0))
def test_objective_matches_its_definition(cbar, q):
    paper = float(equitable_objective(torch.from_numpy(cbar), q, "paper"))
    power_mean = float(equitable_objective(torch.from_numpy(cbar), q, "power_mean"))
    assert paper == pytest.approx(np.sum(cbar ** (q + 1)), rel=1e-9, abs=1e-300)
    assert power_mean == pytest.approx(np.mean(cbar ** (q + 1)) ** (1 / (q + 1)), rel=1e-9, abs=1e-300)


def test_q_zero_gives_total_and_mean_regret():
    cbar = torch.tensor([0.5, 1.5, 4.0])
    assert float(equitable_objective(cbar, 0.0, "paper")) == pytest.approx(6.0)
    assert float(equitable_objective(cbar, 0.0, "power_mean")) == pytest.approx(2.0)


def test_the_paper_form_refuses_to_overflow():
    with pytest.raises(ValueError, match="overflows float64"):
        equitable_objective(torch.tensor([1e9, 1.0]), 39.0, "paper")


def test_both_forms_stay_finite_at_q_99_where_naive_powers_overflow():
    cbar = torch.tensor([300.0, 500.0, 1e-3], dtype=torch.float32)
    assert not torch.isfinite(cbar.pow(100.0)).all()  # the naive float32 power overflows
    assert float(equitable_objective(cbar, 99.0, "power_mean")) == pytest.approx(500 * (1 / 3 + (0.6**100) / 3) ** 0.01)
    paper = float(equitable_objective(cbar, 99.0, "paper"))
    assert np.isfinite(paper) and paper == pytest.approx(500.0**100, rel=1e-6)


@pytest.mark.parametrize("form", REWARD_FORMS)
@pytest.mark.parametrize("q", [0.0, 0.5, 2.0, 19.0])
def test_agent_weights_are_the_gradient_of_the_objective(form, q):
    cbar = torch.tensor([0.3, 1.2, 2.5, 0.9], dtype=torch.float64, requires_grad=True)
    equitable_objective(cbar, q, form).backward()
    np.testing.assert_allclose(agent_weights(cbar.detach(), q, form).numpy(), cbar.grad.numpy(), rtol=1e-9)


def test_the_power_mean_at_q_inf_is_the_largest_regret_with_its_gradient_on_the_argmax():
    cbar = torch.tensor([0.3, 2.5, 1.2, 2.5, 0.9], dtype=torch.float64, requires_grad=True)
    value = equitable_objective(cbar, float("inf"), "power_mean")
    value.backward()
    assert float(value.detach()) == 2.5
    np.testing.assert_array_equal(cbar.grad.numpy(), [0.0, 0.5, 0.0, 0.5, 0.0])  # a tie splits the gradient
    np.testing.assert_array_equal(agent_weights(cbar.detach(), float("inf"), "power_mean").numpy(), cbar.grad.numpy())


@given(arrays(np.float64, st.integers(2, 40), elements=st.floats(1e-6, 1e6)), st.floats(0.0, 1e8))
def test_the_power_mean_is_finite_between_the_mean_and_the_max_and_rises_with_q(cbar, q):
    values = torch.from_numpy(cbar)
    low, high = equitable_objective(values, q, "power_mean"), equitable_objective(values, 2.0 * q + 1.0, "power_mean")
    assert torch.isfinite(low) and torch.isfinite(agent_weights(values, q, "power_mean")).all()
    assert cbar.mean() * (1 - 1e-9) <= float(low) <= float(high) * (1 + 1e-9) <= cbar.max() * (1 + 1e-9)


def test_unknown_form_is_refused_by_name():
    with pytest.raises(ValueError, match="form='max'"):
        equitable_objective(torch.ones(3), 1.0, "max")


def test_equity_metrics_against_numpy():
    cbar = np.random.default_rng(0).gamma(2.0, size=50)
    got = equity_metrics(cbar)
    assert got["variance"] == pytest.approx(np.var(cbar))
    assert got["mean"] == pytest.approx(np.mean(cbar))
    assert got["c95_c5"] == pytest.approx(np.percentile(cbar, 95) - np.percentile(cbar, 5))
    shares = cbar / cbar.sum()
    assert got["entropy"] == pytest.approx(-(shares * np.log(shares)).sum() / np.log(50))


def test_worst10_is_the_mean_of_the_worst_served_tenth():
    cbar = np.arange(1.0, 21.0)  # 20 agents: the worst tenth is 19 and 20
    assert equity_metrics(cbar)["worst10"] == pytest.approx(19.5)
    assert equity_metrics(np.array([3.0, 1.0, 2.0]))["worst10"] == pytest.approx(3.0)  # at least one agent


def test_entropy_is_one_when_uniform_and_falls_with_concentration():
    assert normalised_entropy(np.full(7, 2.0)) == pytest.approx(1.0)
    assert normalised_entropy(np.array([1.0, 1.0, 1.0, 5.0])) < normalised_entropy(np.array([1.0, 1.0, 1.0, 2.0])) < 1.0
    assert normalised_entropy(np.array([0.0, 0.0, 3.0])) == pytest.approx(0.0)


def test_mse():
    assert mean_squared_error(np.array([[1.0, 2.0]]), np.array([[0.0, 4.0]])) == pytest.approx(2.5)
