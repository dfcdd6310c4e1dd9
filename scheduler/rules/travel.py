"""Travel time between two places, for home visits and citizens' trips to a site.

Formula (documented in the README): great-circle (haversine) distance × a road detour factor of
1.3, driven at 40 km/h average (town and country roads, parking included), rounded up to whole
5 minutes, at least 5 minutes for any home visit. A home visit's booking blocks the therapist
for the travel from their site to the citizen and back.
"""

from __future__ import annotations

import math

from scheduler.domain import Coordinates

__all__ = ["DETOUR_FACTOR", "SPEED_KMH", "distance_km", "road_km", "travel_minutes"]

DETOUR_FACTOR = 1.3
SPEED_KMH = 40.0
_EARTH_RADIUS_KM = 6371.0


def distance_km(a: Coordinates, b: Coordinates) -> float:
    """Great-circle distance in kilometres."""
    lat1, lon1, lat2, lon2 = map(math.radians, (a.lat, a.lon, b.lat, b.lon))
    h = (
        math.sin((lat2 - lat1) / 2) ** 2
        + math.cos(lat1) * math.cos(lat2) * math.sin((lon2 - lon1) / 2) ** 2
    )
    return 2 * _EARTH_RADIUS_KM * math.asin(math.sqrt(h))


def road_km(a: Coordinates, b: Coordinates) -> float:
    """Estimated road distance: great-circle distance times the detour factor."""
    return distance_km(a, b) * DETOUR_FACTOR


def travel_minutes(a: Coordinates, b: Coordinates) -> int:
    """One-way driving minutes, rounded up to 5, at least 5."""
    minutes = road_km(a, b) / SPEED_KMH * 60.0
    return max(5, 5 * math.ceil(minutes / 5 - 1e-9))
