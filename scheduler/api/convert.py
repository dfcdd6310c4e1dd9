"""Conversion between the gRPC messages (``scheduler.v1``) and the domain models, both ways.

Only the edges (service, server, client) use this; the core never sees a protobuf message. The
lazy reader of ProposeSlots, which reads only the days a proposal asks for, is
:mod:`scheduler.api.calendars`; the error types are in :mod:`scheduler.api.errors`.

Domain → proto is total for every valid domain object and loses nothing. Proto → domain goes
through plain data and :meth:`pydantic.BaseModel.model_validate`, so every rule of the domain
models applies and *every* problem of a request is collected at once into a
:class:`ConversionError` whose violations name the field as a path (``instance.referrals[3]
.received_date``), ready for a google.rpc ``BadRequest``.

Representation (documented in the proto and ``docs/grpc.md``): dates are ``google.type.Date``,
times of day ``google.type.TimeOfDay``, date-times ``google.type.DateTime`` in local wall-clock
time with no offset, kept to the microsecond. Unset ``optional`` settings take the domain
default. Solver stage statistics travel as ``google.protobuf.Struct``, whose numbers are
doubles: integral numbers come back as ``int``.

Converting a large request takes time (a København week: 12,565 bookings, about 0.6 s of CPU), so
:func:`instance_from_proto` and :func:`solution_to_proto` take the call's
:class:`~scheduler.planning.budget.Budget` and look at it every
:data:`~scheduler.planning.budget.CHECK_EVERY` records: a stop or a spent budget ends them with
:class:`~scheduler.planning.budget.BudgetExpired` within milliseconds. For that, an instance's
records are validated one by one (each with its own model), then the instance from them.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from datetime import date, datetime, time
from enum import StrEnum
from typing import TYPE_CHECKING, Any, TypeVar

from google.protobuf import json_format, struct_pb2
from google.protobuf.message import Message
from google.type import date_pb2, datetime_pb2, timeofday_pb2
from pydantic import BaseModel, ValidationError

from scheduler.api.errors import LOCAL_TIME_ONLY, ConversionError, FieldViolation
from scheduler.domain import (
    Assignment,
    Booking,
    BookingStatus,
    Coordinates,
    Course,
    CourseForm,
    CourseStatus,
    Discipline,
    Hold,
    Instance,
    Kpis,
    Level,
    Outcome,
    PlanStartKind,
    Reason,
    Referral,
    Site,
    Solution,
    SolveOptions,
    SolverStats,
    Therapist,
)
from scheduler.domain.inputs import quote_id
from scheduler.domain.policy import PRESETS, Anchor, DayKind, Policy, Postponement
from scheduler.outputs.letters import Letter, letters
from scheduler.planning.budget import Budget, checked
from scheduler.planning.propose import SlotProposal
from scheduler.planning.solve import Progress
from scheduler.rules.legal import LegalDates
from scheduler.v1 import scheduler_pb2 as pb

if TYPE_CHECKING:
    from scheduler.simulation.settings import SimulationSettings

__all__ = [
    "ENUM_PREFIXES",
    "assignment_to_proto",
    "booking_from_proto",
    "date_to_proto",
    "datetime_to_proto",
    "enum_to_proto",
    "instance_from_proto",
    "instance_to_proto",
    "kpis_to_proto",
    "legal_dates_to_proto",
    "letter_to_proto",
    "options_from_proto",
    "options_to_proto",
    "policy_from_proto",
    "policy_to_proto",
    "progress_to_proto",
    "proposal_to_proto",
    "referral_from_proto",
    "referral_to_proto",
    "simulation_progress_to_proto",
    "simulation_result_to_proto",
    "simulation_settings_from_proto",
    "simulation_settings_to_proto",
    "simulation_summary_from_proto",
    "site_from_proto",
    "solution_from_proto",
    "solution_to_proto",
    "therapist_from_proto",
    "time_to_proto",
]

_E = TypeVar("_E", bound=StrEnum)
_M = TypeVar("_M", bound=BaseModel)
_P = TypeVar("_P", bound=Message)

ENUM_PREFIXES: dict[type[StrEnum], str] = {
    Discipline: "DISCIPLINE",
    Level: "LEVEL",
    PlanStartKind: "PLAN_START_KIND",
    BookingStatus: "BOOKING_STATUS",
    Anchor: "ANCHOR",
    DayKind: "DAY_KIND",
    Postponement: "POSTPONEMENT",
    Outcome: "OUTCOME",
    Reason: "REASON",
    CourseForm: "COURSE_FORM",
    CourseStatus: "COURSE_STATUS",
}
"""Each domain enum's proto enum prefix: ``Discipline.PT`` is ``DISCIPLINE_PT``."""

_PROTO_ENUMS: dict[type[StrEnum], Any] = {
    Discipline: pb.Discipline,
    Level: pb.Level,
    PlanStartKind: pb.PlanStartKind,
    BookingStatus: pb.BookingStatus,
    Anchor: pb.Anchor,
    DayKind: pb.DayKind,
    Postponement: pb.Postponement,
    Outcome: pb.Outcome,
    Reason: pb.Reason,
    CourseForm: pb.CourseForm,
    CourseStatus: pb.CourseStatus,
}


