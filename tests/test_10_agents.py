"""Agents: regret equals independent computations; invariants hold for any input."""

import itertools

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from eq_gym.agents.base import ContextPool, ContextTape
from eq_gym.agents.charging import charging_regret
from eq_gym.agents.datacentre import SIGNAL_FLOOR, datacentre_regret
from eq_gym.agents.population import wasserstein_range
from eq_gym.tasks import contexts_generator, make_task

signal_values = st.floats(0.0, 30.0, allow_nan=False, width=32)


def datacentre_cost(p, c, w, lam):
    """Eq. 12 as written: carbon of the capacity plus the weighted delay."""
    return p * c + lam * w / (p - w)


def test_datacentre_regret_equals_eq12_closed_form(dc_train):
    rng = np.random.default_rng(0)
    task = dc_train
    forecast = rng.uniform(0.05, 10.0, (64, 1))
    truth = task.windows.targets[:64].astype(np.float64)
    contexts = task.population.sampler(64, contexts_generator(1)).draw(torch.tensor(task.windows.start[:64])).contexts[0]
    w = contexts["demand"].double().numpy()
    lam = task.population.groups[0].lam.double().numpy()[:, None]
    c_hat, c = forecast[:, 0][None, :], np.maximum(truth[:, 0], SIGNAL_FLOOR)[None, :]
    acted = datacentre_cost(w + np.sqrt(lam * w / c_hat), c, w, lam)
    best = datacentre_cost(w + np.sqrt(lam * w / c), c, w, lam)
    got = datacentre_regret(torch.from_numpy(forecast), torch.from_numpy(truth), contexts["demand"].double(), torch.from_numpy(lam[:, 0]))
    positive = w > 0  # at w = 0 Eq. 12 is 0/0; the regret is 0
    np.testing.assert_allclose(got.numpy()[positive], (acted - best)[positive], rtol=1e-8, atol=1e-10)


def test_datacentre_best_response_is_the_minimum():
    c, w, lam = 3.0, 4.0, 2.0
    grid = w + np.linspace(0.01, 20.0, 200_001)
    best_p = w + np.sqrt(lam * w / c)
    assert datacentre_cost(best_p, c, w, lam) <= datacentre_cost(grid, c, w, lam).min() + 1e-9


@settings(max_examples=200, deadline=None)
@given(
    st.floats(0.0, 20.0), st.floats(0.0, 20.0), st.floats(0.0, 10.0), st.floats(0.5, 100.0)
)
def test_datacentre_regret_is_nonnegative_and_grows_away_from_the_truth(c_hat, c, w, lam):
    def regret(forecast):
        return float(datacentre_regret(torch.tensor([[forecast]], dtype=torch.float64), torch.tensor([[c]], dtype=torch.float64),
                                       torch.tensor([[w]], dtype=torch.float64), torch.tensor([lam], dtype=torch.float64)))

    assert regret(c_hat) >= 0.0
    assert regret(c) == pytest.approx(0.0, abs=1e-12)
    truth = max(c, SIGNAL_FLOOR)
    nearer = truth + 0.5 * (max(c_hat, SIGNAL_FLOOR) - truth)
    assert regret(nearer) <= regret(c_hat) + 1e-12


def brute_force_regret(forecast, truth, rate, k):
    """Try every subset of k slots: the forecast's choice is the cheapest under the forecast."""
    subsets = list(itertools.combinations(range(len(truth)), k))
    chosen = min(subsets, key=lambda s: sum(forecast[list(s)]))
    best = min(sum(truth[list(s)]) for s in subsets)
    return rate * (sum(truth[list(chosen)]) - best)


@settings(max_examples=150, deadline=None)
@given(
    arrays(np.int64, (5, 6), elements=st.integers(-50, 300), unique=True),  # distinct: one choice
    arrays(np.float64, (5, 6), elements=signal_values),
    arrays(np.int64, (3, 5), elements=st.integers(0, 6)),
    arrays(np.float64, (3, 5), elements=st.floats(0.1, 20.0)),
)
def test_charging_regret_equals_brute_force_over_slot_subsets(forecast, truth, slots, rate):
    forecast = forecast / 10.0
    got = charging_regret(torch.from_numpy(forecast), torch.from_numpy(truth), torch.from_numpy(rate), torch.from_numpy(slots))
    for m, i in np.ndindex(*slots.shape):
        expected = brute_force_regret(forecast[i], truth[i], rate[m, i], slots[m, i])
        assert float(got[m, i]) == pytest.approx(expected, rel=1e-9, abs=1e-9)


