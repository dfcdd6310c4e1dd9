"""Real-time first-session proposals for one referral: "the best k slots given today's calendars".

A booking system asks this while a planner waits, so nothing is optimised globally and nothing
moves: every existing booking stays where it is (also other referrals' tentative first sessions),
and only the referral's own qualified therapists are looked at. Their free time on a day is
their session windows (:func:`scheduler.rules.eligibility.session_windows`: the roster clipped to
daytime and the site's opening hours) minus the bookings that hold time
(:func:`scheduler.rules.commitments.holds_time`), as the planner's free gaps; each free stretch
the session fits offers starts at its start and every 15 minutes after while the session (with
a home visit's travel both ways) still fits; a site session is skipped where the site's rooms
are already full at some minute of it.

Ranking, best first:

1. on time before late;
2. earlier day;
3. an option whose therapist (or a hold seat) can carry the course that follows, within the
   policy's course-start days, before one whose course would wait (the therapist's weeks are
   compared with the course's weekly minutes after the bookings that stay, a hold's seats with
   those already taken: :mod:`scheduler.rules.courses`); the courses promised with
   communicated first sessions still to come (:attr:`Calendars.promised`) take their places
   first, greedily as the planner's allocation does (holds first, earliest start); the
   option's `why` says which;
4. for a basal referral, a therapist without avanceret approvals before a specialist (keep the
   scarce avanceret therapists for avanceret work);
5. less travel;
6. earlier start (then therapist id, for a stable order).

Every day on or before the deadline is on time and every later one late, so ranks 1–2 are the
day order: :func:`rank_slots` walks the days from the referral's earliest start, ranks one day's
options completely, and stops after the day on which it has `k`. It reads only that far, and
only what it needs: a day's roster entries of the qualified therapists and the bookings that
hold their time or the rooms they could use come from :class:`Calendars` when the day is
reached, so a caller holding the calendars in another form (the gRPC edge holds the request
message) need not convert the rest. ``tests/planning/test_propose.py`` checks the answer against
a brute-force ranking of every option of the horizon built with the planner's free gaps and
candidates (:mod:`scheduler.planning.free_time`, :mod:`scheduler.planning.candidates`).
"""

from __future__ import annotations

import heapq
from bisect import bisect_left
from collections import defaultdict
from collections.abc import Callable, Mapping, Sequence
from collections.abc import Set as AbstractSet
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any, TypeVar

from pydantic import BaseModel, ConfigDict, Field

from scheduler.domain import (
    Booking,
    BookingStatus,
    Course,
    Instance,
    Level,
    Outcome,
    Referral,
    Site,
    Therapist,
)
from scheduler.domain.inputs import quote_id
from scheduler.domain.policy import Policy
from scheduler.planning.candidates import qualification
from scheduler.planning.free_time import free_stretches
from scheduler.rules.calendar import WorkingCalendar, as_minutes, at_minutes
from scheduler.rules.commitments import holds_time, planning_window
from scheduler.rules.courses import (
    PromisedCourse,
    course_for,
    course_weeks,
    hold_fits,
    promised_courses,
    start_weeks,
    week_start,
)
from scheduler.rules.eligibility import qualifies, session_windows
from scheduler.rules.legal import LegalDates, exclusion, legal_dates, outcome
from scheduler.rules.travel import travel_minutes

__all__ = [
    "STEP_MINUTES",
    "Calendars",
    "DayGaps",
    "ExcludedReferralError",
    "Held",
    "ProposalError",
    "Shift",
    "SlotProposal",
    "UnknownReferralError",
    "day_free_minutes",
    "day_gaps",
    "index_calendars",
    "proposal_dates",
    "propose_slots",
    "rank_slots",
]

STEP_MINUTES = 15
"""Options inside a free stretch start at its start and every this many minutes after."""


class ProposalError(ValueError):
    """No proposal can be made for this request; the message says why."""


class UnknownReferralError(ProposalError):
    """The referral id is not one of the instance's referrals."""

    def __init__(self, referral_id: str) -> None:
        self.referral_id = referral_id
        super().__init__(
            f"unknown referral id {quote_id(referral_id)}: not among the instance's referrals"
        )


