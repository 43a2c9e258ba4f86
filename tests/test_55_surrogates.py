"""The decision-focused surrogates: SPO+ and the perturbed Fenchel-Young loss against their definitions."""

import itertools

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from eq_gym.agents.charging import slot_regret_table
from trainers.estimators.pfy import fenchel_young_table
from trainers.estimators.spo import spo_plus_table

windows = arrays(np.float64, (3, 6), elements=st.floats(-5.0, 20.0, allow_nan=False))
distinct = arrays(np.int64, (3, 6), elements=st.integers(-50, 200), unique=True)  # one best choice under the truth


def choices(horizon, k):
    for subset in itertools.combinations(range(horizon), k):
        x = np.zeros(horizon)
        x[list(subset)] = 1.0
        yield x


def spo_plus_brute_force(f, y, k):
    """max over k-subsets of (y - 2f) x, plus 2 f x*(y) - y x*(y): the definition, by enumeration."""
    best = min(choices(len(y), k), key=lambda x: y @ x)
    return max((y - 2 * f) @ x for x in choices(len(y), k)) + 2 * f @ best - y @ best


@settings(max_examples=100, deadline=None)
@given(windows, distinct)
def test_spo_plus_equals_brute_force_over_every_choice_and_bounds_the_regret(forecast, truth):
    truth = truth / 10.0
    table = spo_plus_table(torch.from_numpy(forecast), torch.from_numpy(truth)).numpy()
    regret = slot_regret_table(torch.from_numpy(forecast), torch.from_numpy(truth)).numpy()
    assert (table[0] == 0).all()
    for i, k in itertools.product(range(3), range(1, 7)):
        assert table[k, i] == pytest.approx(spo_plus_brute_force(forecast[i], truth[i], k), abs=1e-9)
        assert table[k, i] >= regret[k, i] - 1e-9


def test_spo_plus_is_zero_at_the_truth_and_its_gradient_is_the_subgradient():
    truth = torch.tensor([[3.0, 1.0, 4.0, 1.5, 5.0, 9.0]], dtype=torch.float64)
    assert torch.allclose(spo_plus_table(truth, truth), torch.zeros(7, 1, dtype=torch.float64))
    forecast = torch.tensor([[2.0, 6.0, 1.0, 3.5, 0.5, 7.0]], dtype=torch.float64, requires_grad=True)
    k = 3
    spo_plus_table(forecast, truth)[k, 0].backward()
    x_truth = torch.zeros(6, dtype=torch.float64)
    x_truth[truth[0].argsort()[:k]] = 1
    x_relaxed = torch.zeros(6, dtype=torch.float64)
    x_relaxed[(2 * forecast.detach() - truth)[0].argsort()[:k]] = 1
    torch.testing.assert_close(forecast.grad[0], 2 * (x_truth - x_relaxed))


def finite_difference(table_fn, forecast, k, eps=1e-6):
    grad = torch.zeros_like(forecast)
    for index in np.ndindex(*forecast.shape):
        up, down = forecast.clone(), forecast.clone()
        up[index] += eps
        down[index] -= eps
        grad[index] = (table_fn(up)[k].sum() - table_fn(down)[k].sum()) / (2 * eps)
    return grad


@pytest.mark.parametrize("name", ["spo", "pfy"])
def test_gradients_equal_finite_differences_of_the_surrogate(name):
    generator = torch.Generator().manual_seed(0)
    forecast = torch.rand((4, 12), generator=generator, dtype=torch.float64) * 10
    truth = torch.rand((4, 12), generator=generator, dtype=torch.float64) * 10
    noise = torch.randn((16, 4, 12), generator=generator, dtype=torch.float64)
    table_fn = (lambda f: spo_plus_table(f, truth)) if name == "spo" else (lambda f: fenchel_young_table(f, truth, noise, 0.7))
    for k in (1, 4, 11):
        leaf = forecast.clone().requires_grad_()
        table_fn(leaf)[k].sum().backward()
        torch.testing.assert_close(leaf.grad, finite_difference(table_fn, forecast, k), rtol=1e-5, atol=1e-6)


def test_fenchel_young_gradient_is_the_truths_choice_minus_the_perturbed_choice():
    generator = torch.Generator().manual_seed(1)
    forecast = torch.rand((1, 8), generator=generator, dtype=torch.float64, requires_grad=True)
    truth = torch.rand((1, 8), generator=generator, dtype=torch.float64)
    noise = torch.randn((5000, 1, 8), generator=generator, dtype=torch.float64)
    k = 3
    table = fenchel_young_table(forecast, truth, noise, 0.5)
    table[k, 0].backward()
    x_truth = torch.zeros(8, dtype=torch.float64)
    x_truth[truth[0].argsort()[:k]] = 1
    ranks = (forecast.detach() + 0.5 * noise).argsort(dim=2).argsort(dim=2)[:, 0]  # (S, 8)
    x_perturbed = (ranks < k).double().mean(dim=0)
    torch.testing.assert_close(forecast.grad[0], x_truth - x_perturbed)
    assert float(table[k, 0].detach()) >= -1e-9  # f . x*(y) >= E[min (f + sigma Z) . x] up to Monte-Carlo noise
