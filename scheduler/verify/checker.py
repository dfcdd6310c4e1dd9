"""An independent check of a solution against its instance: every hard rule, re-verified.

This is a second implementation of what the optimiser must keep, written from the instance and
the rules alone: it never imports :mod:`scheduler.planning`. It takes its facts from
:mod:`scheduler.rules` like everyone else: the legal dates, the working calendar, who may take a
referral and the window a session must fit in (:mod:`scheduler.rules.eligibility`), which
bookings hold time (:mod:`scheduler.rules.commitments`), travel times; the KPI definitions come
from :mod:`scheduler.verify.kpis`.

What is checked (each broken rule is a :class:`Violation` with a :class:`ViolationCode`):

- the solution as a whole: the same planning date; every referral exactly once, none unknown;
- per referral: the legal dates (earliest start, deadline, frit valg right, letter-by, and the
  working day the letter goes out before the start) equal the rules' values; the outcome equals
  :func:`scheduler.rules.legal.outcome` of the start date; answer-by is set exactly for
  LATE_FREE_CHOICE, counted from when offers go out; a late start without frit valg names the
  rules' cause (the citizen's postponement or unavailability, the plan's later start), a late
  start with frit valg names none of those; a not-bookable referral has no session and a
  reason;
- exclusions (:func:`scheduler.rules.legal.exclusion`): a referral not for this scheduler (a
  specialiseret level, under 18 where the children's team takes it) is `rejected` with where it
  belongs and has no session; booking one is a violation, and so is rejecting one the
  scheduler takes;
- a referral fixed by a communicated booking keeps exactly that booking, flagged `fixed`;
- per new first session: a known therapist of the discipline (and for avanceret the specialty),
  a known site, the chosen site, at home exactly for home training and only by a therapist who
  does home visits, with at least the travel time there; exactly `first_session_minutes` long,
  on a working day of the horizon, not before the earliest start, not on a day the therapist is
  absent or the citizen unavailable; the time it holds (a home visit with its travel both ways)
  inside one session window of a roster entry of the therapist at that site: in daytime, inside
  the roster entry, inside one of the site's opening-hours stretches;
- courses (:func:`_check_courses`): the course owner, start week and planned weeks, for new
  first sessions and for communicated ones still to come (their course was promised with the
  booking and needs a place too); no course status for a fixed referral whose first session
  has been held; per therapist and full week the free minutes, per hold and week the seats;
- capacity: no two sessions of a therapist overlap (the bookings that stay and the new sessions
  with their travel; sorted per therapist and day), and at no moment does a site use more rooms
  than it has (a sweep line per site and day).

Overlaps among the instance's own bookings are the instance's problem
(:mod:`scheduler.verify.validation`), not the solution's: only clashes that involve a new first
session are reported.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from enum import StrEnum

from scheduler.domain import (
    Assignment,
    Booking,
    CourseStatus,
    Instance,
    Kpis,
    Outcome,
    Reason,
    Referral,
    RosterEntry,
    Site,
    Solution,
    Therapist,
)
from scheduler.rules.calendar import WorkingCalendar, as_minutes
from scheduler.rules.commitments import (
    fixing_bookings,
    horizon_window,
    occupied_interval,
    staying_bookings,
)
from scheduler.rules.courses import (
    course_for,
    course_pending,
    full_weeks,
    hold_fits,
    start_weeks,
    week_start,
    weekly_free_minutes,
)
from scheduler.rules.eligibility import competent, opening_stretches, qualifies, session_windows
from scheduler.rules.legal import (
    LegalDates,
    answer_by,
    legal_dates,
    letter_send_by,
    offer_sent,
    outcome,
)
from scheduler.rules.travel import travel_minutes
from scheduler.verify.kpis import compute_kpis

__all__ = [
    "KPI_ABS_TOLERANCE",
    "CheckReport",
    "Violation",
    "ViolationCode",
    "check_solution",
    "compare_kpis",
]

KPI_ABS_TOLERANCE = 1e-6
"""How far a reported float KPI may be from the recomputed one."""

_SHOWN = 8  # sessions named in a rooms message

_NO_RIGHT_REASONS = frozenset(
    {Reason.CITIZEN_POSTPONED, Reason.CITIZEN_UNAVAILABLE, Reason.PLAN_LATER_START}
)
"""Reasons that take frit valg away: never the reason of a late start with frit valg."""


class ViolationCode(StrEnum):
    """The rule a solution breaks."""

    # The solution as a whole.
    PLANNING_DATE_MISMATCH = "planning_date_mismatch"
    MISSING_REFERRAL = "missing_referral"
    DUPLICATE_REFERRAL = "duplicate_referral"
    UNKNOWN_REFERRAL = "unknown_referral"
    # Legal dates and outcome.
    WRONG_EARLIEST_START = "wrong_earliest_start"
    WRONG_DEADLINE = "wrong_deadline"
    WRONG_FREE_CHOICE_RIGHT = "wrong_free_choice_right"
    WRONG_LETTER_BY = "wrong_letter_by"
    WRONG_LETTER_SEND_BY = "wrong_letter_send_by"
    WRONG_ANSWER_BY = "wrong_answer_by"
    WRONG_OUTCOME = "wrong_outcome"
    NOT_BOOKABLE_WITH_SESSION = "not_bookable_with_session"
    NOT_BOOKABLE_WITHOUT_REASON = "not_bookable_without_reason"
    BOOKED_WITHOUT_SESSION = "booked_without_session"
    WRONG_REASON = "wrong_reason"
    # Exclusions.
    REJECTED_REFERRAL_BOOKED = "rejected_referral_booked"
    REJECTED_WITH_SESSION = "rejected_with_session"
    WRONG_REJECTION = "wrong_rejection"
    # Communicated bookings stay.
    FIXED_BOOKING_MOVED = "fixed_booking_moved"
    FIXED_FLAG_WRONG = "fixed_flag_wrong"
    # Who and where.
    UNKNOWN_THERAPIST = "unknown_therapist"
    UNKNOWN_SITE = "unknown_site"
    WRONG_DISCIPLINE = "wrong_discipline"
    MISSING_SPECIALTY = "missing_specialty"
    CHOSEN_SITE_IGNORED = "chosen_site_ignored"
    HOME_VISIT_REQUIRED = "home_visit_required"
    UNEXPECTED_HOME_VISIT = "unexpected_home_visit"
    NO_HOME_VISITS = "no_home_visits"
    TRAVEL_TOO_SHORT = "travel_too_short"
    TRAVEL_WITHOUT_HOME_VISIT = "travel_without_home_visit"
    # When.
    WRONG_DURATION = "wrong_duration"
    OUTSIDE_HORIZON = "outside_horizon"
    NOT_WORKING_DAY = "not_working_day"
    OUTSIDE_DAYTIME = "outside_daytime"
    BEFORE_EARLIEST_START = "before_earliest_start"
    THERAPIST_ABSENT = "therapist_absent"
    CITIZEN_UNAVAILABLE = "citizen_unavailable"
    OUTSIDE_ROSTER = "outside_roster"
    OUTSIDE_OPENING_HOURS = "outside_opening_hours"
    # Capacity.
    THERAPIST_OVERLAP = "therapist_overlap"
    ROOMS_EXCEEDED = "rooms_exceeded"
    # Courses after the first session.
    COURSE_OWNER_WRONG = "course_owner_wrong"
    COURSE_START_WRONG = "course_start_wrong"
    COURSE_WEEKS_WRONG = "course_weeks_wrong"
    COURSE_WITHOUT_REASON = "course_without_reason"
    COURSE_STATUS_WRONG = "course_status_wrong"
    THERAPIST_WEEK_OVERCOMMITTED = "therapist_week_overcommitted"
    HOLD_SEATS_EXCEEDED = "hold_seats_exceeded"


@dataclass(frozen=True, slots=True)
class Violation:
    """One broken rule: its code, the referral/therapist/site concerned, and what is wrong."""

    code: ViolationCode
    message: str
    referral_id: str | None = None
    therapist_id: str | None = None
    site_id: str | None = None

    def __str__(self) -> str:
        return f"{self.code.value}: {self.message}"


@dataclass(frozen=True, slots=True)
class CheckReport:
    """The result of :func:`check_solution`."""

    violations: list[Violation]
    kpis: Kpis
    """The KPIs recomputed from the instance and the assignments."""
    kpi_mismatches: list[str] = field(default_factory=list)
    """Where the solution's reported KPIs differ from the recomputed ones."""

    @property
    def ok(self) -> bool:
        return not self.violations and not self.kpi_mismatches

    def codes(self) -> set[ViolationCode]:
        """The distinct rules broken."""
        return {v.code for v in self.violations}