class ExcludedReferralError(ProposalError):
    """The referral is not for this scheduler under the policy (e.g. under 18 in Rebild)."""


class SlotProposal(BaseModel):
    """One first-session option for a referral, with why it is ranked where it is."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    rank: int = Field(ge=1, description="1 = best.")
    therapist_id: str
    site_id: str = Field(description="The room's site, or for a home visit the therapist's base.")
    at_home: bool
    start: datetime = Field(description="Start of the session itself (after travel at home).")
    end: datetime
    travel_minutes: int = Field(ge=0, description="One-way travel of a home visit (0 at a site).")
    outcome: Outcome = Field(description="The referral's outcome if booked here.")
    deadline: date
    on_time: bool
    why: str = Field(description="A short sentence saying why it is ranked so.")


# --------------------------------------------------------------------------- calendars


@dataclass(frozen=True, slots=True)
class Shift:
    """A roster entry on a day as a proposal reads it."""

    therapist: int
    """The therapist's index in :attr:`Calendars.therapists`."""
    start: int
    """Minutes since midnight (seconds dropped, as :func:`scheduler.rules.calendar.as_minutes`)."""
    end: int
    site_id: str


@dataclass(frozen=True, slots=True)
class Held:
    """A booking as a proposal reads it: whose time it holds and which room, on its day."""

    therapist_id: str
    site_id: str | None
    at_home: bool
    start: int
    """Minutes since midnight (seconds dropped, as :func:`scheduler.rules.calendar.as_minutes`)."""
    end: int
    status: BookingStatus
    referral_id: str | None

    @classmethod
    def of(cls, booking: Booking) -> Held:
        """A domain booking as a proposal reads it."""
        return cls(
            therapist_id=booking.therapist_id,
            site_id=booking.site_id,
            at_home=booking.at_home,
            start=as_minutes(booking.start.time()),
            end=as_minutes(booking.end.time()),
            status=booking.status,
            referral_id=booking.referral_id,
        )


_T = TypeVar("_T")

MEMO_ENTRIES = 1024
"""The most entries a :attr:`Calendars.memo` keeps (a horizon's start weeks and the kinds of
referral a unit has take a few hundred)."""


