"""The simulated city, the one world every part shares (the producer simulates it, the trainer reads its
boroughs): ~260 taxi zones in boroughs, each with its demand, speed and trip lengths.

Fixed for every run (its own seed), so a zone means the same place in every stream.

The city is stationary: demand and speeds do not follow the clock. A drill's live traffic runs
at a few tens of trips a second (what a monitor window of seconds needs), and the history the
models and the monitor's reference come from is produced at that same density; with daily
cycles that history would have to cover every hour (a day at live density is 1.7M trips) and
each window would need a reference of its own hour. Stationary, an hour of history is
statistically the same as any later live hour, so every deviation a drill shows is a fault —
rush hour, when a scenario wants it, is a fault too (congestion).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .contracts import ZONE_IDS

AIRPORTS = {1: "EWR", 132: "JFK", 138: "LGA"}
# Zones per borough, as in the TLC zone table (EWR is zone 1).
BOROUGH_SIZES = {"Manhattan": 69, "Brooklyn": 61, "Queens": 69, "Bronx": 43, "Staten Island": 20}
BOROUGHS = ("EWR", *BOROUGH_SIZES)

# Free-flow speed (mph) and relative demand by borough.
BASE_SPEED = {"Manhattan": 11.0, "Brooklyn": 15.0, "Queens": 18.0, "Bronx": 16.0, "Staten Island": 22.0, "EWR": 25.0}
BASE_DEMAND = {"Manhattan": 6.0, "Brooklyn": 1.5, "Queens": 1.2, "Bronx": 0.7, "Staten Island": 0.2, "EWR": 1.0}
# Median trip distance (miles) and log-spread by pickup borough; airports are long trips.
DISTANCE = {"Manhattan": (1.7, 0.6), "Brooklyn": (2.8, 0.7), "Queens": (3.2, 0.75), "Bronx": (2.6, 0.7),
            "Staten Island": (3.5, 0.7), "EWR": (16.0, 0.3), "airport": (12.0, 0.35)}

PASSENGERS = np.array([1, 2, 3, 4, 5, 6])
PASSENGER_P = np.array([0.71, 0.15, 0.045, 0.025, 0.04, 0.03])


@dataclass(frozen=True)
class City:
    zone_ids: np.ndarray          # (n,) zone id
    borough: np.ndarray           # (n,) borough name
    base_speed: np.ndarray        # (n,) free-flow mph
    demand: np.ndarray            # (n,) probability of being the pickup zone
    dist_median: np.ndarray       # (n,) miles
    dist_sigma: np.ndarray        # (n,)

    def index_of(self, zone_ids: np.ndarray) -> np.ndarray:
        return np.asarray(zone_ids) - 1

    def zones_in(self, boroughs: list[str]) -> np.ndarray:
        return self.zone_ids[np.isin(self.borough, boroughs)]


def build_city(seed: int = 2009) -> City:
    """The zone table: deterministic, independent of the stream's seed."""
    rng = np.random.default_rng(seed)
    zone_ids = np.array(ZONE_IDS)
    others = zone_ids[1:]  # zone 1 is EWR
    labels = np.concatenate([np.full(size, name, dtype=object) for name, size in BOROUGH_SIZES.items()])
    rng.shuffle(labels)
    borough = np.empty(len(zone_ids), dtype=object)
    borough[0] = "EWR"
    borough[others - 1] = labels
    for zone, name in AIRPORTS.items():
        if name != "EWR":
            borough[zone - 1] = "Queens"
    speed = np.array([BASE_SPEED[b] for b in borough]) * rng.uniform(0.85, 1.15, len(zone_ids))
    demand = np.array([BASE_DEMAND[b] for b in borough]) * rng.lognormal(0, 0.5, len(zone_ids))
    dist = [DISTANCE["airport"] if z in AIRPORTS and AIRPORTS[z] != "EWR" else DISTANCE[b]
            for z, b in zip(zone_ids, borough)]
    for zone in AIRPORTS:
        demand[zone - 1] = max(demand[zone - 1], 4.0)
        speed[zone - 1] = 20.0 if zone != 1 else 25.0
    return City(
        zone_ids=zone_ids,
        borough=borough,
        base_speed=speed,
        demand=demand / demand.sum(),
        dist_median=np.array([d[0] for d in dist]),
        dist_sigma=np.array([d[1] for d in dist]),
    )


CITY = build_city()