# --------------------------------------------------------------------------- scalars


def date_to_proto(value: date) -> date_pb2.Date:
    return date_pb2.Date(year=value.year, month=value.month, day=value.day)


def time_to_proto(value: time) -> timeofday_pb2.TimeOfDay:
    return timeofday_pb2.TimeOfDay(
        hours=value.hour,
        minutes=value.minute,
        seconds=value.second,
        nanos=value.microsecond * 1000,
    )


def datetime_to_proto(value: datetime) -> datetime_pb2.DateTime:
    """A naive local date-time as a ``google.type.DateTime`` without an offset."""
    return datetime_pb2.DateTime(
        year=value.year,
        month=value.month,
        day=value.day,
        hours=value.hour,
        minutes=value.minute,
        seconds=value.second,
        nanos=value.microsecond * 1000,
    )


def _opt_date(value: date | None) -> date_pb2.Date | None:
    return None if value is None else date_to_proto(value)


def _opt_datetime(value: datetime | None) -> datetime_pb2.DateTime | None:
    return None if value is None else datetime_to_proto(value)


def enum_to_proto(value: StrEnum) -> str:
    """The proto enum value name of a domain enum member (``Level.BASAL`` → ``LEVEL_BASAL``)."""
    return f"{ENUM_PREFIXES[type(value)]}_{value.name}"


def _opt_enum(value: StrEnum | None) -> str | None:
    return None if value is None else enum_to_proto(value)


# Proto → plain data. Dates and times become ISO strings that pydantic parses and checks, so an
# impossible date (month 13) is reported like any other invalid field.


def _date_text(msg: date_pb2.Date) -> str:
    return f"{msg.year:04d}-{msg.month:02d}-{msg.day:02d}"


def _fraction(nanos: int) -> str:
    return f".{nanos // 1000:06d}" if nanos else ""


def _time_text(msg: timeofday_pb2.TimeOfDay) -> str:
    return f"{msg.hours:02d}:{msg.minutes:02d}:{msg.seconds:02d}{_fraction(msg.nanos)}"


class _Reader:
    """Collects the violations found while turning messages into plain data."""

    def __init__(self) -> None:
        self.violations: list[FieldViolation] = []
        self.fields: set[str] = set()
        """The fields named by a violation so far."""

    def bad(self, path: str, description: str) -> None:
        self.violations.append(FieldViolation(path, description))
        self.fields.add(path)

    def datetime_text(self, msg: datetime_pb2.DateTime, path: str) -> str:
        if msg.HasField("utc_offset") or msg.HasField("time_zone"):
            self.bad(path, LOCAL_TIME_ONLY)
        return (
            f"{msg.year:04d}-{msg.month:02d}-{msg.day:02d}T"
            f"{msg.hours:02d}:{msg.minutes:02d}:{msg.seconds:02d}{_fraction(msg.nanos)}"
        )

    def enum(self, cls: type[_E], number: int, path: str, *, required: bool) -> _E | None:
        """The domain member of a proto enum value; None for UNSPECIFIED (a violation if
        `required`) or an unknown number (always a violation)."""
        wrapper = _PROTO_ENUMS[cls]
        if number == 0:
            if required:
                self.bad(path, "required")
            return None
        try:
            name: str = wrapper.Name(number)
        except ValueError:
            self.bad(path, f"unknown value {number}")
            return None
        return cls[name.removeprefix(ENUM_PREFIXES[cls] + "_")]

    def put_date(self, out: dict[str, Any], key: str, msg: Message) -> None:
        if msg.HasField(key):
            out[key] = _date_text(getattr(msg, key))

    def put_time(self, out: dict[str, Any], key: str, msg: Message) -> None:
        if msg.HasField(key):
            out[key] = _time_text(getattr(msg, key))

    def put_datetime(self, out: dict[str, Any], key: str, msg: Message, path: str) -> None:
        if msg.HasField(key):
            out[key] = self.datetime_text(getattr(msg, key), f"{path}.{key}")

    def put_enum(
        self,
        out: dict[str, Any],
        key: str,
        cls: type[StrEnum],
        msg: Message,
        path: str,
        *,
        required: bool,
    ) -> None:
        value = self.enum(cls, getattr(msg, key), f"{path}.{key}", required=required)
        if value is not None:
            out[key] = value


def _put_optional(out: dict[str, Any], msg: Message, *keys: str) -> None:
    """Copy the `optional` scalars that are set (unset ones take the domain default)."""
    for key in keys:
        if msg.HasField(key):
            out[key] = getattr(msg, key)


def _loc_path(prefix: str, loc: Iterable[str | int]) -> str:
    path = prefix
    for part in loc:
        path += f"[{part}]" if isinstance(part, int) else (f".{part}" if path else str(part))
    return path


