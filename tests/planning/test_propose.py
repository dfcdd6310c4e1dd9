"""Real-time slot proposals on tiny hand-built calendars: ranking, rooms, home travel, errors.

The week: planning on Friday 6 March 2026; the referral was discharged and received on Thursday
5 March, so its earliest start is Friday 6 March (one working day's notice), the first bookable
day Monday 9 March, and its deadline Thursday 12 March (law: 7 calendar days from discharge).
Friday 13 March is one day late.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import date, datetime, time, timedelta
from typing import Any

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from scheduler.api.calendars import calendars_from_proto
from scheduler.api.convert import instance_to_proto
from scheduler.bench.generator import generate
from scheduler.domain import (
    Absence,
    Booking,
    BookingStatus,
    Coordinates,
    Discipline,
    Instance,
    Level,
    Outcome,
    PlanStartKind,
    Referral,
    RosterEntry,
    Site,
    Therapist,
)
from scheduler.domain.policy import Policy
from scheduler.planning.candidates import candidates_for
from scheduler.planning.free_time import free_gaps
from scheduler.planning.propose import (
    ExcludedReferralError,
    SlotProposal,
    UnknownReferralError,
    index_calendars,
    proposal_dates,
    propose_slots,
    rank_slots,
)
from scheduler.rules.calendar import WorkingCalendar, as_minutes, at_minutes
from scheduler.rules.commitments import horizon_days, staying_bookings
from scheduler.rules.courses import (
    course_for,
    course_weeks,
    full_weeks,
    hold_fits,
    start_weeks,
    weekly_free_minutes,
)
from scheduler.rules.legal import legal_dates
from scheduler.rules.travel import travel_minutes
from scheduler.verify.validation import has_errors, validate_instance
from tests import builders

TUE, WED, FRI = date(2026, 3, 10), date(2026, 3, 11), date(2026, 3, 13)
DEADLINE = date(2026, 3, 12)
PLANNING = date(2026, 3, 6)  # a Friday
CITY = Coordinates(lat=55.68, lon=12.57)
FAR = Coordinates(lat=55.45, lon=12.18)


def _site(site_id: str, where: Coordinates, rooms: int = 1) -> Site:
    return builders.site(site_id, rooms, where, (time(8), time(16)), name=site_id)


def _shift(day: date, start: str, end: str, site: str = "S1") -> RosterEntry:
    return builders.shift(day, time.fromisoformat(start), time.fromisoformat(end), site)


def _therapist(tid: str, *roster: RosterEntry, **kw: Any) -> Therapist:
    return builders.therapist(tid, roster=roster, **kw)


def _referral(rid: str = "R-1", **kw: Any) -> Referral:
    return builders.referral(rid, date(2026, 3, 5), **kw)


def _booking(bid: str, therapist: str, day: date, start: str, end: str, **kw: Any) -> Booking:
    """A booking outside every site unless ``site_id=...`` says where; times as "HH:MM[:SS]"."""
    start_, end_ = time.fromisoformat(start), time.fromisoformat(end)
    return builders.booking(bid, therapist, day, start_, end_, **{"site_id": None, **kw})


def _instance(
    therapists: list[Therapist],
    referrals: list[Referral] | None = None,
    bookings: list[Booking] | None = None,
    rooms: int = 1,
) -> Instance:
    sites = [_site("S1", CITY, rooms), _site("S2", FAR, 2)]
    referrals = referrals or [_referral()]
    return builders.instance(therapists, referrals, bookings, sites, Policy(), PLANNING, name="")


def _proposals(instance: Instance, rid: str = "R-1", k: int = 5) -> list[SlotProposal]:
    """propose_slots, checked to agree with the gRPC edge's way in (the request message)."""
    proposals = propose_slots(instance, rid, k)
    referral = next(r for r in instance.referrals if r.id == rid)
    assert rank_slots(calendars_from_proto(instance_to_proto(instance)), referral, k) == proposals
    return proposals


def _slots(instance: Instance, rid: str = "R-1", k: int = 5) -> list[tuple[str, datetime]]:
    return [(p.therapist_id, p.start) for p in _proposals(instance, rid, k)]


def test_legal_dates_of_the_week_are_as_the_module_says() -> None:
    ld = proposal_dates(_instance([]), "R-1")
    assert (ld.earliest_start, ld.deadline) == (date(2026, 3, 6), DEADLINE)


