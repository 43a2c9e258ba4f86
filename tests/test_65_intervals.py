"""Bootstrap intervals over seeds and agents (scipy.stats.bootstrap): mean and interquartile mean."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from trainers.studies.intervals import bootstrap_interval, interquartile_mean

values = st.lists(st.floats(min_value=-1e3, max_value=1e3, allow_nan=False), min_size=2, max_size=30)


@settings(max_examples=60, deadline=None)
@given(values, st.sampled_from(["mean", "iqm"]))
def test_the_interval_brackets_the_statistic_within_the_values_range(sample, statistic):
    point, low, high = bootstrap_interval(sample, statistic)
    assert min(sample) - 1e-9 <= low <= point + 1e-9 and point - 1e-9 <= high <= max(sample) + 1e-9


def test_the_iqm_drops_the_outer_quarters_and_the_interval_is_reproducible():
    sample = [1.0, 2.0, 3.0, 4.0, 100.0, -100.0, 2.5, 3.5]
    assert interquartile_mean(np.array(sample)) == pytest.approx(np.mean([2.0, 2.5, 3.0, 3.5]))
    assert bootstrap_interval(sample, "iqm") == bootstrap_interval(sample, "iqm")
    assert bootstrap_interval(sample)[0] == pytest.approx(np.mean(sample))


def test_one_value_or_equal_values_give_a_zero_width_interval_and_bad_input_is_refused():
    assert bootstrap_interval([0.3]) == (0.3, 0.3, 0.3)
    assert bootstrap_interval([2.0, 2.0, 2.0]) == (2.0, 2.0, 2.0)
    with pytest.raises(ValueError, match="statistic 'mode'"):
        bootstrap_interval([1.0, 2.0], "mode")
    with pytest.raises(ValueError, match="non-empty 1-D"):
        bootstrap_interval([])


def test_the_difference_interval_brackets_the_change_and_takes_a_single_run_on_either_side():
    from trainers.studies.intervals import bootstrap_interval, difference_interval

    a, b = [1.0, 1.1, 0.9, 1.05, 0.95], [1.3, 1.2, 1.25, 1.35, 1.2]
    change, low, high = difference_interval(a, b)
    assert change == pytest.approx(np.mean(a) - np.mean(b)) and low < change < high < 0
    assert difference_interval(a, [1.25]) == pytest.approx(bootstrap_interval(np.array(a) - 1.25))
    assert difference_interval([1.25], b)[0] == pytest.approx(1.25 - np.mean(b))
