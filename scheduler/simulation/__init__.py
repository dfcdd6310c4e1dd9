"""A discrete-event simulation of months of daily referrals in one municipality.

Each working day the day's genoptræningsplaner arrive (:mod:`.arrivals`), a booking strategy
books their first sessions (:mod:`.strategies`) in the municipality's calendars
(:mod:`.world`), bookings stay tentative until their letter date and are then communicated,
courses fill the calendars and therapists fall ill; :mod:`.engine` runs the day loop and checks
every day's plan with the independent checker, :mod:`.metrics` and :mod:`.report` say what each
strategy achieved. See ``docs/simulation.md``.
"""

from __future__ import annotations

from scheduler.simulation.engine import SimulationResult, simulate
from scheduler.simulation.profile import SIMULATION_PROFILES, SimulationProfile, simulation_profile
from scheduler.simulation.strategies import STRATEGIES

__all__ = [
    "SIMULATION_PROFILES",
    "STRATEGIES",
    "SimulationProfile",
    "SimulationResult",
    "simulate",
    "simulation_profile",
]
