"""Proto <-> domain conversion: lossless round trips (property-tested) and every violation named."""

from __future__ import annotations

import re
from datetime import date, datetime, time, timedelta
from typing import Any

import pytest
from google.type import datetime_pb2
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from scheduler.api.convert import (
    ENUM_PREFIXES,
    date_to_proto,
    enum_to_proto,
    instance_from_proto,
    instance_to_proto,
    options_from_proto,
    options_to_proto,
    solution_from_proto,
    solution_to_proto,
)
from scheduler.api.errors import ConversionError
from scheduler.domain import (
    Absence,
    Assignment,
    Booking,
    BookingStatus,
    Coordinates,
    Course,
    CourseForm,
    CourseStatus,
    Discipline,
    Hold,
    HoldSession,
    HoldWeek,
    Instance,
    Kpis,
    Level,
    ObjectiveWeights,
    OpeningHours,
    Outcome,
    PlanStartKind,
    Reason,
    Referral,
    RosterEntry,
    Site,
    Solution,
    SolveOptions,
    SolverStats,
    Therapist,
)
from scheduler.domain.policy import PRESETS, Anchor, DayKind, Policy, Postponement
from scheduler.planning.budget import CHECK_EVERY, Budget, BudgetExpired
from scheduler.v1 import scheduler_pb2 as pb
from scheduler.verify.validation import validate_instance

# --------------------------------------------------------------------------- strategies

# Ids as the domain allows them, minus anything that could look like a CPR number.
ids = st.from_regex(r"[A-Za-z0-9][A-Za-z0-9_.:-]{0,12}", fullmatch=True).filter(
    lambda s: re.search(r"\d{6}-?\d{4}", s) is None
)
texts = st.text(max_size=20)
days = st.dates(min_value=date(2020, 1, 1), max_value=date(2030, 12, 31))
clock = st.times()
int64 = st.integers(min_value=0, max_value=2**63 - 1)
finite = st.floats(allow_nan=False, allow_infinity=False, width=64)
coordinates = st.builds(
    Coordinates,
    lat=st.floats(min_value=54.0, max_value=58.0),
    lon=st.floats(min_value=7.0, max_value=16.0),
)


@st.composite
def ordered_times(draw: st.DrawFn) -> tuple[time, time]:
    a, b = draw(st.lists(clock, min_size=2, max_size=2, unique=True))
    return min(a, b), max(a, b)


@st.composite
def opening_hours(draw: st.DrawFn) -> OpeningHours:
    start, end = draw(ordered_times())
    return OpeningHours(weekday=draw(st.integers(0, 6)), open=start, close=end)


@st.composite
def courses(draw: st.DrawFn) -> Course:
    form = draw(st.sampled_from(CourseForm))
    return Course(
        form=form,
        sessions_per_week=draw(st.integers(1, 5)),
        weeks=draw(st.integers(1, 52)),
        minutes_per_session=draw(st.integers(15, 240)),
        hold_type=draw(ids) if form is CourseForm.HOLD else draw(st.none() | ids),
    )


mondays = days.map(lambda d: d - timedelta(days=d.weekday()))
holds = st.builds(
    Hold,
    id=ids,
    type=ids,
    discipline=st.sampled_from(Discipline),
    levels=st.lists(st.sampled_from(Level), min_size=1, max_size=2),
    therapist_id=st.none() | ids,
    sessions=st.lists(
        st.builds(
            HoldSession, weekday=st.integers(0, 4), start=clock, minutes=st.integers(15, 240)
        ),
        min_size=1,
        max_size=2,
    ),
    seats=st.integers(1, 100),
    rolling_admission=st.booleans(),
    intake_weeks=st.lists(mondays, max_size=2),
    taken=st.lists(st.builds(HoldWeek, week_start=mondays, taken=st.integers(0, 50)), max_size=2),
)