# --------------------------------------------------------------------------- helpers


def _t(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%d %H:%M")


def _hm(moment: datetime) -> str:
    return moment.strftime("%H:%M")


@dataclass(frozen=True, slots=True)
class _Busy:
    """An interval a therapist is busy or a room is used: a staying booking or a new session."""

    start: datetime
    end: datetime
    label: str
    referral_id: str | None
    """Set for a new first session."""

    @property
    def new(self) -> bool:
        return self.referral_id is not None


class _Checker:
    def __init__(self, instance: Instance) -> None:
        self.instance = instance
        self.policy = instance.policy
        self.cal = WorkingCalendar(instance.policy)
        self.sites: dict[str, Site] = {s.id: s for s in instance.sites}
        self.therapists: dict[str, Therapist] = {t.id: t for t in instance.therapists}
        self.referrals: dict[str, Referral] = {r.id: r for r in instance.referrals}
        self.fixing = fixing_bookings(instance)
        self.horizon = horizon_window(instance)
        self.roster: dict[tuple[str, date], list[RosterEntry]] = defaultdict(list)
        for t in instance.therapists:
            for entry in t.roster:
                self.roster[(t.id, entry.date)].append(entry)
        self.offer_sent = offer_sent(
            instance.planning_date, instance.policy, instance.offers_sent_at
        )
        self.violations: list[Violation] = []

    def add(
        self,
        code: ViolationCode,
        message: str,
        referral_id: str | None = None,
        therapist_id: str | None = None,
        site_id: str | None = None,
    ) -> None:
        self.violations.append(Violation(code, message, referral_id, therapist_id, site_id))

    # ----------------------------------------------------------------------- coverage

    def coverage(self, assignments: Iterable[Assignment]) -> dict[str, Assignment]:
        """Each known referral's first assignment; missing, repeated and unknown ones reported."""
        first: dict[str, Assignment] = {}
        for a in assignments:
            rid = a.referral_id
            if rid not in self.referrals:
                self.add(
                    ViolationCode.UNKNOWN_REFERRAL,
                    f"{rid}: not a referral of the instance",
                    referral_id=rid,
                )
            elif rid in first:
                self.add(
                    ViolationCode.DUPLICATE_REFERRAL,
                    f"{rid}: appears more than once",
                    referral_id=rid,
                )
            else:
                first[rid] = a
        for ref in self.instance.referrals:
            if ref.id not in first:
                self.add(
                    ViolationCode.MISSING_REFERRAL,
                    f"{ref.id}: has no assignment",
                    referral_id=ref.id,
                )
        return first

    # ----------------------------------------------------------------------- legal dates

    def legal(self, ref: Referral, a: Assignment, ld: LegalDates) -> None:
        rid = ref.id
        dates: list[tuple[ViolationCode, str, object, object]] = [
            (
                ViolationCode.WRONG_EARLIEST_START,
                "earliest_start",
                a.earliest_start,
                ld.earliest_start,
            ),
            (ViolationCode.WRONG_DEADLINE, "deadline", a.deadline, ld.deadline),
            (
                ViolationCode.WRONG_FREE_CHOICE_RIGHT,
                "free_choice_right",
                a.free_choice_right,
                ld.free_choice_right,
            ),
            (ViolationCode.WRONG_LETTER_BY, "letter_by", a.letter_by, ld.letter_by),
        ]
        for code, name, reported, expected in dates:
            if reported != expected:
                self.add(code, f"{rid}: {name} is {reported}, the rules say {expected}", rid)

        booked = a.start is not None
        send_by = letter_send_by(ld.letter_by, a.start.date() if a.start else None, self.cal)
        if a.letter_send_by != send_by:
            self.add(
                ViolationCode.WRONG_LETTER_SEND_BY,
                f"{rid}: letter_send_by is {a.letter_send_by}, the rules say {send_by} (the "
                "working day on or before letter_by and before the start)",
                rid,
            )
        self.rejection(ref, a, ld)
        if a.outcome is Outcome.REJECTED:
            pass  # checked by rejection()
        elif a.outcome is Outcome.NOT_BOOKABLE:
            if booked or a.end is not None or a.therapist_id is not None:
                self.add(
                    ViolationCode.NOT_BOOKABLE_WITH_SESSION,
                    f"{rid}: not bookable, yet has a therapist or a session time",
                    rid,
                )
            if a.reason is None:
                self.add(
                    ViolationCode.NOT_BOOKABLE_WITHOUT_REASON,
                    f"{rid}: not bookable without a reason",
                    rid,
                )
        elif a.start is None or a.end is None or a.therapist_id is None:
            self.add(
                ViolationCode.BOOKED_WITHOUT_SESSION,
                f"{rid}: outcome {a.outcome.value} without a therapist, start and end",
                rid,
            )
        if a.start is not None and a.outcome not in (Outcome.NOT_BOOKABLE, Outcome.REJECTED):
            expected_outcome = outcome(a.start.date(), ld.deadline, ld.free_choice_right)
            if a.outcome is not expected_outcome:
                self.add(
                    ViolationCode.WRONG_OUTCOME,
                    f"{rid}: outcome {a.outcome.value} for a start on {a.start.date()} with "
                    f"deadline {ld.deadline}; the rules say {expected_outcome.value}",
                    rid,
                )
        expected_answer = (
            answer_by(self.policy, self.offer_sent)
            if a.outcome is Outcome.LATE_FREE_CHOICE
            else None
        )
        if a.answer_by != expected_answer:
            self.add(
                ViolationCode.WRONG_ANSWER_BY,
                f"{rid}: answer_by is {a.answer_by}, expected {expected_answer}",
                rid,
            )

        self.late_reason(ref, a, ld)

    def late_reason(self, ref: Referral, a: Assignment, ld: LegalDates) -> None:
        """A late start's reason where the rules determine it: without frit valg it is the
        rules' cause (the citizen's postponement or unavailability, the plan's later start);
        with frit valg it is none of those (the municipality's capacity or timing)."""
        rid = ref.id
        if a.outcome is Outcome.LATE_NO_RIGHT and ld.no_right_reason is not None:
            if a.reason is not ld.no_right_reason:
                self.add(
                    ViolationCode.WRONG_REASON,
                    f"{rid}: late without frit valg with reason "
                    f"{a.reason.value if a.reason else None}; the rules say "
                    f"{ld.no_right_reason.value}",
                    rid,
                )
        elif a.outcome is Outcome.LATE_FREE_CHOICE and a.reason in _NO_RIGHT_REASONS:
            assert a.reason is not None
            self.add(
                ViolationCode.WRONG_REASON,
                f"{rid}: late with frit valg, but the reason {a.reason.value} takes frit valg away",
                rid,
            )

    def rejection(self, ref: Referral, a: Assignment, ld: LegalDates) -> None:
        """A referral not for this scheduler is rejected, with where it belongs and no session;
        one the scheduler takes is never rejected."""
        rid = ref.id
        has_session = a.start is not None or a.end is not None or a.therapist_id is not None
        if ld.rejected is None:
            if a.outcome is Outcome.REJECTED:
                self.add(
                    ViolationCode.WRONG_REJECTION,
                    f"{rid}: rejected, but the rules give it to this scheduler",
                    rid,
                )
            return
        why, where = ld.rejected
        if a.outcome is not Outcome.REJECTED:
            if has_session:
                self.add(
                    ViolationCode.REJECTED_REFERRAL_BOOKED,
                    f"{rid}: booked, but not for this scheduler ({why.value}): {where}",
                    rid,
                    a.therapist_id,
                    a.site_id,
                )
            else:
                self.add(
                    ViolationCode.WRONG_REJECTION,
                    f"{rid}: outcome {a.outcome.value}; not for this scheduler, it must be "
                    f"rejected ({why.value})",
                    rid,
                )
            return
        if has_session:
            self.add(
                ViolationCode.REJECTED_WITH_SESSION,
                f"{rid}: rejected, yet has a therapist or a session time",
                rid,
            )
        if a.reason is not why:
            self.add(
                ViolationCode.WRONG_REASON,
                f"{rid}: rejected with reason {a.reason.value if a.reason else None}; the "
                f"rules say {why.value}",
                rid,
            )

    # ----------------------------------------------------------------------- fixed sessions

    def fixed(self, ref: Referral, a: Assignment, bookings: list[Booking]) -> None:
        rid = ref.id
        same = [
            b
            for b in bookings
            if (b.therapist_id, b.site_id, b.start, b.end, b.at_home)
            == (a.therapist_id, a.site_id, a.start, a.end, a.at_home)
        ]
        if not same:
            b = bookings[0]
            self.add(
                ViolationCode.FIXED_BOOKING_MOVED,
                f"{rid}: communicated booking {b.id} ({b.therapist_id} at "
                f"{'home' if b.at_home else b.site_id} {_t(b.start)}–{_hm(b.end)}) must stay, "
                f"the solution has {a.therapist_id} at {'home' if a.at_home else a.site_id} "
                f"{_t(a.start) if a.start else '-'}",
                rid,
                b.therapist_id,
                b.site_id,
            )
        if not a.fixed:
            self.add(
                ViolationCode.FIXED_FLAG_WRONG,
                f"{rid}: its first session is communicated booking {bookings[0].id}, but it is "
                "not marked fixed",
                rid,
            )

    # ----------------------------------------------------------------------- new sessions

    def session(self, ref: Referral, a: Assignment, ld: LegalDates) -> None:
        """The rules on one new first session (one with a start, an end and a therapist)."""
        assert a.start is not None and a.end is not None and a.therapist_id is not None
        rid, tid, sid = ref.id, a.therapist_id, a.site_id
        start, end = a.start, a.end
        day = start.date()

        def add(code: ViolationCode, message: str) -> None:
            self.add(code, f"{rid}: {message}", rid, tid, sid)

        if a.fixed:
            add(
                ViolationCode.FIXED_FLAG_WRONG, "marked fixed, but no communicated booking fixes it"
            )

        # Who.
        therapist = self.therapists.get(tid)
        if therapist is None:
            add(ViolationCode.UNKNOWN_THERAPIST, f"therapist {tid} is not in the instance")
        elif not competent(therapist, ref):
            if therapist.discipline is not ref.discipline:
                add(
                    ViolationCode.WRONG_DISCIPLINE,
                    f"needs {ref.discipline.value}, therapist {tid} is "
                    f"{therapist.discipline.value}",
                )
            else:
                add(
                    ViolationCode.MISSING_SPECIALTY,
                    f"avanceret {ref.specialty}: therapist {tid} is not approved for it "
                    f"(specialties: {', '.join(therapist.specialties) or 'none'})",
                )
        elif a.at_home and not qualifies(therapist, ref):
            add(ViolationCode.NO_HOME_VISITS, f"home visit by {tid}, who does no home visits")

        # Where.
        site = self.sites.get(sid) if sid is not None else None
        if site is None:
            add(ViolationCode.UNKNOWN_SITE, f"site {sid} is not in the instance")
        if ref.home_training and not a.at_home:
            add(ViolationCode.HOME_VISIT_REQUIRED, "home training, but booked at a site")
        if not ref.home_training and a.at_home:
            add(ViolationCode.UNEXPECTED_HOME_VISIT, "booked at home without home training")
        if ref.chosen_site_id is not None and not ref.home_training and sid != ref.chosen_site_id:
            add(
                ViolationCode.CHOSEN_SITE_IGNORED,
                f"the citizen chose site {ref.chosen_site_id}, booked at {sid}",
            )
        if a.at_home:
            if site is not None and ref.location is not None:
                needed = travel_minutes(site.coordinates, ref.location)
                if a.travel_minutes < needed:
                    add(
                        ViolationCode.TRAVEL_TOO_SHORT,
                        f"travel {a.travel_minutes} min from {sid} to the citizen, "
                        f"it takes {needed} min",
                    )
        elif a.travel_minutes:
            add(
                ViolationCode.TRAVEL_WITHOUT_HOME_VISIT,
                f"travel of {a.travel_minutes} min for a session at the site",
            )

        # When.
        minutes = (end - start).total_seconds() / 60
        if minutes != ref.first_session_minutes:
            add(
                ViolationCode.WRONG_DURATION,
                f"lasts {minutes:g} min ({_t(start)}–{_t(end)}), "
                f"the first session takes {ref.first_session_minutes} min",
            )
        lo, hi = self.horizon
        if not lo <= day <= hi:
            add(ViolationCode.OUTSIDE_HORIZON, f"on {day}, outside the horizon {lo}–{hi}")
        if not self.cal.is_working_day(day):
            add(ViolationCode.NOT_WORKING_DAY, f"on {day} ({day:%A}), not a working day")
        if day < ld.earliest_start:
            add(
                ViolationCode.BEFORE_EARLIEST_START,
                f"on {day}, before the earliest start {ld.earliest_start}",
            )
        if therapist is not None and therapist.is_absent(day):
            add(ViolationCode.THERAPIST_ABSENT, f"therapist {tid} is absent on {day}")
        if day in ref.unavailable_dates:
            add(ViolationCode.CITIZEN_UNAVAILABLE, f"the citizen is unavailable on {day}")
        span = occupied_interval(a)
        assert span is not None
        self.window(a, span, site, therapist is not None, add)

    def window(
        self,
        a: Assignment,
        span: tuple[datetime, datetime],
        site: Site | None,
        known_therapist: bool,
        add: Callable[[ViolationCode, str], None],
    ) -> None:
        """The time a session holds (with a home visit's travel) lies inside one window of
        :func:`scheduler.rules.eligibility.session_windows` of a roster entry of the therapist
        at the site; when it does not, each part it breaks is named."""
        held_start, held_end = span
        day = held_start.date()
        tid, sid = a.therapist_id, a.site_id
        policy = self.policy
        travel = " incl. travel" if a.at_home else ""
        held = f"{_t(held_start)}–{_hm(held_end)}{travel}"
        if held_end.date() != day:
            add(ViolationCode.OUTSIDE_DAYTIME, f"{held} does not end on the day it starts")
            return
        lo, hi = as_minutes(held_start.time()), as_minutes(held_end.time())
        entries = [e for e in self.roster.get((tid or "", day), []) if e.site_id == sid]
        if site is not None and any(
            w_lo <= lo and hi <= w_hi
            for e in entries
            for w_lo, w_hi in session_windows(
                policy, site, day, as_minutes(e.start), as_minutes(e.end)
            )
        ):
            return
        if lo < as_minutes(policy.day_start) or hi > as_minutes(policy.day_end):
            add(
                ViolationCode.OUTSIDE_DAYTIME,
                f"{held} is outside daytime {policy.day_start:%H:%M}–{policy.day_end:%H:%M}",
            )
        if (
            known_therapist
            and site is not None
            and not any(as_minutes(e.start) <= lo and hi <= as_minutes(e.end) for e in entries)
        ):
            rostered = (
                ", ".join(
                    f"{e.site_id} {e.start:%H:%M}–{e.end:%H:%M}"
                    for e in self.roster.get((tid or "", day), [])
                )
                or "nothing"
            )
            add(
                ViolationCode.OUTSIDE_ROSTER,
                f"{tid} at {sid} {held} is not inside a roster entry (rostered on {day}: "
                f"{rostered})",
            )
        if site is not None:
            stretches = opening_stretches(site, day)
            if not any(o_lo <= lo and hi <= o_hi for o_lo, o_hi in stretches):
                opening = (
                    ", ".join(f"{h.open:%H:%M}–{h.close:%H:%M}" for h in site.hours_on(day))
                    or "closed"
                )
                add(
                    ViolationCode.OUTSIDE_OPENING_HOURS,
                    f"{held} outside {sid}'s opening hours ({opening})",
                )

    # ----------------------------------------------------------------------- capacity

    def overlaps(self, sessions: list[tuple[Assignment, datetime, datetime]]) -> None:
        """No two intervals of a therapist on a day overlap, if one of them is a new session."""
        per_day: dict[tuple[str, date], list[_Busy]] = defaultdict(list)
        for b in staying_bookings(self.instance):
            per_day[(b.therapist_id, b.start.date())].append(
                _Busy(b.start, b.end, f"booking {b.id}", None)
            )
        for a, lo, hi in sessions:
            assert a.therapist_id is not None
            label = f"{a.referral_id}" + (" (incl. travel)" if a.at_home else "")
            per_day[(a.therapist_id, lo.date())].append(_Busy(lo, hi, label, a.referral_id))
        for (tid, _day), items in per_day.items():
            if len(items) < 2 or not any(i.new for i in items):
                continue
            items.sort(key=lambda i: (i.start, i.end))
            # The earlier item reaching furthest, among all items and among new sessions: an
            # item overlaps some earlier item exactly when it starts before that reach ends.
            reach_all: _Busy | None = None
            reach_new: _Busy | None = None
            for item in items:
                other = reach_all if item.new else reach_new
                if other is not None and item.start < other.end:
                    new = item if item.new else other
                    self.add(
                        ViolationCode.THERAPIST_OVERLAP,
                        f"therapist {tid}: {item.label} {_t(item.start)}–{_hm(item.end)} "
                        f"overlaps {other.label} {_t(other.start)}–{_hm(other.end)}",
                        referral_id=new.referral_id,
                        therapist_id=tid,
                    )
                if reach_all is None or item.end > reach_all.end:
                    reach_all = item
                if item.new and (reach_new is None or item.end > reach_new.end):
                    reach_new = item

    def rooms(self, sessions: list[tuple[Assignment, datetime, datetime]]) -> None:
        """At no moment does a site use more rooms than it has (when a new session is there)."""
        per_day: dict[tuple[str, date], list[_Busy]] = defaultdict(list)
        for b in staying_bookings(self.instance):
            if b.site_id is not None and not b.at_home:
                per_day[(b.site_id, b.start.date())].append(
                    _Busy(b.start, b.end, f"booking {b.id}", None)
                )
        for a, _lo, _hi in sessions:
            if a.site_id is not None and not a.at_home:
                assert a.start is not None and a.end is not None
                per_day[(a.site_id, a.start.date())].append(
                    _Busy(a.start, a.end, a.referral_id, a.referral_id)
                )
        for (sid, day), items in per_day.items():
            site = self.sites.get(sid)
            if site is None or len(items) <= site.rooms or not any(i.new for i in items):
                continue
            # Sweep line: at equal times a session ending frees its room before one starts.
            events = sorted(
                [(i.start, 1, n) for n, i in enumerate(items)]
                + [(i.end, -1, n) for n, i in enumerate(items)],
                key=lambda e: (e[0], e[1]),
            )
            active: set[int] = set()
            first_over: tuple[datetime, list[int]] | None = None
            peak = 0
            for moment, delta, n in events:
                if delta < 0:
                    active.discard(n)
                    continue
                active.add(n)
                if len(active) > site.rooms and any(items[k].new for k in active):
                    peak = max(peak, len(active))
                    if first_over is None:
                        first_over = (moment, sorted(active))
            if first_over is not None:
                moment, users = first_over
                new_ids = [items[k].label for k in users if items[k].new]
                shown = ", ".join(items[k].label for k in users[:_SHOWN])
                more = f" and {len(users) - _SHOWN} more" if len(users) > _SHOWN else ""
                self.add(
                    ViolationCode.ROOMS_EXCEEDED,
                    f"site {sid} on {day}: {peak} sessions at once, {site.rooms} rooms "
                    f"(first at {_hm(moment)}: {shown}{more})",
                    referral_id=new_ids[0] if new_ids else None,
                    site_id=sid,
                )


# --------------------------------------------------------------------------- KPIs


def _check_courses(c: _Checker, first: dict[str, Assignment], new: set[str]) -> None:
    """Course places: the owner may carry the course (continuity for a therapist-carried
    course, a matching hold open to intake), the start week is allowed, the planned weeks are
    the course's weeks in the horizon's full weeks; per therapist and full week the new first
    sessions and the courses carried fit the free minutes after the bookings that stay; per
    hold and week the courses fit the seats left; a waiting course says why.

    The referrals with a course due are the `new` ones and those fixed by a communicated first
    session still to come (:func:`scheduler.rules.courses.course_pending`); their first
    session is a booking that stays, so its minutes are already out of the week. A fixed
    referral whose first session has been held has no course to plan (status `none`)."""
    inst = c.instance
    weeks = set(full_weeks(inst))
    holds = {h.id: h for site in inst.sites for h in site.holds}
    load: dict[tuple[str, date], int] = defaultdict(int)
    seats: dict[tuple[str, date], int] = defaultdict(int)
    for referral_id in sorted(new):
        session = first[referral_id]
        span = occupied_interval(session)
        if session.therapist_id is not None and span is not None:
            monday = week_start(span[0].date())
            if monday in weeks:
                load[(session.therapist_id, monday)] += int(
                    (span[1] - span[0]).total_seconds() // 60
                )
    for ref in inst.referrals:
        a = first.get(ref.id)
        if a is None or a.start is None:
            continue
        due = course_for(ref, inst.policy) is not None
        if ref.id in c.fixing:
            if not due or not course_pending(a.start.date(), inst.planning_date):
                if a.course_status is not CourseStatus.NONE:
                    c.add(
                        ViolationCode.COURSE_STATUS_WRONG,
                        f"{ref.id}: course {a.course_status.value}, but there is none to plan "
                        "(no course, or its communicated first session has been held)",
                        ref.id,
                    )
                continue
        elif ref.id not in new:
            continue
        if a.course_status is CourseStatus.WAITS and a.course_reason is None:
            c.add(ViolationCode.COURSE_WITHOUT_REASON, f"{ref.id}: course waits, no reason", ref.id)
        if a.course_status is not CourseStatus.STARTS:
            continue
        course = course_for(ref, inst.policy)
        if course is None or a.course_start is None:
            c.add(ViolationCode.COURSE_OWNER_WRONG, f"{ref.id}: a course without one", ref.id)
            continue
        if a.course_start not in start_weeks(a.start.date(), inst.policy):
            c.add(
                ViolationCode.COURSE_START_WRONG,
                f"{ref.id}: course starts the week of {a.course_start}, not within "
                f"{inst.policy.course_start_days} days after the first session",
                ref.id,
            )
        run = [week_start(a.course_start) + timedelta(days=7 * i) for i in range(course.weeks)]
        planned = [w for w in run if w in weeks]
        if (a.course_weeks_planned, a.course_weeks_beyond) != (
            len(planned),
            len(run) - len(planned),
        ):
            c.add(
                ViolationCode.COURSE_WEEKS_WRONG,
                f"{ref.id}: {a.course_weeks_planned} planned + {a.course_weeks_beyond} beyond "
                f"weeks, the course has {len(planned)} + {len(run) - len(planned)}",
                ref.id,
            )
        if a.course_hold_id is not None:
            hold = holds.get(a.course_hold_id)
            if (
                hold is None
                or a.course_therapist_id is not None
                or not hold_fits(hold, ref, course)
                or not hold.admits(a.course_start)
            ):
                c.add(
                    ViolationCode.COURSE_OWNER_WRONG,
                    f"{ref.id}: hold {a.course_hold_id} cannot take this course then",
                    ref.id,
                )
                continue
            for w in planned:
                seats[(hold.id, w)] += 1
        else:
            owner = a.course_therapist_id
            if not course.by_therapist or owner is None or owner != a.therapist_id:
                c.add(
                    ViolationCode.COURSE_OWNER_WRONG,
                    f"{ref.id}: course carried by {a.course_therapist_id}, the first session "
                    f"by {a.therapist_id} (form {course.form.value})",
                    ref.id,
                    a.course_therapist_id,
                )
                continue
            for w in planned:
                load[(owner, w)] += course.weekly_minutes
    free = weekly_free_minutes(inst)
    for (tid, w), minutes in sorted(load.items()):
        if minutes > free.get((tid, w), 0):
            c.add(
                ViolationCode.THERAPIST_WEEK_OVERCOMMITTED,
                f"{tid}: week of {w} commits {minutes} min, {free.get((tid, w), 0)} are free",
                therapist_id=tid,
            )
    for (hid, w), n in sorted(seats.items()):
        hold = holds[hid]
        if hold.taken_in(w) + n > hold.seats:
            c.add(
                ViolationCode.HOLD_SEATS_EXCEEDED,
                f"hold {hid}: week of {w} has {hold.taken_in(w)} taken + {n} new > "
                f"{hold.seats} seats",
            )


def _close(a: float, b: float) -> bool:
    return math.isclose(a, b, rel_tol=0.0, abs_tol=KPI_ABS_TOLERANCE)


def compare_kpis(reported: Kpis, recomputed: Kpis) -> list[str]:
    """Where `reported` differs from `recomputed`: one line per figure (floats within
    :data:`KPI_ABS_TOLERANCE`; per-therapist utilisation compared therapist by therapist)."""
    out: list[str] = []
    for name in Kpis.model_fields:
        got, want = getattr(reported, name), getattr(recomputed, name)
        if name == "utilisation":
            for tid in sorted(set(got) | set(want)):
                if tid not in got:
                    out.append(f"utilisation[{tid}]: missing, recomputed {want[tid]:.6f}")
                elif tid not in want:
                    out.append(f"utilisation[{tid}]: reported {got[tid]:.6f}, not a therapist")
                elif not _close(got[tid], want[tid]):
                    out.append(
                        f"utilisation[{tid}]: reported {got[tid]:.6f}, recomputed {want[tid]:.6f}"
                    )
            continue
        if isinstance(got, float) or isinstance(want, float):
            same = got is not None and want is not None and _close(float(got), float(want))
            same = same or (got is None and want is None)
        else:
            same = got == want
        if not same:
            out.append(f"{name}: reported {got}, recomputed {want}")
    return out


# --------------------------------------------------------------------------- entry point


def check_solution(instance: Instance, solution: Solution) -> CheckReport:
    """Re-verify `solution` against `instance`: every hard rule, the legal dates, the KPIs.

    Runs in O(n log n) in the number of sessions and bookings: capacity is checked by sorting
    per therapist and day and by a sweep line per site and day.
    """
    c = _Checker(instance)
    if solution.planning_date != instance.planning_date:
        c.add(
            ViolationCode.PLANNING_DATE_MISMATCH,
            f"solution planned on {solution.planning_date}, the instance on "
            f"{instance.planning_date}",
        )
    first = c.coverage(solution.assignments)
    sessions: list[tuple[Assignment, datetime, datetime]] = []
    for ref in instance.referrals:
        a = first.get(ref.id)
        if a is None:
            continue
        ld = legal_dates(ref, instance.policy, c.cal)
        c.legal(ref, a, ld)
        if ref.id in c.fixing:
            c.fixed(ref, a, c.fixing[ref.id])
            continue
        if a.outcome in (Outcome.NOT_BOOKABLE, Outcome.REJECTED) or a.start is None:
            if a.fixed:
                c.add(
                    ViolationCode.FIXED_FLAG_WRONG,
                    f"{ref.id}: marked fixed, but no communicated booking fixes it",
                    ref.id,
                )
            continue
        if a.end is None or a.therapist_id is None:
            continue  # reported as BOOKED_WITHOUT_SESSION
        c.session(ref, a, ld)
        span = occupied_interval(a)
        if span is not None and span[0] < span[1]:
            sessions.append((a, span[0], span[1]))
    c.overlaps(sessions)
    c.rooms(sessions)
    _check_courses(c, first, {a.referral_id for a, _, _ in sessions})
    kpis = compute_kpis(instance, solution.assignments)
    return CheckReport(
        violations=c.violations,
        kpis=kpis,
        kpi_mismatches=compare_kpis(solution.kpis, kpis),
    )