def test_ranking_on_time_then_basal_therapist_then_time_then_late_days() -> None:
    instance = _instance(
        [
            _therapist("T-spec", _shift(WED, "08:00", "10:00"), specialties=["neuro"]),
            _therapist("T-basal", _shift(WED, "10:00", "12:00"), _shift(FRI, "08:00", "16:00")),
        ]
    )
    proposals = _proposals(instance, k=12)
    got = [(p.therapist_id, p.start.date(), p.start.strftime("%H:%M")) for p in proposals]
    basal_wed = [("T-basal", WED, f"{h}") for h in ("10:00", "10:15", "10:30", "10:45", "11:00")]
    spec_wed = [("T-spec", WED, f"{h}") for h in ("08:00", "08:15", "08:30", "08:45", "09:00")]
    assert got == [*basal_wed, *spec_wed, ("T-basal", FRI, "08:00"), ("T-basal", FRI, "08:15")]
    assert [p.rank for p in proposals] == list(range(1, 13))
    assert all(p.on_time and p.outcome is Outcome.ON_TIME for p in proposals[:10])
    late = proposals[10]
    assert not late.on_time and late.outcome is Outcome.LATE_FREE_CHOICE
    assert late.deadline == DEADLINE
    assert "1 day late" in late.why and "frit valg" in late.why
    assert "basal therapist" in proposals[0].why
    assert "avanceret-approved" in proposals[5].why


def test_avanceret_referral_only_gets_an_approved_therapist() -> None:
    instance = _instance(
        [
            _therapist("T-spec", _shift(WED, "08:00", "10:00"), specialties=["neuro"]),
            _therapist("T-basal", _shift(TUE, "08:00", "12:00")),
        ],
        referrals=[_referral(level=Level.AVANCERET, specialty="neuro")],
    )
    assert {t for t, _ in _slots(instance)} == {"T-spec"}


def test_a_start_where_the_sites_rooms_are_full_is_skipped() -> None:
    therapists = [
        _therapist("T-basal", _shift(TUE, "08:00", "12:00")),
        _therapist("T-ot", _shift(TUE, "08:00", "12:00"), discipline=Discipline.OT),
    ]
    # The OT's ongoing course fills the only room 08:00-09:00.
    course = _booking("B-course", "T-ot", TUE, "08:00", "09:00", site_id="S1")
    one_room = _slots(_instance(therapists, bookings=[course], rooms=1), k=1)
    assert one_room == [("T-basal", datetime(2026, 3, 10, 9, 0))]
    two_rooms = _slots(_instance(therapists, bookings=[course], rooms=2), k=1)
    assert two_rooms == [("T-basal", datetime(2026, 3, 10, 8, 0))]


def test_a_home_visit_fits_when_travel_both_ways_fits_the_gap_and_needs_no_room() -> None:
    home = Coordinates(lat=55.70, lon=12.60)
    travel = travel_minutes(CITY, home)
    fits = 60 + 2 * travel
    end_fit = f"{8 + fits // 60:02d}:{fits % 60:02d}"
    end_short = f"{8 + (fits - 5) // 60:02d}:{(fits - 5) % 60:02d}"
    instance = _instance(
        [
            _therapist("T-fits", _shift(TUE, "08:00", end_fit), home_visits=True),
            _therapist("T-short", _shift(TUE, "08:00", end_short), home_visits=True),
            _therapist("T-nocar", _shift(TUE, "08:00", "16:00")),
        ],
        referrals=[_referral(home_training=True, location=home)],
        # The room is full, but a home visit uses none.
        bookings=[_booking("B-course", "T-other", TUE, "08:00", "16:00", site_id="S1")],
    )
    proposals = _proposals(instance, k=5)
    assert len(proposals) == 1
    p = proposals[0]
    assert (p.therapist_id, p.at_home, p.travel_minutes) == ("T-fits", True, travel)
    assert p.start == datetime(2026, 3, 10, 8, travel)
    assert p.end == datetime(2026, 3, 10, 9, travel)
    assert f"{travel} min travel each way" in p.why


