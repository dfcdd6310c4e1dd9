"""The day loop: arrivals, sickness, the strategy's bookings, the check, letters, courses.

:func:`simulate` draws the referral stream and the sick spells once from the seed, runs a
burn-in of ``burn_in_weeks`` from empty calendars with the ``manual`` strategy (today's
practice) so that the measured weeks start with calendars filled by courses and first sessions
as a running unit has them, and no referral starts overdue because of how the data was made;
then, from that same state, each strategy runs the measured weeks. Each working day:

1. sick spells starting today become absences; the therapist's sessions in them are
   cancelled (first sessions go back to be booked again);
2. the day's plans arrive;
3. the strategy books (:mod:`scheduler.simulation.strategies`) on today's instance: the
   world's bookings, tentative first sessions included, and every referral not yet
   communicated;
4. the world's plan for those referrals is checked by the independent checker
   (:func:`scheduler.verify.checker.check_solution`); violations are recorded (zero expected);
5. letters: a tentative booking whose letter must go out today
   (:func:`scheduler.rules.legal.letter_send_by`: the letter date, or the working day before the
   session if that comes first) is communicated (frozen); a communicated first session starts
   its course (:meth:`scheduler.simulation.world.World.start_individual_course`).

Deterministic by seed: the same seed gives the same stream, sickness and, for the greedy
strategies, the same bookings. CP-SAT under a wall-clock limit (``daily``, ``weekly``) is
deterministic whenever each day's solve finishes within its limit (one worker, fixed seed).
"""

from __future__ import annotations

import copy
import random
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from scheduler.domain import (
    Assignment,
    BookingStatus,
    Instance,
    Outcome,
    Reason,
    Referral,
    Solution,
    SolveOptions,
    SolverStats,
)
from scheduler.rules.calendar import WorkingCalendar
from scheduler.rules.legal import (
    LegalDates,
    answer_by,
    legal_dates,
    letter_send_by,
    offer_sent,
    outcome,
)
from scheduler.simulation.arrivals import Arrival, referral_stream
from scheduler.simulation.profile import SimulationProfile
from scheduler.simulation.strategies import Day, Slot, Strategy, manual, strategy
from scheduler.simulation.world import World, staff_and_sites
from scheduler.verify.checker import check_solution
from scheduler.verify.kpis import compute_kpis

__all__ = [
    "DEFAULT_START",
    "Case",
    "DayRecord",
    "SimulationResult",
    "StrategyRun",
    "simulate",
]

DEFAULT_START = date(2026, 1, 5)
"""A Monday: the burn-in starts here, the measured weeks after it."""

ProgressFn = Callable[[str, int, int], None]
"""``progress(strategy, days_done, days_total)``."""


@dataclass
class Case:
    """One referral's life in the simulation."""

    arrival: Arrival
    dates: LegalDates
    slot: Slot | None = None
    communicated: bool = False
    moves: int = 0
    """Times its tentative booking was moved to another slot or released."""
    released: int = 0
    """Times a re-plan released its tentative booking without a new slot (someone more urgent
    took it, and the horizon had no other room)."""
    cancelled: int = 0
    """Times its booked first session was cancelled by a therapist's sickness."""
    course_opening: date | None = None

    @property
    def referral(self) -> Referral:
        return self.arrival.referral


@dataclass
class DayRecord:
    """What happened on one simulated day."""

    day: date
    pending: int
    booked: int
    violations: list[str]
    seconds: float


@dataclass
class StrategyRun:
    """One strategy over the measured weeks."""

    name: str
    cases: dict[str, Case]
    days: list[DayRecord]
    rostered_minutes: dict[str, int]
    booked_minutes: dict[str, int]
    specialists: frozenset[str]
    course_sessions_lost: int
    wall_s: float


@dataclass
class SimulationResult:
    """Every strategy's run, and what they were run on."""

    profile: str
    seed: int
    weeks: int
    burn_in_weeks: int
    start: date
    measure_start: date
    end: date
    policy_name: str
    runs: dict[str, StrategyRun] = field(default_factory=dict)