sites = st.builds(
    Site,
    holds=st.lists(holds, max_size=2),
    id=ids,
    name=texts.filter(lambda s: s.strip() != ""),
    address=texts,
    coordinates=coordinates,
    opening_hours=st.lists(opening_hours(), min_size=1, max_size=3),
    rooms=st.integers(1, 200),
)


@st.composite
def roster_entries(draw: st.DrawFn) -> RosterEntry:
    start, end = draw(ordered_times())
    return RosterEntry(date=draw(days), start=start, end=end, site_id=draw(ids))


@st.composite
def absences(draw: st.DrawFn) -> Absence:
    a, b = draw(days), draw(days)
    return Absence(start=min(a, b), end=max(a, b), reason=draw(texts))


therapists = st.builds(
    Therapist,
    id=ids,
    name=texts,
    discipline=st.sampled_from(Discipline),
    specialties=st.lists(texts, max_size=3),
    roster=st.lists(roster_entries(), max_size=3),
    absences=st.lists(absences(), max_size=2),
    home_visits=st.booleans(),
)


@st.composite
def bookings(draw: st.DrawFn) -> Booking:
    day = draw(days)
    start, end = draw(ordered_times())
    return Booking(
        id=draw(ids),
        therapist_id=draw(ids),
        site_id=draw(st.none() | ids),
        start=datetime.combine(day, start),
        end=datetime.combine(day, end),
        status=draw(st.sampled_from(BookingStatus)),
        referral_id=draw(st.none() | ids),
        at_home=draw(st.booleans()),
    )


@st.composite
def referrals(draw: st.DrawFn) -> Referral:
    discharge = draw(days)
    level = draw(st.sampled_from(Level))
    home = draw(st.booleans())
    plan_kind = draw(st.none() | st.sampled_from(PlanStartKind))
    return Referral(
        id=draw(ids),
        discharge_date=discharge,
        received_date=discharge + timedelta(days=draw(st.integers(0, 5))),
        level=level,
        discipline=draw(st.sampled_from(Discipline)),
        specialty=draw(ids) if level is Level.AVANCERET else draw(st.none() | ids),
        forloebskode=draw(st.none() | texts),
        plan_start_date=None if plan_kind is None else draw(days),
        plan_start_kind=plan_kind,
        postponed_to=draw(
            st.none() | st.just(discharge + timedelta(days=draw(st.integers(10, 20))))
        ),
        unavailable_dates=draw(st.lists(days, max_size=3)),
        home_training=home,
        chosen_site_id=None if home else draw(st.none() | ids),
        location=draw(coordinates) if home else draw(st.none() | coordinates),
        age=draw(st.integers(0, 130)),
        chronic_course=draw(st.booleans()),
        first_session_minutes=draw(st.integers(15, 240)),
        course=draw(st.none() | courses()),
    )


@st.composite
def policies(draw: st.DrawFn) -> Policy:
    start, end = draw(ordered_times())
    return Policy(
        name=draw(texts),
        deadline_anchor=draw(st.sampled_from(Anchor)),
        deadline_days=draw(st.integers(1, 60)),
        deadline_day_kind=draw(st.sampled_from(DayKind)),
        plan_later_keeps_free_choice=draw(st.booleans()),
        contact_days=draw(st.integers(0, 30)),
        contact_anchor=draw(st.sampled_from(Anchor)),
        contact_day_kind=draw(st.sampled_from(DayKind)),
        free_choice_answer_hours=draw(st.none() | st.integers(1, 720)),
        day_start=start,
        day_end=end,
        grundlovsdag_closed=draw(st.booleans()),
        christmas_eve_closed=draw(st.booleans()),
        new_years_eve_closed=draw(st.booleans()),
        closed_days=draw(st.lists(days, max_size=3)),
        horizon_days=draw(st.integers(1, 120)),
        min_notice_days=draw(st.integers(0, 14)),
        minors_to_childrens_team=draw(st.booleans()),
        chronic_courses_municipal_only=draw(st.booleans()),
        citizen_postponement=draw(st.sampled_from(Postponement)),
        course_defaults=draw(
            st.dictionaries(
                st.sampled_from(["basal", "avanceret", "OT/basal"]), courses(), min_size=1
            )
        ),
        course_start_days=draw(st.integers(1, 60)),
    )