def _collect(model: type[_M], data: Any, reader: _Reader, prefix: str) -> _M | None:
    """Validate plain data into a domain model; None, with its violations added to the reader
    (those of a field the reader already named left out), when it is invalid."""
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        for error in exc.errors(include_url=False):
            path = _loc_path(prefix, error["loc"])
            if path in reader.fields:
                continue
            message = str(error["msg"]).removeprefix("Value error, ")
            reader.bad(path, message)
        return None


def _validate(model: type[_M], data: dict[str, Any], reader: _Reader, prefix: str) -> _M:
    """Validate plain data into a domain model, raising every violation (the reader's too)."""
    result = _collect(model, data, reader, prefix)
    if result is None or reader.violations:
        raise ConversionError(reader.violations)
    return result


# --------------------------------------------------------------------------- instance → proto


def _coordinates(value: Coordinates | None) -> pb.Coordinates | None:
    return None if value is None else pb.Coordinates(lat=value.lat, lon=value.lon)


def _course_to_proto(course: Course | None) -> pb.Course | None:
    if course is None:
        return None
    return pb.Course(
        form=enum_to_proto(course.form),
        sessions_per_week=course.sessions_per_week,
        weeks=course.weeks,
        minutes_per_session=course.minutes_per_session,
        hold_type=course.hold_type,
    )


def _course_to_proto_required(course: Course) -> pb.Course:
    message = _course_to_proto(course)
    assert message is not None
    return message


def _hold_to_proto(hold: Hold) -> pb.Hold:
    return pb.Hold(
        id=hold.id,
        type=hold.type,
        discipline=enum_to_proto(hold.discipline),
        levels=[enum_to_proto(level) for level in hold.levels],
        therapist_id=hold.therapist_id,
        sessions=[
            pb.HoldSession(weekday=x.weekday, start=time_to_proto(x.start), minutes=x.minutes)
            for x in hold.sessions
        ],
        seats=hold.seats,
        rolling_admission=hold.rolling_admission,
        intake_weeks=[date_to_proto(d) for d in hold.intake_weeks],
        taken=[
            pb.HoldWeek(week_start=date_to_proto(w.week_start), taken=w.taken) for w in hold.taken
        ],
    )


def policy_to_proto(policy: Policy) -> pb.Policy:
    """Every setting spelled out (no preset), so the message stands alone."""
    return pb.Policy(
        name=policy.name,
        deadline_anchor=enum_to_proto(policy.deadline_anchor),
        deadline_days=policy.deadline_days,
        deadline_day_kind=enum_to_proto(policy.deadline_day_kind),
        plan_later_keeps_free_choice=policy.plan_later_keeps_free_choice,
        contact_days=policy.contact_days,
        contact_anchor=enum_to_proto(policy.contact_anchor),
        contact_day_kind=enum_to_proto(policy.contact_day_kind),
        free_choice_answer_hours=policy.free_choice_answer_hours,
        day_start=time_to_proto(policy.day_start),
        day_end=time_to_proto(policy.day_end),
        grundlovsdag_closed=policy.grundlovsdag_closed,
        christmas_eve_closed=policy.christmas_eve_closed,
        new_years_eve_closed=policy.new_years_eve_closed,
        closed_days=[date_to_proto(d) for d in policy.closed_days],
        horizon_days=policy.horizon_days,
        min_notice_days=policy.min_notice_days,
        minors_to_childrens_team=policy.minors_to_childrens_team,
        chronic_courses_municipal_only=policy.chronic_courses_municipal_only,
        citizen_postponement=enum_to_proto(policy.citizen_postponement),
        course_defaults={
            k: _course_to_proto_required(c) for k, c in policy.course_defaults.items()
        },
        course_start_days=policy.course_start_days,
    )


def _site_to_proto(site: Site) -> pb.Site:
    return pb.Site(
        id=site.id,
        name=site.name,
        address=site.address,
        coordinates=_coordinates(site.coordinates),
        opening_hours=[
            pb.OpeningHours(
                weekday=h.weekday, open=time_to_proto(h.open), close=time_to_proto(h.close)
            )
            for h in site.opening_hours
        ],
        rooms=site.rooms,
        holds=[_hold_to_proto(h) for h in site.holds],
    )


def _therapist_to_proto(therapist: Therapist) -> pb.Therapist:
    return pb.Therapist(
        id=therapist.id,
        name=therapist.name,
        discipline=enum_to_proto(therapist.discipline),
        specialties=therapist.specialties,
        roster=[
            pb.RosterEntry(
                date=date_to_proto(e.date),
                start=time_to_proto(e.start),
                end=time_to_proto(e.end),
                site_id=e.site_id,
            )
            for e in therapist.roster
        ],
        absences=[
            pb.Absence(start=date_to_proto(a.start), end=date_to_proto(a.end), reason=a.reason)
            for a in therapist.absences
        ],
        home_visits=therapist.home_visits,
    )


def _booking_to_proto(booking: Booking) -> pb.Booking:
    return pb.Booking(
        id=booking.id,
        therapist_id=booking.therapist_id,
        site_id=booking.site_id,
        start=datetime_to_proto(booking.start),
        end=datetime_to_proto(booking.end),
        status=enum_to_proto(booking.status),
        referral_id=booking.referral_id,
        at_home=booking.at_home,
    )


