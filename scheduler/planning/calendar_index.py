"""A calendar held for many proposals and changed by deltas: the day-indexed rosters and bookings
:func:`scheduler.planning.propose.rank_slots` reads, updated a day at a time.

:func:`index_calendar` builds a :class:`CalendarIndex` from a domain instance once;
:meth:`CalendarIndex.apply` makes the next one from a :class:`CalendarDelta` (bookings added or
removed by id, therapists and referrals added or replaced by id) without touching the days the
delta does not touch: the new index shares every other day's entries with the old one, so both
stay valid (an index is never changed after it is built; proposals on it may run in any thread
while the next one is made).

Per day the bookings are indexed by therapist and, for those that fill a room, by site, so a
proposal reads only the bookings of the therapists it looks at and of the rooms it could use
(not the whole day); per day the roster entries are indexed by therapist. The answer is the same
as :func:`scheduler.planning.propose.index_calendars` on the same instance (tests check it).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from collections.abc import Set as AbstractSet
from dataclasses import dataclass, field, replace
from datetime import date
from typing import Any

from scheduler.domain import Booking, BookingStatus, Instance, Referral, Therapist
from scheduler.planning.propose import Calendars, DayGaps, Held, Shift, day_gaps
from scheduler.rules.calendar import as_minutes
from scheduler.rules.courses import PromisedCourse, promised_courses

__all__ = [
    "CalendarDelta",
    "CalendarIndex",
    "DeltaError",
    "index_calendar",
]


class DeltaError(ValueError):
    """A delta that does not fit the calendar it is applied to; `problems` lists every one as
    ``(where, message)`` with `where` a path into the delta (``bookings_removed[2]``)."""

    def __init__(self, problems: Sequence[tuple[str, str]]) -> None:
        self.problems = list(problems)
        super().__init__("; ".join(f"{w}: {m}" for w, m in self.problems))


@dataclass(frozen=True)
class CalendarDelta:
    """A change to a held calendar. Applied in this order: bookings removed, bookings added,
    therapists and referrals replaced or added (a booking moved is removed and added again
    under the same id)."""

    bookings_added: Sequence[Booking] = ()
    bookings_removed: Sequence[str] = ()
    """Booking ids; each must be held."""
    therapists: Sequence[Therapist] = ()
    """Each replaces the held therapist with its id (roster and absences included), or is new."""
    referrals: Sequence[Referral] = ()
    """Each replaces the held referral with its id, or is new."""
    referrals_removed: Sequence[str] = ()
    """Referral ids; each must be held."""


@dataclass(frozen=True, slots=True)
class _FreeDay:
    """One day's free time of every therapist and site, no booking released, and per referral
    the therapists holding a tentative first session of it that day."""

    gaps: DayGaps
    tentative: Mapping[str, frozenset[int]]


@dataclass(frozen=True, slots=True)
class _Day:
    """One day's bookings: by the therapist whose time they hold, and by the site whose room
    they fill (at a site, not at home)."""

    by_therapist: Mapping[str, tuple[Held, ...]]
    by_room: Mapping[str, tuple[Held, ...]]


def _fills_room(b: Booking) -> bool:
    return b.site_id is not None and not b.at_home


def _day_of(bookings: Iterable[Booking]) -> _Day:
    by_therapist: dict[str, list[Held]] = defaultdict(list)
    by_room: dict[str, list[Held]] = defaultdict(list)
    for b in bookings:
        h = Held.of(b)
        by_therapist[b.therapist_id].append(h)
        if _fills_room(b):
            assert b.site_id is not None
            by_room[b.site_id].append(h)
    return _Day(
        {k: tuple(v) for k, v in by_therapist.items()}, {k: tuple(v) for k, v in by_room.items()}
    )


def _shifts_of(therapists: Sequence[Therapist]) -> dict[date, dict[int, tuple[Shift, ...]]]:
    shifts: dict[date, dict[int, list[Shift]]] = defaultdict(lambda: defaultdict(list))
    for t_idx, t in enumerate(therapists):
        for e in t.roster:
            shifts[e.date][t_idx].append(
                Shift(t_idx, as_minutes(e.start), as_minutes(e.end), e.site_id)
            )
    return {day: {t: tuple(s) for t, s in by_t.items()} for day, by_t in shifts.items()}


@dataclass(frozen=True)
class CalendarIndex:
    """A held calendar: the domain instance (for validation and the referrals) and the
    day-indexed rosters and bookings a proposal reads. Never changed once built."""

    instance: Instance
    """The calendar as an instance: planning date, policy, sites, therapists, bookings, the
    referrals known."""
    bookings: Mapping[str, Booking]
    """The bookings by id, in instance order."""
    days: Mapping[date, Mapping[str, Booking]]
    """Per day, the bookings starting on it by id."""
    booking_days: Mapping[date, _Day]
    shifts: Mapping[date, Mapping[int, tuple[Shift, ...]]]
    """Per day, the roster entries by therapist index."""
    referrals: Mapping[str, Referral] = field(default_factory=dict)
    _free: dict[date, _FreeDay] = field(default_factory=dict, compare=False, repr=False)
    """Per day, worked out when first asked (:meth:`day_gaps`); a cache, not state: a race
    works a day out twice, with the same result."""
    _promised: list[tuple[PromisedCourse, ...]] = field(
        default_factory=list, compare=False, repr=False
    )
    """The promised courses (:func:`~scheduler.rules.courses.promised_courses`), worked out
    when first asked (one pass over the bookings per index); a cache like `_free`."""
    _memo: dict[Any, Any] = field(default_factory=dict, compare=False, repr=False)
    """The memo of :meth:`calendars` (``Calendars.memo``); a cache like `_free`."""

    # ------------------------------------------------------------------ reading

    def shifts_on(self, day: date, therapists: AbstractSet[int]) -> list[Shift]:
        """The roster entries on `day` of the therapists with those indices."""
        by_t = self.shifts.get(day)
        if not by_t:
            return []
        out: list[Shift] = []
        for t in therapists:
            out.extend(by_t.get(t, ()))
        return out

    def bookings_on(
        self, day: date, therapist_ids: AbstractSet[str], site_ids: AbstractSet[str]
    ) -> list[Held]:
        """The bookings on `day` holding the time of one of `therapist_ids` or filling a room at
        one of `site_ids`, each once."""
        d = self.booking_days.get(day)
        if d is None:
            return []
        out: list[Held] = []
        for t in therapist_ids:
            out.extend(d.by_therapist.get(t, ()))
        for s in site_ids:
            # A room booking of a therapist already read is in `out` already.
            out.extend(h for h in d.by_room.get(s, ()) if h.therapist_id not in therapist_ids)
        return out

    def promised(self) -> tuple[PromisedCourse, ...]:
        """The courses promised with communicated first sessions still to come."""
        if not self._promised:
            self._promised.append(tuple(promised_courses(self.instance)))
        return self._promised[0]

    def _plain(self) -> Calendars:
        return Calendars(
            planning_date=self.instance.planning_date,
            policy=self.instance.policy,
            sites=self.instance.sites,
            therapists=self.instance.therapists,
            shifts_on=self.shifts_on,
            bookings_on=self.bookings_on,
        )

    def calendars(self) -> Calendars:
        """What :func:`~scheduler.planning.propose.rank_slots` reads, from this index (with
        each day's free time kept: :meth:`day_gaps`, :meth:`free_minutes`), sharing one memo
        per index, so what proposals work out alike is kept across them (``Calendars.memo``;
        it holds values only, never the index: a dropped version is freed at once)."""
        return replace(
            self._plain(),
            free_minutes=self.free_minutes,
            day_gaps=self.day_gaps,
            promised=self.promised(),
            memo=self._memo,
        )

    def _day_free(self, day: date) -> _FreeDay:
        got = self._free.get(day)
        if got is None:
            everyone = self.instance.therapists
            position = {t.id: i for i, t in enumerate(everyone)}
            tentative: dict[str, set[int]] = defaultdict(set)
            for b in self.days.get(day, {}).values():
                if b.status is BookingStatus.TENTATIVE and b.referral_id is not None:
                    tentative[b.referral_id].add(position[b.therapist_id])
            gaps = day_gaps(self._plain(), day, frozenset(range(len(everyone))), frozenset())
            got = _FreeDay(gaps, {r: frozenset(ts) for r, ts in tentative.items()})
            self._free[day] = got
        return got

    def day_gaps(self, day: date, referral_id: str) -> DayGaps:
        """:func:`~scheduler.planning.propose.day_gaps` on `day` for every therapist and site,
        the referral's tentative first sessions released: worked out once per day and kept;
        worked out again only for a referral holding a tentative booking that day."""
        got = self._day_free(day)
        if referral_id not in got.tentative:
            return got.gaps
        everyone = frozenset(range(len(self.instance.therapists)))
        return day_gaps(self._plain(), day, everyone, {referral_id})

    def free_minutes(
        self, day: date, therapists: AbstractSet[int], referral_id: str
    ) -> Mapping[int, int]:
        """:func:`~scheduler.planning.propose.day_free_minutes` on `day`, the referral's
        tentative first sessions released: every therapist's free minutes are worked out once
        per day and kept; only the therapists holding a tentative booking of the referral that
        day are worked out again (``therapists`` may be ignored: more come back)."""
        got = self._day_free(day)
        own = got.tentative.get(referral_id)
        if not own:
            return got.gaps.free
        adjusted = dict(got.gaps.free)
        for t in own:
            adjusted.pop(t, None)
        released = day_gaps(self._plain(), day, own, {referral_id}, rooms=False)
        adjusted.update(released.free)
        return adjusted

    # ------------------------------------------------------------------ changing

    def apply(self, delta: CalendarDelta) -> CalendarIndex:
        """The index after `delta`: only the days of bookings removed or added are re-indexed
        (the rosters are re-indexed when therapists change). Raises :class:`DeltaError` with
        every problem of the delta against this calendar (an id removed that is not held, an
        id added that is held and not removed, an id twice in the delta). The result is not
        validated as an instance: see :func:`scheduler.verify.validation.validate_instance`."""
        problems: list[tuple[str, str]] = []
        bookings = dict(self.bookings)
        touched: dict[date, dict[str, Booking] | None] = {}

        def day_bookings(day: date) -> dict[str, Booking]:
            got = touched.get(day)
            if got is None:
                got = dict(self.days.get(day, {}))
                touched[day] = got
            return got

        removed: set[str] = set()
        # The promised courses change only with a referral's first session or the referrals.
        promises_kept = not (delta.referrals or delta.referrals_removed) and not any(
            b.referral_id is not None for b in delta.bookings_added
        )
        for i, bid in enumerate(delta.bookings_removed):
            if bid in removed:
                problems.append((f"bookings_removed[{i}]", "removed twice"))
                continue
            old = bookings.pop(bid, None)
            if old is None:
                problems.append((f"bookings_removed[{i}]", "no booking with this id is held"))
                continue
            removed.add(bid)
            promises_kept = promises_kept and old.referral_id is None
            del day_bookings(old.start.date())[bid]
        for i, b in enumerate(delta.bookings_added):
            if b.id in bookings:
                problems.append(
                    (f"bookings_added[{i}].id", "a booking with this id is held: remove it first")
                )
                continue
            bookings[b.id] = b
            day_bookings(b.start.date())[b.id] = b
        therapists = list(self.instance.therapists)
        if delta.therapists:
            position = {t.id: i for i, t in enumerate(therapists)}
            seen: set[str] = set()
            for i, t in enumerate(delta.therapists):
                if t.id in seen:
                    problems.append((f"therapists[{i}].id", "twice in the update"))
                    continue
                seen.add(t.id)
                if t.id in position:
                    therapists[position[t.id]] = t
                else:
                    position[t.id] = len(therapists)
                    therapists.append(t)
        referrals = dict(self.referrals)
        for i, rid in enumerate(delta.referrals_removed):
            if referrals.pop(rid, None) is None:
                problems.append((f"referrals_removed[{i}]", "no referral with this id is held"))
        seen_referrals: set[str] = set()
        for i, r in enumerate(delta.referrals):
            if r.id in seen_referrals:
                problems.append((f"referrals[{i}].id", "twice in the update"))
                continue
            seen_referrals.add(r.id)
            referrals[r.id] = r
        if problems:
            raise DeltaError(problems)
        days = dict(self.days)
        booking_days = dict(self.booking_days)
        for day, held in touched.items():
            assert held is not None
            if held:
                days[day] = held
                booking_days[day] = _day_of(held.values())
            else:
                days.pop(day, None)
                booking_days.pop(day, None)
        instance = self.instance.model_copy(
            update={
                "therapists": therapists,
                "bookings": list(bookings.values()),
                "referrals": list(referrals.values()),
            }
        )
        return CalendarIndex(
            instance=instance,
            bookings=bookings,
            days=days,
            booking_days=booking_days,
            shifts=_shifts_of(therapists) if delta.therapists else self.shifts,
            referrals=referrals,
            # The free minutes of a day depend on its bookings and the therapists only.
            _free={}
            if delta.therapists
            else {day: f for day, f in list(self._free.items()) if day not in touched},
            _promised=list(self._promised) if promises_kept else [],
        )


def index_calendar(instance: Instance) -> CalendarIndex:
    """The held form of `instance`'s calendar (built once; O(bookings + roster entries))."""
    bookings = {b.id: b for b in instance.bookings}
    days: dict[date, dict[str, Booking]] = defaultdict(dict)
    for b in bookings.values():
        days[b.start.date()][b.id] = b
    return CalendarIndex(
        instance=instance,
        bookings=bookings,
        days=dict(days),
        booking_days={day: _day_of(held.values()) for day, held in days.items()},
        shifts=_shifts_of(instance.therapists),
        referrals={r.id: r for r in instance.referrals},
    )
