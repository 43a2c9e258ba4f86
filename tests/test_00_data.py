"""The shipped data: signals, scaling on the training part, windows, clear errors."""

import gzip

import numpy as np
import pandas as pd
import pytest

from eq_gym import data, observations, signals


def test_signals_share_one_hourly_axis():
    axis = data.hours()
    assert len(axis) == 20544 and axis.is_monotonic_increasing
    assert (axis[1:] - axis[:-1] == pd.Timedelta(hours=1)).all()
    for series in (data.carbon(), data.water(), data.price(), data.vendor_carbon_forecast()):
        assert series.shape == (len(axis),) and np.isfinite(series).all()


def test_price_parses_both_time_formats():
    series = data._price_series()
    assert series.index.is_monotonic_increasing and not series.index.duplicated().any()
    assert series.index[0].year == 2015 and series.index[-1].year == 2025  # the DD/MM/YYYY rows are read


def test_wet_bulb_matches_stull_and_wue_is_floored():
    # Stull (2011): 20 C at 50 % relative humidity gives a wet bulb of 13.7 C.
    assert data.wet_bulb_c(np.array([20.0]), np.array([50.0]))[0] == pytest.approx(13.7, abs=0.05)
    assert data.water_usage_effectiveness(np.array([0.0, 30.0])).min() == pytest.approx(0.05)
    assert data.water().min() >= 0.05


@pytest.mark.parametrize("fraction", [0.67, 0.7])
def test_each_part_is_scaled_on_the_training_part_only(fraction):
    raw = data.carbon()
    cut = signals.split_cut(len(raw), fraction)
    scaled = signals.scale_on_train(raw, cut)
    assert scaled[:cut].min() == pytest.approx(0.0) and scaled[:cut].max() == pytest.approx(10.0)
    signal = signals.ev_signal("SCE", fraction)
    parts = [signals.scale_on_train(p, cut) for p in (data.carbon(), data.water(), data.price())]
    np.testing.assert_allclose(signal.values, sum(parts), rtol=1e-5, atol=1e-4)
    assert signal.cut == cut


def test_windows_stay_inside_their_split_and_line_up():
    signal = signals.carbon_signal("SCE", 0.67)
    for split in ("train", "test"):
        win = observations.windows(signal, split, lookback=12, horizon=3)
        first_input = win.start - 12
        if split == "train":
            assert first_input.min() == 0 and (win.start + 3).max() == signal.cut
        else:
            assert first_input.min() == signal.cut and (win.start + 3).max() == len(signal.values)
        i = len(win.start) // 2
        np.testing.assert_array_equal(win.inputs[i, :, 0], signal.values[win.start[i] - 12 : win.start[i]])
        np.testing.assert_array_equal(win.targets[i], signal.values[win.start[i] : win.start[i] + 3])


def test_ev_sessions_follow_the_papers_filter():
    for site in ("caltech", "jpl"):
        sessions = data.ev_sessions(site)
        assert sessions.duration_h.min() >= 3.0 and sessions.duration_h.max() <= 12.0
        assert (sessions.energy_kwh > 0).all()


def test_a_missing_file_is_named(monkeypatch, tmp_path):
    monkeypatch.setattr(data, "DATA_PACKAGE", "tests")  # a package without the data
    with pytest.raises(FileNotFoundError, match="azure_functions_demand_2019.csv.gz"):
        data.azure_demand()


def test_a_file_without_its_columns_is_named(monkeypatch, tmp_path):
    broken = tmp_path / "azure_functions_demand_2019.csv.gz"
    broken.write_bytes(gzip.compress(b"time,load\n2019-01-01 00:00,1\n"))
    monkeypatch.setattr(data, "data_file", lambda name: broken)
    with pytest.raises(ValueError, match=r"lacks the columns \['demand'\]"):
        data.azure_demand()