@dataclass(frozen=True)
class Calendars:
    """What a proposal reads of an instance; rosters and bookings a day at a time.

    :func:`index_calendars` builds it from a domain instance; the gRPC edge builds it from the
    request message (:func:`scheduler.api.calendars.calendars_from_proto`), reading a day's rosters
    and bookings only when a proposal asks for that day. Each proposal asks for at most one day
    at a time, in day order, and names what it needs, so a reader need not read the rest.
    """

    planning_date: date
    policy: Policy
    sites: Sequence[Site]
    therapists: Sequence[Therapist]
    """In instance order: discipline, avanceret approvals, home visits, absences (the rosters
    are read through `shifts_on`)."""
    shifts_on: Callable[[date, AbstractSet[int]], Sequence[Shift]]
    """``shifts_on(day, therapists)``: the roster entries on `day` of the therapists with those
    indices (others may come too; they are ignored). It may raise (an unreadable entry)."""
    bookings_on: Callable[[date, AbstractSet[str], AbstractSet[str]], Sequence[Held]]
    """``bookings_on(day, therapist_ids, site_ids)``: the bookings on `day` that hold the time
    of one of `therapist_ids` or fill a room at one of `site_ids` (others may come too; they
    are ignored). It may raise (an unreadable booking)."""
    free_minutes: Callable[[date, AbstractSet[int], str], Mapping[int, int]] | None = None
    """Optional: ``free_minutes(day, therapists, referral_id)`` is :func:`day_free_minutes` of
    these calendars for the therapists with those indices, the referral's tentative bookings
    released (others may come too). A reader holding the calendars for many proposals can keep
    it (:mod:`scheduler.planning.calendar_index`); None: worked out from the bookings."""
    day_gaps: Callable[[date, str], DayGaps] | None = None
    """Optional: ``day_gaps(day, referral_id)`` is :func:`day_gaps` of these calendars for every
    therapist and site, the referral's tentative bookings released. A reader holding the
    calendars for many proposals can keep it per day (:mod:`scheduler.planning.calendar_index`);
    None: worked out per proposal for the therapists it may use."""

    promised: Sequence[PromisedCourse] = ()
    """The courses promised with communicated first sessions still to come
    (:func:`scheduler.rules.courses.promised_courses`), earliest first: they take therapist
    weeks and hold seats before the proposed referral's course (empty: none known)."""
    memo: dict[Any, Any] = field(default_factory=dict, compare=False, repr=False)
    """What every proposal on these calendars works out alike, kept for the next one (a
    reader that keeps the calendars passes the same memo each time): the working calendar and
    horizon, the therapists qualified per kind of referral, course start weeks per day, the
    therapist index. It depends on the policy, planning date, therapists and sites: a copy
    with other ones needs a new memo. At most :data:`MEMO_ENTRIES` entries (a referral's
    specialty is the client's text: it cannot grow it without bound). A cache: a race works a
    value out twice, with the same result."""

    def _cached(self, key: Any, make: Callable[[], _T]) -> _T:
        """The memo's value at `key`, made (and kept while the memo has room) if missing."""
        got = self.memo.get(key)
        if got is None:
            got = make()
            if len(self.memo) < MEMO_ENTRIES:
                self.memo[key] = got
        return got

    def working_calendar(self) -> WorkingCalendar:
        return self._cached("cal", lambda: WorkingCalendar(self.policy))

    def horizon(self) -> list[date]:
        """The working days a first session can be on (the planning horizon's)."""
        return self._cached(
            "horizon",
            lambda: self.working_calendar().working_days(
                *planning_window(self.planning_date, self.policy.horizon_days)
            ),
        )

    def qualified(self, referral: Referral) -> frozenset[int]:
        """The indices of the therapists who may take `referral`."""
        return self._cached(
            ("qualified", *qualification(referral)),
            lambda: frozenset(i for i, t in enumerate(self.therapists) if qualifies(t, referral)),
        )

    def therapist_index(self) -> dict[str, int]:
        """Therapist id -> index."""
        return self._cached(
            "therapist_index", lambda: {t.id: i for i, t in enumerate(self.therapists)}
        )

    def start_weeks(self, day: date) -> list[date]:
        """:func:`~scheduler.rules.courses.start_weeks` of a first session on `day`."""
        return self._cached(("start_weeks", day), lambda: start_weeks(day, self.policy))


@dataclass(frozen=True, slots=True)
class DayGaps:
    """One day's free time as a proposal reads it: the free stretches of each rostered, present
    therapist's session windows after the bookings that hold time, and per site when its rooms
    are all taken."""

    gaps: tuple[tuple[int, int, int, int], ...]
    """(start, therapist index, end, site index) in (start, therapist) order."""
    free: Mapping[int, int]
    """Free minutes per therapist index (the gaps' total)."""
    rooms: Mapping[int, _FullRooms]
    """Per site index read: the stretches when every room is taken."""
    memo: dict[tuple[frozenset[int], str | None], list[tuple[int, int, int, int]]] = field(
        default_factory=dict, compare=False, repr=False
    )
    """:meth:`of` per therapists and site asked for (a held calendar keeps one view per day
    for every referral without a tentative booking that day)."""

    def of(
        self, therapists: frozenset[int], site_id: str | None, sites: Sequence[Site]
    ) -> list[tuple[int, int, int, int]]:
        """The gaps of `therapists` (at `site_id` if given), in the gaps' order."""
        key = (therapists, site_id)
        got = self.memo.get(key)
        if got is None:
            got = self.memo[key] = [
                g
                for g in self.gaps
                if g[1] in therapists and (site_id is None or sites[g[3]].id == site_id)
            ]
        return got


