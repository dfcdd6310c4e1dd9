"""The optimiser on tiny hand-built weeks: each hard rule and the priority order.

Every solution is also re-verified by the independent checker.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

import pytest

from scheduler.domain import (
    Coordinates,
    Outcome,
    Reason,
    SolveOptions,
)
from scheduler.domain.policy import PRESETS
from scheduler.planning.solve import Progress, solve
from scheduler.verify.checker import check_solution
from tests.builders import (
    FRIDAY_BEFORE,
    MONDAY,
    SITE_B,
    WEEKDAYS,
    booking,
    by_id,
    fill_day,
    full_week_but,
    instance,
    referral,
    site,
    solve_checked,
    therapist,
)

run = solve_checked


def test_avanceret_referral_gets_the_only_avanceret_slot() -> None:
    # One neuro-approved therapist with a single free hour on Monday; a basal therapist free
    # all week. Both referrals are due Friday; the basal one must not take the neuro slot.
    neuro = therapist("T-neuro", specialties=("neuro",))
    basal = therapist("T-basal")
    inst = instance(
        [neuro, basal],
        [
            referral("R-basal"),
            referral("R-avanceret", level="avanceret", specialty="neuro"),
        ],
        bookings=full_week_but("T-neuro", {MONDAY: (time(9), time(10))}),
    )
    result = by_id(run(inst))
    assert result["R-avanceret"].therapist_id == "T-neuro"
    assert result["R-avanceret"].outcome is Outcome.ON_TIME
    assert result["R-basal"].therapist_id == "T-basal"


def test_referral_that_cannot_make_its_deadline_gets_earliest_late_slot_and_free_choice() -> None:
    # Discharged Friday 20 Nov: due Friday 27 Nov, but planning happens that Friday and the
    # first bookable day is Monday 30 Nov: late, with frit valg and Sønderborg's 72 hours.
    inst = instance([therapist("T1")], [referral("R1", discharge=date(2026, 11, 20))])
    solution = run(inst)
    a = by_id(solution)["R1"]
    assert a.outcome is Outcome.LATE_FREE_CHOICE
    assert a.start == datetime(2026, 11, 30, 8, 0)
    assert a.deadline == date(2026, 11, 27)
    assert a.answer_by == datetime(2026, 11, 27, 16, 0) + timedelta(hours=72)
    assert solution.kpis.free_choice_flagged == 1


def test_rebild_plan_later_referral_booked_late_is_not_flagged() -> None:
    # The plan says start no earlier than Monday 30 Nov (received 12 Nov); Rebild's 7 days then
    # run to Monday 7 Dec, but the therapist only works from Tuesday 8 Dec: late without right.
    later_days = [date(2026, 12, 8), date(2026, 12, 9)]
    inst = instance(
        [therapist("T1", days=later_days)],
        [
            referral(
                "R1",
                discharge=date(2026, 11, 12),
                plan_start_date=MONDAY,
                plan_start_kind="later",
            )
        ],
        policy=PRESETS["rebild"],
    )
    a = by_id(run(inst))["R1"]
    assert a.outcome is Outcome.LATE_NO_RIGHT
    assert a.reason is Reason.PLAN_LATER_START
    assert not a.free_choice_right
    assert a.answer_by is None


def test_home_visit_travel_keeps_the_therapist_from_an_adjacent_booking() -> None:
    # Free 09:00-11:00 on Monday only. The citizen lives ~17 km away (≈35 min each way): a
    # 60-minute home visit needs 130 minutes and does not fit; a 45-minute one would not either.
    citizen = Coordinates(lat=55.05, lon=9.79)
    free = {MONDAY: (time(9), time(11))}
    t = therapist("T1", home_visits=True)
    inst = instance(
        [t],
        [referral("R1", home_training=True, location=citizen)],
        bookings=full_week_but("T1", free),
    )
    a = by_id(run(inst))["R1"]
    assert a.outcome is Outcome.NOT_BOOKABLE
    assert a.reason is Reason.NO_CAPACITY_IN_HORIZON
    # With the whole Monday morning free the visit fits, travel included, inside it.
    inst = instance(
        [t],
        [referral("R1", home_training=True, location=citizen)],
        bookings=full_week_but("T1", {MONDAY: (time(8), time(12))}),
    )
    a = by_id(run(inst))["R1"]
    assert a.at_home and a.travel_minutes >= 30
    assert a.start is not None and a.end is not None
    assert a.start - timedelta(minutes=a.travel_minutes) >= datetime.combine(MONDAY, time(8))
    assert a.end + timedelta(minutes=a.travel_minutes) <= datetime.combine(MONDAY, time(12))


def test_rooms_are_never_over_used() -> None:
    # One room; two therapists both free only 09-10 on Monday, the only day they work (T2's
    # other work is off-site). Two referrals: only one can have the room at 09.
    days = [MONDAY]
    off_site = [
        b.model_copy(update={"site_id": None}) for b in fill_day("T2", MONDAY, (time(9), time(10)))
    ]
    inst = instance(
        [therapist("T1", days=days), therapist("T2", days=days)],
        [
            referral("R1", discharge=date(2026, 11, 23)),
            referral("R2", discharge=date(2026, 11, 23)),
        ],
        bookings=fill_day("T1", MONDAY, (time(9), time(10))) + off_site,
        sites=[site(rooms=1)],
    )
    solution = run(inst)
    outcomes = sorted(a.outcome.value for a in solution.assignments)
    assert outcomes.count("not_bookable") == 1


def test_priority_on_time_count_before_waits() -> None:
    # R-early is due Monday 30 Nov (discharged 23 Nov); R-late is due Friday 4 Dec. The only
    # free hours are Monday 9-10 and Thursday 9-10. Taking Monday for R-late would shorten
    # total waiting (both wait less?) but lose R-early's deadline: on time first.
    free = {MONDAY: (time(9), time(10)), WEEKDAYS[3]: (time(9), time(10))}
    inst = instance(
        [therapist("T1")],
        [
            referral("R-late", discharge=date(2026, 11, 27)),
            referral("R-early", discharge=date(2026, 11, 23)),
        ],
        bookings=full_week_but("T1", free),
    )
    result = by_id(run(inst))
    assert result["R-early"].start.date() == MONDAY
    assert result["R-late"].start.date() == WEEKDAYS[3]
    assert all(a.outcome is Outcome.ON_TIME for a in result.values())


def test_specialist_kept_free_for_avanceret_work() -> None:
    # A basal referral with both a specialist and a generalist free at the same time: the
    # generalist takes it.
    inst = instance(
        [therapist("T-spec", specialties=("neuro",)), therapist("T-gen")],
        [referral("R1")],
    )
    assert by_id(run(inst))["R1"].therapist_id == "T-gen"


def test_discipline_chosen_site_and_unavailable_dates_are_respected() -> None:
    inst = instance(
        [
            therapist("T-ot", discipline="OT"),
            therapist("T-pt-a"),
            therapist("T-pt-b", site_id="B"),
        ],
        [
            referral("R-ot", discipline="OT", unavailable_dates=[MONDAY]),
            referral("R-b", chosen_site_id="B"),
        ],
        sites=[site("A"), site("B", where=SITE_B)],
    )
    result = by_id(run(inst))
    assert result["R-ot"].therapist_id == "T-ot"
    assert result["R-ot"].start.date() == WEEKDAYS[1]
    assert result["R-b"].site_id == "B" and result["R-b"].therapist_id == "T-pt-b"


def test_rebild_minor_is_not_planned_but_sent_to_the_childrens_team() -> None:
    inst = instance([therapist("T1")], [referral("R-minor", age=16)], policy=PRESETS["rebild"])
    a = by_id(run(inst))["R-minor"]
    assert a.outcome is Outcome.REJECTED and a.reason is Reason.CHILDRENS_TEAM
    assert "children's team" in a.detail
    assert a.start is None and a.therapist_id is None


def test_one_specialised_referral_never_blocks_the_batch() -> None:
    inst = instance(
        [therapist("T1")],
        [
            referral("R-1"),
            referral("R-hosp", level="genoptræning på specialiseret niveau"),
            referral("R-ext", level="rehabilitering på specialiseret niveau"),
            referral("R-2"),
        ],
    )
    solution = run(inst)
    result = by_id(solution)
    assert result["R-1"].start is not None and result["R-2"].start is not None
    assert result["R-hosp"].outcome is Outcome.REJECTED
    assert result["R-hosp"].reason is Reason.SPECIALISED_AT_HOSPITAL
    assert "hospital" in result["R-hosp"].detail
    assert result["R-ext"].reason is Reason.SPECIALISED_REHAB_EXTERNAL
    assert "external providers" in result["R-ext"].detail
    assert (solution.kpis.rejected, solution.kpis.not_bookable) == (2, 0)


# --------------------------------------------------------------------------- late reasons
# Discharged Friday 27 November: the deadline is Friday 4 December (Sønderborg).

NEXT_MONDAY = MONDAY + timedelta(days=7)


def test_free_slots_given_to_another_referral_are_named_as_such() -> None:
    t1 = therapist("T1", days=[*WEEKDAYS, NEXT_MONDAY])
    busy = full_week_but("T1", {MONDAY: (time(8), time(9))})
    inst = instance([t1], [referral("R-1"), referral("R-2")], bookings=busy)
    result = by_id(run(inst))
    late = [a for a in result.values() if a.outcome is not Outcome.ON_TIME]
    on_time = [a for a in result.values() if a.outcome is Outcome.ON_TIME]
    assert len(late) == len(on_time) == 1
    assert late[0].outcome is Outcome.LATE_FREE_CHOICE
    assert late[0].reason is Reason.DEADLINE_SLOTS_TAKEN
    # Letter by Tue 1 December; the session is Monday 30 November: out by Friday 27th.
    assert on_time[0].letter_by == date(2026, 12, 1)
    assert on_time[0].letter_send_by == FRIDAY_BEFORE


def test_no_free_slot_up_to_the_deadline_is_no_capacity() -> None:
    inst = instance([therapist("T1", days=[NEXT_MONDAY])], [referral("R-1")])
    a = by_id(run(inst))["R-1"]
    assert (a.outcome, a.reason) == (Outcome.LATE_FREE_CHOICE, Reason.NO_CAPACITY_BY_DEADLINE)


def test_free_time_only_on_the_citizens_unavailable_days_is_named() -> None:
    # Free Monday and Tuesday, when the citizen cannot come; the citizen could come Wednesday to
    # Friday, when nobody is rostered: late, frit valg stays, and the reason says why.
    t1 = therapist("T1", days=[MONDAY, MONDAY + timedelta(days=1), NEXT_MONDAY])
    ref = referral("R-1", unavailable_dates=[MONDAY, MONDAY + timedelta(days=1)])
    a = by_id(run(instance([t1], [ref])))["R-1"]
    assert a.outcome is Outcome.LATE_FREE_CHOICE and a.free_choice_right
    assert a.reason is Reason.CITIZEN_UNAVAILABLE_ON_FREE_DAYS


def test_unavailable_every_working_day_to_the_deadline_is_the_citizens_postponement() -> None:
    t1 = therapist("T1", days=[*WEEKDAYS, NEXT_MONDAY])
    a = by_id(run(instance([t1], [referral("R-1", unavailable_dates=WEEKDAYS)])))["R-1"]
    assert not a.free_choice_right
    assert a.deadline == date(2026, 12, 14)  # 7 days from Monday 7 December
    assert a.start is not None and a.start.date() == NEXT_MONDAY
    assert a.outcome is Outcome.ON_TIME


def test_a_postponement_inside_the_guarantee_keeps_frit_valg_and_the_offer_time() -> None:
    # The citizen asks for Thursday 3 December, before the deadline; the unit can only start the
    # Monday after: late by the municipality, frit valg, 72 hours from when offers go out.
    sent = datetime(2026, 11, 30, 9, 0)
    inst = instance(
        [therapist("T1", days=[NEXT_MONDAY])],
        [referral("R-1", postponed_to=date(2026, 12, 3))],
    ).model_copy(update={"offers_sent_at": sent})
    a = by_id(run(inst))["R-1"]
    assert a.deadline == date(2026, 12, 4)
    assert (a.outcome, a.reason) == (Outcome.LATE_FREE_CHOICE, Reason.NO_CAPACITY_BY_DEADLINE)
    assert a.answer_by == sent + timedelta(hours=72)


def test_not_bookable_reasons() -> None:
    inst = instance(
        [therapist("T1")],
        [
            referral("R-ot", discipline="OT"),
            referral("R-home", home_training=True, location=SITE_B),
            referral("R-spec", level="avanceret", specialty="kræft"),
        ],
    )
    result = by_id(run(inst))
    assert result["R-ot"].reason is Reason.NO_QUALIFIED_THERAPIST
    assert result["R-home"].reason is Reason.NO_HOME_VISIT_THERAPIST
    assert result["R-spec"].reason is Reason.NO_QUALIFIED_THERAPIST


def test_existing_bookings_stay_and_communicated_first_sessions_are_fixed() -> None:
    fixed = booking(
        "B-first", "T1", MONDAY, time(8), time(9), referral_id="R-done", status="communicated"
    )
    inst = instance(
        [therapist("T1")],
        [referral("R-done"), referral("R-new")],
        bookings=[fixed, *fill_day("T1", MONDAY, (time(8), time(10)))],
    )
    result = by_id(run(inst))
    assert result["R-done"].fixed and result["R-done"].start == fixed.start
    assert result["R-new"].start == datetime.combine(MONDAY, time(9))


@pytest.mark.parametrize("seed", [1, 2])
def test_deterministic_with_one_worker_and_a_seed(seed: int) -> None:
    inst = instance(
        [therapist("T1"), therapist("T2", specialties=("neuro",))],
        [referral(f"R{i}", discharge=FRIDAY_BEFORE - timedelta(days=i % 4)) for i in range(6)],
    )
    options = SolveOptions(time_limit_s=5, workers=1, seed=seed)
    first = solve(inst, options)
    second = solve(inst, options)
    assert first.assignments == second.assignments


def test_a_stop_before_solving_ends_at_once_with_nothing_planned_marked_stopped() -> None:
    import threading

    inst = instance(
        [therapist("T1")], [referral(f"R{i}", discharge=FRIDAY_BEFORE) for i in range(3)]
    )
    stop = threading.Event()
    stop.set()
    solution = solve(inst, SolveOptions(time_limit_s=30, workers=1), stop=stop)
    assert solution.stats.status == "STOPPED" and not solution.stats.proven_optimal
    assert solution.stats.wall_time_s < 5
    # Nothing was prepared, so nothing is booked; each referral says why, and the plan is valid.
    assert solution.kpis.booked == 0
    assert all("stopped" in (a.detail or "") for a in solution.assignments)
    assert check_solution(inst, solution).ok


def test_a_stop_during_solving_returns_the_greedy_plan_marked_not_proven() -> None:
    import threading

    inst = instance(
        [therapist("T1")], [referral(f"R{i}", discharge=FRIDAY_BEFORE) for i in range(3)]
    )
    stop = threading.Event()

    def on_progress(p: Progress) -> None:
        if p.stage == "greedy":
            stop.set()

    solution = solve(inst, SolveOptions(time_limit_s=30, workers=1), on_progress, stop=stop)
    assert solution.stats.status == "STOPPED" and not solution.stats.proven_optimal
    assert solution.stats.wall_time_s < 5
    # The greedy plan stands: every referral booked, and the plan passes the checker.
    assert solution.kpis.booked == 3
    assert check_solution(inst, solution).ok


def test_an_expired_budget_ends_each_phase_by_the_injected_clock() -> None:
    """A budget whose (injected) clock runs out after N readings ends the solve wherever it
    is: no dependence on the machine's speed."""
    from scheduler.planning.budget import Budget

    inst = instance(
        [therapist("T1"), therapist("T2")],
        [referral(f"R{i}", discharge=FRIDAY_BEFORE) for i in range(8)],
    )
    booked: list[int] = []
    for ticks in (1, 3, 6, 10, 20, 60, 10**6):
        count = [0]

        def clock(count: list[int] = count, ticks: int = ticks) -> float:
            count[0] += 1
            return 0.0 if count[0] <= ticks else 1e6

        budget = Budget(None, clock=clock)
        solution = solve(inst, SolveOptions(time_limit_s=30, workers=1), budget=budget)
        assert not solution.stats.proven_optimal or solution.stats.status == "OPTIMAL"
        assert check_solution(inst, solution).ok
        booked.append(solution.kpis.booked)
    # The earliest expiry books nothing, a budget never spent books everyone, and every plan
    # between is a valid one.
    assert booked[0] == 0 and booked[-1] == 8


