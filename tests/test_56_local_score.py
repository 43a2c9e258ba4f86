"""rloo's local score for slot-choosing agents: each hour's expectation against quadrature, the credit
against the regret, and the estimate against plain REINFORCE on real EV and Mixed batches."""

import re

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from eq_gym.agents.charging import SlotChargers, slot_regret_table
from eq_gym.objective import Objective, weighted
from eq_gym.tasks import make_task
from tests.support.training import flat_grad, make_batch, small_policy
from trainers.estimators import ESTIMATORS, SCORE_TERMS
from trainers.estimators.local_score import local_score, per_k_credit

HORIZON = 5
window = arrays(np.float64, (2, HORIZON), elements=st.floats(-3.0, 3.0, allow_nan=False))


def credit_of(forecast, truth, credit):
    """sum_k n_k regret_k of forecasts (..., B, H): the window's credit, by the regret's own code."""
    flat = forecast.reshape(-1, forecast.shape[-1])
    table = slot_regret_table(flat, truth.repeat(flat.shape[0] // truth.shape[0], 1))  # (H + 1, N)
    return (table.T.reshape(*forecast.shape[:-1], -1) * credit).sum(dim=-1)


@settings(max_examples=25, deadline=None)
@given(window, window, window, arrays(np.float64, (2, HORIZON + 1), elements=st.floats(0.0, 2.0)),
       arrays(np.float64, (HORIZON,), elements=st.floats(0.3, 2.0)))
def test_each_hours_expectation_equals_quadrature_of_the_regret(mean, truth, noise, credit, std):
    """d/dmu_h and d/dsigma_h of E over f_h alone, other hours held at the sample, by a fine Riemann sum."""
    mean, truth, credit, std = (torch.from_numpy(a) for a in (mean, truth, credit, std))
    sample = (mean + std * torch.from_numpy(noise)).unsqueeze(0)  # (1, B, H)
    grad_mean, grad_std = local_score(mean, std, sample, truth, credit)
    step = 18.0 / 36000
    z = -9.0 + step * (torch.arange(36000, dtype=torch.float64) + 0.5)  # midpoints: no point on a tie at z = 0
    density = torch.exp(-0.5 * z * z) / np.sqrt(2 * np.pi) * step
    for h in range(HORIZON):
        moved = sample.repeat(len(z), 1, 1)
        moved[:, :, h] = mean[:, h] + std[h] * z[:, None]
        values = credit_of(moved, truth, credit)  # (Z, B)
        expected_mean = (values * (z / std[h] * density)[:, None]).sum(dim=0)
        expected_std = (values * ((z * z - 1) / std[h] * density)[:, None]).sum(dim=0)
        torch.testing.assert_close(grad_mean[0, :, h], expected_mean, rtol=0, atol=2e-3)
        torch.testing.assert_close(grad_std[0, :, h], expected_std, rtol=0, atol=2e-3)


@settings(max_examples=25, deadline=None)
@given(arrays(np.float64, (3, 2, HORIZON), elements=st.floats(-3.0, 3.0, allow_nan=False)),
       arrays(np.float64, (3, 2, HORIZON + 1), elements=st.floats(0.0, 2.0)),
       arrays(np.float64, (4, 2, HORIZON), elements=st.floats(-3.0, 3.0, allow_nan=False)))
def test_signals_stacked_score_the_sum_of_their_credits(truths, credits, noise):
    """G signals in one call give each signal's score summed: R is the sum of their credits."""
    truths, credits, noise = (torch.from_numpy(a) for a in (truths, credits, noise))
    mean, std = truths.mean(dim=0), torch.linspace(0.5, 1.5, HORIZON, dtype=torch.float64)
    samples = mean + std * noise
    stacked = local_score(mean, std, samples, truths, credits)
    for got, parts in zip(stacked, zip(*(local_score(mean, std, samples, t, c) for t, c in zip(truths, credits)))):
        torch.testing.assert_close(got, sum(parts))


@pytest.mark.parametrize("name, kwargs", [("ev", {}), ("ev", {"regret": "absolute"}), ("mixed", {}),
                                          ("ev", {"priorities": "shared"}), ("mixed", {"priorities": "shared"})])
def test_per_k_credit_is_the_chargers_weighted_regret(name, kwargs):
    task = make_task(name, agents="different", **kwargs)
    batch = make_batch(task, 16, held_out=False)
    weights = torch.rand(task.num_agents, generator=torch.Generator().manual_seed(3))
    forecast = batch.targets + torch.randn(batch.targets.shape, generator=torch.Generator().manual_seed(4))
    credits = per_k_credit(task.population, weights, batch.contexts, batch.weight, batch.targets)
    assert len(credits) == (1 if kwargs.get("priorities") == "shared" else 3)  # one per distinct signal paid under
    chargers = torch.cat([torch.full((g.num_agents,), isinstance(g, SlotChargers)) for g in task.population.groups])
    assert 0 < chargers.sum() and (name == "mixed") == (not chargers.all())
    regret = weighted(task.population.regret(forecast, batch.targets, batch.contexts), batch.weight)
    expected = (weights[chargers, None] * regret[chargers]).sum(dim=0)
    got = sum(credit_of(forecast, paid, credit.double()) for paid, credit in credits)
    torch.testing.assert_close(got.float(), expected, rtol=1e-4, atol=1e-4)


@pytest.mark.parametrize("name", ["ev", "mixed"])
def test_local_score_estimates_the_same_gradient_as_sampled_reinforce_with_less_noise(name):
    """Both rloo scores average to one gradient (cosine near 1); the local one varies far less per draw."""
    task = make_task(name, agents="different")
    policy = small_policy(task, init_std=1.0)
    policy.log_std.requires_grad_(False)
    batch = make_batch(task, 16, held_out=False)
    generator = torch.Generator().manual_seed(5)
    batch.noise = lambda samples: torch.randn((samples, 16, task.horizon), generator=generator)
    draws = {}
    for score in ("local", "sampled"):
        estimator = ESTIMATORS["rloo"](task.population, Objective(0.0), score=score)
        grads = []
        for _ in range(100):
            estimator.scale.value = 1.0  # a fixed scale: raw estimates
            mean, log_std = policy(batch.inputs)
            grads.append(flat_grad(policy, estimator.step(mean, log_std, batch).loss))
        draws[score] = torch.stack(grads)
    local, sampled = draws["local"], draws["sampled"]
    cosine = torch.nn.functional.cosine_similarity(local.mean(dim=0), sampled.mean(dim=0), dim=0)
    assert cosine > 0.9, cosine
    assert local.var(dim=0).sum() < 0.1 * sampled.var(dim=0).sum()  # measured: 0.01 (EV), 0.02 (Mixed)


def test_rloo_refuses_an_unknown_score():
    with pytest.raises(ValueError, match=re.escape(f"score='exact' is not allowed for rloo; use one of {SCORE_TERMS}")):
        ESTIMATORS["rloo"](make_task("ev").population, Objective(0.0), score="exact")
