"""Agents that want different things of one forecast: own priorities, own regions, asymmetric costs."""

import itertools

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from eq_gym import observations, signals
from eq_gym.agents.charging import SlotChargers, hours_ahead
from eq_gym.agents.datacentre import datacentre_regret
from eq_gym.agents.newsvendor import Newsvendors, newsvendor_regret, newsvendors
from eq_gym.agents.priorities import datacentre_regions
from eq_gym.tasks import contexts_generator, custom_task, make_task

HORIZON = 6
window = arrays(np.float64, (1, HORIZON), elements=st.floats(-5.0, 30.0, allow_nan=False, width=32))
ONE_POOL = make_task("ev", num_agents=6).population.groups[0].pool  # any pool: the regret reads only the contexts


@settings(max_examples=60, deadline=None)
@given(window, window, window, st.integers(1, HORIZON))
def test_own_priority_regret_is_a_brute_force_over_slot_choices(forecast, truth, paid, k):
    """An agent choosing its k slots on the public forecast and paying under its own signal: its
    regret is the paid cost of that choice minus the cheapest choice of k slots under what it pays."""
    chosen = np.argsort(forecast[0], kind="stable")[:k]
    best = min(paid[0, list(subset)].sum() for subset in itertools.combinations(range(HORIZON), k))
    expected = paid[0, chosen].sum() - best
    group = SlotChargers(ONE_POOL, "one", per_unit=False, paid=torch.zeros(HORIZON, 1))
    contexts = {"rate": torch.ones(1, 1, dtype=torch.float64), "slots": torch.tensor([[k]]),
                "paid": torch.from_numpy(paid.T)}  # (H, B): as the sampler reads a clock table
    got = group.regret(torch.from_numpy(forecast), torch.from_numpy(truth), contexts)
    assert got.item() == pytest.approx(expected, abs=1e-9)
    # the public truth does not enter: only the paid signal does
    assert group.regret(torch.from_numpy(forecast), torch.from_numpy(paid), contexts).item() == pytest.approx(expected, abs=1e-9)


def test_an_agent_whose_priorities_are_the_index_reproduces_the_public_regret():
    """Paying under E_t's own weights (carbon + water + price) is paying under the public signal, bit for bit."""
    task = make_task("ev", split="test", priorities="shared")
    group = task.population.groups[0]
    index = hours_ahead(torch.from_numpy(signals.mix((1.0, 1.0, 1.0), task.region, task.train_fraction)), task.horizon)
    paying = SlotChargers(group.pool, group.label, group.per_unit, group.plug_in, paid=index)
    start = torch.tensor(task.windows.start[:256])
    truth = torch.tensor(task.windows.targets[:256])
    forecast = truth + torch.randn(truth.shape, generator=torch.Generator().manual_seed(0))
    contexts = task.population.sampler(256, contexts_generator(0)).draw(start).contexts[0]
    with_paid = contexts | {"paid": index[:, start]}
    assert torch.equal(paying.regret(forecast, truth, with_paid), group.regret(forecast, truth, contexts))


def test_own_priorities_split_the_chargers_into_the_documented_cycle():
    task = make_task("ev", num_agents=70)
    sizes = {g.label: g.num_agents for g in task.population.groups}
    assert sizes == {"EV chargers paying index": 35, "EV chargers paying price": 18, "EV chargers paying footprint": 17}
    assert {g.kind for g in task.population.groups} == {"EV chargers"}
    shared = make_task("ev", num_agents=70, priorities="shared")
    assert [g.num_agents for g in shared.population.groups] == [70] and "paid" not in shared.population.groups[0].clock


def test_a_data_centre_in_the_other_region_pays_that_regions_carbon():
    task = make_task("dc", split="test", timing="shared", num_agents=8)
    group = task.population.groups[0]
    assert datacentre_regions(8, "SCE") == ["SCE", "PGE", "SCE", "SCE", "SCE", "PGE", "SCE", "SCE"]
    start = torch.tensor(task.windows.start[:64])
    truth = torch.tensor(task.windows.targets[:64]).double()
    contexts = task.population.sampler(64, contexts_generator(0)).draw(start).contexts[0]
    pge = torch.from_numpy(signals.carbon_of("PGE", "SCE", task.train_fraction))[start]
    got = group.regret(truth, truth, contexts)  # the perfect public forecast
    plain = datacentre_regret(truth, truth, contexts["demand"].double(), group.lam.double(), pge.expand(8, -1))
    assert group.unit_cost is None  # shared timing: the paper's absolute regret
    torch.testing.assert_close(got[1].double(), plain[1], rtol=1e-5, atol=1e-9)
    assert (got[1] > 0).float().mean() > 0.9 and got[[0, 2, 3, 4, 6, 7]].abs().max() == 0