class _Sim:
    """The shared, seed-drawn inputs and the day loop."""

    def __init__(self, profile: SimulationProfile, seed: int, start: date, end: date) -> None:
        self.profile = profile
        main = random.Random(seed)
        stream_rng, sick_rng = (random.Random(main.getrandbits(64)) for _ in range(2))
        sites, therapists, pattern = staff_and_sites(profile, seed, start)
        self.world = World(profile, sites, therapists, pattern)
        self.cal: WorkingCalendar = self.world.cal
        self.days = self.cal.working_days(start, end)
        staff_at: dict[str, set[str]] = {}
        for tid, week in pattern.items():
            for shift in week.values():
                staff_at.setdefault(shift.site_id, set()).add(tid)
        self.stream = referral_stream(profile, sites, therapists, staff_at, self.days, stream_rng)
        self.spells: dict[date, list[tuple[str, date]]] = {}
        for d in self.days:
            for t in therapists:
                if sick_rng.random() < profile.sick_rate:
                    length = sick_rng.randint(*profile.sick_days)
                    last = self.cal.add_working_days(d, length - 1) if length > 1 else d
                    self.spells.setdefault(d, []).append((t.id, last))

    def run(
        self,
        world: World,
        cases: dict[str, Case],
        days: Sequence[date],
        book: Strategy,
        options: SolveOptions,
        name: str,
        check: bool,
        progress: ProgressFn | None,
    ) -> list[DayRecord]:
        policy = world.policy
        records: list[DayRecord] = []
        for i, d in enumerate(days):
            began = time.perf_counter()
            for tid, last in self.spells.get(d, []):
                for b in world.fall_ill(tid, d, last):
                    case = cases.get(b.referral_id or "")
                    if case is None:
                        continue
                    case.slot, case.communicated = None, False
                    case.cancelled += 1
                    case.course_opening = None
                    _drop_course(world, b.referral_id or "", d)
            for arrival in self.stream.get(d, []):
                ref = arrival.referral
                cases[ref.id] = Case(arrival, legal_dates(ref, policy, self.cal))
            pending = [c for c in cases.values() if not c.communicated]
            pending.sort(key=lambda c: (c.referral.received_date, c.referral.id))
            refs = [c.referral for c in pending]
            unbooked = [c.referral.id for c in pending if c.slot is None]
            week_start = i == 0 or d.isocalendar()[1] != days[i - 1].isocalendar()[1]
            instance = world.instance(d, refs)
            slots = book(Day(d, instance, unbooked, week_start, options))
            for rid, slot in slots.items():
                case = cases[rid]
                if case.slot == slot:
                    continue
                if case.slot is not None:
                    world.remove(case.slot.booking(rid, BookingStatus.TENTATIVE))
                    case.moves += 1
                    if slot is None:
                        case.released += 1
                if slot is not None:
                    world.add(slot.booking(rid, BookingStatus.TENTATIVE))
                case.slot = slot
            violations: list[str] = []
            if check and pending:
                checked = world.instance(d, refs)
                plan = _world_plan(checked, pending, name, self.cal)
                report = check_solution(checked, plan)
                violations = [v.message for v in report.violations] + report.kpi_mismatches
            for c in pending:
                if c.slot is None:
                    continue
                if letter_send_by(c.dates.letter_by, c.slot.start.date(), self.cal) <= d:
                    rid = c.referral.id
                    world.remove(c.slot.booking(rid, BookingStatus.TENTATIVE))
                    booking = c.slot.booking(rid, BookingStatus.COMMUNICATED)
                    world.add(booking)
                    c.communicated = True
                    if c.arrival.course_weeks:
                        c.course_opening = world.start_individual_course(
                            rid, booking, c.arrival.course_weeks
                        )
            world.close_day(d)
            records.append(
                DayRecord(
                    day=d,
                    pending=len(pending),
                    booked=sum(1 for c in pending if c.slot is not None),
                    violations=violations,
                    seconds=round(time.perf_counter() - began, 3),
                )
            )
            if progress is not None:
                progress(name, i + 1, len(days))
        return records


def _drop_course(world: World, referral_id: str, today: date) -> None:
    """Remove the future sessions of a course whose first session was cancelled."""
    prefix = f"C-{referral_id}-"
    for day, items in world.bookings.items():
        if day < today:
            continue
        for bid in [k for k in items if k.startswith(prefix)]:
            del items[bid]


