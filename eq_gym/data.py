"""The shipped data: the one module that knows where it lies and how to read it.

Everything here is plain numpy/pandas (no Gymnasium, no torch). It turns the
files of ``envs_data/`` into hourly signals on one UTC time axis, the hourly
axis of the CAISO MOER file (2019-04-30 00:00 to 2021-09-01 23:00, 20,544
hours), and into the context pools of the downstream agents.

Signals (all hourly, aligned on that axis):

- carbon: MOER of the chosen CAISO region, kg CO2 per kWh.
- water: on-site water usage effectiveness (WUE) of a data centre cooled by
  outside air, L/kWh, from the wet-bulb temperature of the San Diego typical
  meteorological year (Li et al. 2023; Stull 2011).
- price: Dutch day-ahead price, EUR/MWh (negative prices are real).

Each environment scales the parts it uses to [0, 10] with the minimum and
maximum of its training part only (:class:`Signal`).

Clock: the CAISO grid and both ACN sites keep Pacific time, so "local" here is
America/Los_Angeles clock time (with daylight saving), the time in which the
ACN connection times are written.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from importlib import resources
from pathlib import Path

import numpy as np
import pandas as pd

from eq_gym.choices import REGIONS

DATA_PACKAGE = "eq_gym.envs_data"
SCALE_MAX = 10.0
"""Upper end of the [0, 10] scale the paper puts every signal on."""
LOCAL_ZONE = "America/Los_Angeles"
"""Time zone of the grid and the charging sites."""
HOURS_PER_DAY = 24


def data_file(name: str) -> Path:
    """Path of a shipped data file; a clear error when it is not installed."""
    path = Path(str(resources.files(DATA_PACKAGE).joinpath(name)))
    if not path.is_file():
        raise FileNotFoundError(
            f"eq_gym data file {name!r} is missing (looked at {path}). It ships in "
            "envs_data/: reinstall eq-gym from a full checkout (pip install -e .)."
        )
    return path


def read_table(name: str, columns: tuple[str, ...]) -> pd.DataFrame:
    """Read a shipped CSV and check that it has ``columns``."""
    path = data_file(name)
    try:
        frame = pd.read_csv(path)
    except Exception as error:  # pandas raises several kinds for a broken file
        raise ValueError(f"eq_gym data file {path} cannot be read as CSV: {error}") from error
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise ValueError(
            f"eq_gym data file {path} lacks the columns {missing} (has {list(frame.columns)}); "
            "restore it from the repository."
        )
    return frame


# --- the hourly time axis and the three signals ------------------------------


@cache
def _moer(region: str) -> pd.DataFrame:
    if region not in REGIONS:
        raise ValueError(f"region={region!r} is not shipped; use one of {REGIONS}")
    frame = read_table("caiso_sgip_moer_hourly.csv.gz", ("time", "region", "moer", "moer_forecast"))
    frame = frame[frame["region"] == region]
    frame = frame.assign(time=pd.to_datetime(frame["time"], format="%Y-%m-%d %H:%M"))
    return frame.set_index("time").sort_index()


def hours(region: str = "SCE") -> pd.DatetimeIndex:
    """The hourly UTC axis every signal is aligned on, (T,)."""
    return _moer(region).index


def local_hour(region: str = "SCE") -> np.ndarray:
    """Hour of the day, 0..23, of each axis hour in local (Pacific) clock time, (T,) int64."""
    return np.asarray(hours(region).tz_localize("UTC").tz_convert(LOCAL_ZONE).hour, dtype=np.int64)


CALENDAR_FEATURES = ("hour_sin", "hour_cos", "week_sin", "week_cos")
"""The clock features of :func:`calendar`, in order."""


def calendar(region: str = "SCE") -> np.ndarray:
    """Clock features of each axis hour, (T, 4) float32: sine and cosine of the local hour of
    the day and of the local day of the week (fractional, so Monday 12:00 is 0.5 days in)."""
    local = hours(region).tz_localize("UTC").tz_convert(LOCAL_ZONE)
    day = 2 * np.pi * np.asarray(local.hour) / HOURS_PER_DAY
    week = 2 * np.pi * (np.asarray(local.day_of_week) + np.asarray(local.hour) / HOURS_PER_DAY) / 7
    return np.stack([np.sin(day), np.cos(day), np.sin(week), np.cos(week)], axis=1).astype(np.float32)


def carbon(region: str = "SCE") -> np.ndarray:
    """Marginal operating emission rate, kg CO2/kWh, (T,) float64."""
    return _moer(region)["moer"].to_numpy(np.float64)


def vendor_carbon_forecast(region: str = "SCE") -> np.ndarray:
    """WattTime's own forecast of each hour's MOER, made at its start, (T,) float64."""
    return _moer(region)["moer_forecast"].to_numpy(np.float64)


@cache
def _price_series() -> pd.Series:
    frame = read_table("nl_day_ahead_price_hourly.csv.gz", ("time", "price_eur_mwh"))
    frame = frame.dropna(subset=["time"])
    iso = pd.to_datetime(frame["time"], format="%Y-%m-%d %H:%M", errors="coerce")
    day_first = pd.to_datetime(frame["time"], format="%d/%m/%Y %H:%M", errors="coerce")
    times = iso.fillna(day_first)
    if times.isna().any():
        bad = frame.loc[times.isna(), "time"].head(3).tolist()
        raise ValueError(f"nl_day_ahead_price_hourly.csv.gz has times in no known format: {bad}")
    series = pd.Series(frame["price_eur_mwh"].to_numpy(np.float64), index=times)
    return series[~series.index.duplicated()].sort_index()


def price(region: str = "SCE") -> np.ndarray:
    """Day-ahead price on the MOER axis, EUR/MWh, (T,) float64."""
    axis = hours(region)
    aligned = _price_series().reindex(axis)
    if aligned.isna().any():
        raise ValueError(
            f"nl_day_ahead_price_hourly.csv.gz lacks {int(aligned.isna().sum())} hours of "
            f"{axis[0]}..{axis[-1]}; restore it from the repository."
        )
    return aligned.to_numpy()


def wet_bulb_c(dry_bulb_c: np.ndarray, rel_humidity_pct: np.ndarray) -> np.ndarray:
    """Wet-bulb temperature, deg C, from air temperature and humidity (Stull 2011)."""
    t, rh = dry_bulb_c, rel_humidity_pct
    return (
        t * np.arctan(0.151977 * np.sqrt(rh + 8.313659))
        + np.arctan(t + rh)
        - np.arctan(rh - 1.676331)
        + 0.00391838 * rh**1.5 * np.arctan(0.023101 * rh)
        - 4.686035
    )


def water_usage_effectiveness(wet_bulb_f: np.ndarray) -> np.ndarray:
    """On-site WUE, L/kWh, of a cooling tower at a wet-bulb temperature in deg F (Li et al. 2023)."""
    t = wet_bulb_f
    wue = 6.0 / 5.0 * (6e-5 * t**3 - 0.01 * t**2 + 0.61 * t - 10.4)
    return np.maximum(wue, 0.05)


def water(region: str = "SCE") -> np.ndarray:
    """On-site WUE on the MOER axis, L/kWh, (T,) float64.

    The typical year is matched by month, day and hour of local standard time
    (UTC-8, as TMY files use); 29 February takes 28 February's weather.
    """
    frame = read_table(
        "tmy3_san_diego_weather_hourly.csv.gz", ("month", "day", "hour", "dry_bulb_c", "rel_humidity_pct")
    )
    wet = wet_bulb_c(frame["dry_bulb_c"].to_numpy(float), frame["rel_humidity_pct"].to_numpy(float))
    wue = pd.Series(
        water_usage_effectiveness(wet * 9.0 / 5.0 + 32.0),
        index=pd.MultiIndex.from_arrays([frame["month"], frame["day"], frame["hour"]]),
    )
    local = hours(region) - pd.Timedelta(hours=8)
    day = np.where((local.month == 2) & (local.day == 29), 28, local.day)
    keys = pd.MultiIndex.from_arrays([local.month, day, local.hour + 1])  # TMY hours end at 1..24
    return wue.reindex(keys).to_numpy()


# --- scaling, splits and windows -----------------------------------------------


@dataclass(frozen=True)
class Signal:
    """A signal scaled to [0, 10] on its training part, with its train/test cut.

    Attributes:
        values: the scaled signal, (T,) float32.
        cut: index of the first test hour; hours [0, cut) are the training part.
        name: what the signal is, for docs and errors.
    """

    values: np.ndarray
    cut: int
    name: str

    @property
    def bounds(self) -> tuple[float, float]:
        """Finite bounds that cover the whole series, with one unit of margin."""
        return float(np.floor(self.values.min()) - 1.0), float(np.ceil(self.values.max()) + 1.0)


def split_cut(length: int, train_fraction: float) -> int:
    """Index of the first test element of a chronological split."""
    return int(round(length * train_fraction))


def scale_on_train(raw: np.ndarray, cut: int) -> np.ndarray:
    """Min-max scale ``raw`` to [0, 10] with the minimum and maximum of ``raw[:cut]``."""
    low, high = raw[:cut].min(), raw[:cut].max()
    return (raw - low) / (high - low) * SCALE_MAX


def carbon_signal(region: str, train_fraction: float) -> Signal:
    """Carbon (MOER) scaled to [0, 10] on the training part."""
    raw = carbon(region)
    cut = split_cut(len(raw), train_fraction)
    return Signal(scale_on_train(raw, cut).astype(np.float32), cut, f"carbon ({region} MOER)")


PARTS = ("carbon", "water", "price")
"""The parts of the cost signals, in the order of every weight vector over them."""
INDEX_WEIGHTS = {"ev": (1.0, 1.0, 1.0), "carbon": (1.0, 0.0, 0.0), "price": (0.0, 0.0, 1.0)}
"""Each public signal's weights on (carbon, water, price): E_t = carbon + water + price (gamma = eta = 1)."""