def test_less_travel_ranks_before_an_earlier_start() -> None:
    home = Coordinates(lat=55.69, lon=12.58)
    instance = _instance(
        [
            _therapist("T-far", _shift(TUE, "08:00", "16:00", site="S2"), home_visits=True),
            _therapist("T-near", _shift(TUE, "12:00", "16:00"), home_visits=True),
        ],
        referrals=[_referral(home_training=True, location=home)],
    )
    proposals = _proposals(instance, k=3)
    assert [p.therapist_id for p in proposals][:1] == ["T-near"]
    assert proposals[0].travel_minutes < travel_minutes(FAR, home)
    assert proposals[0].start.hour >= 12


def test_a_basal_therapist_far_away_ranks_before_a_specialist_nearby() -> None:
    home = Coordinates(lat=55.69, lon=12.58)
    instance = _instance(
        [
            _therapist("T-far", _shift(TUE, "08:00", "16:00", site="S2"), home_visits=True),
            _therapist(
                "T-spec", _shift(TUE, "08:00", "16:00"), home_visits=True, specialties=["neuro"]
            ),
        ],
        referrals=[_referral(home_training=True, location=home)],
    )
    proposals = _proposals(instance, k=30)
    far = [p for p in proposals if p.therapist_id == "T-far"]
    assert far and proposals[: len(far)] == far
    nearby = proposals[len(far)]
    assert nearby.therapist_id == "T-spec"
    assert nearby.travel_minutes < far[0].travel_minutes
    assert "avanceret-approved" in nearby.why


def test_other_referrals_tentative_bookings_stay_and_the_own_one_is_released() -> None:
    instance = _instance(
        [_therapist("T-basal", _shift(WED, "10:00", "12:00"))],
        referrals=[_referral("R-1"), _referral("R-2")],
        bookings=[
            _booking(
                "B-r2",
                "T-basal",
                WED,
                "10:00",
                "11:00",
                site_id="S1",
                status=BookingStatus.TENTATIVE,
                referral_id="R-2",
            )
        ],
    )
    assert _slots(instance, "R-1") == [("T-basal", datetime(2026, 3, 11, 11, 0))]
    assert _slots(instance, "R-2", k=1) == [("T-basal", datetime(2026, 3, 11, 10, 0))]


def test_options_are_distinct_and_k_is_honoured_with_or_without_an_index() -> None:
    instance = _instance([_therapist("T-basal", _shift(WED, "08:00", "16:00"))])
    proposals = _proposals(instance, k=7)
    assert len(proposals) == 7
    assert len({(p.therapist_id, p.start) for p in proposals}) == 7
    assert propose_slots(instance, "R-1", 7, index_calendars(instance)) == proposals


def test_no_free_slot_gives_no_proposal() -> None:
    assert propose_slots(_instance([]), "R-1") == []


def test_an_unknown_referral_id_is_a_clear_value_error() -> None:
    with pytest.raises(UnknownReferralError, match="unknown referral id 'R-404'") as exc:
        propose_slots(_instance([]), "R-404")
    assert isinstance(exc.value, ValueError)


def test_a_referral_the_policy_sends_to_the_childrens_team_is_refused() -> None:
    instance = _instance([], referrals=[_referral(age=12)]).model_copy(
        update={"policy": Policy(minors_to_childrens_team=True)}
    )
    with pytest.raises(ExcludedReferralError, match="children's team"):
        propose_slots(instance, "R-1")


def test_seconds_are_dropped_as_the_optimiser_drops_them() -> None:
    # 09:00:30-09:59:30 blocks 09:00-09:59 (rules.calendar.as_minutes): the next option starts
    # at 09:59.
    instance = _instance(
        [_therapist("T-basal", _shift(TUE, "08:00", "12:00"))],
        bookings=[_booking("B-1", "T-basal", TUE, "09:00:30", "09:59:30")],
    )
    assert _slots(instance, k=3) == [
        ("T-basal", datetime(2026, 3, 10, 8, 0)),
        ("T-basal", datetime(2026, 3, 10, 9, 59)),
        ("T-basal", datetime(2026, 3, 10, 10, 14)),
    ]


# --------------------------------------------------------------------------- against brute force
#
# The ranking walks the days in order and reads only as far as it needs; the reference below
# builds every option of the whole horizon with the planner's free_time and candidates (free_gaps,
# candidates_for),
# checks rooms minute by minute, ranks them all by the full key and takes the first k. Both
# ways in (a domain instance, and the request message read by scheduler.api.calendars) must give
# the reference's answer.