def day_gaps(
    calendars: Calendars,
    day: date,
    therapists: AbstractSet[int],
    released: AbstractSet[str],
    *,
    rooms: bool = True,
) -> DayGaps:
    """The free time on `day` of the therapists with those indices (rostered, not absent), the
    tentative first sessions of the `released` referrals released; with `rooms`, also when the
    rooms are full at the sites those therapists are rostered at."""
    everyone, sites = calendars.therapists, calendars.sites
    site_index = {s.id: i for i, s in enumerate(sites)}
    shifts = [
        shift
        for shift in calendars.shifts_on(day, therapists)
        if shift.therapist in therapists
        and shift.site_id in site_index
        and not everyone[shift.therapist].is_absent(day)
    ]
    ids = {everyone[shift.therapist].id for shift in shifts}
    room_sites = {shift.site_id for shift in shifts} if rooms else set()
    busy: dict[str, list[tuple[int, int]]] = defaultdict(list)
    load: dict[int, list[tuple[int, int]]] = defaultdict(list)
    for h in calendars.bookings_on(day, ids, room_sites):
        if not holds_time(h, released):
            continue
        busy[h.therapist_id].append((h.start, h.end))
        if rooms and h.site_id is not None and not h.at_home and h.site_id in site_index:
            load[site_index[h.site_id]].append((h.start, h.end))
    gaps: list[tuple[int, int, int, int]] = []
    free: dict[int, int] = defaultdict(int)
    for shift in shifts:
        t_idx, site = shift.therapist, site_index[shift.site_id]
        taken = busy[everyone[t_idx].id]
        for lo, hi in session_windows(calendars.policy, sites[site], day, shift.start, shift.end):
            for g_start, g_end in free_stretches((lo, hi), taken):
                gaps.append((g_start, t_idx, g_end, site))
                free[t_idx] += g_end - g_start
    gaps.sort(key=lambda g: (g[0], g[1]))
    full = {
        site_index[s]: _FullRooms(load[site_index[s]], sites[site_index[s]].rooms)
        for s in room_sites
    }
    return DayGaps(tuple(gaps), dict(free), full)


def day_free_minutes(
    calendars: Calendars, day: date, therapists: AbstractSet[int], released: AbstractSet[str]
) -> dict[int, int]:
    """Per therapist (by index) rostered on `day`, not absent: the minutes free in their session
    windows after the bookings that hold time (the tentative first sessions of the `released`
    referrals released)."""
    return dict(day_gaps(calendars, day, therapists, released, rooms=False).free)


def index_calendars(instance: Instance) -> Calendars:
    """The calendars of a domain instance, rosters and bookings indexed by day, ready for many
    proposals (read-only: it may be shared between threads)."""
    shifts: dict[date, list[Shift]] = defaultdict(list)
    for t_idx, t in enumerate(instance.therapists):
        for e in t.roster:
            shifts[e.date].append(Shift(t_idx, as_minutes(e.start), as_minutes(e.end), e.site_id))
    held: dict[date, list[Held]] = defaultdict(list)
    for b in instance.bookings:
        held[b.start.date()].append(Held.of(b))
    shifts_by_day = {day: tuple(items) for day, items in shifts.items()}
    held_by_day = {day: tuple(items) for day, items in held.items()}

    def shifts_on(day: date, _: AbstractSet[int]) -> tuple[Shift, ...]:
        return shifts_by_day.get(day, ())

    def bookings_on(day: date, _: AbstractSet[str], __: AbstractSet[str]) -> tuple[Held, ...]:
        return held_by_day.get(day, ())

    return Calendars(
        planning_date=instance.planning_date,
        policy=instance.policy,
        sites=instance.sites,
        therapists=instance.therapists,
        shifts_on=shifts_on,
        bookings_on=bookings_on,
        promised=promised_courses(instance),
    )


# --------------------------------------------------------------------------- one day


class _FullRooms:
    """The stretches of one site-day when the staying bookings fill every room."""

    def __init__(self, spans: Sequence[tuple[int, int]], rooms: int) -> None:
        # Ends before starts at the same minute: a room freed at 10:00 can be taken at 10:00.
        events = sorted([(s, 1) for s, _ in spans] + [(e, -1) for _, e in spans])
        self._starts: list[int] = []
        self._ends: list[int] = []
        level = 0
        for minute, delta in events:
            before, level = level, level + delta
            if before < rooms <= level:
                self._starts.append(minute)
            elif level < rooms <= before:
                self._ends.append(minute)

    def meets(self, lo: int, hi: int) -> bool:
        """Whether every room is taken at some minute of [lo, hi)."""
        i = bisect_left(self._starts, hi) - 1
        return i >= 0 and (i >= len(self._ends) or self._ends[i] > lo)