_instances = st.builds(
    Instance,
    name=texts,
    planning_date=days,
    policy=policies() | st.sampled_from(list(PRESETS.values())),
    sites=st.lists(sites, max_size=3),
    therapists=st.lists(therapists, max_size=3),
    bookings=st.lists(bookings(), max_size=4),
    referrals=st.lists(referrals(), max_size=4),
)


@st.composite
def instances(draw: st.DrawFn) -> Instance:
    """An instance, with or without a time the offers go out (on or after its planning day)."""
    inst = draw(_instances)
    day = datetime.combine(inst.planning_date, datetime.min.time())
    sent = draw(st.none() | st.datetimes(min_value=day, max_value=day + timedelta(days=3)))
    return inst.model_copy(update={"offers_sent_at": sent})


naive_datetimes = st.datetimes(min_value=datetime(2020, 1, 1), max_value=datetime(2030, 12, 31))


@st.composite
def assignments(draw: st.DrawFn) -> Assignment:
    booked = draw(st.booleans())
    start = draw(naive_datetimes) if booked else None
    return Assignment(
        referral_id=draw(ids),
        outcome=draw(st.sampled_from(Outcome)),
        therapist_id=draw(ids) if booked else None,
        site_id=draw(ids) if booked else None,
        at_home=draw(st.booleans()),
        start=start,
        end=None if start is None else start + timedelta(minutes=draw(st.integers(15, 240))),
        travel_minutes=draw(st.integers(0, 500)),
        earliest_start=draw(days),
        deadline=draw(days),
        free_choice_right=draw(st.booleans()),
        letter_by=draw(days),
        letter_send_by=draw(days),
        answer_by=draw(st.none() | naive_datetimes),
        reason=draw(st.none() | st.sampled_from(Reason)),
        detail=draw(texts),
        fixed=draw(st.booleans()),
        course_status=draw(st.sampled_from(CourseStatus)),
        course_therapist_id=draw(st.none() | ids),
        course_hold_id=draw(st.none() | ids),
        course_start=draw(st.none() | days),
        course_weeks_planned=draw(st.integers(0, 52)),
        course_weeks_beyond=draw(st.integers(0, 52)),
        course_reason=draw(st.none() | st.sampled_from(Reason)),
        tentative_moved=draw(st.booleans()),
        moved_detail=draw(texts),
    )


counts = st.integers(0, 10_000)
kpis = st.builds(
    Kpis,
    referrals=counts,
    booked=counts,
    on_time=counts,
    on_time_share=finite,
    free_choice_flagged=counts,
    late_no_right=counts,
    not_bookable=counts,
    rejected=counts,
    wait_days_mean=st.none() | finite,
    wait_days_median=st.none() | finite,
    wait_days_max=st.none() | counts,
    total_lateness_days=counts,
    home_visits=counts,
    travel_minutes_total=counts,
    utilisation=st.dictionaries(ids, finite, max_size=3),
    courses_started=counts,
    courses_waiting=counts,
    tentative_moved=counts,
)