def referral_to_proto(referral: Referral) -> pb.Referral:
    return pb.Referral(
        id=referral.id,
        discharge_date=date_to_proto(referral.discharge_date),
        received_date=date_to_proto(referral.received_date),
        level=enum_to_proto(referral.level),
        discipline=enum_to_proto(referral.discipline),
        specialty=referral.specialty,
        forloebskode=referral.forloebskode,
        plan_start_date=_opt_date(referral.plan_start_date),
        plan_start_kind=_opt_enum(referral.plan_start_kind),
        postponed_to=_opt_date(referral.postponed_to),
        unavailable_dates=[date_to_proto(d) for d in referral.unavailable_dates],
        home_training=referral.home_training,
        chosen_site_id=referral.chosen_site_id,
        location=_coordinates(referral.location),
        age=referral.age,
        chronic_course=referral.chronic_course,
        first_session_minutes=referral.first_session_minutes,
        course=_course_to_proto(referral.course),
    )


def instance_to_proto(instance: Instance) -> pb.Instance:
    return pb.Instance(
        name=instance.name,
        planning_date=date_to_proto(instance.planning_date),
        policy=policy_to_proto(instance.policy),
        sites=[_site_to_proto(s) for s in instance.sites],
        therapists=[_therapist_to_proto(t) for t in instance.therapists],
        bookings=[_booking_to_proto(b) for b in instance.bookings],
        referrals=[referral_to_proto(r) for r in instance.referrals],
        offers_sent_at=_opt_datetime(instance.offers_sent_at),
    )


# --------------------------------------------------------------------------- proto → instance


def _coordinates_data(msg: pb.Coordinates) -> dict[str, Any]:
    return {"lat": msg.lat, "lon": msg.lon}


def _policy_data(msg: pb.Policy, r: _Reader, path: str) -> dict[str, Any]:
    out: dict[str, Any] = {}
    if msg.preset:
        if msg.preset not in PRESETS:
            known = ", ".join(sorted(PRESETS))
            r.bad(f"{path}.preset", f"unknown preset {quote_id(msg.preset)}; known: {known}")
        else:
            out = PRESETS[msg.preset].model_dump()
    _put_optional(
        out,
        msg,
        "name",
        "deadline_days",
        "plan_later_keeps_free_choice",
        "contact_days",
        "free_choice_answer_hours",
        "grundlovsdag_closed",
        "christmas_eve_closed",
        "new_years_eve_closed",
        "horizon_days",
        "min_notice_days",
        "minors_to_childrens_team",
        "chronic_courses_municipal_only",
        "course_start_days",
    )
    if msg.course_defaults:
        out["course_defaults"] = {
            k: _course_data(c, r, f"{path}.course_defaults[{k}]")
            for k, c in msg.course_defaults.items()
        }
    for key in ("deadline_anchor", "contact_anchor"):
        r.put_enum(out, key, Anchor, msg, path, required=False)
    for key in ("deadline_day_kind", "contact_day_kind"):
        r.put_enum(out, key, DayKind, msg, path, required=False)
    r.put_enum(out, "citizen_postponement", Postponement, msg, path, required=False)
    r.put_time(out, "day_start", msg)
    r.put_time(out, "day_end", msg)
    if msg.closed_days:
        out["closed_days"] = [_date_text(d) for d in msg.closed_days]
    return out


def _course_data(msg: pb.Course, r: _Reader, path: str) -> dict[str, Any]:
    out: dict[str, Any] = {}
    r.put_enum(out, "form", CourseForm, msg, path, required=False)
    _put_optional(out, msg, "sessions_per_week", "weeks", "minutes_per_session", "hold_type")
    return out


def _hold_data(msg: pb.Hold, r: _Reader, path: str) -> dict[str, Any]:
    out: dict[str, Any] = {
        "id": msg.id,
        "type": msg.type,
        "seats": msg.seats,
        "intake_weeks": [_date_text(d) for d in msg.intake_weeks],
        "sessions": [],
        "taken": [],
    }
    r.put_enum(out, "discipline", Discipline, msg, path, required=True)
    levels = [
        r.enum(Level, n, f"{path}.levels[{i}]", required=True) for i, n in enumerate(msg.levels)
    ]
    if levels:
        out["levels"] = levels
    _put_optional(out, msg, "therapist_id", "rolling_admission")
    for x in msg.sessions:
        session: dict[str, Any] = {"weekday": x.weekday}
        r.put_time(session, "start", x)
        _put_optional(session, x, "minutes")
        out["sessions"].append(session)
    for w in msg.taken:
        week: dict[str, Any] = {"taken": w.taken}
        r.put_date(week, "week_start", w)
        out["taken"].append(week)
    return out