@settings(max_examples=60, deadline=None)
@given(window, window, st.floats(0.02, 0.98))
def test_newsvendor_regret_is_a_brute_force_over_decisions(forecast, truth, fractile):
    """Cost of booking the forecast minus the least cost over every booking (a grid holding the truth)."""
    under, over = 2 * fractile, 2 * (1 - fractile)

    def cost(booked, y):
        return under * np.maximum(y - booked, 0) + over * np.maximum(booked - y, 0)

    grid = np.concatenate([np.linspace(-10, 40, 501), truth[0]])
    best = np.array([cost(grid, y).min() for y in truth[0]])
    expected = (cost(forecast[0], truth[0]) - best).mean()
    got = newsvendor_regret(torch.from_numpy(forecast), torch.from_numpy(truth), torch.tensor([fractile], dtype=torch.float64))
    assert got.shape == (1, 1) and got.item() == pytest.approx(expected, abs=1e-6)


@pytest.mark.parametrize("fractile", [0.1, 0.5, 0.9])
def test_newsvendor_expected_regret_is_least_at_its_own_quantile(fractile):
    y = torch.from_numpy(np.random.default_rng(0).lognormal(1.0, 0.6, 4000))  # a skewed signal
    candidates = torch.linspace(0.0, 15.0, 1501, dtype=torch.float64)
    forecast = candidates.repeat(len(y))[:, None]  # every candidate against every draw of y
    truth = y.repeat_interleave(len(candidates))[:, None]
    regret = newsvendor_regret(forecast, truth, torch.tensor([fractile], dtype=torch.float64))
    expected_regret = regret.view(len(y), len(candidates)).mean(dim=0)
    best = float(candidates[expected_regret.argmin()])
    assert best == pytest.approx(float(np.quantile(y.numpy(), fractile)), abs=0.02)


def test_newsvendors_are_a_population_of_their_own_and_join_mixed():
    alone = custom_task(lambda split, train_fraction: newsvendors(70), signal="ev", split="test")
    fractile = alone.population.groups[0].fractile
    assert alone.num_agents == 70 and (fractile == 0.1).sum() == 63 and (fractile == 0.9).sum() == 7
    mixed = custom_task(lambda split, train_fraction: make_task("mixed", split=split).population.groups + [newsvendors(20)],
                        signal="carbon", split="test")
    assert mixed.num_agents == 80 and isinstance(mixed.population.groups[-1], Newsvendors)
    start = torch.tensor(mixed.windows.start[:32])
    truth = torch.tensor(mixed.windows.targets[:32])
    draw = mixed.population.sampler(32, contexts_generator(0)).draw(start)
    regret = mixed.population.regret(truth + 1.0, truth, draw.contexts)  # a forecast one unit too high
    assert regret.shape == (80, 32)
    torch.testing.assert_close(regret[-20:-2], torch.full((18, 32), 1.8))  # surplus costs 2 * (1 - 0.1) per unit
    torch.testing.assert_close(regret[-2:], torch.full((2, 32), 0.2))
    with pytest.raises(ValueError, match="fractile"):
        Newsvendors(torch.tensor([0.5, 1.0]))


def test_known_ahead_inputs_use_only_what_was_public_when_the_forecast_is_made():
    task = make_task("ev", split="test")
    names = task.feature_names
    assert names == ("signal", "hour_sin", "hour_cos", "week_sin", "week_cos", "water", "price", "price_public", "observed")
    inputs, start, times = task.windows.inputs, task.windows.start, task.times
    parts = signals.scaled_parts(task.region, task.train_fraction)
    ahead = inputs[:, 24:]
    hour = start[:, None] + np.arange(12)
    assert (inputs[:, :24, -1] == 1).all() and (ahead[..., -1] == 0).all() and (ahead[..., 0] == 0).all()
    np.testing.assert_array_equal(inputs[:, :24, 0], task.signal.values[start[:, None] + np.arange(-24, 0)])
    np.testing.assert_allclose(ahead[..., 5], parts[1][hour], rtol=1e-6)  # the typical year's water: a calendar term
    published = observations.price_published(task.region)
    public = ahead[..., 7] == 1
    assert (published[hour][public] <= times[start][:, None].repeat(12, 1)[public]).all()
    assert public.all()  # the auction publishes 11 to 35 hours ahead of delivery: a 12-hour window's prices are out
    np.testing.assert_allclose(ahead[..., 6], parts[2][hour], rtol=1e-6)
    # published three hours later, some of a window's prices are not out yet: those hours take the
    # price of the same hour a day earlier, flagged 0 (the features follow the publication time)
    later = observations.known_ahead(parts, observations.price_published(task.region, observations.PRICE_PUBLISHED_HOUR + 3), times, start, 12)
    late = later[..., 2] == 0
    assert 0.01 < late.mean() < 0.2
    assert (observations.price_published(task.region, observations.PRICE_PUBLISHED_HOUR + 3)[hour][late] > times[start][:, None].repeat(12, 1)[late]).all()
    np.testing.assert_allclose(later[..., 1][late], parts[2][hour - 24][late], rtol=1e-6)
    np.testing.assert_allclose(later[..., 1][~late], parts[2][hour][~late], rtol=1e-6)
    same = observations.known_ahead(parts, published, times, start, 12)
    np.testing.assert_array_equal(same, ahead[..., 5:8])


def test_the_window_arrays_are_read_only():
    task = make_task("ev", split="test")
    for array in (task.windows.inputs, task.windows.targets, task.windows.start):
        with pytest.raises(ValueError, match="read-only"):
            array[0] = 0
