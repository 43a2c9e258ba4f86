"""What a public model sees: the clock, what is public about the forecast hours, and the windows of a split.

Plain numpy/pandas on the hourly axis of :mod:`eq_gym.data`; the signals come from :mod:`eq_gym.signals`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import cache

import numpy as np
import pandas as pd

from eq_gym import signals
from eq_gym.choices import FEATURES
from eq_gym.data import HOURS_PER_DAY, LOCAL_ZONE, hours
from eq_gym.signals import Signal

CALENDAR_FEATURES = ("hour_sin", "hour_cos", "week_sin", "week_cos")
"""The clock features of :func:`calendar`, in order."""


def calendar(region: str = "SCE") -> np.ndarray:
    """Clock features of each axis hour, (T, 4) float32: sine and cosine of the local hour of
    the day and of the local day of the week (fractional, so Monday 12:00 is 0.5 days in)."""
    local = hours(region).tz_localize("UTC").tz_convert(LOCAL_ZONE)
    day = 2 * np.pi * np.asarray(local.hour) / HOURS_PER_DAY
    week = 2 * np.pi * (np.asarray(local.day_of_week) + np.asarray(local.hour) / HOURS_PER_DAY) / 7
    return np.stack([np.sin(day), np.cos(day), np.sin(week), np.cos(week)], axis=1).astype(np.float32)


PRICE_ZONE = "Europe/Amsterdam"
"""Time zone of the day-ahead market whose prices ship."""
PRICE_PUBLISHED_HOUR = 13
"""Local hour, on the day before delivery, by which the day-ahead prices of a whole delivery day are
public: the auction closes at 12:00 and publishes its results at about 12:45 (Amsterdam time)."""
AHEAD_FEATURES = ("water", "price", "price_public")
"""Features of the forecast hours known when the forecast is made (``known_ahead``)."""


def price_published(region: str = "SCE", hour: float = PRICE_PUBLISHED_HOUR) -> np.ndarray:
    """UTC time at which each axis hour's day-ahead price became public, (T,) datetime64[ns].

    ``hour`` o'clock Amsterdam time on the day before the hour's delivery day (in Amsterdam).
    """
    delivery_day = hours(region).tz_localize("UTC").tz_convert(PRICE_ZONE).tz_localize(None).normalize()
    published = delivery_day - pd.Timedelta(days=1) + pd.Timedelta(hours=hour)
    return published.tz_localize(PRICE_ZONE).tz_convert("UTC").tz_localize(None).to_numpy()


def known_ahead(parts: np.ndarray, published: np.ndarray, times: np.ndarray, start: np.ndarray, horizon: int) -> np.ndarray:
    """What is public about the H forecast hours when a forecast is made: (N, H, 3) float32.

    A window's forecast is made at its first forecast hour's start, ``times[start]``. Per forecast
    hour: the water term (the typical year's weather: a function of the calendar), the day-ahead
    price where ``published`` (the time it became public) is not later, else the price of the same
    hour one day earlier (always public by then), and 1 where the price is the hour's own, 0 where it
    is that stand-in.

    Args:
        parts: scaled (carbon, water, price), (3, T). published: (T,) datetime64. times: the axis, (T,).
        start: axis index of each window's first forecast hour, (N,). horizon: H.
    """
    hour = start[:, None] + np.arange(horizon)[None, :]
    made = times[start][:, None]
    public = published[hour] <= made
    earlier = np.maximum(hour - HOURS_PER_DAY, 0)
    if not (published[earlier] <= made).all():
        raise ValueError("a day-earlier price is not public when the forecast is made; publication time too late")
    price_known = np.where(public, parts[2][hour], parts[2][earlier])
    return np.stack([parts[1][hour], price_known, public], axis=-1).astype(np.float32)


@dataclass(frozen=True)
class Windows:
    """Forecasting windows of one split.

    Attributes:
        inputs: each window's input rows, (N, L, F) float32: its past hours (the signal, then any
            more features of each hour), then, with known-ahead features, its H forecast hours
            (the signal's column 0 there, and a last feature ``observed``: 1 past, 0 ahead).
        targets: the ``H`` hours to forecast, (N, H) float32.
        start: index on the hourly axis of each window's first target hour, (N,).
    """

    inputs: np.ndarray
    targets: np.ndarray
    start: np.ndarray


def windows(
    signal: Signal, split: str, lookback: int, horizon: int, clock: np.ndarray | None = None,
    ahead: Callable[[np.ndarray, int], np.ndarray] | None = None,
) -> Windows:
    """All windows whose inputs and targets lie inside ``split`` ("train" or "test"), read-only.

    ``clock`` (T, C), when given, is appended to the signal as C more features of each past hour.
    ``ahead``, when given, maps first forecast hours (N,) and a horizon h to the (N, h, A) features of
    those hours known when the forecast is made; the inputs then hold the L past hours and the H
    forecast hours, each with the clock, the A known features (a past hour's as known at that hour:
    its own values) and ``observed``.
    """
    low, high = (0, signal.cut) if split == "train" else (signal.cut, len(signal.values))
    start = np.arange(low + lookback, high - horizon + 1)
    past = start[:, None] + np.arange(-lookback, 0)[None, :]
    forecast_hours = start[:, None] + np.arange(horizon)[None, :]
    inputs = signal.values[past][..., None]
    if clock is not None:
        inputs = np.concatenate([inputs, clock[past]], axis=-1)
    if ahead is not None:
        known = ahead(start, horizon)
        past_known = ahead(past.ravel(), 1).reshape(past.shape + known.shape[-1:])
        rows_ahead = [np.zeros(forecast_hours.shape + (1,), np.float32)]
        if clock is not None:
            rows_ahead.append(clock[forecast_hours])
        inputs = np.concatenate([
            np.concatenate([inputs, past_known, np.ones(past.shape + (1,), np.float32)], axis=-1),
            np.concatenate(rows_ahead + [known, np.zeros(forecast_hours.shape + (1,), np.float32)], axis=-1),
        ], axis=1)
    result = Windows(np.ascontiguousarray(inputs, dtype=np.float32), signal.values[forecast_hours], start)
    for array in (result.inputs, result.targets, result.start):
        array.setflags(write=False)
    return result


# --- a task's windows -----------------------------------------------------------

SIGNALS = {"carbon": signals.carbon_signal, "ev": signals.ev_signal, "price": signals.price_signal}
"""The shipped signals a task can forecast, each scaled to [0, 10] on its training part."""


@cache
def signal_of(kind: str, region: str, train_fraction: float) -> Signal:
    """The signal ``kind`` of :data:`SIGNALS` in ``region``, scaled on its training part."""
    return SIGNALS[kind](region, train_fraction)


@cache
def task_windows(kind: str, region: str, train_fraction: float, split: str, horizon: int, features: str) -> Windows:
    """The windows of ``split`` of signal ``kind`` with the inputs ``features`` names (eq_gym.choices.FEATURES)."""
    clock = calendar(region) if features in ("calendar", "ahead") else None
    ahead = known_ahead_of(kind, region, train_fraction) if features == "ahead" else None
    return windows(signal_of(kind, region, train_fraction), split, FEATURES[features], horizon, clock, ahead)


def known_ahead_of(kind: str, region: str, train_fraction: float):
    """What the forecast hours of ``kind``'s windows have public ahead: water and day-ahead price for E_t
    (``known_ahead``), nothing beyond the clock for carbon or price alone."""
    if kind != "ev":
        return lambda start, horizon: np.zeros((len(start), horizon, 0), np.float32)
    parts, times = signals.scaled_parts(region, train_fraction), hours(region).to_numpy()
    published = price_published(region)
    return lambda start, horizon: known_ahead(parts, published, times, start, horizon)


def feature_names(kind: str, features: str) -> tuple[str, ...]:
    """The name of each input feature (column F) of ``kind``'s windows under ``features``."""
    names = ("signal",)
    if features in ("calendar", "ahead"):
        names += CALENDAR_FEATURES
    if features == "ahead":
        names += (AHEAD_FEATURES if kind == "ev" else ()) + ("observed",)
    return names
