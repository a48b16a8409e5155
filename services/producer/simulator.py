"""Seeded trip generation: who asks for a trip where, how far, and how long it really takes.

Determinism: every trip consumes one row of random draws from fixed-size blocks of the
seeded generator, so the trips of a seed are the same however they are chunked in time
(live pacing, fast-forward hours, tests). Knobs read the same draws, never extra ones.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass

import numpy as np

from ..city import CITY, PASSENGER_P, PASSENGERS, City
from ..contracts.knobs import ProducerFaults

# Draw columns, one row per trip.
_PICKUP, _SAME_BOROUGH, _DROPOFF, _DISTANCE, _PASSENGERS, _NOISE, _SHIFT, _SHIFT2 = range(8)
_N_DRAWS = 8
_BLOCK = 4096
# Time at pickup and dropoff (boarding, payment), seconds, added to driving time.
STOP_OVERHEAD_S = 90.0
MAX_DURATION_S = 6 * 3600 - 1
MAX_DISTANCE = 60.0


@dataclass
class TripBatch:
    """Trips as columns (numpy arrays); times in epoch seconds (UTC)."""

    trip_id: list[str]
    request_time: np.ndarray
    pickup_zone: np.ndarray
    dropoff_zone: np.ndarray
    trip_distance: np.ndarray
    passenger_count: np.ndarray
    duration_s: np.ndarray
    # Trips of the past sent now (a history, a warm start): see contracts.BACKFILL_HEADER.
    backfill: bool = False

    def __len__(self) -> int:
        return len(self.trip_id)


class TripSimulator:
    def __init__(self, seed: int, city: City = CITY, id_prefix: str | None = None) -> None:
        self.seed = seed
        self.city = city
        self._rng = np.random.default_rng(seed)
        self._block = np.empty((0, _N_DRAWS))
        self._pos = 0
        self._count = 0
        # Trip ids are unique per producer run (a rerun with the same seed is new trips).
        self.id_prefix = id_prefix if id_prefix is not None else uuid.uuid4().hex[:10]
        self._zone_cdf = np.cumsum(city.demand)
        self._borough_zones = {b: np.flatnonzero(city.borough == b) for b in set(city.borough)}
        self._borough_cdf = {b: np.cumsum(city.demand[idx]) / city.demand[idx].sum()
                             for b, idx in self._borough_zones.items()}

    def _draws(self, n: int) -> np.ndarray:
        parts, need = [], n
        while need:
            if self._pos == len(self._block):
                self._block, self._pos = self._rng.random((_BLOCK, _N_DRAWS)), 0
            take = min(need, len(self._block) - self._pos)
            parts.append(self._block[self._pos:self._pos + take])
            self._pos += take
            need -= take
        return np.concatenate(parts) if parts else np.empty((0, _N_DRAWS))

    def trips(self, request_times: np.ndarray, faults: ProducerFaults | None = None,
              backfill: bool = False) -> TripBatch:
        """One trip per request time (epoch seconds), with the trip-level knobs applied."""
        faults = faults or ProducerFaults()
        times = np.asarray(request_times, dtype=float)
        n = len(times)
        u = self._draws(n)
        city = self.city
        pickup_idx = np.minimum(np.searchsorted(self._zone_cdf, u[:, _PICKUP] * self._zone_cdf[-1]), len(city.zone_ids) - 1)
        dropoff_idx = self._dropoffs(pickup_idx, u)

        # Distance: log-normal around the pickup zone's median (an inverse-CDF of the draw).
        z = _normal_ppf(u[:, _DISTANCE])
        distance = city.dist_median[pickup_idx] * np.exp(city.dist_sigma[pickup_idx] * z)
        passengers = PASSENGERS[np.minimum(np.searchsorted(np.cumsum(PASSENGER_P), u[:, _PASSENGERS]), len(PASSENGERS) - 1)].astype(float)
        for i, shift in enumerate(faults.shifts):
            hit = (u[:, _SHIFT] if i % 2 == 0 else u[:, _SHIFT2]) < shift.share
            if shift.column == "trip_distance":
                distance = np.where(hit, distance * shift.multiply + shift.add, distance)
            else:
                passengers = np.where(hit, np.rint(passengers * shift.multiply + shift.add), passengers)
        distance = np.round(np.clip(distance, 0.1, MAX_DISTANCE), 2)
        passengers = np.clip(passengers, 1, 9).astype(int)

        speed = self.speed_mph(pickup_idx, dropoff_idx, faults)
        noise = np.exp(0.18 * _normal_ppf(u[:, _NOISE]))
        duration = np.clip(STOP_OVERHEAD_S + distance / speed * 3600.0 * noise, 60.0, MAX_DURATION_S)

        ids = [f"{self.id_prefix}-{self._count + i:09d}" for i in range(n)]
        self._count += n
        return TripBatch(ids, times, city.zone_ids[pickup_idx], city.zone_ids[dropoff_idx],
                         distance, passengers, np.round(duration, 1), backfill)

    def _dropoffs(self, pickup_idx: np.ndarray, u: np.ndarray) -> np.ndarray:
        # 75% of trips stay in the pickup borough; the rest go anywhere, by demand.
        anywhere = np.minimum(np.searchsorted(self._zone_cdf, u[:, _DROPOFF] * self._zone_cdf[-1]), len(self.city.zone_ids) - 1)
        result = anywhere.copy()
        stay = u[:, _SAME_BOROUGH] < 0.75
        for borough, zones in self._borough_zones.items():
            mask = stay & (self.city.borough[pickup_idx] == borough)
            if mask.any():
                pick = np.minimum(np.searchsorted(self._borough_cdf[borough], u[mask, _DROPOFF]), len(zones) - 1)
                result[mask] = zones[pick]
        return result

    def speed_mph(self, pickup_idx: np.ndarray, dropoff_idx: np.ndarray, faults: ProducerFaults) -> np.ndarray:
        """True average speed of a trip: the two zones' free-flow speeds (slowed by the congestion knob)."""
        city = self.city
        speed = 0.5 * (city.base_speed[pickup_idx] + city.base_speed[dropoff_idx])
        if faults.congestion is not None:
            speed = speed * np.where(self.congested(pickup_idx, faults), faults.congestion.speed_multiplier, 1.0)
        return speed

    def congested(self, pickup_idx: np.ndarray, faults: ProducerFaults) -> np.ndarray:
        c = faults.congestion
        if c is None:
            return np.zeros(len(pickup_idx), dtype=bool)
        if c.boroughs is None and c.zones is None:
            return np.ones(len(pickup_idx), dtype=bool)
        hit = np.zeros(len(pickup_idx), dtype=bool)
        if c.boroughs:
            hit |= np.isin(self.city.borough[pickup_idx], c.boroughs)
        if c.zones:
            hit |= np.isin(self.city.zone_ids[pickup_idx], c.zones)
        return hit


