"""An instance prepared for optimisation: legal dates, free gaps, candidates and room data."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from scheduler.domain import Booking, BookingStatus, Course, Hold, Instance, Reason, Referral
from scheduler.planning.budget import Budget
from scheduler.planning.candidate_lists import CandidateList, CandidateLists
from scheduler.planning.candidates import (
    Candidate,
    latest_gap_days,
    qualification,
    time_order,
    why_unbookable,
)
from scheduler.planning.free_time import Gap, RoomLoad, critical_gaps, free_gaps
from scheduler.rules.calendar import WorkingCalendar, as_minutes
from scheduler.rules.commitments import horizon_days, horizon_window
from scheduler.rules.courses import course_for, course_pending, full_weeks, weekly_free_minutes
from scheduler.rules.eligibility import qualifies
from scheduler.rules.legal import LegalDates, legal_dates

__all__ = ["NOT_PLANNED", "Problem", "prepare"]

NOT_PLANNED = (
    Reason.NO_CAPACITY_IN_HORIZON,
    "not searched: the solve was stopped (time budget spent or cancelled) before this referral "
    "was prepared",
)
"""Why a referral the budget left unprepared has no candidates."""


@dataclass
class Problem:
    """An instance prepared for optimisation: legal dates, free gaps, candidates, room data."""

    instance: Instance
    cal: WorkingCalendar
    days: list[date]
    dates: list[LegalDates]
    """Per referral (index into `instance.referrals`)."""
    fixed: dict[int, Booking]
    """Referrals whose first session is a communicated booking, by referral index."""
    gaps: list[Gap]
    candidates: list[Sequence[Candidate]]
    """Per referral, its candidates in time order, on-time ones first (empty for fixed ones):
    a :class:`~scheduler.planning.candidate_lists.CandidateList` (gap indices, candidates made
    on access)."""
    unbookable: dict[int, tuple[Reason, str]]
    """Referrals the scheduler takes with no candidate at all, and why."""
    rejected: dict[int, tuple[Reason, str]]
    """Referrals not for this scheduler (:func:`scheduler.rules.legal.exclusion`), and where
    they belong; they get no candidates and never block the others."""
    critical: set[int]
    """The gaps whose sessions could meet a full site (:func:`critical_gaps` over all gaps)."""
    room_load: RoomLoad
    """Per (site, day): the (start, end) minutes of staying bookings that occupy a room."""
    qualified_gaps: dict[GapClass, QualifiedGaps]
    """Per gap class met so far: its therapists and their gaps in time order."""

    courses: list[Course | None] = field(default_factory=list)
    """Per referral: the course after its first session (None: no course planned)."""
    holds: list[tuple[int, Hold]] = field(default_factory=list)
    """Every hold of every site, with its site index."""
    weeks: list[date] = field(default_factory=list)
    """Mondays of the full weeks of the horizon: the weeks courses are planned in."""
    cut: list[bool] = field(default_factory=list)
    """Per referral: whether its late candidates may have been cut to the first late days."""
    tentative: dict[int, Booking] = field(default_factory=dict)
    """Referrals planned anew whose tentative first session was on time and still fits: the
    candidate that keeps it (``pinned_start``) comes first in their candidates."""
    pending: dict[int, tuple[int | None, date]] = field(default_factory=dict)
    """Fixed referrals whose course still needs a place (a course, first session still to
    come: :func:`scheduler.rules.courses.course_pending`): their first session's therapist
    (index; None if not a therapist of the instance) and day. Their courses take their places
    before new referrals' (:mod:`scheduler.planning.courses`)."""
    course_options: dict[tuple[int, int, date], list[Any]] = field(default_factory=dict)
    """Memo of :func:`scheduler.planning.courses.options_for` by (referral, therapist, day)."""
    gap_labels: dict[tuple[int, bool], str] = field(default_factory=dict, repr=False, compare=False)
    """Memo of the model's variable names' therapist, day and place, by (gap, at home)."""

    _week_free: dict[tuple[int, date], int] | None = field(default=None, repr=False, compare=False)

    @property
    def week_free(self) -> dict[tuple[int, date], int]:
        """Per (therapist, full week): free minutes after the bookings that stay. Computed on
        first use (courses and answers need it; stage 1 does not, so it is not in the way of
        the first proof)."""
        if self._week_free is None:
            t_index = {t.id: i for i, t in enumerate(self.instance.therapists)}
            self._week_free = {
                (t_index[tid], monday): minutes
                for (tid, monday), minutes in weekly_free_minutes(self.instance).items()
            }
        return self._week_free

    def gaps_for(self, referral: int) -> QualifiedGaps:
        """The therapists that may take the referral and their gaps, in time order."""
        ref = self.instance.referrals[referral]
        known = self.qualified_gaps.get((*qualification(ref), ref.first_session_minutes))
        if known is not None:
            return known
        in_order = sorted(self.gaps, key=time_order)
        return _qualified_gaps(self.instance, ref, in_order, self.qualified_gaps)

    def unassigned_penalty_days(self, referral: int) -> int:
        """Lateness charged for a referral left unbooked: worse than any booking in horizon."""
        horizon_end = horizon_window(self.instance)[1]
        return max(1, (horizon_end - self.dates[referral].deadline).days + 1)


QualifiedGaps = tuple[frozenset[int], list[Gap]]
"""The therapists (indices) that may take referrals of one qualification, and their gaps long
enough for the session, in time order."""

GapClass = tuple[str, str, str | None, bool, int]
"""A :data:`~scheduler.planning.candidates.Qualification` and the session's minutes: referrals
that share it share their gaps."""