def _site_data(msg: pb.Site, r: _Reader) -> dict[str, Any]:
    out: dict[str, Any] = {
        "id": msg.id,
        "name": msg.name,
        "address": msg.address,
        "rooms": msg.rooms,
        "opening_hours": [],
        "holds": [_hold_data(h, r, f"site[{msg.id}].holds[{i}]") for i, h in enumerate(msg.holds)],
    }
    if msg.HasField("coordinates"):
        out["coordinates"] = _coordinates_data(msg.coordinates)
    for h in msg.opening_hours:
        hours: dict[str, Any] = {"weekday": h.weekday}
        r.put_time(hours, "open", h)
        r.put_time(hours, "close", h)
        out["opening_hours"].append(hours)
    return out


def _therapist_data(
    msg: pb.Therapist, r: _Reader, path: str, *, roster: bool = True
) -> dict[str, Any]:
    """A therapist's plain data; with ``roster=False`` the roster is left empty (not read)."""
    out: dict[str, Any] = {
        "id": msg.id,
        "name": msg.name,
        "specialties": list(msg.specialties),
        "home_visits": msg.home_visits,
        "roster": [],
        "absences": [],
    }
    r.put_enum(out, "discipline", Discipline, msg, path, required=True)
    for e in msg.roster if roster else ():
        entry: dict[str, Any] = {"site_id": e.site_id}
        r.put_date(entry, "date", e)
        r.put_time(entry, "start", e)
        r.put_time(entry, "end", e)
        out["roster"].append(entry)
    for a in msg.absences:
        absence: dict[str, Any] = {"reason": a.reason}
        r.put_date(absence, "start", a)
        r.put_date(absence, "end", a)
        out["absences"].append(absence)
    return out


def _booking_data(msg: pb.Booking, r: _Reader, path: str) -> dict[str, Any]:
    out: dict[str, Any] = {"id": msg.id, "therapist_id": msg.therapist_id, "at_home": msg.at_home}
    _put_optional(out, msg, "site_id", "referral_id")
    r.put_datetime(out, "start", msg, path)
    r.put_datetime(out, "end", msg, path)
    r.put_enum(out, "status", BookingStatus, msg, path, required=False)
    return out


def _referral_data(msg: pb.Referral, r: _Reader, path: str) -> dict[str, Any]:
    out: dict[str, Any] = {
        "id": msg.id,
        "unavailable_dates": [_date_text(d) for d in msg.unavailable_dates],
        "home_training": msg.home_training,
        "age": msg.age,
        "chronic_course": msg.chronic_course,
    }
    for key in ("discharge_date", "received_date", "plan_start_date", "postponed_to"):
        r.put_date(out, key, msg)
    r.put_enum(out, "level", Level, msg, path, required=True)
    r.put_enum(out, "discipline", Discipline, msg, path, required=True)
    r.put_enum(out, "plan_start_kind", PlanStartKind, msg, path, required=False)
    _put_optional(out, msg, "specialty", "forloebskode", "chosen_site_id", "first_session_minutes")
    if msg.HasField("location"):
        out["location"] = _coordinates_data(msg.location)
    if msg.HasField("course"):
        out["course"] = _course_data(msg.course, r, f"{path}.course")
    return out


def _records(
    messages: Iterable[_P],
    read: Callable[[_P, _Reader, str], dict[str, Any]],
    model: type[_M],
    r: _Reader,
    path: str,
    budget: Budget | None,
) -> list[_M]:
    """Each message read and validated on its own (at ``path[i]``), the budget looked at every
    so many; the valid ones, every problem of the others added to the reader."""
    out: list[_M] = []
    for i, msg in checked(enumerate(messages), budget):
        where = f"{path}[{i}]"
        record = _collect(model, read(msg, r, where), r, where)
        if record is not None:
            out.append(record)
    return out


def instance_from_proto(
    msg: pb.Instance, path: str = "instance", budget: Budget | None = None
) -> Instance:
    """The domain instance of a message; raises :class:`ConversionError` with every problem.

    An unset policy is a violation (send an empty ``Policy`` for the law's defaults). With a
    `budget`, raises :class:`~scheduler.planning.budget.BudgetExpired` soon after it is stopped
    or spent (it is looked at every so many records).
    """
    r = _Reader()
    records: dict[str, Any] = {
        "sites": _records(
            msg.sites, lambda m, rr, _: _site_data(m, rr), Site, r, f"{path}.sites", budget
        ),
        "therapists": _records(
            msg.therapists, _therapist_data, Therapist, r, f"{path}.therapists", budget
        ),
        "bookings": _records(msg.bookings, _booking_data, Booking, r, f"{path}.bookings", budget),
        "referrals": _records(
            msg.referrals, _referral_data, Referral, r, f"{path}.referrals", budget
        ),
    }
    top: dict[str, Any] = {"name": msg.name}
    r.put_date(top, "planning_date", msg)
    r.put_datetime(top, "offers_sent_at", msg, path)
    if msg.HasField("policy"):
        top["policy"] = _policy_data(msg.policy, r, f"{path}.policy")
    if r.violations:
        # The instance's own fields are still checked (without the records: some are invalid).
        _collect(Instance, top | {k: [] for k in records}, r, path)
        raise ConversionError(r.violations)
    # The records are models already: the instance takes them as they are.
    return _validate(Instance, top | records, r, path)