json_leaf = (
    st.none()
    | st.booleans()
    | st.integers(-(2**53) + 1, 2**53 - 1)
    | finite.filter(lambda f: not f.is_integer())
    | texts
)
json_values = st.recursive(
    json_leaf,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(texts, inner, max_size=3),
    max_leaves=8,
)
stats = st.builds(
    SolverStats,
    method=texts,
    status=texts,
    proven_optimal=st.booleans(),
    on_time_proven=st.booleans(),
    objective=st.none() | finite,
    best_bound=st.none() | finite,
    gap=st.none() | finite,
    on_time_bound=st.none() | counts,
    wall_time_s=finite,
    first_solution_s=st.none() | finite,
    variables=int64,
    constraints=int64,
    workers=st.integers(0, 64),
    seed=int64,
    stages=st.lists(st.dictionaries(texts, json_values, max_size=4), max_size=3),
)
solutions = st.builds(
    Solution,
    instance_name=texts,
    planning_date=days,
    assignments=st.lists(assignments(), max_size=4),
    kpis=kpis,
    stats=stats,
)
options = st.builds(
    SolveOptions,
    time_limit_s=st.floats(min_value=0.001, max_value=3600),
    workers=st.integers(0, 64),
    seed=int64,
    weights=st.builds(
        ObjectiveWeights,
        wait_day=int64,
        travel_minute=int64,
        specialist_on_basal=int64,
        balance_minute=int64,
        moved_tentative=int64,
    ),
    late_days=st.integers(1, 60),
)

_SETTINGS = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])


# --------------------------------------------------------------------------- round trips


def _wire(message: Any) -> Any:
    """Through the wire format, as a real call would carry it."""
    return type(message).FromString(message.SerializeToString())


@_SETTINGS
@given(instances())
def test_instance_round_trip_is_lossless(instance: Instance) -> None:
    back = instance_from_proto(_wire(instance_to_proto(instance)))
    assert back == instance
    assert back.model_dump_json() == instance.model_dump_json()


@_SETTINGS
@given(solutions)
def test_solution_round_trip_is_lossless(solution: Solution) -> None:
    back = solution_from_proto(_wire(solution_to_proto(solution)))
    assert back == solution


@_SETTINGS
@given(options)
def test_solve_options_round_trip_is_lossless(opts: SolveOptions) -> None:
    assert options_from_proto(_wire(options_to_proto(opts))) == opts