@dataclass(frozen=True, slots=True)
class _Option:
    """One option of a day; within a day they rank by (course waits, specialist, travel, start,
    therapist)."""

    specialist: bool
    """An avanceret-approved therapist for a basal referral."""
    travel: int
    start: int
    """Start of the time held (travel there first for a home visit)."""
    therapist_id: str
    site: int
    at_home: bool
    carrier: str | None = None
    """Who can carry the course after it ("" when there is no course to carry), None: it
    would wait."""


class _Ranking:
    """One proposal's fixed inputs, worked out once, then one day at a time."""

    def __init__(self, calendars: Calendars, referral: Referral) -> None:
        self.calendars = calendars
        self.referral = referral
        self.site_index = {s.id: i for i, s in enumerate(calendars.sites)}
        self.basal = referral.level is Level.BASAL
        self.qualified = calendars.qualified(referral)
        self._travel: dict[int, int] = {}
        self.course = course_for(referral, calendars.policy)
        lo, hi = planning_window(calendars.planning_date, calendars.policy.horizon_days)
        self.cal = calendars.working_calendar()
        first = week_start(lo) if lo.weekday() == 0 else week_start(lo) + timedelta(days=7)
        self.weeks = set()
        while first + timedelta(days=4) <= hi:
            self.weeks.add(first)
            first += timedelta(days=7)
        self._free: dict[tuple[date, int], int] = {}
        self._week_days: dict[date, list[Mapping[int, int]]] = {}
        self._weeks_from: dict[date, list[date]] = {}
        self._seats: dict[date, str | None] = {}
        self._promised: tuple[dict[tuple[int, date], int], dict[tuple[str, date], int]] | None
        self._promised = None
        self._carriers: dict[tuple[int, tuple[date, ...]], str | None] = {}

    def promised(self) -> tuple[dict[tuple[int, date], int], dict[tuple[str, date], int]]:
        """What the promised courses (:attr:`Calendars.promised`) take, placed greedily in
        order as the planner's allocation places them (holds first, then the first session's
        therapist; earliest start that fits every planned week): per (qualified therapist,
        week) the minutes, per (hold id, week) the seats. Worked out once, when first asked.
        Therapists who cannot take this referral are not tracked: holds are tried first, so
        their weeks change nothing this proposal reads."""
        if self._promised is not None:
            return self._promised
        minutes: dict[tuple[int, date], int] = defaultdict(int)
        seats: dict[tuple[str, date], int] = defaultdict(int)
        index = self.calendars.therapist_index()
        holds = [h for site in self.calendars.sites for h in site.holds]
        for p in self.calendars.promised:
            if p.referral.id == self.referral.id:
                continue
            runs = []
            for s in start_weeks(p.first_day, self.calendars.policy):
                planned = [w for w in course_weeks(s, p.course) if w in self.weeks]
                if planned:
                    runs.append((s, planned))
            placed = False
            for hold in holds:
                if not hold_fits(hold, p.referral, p.course):
                    continue
                for s, planned in runs:
                    if hold.admits(s) and all(
                        hold.taken_in(w) + seats[(hold.id, w)] < hold.seats for w in planned
                    ):
                        for w in planned:
                            seats[(hold.id, w)] += 1
                        placed = True
                        break
                if placed:
                    break
            t_idx = index.get(p.therapist_id)
            if placed or not p.course.by_therapist or t_idx not in self.qualified:
                continue
            load = p.course.weekly_minutes
            for _start, planned in runs:
                if all(self.week_free(w, t_idx) - minutes[(t_idx, w)] >= load for w in planned):
                    for w in planned:
                        minutes[(t_idx, w)] += load
                    break
        self._promised = (dict(minutes), dict(seats))
        return self._promised

    def week_free(self, monday: date, t_idx: int) -> int:
        """Free minutes of qualified therapist `t_idx` in the week from `monday` after the
        bookings that hold time (each day's free minutes read from the calendars once per
        week, each therapist's sum made when first asked: only the therapists a proposal
        reaches are summed)."""
        got = self._free.get((monday, t_idx))
        if got is None:
            days = self._week_days.get(monday)
            if days is None:
                days = self._week_days[monday] = self._days_free(monday)
            got = sum(day.get(t_idx, 0) for day in days) if t_idx in self.qualified else 0
            self._free[(monday, t_idx)] = got
        return got

    def _days_free(self, monday: date) -> list[Mapping[int, int]]:
        """Per working day of the week from `monday`: free minutes per qualified therapist."""
        days = []
        held = self.calendars.free_minutes
        for i in range(5):
            day = monday + timedelta(days=i)
            if not self.cal.is_working_day(day):
                continue
            if held is not None:
                days.append(held(day, self.qualified, self.referral.id))
            else:
                days.append(
                    day_free_minutes(self.calendars, day, self.qualified, {self.referral.id})
                )
        return days

    def carrier(self, day: date, t_idx: int) -> str | None:
        """Who can carry the course of a first session on `day` with therapist `t_idx`:
        "" when there is no course (or it runs beyond the horizon only), a sentence naming the
        carrier, or None when the course would wait."""
        course = self.course
        if course is None:
            return ""
        starts = self.calendars.start_weeks(day)
        if not any(s in self.weeks for s in starts):
            return ""
        # The answer depends on the day only through its start weeks: one per week, mostly.
        key = (t_idx, tuple(starts))
        if key not in self._carriers:
            self._carriers[key] = self._carrier(starts, t_idx, course)
        return self._carriers[key]

    def _carrier(self, starts: list[date], t_idx: int, course: Course) -> str | None:
        minutes = self.promised()[0]
        for s in starts:
            planned = self._planned(s)
            if not planned:
                continue
            seat = self._hold_seat(s, planned)
            if seat is not None:
                return seat
            if course.by_therapist and all(
                self.week_free(w, t_idx) - minutes.get((t_idx, w), 0) >= course.weekly_minutes
                for w in planned
            ):
                return f"this therapist's weeks can carry the course from {s}"
        return None

    def _planned(self, s: date) -> list[date]:
        """The course weeks from `s` inside the horizon (worked out once per week)."""
        got = self._weeks_from.get(s)
        if got is None:
            assert self.course is not None
            got = self._weeks_from[s] = [w for w in course_weeks(s, self.course) if w in self.weeks]
        return got

    def _hold_seat(self, s: date, planned: Sequence[date]) -> str | None:
        """A sentence naming a hold with a seat for the course from `s` every planned week,
        or None (the same for every therapist: worked out once per week)."""
        if s not in self._seats:
            assert self.course is not None
            self._seats[s] = next(
                (
                    f"a seat on hold {hold.id} can carry the course from {s}"
                    for site in self.calendars.sites
                    for hold in site.holds
                    if hold_fits(hold, self.referral, self.course)
                    and hold.admits(s)
                    and all(
                        hold.taken_in(w) + self.promised()[1].get((hold.id, w), 0) < hold.seats
                        for w in planned
                    )
                ),
                None,
            )
        return self._seats[s]

    def travel(self, site: int) -> int:
        """One-way minutes from a site to the citizen's home (0 for training at a site)."""
        if not self.referral.home_training:
            return 0
        if site not in self._travel:
            assert self.referral.location is not None  # the Referral model guarantees it
            self._travel[site] = travel_minutes(
                self.calendars.sites[site].coordinates, self.referral.location
            )
        return self._travel[site]

    def options_on(self, day: date, limit: int | None = None) -> list[_Option]:
        """The day's options, best first: all of them, or the first `limit`."""
        ref, sites, therapists = self.referral, self.calendars.sites, self.calendars.therapists
        if not self.qualified:
            return []
        # The free gaps of the qualified therapists today (the referral's own tentative
        # session released), held per day by a reader that keeps the calendars.
        if self.calendars.day_gaps is not None:
            view = self.calendars.day_gaps(day, ref.id)
        else:
            view = day_gaps(
                self.calendars, day, self.qualified, {ref.id}, rooms=not ref.home_training
            )
        gaps = view.of(self.qualified, ref.chosen_site_id, sites)
        if not gaps:
            return []
        full = view.rooms
        # The options rank by (course waits, specialist, travel, start, therapist id, the gap's
        # place). Best first, lazily: the heap holds one entry per gap keyed by a lower bound of
        # its next option, a course that does not wait and the next start on the gap's
        # 15-minute grid; an entry on top is made exact (its therapist's carrier worked out, its
        # start moved past the minutes the site's rooms are full) and put back when that made
        # it worse, else taken. So the carrier is worked out only for the therapists reached,
        # and only the first `limit` options are made: the same options in the same order as
        # listing every option of every gap and sorting them. A (therapist, start) offered by
        # two gaps counts once, from the earlier gap (a therapist's valid roster entries do not
        # overlap, so it does not happen).
        minutes = ref.first_session_minutes
        home = ref.home_training
        carriers: dict[int, str | None] = {}
        heap: list[_Entry] = []
        for place, (g_start, t_idx, g_end, site) in enumerate(gaps):
            travel = self.travel(site)
            last = g_end - minutes - 2 * travel  # the latest start that fits
            if last < g_start:
                continue
            specialist = self.basal and bool(therapists[t_idx].specialties)
            tid = therapists[t_idx].id
            heap.append((False, specialist, travel, g_start, tid, place, t_idx, site, last, False))
        heapq.heapify(heap)
        options: list[_Option] = []
        seen: set[tuple[str, int]] = set()
        while heap:
            waits, specialist, travel, start, tid, place, t_idx, site, last, exact = heap[0]
            if t_idx not in carriers:
                carriers[t_idx] = self.carrier(day, t_idx)
            if not waits and carriers[t_idx] is None:
                heapq.heapreplace(
                    heap, (True, specialist, travel, start, tid, place, t_idx, site, last, exact)
                )
                continue
            if not exact:
                free_at = _first_start(start, last, travel, minutes, None if home else full[site])
                if free_at is None:
                    heapq.heappop(heap)
                else:
                    heapq.heapreplace(
                        heap,
                        (waits, specialist, travel, free_at, tid, place, t_idx, site, last, True),
                    )
                continue
            after = start + STEP_MINUTES
            if after <= last:
                entry = (waits, specialist, travel, after, tid, place, t_idx, site, last, False)
                heapq.heapreplace(heap, entry)
            else:
                heapq.heappop(heap)
            if (tid, start) in seen:
                continue
            seen.add((tid, start))
            options.append(_Option(specialist, travel, start, tid, site, home, carriers[t_idx]))
            if limit is not None and len(options) >= limit:
                break
        return options


