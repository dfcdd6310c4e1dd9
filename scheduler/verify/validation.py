"""Checks across a whole instance that the models alone cannot make.

The pydantic models in :mod:`scheduler.domain` check each record on its own (types, ranges,
a referral's dates in order, no CPR numbers). This module checks how records fit together:
ids unique and references resolving, rosters and bookings consistent with each other, sites
and absences, and referrals that cannot be planned as the data stands.

Each check is one function named after the rule. A problem is an **error** when the instance
is contradictory or ambiguous and must be fixed before planning (a booking of an unknown
therapist, two roster entries of one therapist overlapping), and a **warning** when the data is
usable but probably not what was meant (a roster entry on a public holiday, a specialty no
therapist is approved for). Every problem has a stable `code`; ``docs/instance-format.md``
lists them all.

With a :class:`~scheduler.planning.budget.Budget` (the gRPC service passes the call's), every
check looks at it every :data:`~scheduler.planning.budget.CHECK_EVERY` records, so a stop or a
spent budget ends validation with :class:`~scheduler.planning.budget.BudgetExpired` within a
few milliseconds of work, whatever the instance's size.
"""

from __future__ import annotations

import difflib
import re
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time
from enum import StrEnum
from itertools import pairwise
from typing import TypeVar

from scheduler.domain import (
    Booking,
    BookingStatus,
    Instance,
    Level,
    PlanStartKind,
    Referral,
    Therapist,
)
from scheduler.domain.inputs import quote_id
from scheduler.planning.budget import Budget, checked
from scheduler.rules.calendar import WorkingCalendar, as_minutes
from scheduler.rules.commitments import holds_time
from scheduler.rules.eligibility import competent
from scheduler.rules.legal import earliest_start, exclusion, statutory_deadline

__all__ = [
    "PROBLEM_CODES",
    "Problem",
    "Severity",
    "duplicate_id_message",
    "has_errors",
    "overlapping",
    "repeated_ids",
    "roster_overlap_message",
    "unknown_reference",
    "validate_instance",
]


class Severity(StrEnum):
    """`error`: fix before planning. `warning`: usable, but probably not what was meant."""

    ERROR = "error"
    WARNING = "warning"


@dataclass(frozen=True)
class Problem:
    """One finding: how bad, where in the instance (a path as in the file), what and why."""

    severity: Severity
    code: str
    where: str
    message: str

    def __str__(self) -> str:
        return f"{self.severity}: {self.where}: {self.message} [{self.code}]"


PROBLEM_CODES: dict[str, Severity] = {
    # errors
    "duplicate_id": Severity.ERROR,
    "unknown_site": Severity.ERROR,
    "unknown_therapist": Severity.ERROR,
    "unknown_referral": Severity.ERROR,
    "referral_booked_twice": Severity.ERROR,
    "roster_overlap": Severity.ERROR,
    "opening_hours_overlap": Severity.ERROR,
    "booked_before_received": Severity.ERROR,
    # warnings
    "nothing_to_plan": Severity.WARNING,
    "roster_on_closed_day": Severity.WARNING,
    "roster_outside_opening_hours": Severity.WARNING,
    "no_roster_ahead": Severity.WARNING,
    "booking_outside_roster": Severity.WARNING,
    "booking_during_absence": Severity.WARNING,
    "home_booking_with_site": Severity.WARNING,
    "tentative_without_referral": Severity.WARNING,
    "therapist_double_booked": Severity.WARNING,
    "site_overbooked": Severity.WARNING,
    "referral_booking_mismatch": Severity.WARNING,
    "specialty_variants": Severity.WARNING,
    "specialty_spelling": Severity.WARNING,
    "no_qualified_therapist": Severity.WARNING,
    "no_home_visit_therapist": Severity.WARNING,
    "excluded_referral": Severity.WARNING,
    "received_after_planning": Severity.WARNING,
    "plan_start_unreachable": Severity.WARNING,
    "plan_later_not_later": Severity.WARNING,
    "session_longer_than_day": Severity.WARNING,
}
"""Every problem code and its severity."""


_T = TypeVar("_T")


def _problem(code: str, where: str, message: str) -> Problem:
    return Problem(PROBLEM_CODES[code], code, where, message)


def _at(collection: str, index: int, ident: str) -> str:
    return f"{collection}[{index}]({ident})"


