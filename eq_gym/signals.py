"""The public signals and their parts, on the [0, 10] scale of each env's training part.

Every env scales the parts it uses (carbon, water, price: :mod:`eq_gym.data`) with the minimum and
maximum of its training part only, and weighs them into its public signal (:data:`INDEX_WEIGHTS`).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

import numpy as np

from eq_gym.choices import REGIONS
from eq_gym.data import SCALE_MAX, carbon, hours, price, vendor_carbon_forecast, water


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