def _qualified_gaps(
    instance: Instance,
    referral: Referral,
    in_time_order: list[Gap],
    by_class: dict[GapClass, QualifiedGaps],
) -> QualifiedGaps:
    """The referral's therapists and their gaps long enough for the session, in time order,
    computed once per :data:`GapClass`: no per-referral sorting or scanning of every gap."""
    key = (*qualification(referral), referral.first_session_minutes)
    if key not in by_class:
        qualified = frozenset(
            t for t, therapist in enumerate(instance.therapists) if qualifies(therapist, referral)
        )
        shortest = referral.first_session_minutes
        by_class[key] = (
            qualified,
            [g for g in in_time_order if g.therapist in qualified and g.end - g.start >= shortest],
        )
    return by_class[key]


def prepare(instance: Instance, late_days: int | None = 5, budget: Budget | None = None) -> Problem:
    """Compute legal dates, free gaps, candidates and room data for an instance.

    With a `budget`, referrals reached after it is spent get no candidates (they stay
    unbooked, :data:`NOT_PLANNED`), so a stop ends preparation within one referral's work.
    Once the budget is abandoned (nobody will read the plan) it raises
    :class:`~scheduler.planning.budget.BudgetExpired` instead, skipping the rest.
    """
    cal = WorkingCalendar(instance.policy)
    days = horizon_days(instance, cal)
    site_index = {s.id: i for i, s in enumerate(instance.sites)}
    ref_index = {r.id: i for i, r in enumerate(instance.referrals)}
    fixed = {
        ref_index[b.referral_id]: b
        for b in instance.bookings
        if b.referral_id in ref_index and b.status is BookingStatus.COMMUNICATED
    }
    dates = [legal_dates(r, instance.policy, cal) for r in instance.referrals]
    gaps, room_load = free_gaps(instance, days, site_index, budget)
    # With the budget spent nothing more is booked, so which gaps are room-critical is moot.
    spent = budget is not None and budget.expired()
    critical = set() if spent else critical_gaps(instance, gaps, room_load)
    in_time_order = sorted(gaps, key=time_order)
    by_class: dict[GapClass, QualifiedGaps] = {}
    candidates: list[Sequence[Candidate]] = []
    lists = CandidateLists(instance, gaps)
    unbookable: dict[int, tuple[Reason, str]] = {}
    rejected: dict[int, tuple[Reason, str]] = {}
    t_index = {t.id: i for i, t in enumerate(instance.therapists)}
    tentative: dict[int, Booking] = {}
    tentative_by_ref = {
        b.referral_id: b
        for b in instance.bookings
        if b.status is BookingStatus.TENTATIVE and b.referral_id is not None
    }
    latest: dict[tuple[int, int], date] | None = None
    for i, ref in enumerate(instance.referrals):
        if i in fixed:
            candidates.append([])
            continue
        if (where := dates[i].rejected) is not None:
            candidates.append([])
            rejected[i] = where
            continue
        if budget is not None and budget.expired():
            budget.check_abandoned()
            candidates.append([])
            unbookable[i] = NOT_PLANNED
            continue
        _, in_order = _qualified_gaps(instance, ref, in_time_order, by_class)
        cands = lists.make(i, dates[i], in_order, late_days)
        if (held := tentative_by_ref.get(ref.id)) is not None:
            cands = _keep_tentative(cands, held, gaps, t_index)
            if cands and cands[0].pinned_start is not None:
                tentative[i] = held
        candidates.append(cands)
        if not cands:
            if latest is None:
                latest = latest_gap_days(gaps)
            unbookable[i] = why_unbookable(instance, i, dates[i], days, gaps, latest)
    if budget is not None:
        budget.check_abandoned()  # the weekly free minutes below are for the answer alone
    courses = [course_for(r, instance.policy) for r in instance.referrals]
    pending = {
        r: (t_index.get(b.therapist_id), b.start.date())
        for r, b in fixed.items()
        if courses[r] is not None and course_pending(b.start.date(), instance.planning_date)
    }
    return Problem(
        instance=instance,
        cal=cal,
        days=days,
        dates=dates,
        fixed=fixed,
        gaps=gaps,
        candidates=candidates,
        unbookable=unbookable,
        rejected=rejected,
        critical=critical,
        room_load=room_load,
        qualified_gaps=by_class,
        courses=courses,
        pending=pending,
        holds=[(s_idx, h) for s_idx, site in enumerate(instance.sites) for h in site.holds],
        weeks=full_weeks(instance),
        tentative=tentative,
        cut=[
            late_days is not None
            and isinstance(cands, CandidateList)
            and cands.late_days >= late_days
            for cands in candidates
        ],
    )


def _keep_tentative(
    cands: CandidateList, booking: Booking, gaps: list[Gap], t_index: dict[str, int]
) -> CandidateList:
    """The candidates with, first, one that keeps an on-time tentative first session exactly
    where it is (same therapist, day, place and minute), the others marked as moving it.
    Unchanged when the tentative time is late or no longer fits (it may then move freely)."""
    day = booking.start.date()
    start = as_minutes(booking.start.time())
    end = as_minutes(booking.end.time())
    for k in range(cands.on_time):
        cand = cands[k]
        gap = gaps[cand.gap]
        lo, hi = start - cand.travel, end + cand.travel
        if (
            cand.on_time
            and cand.day == day
            and cand.at_home == booking.at_home
            and gap.therapist == t_index.get(booking.therapist_id)
            and hi - lo == cand.length
            and gap.start <= lo
            and hi <= gap.end
        ):
            return cands.keeping(k, lo)
    return cands