def _norm(specialty: str) -> str:
    """A specialty name with case, spaces, hyphens and underscores ignored."""
    return re.sub(r"[\s_-]+", "", specialty.casefold())


@dataclass(frozen=True)
class _Context:
    """What several checks need, computed once."""

    instance: Instance
    cal: WorkingCalendar
    site_ids: frozenset[str]
    therapists: dict[str, Therapist]
    referrals: dict[str, Referral]
    budget: Budget | None = None

    @classmethod
    def of(cls, instance: Instance, budget: Budget | None = None) -> _Context:
        return cls(
            instance=instance,
            cal=WorkingCalendar(instance.policy),
            site_ids=frozenset(s.id for s in instance.sites),
            therapists={t.id: t for t in instance.therapists},
            referrals={r.id: r for r in instance.referrals},
            budget=budget,
        )

    def each(self, items: Iterable[_T]) -> Iterator[_T]:
        """`items`, looking at the budget every so many (see the module's doc)."""
        return checked(items, self.budget)


_Check = Callable[[_Context], Iterable[Problem]]


# --------------------------------------------------------------------------- record checks
#
# The checks below that look at one record or one list of ids are public, so that a reader that
# checks a request record by record (the gRPC edge's lazy calendar reader) applies the same
# rules with the same codes and words, and each rule has one owner.


def repeated_ids(ids: Sequence[str]) -> Iterator[tuple[int, int]]:
    """Each repeat of an id after its first use: (index, index of the first use)."""
    first: dict[str, int] = {}
    for index, ident in enumerate(ids):
        if ident in first:
            yield index, first[ident]
        else:
            first[ident] = index


def duplicate_id_message(collection: str, ident: str, first: int) -> str:
    """The words of a `duplicate_id` problem."""
    return f"id {quote_id(ident)} is used already by {collection}[{first}]"


def unknown_reference(kind: str, ident: str) -> tuple[str, str]:
    """The code and words of a reference to a `kind` (site, therapist, referral) that the
    instance does not have."""
    return f"unknown_{kind}", f"no {kind} has id {quote_id(ident)}"


def overlapping(entries: Sequence[tuple[time, time, int]]) -> Iterator[tuple[int, int]]:
    """Pairs (first, second) of one therapist's roster entries on one day that overlap; each
    entry is (start, end, index)."""
    for (_, end, first), (start, _, second) in pairwise(sorted(entries)):
        if start < end:
            yield first, second


def roster_overlap_message(first: int, day: date) -> str:
    """The words of a `roster_overlap` problem."""
    return f"overlaps roster[{first}] on {day}: a therapist works at one site at a time"


# --------------------------------------------------------------------------- ids and references


def _check_unique_ids(ctx: _Context) -> Iterator[Problem]:
    """Sites, therapists, bookings and referrals each have ids unique among their kind."""
    inst = ctx.instance
    kinds: tuple[tuple[str, Sequence[str]], ...] = (
        ("sites", [s.id for s in inst.sites]),
        ("therapists", [t.id for t in ctx.each(inst.therapists)]),
        ("bookings", [b.id for b in ctx.each(inst.bookings)]),
        ("referrals", [r.id for r in ctx.each(inst.referrals)]),
    )
    for collection, ids in kinds:
        for index, first in repeated_ids(ids):
            yield _problem(
                "duplicate_id",
                _at(collection, index, ids[index]),
                duplicate_id_message(collection, ids[index], first),
            )


def _check_references(ctx: _Context) -> Iterator[Problem]:
    """Every site, therapist and referral an entry names exists in the instance."""
    inst = ctx.instance

    def unknown(kind: str, where: str, ident: str) -> Problem:
        code, message = unknown_reference(kind, ident)
        return _problem(code, where, message)

    for t_index, therapist in ctx.each(enumerate(inst.therapists)):
        for r_index, entry in enumerate(therapist.roster):
            if entry.site_id not in ctx.site_ids:
                where = f"{_at('therapists', t_index, therapist.id)}.roster[{r_index}].site_id"
                yield unknown("site", where, entry.site_id)
    for index, booking in ctx.each(enumerate(inst.bookings)):
        where = _at("bookings", index, booking.id)
        if booking.therapist_id not in ctx.therapists:
            yield unknown("therapist", f"{where}.therapist_id", booking.therapist_id)
        if booking.site_id is not None and booking.site_id not in ctx.site_ids:
            yield unknown("site", f"{where}.site_id", booking.site_id)
        if booking.referral_id is not None and booking.referral_id not in ctx.referrals:
            yield unknown("referral", f"{where}.referral_id", booking.referral_id)
    for index, referral in ctx.each(enumerate(inst.referrals)):
        if referral.chosen_site_id is not None and referral.chosen_site_id not in ctx.site_ids:
            where = f"{_at('referrals', index, referral.id)}.chosen_site_id"
            yield unknown("site", where, referral.chosen_site_id)


