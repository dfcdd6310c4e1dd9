"""The lazy instance reader of ProposeSlots: the calendars a proposal reads, read from the message.

ProposeSlots reads a few therapists and a few days of a large instance. Converting the whole
message into domain models first (:func:`scheduler.api.convert.instance_from_proto`) costs more
than the proposal itself (about 120 ms for a København week), so :func:`calendars_from_proto`
reads only what the proposal asks for, checks each record it reads (as the models and
scheduler.verify.validation would) and leaves the rest unread: :class:`_RosterDays` reads a day's
roster entries, :class:`_BookingDays` a day's bookings.
"""

from __future__ import annotations

import functools
from collections import defaultdict
from collections.abc import Callable, Sequence
from collections.abc import Set as AbstractSet
from datetime import date, datetime, time
from typing import TypeVar

from google.type import date_pb2, datetime_pb2, timeofday_pb2

from scheduler.api.convert import (
    booking_from_proto,
    enum_to_proto,
    policy_from_proto,
    referral_from_proto,
    site_from_proto,
    therapist_from_proto,
)
from scheduler.api.errors import LOCAL_TIME_ONLY, ConversionError, FieldViolation
from scheduler.domain import Booking, BookingStatus, Referral, Site, Therapist
from scheduler.domain.inputs import id_tag
from scheduler.domain.policy import Policy
from scheduler.planning.propose import Calendars, Held, Shift
from scheduler.rules.calendar import as_minutes
from scheduler.rules.courses import courses_promised
from scheduler.v1 import scheduler_pb2 as pb
from scheduler.verify.validation import (
    duplicate_id_message,
    overlapping,
    repeated_ids,
    roster_overlap_message,
    unknown_reference,
)

__all__ = ["calendars_from_proto"]

_T = TypeVar("_T")

_BOOKING_STATUS: dict[int, BookingStatus] = {
    0: BookingStatus.COMMUNICATED,  # unset: the domain default
    **{pb.BookingStatus.Value(enum_to_proto(s)): s for s in BookingStatus},
}


def _date_of(msg: date_pb2.Date, path: str, out: list[FieldViolation]) -> date | None:
    try:
        return date(msg.year, msg.month, msg.day)
    except ValueError as exc:
        out.append(FieldViolation(path, f"not a valid date: {exc}"))
        return None