def test_flow_bound_never_below_the_optimum_and_counts_one_per_gap_hour() -> None:
    from scheduler.planning.bounds import on_time_flow_bound
    from scheduler.planning.problem import prepare

    # One therapist free only 09-10 on Monday: three referrals due Monday compete for it.
    inst = instance(
        [therapist("T1", days=[MONDAY])],
        [referral(f"R{i}", discharge=date(2026, 11, 23)) for i in range(3)],
        bookings=fill_day("T1", MONDAY, (time(9), time(10))),
    )
    assert on_time_flow_bound(prepare(inst)) == 1
    assert run(inst).kpis.on_time == 1


def test_a_restricted_first_stage_reports_only_a_valid_bound(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import scheduler.planning.solve as solve_module

    # Force the large-instance path: stage 1 searches each referral's earliest candidates only.
    monkeypatch.setattr(solve_module, "_STAGE1_LIMIT", 1)
    # Five referrals due Tuesday compete for 09-12 on Monday and 09-10 on Tuesday.
    free = {MONDAY: (time(9), time(12)), WEEKDAYS[1]: (time(9), time(10))}
    inst = instance(
        [therapist("T1")],
        [referral(f"R{i}", discharge=date(2026, 11, 24)) for i in range(5)],
        bookings=full_week_but("T1", free),
    )
    solution = run(inst)
    assert solution.kpis.on_time == 4
    first = solution.stats.stages[0]
    assert first["stage"] == "on_time" and first["restricted"]
    bound = solution.stats.on_time_bound
    assert bound is not None and bound >= solution.kpis.on_time
    assert solution.stats.on_time_proven == (bound == solution.kpis.on_time)
    # Stage 1 searched a restricted candidate set: the plan as a whole is not proven.
    assert not solution.stats.proven_optimal