@cache
def scaled_parts(region: str, train_fraction: float) -> np.ndarray:
    """Carbon, water and price, each scaled to [0, 10] on the training part: (3, T) float64, read-only."""
    raws = carbon(region), water(region), price(region)
    cut = split_cut(len(raws[0]), train_fraction)
    parts = np.stack([scale_on_train(raw, cut) for raw in raws])
    parts.setflags(write=False)
    return parts


def other_region(region: str) -> str:
    """The other shipped CAISO region."""
    return next(r for r in REGIONS if r != region)


def carbon_of(region: str, scale_region: str, train_fraction: float) -> np.ndarray:
    """``region``'s carbon on the [0, 10] scale of ``scale_region``'s training part, (T,) float64.

    One linear scale for both regions, so a data centre in the other region pays in the same unit
    as the public signal's.
    """
    raw, reference = carbon(region), carbon(scale_region)
    cut = split_cut(len(reference), train_fraction)
    low, high = reference[:cut].min(), reference[:cut].max()
    return (raw - low) / (high - low) * SCALE_MAX


def mix(weights: tuple[float, float, float], region: str, train_fraction: float) -> np.ndarray:
    """``weights`` (carbon, water, price) applied to the scaled parts, (T,) float32."""
    c, w, p = scaled_parts(region, train_fraction)
    return (weights[0] * c + weights[1] * w + weights[2] * p).astype(np.float32)