def referral_from_proto(msg: pb.Referral, path: str = "referral") -> Referral:
    r = _Reader()
    return _validate(Referral, _referral_data(msg, r, path), r, path)


def booking_from_proto(msg: pb.Booking, path: str = "booking") -> Booking:
    """The domain booking of a message; raises :class:`ConversionError` with every problem."""
    r = _Reader()
    return _validate(Booking, _booking_data(msg, r, path), r, path)


def policy_from_proto(msg: pb.Policy, path: str = "policy") -> Policy:
    r = _Reader()
    return _validate(Policy, _policy_data(msg, r, path), r, path)


def site_from_proto(msg: pb.Site, path: str = "site") -> Site:
    r = _Reader()
    return _validate(Site, _site_data(msg, r), r, path)


def therapist_from_proto(
    msg: pb.Therapist, path: str = "therapist", *, roster: bool = True
) -> Therapist:
    """The domain therapist of a message; with ``roster=False`` its roster is left unread
    (empty). Raises :class:`ConversionError` with every problem."""
    r = _Reader()
    return _validate(Therapist, _therapist_data(msg, r, path, roster=roster), r, path)


# --------------------------------------------------------------------------- options


def options_to_proto(options: SolveOptions) -> pb.SolveOptions:
    w = options.weights
    return pb.SolveOptions(
        time_limit_s=options.time_limit_s,
        workers=options.workers,
        seed=options.seed,
        weights=pb.ObjectiveWeights(
            wait_day=w.wait_day,
            travel_minute=w.travel_minute,
            specialist_on_basal=w.specialist_on_basal,
            balance_minute=w.balance_minute,
            moved_tentative=w.moved_tentative,
        ),
        late_days=options.late_days,
    )


def options_from_proto(msg: pb.SolveOptions, path: str = "options") -> SolveOptions:
    """Solve options; unset fields take the defaults. Raises :class:`ConversionError`."""
    out: dict[str, Any] = {}
    _put_optional(out, msg, "time_limit_s", "workers", "seed", "late_days")
    if msg.HasField("weights"):
        weights: dict[str, Any] = {}
        _put_optional(
            weights,
            msg.weights,
            "wait_day",
            "travel_minute",
            "specialist_on_basal",
            "balance_minute",
            "moved_tentative",
        )
        out["weights"] = weights
    return _validate(SolveOptions, out, _Reader(), path)


# --------------------------------------------------------------------------- solution


def assignment_to_proto(a: Assignment) -> pb.Assignment:
    return pb.Assignment(
        referral_id=a.referral_id,
        outcome=enum_to_proto(a.outcome),
        therapist_id=a.therapist_id,
        site_id=a.site_id,
        at_home=a.at_home,
        start=_opt_datetime(a.start),
        end=_opt_datetime(a.end),
        travel_minutes=a.travel_minutes,
        earliest_start=date_to_proto(a.earliest_start),
        deadline=date_to_proto(a.deadline),
        free_choice_right=a.free_choice_right,
        letter_by=date_to_proto(a.letter_by),
        letter_send_by=date_to_proto(a.letter_send_by),
        answer_by=_opt_datetime(a.answer_by),
        reason=_opt_enum(a.reason),
        detail=a.detail,
        fixed=a.fixed,
        course_status=enum_to_proto(a.course_status),
        course_therapist_id=a.course_therapist_id,
        course_hold_id=a.course_hold_id,
        course_start=_opt_date(a.course_start),
        course_weeks_planned=a.course_weeks_planned,
        course_weeks_beyond=a.course_weeks_beyond,
        course_reason=_opt_enum(a.course_reason),
        tentative_moved=a.tentative_moved,
        moved_detail=a.moved_detail,
    )


def kpis_to_proto(k: Kpis) -> pb.Kpis:
    return pb.Kpis(
        referrals=k.referrals,
        booked=k.booked,
        on_time=k.on_time,
        on_time_share=k.on_time_share,
        free_choice_flagged=k.free_choice_flagged,
        late_no_right=k.late_no_right,
        not_bookable=k.not_bookable,
        rejected=k.rejected,
        wait_days_mean=k.wait_days_mean,
        wait_days_median=k.wait_days_median,
        wait_days_max=k.wait_days_max,
        total_lateness_days=k.total_lateness_days,
        home_visits=k.home_visits,
        travel_minutes_total=k.travel_minutes_total,
        utilisation=k.utilisation,
        courses_started=k.courses_started,
        courses_waiting=k.courses_waiting,
        tentative_moved=k.tentative_moved,
    )


def _struct(data: Mapping[str, Any]) -> struct_pb2.Struct:
    out = struct_pb2.Struct()
    out.update(data)
    return out


