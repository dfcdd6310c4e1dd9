"""Free time and candidate first sessions: what the optimiser really decides between.

Existing bookings never move, so before any solving each therapist's free time is known: per
rostered working day, the roster stretch clipped to daytime and the site's opening hours, minus
the bookings that stay. Each maximal free stretch is a :class:`Gap`. A first session needs
`first_session_minutes` (a home visit also the travel there and back) inside one gap.

The decision is therefore "which referral goes into which gap"; exact minutes only matter where
rooms could run out. For one therapist in one contiguous gap, a set of sessions fits exactly
when their lengths add up to at most the gap's length (sequence them back to back), so a
knapsack per gap is exact. Rooms only matter in a gap that overlaps a moment where even every
gap at the site holding a session at once, plus the staying bookings, would exceed the rooms
(:func:`critical_gaps`); elsewhere rooms cannot run out whatever is placed. In critical gaps
the model places sessions to the minute under a cumulative constraint, and :class:`FreeTime`
checks the rooms at the exact minutes.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from scheduler.domain import (
    Assignment,
    Booking,
    BookingStatus,
    Instance,
    Level,
    Outcome,
    Reason,
    Referral,
    Site,
    Therapist,
)
from scheduler.rules.calendar import WorkingCalendar
from scheduler.rules.legal import LegalDates, answer_by, exclusion, legal_dates, outcome
from scheduler.rules.travel import travel_minutes
from scheduler.verify.kpis import horizon_window, staying_bookings

__all__ = [
    "Candidate",
    "FreeTime",
    "Gap",
    "Problem",
    "as_minutes",
    "at_minutes",
    "book_leftovers",
    "candidates_for",
    "critical_gaps",
    "free_gaps",
    "horizon_days",
    "prepare",
    "qualifies",
]


def as_minutes(t: time) -> int:
    """Minutes since midnight."""
    return t.hour * 60 + t.minute


def at_minutes(day: date, minutes: int) -> datetime:
    return datetime.combine(day, time(0)) + timedelta(minutes=minutes)


@dataclass(frozen=True, slots=True)
class Gap:
    """A maximal stretch of a therapist's free rostered time on one day, based at one site."""

    index: int
    therapist: int
    day: date
    site: int
    start: int
    end: int

    @property
    def length(self) -> int:
        return self.end - self.start


@dataclass(frozen=True, slots=True)
class Candidate:
    """A possible first session: referral `referral` in gap `gap`, at the site or at home."""

    referral: int
    gap: int
    day: date
    at_home: bool
    travel: int
    """One-way travel minutes of a home visit (0 at a site)."""
    length: int
    """Minutes of the gap it uses: the session, plus travel both ways for a home visit."""
    on_time: bool
    lateness_days: int
    wait_days: int
    citizen_travel: int
    """Minutes of the citizen's round trip to the site (0 at home or with no location)."""
    specialist_on_basal: bool
    """A therapist approved for avanceret work spent on a basal referral."""


def qualifies(therapist: Therapist, referral: Referral) -> bool:
    """Whether a therapist may do the referral's first session (ignoring place and time)."""
    if therapist.discipline is not referral.discipline:
        return False
    if referral.level is Level.AVANCERET and referral.specialty not in therapist.specialties:
        return False
    return not (referral.home_training and not therapist.home_visits)


def horizon_days(instance: Instance, cal: WorkingCalendar) -> list[date]:
    """The working days a first session can be on: from the day after planning to the horizon."""
    return cal.working_days(*horizon_window(instance))


def _subtract(window: tuple[int, int], busy: Iterable[tuple[int, int]]) -> list[tuple[int, int]]:
    free: list[tuple[int, int]] = []
    cursor, end = window
    for b_start, b_end in sorted(busy):
        if b_end <= cursor:
            continue
        if b_start >= end:
            break
        if b_start > cursor:
            free.append((cursor, b_start))
        cursor = max(cursor, b_end)
    if cursor < end:
        free.append((cursor, end))
    return free