# --------------------------------------------------------------------------- sites and rosters


def _check_opening_hours(ctx: _Context) -> Iterator[Problem]:
    """A site's opening hours on one weekday do not overlap (split hours are fine)."""
    for index, site in enumerate(ctx.instance.sites):
        by_day: dict[int, list[tuple[time, time]]] = defaultdict(list)
        for hours in site.opening_hours:
            by_day[hours.weekday].append((hours.open, hours.close))
        for weekday, spans in sorted(by_day.items()):
            spans.sort()
            for (_, close), (nxt_open, _) in pairwise(spans):
                if nxt_open < close:
                    yield _problem(
                        "opening_hours_overlap",
                        f"{_at('sites', index, site.id)}.opening_hours",
                        f"hours on weekday {weekday} overlap ({nxt_open} is before {close})",
                    )


def _check_rosters(ctx: _Context) -> Iterator[Problem]:
    """Roster entries: one at a time per therapist, on working days, within the site's opening
    hours. (A roster entry on an absence day is normal: the absence wins.)"""
    sites = {s.id: s for s in ctx.instance.sites}
    for t_index, therapist in ctx.each(enumerate(ctx.instance.therapists)):
        base = _at("therapists", t_index, therapist.id)
        by_day: dict[date, list[tuple[time, time, int]]] = defaultdict(list)
        for r_index, entry in enumerate(therapist.roster):
            where = f"{base}.roster[{r_index}]"
            by_day[entry.date].append((entry.start, entry.end, r_index))
            if not ctx.cal.is_working_day(entry.date):
                yield _problem(
                    "roster_on_closed_day",
                    where,
                    f"{entry.date} ({entry.date:%A}) is not a working day: no training then",
                )
                continue  # no training that day, whatever the site's hours
            site = sites.get(entry.site_id)
            if site is None:
                continue  # reported by _check_references
            spans = site.hours_on(entry.date)
            if not any(h.open <= entry.start and entry.end <= h.close for h in spans):
                opening = ", ".join(f"{h.open:%H:%M}-{h.close:%H:%M}" for h in spans) or "closed"
                yield _problem(
                    "roster_outside_opening_hours",
                    where,
                    f"{entry.start:%H:%M}-{entry.end:%H:%M} on {entry.date} ({entry.date:%A}) is "
                    f"not within the opening hours of site {site.id!r} that day ({opening})",
                )
        for day, entries in sorted(by_day.items()):
            for first, second in overlapping(entries):
                yield _problem(
                    "roster_overlap", f"{base}.roster[{second}]", roster_overlap_message(first, day)
                )


def _check_roster_ahead(ctx: _Context) -> Iterator[Problem]:
    """Every therapist has some rostered working day after the planning date."""
    after = ctx.instance.planning_date
    for index, therapist in ctx.each(enumerate(ctx.instance.therapists)):
        if not any(
            e.date > after and ctx.cal.is_working_day(e.date) and not therapist.is_absent(e.date)
            for e in therapist.roster
        ):
            yield _problem(
                "no_roster_ahead",
                _at("therapists", index, therapist.id),
                f"no rostered working day after the planning date {after}: "
                "cannot take any first session",
            )


# --------------------------------------------------------------------------- bookings