def _world_plan(
    instance: Instance, pending: Sequence[Case], method: str, cal: WorkingCalendar
) -> Solution:
    """The world's current plan for the pending referrals, as a Solution the checker reads."""
    policy = instance.policy
    first_day = instance.planning_date + timedelta(days=1)
    horizon_end = instance.planning_date + timedelta(days=policy.horizon_days)
    assignments: list[Assignment] = []
    for c in pending:
        ld = c.dates
        common = {
            "referral_id": c.referral.id,
            "earliest_start": ld.earliest_start,
            "deadline": ld.deadline,
            "free_choice_right": ld.free_choice_right,
            "letter_by": ld.letter_by,
            "letter_send_by": letter_send_by(
                ld.letter_by, None if c.slot is None else c.slot.start.date(), cal
            ),
        }
        if c.slot is None:
            reason = (
                Reason.EARLIEST_START_AFTER_HORIZON
                if ld.earliest_start > horizon_end
                else Reason.NO_CAPACITY_IN_HORIZON
            )
            assignments.append(
                Assignment.model_validate(
                    {**common, "outcome": Outcome.NOT_BOOKABLE, "reason": reason}
                )
            )
            continue
        result = outcome(c.slot.start.date(), ld.deadline, ld.free_choice_right)
        late_reason = ld.no_right_reason or (
            Reason.DEADLINE_BEFORE_PLANNING
            if ld.deadline < first_day
            else Reason.NO_CAPACITY_BY_DEADLINE
        )
        assignments.append(
            Assignment.model_validate(
                {
                    **common,
                    "outcome": result,
                    "therapist_id": c.slot.therapist_id,
                    "site_id": c.slot.site_id,
                    "at_home": c.slot.at_home,
                    "start": c.slot.start,
                    "end": c.slot.end,
                    "travel_minutes": c.slot.travel_minutes,
                    "answer_by": (
                        answer_by(
                            policy,
                            offer_sent(instance.planning_date, policy, instance.offers_sent_at),
                        )
                        if result is Outcome.LATE_FREE_CHOICE
                        else None
                    ),
                    "reason": None if result is Outcome.ON_TIME else late_reason,
                }
            )
        )
    return Solution(
        instance_name=instance.name,
        planning_date=instance.planning_date,
        assignments=assignments,
        kpis=compute_kpis(instance, assignments),
        stats=SolverStats(method=method, status="SIMULATED"),
    )


FanOut = Callable[[Callable[..., "StrategyRun"], Sequence[tuple[Any, ...]]], list["StrategyRun"]]
"""Runs ``fn(*args)`` for each args tuple, anywhere, and returns the results in order."""


def _measure(
    sim: _Sim,
    cases: dict[str, Case],
    name: str,
    measured_days: list[date],
    options: SolveOptions,
    check: bool,
    measure_start: date,
    specialists: frozenset[str],
    progress: ProgressFn | None = None,
) -> StrategyRun:
    """One strategy's measured weeks, from copies of the burned-in world and cases."""
    world = copy.deepcopy(sim.world)
    own = copy.deepcopy(cases)
    began = time.perf_counter()
    days = sim.run(world, own, measured_days, strategy(name), options, name, check, progress)
    return StrategyRun(
        name=name,
        cases={rid: c for rid, c in own.items() if c.referral.received_date >= measure_start},
        days=days,
        rostered_minutes=dict(world.rostered_minutes),
        booked_minutes=dict(world.booked_minutes),
        specialists=specialists,
        course_sessions_lost=world.course_sessions_lost,
        wall_s=round(time.perf_counter() - began, 2),
    )


def simulate(
    profile: SimulationProfile,
    weeks: int,
    seed: int,
    strategies: Sequence[str],
    *,
    time_limit_s: float = 3.0,
    workers: int = 1,
    start: date = DEFAULT_START,
    check: bool = True,
    progress: ProgressFn | None = None,
    fan_out: FanOut | None = None,
) -> SimulationResult:
    """Simulate `weeks` measured weeks after the profile's burn-in, for each strategy.

    `time_limit_s` and `workers` are the CP-SAT settings of ``daily`` and ``weekly`` per
    solve; `check` runs the independent checker on every day's plan. After the shared burn-in
    the strategies' runs are independent: `fan_out` (e.g. on Ray, see
    :func:`scheduler.bench.fanout.ray_fan_out`) runs them elsewhere, with the same results; by
    default they run here one after the other.
    """
    if weeks < 1:
        raise ValueError(f"weeks must be at least 1, got {weeks}")
    books = [(name, strategy(name)) for name in strategies]
    measure_start = start + timedelta(weeks=profile.burn_in_weeks)
    end = measure_start + timedelta(weeks=weeks) - timedelta(days=1)
    sim = _Sim(profile, seed, start, end)
    burn_days = [d for d in sim.days if d < measure_start]
    measured_days = [d for d in sim.days if d >= measure_start]
    options = SolveOptions(time_limit_s=time_limit_s, workers=workers, seed=seed)
    cases: dict[str, Case] = {}
    sim.run(sim.world, cases, burn_days, manual, options, "burn-in", check, progress)
    sim.world.rostered_minutes.clear()
    sim.world.booked_minutes.clear()
    sim.world.course_sessions_lost = 0
    result = SimulationResult(
        profile=profile.municipality.name,
        seed=seed,
        weeks=weeks,
        burn_in_weeks=profile.burn_in_weeks,
        start=start,
        measure_start=measure_start,
        end=end,
        policy_name=profile.municipality.policy.name,
    )
    specialists = frozenset(t.id for t in sim.world.therapists if t.specialties)
    jobs = [
        (sim, cases, name, measured_days, options, check, measure_start, specialists)
        for name, _ in books
    ]
    if fan_out is None:
        runs = [_measure(*job, progress=progress) for job in jobs]
    else:
        runs = fan_out(_measure, jobs)
    for run in runs:
        result.runs[run.name] = run
    return result