def _time_of(msg: timeofday_pb2.TimeOfDay, path: str, out: list[FieldViolation]) -> time | None:
    try:
        return time(msg.hours, msg.minutes, msg.seconds, msg.nanos // 1000)
    except ValueError as exc:
        out.append(FieldViolation(path, f"not a valid time of day: {exc}"))
        return None


def _datetime_of(
    msg: datetime_pb2.DateTime, path: str, out: list[FieldViolation]
) -> datetime | None:
    if msg.WhichOneof("time_offset") is not None:
        out.append(FieldViolation(path, LOCAL_TIME_ONLY))
    try:
        return datetime(
            msg.year, msg.month, msg.day, msg.hours, msg.minutes, msg.seconds, msg.nanos // 1000
        )
    except ValueError as exc:
        out.append(FieldViolation(path, f"not a valid date-time: {exc}"))
        return None


def _duplicates(ids: Sequence[str], collection: str, path: str) -> list[FieldViolation]:
    """Validation's duplicate_id, as field violations."""
    return [
        FieldViolation(
            f"{path}.{collection}[{index}]({id_tag(ids[index])})",
            f"{duplicate_id_message(collection, ids[index], first)} [duplicate_id]",
        )
        for index, first in repeated_ids(ids)
    ]


def _unknown(where: str, kind: str, ident: str) -> FieldViolation:
    """Validation's unknown reference, as a field violation."""
    code, message = unknown_reference(kind, ident)
    return FieldViolation(where, f"{message} [{code}]")


class _RosterDays:
    """The rosters of an instance message's therapists, read and checked one day at a time.

    The first call for a therapist indexes their roster entries by the day of the month of
    their date (one field per entry); a call then reads in full only the entries on its day.
    """

    def __init__(self, msg: pb.Instance, path: str, site_ids: frozenset[str]) -> None:
        self._therapists = msg.therapists
        self._path = path
        self._site_ids = site_ids
        self._indexed: set[int] = set()
        self._index: dict[int, list[tuple[int, int]]] = defaultdict(list)

    def __call__(self, day: date, therapists: AbstractSet[int]) -> list[Shift]:
        """The roster entries on `day` of `therapists`; raises :class:`ConversionError` with
        every problem of the entries read."""
        for t in therapists - self._indexed:
            for j, e in enumerate(self._therapists[t].roster):
                self._index[e.date.day].append((t, j))
            self._indexed.add(t)
        shifts: list[Shift] = []
        out: list[FieldViolation] = []
        by_therapist: dict[int, list[tuple[time, time, int]]] = defaultdict(list)
        for t, j in self._index.get(day.day, ()):
            if t not in therapists:
                continue
            t_msg = self._therapists[t]
            e = t_msg.roster[j]
            if e.date.year != day.year or e.date.month != day.month:
                continue  # another month's day with the same number
            where = f"{self._path}.therapists[{t}].roster[{j}]"
            bad = len(out)
            times: list[time | None] = []
            for key in ("start", "end"):
                if e.HasField(key):
                    times.append(_time_of(getattr(e, key), f"{where}.{key}", out))
                else:
                    out.append(FieldViolation(f"{where}.{key}", "required"))
            if e.site_id not in self._site_ids:
                out.append(
                    _unknown(
                        f"{self._path}.therapists[{t}]({id_tag(t_msg.id)}).roster[{j}].site_id",
                        "site",
                        e.site_id,
                    )
                )
            if len(out) > bad:
                continue
            start, end = times
            assert start is not None and end is not None
            if end <= start:
                out.append(FieldViolation(where, f"end {end} is not after start {start}"))
                continue
            by_therapist[t].append((start, end, j))
            shifts.append(Shift(t, as_minutes(start), as_minutes(end), e.site_id))
        for t, entries in by_therapist.items():
            for first, second in overlapping(entries):
                out.append(
                    FieldViolation(
                        f"{self._path}.therapists[{t}]({id_tag(self._therapists[t].id)})"
                        f".roster[{second}]",
                        f"{roster_overlap_message(first, day)} [roster_overlap]",
                    )
                )
        if out:
            raise ConversionError(out)
        return shifts


class _BookingDays:
    """An instance message's bookings, read and checked one day at a time.

    The first call indexes the bookings by the day of the month of their start (one field per
    booking); a call then reads the bookings in its day's bucket only as far as needed to see
    whether the proposal asks for them (a therapist or a room site it names), and reads and
    checks those in full.
    """

    def __init__(
        self,
        msg: pb.Instance,
        path: str,
        therapist_ids: frozenset[str],
        site_ids: frozenset[str],
    ) -> None:
        self._bookings = msg.bookings
        self._path = path
        self._therapist_ids = therapist_ids
        self._site_ids = site_ids
        self._referral_ids = frozenset(r.id for r in msg.referrals)
        self._index: dict[int, list[int]] | None = None

    def _bucket(self, day_of_month: int) -> list[int]:
        if self._index is None:
            # Plain ints: no objects for the garbage collector to walk.
            index: dict[int, list[int]] = defaultdict(list)
            for i, b in enumerate(self._bookings):
                index[b.start.day].append(i)
            self._index = index
        return self._index.get(day_of_month, [])

    def __call__(
        self, day: date, therapist_ids: AbstractSet[str], site_ids: AbstractSet[str]
    ) -> list[Held]:
        """The bookings on `day` of `therapist_ids` or with a room at `site_ids`; raises
        :class:`ConversionError` with every problem of the bookings read."""
        held: list[Held] = []
        out: list[FieldViolation] = []
        bookings, known, statuses = self._bookings, self._therapist_ids, _BOOKING_STATUS
        year, month = day.year, day.month
        for i in self._bucket(day.day):
            b = bookings[i]
            s = b.start
            if s.month != month or s.year != year:
                continue  # another month's day with the same number
            therapist_id = b.therapist_id
            if therapist_id not in therapist_ids and (b.at_home or b.site_id not in site_ids):
                continue  # neither the time of a therapist asked for nor a room asked for
            # This loop is the service's hot path: the usual, valid booking is checked inline
            # with plain comparisons; any problem is put in words by _explain.
            e = b.end
            sh, sm, ss, sn = s.hours, s.minutes, s.seconds, s.nanos
            eh, em, es, en = e.hours, e.minutes, e.seconds, e.nanos
            site_id = b.site_id if b.HasField("site_id") else None
            referral_id = b.referral_id if b.HasField("referral_id") else None
            status = statuses.get(b.status)
            if not (
                0 <= sh < 24
                and 0 <= sm < 60
                and 0 <= ss < 60
                and 0 <= sn < 1_000_000_000
                and 0 <= eh < 24
                and 0 <= em < 60
                and 0 <= es < 60
                and 0 <= en < 1_000_000_000
                and (sh, sm, ss, sn // 1000) < (eh, em, es, en // 1000)
                and e.day == s.day
                and e.month == month
                and e.year == year
                and s.WhichOneof("time_offset") is None
                and e.WhichOneof("time_offset") is None
                and status is not None
                and therapist_id in known
                and (site_id is None or site_id in self._site_ids)
                and (referral_id is None or referral_id in self._referral_ids)
            ):
                self._explain(b, f"{self._path}.bookings[{i}]", out)
                continue
            held.append(
                Held(
                    therapist_id,
                    site_id,
                    b.at_home,
                    sh * 60 + sm,
                    eh * 60 + em,
                    status,
                    referral_id,
                )
            )
        if out:
            raise ConversionError(out)
        return held

    def _explain(self, b: pb.Booking, where: str, out: list[FieldViolation]) -> None:
        """Every problem of a booking, in words."""
        bad = len(out)
        start = _datetime_of(b.start, f"{where}.start", out)
        end = None
        if b.HasField("end"):
            end = _datetime_of(b.end, f"{where}.end", out)
        else:
            out.append(FieldViolation(f"{where}.end", "required"))
        if start is not None and end is not None:
            if end <= start:
                out.append(FieldViolation(where, f"end {end} is not after start {start}"))
            elif end.date() != start.date():
                out.append(FieldViolation(where, "a booking must start and end on the same day"))
        if b.status not in _BOOKING_STATUS:
            out.append(FieldViolation(f"{where}.status", f"unknown value {b.status}"))
        named = f"{where}({id_tag(b.id)})"
        if b.therapist_id not in self._therapist_ids:
            out.append(_unknown(f"{named}.therapist_id", "therapist", b.therapist_id))
        if b.HasField("site_id") and b.site_id not in self._site_ids:
            out.append(_unknown(f"{named}.site_id", "site", b.site_id))
        if b.HasField("referral_id") and b.referral_id not in self._referral_ids:
            out.append(_unknown(f"{named}.referral_id", "referral", b.referral_id))
        if len(out) == bad:  # cannot happen: the fast check and this one agree
            out.append(FieldViolation(where, "unreadable booking"))


def calendars_from_proto(msg: pb.Instance, path: str = "instance") -> Calendars:
    """What a proposal reads of an instance message, read straight from the message.

    Read and checked now: the planning date, the policy, the sites, every therapist's
    identity (id, discipline, approvals, home visits, absences), and the referrals fixed by a
    communicated booking with that booking (the courses they promise,
    :attr:`~scheduler.planning.propose.Calendars.promised`). Read when a proposal asks for a
    day (``Calendars.shifts_on`` and ``bookings_on``): the roster entries on that day of the
    therapists it names, and the bookings on that day of those therapists or filling a room at
    the sites it names. Each record read is checked as the domain models check it, plus the
    instance errors of :mod:`scheduler.verify.validation` that concern it (a duplicate site or
    therapist id, an unknown id it names, overlapping roster entries); records not read are not
    checked. Raises :class:`ConversionError` with every violation found; ``shifts_on`` and
    ``bookings_on`` raise it for a day with an unreadable record.
    """
    out: list[FieldViolation] = []
    planning: date | None = None
    if msg.HasField("planning_date"):
        planning = _date_of(msg.planning_date, f"{path}.planning_date", out)
    else:
        out.append(FieldViolation(f"{path}.planning_date", "required"))

    def validated(read: Callable[[], _T]) -> _T | None:
        try:
            return read()
        except ConversionError as exc:
            out.extend(exc.violations)
            return None

    policy: Policy | None = None
    if not msg.HasField("policy"):
        out.append(FieldViolation(f"{path}.policy", "required"))
    else:
        policy = validated(functools.partial(policy_from_proto, msg.policy, f"{path}.policy"))
    sites: list[Site] = []
    for i, site_msg in enumerate(msg.sites):
        site = validated(functools.partial(site_from_proto, site_msg, f"{path}.sites[{i}]"))
        if site is not None:
            sites.append(site)
    site_ids = [site_msg.id for site_msg in msg.sites]
    out += _duplicates(site_ids, "sites", path)
    therapists: list[Therapist] = []
    for i, t_msg in enumerate(msg.therapists):
        therapist = validated(
            functools.partial(therapist_from_proto, t_msg, f"{path}.therapists[{i}]", roster=False)
        )
        if therapist is not None:
            therapists.append(therapist)
    therapist_ids = [t.id for t in therapists]
    out += _duplicates(therapist_ids, "therapists", path)
    fixed = _fixed_referrals(msg, path, out)
    if out:
        raise ConversionError(out)
    assert planning is not None and policy is not None
    return Calendars(
        planning_date=planning,
        policy=policy,
        sites=sites,
        therapists=therapists,
        shifts_on=_RosterDays(msg, path, frozenset(site_ids)),
        bookings_on=_BookingDays(msg, path, frozenset(therapist_ids), frozenset(site_ids)),
        promised=courses_promised(fixed, policy, planning),
    )


def _fixed_referrals(
    msg: pb.Instance, path: str, out: list[FieldViolation]
) -> list[tuple[Referral, Booking]]:
    """The referrals of the message fixed by a communicated booking, each with its last one
    (:func:`scheduler.rules.commitments.fixing_bookings`): read and checked, for the courses
    they promise. One pass over the bookings' status and referral fields; the rest is read
    only for those bookings and referrals."""
    position = {r.id: i for i, r in enumerate(msg.referrals)}
    last: dict[str, int] = {}
    communicated = {
        s for s, status in _BOOKING_STATUS.items() if status is BookingStatus.COMMUNICATED
    }
    for i, b in enumerate(msg.bookings):
        # An unset referral id reads "", never a referral's id: one field read for most bookings.
        if b.referral_id in position and b.status in communicated:
            last[b.referral_id] = i
    fixed: list[tuple[Referral, Booking]] = []
    for referral_id, i in last.items():
        r = position[referral_id]
        try:
            referral = referral_from_proto(msg.referrals[r], f"{path}.referrals[{r}]")
            booking = booking_from_proto(msg.bookings[i], f"{path}.bookings[{i}]")
        except ConversionError as exc:
            out.extend(exc.violations)
            continue
        fixed.append((referral, booking))
    return fixed