def _check_bookings_in_roster(ctx: _Context) -> Iterator[Problem]:
    """A booking lies within its therapist's rostered hours and not during an absence."""
    for index, booking in ctx.each(enumerate(ctx.instance.bookings)):
        therapist = ctx.therapists.get(booking.therapist_id)
        if therapist is None:
            continue  # reported by _check_references
        where = _at("bookings", index, booking.id)
        day = booking.start.date()
        if therapist.is_absent(day):
            yield _problem(
                "booking_during_absence",
                where,
                f"therapist {therapist.id!r} is absent on {day}",
            )
        elif not any(
            e.date == day and e.start <= booking.start.time() and booking.end.time() <= e.end
            for e in therapist.roster
        ):
            yield _problem(
                "booking_outside_roster",
                where,
                f"{booking.start:%Y-%m-%d %H:%M}-{booking.end:%H:%M} is not within a roster entry "
                f"of therapist {therapist.id!r}",
            )


def _check_booking_fields(ctx: _Context) -> Iterator[Problem]:
    """A home visit uses no room; `tentative` is for a referral's first session."""
    for index, booking in ctx.each(enumerate(ctx.instance.bookings)):
        where = _at("bookings", index, booking.id)
        if booking.at_home and booking.site_id is not None:
            yield _problem(
                "home_booking_with_site",
                f"{where}.site_id",
                f"a home visit uses no room, but the booking names site {booking.site_id!r}",
            )
        if booking.status is BookingStatus.TENTATIVE and booking.referral_id is None:
            yield _problem(
                "tentative_without_referral",
                f"{where}.status",
                "only a referral's first session can be tentative; this booking names no "
                "referral, so it stays where it is",
            )


def _overlaps(
    items: list[tuple[datetime, datetime, int]],
) -> Iterator[tuple[int, int]]:
    """Pairs (earlier, later) of overlapping intervals, each later one reported once."""
    items.sort()
    latest_end: datetime | None = None
    latest_index = -1
    for start, end, index in items:
        if latest_end is not None and start < latest_end:
            yield latest_index, index
        if latest_end is None or end > latest_end:
            latest_end, latest_index = end, index


def _check_double_bookings(ctx: _Context) -> Iterator[Problem]:
    """A therapist is in one booking at a time."""
    bookings = ctx.instance.bookings
    by_therapist: dict[str, list[tuple[datetime, datetime, int]]] = defaultdict(list)
    for index, booking in ctx.each(enumerate(bookings)):
        if holds_time(booking, ctx.referrals):
            by_therapist[booking.therapist_id].append((booking.start, booking.end, index))
    for therapist_id, items in ctx.each(by_therapist.items()):
        for first, second in _overlaps(items):
            yield _problem(
                "therapist_double_booked",
                _at("bookings", second, bookings[second].id),
                f"therapist {therapist_id!r} is also booked by "
                f"{_at('bookings', first, bookings[first].id)} at that time",
            )


def _check_site_rooms(ctx: _Context) -> Iterator[Problem]:
    """No more bookings at a site at once than it has rooms."""
    rooms = {s.id: s.rooms for s in ctx.instance.sites}
    events: dict[str, list[tuple[datetime, int, int]]] = defaultdict(list)
    for index, booking in ctx.each(enumerate(ctx.instance.bookings)):
        if booking.site_id in rooms and not booking.at_home and holds_time(booking, ctx.referrals):
            events[booking.site_id].append((booking.start, 1, index))
            events[booking.site_id].append((booking.end, -1, index))
    for site_id, site_events in events.items():
        site_events.sort(key=lambda e: (e[0], e[1]))  # ends before starts at the same instant
        in_use = 0
        reported_days: set[date] = set()
        for moment, delta, index in ctx.each(site_events):
            in_use += delta
            if in_use > rooms[site_id] and moment.date() not in reported_days:
                reported_days.add(moment.date())
                booking = ctx.instance.bookings[index]
                yield _problem(
                    "site_overbooked",
                    _at("bookings", index, booking.id),
                    f"{in_use} bookings at site {site_id!r} at {moment:%Y-%m-%d %H:%M}, "
                    f"but it has {rooms[site_id]} room(s)",
                )