def _stats_to_proto(s: SolverStats) -> pb.SolverStats:
    return pb.SolverStats(
        method=s.method,
        status=s.status,
        proven_optimal=s.proven_optimal,
        on_time_proven=s.on_time_proven,
        objective=s.objective,
        best_bound=s.best_bound,
        gap=s.gap,
        on_time_bound=s.on_time_bound,
        wall_time_s=s.wall_time_s,
        first_solution_s=s.first_solution_s,
        variables=s.variables,
        constraints=s.constraints,
        workers=s.workers,
        seed=s.seed,
        stages=[_struct(stage) for stage in s.stages],
    )


def letter_to_proto(letter: Letter) -> pb.Letter:
    return pb.Letter(
        referral_id=letter.referral_id,
        kind=f"LETTER_KIND_{letter.kind.name}",
        send_by=date_to_proto(letter.send_by),
        start=datetime_to_proto(letter.start),
        answer_by=_opt_datetime(letter.answer_by),
    )


def solution_to_proto(solution: Solution, budget: Budget | None = None) -> pb.Solution:
    """The message of a solution, with the letters it asks to send (derived, not read back).
    With a `budget`, raises :class:`~scheduler.planning.budget.BudgetExpired` soon after it is
    stopped or spent (looked at every so many assignments and letters)."""
    return pb.Solution(
        instance_name=solution.instance_name,
        planning_date=date_to_proto(solution.planning_date),
        assignments=[assignment_to_proto(a) for a in checked(solution.assignments, budget)],
        kpis=kpis_to_proto(solution.kpis),
        stats=_stats_to_proto(solution.stats),
        letters=[letter_to_proto(x) for x in checked(letters(solution), budget)],
    )