_Entry = tuple[bool, bool, int, int, str, int, int, int, int, bool]
"""A gap's next option in :meth:`_Ranking.options_on`'s heap: (course waits, specialist,
travel, start, therapist id, the gap's place, therapist index, site, latest start, exact)."""


def _first_start(
    start: int, last: int, travel: int, minutes: int, rooms: _FullRooms | None
) -> int | None:
    """The first start from `start` to `last`, every :data:`STEP_MINUTES`, whose session (after
    `travel`) finds a room free (`rooms` None: needs none), or None."""
    while start <= last:
        session = start + travel
        if rooms is None or not rooms.meets(session, session + minutes):
            return start
        start += STEP_MINUTES
    return None


def _why(
    option: _Option, day: date, ld: LegalDates, first_day: date, basal: bool, result: Outcome
) -> str:
    parts: list[str] = []
    if day <= ld.deadline:
        margin = (ld.deadline - day).days
        parts.append(
            f"on time ({margin} day{'s' if margin != 1 else ''} before the deadline)"
            if margin
            else "on time (on the deadline day)"
        )
    else:
        lateness = (day - ld.deadline).days
        late = f"{lateness} day{'s' if lateness != 1 else ''} late"
        right = ", frit valg" if result is Outcome.LATE_FREE_CHOICE else ", no frit valg"
        parts.append(f"{late}: no on-time slot is free{right}")
    parts.append(
        "the first day with a free slot"
        if day == first_day
        else f"{(day - first_day).days} days after the first free day"
    )
    if basal:
        parts.append(
            "an avanceret-approved therapist (no basal-only one free earlier)"
            if option.specialist
            else "a basal therapist (specialists kept for avanceret work)"
        )
    if option.carrier is None:
        parts.append("the course would wait: no therapist week or hold seat free for it")
    elif option.carrier:
        parts.append(option.carrier)
    if option.at_home:
        parts.append(f"home visit, {option.travel} min travel each way")
    hh, mm = divmod(option.start + option.travel, 60)
    parts.append(f"starts {hh:02d}:{mm:02d}")
    return "; ".join(parts)