def _check_referral_bookings(ctx: _Context) -> Iterator[Problem]:
    """A referral has at most one first session booked, not before the plan was received, with
    a therapist qualified for it, where the citizen chose."""
    seen: dict[str, int] = {}
    for index, booking in ctx.each(enumerate(ctx.instance.bookings)):
        if booking.referral_id is None:
            continue
        where = _at("bookings", index, booking.id)
        if booking.referral_id in seen:
            yield _problem(
                "referral_booked_twice",
                f"{where}.referral_id",
                f"referral {booking.referral_id!r} already has a first session in "
                f"bookings[{seen[booking.referral_id]}]",
            )
            continue
        seen[booking.referral_id] = index
        referral = ctx.referrals.get(booking.referral_id)
        if referral is None:
            continue  # reported by _check_references
        if booking.start.date() < referral.received_date:
            yield _problem(
                "booked_before_received",
                f"{where}.start",
                f"{booking.start.date()} is before referral {referral.id!r} was received "
                f"({referral.received_date})",
            )
        yield from _booking_mismatches(ctx, where, booking, referral)


def _booking_mismatches(
    ctx: _Context, where: str, booking: Booking, referral: Referral
) -> Iterator[Problem]:
    therapist = ctx.therapists.get(booking.therapist_id)
    found: list[str] = []
    if therapist is not None and therapist.discipline is not referral.discipline:
        found.append(
            f"therapist {therapist.id!r} is {therapist.discipline}, the referral needs "
            f"{referral.discipline}"
        )
    if (
        therapist is not None
        and referral.level is Level.AVANCERET
        and referral.specialty not in therapist.specialties
    ):
        found.append(
            f"therapist {therapist.id!r} is not approved for avanceret {referral.specialty!r}"
        )
    if booking.at_home != referral.home_training:
        found.append(
            "a home visit for a referral without home training"
            if booking.at_home
            else "not a home visit, but the referral needs home training"
        )
    if referral.chosen_site_id is not None and booking.site_id not in (
        None,
        referral.chosen_site_id,
    ):
        found.append(
            f"at site {booking.site_id!r}, but the citizen chose {referral.chosen_site_id!r}"
        )
    for text in found:
        yield _problem("referral_booking_mismatch", where, f"referral {referral.id!r}: {text}")


# --------------------------------------------------------------------------- referrals


def _check_specialty_variants(ctx: _Context) -> Iterator[Problem]:
    """Therapists spell one specialty one way (`neuro`, not also `Neuro` or `neuro `)."""
    spellings: dict[str, dict[str, str]] = defaultdict(dict)
    for therapist in ctx.each(ctx.instance.therapists):
        for specialty in therapist.specialties:
            spellings[_norm(specialty)].setdefault(specialty, therapist.id)
    for variants in spellings.values():
        if len(variants) > 1:
            listed = ", ".join(f"{s!r} ({t})" for s, t in sorted(variants.items()))
            yield _problem(
                "specialty_variants",
                "therapists",
                f"one specialty is spelled in {len(variants)} ways: {listed}",
            )


def _check_qualified_therapists(ctx: _Context) -> Iterator[Problem]:
    """Each referral has a therapist of its discipline (and avanceret specialty), and for home
    training one who does home visits; a specialty spelled unlike every therapist's is named."""
    therapists = ctx.instance.therapists
    for index, referral in ctx.each(enumerate(ctx.instance.referrals)):
        where = _at("referrals", index, referral.id)
        qualified = [t for t in therapists if competent(t, referral)]
        if not qualified:
            yield _no_qualified(where, referral, therapists)
        elif referral.home_training and not any(t.home_visits for t in qualified):
            yield _problem(
                "no_home_visit_therapist",
                where,
                "home training, but no qualified therapist does home visits",
            )


def _no_qualified(where: str, referral: Referral, therapists: Sequence[Therapist]) -> Problem:
    discipline = [t for t in therapists if t.discipline is referral.discipline]
    if referral.level is Level.BASAL or referral.specialty is None or not discipline:
        return _problem("no_qualified_therapist", where, f"no therapist is {referral.discipline}")
    known = sorted({s for t in discipline for s in t.specialties})
    same = [s for s in known if _norm(s) == _norm(referral.specialty)]
    close = same or difflib.get_close_matches(referral.specialty, known, n=1, cutoff=0.75)
    if close:
        return _problem(
            "specialty_spelling",
            f"{where}.specialty",
            f"no {referral.discipline} therapist is approved for {referral.specialty!r}; "
            f"did you mean {close[0]!r}?",
        )
    return _problem(
        "no_qualified_therapist",
        f"{where}.specialty",
        f"no {referral.discipline} therapist is approved for avanceret {referral.specialty!r}",
    )


