"""What a strategy achieved over the measured weeks, in total and per week of receipt.

Measured are the referrals received in the measured weeks (the burn-in's are not). A referral's
first session is where it ended up: communicated, or at the end the tentative booking it still
has; cancelled by sickness and booked again, it counts where it was booked again. Per strategy:

- first sessions on time (count and share of the measured referrals);
- frit valg letters: late first sessions with a right to frit valg, plus referrals still without
  a first session at the end whose deadline has passed and who have the right;
- waits in calendar days from the anchor (discharge or receipt, per policy) to the first
  session: mean, median, 90th percentile;
- courses started without a wait: of the courses booked, those whose first course session is
  within 7 days after the first session;
- tentative bookings moved (of them released: a re-plan gave the slot to someone more urgent
  and found no other in the horizon); first sessions cancelled by sickness;
- utilisation: booked minutes (first sessions and courses) / rostered minutes on the measured
  working days (absences excluded); avanceret therapists on basal work: basal first sessions
  booked with a therapist approved for an avanceret specialty.
"""

from __future__ import annotations

import statistics
from collections.abc import Iterable
from dataclasses import asdict, dataclass
from datetime import date

from scheduler.domain import Level
from scheduler.simulation.engine import Case, SimulationResult, StrategyRun

__all__ = ["Summary", "summarise", "weekly"]


@dataclass(frozen=True)
class Summary:
    """One strategy's numbers over a set of referrals."""

    strategy: str
    week: int | None
    """Week of receipt (1 = the first measured week); None: the whole period."""
    referrals: int
    on_time: int
    on_time_share: float
    frit_valg_letters: int
    late_no_right: int
    not_booked: int
    wait_mean: float | None
    wait_median: float | None
    wait_p90: float | None
    courses: int
    courses_without_wait: int
    moved: int
    released: int
    cancelled_by_sickness: int
    utilisation: float | None
    specialists_on_basal: int
    overdue_at_arrival: int
    """Referrals whose deadline had passed before they could first be booked (a late plan)."""
    violations: int

    def as_dict(self) -> dict[str, object]:
        return asdict(self)


def _p90(values: list[int]) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    k = 0.9 * (len(ordered) - 1)
    lo = int(k)
    hi = min(lo + 1, len(ordered) - 1)
    return ordered[lo] + (ordered[hi] - ordered[lo]) * (k - lo)


def _summary(
    run: StrategyRun, cases: Iterable[Case], week: int | None, end_of_period: date
) -> Summary:
    chosen = list(cases)
    waits: list[int] = []
    on_time = letters = no_right = unbooked = courses = no_wait = specialist = overdue = 0
    for c in chosen:
        ld = c.dates
        if ld.deadline < ld.earliest_start:
            overdue += 1
        if c.slot is None:
            unbooked += 1
            if ld.free_choice_right and ld.deadline < end_of_period:
                letters += 1
            continue
        day = c.slot.start.date()
        waits.append((day - ld.anchor).days)
        if day <= ld.deadline:
            on_time += 1
        elif ld.free_choice_right:
            letters += 1
        else:
            no_right += 1
        if c.referral.level is Level.BASAL and c.slot.therapist_id in run.specialists:
            specialist += 1
        if c.arrival.course_weeks and c.communicated:
            courses += 1
            if c.course_opening is not None and (c.course_opening - day).days <= 7:
                no_wait += 1
    n = len(chosen)
    rostered = sum(run.rostered_minutes.values())
    return Summary(
        strategy=run.name,
        week=week,
        referrals=n,
        on_time=on_time,
        on_time_share=round(on_time / n, 4) if n else 0.0,
        frit_valg_letters=letters,
        late_no_right=no_right,
        not_booked=unbooked,
        wait_mean=round(statistics.fmean(waits), 2) if waits else None,
        wait_median=float(statistics.median(waits)) if waits else None,
        wait_p90=_p90(waits),
        courses=courses,
        courses_without_wait=no_wait,
        moved=sum(c.moves for c in chosen),
        released=sum(c.released for c in chosen),
        cancelled_by_sickness=sum(c.cancelled for c in chosen),
        utilisation=(
            round(sum(run.booked_minutes.values()) / rostered, 4)
            if week is None and rostered
            else None
        ),
        specialists_on_basal=specialist,
        overdue_at_arrival=overdue,
        violations=sum(len(d.violations) for d in run.days) if week is None else 0,
    )


def summarise(result: SimulationResult) -> list[Summary]:
    """Per strategy, the whole measured period."""
    return [_summary(run, run.cases.values(), None, result.end) for run in result.runs.values()]


def weekly(result: SimulationResult) -> list[Summary]:
    """Per strategy and week of receipt."""
    out: list[Summary] = []
    for run in result.runs.values():
        for w in range(result.weeks):
            cases = [
                c
                for c in run.cases.values()
                if (c.referral.received_date - result.measure_start).days // 7 == w
            ]
            out.append(_summary(run, cases, w + 1, result.end))
    return out