@settings(max_examples=100, deadline=None)
@given(
    arrays(np.int64, (8, 12), elements=st.integers(0, 60)),  # a grid: ties happen, and stay ties
    arrays(np.float32, (8, 12), elements=signal_values),
    arrays(np.int64, (4, 8), elements=st.integers(0, 12)),
)
def test_charging_regret_is_nonnegative_zero_at_truth_and_order_invariant(forecast, truth, slots):
    rate = torch.ones(slots.shape)
    f, t, k = torch.from_numpy(forecast / 4).float(), torch.from_numpy(truth), torch.from_numpy(slots)
    regret = charging_regret(f, t, rate, k)
    assert (regret >= 0).all()
    assert (charging_regret(t, t, rate, k) == 0).all()
    monotone = torch.exp(0.3 * f) - 7.0  # an order-preserving map changes no choice
    np.testing.assert_allclose(charging_regret(monotone, t, rate, k).numpy(), regret.numpy(), atol=1e-5)


def draws(pool, batch, seed, times=1):
    tape = ContextTape(pool, ("x",), batch, contexts_generator(seed))
    return [tape.draw()["x"] for _ in range(times)]


def test_context_draws_come_from_each_agents_own_pool_and_repeat_with_the_seed():
    pool = ContextPool.from_agents([{"x": np.array([1.0, 2.0])}, {"x": np.array([10.0, 11.0, 12.0])}])
    drawn = draws(pool, 300, seed=3, times=4)
    assert all(set(d[0].tolist()) == {1.0, 2.0} and set(d[1].tolist()) == {10.0, 11.0, 12.0} for d in drawn)
    assert all(torch.equal(a, b) for a, b in zip(drawn, draws(pool, 300, seed=3, times=4)))
    assert not all(torch.equal(a, b) for a, b in zip(drawn, draws(pool, 300, seed=4, times=4)))


@pytest.mark.parametrize("task_name", ["ev", "mixed", "dc"])
def test_a_populations_regret_written_into_a_kept_buffer_equals_a_fresh_one(task_name):
    task, size = make_task(task_name), 64
    draw = task.population.sampler(size, contexts_generator(0)).draw(torch.tensor(task.windows.start[:size]))
    truth = torch.tensor(task.windows.targets[:size])
    forecast = truth + torch.randn(truth.shape, generator=torch.Generator().manual_seed(0))
    fresh = task.population.regret(forecast, truth, draw.contexts)
    kept = torch.full((size, task.num_agents), float("nan"), dtype=truth.dtype)  # window-major, as the env keeps it
    written = task.population.regret(forecast, truth, draw.contexts, out=kept)
    assert written.shape == (task.num_agents, size) and written.data_ptr() == kept.data_ptr()
    assert torch.equal(written, fresh) and (fresh > 0).any()


def test_a_batch_uses_each_context_of_an_agent_equally_often():
    pool = ContextPool.from_agents([{"x": np.arange(5.0)}, {"x": np.arange(3.0) + 10}])
    for drawn in draws(pool, 30, seed=0, times=5):  # 30 = 6 cycles of 5, 10 cycles of 3
        assert torch.bincount(drawn[0].long()).tolist() == [6] * 5
        assert torch.bincount(drawn[1].long() - 10).tolist() == [10] * 3


def test_each_episode_orders_an_agents_contexts_afresh():
    pool = ContextPool.from_agents([{"x": np.arange(50.0)}])
    first, second = draws(pool, 50, seed=0)[0], draws(pool, 50, seed=1)[0]
    assert sorted(first[0].tolist()) == sorted(second[0].tolist()) and not torch.equal(first, second)


def test_pool_split_is_chronological_per_agent_and_refuses_single_contexts():
    pool = ContextPool.from_agents([{"x": np.arange(10.0)}, {"x": np.arange(4.0)}])
    train, test = pool.split(0.7, "train"), pool.split(0.7, "test")
    assert train.agent_values("x")[0].tolist() == list(range(7)) and test.agent_values("x")[0].tolist() == [7, 8, 9]
    assert train.agent_values("x")[1].tolist() == [0, 1, 2] and test.agent_values("x")[1].tolist() == [3]
    with pytest.raises(ValueError, match="fewer than 2 contexts"):
        ContextPool.from_agents([{"x": np.arange(1.0)}]).split(0.7, "train")


def test_wasserstein_range_of_shifted_copies_is_the_shift():
    base = np.random.default_rng(0).normal(size=400)
    low, high = wasserstein_range([base, base + 0.5, base + 3.0])
    assert low == pytest.approx(0.5, abs=1e-6) and high == pytest.approx(3.0, abs=1e-6)


def test_different_agents_are_further_apart_than_similar_ones():
    from eq_gym.tasks import make_task

    for name in ("dc", "ev"):
        similar = make_task(name, agents="similar").population.wasserstein_range()
        different = make_task(name, agents="different").population.wasserstein_range()
        (s_low, s_high), = similar.values()
        (d_low, d_high), = different.values()
        assert d_high > 3 * s_high


def test_tied_forecasts_choose_the_earlier_slots():
    forecast = torch.zeros(1, 4)
    truth = torch.tensor([[4.0, 3.0, 2.0, 1.0]])
    regret = charging_regret(forecast, truth, torch.ones(1, 1), torch.tensor([[2]]))
    assert float(regret) == (4.0 + 3.0) - (1.0 + 2.0)
