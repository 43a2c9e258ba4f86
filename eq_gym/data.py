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
maximum of its training part only (:mod:`eq_gym.signals`); what a public
model sees of them is built in :mod:`eq_gym.observations`.

Clock: the CAISO grid and both ACN sites keep Pacific time, so "local" here is
America/Los_Angeles clock time (with daylight saving), the time in which the
ACN connection times are written.
"""

from __future__ import annotations

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