def test_every_domain_enum_member_has_a_proto_value_and_back() -> None:
    wrappers = {
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
    assert set(wrappers) == set(ENUM_PREFIXES)
    for cls, wrapper in wrappers.items():
        names = {enum_to_proto(member) for member in cls}
        proto_names = set(wrapper.keys()) - {f"{ENUM_PREFIXES[cls]}_UNSPECIFIED"}
        assert names == proto_names, cls.__name__


# --------------------------------------------------------------------------- defaults


def test_unset_solve_options_take_the_domain_defaults() -> None:
    assert options_from_proto(pb.SolveOptions()) == SolveOptions()
    partial = options_from_proto(
        pb.SolveOptions(workers=1, weights=pb.ObjectiveWeights(wait_day=7))
    )
    assert partial.workers == 1
    assert partial.weights.wait_day == 7
    assert partial.weights.travel_minute == ObjectiveWeights().travel_minute


def test_an_empty_policy_is_the_law_and_a_preset_can_be_overridden() -> None:
    base = pb.Instance(planning_date={"year": 2026, "month": 3, "day": 2})
    base.policy.SetInParent()
    assert instance_from_proto(base).policy == Policy()
    base.policy.preset = "soenderborg"
    base.policy.horizon_days = 14
    policy = instance_from_proto(base).policy
    assert policy == PRESETS["soenderborg"].model_copy(update={"horizon_days": 14})
    assert policy.free_choice_answer_hours == 72


# --------------------------------------------------------------------------- violations


def _violations(exc: pytest.ExceptionInfo[ConversionError]) -> dict[str, str]:
    return {v.field: v.description for v in exc.value.violations}


def test_every_problem_of_an_instance_is_named_by_its_field_path() -> None:
    msg = pb.Instance(
        planning_date={"year": 2026, "month": 13, "day": 1},
        policy=pb.Policy(preset="atlantis"),
        referrals=[
            pb.Referral(
                id="R-1",
                discharge_date={"year": 2026, "month": 3, "day": 2},
                received_date={"year": 2026, "month": 3, "day": 1},
                discipline=pb.DISCIPLINE_PT,
            ),
            pb.Referral(id="0101901234", level=99),
            pb.Referral(
                id="R-3",
                discharge_date={"year": 2026, "month": 3, "day": 2},
                received_date={"year": 2026, "month": 3, "day": 1},
                level=pb.LEVEL_BASAL,
                discipline=pb.DISCIPLINE_OT,
            ),
        ],
        bookings=[
            pb.Booking(
                id="B-1",
                therapist_id="T-1",
                start=datetime_pb2.DateTime(
                    year=2026, month=3, day=2, hours=8, time_zone={"id": "Europe/Copenhagen"}
                ),
                end={"year": 2026, "month": 3, "day": 2, "hours": 9},
            )
        ],
    )
    with pytest.raises(ConversionError) as exc:
        instance_from_proto(msg)
    found = _violations(exc)
    assert "instance.planning_date" in found
    assert "unknown preset 'atlantis'" in found["instance.policy.preset"]
    assert found["instance.referrals[0].level"] == "required"
    assert "before discharge_date" in found["instance.referrals[2]"]
    assert found["instance.referrals[1].level"] == "unknown value 99"
    assert "CPR" in found["instance.referrals[1].id"]
    assert "instance.referrals[1].discharge_date" in found
    assert "local wall-clock" in found["instance.bookings[0].start"]
    assert "instance.sites" not in found


def test_a_missing_policy_is_a_violation() -> None:
    with pytest.raises(ConversionError) as exc:
        instance_from_proto(pb.Instance(planning_date={"year": 2026, "month": 3, "day": 2}))
    assert "instance.policy" in _violations(exc)


def test_bad_solve_options_are_violations() -> None:
    with pytest.raises(ConversionError) as exc:
        options_from_proto(pb.SolveOptions(time_limit_s=0, workers=65))
    assert set(_violations(exc)) == {"options.time_limit_s", "options.workers"}


def test_struct_stages_give_integral_numbers_back_as_int() -> None:
    stats = SolverStats(status="OPTIMAL", stages=[{"stage": "on_time", "objective": 17, "t": 0.5}])
    solution = Solution(
        planning_date=date(2026, 3, 2),
        assignments=[],
        kpis=Kpis(
            referrals=0,
            booked=0,
            on_time=0,
            on_time_share=0.0,
            free_choice_flagged=0,
            late_no_right=0,
            not_bookable=0,
            wait_days_mean=None,
            wait_days_median=None,
            wait_days_max=None,
            total_lateness_days=0,
            home_visits=0,
            travel_minutes_total=0,
        ),
        stats=stats,
    )
    back = solution_from_proto(solution_to_proto(solution)).stats.stages[0]
    assert back == {"stage": "on_time", "objective": 17, "t": 0.5}
    assert isinstance(back["objective"], int)


# --------------------------------------------------------------------------- letters


def test_a_solution_message_carries_its_letters_in_order() -> None:
    from scheduler.outputs.letters import LetterKind, letters

    def booked(rid: str, outcome: Outcome, start: datetime, letter_by: date) -> Assignment:
        return Assignment(
            referral_id=rid,
            outcome=outcome,
            therapist_id="T-1",
            site_id="S-1",
            start=start,
            end=start + timedelta(hours=1),
            earliest_start=date(2026, 3, 9),
            deadline=date(2026, 3, 11),
            free_choice_right=True,
            letter_by=letter_by,
            letter_send_by=letter_by,
            answer_by=datetime(2026, 3, 9, 16) if outcome is Outcome.LATE_FREE_CHOICE else None,
        )

    counts = dict.fromkeys(
        ("referrals", "booked", "on_time", "free_choice_flagged", "late_no_right"), 0
    ) | dict.fromkeys(("not_bookable", "total_lateness_days", "home_visits"), 0)
    base = Solution(
        planning_date=date(2026, 3, 6),
        assignments=[
            booked("R-1", Outcome.ON_TIME, datetime(2026, 3, 10, 9), date(2026, 3, 9)),
            booked("R-2", Outcome.LATE_FREE_CHOICE, datetime(2026, 3, 16, 9), date(2026, 3, 6)),
        ],
        kpis=Kpis(
            **counts,
            on_time_share=0.0,
            wait_days_mean=None,
            wait_days_median=None,
            wait_days_max=None,
            travel_minutes_total=0,
        ),
        stats=SolverStats(status="OPTIMAL"),
    )
    message = _wire(solution_to_proto(base))
    assert [(x.referral_id, x.kind) for x in message.letters] == [
        ("R-2", pb.LETTER_KIND_FRIT_VALG_OFFER),
        ("R-1", pb.LETTER_KIND_START_TIME),
    ]
    assert message.letters[0].answer_by.hours == 16 and not message.letters[1].HasField("answer_by")
    assert message.letters[0].send_by == date_to_proto(date(2026, 3, 6))
    assert {f"LETTER_KIND_{k.name}" for k in LetterKind} == set(pb.LetterKind.keys()) - {
        "LETTER_KIND_UNSPECIFIED"
    }
    # derived, so reading the message back ignores them and the round trip stays lossless
    assert solution_from_proto(message) == base
    assert len(letters(base)) == 2


# --------------------------------------------------------------------------- stopping


class _CountingBudget(Budget):
    """A budget that counts its looks and stops itself at the `stop_at`-th (0: never)."""

    def __init__(self, stop_at: int = 0) -> None:
        super().__init__(None)
        self.looks = 0
        self.stop_at = stop_at

    def check(self) -> None:
        self.looks += 1
        if self.looks == self.stop_at:
            self.stop.set()
        super().check()


@pytest.fixture(scope="module")
def week() -> Instance:
    from scheduler.bench.generator import generate

    return generate("vejen", seed=1)  # 1,477 bookings, 87 referrals


def test_converting_an_instance_stops_within_so_many_records_of_a_stop(
    week: Instance, monkeypatch: pytest.MonkeyPatch
) -> None:
    import scheduler.api.convert as convert

    msg = instance_to_proto(week)
    budget = Budget(None)
    read = [0]
    real = convert._booking_data

    def counting(m: pb.Booking, r: Any, path: str) -> dict[str, Any]:
        read[0] += 1
        if read[0] == 100:
            budget.stop.set()  # a cancel or SIGTERM while the bookings are read
        return real(m, r, path)

    monkeypatch.setattr(convert, "_booking_data", counting)
    with pytest.raises(BudgetExpired):
        instance_from_proto(msg, budget=budget)
    assert 100 <= read[0] <= 100 + CHECK_EVERY
    # Never stopped, the budget changes nothing.
    assert instance_from_proto(msg, budget=_CountingBudget()) == week


def test_validating_an_instance_stops_wherever_the_stop_lands(week: Instance) -> None:
    full = _CountingBudget()
    assert validate_instance(week, full) == validate_instance(week)
    # Each loop over the bookings looks at the budget every CHECK_EVERY records.
    assert full.looks >= 5 * (len(week.bookings) // CHECK_EVERY)
    for stop_at in (1, 2, full.looks // 3, full.looks // 2, full.looks - 1):
        with pytest.raises(BudgetExpired):
            validate_instance(week, _CountingBudget(stop_at))


def test_converting_a_solution_stops_when_the_call_has_ended(week: Instance) -> None:
    from scheduler.planning.solve import solve

    solution = solve(week, SolveOptions(time_limit_s=2, workers=1, seed=1))
    assert solution_to_proto(solution, _CountingBudget()) == solution_to_proto(solution)
    with pytest.raises(BudgetExpired):
        solution_to_proto(solution, _CountingBudget(stop_at=2))