def _normal_ppf(u: np.ndarray) -> np.ndarray:
    """Standard normal quantile (Acklam's rational approximation; |error| < 1.2e-9), elementwise."""
    return _acklam(np.clip(u, 1e-12, 1 - 1e-12))


def _acklam(p: np.ndarray) -> np.ndarray:
    a = [-3.969683028665376e+01, 2.209460984245205e+02, -2.759285104469687e+02, 1.383577518672690e+02, -3.066479806614716e+01, 2.506628277459239e+00]
    b = [-5.447609879822406e+01, 1.615858368580409e+02, -1.556989798598866e+02, 6.680131188771972e+01, -1.328068155288572e+01]
    c = [-7.784894002430293e-03, -3.223964580411365e-01, -2.400758277161838e+00, -2.549671010322205e+00, 4.374664141464968e+00, 2.938163982698783e+00]
    d = [7.784695709041462e-03, 3.224671290700398e-01, 2.445134137142996e+00, 3.754408661907416e+00]
    out = np.empty_like(p)
    lo, hi = p < 0.02425, p > 1 - 0.02425
    mid = ~(lo | hi)
    q = np.sqrt(-2 * np.log(p[lo]))
    out[lo] = (((((c[0]*q+c[1])*q+c[2])*q+c[3])*q+c[4])*q+c[5]) / ((((d[0]*q+d[1])*q+d[2])*q+d[3])*q+1)
    q = np.sqrt(-2 * np.log(1 - p[hi]))
    out[hi] = -(((((c[0]*q+c[1])*q+c[2])*q+c[3])*q+c[4])*q+c[5]) / ((((d[0]*q+d[1])*q+d[2])*q+d[3])*q+1)
    q = p[mid] - 0.5
    r = q * q
    out[mid] = (((((a[0]*r+a[1])*r+a[2])*r+a[3])*r+a[4])*r+a[5])*q / (((((b[0]*r+b[1])*r+b[2])*r+b[3])*r+b[4])*r+1)
    return out