def _integral(value: Any) -> Any:
    """JSON numbers of a Struct are doubles: give integral ones back as int."""
    if isinstance(value, float) and value.is_integer() and abs(value) < 2**53:
        return int(value)
    if isinstance(value, dict):
        return {k: _integral(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_integral(v) for v in value]
    return value


def _assignment_data(msg: pb.Assignment, r: _Reader, path: str) -> dict[str, Any]:
    out: dict[str, Any] = {
        "referral_id": msg.referral_id,
        "at_home": msg.at_home,
        "travel_minutes": msg.travel_minutes,
        "free_choice_right": msg.free_choice_right,
        "detail": msg.detail,
        "fixed": msg.fixed,
        "course_weeks_planned": msg.course_weeks_planned,
        "course_weeks_beyond": msg.course_weeks_beyond,
        "tentative_moved": msg.tentative_moved,
        "moved_detail": msg.moved_detail,
    }
    r.put_enum(out, "outcome", Outcome, msg, path, required=True)
    r.put_enum(out, "reason", Reason, msg, path, required=False)
    r.put_enum(out, "course_status", CourseStatus, msg, path, required=False)
    r.put_enum(out, "course_reason", Reason, msg, path, required=False)
    r.put_date(out, "course_start", msg)
    _put_optional(out, msg, "therapist_id", "site_id", "course_therapist_id", "course_hold_id")
    for key in ("start", "end", "answer_by"):
        r.put_datetime(out, key, msg, path)
    for key in ("earliest_start", "deadline", "letter_by", "letter_send_by"):
        r.put_date(out, key, msg)
    return out


def _kpis_data(msg: pb.Kpis) -> dict[str, Any]:
    out: dict[str, Any] = {
        key: getattr(msg, key)
        for key in (
            "referrals",
            "booked",
            "on_time",
            "on_time_share",
            "free_choice_flagged",
            "late_no_right",
            "not_bookable",
            "rejected",
            "total_lateness_days",
            "home_visits",
            "travel_minutes_total",
            "courses_started",
            "courses_waiting",
            "tentative_moved",
        )
    }
    for key in ("wait_days_mean", "wait_days_median", "wait_days_max"):
        out[key] = getattr(msg, key) if msg.HasField(key) else None
    out["utilisation"] = dict(msg.utilisation)
    return out


def _stats_data(msg: pb.SolverStats) -> dict[str, Any]:
    out: dict[str, Any] = {
        key: getattr(msg, key)
        for key in (
            "method",
            "status",
            "proven_optimal",
            "on_time_proven",
            "wall_time_s",
            "variables",
            "constraints",
            "workers",
            "seed",
        )
    }
    _put_optional(out, msg, "objective", "best_bound", "gap", "on_time_bound", "first_solution_s")
    out["stages"] = [_integral(json_format.MessageToDict(s)) for s in msg.stages]
    return out


def solution_from_proto(msg: pb.Solution, path: str = "solution") -> Solution:
    """The domain solution of a message; raises :class:`ConversionError` with every problem."""
    r = _Reader()
    out: dict[str, Any] = {
        "instance_name": msg.instance_name,
        "assignments": [
            _assignment_data(a, r, f"{path}.assignments[{i}]")
            for i, a in enumerate(msg.assignments)
        ],
    }
    r.put_date(out, "planning_date", msg)
    if msg.HasField("kpis"):
        out["kpis"] = _kpis_data(msg.kpis)
    if msg.HasField("stats"):
        out["stats"] = _stats_data(msg.stats)
    return _validate(Solution, out, r, path)


# --------------------------------------------------------------------------- RPC results


def progress_to_proto(p: Progress) -> pb.Progress:
    return pb.Progress(
        elapsed_s=p.elapsed_s,
        stage=p.stage,
        on_time=p.on_time,
        on_time_bound=p.on_time_bound,
        objective=p.objective,
        bound=p.bound,
        gap=p.gap,
    )


def proposal_to_proto(p: SlotProposal) -> pb.SlotProposal:
    return pb.SlotProposal(
        rank=p.rank,
        therapist_id=p.therapist_id,
        site_id=p.site_id,
        at_home=p.at_home,
        start=datetime_to_proto(p.start),
        end=datetime_to_proto(p.end),
        travel_minutes=p.travel_minutes,
        outcome=enum_to_proto(p.outcome),
        deadline=date_to_proto(p.deadline),
        on_time=p.on_time,
        why=p.why,
    )


def legal_dates_to_proto(ld: LegalDates) -> dict[str, Any]:
    """The ProposeSlotsResponse fields of a referral's legal dates, as keyword arguments."""
    return {
        "earliest_start": date_to_proto(ld.earliest_start),
        "deadline": date_to_proto(ld.deadline),
        "free_choice_right": ld.free_choice_right,
        "letter_by": date_to_proto(ld.letter_by),
    }


# --------------------------------------------------------------------------- SubmitSimulate


def simulation_settings_from_proto(msg: pb.SubmitSimulateRequest) -> SimulationSettings:
    """The simulation a SubmitSimulate asks for; 0 or unset means the default. Raises
    :class:`ConversionError` with every problem (unknown profile or strategy, out of range)."""
    from scheduler.simulation.settings import SimulationSettings

    data: dict[str, Any] = {"profile": msg.profile, "seed": msg.seed}
    if msg.weeks:
        data["weeks"] = msg.weeks
    if msg.strategies:
        data["strategies"] = list(msg.strategies)
    if msg.time_limit_s:
        data["time_limit_s"] = msg.time_limit_s
    _put_optional(data, msg, "workers", "burn_in_weeks", "therapists", "referrals_per_week")
    return _validate(SimulationSettings, data, _Reader(), "")


def simulation_settings_to_proto(
    settings: SimulationSettings, request_id: str = ""
) -> pb.SubmitSimulateRequest:
    return pb.SubmitSimulateRequest(
        profile=settings.profile,
        weeks=settings.weeks,
        seed=settings.seed,
        strategies=settings.strategies,
        time_limit_s=settings.time_limit_s,
        workers=settings.workers,
        burn_in_weeks=settings.burn_in_weeks,
        therapists=settings.therapists,
        referrals_per_week=settings.referrals_per_week,
        request_id=request_id,
    )


def simulation_progress_to_proto(data: Mapping[str, Any]) -> pb.SimulationProgress:
    """A simulation job's progress (the runner's JSON) as a message."""
    msg = pb.SimulationProgress(
        strategy=str(data.get("strategy") or ""),
        day=int(data.get("day") or 0),
        days=int(data.get("days") or 0),
        days_done=int(data.get("days_done") or 0),
        days_total=int(data.get("days_total") or 0),
        week=int(data.get("week") or 0),
        weeks=int(data.get("weeks") or 0),
        elapsed_s=float(data.get("elapsed_s") or 0.0),
    )
    if data.get("date"):
        msg.date.CopyFrom(date_to_proto(date.fromisoformat(str(data["date"]))))
    return msg


def _summary_to_proto(row: Mapping[str, Any]) -> pb.SimulationSummary:
    return pb.SimulationSummary(**{**row, "week": row.get("week") or 0})


def simulation_result_to_proto(doc: Mapping[str, Any]) -> pb.SimulationResult:
    """A simulation job's stored result (:func:`scheduler.simulation.report.result_document`
    with its table) as a message."""
    return pb.SimulationResult(
        profile=doc["profile"],
        policy=doc["policy"],
        seed=doc["seed"],
        weeks=doc["weeks"],
        burn_in_weeks=doc["burn_in_weeks"],
        start=date_to_proto(date.fromisoformat(doc["start"])),
        measure_start=date_to_proto(date.fromisoformat(doc["measure_start"])),
        end=date_to_proto(date.fromisoformat(doc["end"])),
        summary=[_summary_to_proto(row) for row in doc["summary"]],
        weekly=[_summary_to_proto(row) for row in doc["weekly"]],
        table=doc.get("table", ""),
    )


def simulation_summary_from_proto(msg: pb.SimulationSummary) -> dict[str, Any]:
    """A summary row as the simulation's own :class:`~scheduler.simulation.metrics.Summary`
    data (``week`` None for the whole period, unset optional numbers None)."""
    out: dict[str, Any] = json_format.MessageToDict(
        msg, preserving_proto_field_name=True, always_print_fields_with_no_presence=True
    )
    for key in ("wait_mean", "wait_median", "wait_p90", "utilisation"):
        out[key] = getattr(msg, key) if msg.HasField(key) else None
    out["week"] = msg.week or None
    return out