def rank_slots(
    calendars: Calendars, referral: Referral, k: int = 5, dates: LegalDates | None = None
) -> list[SlotProposal]:
    """The best `k` first-session options for `referral` on `calendars`, best first.

    Every booking stays in place except the referral's own tentative first session (released).
    `referral` need not be in the calendars' instance (a new referral). `dates`: its legal
    dates (:func:`~scheduler.rules.legal.legal_dates` under the calendars' policy), if the
    caller has them. Raises :class:`ExcludedReferralError` for a referral the policy sends
    elsewhere, and whatever ``calendars.bookings_on`` raises. An empty list means no free slot
    in the planning horizon.
    """
    if k < 1:
        raise ProposalError(f"k must be at least 1, got {k}")
    policy = calendars.policy
    rejected = exclusion(referral, policy)
    if rejected is not None:
        raise ExcludedReferralError(
            f"referral {referral.id!r} is not for this scheduler ({rejected[0].value}): "
            f"{rejected[1]}"
        )
    ld = dates if dates is not None else legal_dates(referral, policy, calendars.working_calendar())
    ranking = _Ranking(calendars, referral)
    unavailable = set(referral.unavailable_dates)
    proposals: list[SlotProposal] = []
    first_day: date | None = None
    minutes = referral.first_session_minutes
    for day in calendars.horizon():
        if day < ld.earliest_start or day in unavailable:
            continue
        options = ranking.options_on(day, k - len(proposals))
        if not options:
            continue
        first_day = first_day or day
        result = outcome(day, ld.deadline, ld.free_choice_right)
        for option in options:
            session = option.start + option.travel
            # Made without re-validation: every value is computed here, of its field's type.
            proposals.append(
                SlotProposal.model_construct(
                    rank=len(proposals) + 1,
                    therapist_id=option.therapist_id,
                    site_id=calendars.sites[option.site].id,
                    at_home=option.at_home,
                    start=at_minutes(day, session),
                    end=at_minutes(day, session + minutes),
                    travel_minutes=option.travel,
                    outcome=result,
                    deadline=ld.deadline,
                    on_time=day <= ld.deadline,
                    why=_why(option, day, ld, first_day, ranking.basal, result),
                )
            )
        if len(proposals) >= k:
            break
    return proposals


