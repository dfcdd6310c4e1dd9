import datetime

from google.longrunning import operations_pb2 as _operations_pb2
from google.protobuf import struct_pb2 as _struct_pb2
from google.protobuf import timestamp_pb2 as _timestamp_pb2
from google.type import date_pb2 as _date_pb2
from google.type import datetime_pb2 as _datetime_pb2
from google.type import timeofday_pb2 as _timeofday_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class Discipline(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    DISCIPLINE_UNSPECIFIED: _ClassVar[Discipline]
    DISCIPLINE_PT: _ClassVar[Discipline]
    DISCIPLINE_OT: _ClassVar[Discipline]

class Level(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    LEVEL_UNSPECIFIED: _ClassVar[Level]
    LEVEL_BASAL: _ClassVar[Level]
    LEVEL_AVANCERET: _ClassVar[Level]
    LEVEL_SPECIALISERET: _ClassVar[Level]
    LEVEL_REHABILITERING_SPECIALISERET: _ClassVar[Level]

class PlanStartKind(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    PLAN_START_KIND_UNSPECIFIED: _ClassVar[PlanStartKind]
    PLAN_START_KIND_EARLIER: _ClassVar[PlanStartKind]
    PLAN_START_KIND_LATER: _ClassVar[PlanStartKind]

class BookingStatus(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    BOOKING_STATUS_UNSPECIFIED: _ClassVar[BookingStatus]
    BOOKING_STATUS_COMMUNICATED: _ClassVar[BookingStatus]
    BOOKING_STATUS_TENTATIVE: _ClassVar[BookingStatus]

class Anchor(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    ANCHOR_UNSPECIFIED: _ClassVar[Anchor]
    ANCHOR_DISCHARGE: _ClassVar[Anchor]
    ANCHOR_RECEIVED: _ClassVar[Anchor]

class DayKind(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    DAY_KIND_UNSPECIFIED: _ClassVar[DayKind]
    DAY_KIND_CALENDAR: _ClassVar[DayKind]
    DAY_KIND_WEEKDAYS: _ClassVar[DayKind]

class Outcome(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    OUTCOME_UNSPECIFIED: _ClassVar[Outcome]
    OUTCOME_ON_TIME: _ClassVar[Outcome]
    OUTCOME_LATE_FREE_CHOICE: _ClassVar[Outcome]
    OUTCOME_LATE_NO_RIGHT: _ClassVar[Outcome]
    OUTCOME_NOT_BOOKABLE: _ClassVar[Outcome]
    OUTCOME_REJECTED: _ClassVar[Outcome]

class Reason(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    REASON_UNSPECIFIED: _ClassVar[Reason]
    REASON_NO_QUALIFIED_THERAPIST: _ClassVar[Reason]
    REASON_NO_HOME_VISIT_THERAPIST: _ClassVar[Reason]
    REASON_CHOSEN_SITE_CLOSED: _ClassVar[Reason]
    REASON_NO_CAPACITY_IN_HORIZON: _ClassVar[Reason]
    REASON_EARLIEST_START_AFTER_HORIZON: _ClassVar[Reason]
    REASON_NO_CAPACITY_BY_DEADLINE: _ClassVar[Reason]
    REASON_DEADLINE_BEFORE_PLANNING: _ClassVar[Reason]
    REASON_PLAN_LATER_START: _ClassVar[Reason]
    REASON_CITIZEN_POSTPONED: _ClassVar[Reason]
    REASON_DEADLINE_SLOTS_TAKEN: _ClassVar[Reason]
    REASON_CITIZEN_UNAVAILABLE_ON_FREE_DAYS: _ClassVar[Reason]
    REASON_EARLIEST_START_AFTER_DEADLINE: _ClassVar[Reason]
    REASON_CITIZEN_UNAVAILABLE: _ClassVar[Reason]
    REASON_SPECIALISED_AT_HOSPITAL: _ClassVar[Reason]
    REASON_SPECIALISED_REHAB_EXTERNAL: _ClassVar[Reason]
    REASON_CHILDRENS_TEAM: _ClassVar[Reason]
    REASON_COURSE_THERAPIST_FULL: _ClassVar[Reason]
    REASON_COURSE_HOLD_FULL: _ClassVar[Reason]
    REASON_COURSE_NO_HOLD: _ClassVar[Reason]

class Postponement(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    POSTPONEMENT_UNSPECIFIED: _ClassVar[Postponement]
    POSTPONEMENT_PAST_DEADLINE: _ClassVar[Postponement]
    POSTPONEMENT_ANY: _ClassVar[Postponement]

class CourseForm(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    COURSE_FORM_UNSPECIFIED: _ClassVar[CourseForm]
    COURSE_FORM_INDIVIDUAL: _ClassVar[CourseForm]
    COURSE_FORM_HOLD: _ClassVar[CourseForm]
    COURSE_FORM_VIRTUAL: _ClassVar[CourseForm]
    COURSE_FORM_EITHER: _ClassVar[CourseForm]

class CourseStatus(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    COURSE_STATUS_UNSPECIFIED: _ClassVar[CourseStatus]
    COURSE_STATUS_NONE: _ClassVar[CourseStatus]
    COURSE_STATUS_STARTS: _ClassVar[CourseStatus]
    COURSE_STATUS_WAITS: _ClassVar[CourseStatus]
    COURSE_STATUS_BEYOND_HORIZON: _ClassVar[CourseStatus]

class LetterKind(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    LETTER_KIND_UNSPECIFIED: _ClassVar[LetterKind]
    LETTER_KIND_START_TIME: _ClassVar[LetterKind]
    LETTER_KIND_FRIT_VALG_OFFER: _ClassVar[LetterKind]
DISCIPLINE_UNSPECIFIED: Discipline
DISCIPLINE_PT: Discipline
DISCIPLINE_OT: Discipline
LEVEL_UNSPECIFIED: Level
LEVEL_BASAL: Level
LEVEL_AVANCERET: Level
LEVEL_SPECIALISERET: Level
LEVEL_REHABILITERING_SPECIALISERET: Level
PLAN_START_KIND_UNSPECIFIED: PlanStartKind
PLAN_START_KIND_EARLIER: PlanStartKind
PLAN_START_KIND_LATER: PlanStartKind
BOOKING_STATUS_UNSPECIFIED: BookingStatus
BOOKING_STATUS_COMMUNICATED: BookingStatus
BOOKING_STATUS_TENTATIVE: BookingStatus
ANCHOR_UNSPECIFIED: Anchor
ANCHOR_DISCHARGE: Anchor
ANCHOR_RECEIVED: Anchor
DAY_KIND_UNSPECIFIED: DayKind
DAY_KIND_CALENDAR: DayKind
DAY_KIND_WEEKDAYS: DayKind
OUTCOME_UNSPECIFIED: Outcome
OUTCOME_ON_TIME: Outcome
OUTCOME_LATE_FREE_CHOICE: Outcome
OUTCOME_LATE_NO_RIGHT: Outcome
OUTCOME_NOT_BOOKABLE: Outcome
OUTCOME_REJECTED: Outcome
REASON_UNSPECIFIED: Reason
REASON_NO_QUALIFIED_THERAPIST: Reason
REASON_NO_HOME_VISIT_THERAPIST: Reason
REASON_CHOSEN_SITE_CLOSED: Reason
REASON_NO_CAPACITY_IN_HORIZON: Reason
REASON_EARLIEST_START_AFTER_HORIZON: Reason
REASON_NO_CAPACITY_BY_DEADLINE: Reason
REASON_DEADLINE_BEFORE_PLANNING: Reason
REASON_PLAN_LATER_START: Reason
REASON_CITIZEN_POSTPONED: Reason
REASON_DEADLINE_SLOTS_TAKEN: Reason
REASON_CITIZEN_UNAVAILABLE_ON_FREE_DAYS: Reason
REASON_EARLIEST_START_AFTER_DEADLINE: Reason
REASON_CITIZEN_UNAVAILABLE: Reason
REASON_SPECIALISED_AT_HOSPITAL: Reason
REASON_SPECIALISED_REHAB_EXTERNAL: Reason
REASON_CHILDRENS_TEAM: Reason
REASON_COURSE_THERAPIST_FULL: Reason
REASON_COURSE_HOLD_FULL: Reason
REASON_COURSE_NO_HOLD: Reason
POSTPONEMENT_UNSPECIFIED: Postponement
POSTPONEMENT_PAST_DEADLINE: Postponement
POSTPONEMENT_ANY: Postponement
COURSE_FORM_UNSPECIFIED: CourseForm
COURSE_FORM_INDIVIDUAL: CourseForm
COURSE_FORM_HOLD: CourseForm
COURSE_FORM_VIRTUAL: CourseForm
COURSE_FORM_EITHER: CourseForm
COURSE_STATUS_UNSPECIFIED: CourseStatus
COURSE_STATUS_NONE: CourseStatus
COURSE_STATUS_STARTS: CourseStatus
COURSE_STATUS_WAITS: CourseStatus
COURSE_STATUS_BEYOND_HORIZON: CourseStatus
LETTER_KIND_UNSPECIFIED: LetterKind
LETTER_KIND_START_TIME: LetterKind
LETTER_KIND_FRIT_VALG_OFFER: LetterKind

class Course(_message.Message):
    __slots__ = ("form", "sessions_per_week", "weeks", "minutes_per_session", "hold_type")
    FORM_FIELD_NUMBER: _ClassVar[int]
    SESSIONS_PER_WEEK_FIELD_NUMBER: _ClassVar[int]
    WEEKS_FIELD_NUMBER: _ClassVar[int]
    MINUTES_PER_SESSION_FIELD_NUMBER: _ClassVar[int]
    HOLD_TYPE_FIELD_NUMBER: _ClassVar[int]
    form: CourseForm
    sessions_per_week: int
    weeks: int
    minutes_per_session: int
    hold_type: str
    def __init__(self, form: _Optional[_Union[CourseForm, str]] = ..., sessions_per_week: _Optional[int] = ..., weeks: _Optional[int] = ..., minutes_per_session: _Optional[int] = ..., hold_type: _Optional[str] = ...) -> None: ...

class Policy(_message.Message):
    __slots__ = ("preset", "name", "deadline_anchor", "deadline_days", "deadline_day_kind", "plan_later_keeps_free_choice", "contact_days", "contact_anchor", "contact_day_kind", "free_choice_answer_hours", "day_start", "day_end", "grundlovsdag_closed", "christmas_eve_closed", "new_years_eve_closed", "closed_days", "horizon_days", "min_notice_days", "minors_to_childrens_team", "chronic_courses_municipal_only", "citizen_postponement", "course_defaults", "course_start_days")
    class CourseDefaultsEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: Course
        def __init__(self, key: _Optional[str] = ..., value: _Optional[_Union[Course, _Mapping]] = ...) -> None: ...
    PRESET_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    DEADLINE_ANCHOR_FIELD_NUMBER: _ClassVar[int]
    DEADLINE_DAYS_FIELD_NUMBER: _ClassVar[int]
    DEADLINE_DAY_KIND_FIELD_NUMBER: _ClassVar[int]
    PLAN_LATER_KEEPS_FREE_CHOICE_FIELD_NUMBER: _ClassVar[int]
    CONTACT_DAYS_FIELD_NUMBER: _ClassVar[int]
    CONTACT_ANCHOR_FIELD_NUMBER: _ClassVar[int]
    CONTACT_DAY_KIND_FIELD_NUMBER: _ClassVar[int]
    FREE_CHOICE_ANSWER_HOURS_FIELD_NUMBER: _ClassVar[int]
    DAY_START_FIELD_NUMBER: _ClassVar[int]
    DAY_END_FIELD_NUMBER: _ClassVar[int]
    GRUNDLOVSDAG_CLOSED_FIELD_NUMBER: _ClassVar[int]
    CHRISTMAS_EVE_CLOSED_FIELD_NUMBER: _ClassVar[int]
    NEW_YEARS_EVE_CLOSED_FIELD_NUMBER: _ClassVar[int]
    CLOSED_DAYS_FIELD_NUMBER: _ClassVar[int]
    HORIZON_DAYS_FIELD_NUMBER: _ClassVar[int]
    MIN_NOTICE_DAYS_FIELD_NUMBER: _ClassVar[int]
    MINORS_TO_CHILDRENS_TEAM_FIELD_NUMBER: _ClassVar[int]
    CHRONIC_COURSES_MUNICIPAL_ONLY_FIELD_NUMBER: _ClassVar[int]
    CITIZEN_POSTPONEMENT_FIELD_NUMBER: _ClassVar[int]
    COURSE_DEFAULTS_FIELD_NUMBER: _ClassVar[int]
    COURSE_START_DAYS_FIELD_NUMBER: _ClassVar[int]
    preset: str
    name: str
    deadline_anchor: Anchor
    deadline_days: int
    deadline_day_kind: DayKind
    plan_later_keeps_free_choice: bool
    contact_days: int
    contact_anchor: Anchor
    contact_day_kind: DayKind
    free_choice_answer_hours: int
    day_start: _timeofday_pb2.TimeOfDay
    day_end: _timeofday_pb2.TimeOfDay
    grundlovsdag_closed: bool
    christmas_eve_closed: bool
    new_years_eve_closed: bool
    closed_days: _containers.RepeatedCompositeFieldContainer[_date_pb2.Date]
    horizon_days: int
    min_notice_days: int
    minors_to_childrens_team: bool
    chronic_courses_municipal_only: bool
    citizen_postponement: Postponement
    course_defaults: _containers.MessageMap[str, Course]
    course_start_days: int
    def __init__(self, preset: _Optional[str] = ..., name: _Optional[str] = ..., deadline_anchor: _Optional[_Union[Anchor, str]] = ..., deadline_days: _Optional[int] = ..., deadline_day_kind: _Optional[_Union[DayKind, str]] = ..., plan_later_keeps_free_choice: _Optional[bool] = ..., contact_days: _Optional[int] = ..., contact_anchor: _Optional[_Union[Anchor, str]] = ..., contact_day_kind: _Optional[_Union[DayKind, str]] = ..., free_choice_answer_hours: _Optional[int] = ..., day_start: _Optional[_Union[_timeofday_pb2.TimeOfDay, _Mapping]] = ..., day_end: _Optional[_Union[_timeofday_pb2.TimeOfDay, _Mapping]] = ..., grundlovsdag_closed: _Optional[bool] = ..., christmas_eve_closed: _Optional[bool] = ..., new_years_eve_closed: _Optional[bool] = ..., closed_days: _Optional[_Iterable[_Union[_date_pb2.Date, _Mapping]]] = ..., horizon_days: _Optional[int] = ..., min_notice_days: _Optional[int] = ..., minors_to_childrens_team: _Optional[bool] = ..., chronic_courses_municipal_only: _Optional[bool] = ..., citizen_postponement: _Optional[_Union[Postponement, str]] = ..., course_defaults: _Optional[_Mapping[str, Course]] = ..., course_start_days: _Optional[int] = ...) -> None: ...

class Coordinates(_message.Message):
    __slots__ = ("lat", "lon")
    LAT_FIELD_NUMBER: _ClassVar[int]
    LON_FIELD_NUMBER: _ClassVar[int]
    lat: float
    lon: float
    def __init__(self, lat: _Optional[float] = ..., lon: _Optional[float] = ...) -> None: ...

class OpeningHours(_message.Message):
    __slots__ = ("weekday", "open", "close")
    WEEKDAY_FIELD_NUMBER: _ClassVar[int]
    OPEN_FIELD_NUMBER: _ClassVar[int]
    CLOSE_FIELD_NUMBER: _ClassVar[int]
    weekday: int
    open: _timeofday_pb2.TimeOfDay
    close: _timeofday_pb2.TimeOfDay
    def __init__(self, weekday: _Optional[int] = ..., open: _Optional[_Union[_timeofday_pb2.TimeOfDay, _Mapping]] = ..., close: _Optional[_Union[_timeofday_pb2.TimeOfDay, _Mapping]] = ...) -> None: ...

class Site(_message.Message):
    __slots__ = ("id", "name", "address", "coordinates", "opening_hours", "rooms", "holds")
    ID_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    ADDRESS_FIELD_NUMBER: _ClassVar[int]
    COORDINATES_FIELD_NUMBER: _ClassVar[int]
    OPENING_HOURS_FIELD_NUMBER: _ClassVar[int]
    ROOMS_FIELD_NUMBER: _ClassVar[int]
    HOLDS_FIELD_NUMBER: _ClassVar[int]
    id: str
    name: str
    address: str
    coordinates: Coordinates
    opening_hours: _containers.RepeatedCompositeFieldContainer[OpeningHours]
    rooms: int
    holds: _containers.RepeatedCompositeFieldContainer[Hold]
    def __init__(self, id: _Optional[str] = ..., name: _Optional[str] = ..., address: _Optional[str] = ..., coordinates: _Optional[_Union[Coordinates, _Mapping]] = ..., opening_hours: _Optional[_Iterable[_Union[OpeningHours, _Mapping]]] = ..., rooms: _Optional[int] = ..., holds: _Optional[_Iterable[_Union[Hold, _Mapping]]] = ...) -> None: ...

class HoldSession(_message.Message):
    __slots__ = ("weekday", "start", "minutes")
    WEEKDAY_FIELD_NUMBER: _ClassVar[int]
    START_FIELD_NUMBER: _ClassVar[int]
    MINUTES_FIELD_NUMBER: _ClassVar[int]
    weekday: int
    start: _timeofday_pb2.TimeOfDay
    minutes: int
    def __init__(self, weekday: _Optional[int] = ..., start: _Optional[_Union[_timeofday_pb2.TimeOfDay, _Mapping]] = ..., minutes: _Optional[int] = ...) -> None: ...

class HoldWeek(_message.Message):
    __slots__ = ("week_start", "taken")
    WEEK_START_FIELD_NUMBER: _ClassVar[int]
    TAKEN_FIELD_NUMBER: _ClassVar[int]
    week_start: _date_pb2.Date
    taken: int
    def __init__(self, week_start: _Optional[_Union[_date_pb2.Date, _Mapping]] = ..., taken: _Optional[int] = ...) -> None: ...

class Hold(_message.Message):
    __slots__ = ("id", "type", "discipline", "levels", "therapist_id", "sessions", "seats", "rolling_admission", "intake_weeks", "taken")
    ID_FIELD_NUMBER: _ClassVar[int]
    TYPE_FIELD_NUMBER: _ClassVar[int]
    DISCIPLINE_FIELD_NUMBER: _ClassVar[int]
    LEVELS_FIELD_NUMBER: _ClassVar[int]
    THERAPIST_ID_FIELD_NUMBER: _ClassVar[int]
    SESSIONS_FIELD_NUMBER: _ClassVar[int]
    SEATS_FIELD_NUMBER: _ClassVar[int]
    ROLLING_ADMISSION_FIELD_NUMBER: _ClassVar[int]
    INTAKE_WEEKS_FIELD_NUMBER: _ClassVar[int]
    TAKEN_FIELD_NUMBER: _ClassVar[int]
    id: str
    type: str
    discipline: Discipline
    levels: _containers.RepeatedScalarFieldContainer[Level]
    therapist_id: str
    sessions: _containers.RepeatedCompositeFieldContainer[HoldSession]
    seats: int
    rolling_admission: bool
    intake_weeks: _containers.RepeatedCompositeFieldContainer[_date_pb2.Date]
    taken: _containers.RepeatedCompositeFieldContainer[HoldWeek]
    def __init__(self, id: _Optional[str] = ..., type: _Optional[str] = ..., discipline: _Optional[_Union[Discipline, str]] = ..., levels: _Optional[_Iterable[_Union[Level, str]]] = ..., therapist_id: _Optional[str] = ..., sessions: _Optional[_Iterable[_Union[HoldSession, _Mapping]]] = ..., seats: _Optional[int] = ..., rolling_admission: _Optional[bool] = ..., intake_weeks: _Optional[_Iterable[_Union[_date_pb2.Date, _Mapping]]] = ..., taken: _Optional[_Iterable[_Union[HoldWeek, _Mapping]]] = ...) -> None: ...

class RosterEntry(_message.Message):
    __slots__ = ("date", "start", "end", "site_id")
    DATE_FIELD_NUMBER: _ClassVar[int]
    START_FIELD_NUMBER: _ClassVar[int]
    END_FIELD_NUMBER: _ClassVar[int]
    SITE_ID_FIELD_NUMBER: _ClassVar[int]
    date: _date_pb2.Date
    start: _timeofday_pb2.TimeOfDay
    end: _timeofday_pb2.TimeOfDay
    site_id: str
    def __init__(self, date: _Optional[_Union[_date_pb2.Date, _Mapping]] = ..., start: _Optional[_Union[_timeofday_pb2.TimeOfDay, _Mapping]] = ..., end: _Optional[_Union[_timeofday_pb2.TimeOfDay, _Mapping]] = ..., site_id: _Optional[str] = ...) -> None: ...

class Absence(_message.Message):
    __slots__ = ("start", "end", "reason")
    START_FIELD_NUMBER: _ClassVar[int]
    END_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    start: _date_pb2.Date
    end: _date_pb2.Date
    reason: str
    def __init__(self, start: _Optional[_Union[_date_pb2.Date, _Mapping]] = ..., end: _Optional[_Union[_date_pb2.Date, _Mapping]] = ..., reason: _Optional[str] = ...) -> None: ...

class Therapist(_message.Message):
    __slots__ = ("id", "name", "discipline", "specialties", "roster", "absences", "home_visits")
    ID_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    DISCIPLINE_FIELD_NUMBER: _ClassVar[int]
    SPECIALTIES_FIELD_NUMBER: _ClassVar[int]
    ROSTER_FIELD_NUMBER: _ClassVar[int]
    ABSENCES_FIELD_NUMBER: _ClassVar[int]
    HOME_VISITS_FIELD_NUMBER: _ClassVar[int]
    id: str
    name: str
    discipline: Discipline
    specialties: _containers.RepeatedScalarFieldContainer[str]
    roster: _containers.RepeatedCompositeFieldContainer[RosterEntry]
    absences: _containers.RepeatedCompositeFieldContainer[Absence]
    home_visits: bool
    def __init__(self, id: _Optional[str] = ..., name: _Optional[str] = ..., discipline: _Optional[_Union[Discipline, str]] = ..., specialties: _Optional[_Iterable[str]] = ..., roster: _Optional[_Iterable[_Union[RosterEntry, _Mapping]]] = ..., absences: _Optional[_Iterable[_Union[Absence, _Mapping]]] = ..., home_visits: _Optional[bool] = ...) -> None: ...

class Booking(_message.Message):
    __slots__ = ("id", "therapist_id", "site_id", "start", "end", "status", "referral_id", "at_home")
    ID_FIELD_NUMBER: _ClassVar[int]
    THERAPIST_ID_FIELD_NUMBER: _ClassVar[int]
    SITE_ID_FIELD_NUMBER: _ClassVar[int]
    START_FIELD_NUMBER: _ClassVar[int]
    END_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    REFERRAL_ID_FIELD_NUMBER: _ClassVar[int]
    AT_HOME_FIELD_NUMBER: _ClassVar[int]
    id: str
    therapist_id: str
    site_id: str
    start: _datetime_pb2.DateTime
    end: _datetime_pb2.DateTime
    status: BookingStatus
    referral_id: str
    at_home: bool
    def __init__(self, id: _Optional[str] = ..., therapist_id: _Optional[str] = ..., site_id: _Optional[str] = ..., start: _Optional[_Union[_datetime_pb2.DateTime, _Mapping]] = ..., end: _Optional[_Union[_datetime_pb2.DateTime, _Mapping]] = ..., status: _Optional[_Union[BookingStatus, str]] = ..., referral_id: _Optional[str] = ..., at_home: _Optional[bool] = ...) -> None: ...

class Referral(_message.Message):
    __slots__ = ("id", "discharge_date", "received_date", "level", "discipline", "specialty", "forloebskode", "plan_start_date", "plan_start_kind", "postponed_to", "unavailable_dates", "home_training", "chosen_site_id", "location", "age", "chronic_course", "first_session_minutes", "course")
    ID_FIELD_NUMBER: _ClassVar[int]
    DISCHARGE_DATE_FIELD_NUMBER: _ClassVar[int]
    RECEIVED_DATE_FIELD_NUMBER: _ClassVar[int]
    LEVEL_FIELD_NUMBER: _ClassVar[int]
    DISCIPLINE_FIELD_NUMBER: _ClassVar[int]
    SPECIALTY_FIELD_NUMBER: _ClassVar[int]
    FORLOEBSKODE_FIELD_NUMBER: _ClassVar[int]
    PLAN_START_DATE_FIELD_NUMBER: _ClassVar[int]
    PLAN_START_KIND_FIELD_NUMBER: _ClassVar[int]
    POSTPONED_TO_FIELD_NUMBER: _ClassVar[int]
    UNAVAILABLE_DATES_FIELD_NUMBER: _ClassVar[int]
    HOME_TRAINING_FIELD_NUMBER: _ClassVar[int]
    CHOSEN_SITE_ID_FIELD_NUMBER: _ClassVar[int]
    LOCATION_FIELD_NUMBER: _ClassVar[int]
    AGE_FIELD_NUMBER: _ClassVar[int]
    CHRONIC_COURSE_FIELD_NUMBER: _ClassVar[int]
    FIRST_SESSION_MINUTES_FIELD_NUMBER: _ClassVar[int]
    COURSE_FIELD_NUMBER: _ClassVar[int]
    id: str
    discharge_date: _date_pb2.Date
    received_date: _date_pb2.Date
    level: Level
    discipline: Discipline
    specialty: str
    forloebskode: str
    plan_start_date: _date_pb2.Date
    plan_start_kind: PlanStartKind
    postponed_to: _date_pb2.Date
    unavailable_dates: _containers.RepeatedCompositeFieldContainer[_date_pb2.Date]
    home_training: bool
    chosen_site_id: str
    location: Coordinates
    age: int
    chronic_course: bool
    first_session_minutes: int
    course: Course
    def __init__(self, id: _Optional[str] = ..., discharge_date: _Optional[_Union[_date_pb2.Date, _Mapping]] = ..., received_date: _Optional[_Union[_date_pb2.Date, _Mapping]] = ..., level: _Optional[_Union[Level, str]] = ..., discipline: _Optional[_Union[Discipline, str]] = ..., specialty: _Optional[str] = ..., forloebskode: _Optional[str] = ..., plan_start_date: _Optional[_Union[_date_pb2.Date, _Mapping]] = ..., plan_start_kind: _Optional[_Union[PlanStartKind, str]] = ..., postponed_to: _Optional[_Union[_date_pb2.Date, _Mapping]] = ..., unavailable_dates: _Optional[_Iterable[_Union[_date_pb2.Date, _Mapping]]] = ..., home_training: _Optional[bool] = ..., chosen_site_id: _Optional[str] = ..., location: _Optional[_Union[Coordinates, _Mapping]] = ..., age: _Optional[int] = ..., chronic_course: _Optional[bool] = ..., first_session_minutes: _Optional[int] = ..., course: _Optional[_Union[Course, _Mapping]] = ...) -> None: ...

class Instance(_message.Message):
    __slots__ = ("name", "planning_date", "policy", "sites", "therapists", "bookings", "referrals", "offers_sent_at")
    NAME_FIELD_NUMBER: _ClassVar[int]
    PLANNING_DATE_FIELD_NUMBER: _ClassVar[int]
    POLICY_FIELD_NUMBER: _ClassVar[int]
    SITES_FIELD_NUMBER: _ClassVar[int]
    THERAPISTS_FIELD_NUMBER: _ClassVar[int]
    BOOKINGS_FIELD_NUMBER: _ClassVar[int]
    REFERRALS_FIELD_NUMBER: _ClassVar[int]
    OFFERS_SENT_AT_FIELD_NUMBER: _ClassVar[int]
    name: str
    planning_date: _date_pb2.Date
    policy: Policy
    sites: _containers.RepeatedCompositeFieldContainer[Site]
    therapists: _containers.RepeatedCompositeFieldContainer[Therapist]
    bookings: _containers.RepeatedCompositeFieldContainer[Booking]
    referrals: _containers.RepeatedCompositeFieldContainer[Referral]
    offers_sent_at: _datetime_pb2.DateTime
    def __init__(self, name: _Optional[str] = ..., planning_date: _Optional[_Union[_date_pb2.Date, _Mapping]] = ..., policy: _Optional[_Union[Policy, _Mapping]] = ..., sites: _Optional[_Iterable[_Union[Site, _Mapping]]] = ..., therapists: _Optional[_Iterable[_Union[Therapist, _Mapping]]] = ..., bookings: _Optional[_Iterable[_Union[Booking, _Mapping]]] = ..., referrals: _Optional[_Iterable[_Union[Referral, _Mapping]]] = ..., offers_sent_at: _Optional[_Union[_datetime_pb2.DateTime, _Mapping]] = ...) -> None: ...

class ObjectiveWeights(_message.Message):
    __slots__ = ("wait_day", "travel_minute", "specialist_on_basal", "balance_minute", "moved_tentative")
    WAIT_DAY_FIELD_NUMBER: _ClassVar[int]
    TRAVEL_MINUTE_FIELD_NUMBER: _ClassVar[int]
    SPECIALIST_ON_BASAL_FIELD_NUMBER: _ClassVar[int]
    BALANCE_MINUTE_FIELD_NUMBER: _ClassVar[int]
    MOVED_TENTATIVE_FIELD_NUMBER: _ClassVar[int]
    wait_day: int
    travel_minute: int
    specialist_on_basal: int
    balance_minute: int
    moved_tentative: int
    def __init__(self, wait_day: _Optional[int] = ..., travel_minute: _Optional[int] = ..., specialist_on_basal: _Optional[int] = ..., balance_minute: _Optional[int] = ..., moved_tentative: _Optional[int] = ...) -> None: ...

class SolveOptions(_message.Message):
    __slots__ = ("time_limit_s", "workers", "seed", "weights", "late_days")
    TIME_LIMIT_S_FIELD_NUMBER: _ClassVar[int]
    WORKERS_FIELD_NUMBER: _ClassVar[int]
    SEED_FIELD_NUMBER: _ClassVar[int]
    WEIGHTS_FIELD_NUMBER: _ClassVar[int]
    LATE_DAYS_FIELD_NUMBER: _ClassVar[int]
    time_limit_s: float
    workers: int
    seed: int
    weights: ObjectiveWeights
    late_days: int
    def __init__(self, time_limit_s: _Optional[float] = ..., workers: _Optional[int] = ..., seed: _Optional[int] = ..., weights: _Optional[_Union[ObjectiveWeights, _Mapping]] = ..., late_days: _Optional[int] = ...) -> None: ...

class Assignment(_message.Message):
    __slots__ = ("referral_id", "outcome", "therapist_id", "site_id", "at_home", "start", "end", "travel_minutes", "earliest_start", "deadline", "free_choice_right", "letter_by", "answer_by", "reason", "detail", "fixed", "letter_send_by", "course_status", "course_therapist_id", "course_hold_id", "course_start", "course_weeks_planned", "course_weeks_beyond", "course_reason", "tentative_moved", "moved_detail")
    REFERRAL_ID_FIELD_NUMBER: _ClassVar[int]
    OUTCOME_FIELD_NUMBER: _ClassVar[int]
    THERAPIST_ID_FIELD_NUMBER: _ClassVar[int]
    SITE_ID_FIELD_NUMBER: _ClassVar[int]
    AT_HOME_FIELD_NUMBER: _ClassVar[int]
    START_FIELD_NUMBER: _ClassVar[int]
    END_FIELD_NUMBER: _ClassVar[int]
    TRAVEL_MINUTES_FIELD_NUMBER: _ClassVar[int]
    EARLIEST_START_FIELD_NUMBER: _ClassVar[int]
    DEADLINE_FIELD_NUMBER: _ClassVar[int]
    FREE_CHOICE_RIGHT_FIELD_NUMBER: _ClassVar[int]
    LETTER_BY_FIELD_NUMBER: _ClassVar[int]
    ANSWER_BY_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    DETAIL_FIELD_NUMBER: _ClassVar[int]
    FIXED_FIELD_NUMBER: _ClassVar[int]
    LETTER_SEND_BY_FIELD_NUMBER: _ClassVar[int]
    COURSE_STATUS_FIELD_NUMBER: _ClassVar[int]
    COURSE_THERAPIST_ID_FIELD_NUMBER: _ClassVar[int]
    COURSE_HOLD_ID_FIELD_NUMBER: _ClassVar[int]
    COURSE_START_FIELD_NUMBER: _ClassVar[int]
    COURSE_WEEKS_PLANNED_FIELD_NUMBER: _ClassVar[int]
    COURSE_WEEKS_BEYOND_FIELD_NUMBER: _ClassVar[int]
    COURSE_REASON_FIELD_NUMBER: _ClassVar[int]
    TENTATIVE_MOVED_FIELD_NUMBER: _ClassVar[int]
    MOVED_DETAIL_FIELD_NUMBER: _ClassVar[int]
    referral_id: str
    outcome: Outcome
    therapist_id: str
    site_id: str
    at_home: bool
    start: _datetime_pb2.DateTime
    end: _datetime_pb2.DateTime
    travel_minutes: int
    earliest_start: _date_pb2.Date
    deadline: _date_pb2.Date
    free_choice_right: bool
    letter_by: _date_pb2.Date
    answer_by: _datetime_pb2.DateTime
    reason: Reason
    detail: str
    fixed: bool
    letter_send_by: _date_pb2.Date
    course_status: CourseStatus
    course_therapist_id: str
    course_hold_id: str
    course_start: _date_pb2.Date
    course_weeks_planned: int
    course_weeks_beyond: int
    course_reason: Reason
    tentative_moved: bool
    moved_detail: str
    def __init__(self, referral_id: _Optional[str] = ..., outcome: _Optional[_Union[Outcome, str]] = ..., therapist_id: _Optional[str] = ..., site_id: _Optional[str] = ..., at_home: _Optional[bool] = ..., start: _Optional[_Union[_datetime_pb2.DateTime, _Mapping]] = ..., end: _Optional[_Union[_datetime_pb2.DateTime, _Mapping]] = ..., travel_minutes: _Optional[int] = ..., earliest_start: _Optional[_Union[_date_pb2.Date, _Mapping]] = ..., deadline: _Optional[_Union[_date_pb2.Date, _Mapping]] = ..., free_choice_right: _Optional[bool] = ..., letter_by: _Optional[_Union[_date_pb2.Date, _Mapping]] = ..., answer_by: _Optional[_Union[_datetime_pb2.DateTime, _Mapping]] = ..., reason: _Optional[_Union[Reason, str]] = ..., detail: _Optional[str] = ..., fixed: _Optional[bool] = ..., letter_send_by: _Optional[_Union[_date_pb2.Date, _Mapping]] = ..., course_status: _Optional[_Union[CourseStatus, str]] = ..., course_therapist_id: _Optional[str] = ..., course_hold_id: _Optional[str] = ..., course_start: _Optional[_Union[_date_pb2.Date, _Mapping]] = ..., course_weeks_planned: _Optional[int] = ..., course_weeks_beyond: _Optional[int] = ..., course_reason: _Optional[_Union[Reason, str]] = ..., tentative_moved: _Optional[bool] = ..., moved_detail: _Optional[str] = ...) -> None: ...

class Kpis(_message.Message):
    __slots__ = ("referrals", "booked", "on_time", "on_time_share", "free_choice_flagged", "late_no_right", "not_bookable", "wait_days_mean", "wait_days_median", "wait_days_max", "total_lateness_days", "home_visits", "travel_minutes_total", "utilisation", "rejected", "courses_started", "courses_waiting", "tentative_moved")
    class UtilisationEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: float
        def __init__(self, key: _Optional[str] = ..., value: _Optional[float] = ...) -> None: ...
    REFERRALS_FIELD_NUMBER: _ClassVar[int]
    BOOKED_FIELD_NUMBER: _ClassVar[int]
    ON_TIME_FIELD_NUMBER: _ClassVar[int]
    ON_TIME_SHARE_FIELD_NUMBER: _ClassVar[int]
    FREE_CHOICE_FLAGGED_FIELD_NUMBER: _ClassVar[int]
    LATE_NO_RIGHT_FIELD_NUMBER: _ClassVar[int]
    NOT_BOOKABLE_FIELD_NUMBER: _ClassVar[int]
    WAIT_DAYS_MEAN_FIELD_NUMBER: _ClassVar[int]
    WAIT_DAYS_MEDIAN_FIELD_NUMBER: _ClassVar[int]
    WAIT_DAYS_MAX_FIELD_NUMBER: _ClassVar[int]
    TOTAL_LATENESS_DAYS_FIELD_NUMBER: _ClassVar[int]
    HOME_VISITS_FIELD_NUMBER: _ClassVar[int]
    TRAVEL_MINUTES_TOTAL_FIELD_NUMBER: _ClassVar[int]
    UTILISATION_FIELD_NUMBER: _ClassVar[int]
    REJECTED_FIELD_NUMBER: _ClassVar[int]
    COURSES_STARTED_FIELD_NUMBER: _ClassVar[int]
    COURSES_WAITING_FIELD_NUMBER: _ClassVar[int]
    TENTATIVE_MOVED_FIELD_NUMBER: _ClassVar[int]
    referrals: int
    booked: int
    on_time: int
    on_time_share: float
    free_choice_flagged: int
    late_no_right: int
    not_bookable: int
    wait_days_mean: float
    wait_days_median: float
    wait_days_max: int
    total_lateness_days: int
    home_visits: int
    travel_minutes_total: int
    utilisation: _containers.ScalarMap[str, float]
    rejected: int
    courses_started: int
    courses_waiting: int
    tentative_moved: int
    def __init__(self, referrals: _Optional[int] = ..., booked: _Optional[int] = ..., on_time: _Optional[int] = ..., on_time_share: _Optional[float] = ..., free_choice_flagged: _Optional[int] = ..., late_no_right: _Optional[int] = ..., not_bookable: _Optional[int] = ..., wait_days_mean: _Optional[float] = ..., wait_days_median: _Optional[float] = ..., wait_days_max: _Optional[int] = ..., total_lateness_days: _Optional[int] = ..., home_visits: _Optional[int] = ..., travel_minutes_total: _Optional[int] = ..., utilisation: _Optional[_Mapping[str, float]] = ..., rejected: _Optional[int] = ..., courses_started: _Optional[int] = ..., courses_waiting: _Optional[int] = ..., tentative_moved: _Optional[int] = ...) -> None: ...

class SolverStats(_message.Message):
    __slots__ = ("method", "status", "proven_optimal", "objective", "best_bound", "gap", "on_time_bound", "wall_time_s", "first_solution_s", "variables", "constraints", "workers", "seed", "stages", "on_time_proven")
    METHOD_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    PROVEN_OPTIMAL_FIELD_NUMBER: _ClassVar[int]
    OBJECTIVE_FIELD_NUMBER: _ClassVar[int]
    BEST_BOUND_FIELD_NUMBER: _ClassVar[int]
    GAP_FIELD_NUMBER: _ClassVar[int]
    ON_TIME_BOUND_FIELD_NUMBER: _ClassVar[int]
    WALL_TIME_S_FIELD_NUMBER: _ClassVar[int]
    FIRST_SOLUTION_S_FIELD_NUMBER: _ClassVar[int]
    VARIABLES_FIELD_NUMBER: _ClassVar[int]
    CONSTRAINTS_FIELD_NUMBER: _ClassVar[int]
    WORKERS_FIELD_NUMBER: _ClassVar[int]
    SEED_FIELD_NUMBER: _ClassVar[int]
    STAGES_FIELD_NUMBER: _ClassVar[int]
    ON_TIME_PROVEN_FIELD_NUMBER: _ClassVar[int]
    method: str
    status: str
    proven_optimal: bool
    objective: float
    best_bound: float
    gap: float
    on_time_bound: int
    wall_time_s: float
    first_solution_s: float
    variables: int
    constraints: int
    workers: int
    seed: int
    stages: _containers.RepeatedCompositeFieldContainer[_struct_pb2.Struct]
    on_time_proven: bool
    def __init__(self, method: _Optional[str] = ..., status: _Optional[str] = ..., proven_optimal: _Optional[bool] = ..., objective: _Optional[float] = ..., best_bound: _Optional[float] = ..., gap: _Optional[float] = ..., on_time_bound: _Optional[int] = ..., wall_time_s: _Optional[float] = ..., first_solution_s: _Optional[float] = ..., variables: _Optional[int] = ..., constraints: _Optional[int] = ..., workers: _Optional[int] = ..., seed: _Optional[int] = ..., stages: _Optional[_Iterable[_Union[_struct_pb2.Struct, _Mapping]]] = ..., on_time_proven: _Optional[bool] = ...) -> None: ...

class Solution(_message.Message):
    __slots__ = ("instance_name", "planning_date", "assignments", "kpis", "stats", "letters")
    INSTANCE_NAME_FIELD_NUMBER: _ClassVar[int]
    PLANNING_DATE_FIELD_NUMBER: _ClassVar[int]
    ASSIGNMENTS_FIELD_NUMBER: _ClassVar[int]
    KPIS_FIELD_NUMBER: _ClassVar[int]
    STATS_FIELD_NUMBER: _ClassVar[int]
    LETTERS_FIELD_NUMBER: _ClassVar[int]
    instance_name: str
    planning_date: _date_pb2.Date
    assignments: _containers.RepeatedCompositeFieldContainer[Assignment]
    kpis: Kpis
    stats: SolverStats
    letters: _containers.RepeatedCompositeFieldContainer[Letter]
    def __init__(self, instance_name: _Optional[str] = ..., planning_date: _Optional[_Union[_date_pb2.Date, _Mapping]] = ..., assignments: _Optional[_Iterable[_Union[Assignment, _Mapping]]] = ..., kpis: _Optional[_Union[Kpis, _Mapping]] = ..., stats: _Optional[_Union[SolverStats, _Mapping]] = ..., letters: _Optional[_Iterable[_Union[Letter, _Mapping]]] = ...) -> None: ...

class Letter(_message.Message):
    __slots__ = ("referral_id", "kind", "send_by", "start", "answer_by")
    REFERRAL_ID_FIELD_NUMBER: _ClassVar[int]
    KIND_FIELD_NUMBER: _ClassVar[int]
    SEND_BY_FIELD_NUMBER: _ClassVar[int]
    START_FIELD_NUMBER: _ClassVar[int]
    ANSWER_BY_FIELD_NUMBER: _ClassVar[int]
    referral_id: str
    kind: LetterKind
    send_by: _date_pb2.Date
    start: _datetime_pb2.DateTime
    answer_by: _datetime_pb2.DateTime
    def __init__(self, referral_id: _Optional[str] = ..., kind: _Optional[_Union[LetterKind, str]] = ..., send_by: _Optional[_Union[_date_pb2.Date, _Mapping]] = ..., start: _Optional[_Union[_datetime_pb2.DateTime, _Mapping]] = ..., answer_by: _Optional[_Union[_datetime_pb2.DateTime, _Mapping]] = ...) -> None: ...

class OptimizeRequest(_message.Message):
    __slots__ = ("instance", "options")
    INSTANCE_FIELD_NUMBER: _ClassVar[int]
    OPTIONS_FIELD_NUMBER: _ClassVar[int]
    instance: Instance
    options: SolveOptions
    def __init__(self, instance: _Optional[_Union[Instance, _Mapping]] = ..., options: _Optional[_Union[SolveOptions, _Mapping]] = ...) -> None: ...

class OptimizeResponse(_message.Message):
    __slots__ = ("solution",)
    SOLUTION_FIELD_NUMBER: _ClassVar[int]
    solution: Solution
    def __init__(self, solution: _Optional[_Union[Solution, _Mapping]] = ...) -> None: ...

class Progress(_message.Message):
    __slots__ = ("elapsed_s", "stage", "on_time", "on_time_bound", "objective", "bound", "gap")
    ELAPSED_S_FIELD_NUMBER: _ClassVar[int]
    STAGE_FIELD_NUMBER: _ClassVar[int]
    ON_TIME_FIELD_NUMBER: _ClassVar[int]
    ON_TIME_BOUND_FIELD_NUMBER: _ClassVar[int]
    OBJECTIVE_FIELD_NUMBER: _ClassVar[int]
    BOUND_FIELD_NUMBER: _ClassVar[int]
    GAP_FIELD_NUMBER: _ClassVar[int]
    elapsed_s: float
    stage: str
    on_time: int
    on_time_bound: int
    objective: float
    bound: float
    gap: float
    def __init__(self, elapsed_s: _Optional[float] = ..., stage: _Optional[str] = ..., on_time: _Optional[int] = ..., on_time_bound: _Optional[int] = ..., objective: _Optional[float] = ..., bound: _Optional[float] = ..., gap: _Optional[float] = ...) -> None: ...

class OptimizeEvent(_message.Message):
    __slots__ = ("progress", "solution")
    PROGRESS_FIELD_NUMBER: _ClassVar[int]
    SOLUTION_FIELD_NUMBER: _ClassVar[int]
    progress: Progress
    solution: Solution
    def __init__(self, progress: _Optional[_Union[Progress, _Mapping]] = ..., solution: _Optional[_Union[Solution, _Mapping]] = ...) -> None: ...

class SubmitOptimizeRequest(_message.Message):
    __slots__ = ("instance", "options", "request_id")
    INSTANCE_FIELD_NUMBER: _ClassVar[int]
    OPTIONS_FIELD_NUMBER: _ClassVar[int]
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    instance: Instance
    options: SolveOptions
    request_id: str
    def __init__(self, instance: _Optional[_Union[Instance, _Mapping]] = ..., options: _Optional[_Union[SolveOptions, _Mapping]] = ..., request_id: _Optional[str] = ...) -> None: ...

class OptimizeOperationMetadata(_message.Message):
    __slots__ = ("state", "progress", "instance_name", "referrals", "attempts", "create_time", "start_time", "end_time", "request_id", "time_limit_s")
    class State(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
        __slots__ = ()
        STATE_UNSPECIFIED: _ClassVar[OptimizeOperationMetadata.State]
        QUEUED: _ClassVar[OptimizeOperationMetadata.State]
        RUNNING: _ClassVar[OptimizeOperationMetadata.State]
        SUCCEEDED: _ClassVar[OptimizeOperationMetadata.State]
        FAILED: _ClassVar[OptimizeOperationMetadata.State]
        CANCELLED: _ClassVar[OptimizeOperationMetadata.State]
    STATE_UNSPECIFIED: OptimizeOperationMetadata.State
    QUEUED: OptimizeOperationMetadata.State
    RUNNING: OptimizeOperationMetadata.State
    SUCCEEDED: OptimizeOperationMetadata.State
    FAILED: OptimizeOperationMetadata.State
    CANCELLED: OptimizeOperationMetadata.State
    STATE_FIELD_NUMBER: _ClassVar[int]
    PROGRESS_FIELD_NUMBER: _ClassVar[int]
    INSTANCE_NAME_FIELD_NUMBER: _ClassVar[int]
    REFERRALS_FIELD_NUMBER: _ClassVar[int]
    ATTEMPTS_FIELD_NUMBER: _ClassVar[int]
    CREATE_TIME_FIELD_NUMBER: _ClassVar[int]
    START_TIME_FIELD_NUMBER: _ClassVar[int]
    END_TIME_FIELD_NUMBER: _ClassVar[int]
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    TIME_LIMIT_S_FIELD_NUMBER: _ClassVar[int]
    state: OptimizeOperationMetadata.State
    progress: Progress
    instance_name: str
    referrals: int
    attempts: int
    create_time: _timestamp_pb2.Timestamp
    start_time: _timestamp_pb2.Timestamp
    end_time: _timestamp_pb2.Timestamp
    request_id: str
    time_limit_s: float
    def __init__(self, state: _Optional[_Union[OptimizeOperationMetadata.State, str]] = ..., progress: _Optional[_Union[Progress, _Mapping]] = ..., instance_name: _Optional[str] = ..., referrals: _Optional[int] = ..., attempts: _Optional[int] = ..., create_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., start_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., end_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., request_id: _Optional[str] = ..., time_limit_s: _Optional[float] = ...) -> None: ...

class SubmitSimulateRequest(_message.Message):
    __slots__ = ("profile", "weeks", "seed", "strategies", "time_limit_s", "workers", "burn_in_weeks", "therapists", "referrals_per_week", "request_id")
    PROFILE_FIELD_NUMBER: _ClassVar[int]
    WEEKS_FIELD_NUMBER: _ClassVar[int]
    SEED_FIELD_NUMBER: _ClassVar[int]
    STRATEGIES_FIELD_NUMBER: _ClassVar[int]
    TIME_LIMIT_S_FIELD_NUMBER: _ClassVar[int]
    WORKERS_FIELD_NUMBER: _ClassVar[int]
    BURN_IN_WEEKS_FIELD_NUMBER: _ClassVar[int]
    THERAPISTS_FIELD_NUMBER: _ClassVar[int]
    REFERRALS_PER_WEEK_FIELD_NUMBER: _ClassVar[int]
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    profile: str
    weeks: int
    seed: int
    strategies: _containers.RepeatedScalarFieldContainer[str]
    time_limit_s: float
    workers: int
    burn_in_weeks: int
    therapists: int
    referrals_per_week: float
    request_id: str
    def __init__(self, profile: _Optional[str] = ..., weeks: _Optional[int] = ..., seed: _Optional[int] = ..., strategies: _Optional[_Iterable[str]] = ..., time_limit_s: _Optional[float] = ..., workers: _Optional[int] = ..., burn_in_weeks: _Optional[int] = ..., therapists: _Optional[int] = ..., referrals_per_week: _Optional[float] = ..., request_id: _Optional[str] = ...) -> None: ...

class SimulationProgress(_message.Message):
    __slots__ = ("strategy", "day", "days", "days_done", "days_total", "date", "week", "weeks", "elapsed_s")
    STRATEGY_FIELD_NUMBER: _ClassVar[int]
    DAY_FIELD_NUMBER: _ClassVar[int]
    DAYS_FIELD_NUMBER: _ClassVar[int]
    DAYS_DONE_FIELD_NUMBER: _ClassVar[int]
    DAYS_TOTAL_FIELD_NUMBER: _ClassVar[int]
    DATE_FIELD_NUMBER: _ClassVar[int]
    WEEK_FIELD_NUMBER: _ClassVar[int]
    WEEKS_FIELD_NUMBER: _ClassVar[int]
    ELAPSED_S_FIELD_NUMBER: _ClassVar[int]
    strategy: str
    day: int
    days: int
    days_done: int
    days_total: int
    date: _date_pb2.Date
    week: int
    weeks: int
    elapsed_s: float
    def __init__(self, strategy: _Optional[str] = ..., day: _Optional[int] = ..., days: _Optional[int] = ..., days_done: _Optional[int] = ..., days_total: _Optional[int] = ..., date: _Optional[_Union[_date_pb2.Date, _Mapping]] = ..., week: _Optional[int] = ..., weeks: _Optional[int] = ..., elapsed_s: _Optional[float] = ...) -> None: ...

class SimulateOperationMetadata(_message.Message):
    __slots__ = ("state", "progress", "profile", "weeks", "seed", "strategies", "attempts", "create_time", "start_time", "end_time", "request_id")
    STATE_FIELD_NUMBER: _ClassVar[int]
    PROGRESS_FIELD_NUMBER: _ClassVar[int]
    PROFILE_FIELD_NUMBER: _ClassVar[int]
    WEEKS_FIELD_NUMBER: _ClassVar[int]
    SEED_FIELD_NUMBER: _ClassVar[int]
    STRATEGIES_FIELD_NUMBER: _ClassVar[int]
    ATTEMPTS_FIELD_NUMBER: _ClassVar[int]
    CREATE_TIME_FIELD_NUMBER: _ClassVar[int]
    START_TIME_FIELD_NUMBER: _ClassVar[int]
    END_TIME_FIELD_NUMBER: _ClassVar[int]
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    state: OptimizeOperationMetadata.State
    progress: SimulationProgress
    profile: str
    weeks: int
    seed: int
    strategies: _containers.RepeatedScalarFieldContainer[str]
    attempts: int
    create_time: _timestamp_pb2.Timestamp
    start_time: _timestamp_pb2.Timestamp
    end_time: _timestamp_pb2.Timestamp
    request_id: str
    def __init__(self, state: _Optional[_Union[OptimizeOperationMetadata.State, str]] = ..., progress: _Optional[_Union[SimulationProgress, _Mapping]] = ..., profile: _Optional[str] = ..., weeks: _Optional[int] = ..., seed: _Optional[int] = ..., strategies: _Optional[_Iterable[str]] = ..., attempts: _Optional[int] = ..., create_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., start_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., end_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., request_id: _Optional[str] = ...) -> None: ...

class SimulationSummary(_message.Message):
    __slots__ = ("strategy", "week", "referrals", "on_time", "on_time_share", "frit_valg_letters", "late_no_right", "not_booked", "wait_mean", "wait_median", "wait_p90", "courses", "courses_without_wait", "moved", "released", "cancelled_by_sickness", "utilisation", "specialists_on_basal", "overdue_at_arrival", "violations")
    STRATEGY_FIELD_NUMBER: _ClassVar[int]
    WEEK_FIELD_NUMBER: _ClassVar[int]
    REFERRALS_FIELD_NUMBER: _ClassVar[int]
    ON_TIME_FIELD_NUMBER: _ClassVar[int]
    ON_TIME_SHARE_FIELD_NUMBER: _ClassVar[int]
    FRIT_VALG_LETTERS_FIELD_NUMBER: _ClassVar[int]
    LATE_NO_RIGHT_FIELD_NUMBER: _ClassVar[int]
    NOT_BOOKED_FIELD_NUMBER: _ClassVar[int]
    WAIT_MEAN_FIELD_NUMBER: _ClassVar[int]
    WAIT_MEDIAN_FIELD_NUMBER: _ClassVar[int]
    WAIT_P90_FIELD_NUMBER: _ClassVar[int]
    COURSES_FIELD_NUMBER: _ClassVar[int]
    COURSES_WITHOUT_WAIT_FIELD_NUMBER: _ClassVar[int]
    MOVED_FIELD_NUMBER: _ClassVar[int]
    RELEASED_FIELD_NUMBER: _ClassVar[int]
    CANCELLED_BY_SICKNESS_FIELD_NUMBER: _ClassVar[int]
    UTILISATION_FIELD_NUMBER: _ClassVar[int]
    SPECIALISTS_ON_BASAL_FIELD_NUMBER: _ClassVar[int]
    OVERDUE_AT_ARRIVAL_FIELD_NUMBER: _ClassVar[int]
    VIOLATIONS_FIELD_NUMBER: _ClassVar[int]
    strategy: str
    week: int
    referrals: int
    on_time: int
    on_time_share: float
    frit_valg_letters: int
    late_no_right: int
    not_booked: int
    wait_mean: float
    wait_median: float
    wait_p90: float
    courses: int
    courses_without_wait: int
    moved: int
    released: int
    cancelled_by_sickness: int
    utilisation: float
    specialists_on_basal: int
    overdue_at_arrival: int
    violations: int
    def __init__(self, strategy: _Optional[str] = ..., week: _Optional[int] = ..., referrals: _Optional[int] = ..., on_time: _Optional[int] = ..., on_time_share: _Optional[float] = ..., frit_valg_letters: _Optional[int] = ..., late_no_right: _Optional[int] = ..., not_booked: _Optional[int] = ..., wait_mean: _Optional[float] = ..., wait_median: _Optional[float] = ..., wait_p90: _Optional[float] = ..., courses: _Optional[int] = ..., courses_without_wait: _Optional[int] = ..., moved: _Optional[int] = ..., released: _Optional[int] = ..., cancelled_by_sickness: _Optional[int] = ..., utilisation: _Optional[float] = ..., specialists_on_basal: _Optional[int] = ..., overdue_at_arrival: _Optional[int] = ..., violations: _Optional[int] = ...) -> None: ...

class SimulationResult(_message.Message):
    __slots__ = ("profile", "policy", "seed", "weeks", "burn_in_weeks", "start", "measure_start", "end", "summary", "weekly", "table")
    PROFILE_FIELD_NUMBER: _ClassVar[int]
    POLICY_FIELD_NUMBER: _ClassVar[int]
    SEED_FIELD_NUMBER: _ClassVar[int]
    WEEKS_FIELD_NUMBER: _ClassVar[int]
    BURN_IN_WEEKS_FIELD_NUMBER: _ClassVar[int]
    START_FIELD_NUMBER: _ClassVar[int]
    MEASURE_START_FIELD_NUMBER: _ClassVar[int]
    END_FIELD_NUMBER: _ClassVar[int]
    SUMMARY_FIELD_NUMBER: _ClassVar[int]
    WEEKLY_FIELD_NUMBER: _ClassVar[int]
    TABLE_FIELD_NUMBER: _ClassVar[int]
    profile: str
    policy: str
    seed: int
    weeks: int
    burn_in_weeks: int
    start: _date_pb2.Date
    measure_start: _date_pb2.Date
    end: _date_pb2.Date
    summary: _containers.RepeatedCompositeFieldContainer[SimulationSummary]
    weekly: _containers.RepeatedCompositeFieldContainer[SimulationSummary]
    table: str
    def __init__(self, profile: _Optional[str] = ..., policy: _Optional[str] = ..., seed: _Optional[int] = ..., weeks: _Optional[int] = ..., burn_in_weeks: _Optional[int] = ..., start: _Optional[_Union[_date_pb2.Date, _Mapping]] = ..., measure_start: _Optional[_Union[_date_pb2.Date, _Mapping]] = ..., end: _Optional[_Union[_date_pb2.Date, _Mapping]] = ..., summary: _Optional[_Iterable[_Union[SimulationSummary, _Mapping]]] = ..., weekly: _Optional[_Iterable[_Union[SimulationSummary, _Mapping]]] = ..., table: _Optional[str] = ...) -> None: ...

class ProposeSlotsRequest(_message.Message):
    __slots__ = ("instance", "calendar", "referral_id", "referral", "k")
    INSTANCE_FIELD_NUMBER: _ClassVar[int]
    CALENDAR_FIELD_NUMBER: _ClassVar[int]
    REFERRAL_ID_FIELD_NUMBER: _ClassVar[int]
    REFERRAL_FIELD_NUMBER: _ClassVar[int]
    K_FIELD_NUMBER: _ClassVar[int]
    instance: Instance
    calendar: CalendarRef
    referral_id: str
    referral: Referral
    k: int
    def __init__(self, instance: _Optional[_Union[Instance, _Mapping]] = ..., calendar: _Optional[_Union[CalendarRef, _Mapping]] = ..., referral_id: _Optional[str] = ..., referral: _Optional[_Union[Referral, _Mapping]] = ..., k: _Optional[int] = ...) -> None: ...

class SlotProposal(_message.Message):
    __slots__ = ("rank", "therapist_id", "site_id", "at_home", "start", "end", "travel_minutes", "outcome", "deadline", "on_time", "why")
    RANK_FIELD_NUMBER: _ClassVar[int]
    THERAPIST_ID_FIELD_NUMBER: _ClassVar[int]
    SITE_ID_FIELD_NUMBER: _ClassVar[int]
    AT_HOME_FIELD_NUMBER: _ClassVar[int]
    START_FIELD_NUMBER: _ClassVar[int]
    END_FIELD_NUMBER: _ClassVar[int]
    TRAVEL_MINUTES_FIELD_NUMBER: _ClassVar[int]
    OUTCOME_FIELD_NUMBER: _ClassVar[int]
    DEADLINE_FIELD_NUMBER: _ClassVar[int]
    ON_TIME_FIELD_NUMBER: _ClassVar[int]
    WHY_FIELD_NUMBER: _ClassVar[int]
    rank: int
    therapist_id: str
    site_id: str
    at_home: bool
    start: _datetime_pb2.DateTime
    end: _datetime_pb2.DateTime
    travel_minutes: int
    outcome: Outcome
    deadline: _date_pb2.Date
    on_time: bool
    why: str
    def __init__(self, rank: _Optional[int] = ..., therapist_id: _Optional[str] = ..., site_id: _Optional[str] = ..., at_home: _Optional[bool] = ..., start: _Optional[_Union[_datetime_pb2.DateTime, _Mapping]] = ..., end: _Optional[_Union[_datetime_pb2.DateTime, _Mapping]] = ..., travel_minutes: _Optional[int] = ..., outcome: _Optional[_Union[Outcome, str]] = ..., deadline: _Optional[_Union[_date_pb2.Date, _Mapping]] = ..., on_time: _Optional[bool] = ..., why: _Optional[str] = ...) -> None: ...

class CalendarRef(_message.Message):
    __slots__ = ("calendar_id", "version")
    CALENDAR_ID_FIELD_NUMBER: _ClassVar[int]
    VERSION_FIELD_NUMBER: _ClassVar[int]
    calendar_id: str
    version: int
    def __init__(self, calendar_id: _Optional[str] = ..., version: _Optional[int] = ...) -> None: ...

class PutCalendarRequest(_message.Message):
    __slots__ = ("calendar_id", "instance")
    CALENDAR_ID_FIELD_NUMBER: _ClassVar[int]
    INSTANCE_FIELD_NUMBER: _ClassVar[int]
    calendar_id: str
    instance: Instance
    def __init__(self, calendar_id: _Optional[str] = ..., instance: _Optional[_Union[Instance, _Mapping]] = ...) -> None: ...

class PutCalendarResponse(_message.Message):
    __slots__ = ("calendar_id", "version")
    CALENDAR_ID_FIELD_NUMBER: _ClassVar[int]
    VERSION_FIELD_NUMBER: _ClassVar[int]
    calendar_id: str
    version: int
    def __init__(self, calendar_id: _Optional[str] = ..., version: _Optional[int] = ...) -> None: ...

class UpdateCalendarRequest(_message.Message):
    __slots__ = ("calendar_id", "base_version", "bookings_removed", "bookings_added", "therapists", "referrals", "referrals_removed")
    CALENDAR_ID_FIELD_NUMBER: _ClassVar[int]
    BASE_VERSION_FIELD_NUMBER: _ClassVar[int]
    BOOKINGS_REMOVED_FIELD_NUMBER: _ClassVar[int]
    BOOKINGS_ADDED_FIELD_NUMBER: _ClassVar[int]
    THERAPISTS_FIELD_NUMBER: _ClassVar[int]
    REFERRALS_FIELD_NUMBER: _ClassVar[int]
    REFERRALS_REMOVED_FIELD_NUMBER: _ClassVar[int]
    calendar_id: str
    base_version: int
    bookings_removed: _containers.RepeatedScalarFieldContainer[str]
    bookings_added: _containers.RepeatedCompositeFieldContainer[Booking]
    therapists: _containers.RepeatedCompositeFieldContainer[Therapist]
    referrals: _containers.RepeatedCompositeFieldContainer[Referral]
    referrals_removed: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, calendar_id: _Optional[str] = ..., base_version: _Optional[int] = ..., bookings_removed: _Optional[_Iterable[str]] = ..., bookings_added: _Optional[_Iterable[_Union[Booking, _Mapping]]] = ..., therapists: _Optional[_Iterable[_Union[Therapist, _Mapping]]] = ..., referrals: _Optional[_Iterable[_Union[Referral, _Mapping]]] = ..., referrals_removed: _Optional[_Iterable[str]] = ...) -> None: ...

class UpdateCalendarResponse(_message.Message):
    __slots__ = ("version",)
    VERSION_FIELD_NUMBER: _ClassVar[int]
    version: int
    def __init__(self, version: _Optional[int] = ...) -> None: ...

class ProposeSlotsResponse(_message.Message):
    __slots__ = ("proposals", "earliest_start", "deadline", "free_choice_right", "letter_by")
    PROPOSALS_FIELD_NUMBER: _ClassVar[int]
    EARLIEST_START_FIELD_NUMBER: _ClassVar[int]
    DEADLINE_FIELD_NUMBER: _ClassVar[int]
    FREE_CHOICE_RIGHT_FIELD_NUMBER: _ClassVar[int]
    LETTER_BY_FIELD_NUMBER: _ClassVar[int]
    proposals: _containers.RepeatedCompositeFieldContainer[SlotProposal]
    earliest_start: _date_pb2.Date
    deadline: _date_pb2.Date
    free_choice_right: bool
    letter_by: _date_pb2.Date
    def __init__(self, proposals: _Optional[_Iterable[_Union[SlotProposal, _Mapping]]] = ..., earliest_start: _Optional[_Union[_date_pb2.Date, _Mapping]] = ..., deadline: _Optional[_Union[_date_pb2.Date, _Mapping]] = ..., free_choice_right: _Optional[bool] = ..., letter_by: _Optional[_Union[_date_pb2.Date, _Mapping]] = ...) -> None: ...

class CheckRequest(_message.Message):
    __slots__ = ("instance", "solution")
    INSTANCE_FIELD_NUMBER: _ClassVar[int]
    SOLUTION_FIELD_NUMBER: _ClassVar[int]
    instance: Instance
    solution: Solution
    def __init__(self, instance: _Optional[_Union[Instance, _Mapping]] = ..., solution: _Optional[_Union[Solution, _Mapping]] = ...) -> None: ...

class InstanceProblem(_message.Message):
    __slots__ = ("severity", "code", "where", "message")
    SEVERITY_FIELD_NUMBER: _ClassVar[int]
    CODE_FIELD_NUMBER: _ClassVar[int]
    WHERE_FIELD_NUMBER: _ClassVar[int]
    MESSAGE_FIELD_NUMBER: _ClassVar[int]
    severity: str
    code: str
    where: str
    message: str
    def __init__(self, severity: _Optional[str] = ..., code: _Optional[str] = ..., where: _Optional[str] = ..., message: _Optional[str] = ...) -> None: ...

class Violation(_message.Message):
    __slots__ = ("code", "referral_id", "therapist_id", "site_id", "message")
    CODE_FIELD_NUMBER: _ClassVar[int]
    REFERRAL_ID_FIELD_NUMBER: _ClassVar[int]
    THERAPIST_ID_FIELD_NUMBER: _ClassVar[int]
    SITE_ID_FIELD_NUMBER: _ClassVar[int]
    MESSAGE_FIELD_NUMBER: _ClassVar[int]
    code: str
    referral_id: str
    therapist_id: str
    site_id: str
    message: str
    def __init__(self, code: _Optional[str] = ..., referral_id: _Optional[str] = ..., therapist_id: _Optional[str] = ..., site_id: _Optional[str] = ..., message: _Optional[str] = ...) -> None: ...

class CheckResponse(_message.Message):
    __slots__ = ("ok", "instance_problems", "violations", "kpi_mismatches", "kpis")
    OK_FIELD_NUMBER: _ClassVar[int]
    INSTANCE_PROBLEMS_FIELD_NUMBER: _ClassVar[int]
    VIOLATIONS_FIELD_NUMBER: _ClassVar[int]
    KPI_MISMATCHES_FIELD_NUMBER: _ClassVar[int]
    KPIS_FIELD_NUMBER: _ClassVar[int]
    ok: bool
    instance_problems: _containers.RepeatedCompositeFieldContainer[InstanceProblem]
    violations: _containers.RepeatedCompositeFieldContainer[Violation]
    kpi_mismatches: _containers.RepeatedScalarFieldContainer[str]
    kpis: Kpis
    def __init__(self, ok: _Optional[bool] = ..., instance_problems: _Optional[_Iterable[_Union[InstanceProblem, _Mapping]]] = ..., violations: _Optional[_Iterable[_Union[Violation, _Mapping]]] = ..., kpi_mismatches: _Optional[_Iterable[str]] = ..., kpis: _Optional[_Union[Kpis, _Mapping]] = ...) -> None: ...