def _site_window(site: Site, day: date) -> tuple[int, int] | None:
    hours = site.hours_on(day)
    if not hours:
        return None
    return min(as_minutes(h.open) for h in hours), max(as_minutes(h.close) for h in hours)


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
    candidates: list[list[Candidate]]
    """Per referral, its candidates (empty for fixed ones)."""
    unbookable: dict[int, tuple[Reason, str]]
    """Referrals with no candidate at all, and why."""
    critical: set[int]
    """The gaps whose sessions could meet a full site (:func:`critical_gaps` over all gaps)."""
    room_load: dict[tuple[int, date], list[tuple[int, int]]]
    """Per (site, day): the (start, end) minutes of staying bookings that occupy a room."""

    def unassigned_penalty_days(self, referral: int) -> int:
        """Lateness charged for a referral left unbooked: worse than any booking in horizon."""
        horizon_end = horizon_window(self.instance)[1]
        return max(1, (horizon_end - self.dates[referral].deadline).days + 1)

    def assignment(self, referral: int, cand: Candidate | None, start: int | None) -> Assignment:
        """The Assignment for a referral given its chosen candidate and start minute."""
        inst = self.instance
        ref = inst.referrals[referral]
        ld = self.dates[referral]
        common = {
            "referral_id": ref.id,
            "earliest_start": ld.earliest_start,
            "deadline": ld.deadline,
            "free_choice_right": ld.free_choice_right,
            "letter_by": ld.letter_by,
        }
        if cand is None or start is None:
            why, detail = self.unbookable.get(
                referral,
                (
                    Reason.NO_CAPACITY_IN_HORIZON,
                    "every qualified free slot in the horizon is taken",
                ),
            )
            return Assignment(outcome=Outcome.NOT_BOOKABLE, reason=why, detail=detail, **common)
        gap = self.gaps[cand.gap]
        session_start = start + cand.travel
        result = outcome(cand.day, ld.deadline, ld.free_choice_right)
        reason: Reason | None = None
        if result is not Outcome.ON_TIME:
            reason = ld.no_right_reason or (
                Reason.DEADLINE_BEFORE_PLANNING
                if ld.deadline < self.days[0]
                else Reason.NO_CAPACITY_BY_DEADLINE
            )
        offer = datetime.combine(inst.planning_date, inst.policy.day_end)
        return Assignment(
            outcome=result,
            therapist_id=inst.therapists[gap.therapist].id,
            site_id=inst.sites[gap.site].id,
            at_home=cand.at_home,
            start=at_minutes(cand.day, session_start),
            end=at_minutes(cand.day, session_start + ref.first_session_minutes),
            travel_minutes=cand.travel,
            answer_by=answer_by(inst.policy, offer) if result is Outcome.LATE_FREE_CHOICE else None,
            reason=reason,
            **common,
        )

    def assignments(self, placed: dict[int, tuple[Candidate, int]]) -> list[Assignment]:
        """Every referral's Assignment, in instance order: fixed ones from their communicated
        booking, the `placed` ones (candidate, start minute of the gap used), the rest not
        bookable with their reason."""
        out: list[Assignment] = []
        for r in range(len(self.instance.referrals)):
            if r in self.fixed:
                out.append(self.fixed_assignment(r))
            elif r in placed:
                out.append(self.assignment(r, *placed[r]))
            else:
                out.append(self.assignment(r, None, None))
        return out

    def fixed_assignment(self, referral: int) -> Assignment:
        booking = self.fixed[referral]
        ld = self.dates[referral]
        result = outcome(booking.start.date(), ld.deadline, ld.free_choice_right)
        offer = datetime.combine(self.instance.planning_date, self.instance.policy.day_end)
        travel = int((booking.end - booking.start).total_seconds() // 60)
        travel -= self.instance.referrals[referral].first_session_minutes
        return Assignment(
            referral_id=self.instance.referrals[referral].id,
            outcome=result,
            therapist_id=booking.therapist_id,
            site_id=booking.site_id,
            at_home=booking.at_home,
            start=booking.start,
            end=booking.end,
            travel_minutes=max(0, travel // 2) if booking.at_home else 0,
            earliest_start=ld.earliest_start,
            deadline=ld.deadline,
            free_choice_right=ld.free_choice_right,
            letter_by=ld.letter_by,
            answer_by=(
                answer_by(self.instance.policy, offer)
                if result is Outcome.LATE_FREE_CHOICE
                else None
            ),
            reason=ld.no_right_reason if result is not Outcome.ON_TIME else None,
            fixed=True,
        )


def free_gaps(
    instance: Instance, cal: WorkingCalendar, days: Sequence[date], site_index: dict[str, int]
) -> tuple[list[Gap], dict[tuple[int, date], list[tuple[int, int]]]]:
    day_set = set(days)
    policy = instance.policy
    daytime = (as_minutes(policy.day_start), as_minutes(policy.day_end))
    busy: dict[tuple[str, date], list[tuple[int, int]]] = defaultdict(list)
    room_load: dict[tuple[int, date], list[tuple[int, int]]] = defaultdict(list)
    for b in staying_bookings(instance):
        day = b.start.date()
        span = (as_minutes(b.start.time()), as_minutes(b.end.time()))
        busy[(b.therapist_id, day)].append(span)
        if b.site_id is not None and b.site_id in site_index and not b.at_home:
            room_load[(site_index[b.site_id], day)].append(span)
    gaps: list[Gap] = []
    for t_idx, therapist in enumerate(instance.therapists):
        for entry in sorted(therapist.roster, key=lambda e: (e.date, e.start)):
            day = entry.date
            if day not in day_set or therapist.is_absent(day) or entry.site_id not in site_index:
                continue
            s_idx = site_index[entry.site_id]
            opening = _site_window(instance.sites[s_idx], day)
            if opening is None:
                continue
            lo = max(as_minutes(entry.start), daytime[0], opening[0])
            hi = min(as_minutes(entry.end), daytime[1], opening[1])
            if hi <= lo:
                continue
            for g_start, g_end in _subtract((lo, hi), busy[(therapist.id, day)]):
                gaps.append(Gap(len(gaps), t_idx, day, s_idx, g_start, g_end))
    return gaps, dict(room_load)


def critical_gaps(
    instance: Instance,
    gaps: Iterable[Gap],
    room_load: dict[tuple[int, date], list[tuple[int, int]]],
) -> set[int]:
    """The gaps (by index) whose sessions could meet a full site.

    At a moment where the rooms used by staying bookings plus every one of `gaps` that could
    hold a session at the site stay within the rooms, nothing placed can over-use them; only
    gaps that overlap a moment where that count exceeds the rooms need exact minutes and a
    room check. `gaps` are those that may hold a session at a site (not home visits only).
    """
    by_site_day: dict[tuple[int, date], list[Gap]] = defaultdict(list)
    for gap in {g.index: g for g in gaps}.values():
        by_site_day[(gap.site, gap.day)].append(gap)
    critical: set[int] = set()
    for key, members in by_site_day.items():
        rooms = instance.sites[key[0]].rooms
        spans = [(g.start, g.end) for g in members] + room_load.get(key, [])
        if len(spans) <= rooms:
            continue
        events = sorted([(s, 1) for s, _ in spans] + [(e, -1) for _, e in spans])
        over: list[tuple[int, int]] = []
        level = 0
        for i, (moment, delta) in enumerate(events):
            level += delta
            if level > rooms and i + 1 < len(events) and events[i + 1][0] > moment:
                over.append((moment, events[i + 1][0]))
        critical.update(
            g.index for g in members if any(lo < g.end and g.start < hi for lo, hi in over)
        )
    return critical


def candidates_for(
    instance: Instance,
    referral: int,
    ld: LegalDates,
    gaps: Iterable[Gap],
    late_days: int | None = None,
) -> list[Candidate]:
    """Every gap a referral's first session fits into, as candidates in time order.

    `late_days` keeps only the candidates on the first that many distinct days after the
    deadline (None: all); on-time candidates are always all kept.
    """
    ref = instance.referrals[referral]
    unavailable = set(ref.unavailable_dates)
    chosen = ref.chosen_site_id
    out: list[Candidate] = []
    late_seen: list[date] = []
    qualified = {i for i, t in enumerate(instance.therapists) if qualifies(t, ref)}
    for g in sorted(gaps, key=lambda g: (g.day, g.start, g.therapist)):
        if g.therapist not in qualified or g.day < ld.earliest_start or g.day in unavailable:
            continue
        site = instance.sites[g.site]
        if ref.home_training:
            assert ref.location is not None
            travel = travel_minutes(site.coordinates, ref.location)
            citizen_travel = 0
        else:
            if chosen is not None and site.id != chosen:
                continue
            travel = 0
            citizen_travel = (
                2 * travel_minutes(site.coordinates, ref.location) if ref.location else 0
            )
        length = ref.first_session_minutes + 2 * travel
        if length > g.length:
            continue
        on_time = g.day <= ld.deadline
        if not on_time and late_days is not None and g.day not in late_seen:
            if len(late_seen) >= late_days:
                break
            late_seen.append(g.day)
        out.append(
            Candidate(
                referral=referral,
                gap=g.index,
                day=g.day,
                at_home=ref.home_training,
                travel=travel,
                length=length,
                on_time=on_time,
                lateness_days=max(0, (g.day - ld.deadline).days),
                wait_days=(g.day - ld.earliest_start).days,
                citizen_travel=citizen_travel,
                specialist_on_basal=(
                    ref.level is Level.BASAL and bool(instance.therapists[g.therapist].specialties)
                ),
            )
        )
    return out


def _why_unbookable(
    instance: Instance, referral: int, ld: LegalDates, days: Sequence[date], gaps: Sequence[Gap]
) -> tuple[Reason, str]:
    ref = instance.referrals[referral]
    if not days or ld.earliest_start > days[-1]:
        return (
            Reason.EARLIEST_START_AFTER_HORIZON,
            f"earliest start {ld.earliest_start} is after the horizon",
        )
    same_level = [
        t
        for t in instance.therapists
        if t.discipline is ref.discipline
        and (ref.level is Level.BASAL or ref.specialty in t.specialties)
    ]
    if not same_level:
        what = f"{ref.discipline.value}" + (
            f" approved for avanceret {ref.specialty}" if ref.level is Level.AVANCERET else ""
        )
        return Reason.NO_QUALIFIED_THERAPIST, f"no {what} therapist"
    if ref.home_training and not any(t.home_visits for t in same_level):
        return Reason.NO_HOME_VISIT_THERAPIST, "no qualified therapist does home visits"
    if ref.chosen_site_id is not None:
        qualified = {i for i, t in enumerate(instance.therapists) if qualifies(t, ref)}
        at_site = [
            g
            for g in gaps
            if g.therapist in qualified
            and instance.sites[g.site].id == ref.chosen_site_id
            and g.day >= ld.earliest_start
        ]
        if not at_site:
            return (
                Reason.CHOSEN_SITE_CLOSED,
                f"no qualified therapist free at chosen site {ref.chosen_site_id} in the horizon",
            )
    return Reason.NO_CAPACITY_IN_HORIZON, "no qualified free slot long enough in the horizon"


def prepare(instance: Instance, late_days: int | None = 5) -> Problem:
    """Compute legal dates, free gaps, candidates and room data for an instance."""
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
    gaps, room_load = free_gaps(instance, cal, days, site_index)
    critical = critical_gaps(instance, gaps, room_load)
    by_therapist: dict[int, list[Gap]] = defaultdict(list)
    for g in gaps:
        by_therapist[g.therapist].append(g)
    candidates: list[list[Candidate]] = []
    unbookable: dict[int, tuple[Reason, str]] = {}
    for i, ref in enumerate(instance.referrals):
        if i in fixed:
            candidates.append([])
            continue
        if (excluded := exclusion(ref, instance.policy)) is not None:
            candidates.append([])
            unbookable[i] = (Reason.EXCLUDED, excluded)
            continue
        relevant = [
            g
            for t_idx, t in enumerate(instance.therapists)
            if qualifies(t, ref)
            for g in by_therapist[t_idx]
        ]
        cands = candidates_for(instance, i, dates[i], relevant, late_days)
        candidates.append(cands)
        if not cands:
            unbookable[i] = _why_unbookable(instance, i, dates[i], days, gaps)
    return Problem(
        instance=instance,
        cal=cal,
        days=days,
        dates=dates,
        fixed=fixed,
        gaps=gaps,
        candidates=candidates,
        unbookable=unbookable,
        critical=critical,
        room_load=room_load,
    )


# --------------------------------------------------------------------------- occupancy


def _peak(spans: list[tuple[int, int]], lo: int, hi: int) -> int:
    """The most of `spans` that overlap at one moment within [lo, hi)."""
    events: list[tuple[int, int]] = []
    for s, e in spans:
        s, e = max(s, lo), min(e, hi)
        if s < e:
            events += [(s, 1), (e, -1)]
    level = peak = 0
    for _, delta in sorted(events, key=lambda x: (x[0], x[1])):
        level += delta
        peak = max(peak, level)
    return peak


class FreeTime:
    """What has been booked so far on top of the staying bookings: per gap the therapist's new
    sessions, per site-day the rooms in use. Answers "the first free slot" exactly."""

    def __init__(self, problem: Problem) -> None:
        self.problem = problem
        self.in_gap: dict[int, list[tuple[int, int]]] = defaultdict(list)
        self.rooms: dict[tuple[int, date], list[tuple[int, int]]] = {
            key: list(spans) for key, spans in problem.room_load.items()
        }

    def earliest_start(self, cand: Candidate, grid: int | None = None) -> int | None:
        """The earliest minute `cand` can start its use of the gap (travel included), or None.

        With `grid`, only starts on that many minutes' steps from the gap's start are tried.
        """
        gap: Gap = self.problem.gaps[cand.gap]
        own = self.in_gap[cand.gap]
        room_key = (gap.site, gap.day)
        # Outside critical gaps rooms cannot run out, whatever is placed: no check needed.
        binding = not cand.at_home and cand.gap in self.problem.critical
        rooms = self.rooms.get(room_key, []) if binding else None
        capacity = self.problem.instance.sites[gap.site].rooms
        if grid is not None:
            points = set(range(gap.start, gap.end - cand.length + 1, grid))
        else:
            points = {gap.start} | {e for _, e in own}
            if rooms:
                points |= {e for _, e in rooms}
        for start in sorted(p for p in points if gap.start <= p <= gap.end - cand.length):
            end = start + cand.length
            if any(s < end and start < e for s, e in own):
                continue
            if rooms is not None and _peak(rooms, start, end) + 1 > capacity:
                continue
            return start
        return None

    def first_free(self, cands: Iterable[Candidate]) -> tuple[Candidate, int] | None:
        """The first free slot among `cands` (in time order): the earliest day, then the
        earliest minute, then the therapist listed first."""
        best: tuple[int, int, Candidate] | None = None
        day: date | None = None
        for cand in cands:
            if day is not None and cand.day != day:
                break
            start = self.earliest_start(cand)
            if start is None:
                continue
            day = cand.day
            therapist = self.problem.gaps[cand.gap].therapist
            if best is None or (start, therapist) < (best[0], best[1]):
                best = (start, therapist, cand)
        return None if best is None else (best[2], best[0])

    def book(self, cand: Candidate, start: int) -> None:
        """Take the gap time from `start` (travel included) and, at a site, a room."""
        gap = self.problem.gaps[cand.gap]
        span = (start, start + cand.length)
        self.in_gap[cand.gap].append(span)
        if not cand.at_home:
            self.rooms.setdefault((gap.site, gap.day), []).append(span)


def book_leftovers(problem: Problem, placed: dict[int, tuple[Candidate, int]]) -> int:
    """Give every referral `placed` leaves unbooked (their candidates were cut to the first
    late days) the first free slot left anywhere in the horizon, rooms checked exactly.
    Updates `placed`; returns how many were booked."""
    free = FreeTime(problem)
    for cand, start in placed.values():
        free.book(cand, start)
    booked = 0
    for r, cands in enumerate(problem.candidates):
        if r in placed or not cands:
            continue
        found = free.first_free(
            candidates_for(problem.instance, r, problem.dates[r], problem.gaps, None)
        )
        if found is not None:
            free.book(*found)
            placed[r] = found
            booked += 1
    return booked