# --------------------------------------------------------------------------- domain API


def _find(instance: Instance, referral_id: str) -> Referral:
    for ref in instance.referrals:
        if ref.id == referral_id:
            return ref
    raise UnknownReferralError(referral_id)


def proposal_dates(instance: Instance, referral_id: str) -> LegalDates:
    """The referral's legal dates (earliest start, deadline, frit valg, letter-by)."""
    ref = _find(instance, referral_id)
    return legal_dates(ref, instance.policy, WorkingCalendar(instance.policy))


def propose_slots(
    instance: Instance, referral_id: str, k: int = 5, calendars: Calendars | None = None
) -> list[SlotProposal]:
    """The best `k` first-session options for one referral of `instance`, best first.

    :func:`rank_slots` on the instance's calendars; `calendars` is :func:`index_calendars` of
    the same instance, for callers that propose many times on the same calendars (built here
    when not given). Raises :class:`UnknownReferralError` for an id not in
    ``instance.referrals`` and :class:`ExcludedReferralError` for a referral the policy sends
    elsewhere. An empty list means no free slot in the planning horizon.
    """
    if k < 1:
        raise ProposalError(f"k must be at least 1, got {k}")
    referral = _find(instance, referral_id)
    return rank_slots(calendars or index_calendars(instance), referral, k)