def _check_exclusions(ctx: _Context) -> Iterator[Problem]:
    """Referrals not for this scheduler (a specialiseret level; under 18 where the policy sends
    children to the børneteam) are named with where they belong: they are rejected, the others
    planned."""
    for index, referral in ctx.each(enumerate(ctx.instance.referrals)):
        rejected = exclusion(referral, ctx.instance.policy)
        if rejected is not None:
            yield _problem(
                "excluded_referral",
                _at("referrals", index, referral.id),
                f"will be rejected ({rejected[0].value}), the others planned: {rejected[1]}",
            )


def _check_referral_dates(ctx: _Context) -> Iterator[Problem]:
    """A referral is received by the planning date, and its plan-specified start makes sense:
    an earlier start that can still be met, a later start that is later than the deadline."""
    inst = ctx.instance
    policy = inst.policy
    for index, referral in ctx.each(enumerate(inst.referrals)):
        where = _at("referrals", index, referral.id)
        if referral.received_date > inst.planning_date:
            yield _problem(
                "received_after_planning",
                f"{where}.received_date",
                f"received {referral.received_date}, after the planning date {inst.planning_date}",
            )
        if referral.plan_start_date is None:
            continue
        if referral.plan_start_kind is PlanStartKind.EARLIER:
            first = earliest_start(referral, policy, ctx.cal)
            if referral.plan_start_date < first:
                yield _problem(
                    "plan_start_unreachable",
                    f"{where}.plan_start_date",
                    f"the plan asks for a start by {referral.plan_start_date}, but the "
                    f"earliest possible start is {first}: it will be late",
                )
        elif referral.plan_start_kind is PlanStartKind.LATER:
            plain = referral.model_copy(update={"plan_start_date": None, "plan_start_kind": None})
            deadline = statutory_deadline(plain, policy, ctx.cal)
            if referral.plan_start_date <= deadline:
                yield _problem(
                    "plan_later_not_later",
                    f"{where}.plan_start_date",
                    f"a 'later' start on {referral.plan_start_date} is not after the ordinary "
                    f"deadline {deadline}; the deadline still moves to "
                    f"{policy.deadline_days} days after it",
                )


def _check_session_length(ctx: _Context) -> Iterator[Problem]:
    """A first session fits in the policy's daytime window."""
    policy = ctx.instance.policy
    day = as_minutes(policy.day_end) - as_minutes(policy.day_start)
    for index, referral in ctx.each(enumerate(ctx.instance.referrals)):
        if referral.first_session_minutes > day:
            yield _problem(
                "session_longer_than_day",
                f"{_at('referrals', index, referral.id)}.first_session_minutes",
                f"{referral.first_session_minutes} minutes do not fit in the daytime window "
                f"{policy.day_start:%H:%M}-{policy.day_end:%H:%M} ({day} minutes)",
            )


def _check_something_to_plan(ctx: _Context) -> Iterator[Problem]:
    """An instance has referrals to plan."""
    if not ctx.instance.referrals:
        yield _problem("nothing_to_plan", "referrals", "the instance has no referrals")


_CHECKS: tuple[_Check, ...] = (
    _check_unique_ids,
    _check_references,
    _check_opening_hours,
    _check_rosters,
    _check_roster_ahead,
    _check_bookings_in_roster,
    _check_booking_fields,
    _check_double_bookings,
    _check_site_rooms,
    _check_referral_bookings,
    _check_specialty_variants,
    _check_qualified_therapists,
    _check_exclusions,
    _check_referral_dates,
    _check_session_length,
    _check_something_to_plan,
)
"""Every check :func:`validate_instance` runs, in order."""


def validate_instance(instance: Instance, budget: Budget | None = None) -> list[Problem]:
    """Every problem found across the instance: errors first, then warnings, each in order.

    With a `budget`, raises :class:`~scheduler.planning.budget.BudgetExpired` soon after it is
    stopped or spent (every check looks at it every so many records)."""
    ctx = _Context.of(instance, budget)
    found = [problem for check in checked(_CHECKS, budget, every=1) for problem in check(ctx)]
    return sorted(found, key=lambda p: p.severity is not Severity.ERROR)


def has_errors(problems: Iterable[Problem]) -> bool:
    """Whether any problem is an error: the instance must be fixed before planning."""
    return any(p.severity is Severity.ERROR for p in problems)