_MOSTLY_PT = [Discipline.PT, Discipline.PT, Discipline.OT]


def _reference(instance: Instance, referral_id: str, k: int) -> list[tuple[Any, ...]]:
    ref = next(r for r in instance.referrals if r.id == referral_id)
    cal = WorkingCalendar(instance.policy)
    ld = legal_dates(ref, instance.policy, cal)
    site_index = {s.id: i for i, s in enumerate(instance.sites)}
    # With only this referral in the instance, its own tentative booking is released.
    alone = instance.model_copy(update={"referrals": [ref]})
    gaps, _ = free_gaps(alone, horizon_days(alone, cal), site_index)
    in_use: dict[tuple[str, date], list[int]] = defaultdict(lambda: [0] * 1440)
    for b in staying_bookings(alone):
        if b.site_id is not None and not b.at_home:
            minutes = in_use[(b.site_id, b.start.date())]
            for m in range(as_minutes(b.start.time()), as_minutes(b.end.time())):
                minutes[m] += 1
    by_index = {g.index: g for g in gaps}
    # Whether the therapist (or a hold) can carry the course: the rules' facts, brute force.
    course = course_for(ref, instance.policy)
    weeks = set(full_weeks(alone))
    free = weekly_free_minutes(alone)

    def course_waits(day: date, therapist_id: str) -> bool:
        if course is None:
            return False
        starts = start_weeks(day, instance.policy)
        if not any(s in weeks for s in starts):
            return False
        for s in starts:
            planned = [w for w in course_weeks(s, course) if w in weeks]
            if not planned:
                continue
            for site in instance.sites:
                for h in site.holds:
                    fits = hold_fits(h, ref, course) and h.admits(s)
                    if fits and all(h.taken_in(w) < h.seats for w in planned):
                        return False
            if course.by_therapist and all(
                free.get((therapist_id, w), 0) >= course.weekly_minutes for w in planned
            ):
                return False
        return True

    ranked: dict[tuple[Any, ...], tuple[Any, ...]] = {}
    for c in candidates_for(alone, 0, ld, gaps, late_days=None):
        gap = by_index[c.gap]
        site = instance.sites[gap.site]
        therapist_id = instance.therapists[gap.therapist].id
        for start in range(gap.start, gap.end - c.length + 1, 15):
            session = start + c.travel
            end = session + ref.first_session_minutes
            if not c.at_home and max(in_use[(site.id, c.day)][session:end]) >= site.rooms:
                continue
            key = (
                not c.on_time,
                c.day,
                course_waits(c.day, therapist_id),
                c.specialist_on_basal,
                c.travel,
                start,
                therapist_id,
            )
            ranked[key] = (
                therapist_id,
                site.id,
                c.at_home,
                at_minutes(c.day, session),
                at_minutes(c.day, end),
                c.travel,
                c.on_time,
            )
    return [ranked[key] for key in sorted(ranked)[:k]]


def _seen(proposals: list[SlotProposal]) -> list[tuple[Any, ...]]:
    return [
        (p.therapist_id, p.site_id, p.at_home, p.start, p.end, p.travel_minutes, p.on_time)
        for p in proposals
    ]