def ev_signal(region: str, train_fraction: float, gamma: float = 1.0, eta: float = 1.0) -> Signal:
    """E_t = carbon + gamma * water + eta * price, each part scaled to [0, 10] on the training part."""
    cut = split_cut(len(hours(region)), train_fraction)
    return Signal(mix((1.0, gamma, eta), region, train_fraction), cut, f"carbon + {gamma}*water + {eta}*price")


def price_signal(region: str, train_fraction: float) -> Signal:
    """Day-ahead price scaled to [0, 10] on the training part."""
    raw = price(region)
    cut = split_cut(len(raw), train_fraction)
    return Signal(scale_on_train(raw, cut).astype(np.float32), cut, "day-ahead price")


def vendor_signal(region: str, train_fraction: float) -> np.ndarray:
    """The vendor's MOER forecast on the same [0, 10] scale as :func:`carbon_signal`, (T,)."""
    raw = carbon(region)
    cut = split_cut(len(raw), train_fraction)
    low, high = raw[:cut].min(), raw[:cut].max()
    return ((vendor_carbon_forecast(region) - low) / (high - low) * SCALE_MAX).astype(np.float32)


# --- what is known when a forecast is made --------------------------------------

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


# --- agent context pools -------------------------------------------------------


def azure_demand() -> np.ndarray:
    """Azure Functions demand every 30 min of 2019, scaled to [0, 10], (17280,) float64."""
    raw = read_table("azure_functions_demand_2019.csv.gz", ("time", "demand"))["demand"].to_numpy(float)
    return (raw - raw.min()) / (raw.max() - raw.min()) * SCALE_MAX


