"""The synthetic world's truth: analytic land, climate, Rh, soil carbon and seasonality.

Every field is a function of latitude and longitude (and month), so that it can be evaluated on
any grid: the references on a 2° grid, the models on a coarser 4° × 5° grid. Random texture comes
from a seeded generator, as a sum of a few smooth sine waves, never from per-cell noise, so that
both grids see the same world.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

#: continents as ellipses (centre lat, centre lon, half-height, half-width), degrees
CONTINENTS = (
    (48.0, -100.0, 22.0, 32.0),   # North America
    (-12.0, -60.0, 26.0, 17.0),   # South America
    (52.0, 60.0, 20.0, 75.0),     # Eurasia
    (5.0, 20.0, 30.0, 22.0),      # Africa
    (-25.0, 135.0, 11.0, 18.0),   # Australia
    (72.0, -40.0, 8.0, 18.0),     # Greenland-like
)

#: target global totals of the truth (so the demo's numbers look like the real ones)
RH_TOTAL_PG = 50.0       # Pg C yr-1 (methods.md §1: 48.8-51)
TAU_GLOBAL_YR = 38.0     # yr (methods.md §5: 38.3)
ROOT_SHARE = 0.41        # Ra_root / Rs (methods.md §1)
NPP_OVER_RH = 1.05       # near steady state
#: interannual sensitivity of global Rh to the land temperature anomaly, Pg C yr-1 °C-1: inside
#: [003]'s envelope as Rh (1.03-3.15), and ×1.2 (rh-plus-20pct) is outside it
RH_SENSITIVITY_PG_PER_DEGC = 2.8
#: SD of the yearly land temperature anomaly, °C
TEMPERATURE_ANOMALY_SD_DEGC = 0.25
#: years the anomaly is defined over (the digitised and model series), and the years over which it
#: has zero mean and no trend (the models' years), so the period means and trend are unchanged
ANOMALY_YEARS = (1980, 2016)
CENTRED_YEARS = (2001, 2010)


@dataclass(frozen=True)
class Truth:
    """The synthetic world's true fields, callable on any (lat, lon) grid."""

    seed: int = 20240501

    def _waves(self, lat2: np.ndarray, lon2: np.ndarray, salt: int, n: int = 4) -> np.ndarray:
        rng = np.random.default_rng(self.seed + salt)
        total = np.zeros_like(lat2, dtype=float)
        for _ in range(n):
            k_lat, k_lon = rng.integers(1, 4), rng.integers(1, 5)
            phase_lat, phase_lon = rng.uniform(0, 2 * np.pi, 2)
            total += np.sin(np.deg2rad(lat2) * k_lat * 2 + phase_lat) * np.cos(np.deg2rad(lon2) * k_lon + phase_lon)
        return total / n

    def land_fraction(self, lat: np.ndarray, lon: np.ndarray) -> np.ndarray:
        """0–1; soft coasts over about one degree."""
        lat2, lon2 = np.meshgrid(lat, lon, indexing="ij")
        distance = np.full(lat2.shape, np.inf)
        for c_lat, c_lon, h_lat, h_lon in CONTINENTS:
            d_lon = (lon2 - c_lon + 180.0) % 360.0 - 180.0
            r = np.sqrt(((lat2 - c_lat) / h_lat) ** 2 + (d_lon / h_lon) ** 2)
            distance = np.minimum(distance, (r - 1.0) * min(h_lat, h_lon))
        distance += 3.0 * self._waves(lat2, lon2, 1)  # ragged coasts
        return np.clip(0.5 - distance / 2.0, 0.0, 1.0)

    def temperature(self, lat: np.ndarray, lon: np.ndarray) -> np.ndarray:
        """Mean annual temperature (°C)."""
        lat2, lon2 = np.meshgrid(lat, lon, indexing="ij")
        return 28.0 - 45.0 * (np.abs(lat2) / 90.0) ** 1.5 + 3.0 * self._waves(lat2, lon2, 2)

    def wetness(self, lat: np.ndarray, lon: np.ndarray) -> np.ndarray:
        """Moisture index 0–1: wet tropics, dry subtropics, moderate mid-latitudes."""
        lat2, lon2 = np.meshgrid(lat, lon, indexing="ij")
        band = 0.55 + 0.4 * np.cos(np.deg2rad(lat2) * 6.0) * np.exp(-((np.abs(lat2) - 5) / 40.0) ** 2)
        return np.clip(band + 0.25 * self._waves(lat2, lon2, 3), 0.05, 1.0)

    def rh_shape(self, lat: np.ndarray, lon: np.ndarray) -> np.ndarray:
        """Unscaled annual-mean Rh: Q10 = 2 temperature response times moisture."""
        return 2.0 ** ((self.temperature(lat, lon) - 15.0) / 10.0) * self.wetness(lat, lon)

    def tau_shape(self, lat: np.ndarray, lon: np.ndarray) -> np.ndarray:
        """Unscaled turnover time: long where it is cold."""
        return 2.0 ** (-(self.temperature(lat, lon) - 15.0) / 10.0) * (1.0 + 0.3 * self.wetness(lat, lon))

    def temperature_anomaly(self, years) -> np.ndarray:
        """Land temperature anomaly (°C) of each calendar year, the same everywhere on land.

        Seeded white noise; over :data:`CENTRED_YEARS` its mean and linear trend are removed, so a
        multiplier ``1 + b·ΔT`` leaves the period means and the trend of those years exactly as
        they were without it.
        """
        all_years = np.arange(ANOMALY_YEARS[0], ANOMALY_YEARS[1] + 1)
        values = TEMPERATURE_ANOMALY_SD_DEGC * np.random.default_rng([self.seed, 77]).standard_normal(all_years.size)
        inside = (all_years >= CENTRED_YEARS[0]) & (all_years <= CENTRED_YEARS[1])
        t = all_years[inside] - all_years[inside].mean()
        v = values[inside]
        values[inside] = v - v.mean() - t * (t @ v) / (t @ t)
        years = np.asarray(years, dtype=int)
        if np.any((years < ANOMALY_YEARS[0]) | (years > ANOMALY_YEARS[1])):
            raise ValueError(f"the synthetic temperature anomaly covers {ANOMALY_YEARS[0]}-{ANOMALY_YEARS[1]} only")
        return values[years - ANOMALY_YEARS[0]]

    def rh_anomaly_factor(self, years) -> np.ndarray:
        """Multiplier of Rh in each year: 1 + b·ΔT, b = sensitivity / global Rh (per °C)."""
        return 1.0 + RH_SENSITIVITY_PG_PER_DEGC / RH_TOTAL_PG * self.temperature_anomaly(years)

    def seasonal_amplitude(self, lat: np.ndarray) -> np.ndarray:
        """Relative amplitude of the Rh seasonal cycle (0 at the equator, large at high latitudes)."""
        return 0.15 + 0.6 * (np.abs(lat) / 90.0) ** 0.7

    @staticmethod
    def peak_month(lat: np.ndarray) -> np.ndarray:
        """Month (1–12, fractional) of the Rh maximum: July north, January south."""
        return np.where(lat >= 0, 7.5, 1.5)

    def seasonal_factor(self, lat: np.ndarray, months: np.ndarray, shift_months: float = 0.0) -> np.ndarray:
        """Multiplier of the annual mean per (month, lat); averages to one over a year."""
        amplitude = self.seasonal_amplitude(lat)[None, :]
        peak = self.peak_month(lat)[None, :] + shift_months
        phase = 2.0 * np.pi * (np.asarray(months, dtype=float)[:, None] + 0.5 - peak) / 12.0
        return 1.0 + amplitude * np.cos(phase)