def _minutes(draw: st.DrawFn, lo: int, hi: int, step: int = 5) -> int:
    return draw(st.integers(lo // step, hi // step)) * step


def _clock(minutes: int, seconds: int = 0) -> time:
    return time(minutes // 60, minutes % 60, seconds)


@st.composite
def small_instances(draw: st.DrawFn) -> tuple[Instance, str, int]:
    """A valid small week: 1-3 sites, 2-5 therapists with rosters, bookings (some at odd
    minutes, with seconds, tentative for a referral, at home), and the referral to propose for."""
    policy = Policy(
        horizon_days=draw(st.integers(2, 14)),
        day_start=_clock(draw(st.sampled_from([7 * 60, 8 * 60, 8 * 60 + 30]))),
        day_end=_clock(draw(st.sampled_from([15 * 60, 16 * 60, 17 * 60 + 45]))),
    )
    cal = WorkingCalendar(policy)
    days = cal.working_days(PLANNING + timedelta(days=1), PLANNING + timedelta(days=14))
    sites = []
    for i in range(draw(st.integers(1, 3))):
        where = Coordinates(
            lat=55.60 + draw(st.integers(0, 20)) / 100,
            lon=12.40 + draw(st.integers(0, 30)) / 100,
        )
        hours = {
            w: (
                _clock(_minutes(draw, 6 * 60, 10 * 60, 30)),
                _clock(_minutes(draw, 13 * 60, 18 * 60, 30)),
            )
            for w in sorted(draw(st.sets(st.integers(0, 4), min_size=3)))
        }
        sites.append(builders.site(f"S{i}", draw(st.integers(1, 2)), where, hours, name=f"S{i}"))
    site_ids = [s.id for s in sites]
    therapists: list[Therapist] = []
    bookings: list[Booking] = []
    for t in range(draw(st.integers(2, 5))):
        tid = f"T{t}"
        roster: list[RosterEntry] = []
        for day in days:
            cursor = _minutes(draw, 6 * 60, 12 * 60)
            for _ in range(draw(st.integers(0, 2))):
                start, end = cursor, min(cursor + _minutes(draw, 30, 8 * 60, 15), 20 * 60)
                site = draw(st.sampled_from(site_ids))
                roster.append(builders.shift(day, _clock(start), _clock(end), site))
                for _ in range(draw(st.integers(0, 3))):
                    b_start = draw(st.integers(start - 30, end))
                    b_end = min(b_start + draw(st.integers(1, 120)), 23 * 60 + 59)
                    at_home = draw(st.booleans()) and draw(st.booleans())
                    b_site = None if at_home else draw(st.sampled_from([None, site, *site_ids]))
                    bookings.append(
                        builders.booking(
                            f"B{len(bookings)}",
                            tid,
                            day,
                            _clock(b_start, draw(st.sampled_from([0, 30]))),
                            _clock(b_end, draw(st.sampled_from([0, 45]))),
                            site_id=b_site,
                            at_home=at_home,
                        )
                    )
                cursor = end + _minutes(draw, 0, 120)
                if cursor >= 20 * 60:
                    break
        absences = []
        if days and draw(st.booleans()):
            first = draw(st.sampled_from(days))
            absences.append(
                Absence(start=first, end=first + timedelta(days=draw(st.integers(0, 3))))
            )
        therapists.append(
            builders.therapist(
                tid,
                discipline=draw(st.sampled_from(_MOSTLY_PT)),
                specialties=draw(
                    st.sampled_from([[], [], ["neuro"], ["ortho"], ["neuro", "ortho"]])
                ),
                home_visits=draw(st.sampled_from([True, True, False])),
                roster=roster,
                absences=absences,
            )
        )
    referrals: list[Referral] = []
    for rid in ("R-1", "R-2"):
        discharge = PLANNING - timedelta(days=draw(st.integers(0, 10)))
        received = min(PLANNING, discharge + timedelta(days=draw(st.integers(0, 2))))
        level = draw(st.sampled_from([Level.BASAL, Level.BASAL, Level.AVANCERET]))
        home = draw(st.booleans()) and draw(st.booleans())
        data: dict[str, Any] = {
            "level": level,
            "discipline": draw(st.sampled_from(_MOSTLY_PT)),
            "specialty": draw(st.sampled_from(["neuro", "ortho"]))
            if level is Level.AVANCERET
            else None,
            "age": 70,
            "home_training": home,
            "location": Coordinates(lat=55.65, lon=12.55) if home else None,
            "chosen_site_id": None if home else draw(st.sampled_from([None, None, *site_ids])),
            "first_session_minutes": draw(st.sampled_from([15, 30, 45, 60, 60, 90, 17, 100])),
            "unavailable_dates": sorted(draw(st.sets(st.sampled_from(days), max_size=2)))
            if days
            else [],
        }
        if draw(st.booleans()) and draw(st.booleans()):
            data["postponed_to"] = PLANNING + timedelta(days=draw(st.integers(0, 8)))
        elif draw(st.booleans()) and draw(st.booleans()):
            data["plan_start_date"] = PLANNING + timedelta(days=draw(st.integers(0, 10)))
            data["plan_start_kind"] = draw(st.sampled_from(PlanStartKind))
        referrals.append(builders.referral(rid, discharge, received=received, **data))
        # A first session already in the calendars: tentative ones are released for their
        # own referral only; a communicated one stays.
        if therapists and days and draw(st.booleans()):
            day = draw(st.sampled_from([d for d in days if d >= received][:3] or days))
            start = _minutes(draw, 8 * 60, 14 * 60)
            status = draw(st.sampled_from(BookingStatus))
            therapist_id = draw(st.sampled_from([t.id for t in therapists]))
            site_id = draw(st.sampled_from([None, *site_ids]))
            first_end = _clock(start + draw(st.integers(15, 90)))
            bookings.append(
                builders.booking(
                    f"B-{rid}",
                    therapist_id,
                    day,
                    _clock(start),
                    first_end,
                    site_id=site_id,
                    status=status,
                    referral_id=rid,
                )
            )
    instance = builders.instance(therapists, referrals, bookings, sites, policy, PLANNING, name="")
    assume(not has_errors(validate_instance(instance)))
    return instance, draw(st.sampled_from(["R-1", "R-2"])), draw(st.integers(1, 8))


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(small_instances())
def test_the_ranking_equals_brute_force_on_random_small_weeks(
    case: tuple[Instance, str, int],
) -> None:
    instance, referral_id, k = case
    want = _reference(instance, referral_id, k)
    proposals = propose_slots(instance, referral_id, k)
    assert _seen(proposals) == want
    assert [p.rank for p in proposals] == list(range(1, len(want) + 1))
    # The gRPC edge's way in: straight from the request message, a day at a time.
    referral = next(r for r in instance.referrals if r.id == referral_id)
    from_message = rank_slots(calendars_from_proto(instance_to_proto(instance)), referral, k)
    assert from_message == proposals


def test_the_ranking_equals_brute_force_on_a_generated_week() -> None:
    instance = generate("soenderborg", seed=3, referrals=12)
    calendars = index_calendars(instance)
    from_message = calendars_from_proto(instance_to_proto(instance))
    for referral in instance.referrals:
        proposals = propose_slots(instance, referral.id, 6, calendars)
        assert _seen(proposals) == _reference(instance, referral.id, 6), referral.id
        assert rank_slots(from_message, referral, 6) == proposals


def test_a_days_options_come_best_first_as_listing_and_sorting_them_all_would_give() -> None:
    # options_on takes the best options lazily (a heap of lower bounds, carriers worked out
    # only for the therapists reached). Listing every option of every gap, with every
    # therapist's carrier, and sorting must give the same options in the same order, on a
    # København week whose courses sometimes wait, for every k.
    from scheduler.planning.calendar_index import index_calendar
    from scheduler.planning.propose import STEP_MINUTES, _Ranking

    instance = generate("koebenhavn", seed=7, referrals=60)
    calendars = index_calendar(instance).calendars()
    waited = compared = 0
    for referral in instance.referrals[::3]:
        ranking = _Ranking(calendars, referral)
        for day in list(calendars.horizon())[:6]:
            view = calendars.day_gaps(day, referral.id) if calendars.day_gaps else None
            assert view is not None
            listed = []
            for place, (g_start, t_idx, g_end, site) in enumerate(
                view.of(ranking.qualified, referral.chosen_site_id, calendars.sites)
            ):
                travel = ranking.travel(site)
                carrier = ranking.carrier(day, t_idx)
                therapist = calendars.therapists[t_idx]
                for start in range(
                    g_start, g_end - referral.first_session_minutes - 2 * travel + 1, STEP_MINUTES
                ):
                    session = start + travel
                    end = session + referral.first_session_minutes
                    if not referral.home_training and view.rooms[site].meets(session, end):
                        continue
                    specialist = ranking.basal and bool(therapist.specialties)
                    key = (carrier is None, specialist, travel, start, therapist.id, place)
                    listed.append((key, (specialist, travel, start, therapist.id, site, carrier)))
            listed.sort()
            want, seen = [], set()
            for _, option in listed:
                if (option[3], option[2]) not in seen:
                    seen.add((option[3], option[2]))
                    want.append(option)
            waited += sum(1 for option in want if option[5] is None)
            for k in (1, 3, 10, None):
                got = _Ranking(calendars, referral).options_on(day, k)
                assert [
                    (o.specialist, o.travel, o.start, o.therapist_id, o.site, o.carrier)
                    for o in got
                ] == want[:k], (referral.id, day, k)
                compared += 1
    assert compared > 50 and waited > 0