@cache
def _azure_by_week_day_hour() -> np.ndarray:
    """2019 Azure demand on the [0, 10] scale by (ISO week 1..52, weekday 0..6, hour), (52, 7, 24).

    Hourly means of the half-hourly values; a (week, weekday, hour) the 2019 file lacks (it runs
    from 1 January 11:30 to 27 December 11:00) takes the same weekday and hour of the nearest week.
    """
    frame = read_table("azure_functions_demand_2019.csv.gz", ("time", "demand"))
    times = pd.to_datetime(frame["time"], format="%Y-%m-%d %H:%M")
    iso = times.dt.isocalendar()
    keep = (iso["year"] == 2019).to_numpy()
    table = np.full((52, 7, HOURS_PER_DAY), np.nan)
    scaled = pd.Series(azure_demand()[keep])
    keys = [iso["week"][keep].to_numpy() - 1, iso["day"][keep].to_numpy() - 1, times.dt.hour[keep].to_numpy()]
    means = scaled.groupby(keys).mean()
    table[tuple(np.array(means.index.tolist()).T)] = means.to_numpy()
    for week in range(52):  # fill gaps from the nearest week that has the same weekday and hour
        for distance in range(1, 52):
            gaps = np.isnan(table[week])
            if not gaps.any():
                break
            for other in (week - distance, week + distance):
                if 0 <= other < 52:
                    table[week][gaps] = table[other][gaps]
                    gaps = np.isnan(table[week])
    return table


def azure_demand_at(times: pd.DatetimeIndex) -> np.ndarray:
    """2019 Azure demand ([0, 10]) at the same ISO week, weekday and hour as each of ``times``, (T,).

    The series is read as a typical year, as the TMY weather is: aligned by the day of the year
    (to within three days) and the hour, keeping the day of the week, since demand follows it.
    """
    iso = times.isocalendar()
    week = np.minimum(iso["week"].to_numpy(np.int64), 52) - 1  # ISO week 53 takes week 52
    return _azure_by_week_day_hour()[week, iso["day"].to_numpy(np.int64) - 1, np.asarray(times.hour)]


MIN_SESSION_H, MAX_SESSION_H = 3.0, 12.0
"""Sessions whose charging lasts outside [3 h, 12 h] are dropped, as in the paper's code."""


@dataclass(frozen=True)
class Sessions:
    """EV charging sessions of one site, in chronological order.

    Attributes:
        energy_kwh: energy delivered, (S,).
        duration_h: charging duration, (S,).
        start_hour: local hour of the day the car plugged in, 0..23, (S,) int64.
    """

    energy_kwh: np.ndarray
    duration_h: np.ndarray
    start_hour: np.ndarray

    @property
    def rate_kw(self) -> np.ndarray:
        """Constant charging rate, kW: energy over duration."""
        return self.energy_kwh / self.duration_h


def ev_sessions(site: str) -> Sessions:
    """Charging sessions of ``site`` ("caltech" or "jpl") lasting 3 to 12 hours.

    Caltech's duration is done_charging_time - connection_time; JPL's rows have
    no done time, so theirs is disconnect_time - connection_time.
    """
    frame = read_table(
        "acn_ev_sessions.csv.gz",
        ("site", "connection_time", "done_charging_time", "disconnect_time", "kwh_delivered"),
    )
    frame = frame[frame["site"] == site]
    if frame.empty:
        raise ValueError(f"site={site!r} has no sessions; use 'caltech' or 'jpl'")
    end_column = "done_charging_time" if site == "caltech" else "disconnect_time"
    start = pd.to_datetime(frame["connection_time"], format="%Y-%m-%d %H:%M")
    end = pd.to_datetime(frame[end_column], format="%Y-%m-%d %H:%M")
    duration = ((end - start).dt.total_seconds() / 3600.0).to_numpy()
    energy = frame["kwh_delivered"].to_numpy(float)
    keep = np.isfinite(duration) & (duration >= MIN_SESSION_H) & (duration <= MAX_SESSION_H) & (energy > 0)
    order = np.argsort(start.to_numpy()[keep], kind="stable")
    hour = start.dt.hour.to_numpy(np.int64)
    return Sessions(energy[keep][order], duration[keep][order], hour[keep][order])
