"""Real-time slot proposals on tiny hand-built calendars: ranking, rooms, home travel, errors.

The week: planning on Friday 6 March 2026; the referral was discharged and received on Thursday
5 March, so its earliest start is Friday 6 March (one working day's notice), the first bookable
day Monday 9 March, and its deadline Thursday 12 March (law: 7 calendar days from discharge).
Friday 13 March is one day late.
"""

from __future__ import annotations

from datetime import date, datetime, time

import pytest

from scheduler.domain import (
    Booking,
    BookingStatus,
    Coordinates,
    Discipline,
    Instance,
    Level,
    OpeningHours,
    Outcome,
    Referral,
    RosterEntry,
    Site,
    Therapist,
)
from scheduler.policy import Policy
from scheduler.propose import (
    ExcludedReferralError,
    UnknownReferralError,
    index_calendars,
    proposal_dates,
    propose_slots,
)
from scheduler.travel import travel_minutes

TUE, WED, FRI = date(2026, 3, 10), date(2026, 3, 11), date(2026, 3, 13)
DEADLINE = date(2026, 3, 12)
CITY = Coordinates(lat=55.68, lon=12.57)
FAR = Coordinates(lat=55.45, lon=12.18)


def _site(site_id: str, where: Coordinates, rooms: int = 1) -> Site:
    return Site(
        id=site_id,
        name=site_id,
        coordinates=where,
        opening_hours=[OpeningHours(weekday=d, open=time(8), close=time(16)) for d in range(5)],
        rooms=rooms,
    )


def _shift(day: date, start: str, end: str, site: str = "S1") -> RosterEntry:
    return RosterEntry(
        date=day, start=time.fromisoformat(start), end=time.fromisoformat(end), site_id=site
    )


def _therapist(
    tid: str, *roster: RosterEntry, discipline: Discipline = Discipline.PT, **kw: object
) -> Therapist:
    return Therapist.model_validate(
        {"id": tid, "discipline": discipline, "roster": list(roster), **kw}
    )


def _referral(rid: str = "R-1", **kw: object) -> Referral:
    data: dict[str, object] = {
        "id": rid,
        "discharge_date": date(2026, 3, 5),
        "received_date": date(2026, 3, 5),
        "level": Level.BASAL,
        "discipline": Discipline.PT,
        "age": 70,
    }
    return Referral.model_validate({**data, **kw})


def _booking(bid: str, therapist: str, day: date, start: str, end: str, **kw: object) -> Booking:
    return Booking.model_validate(
        {
            "id": bid,
            "therapist_id": therapist,
            "start": datetime.combine(day, time.fromisoformat(start)),
            "end": datetime.combine(day, time.fromisoformat(end)),
            **kw,
        }
    )


def _instance(
    therapists: list[Therapist],
    referrals: list[Referral] | None = None,
    bookings: list[Booking] | None = None,
    rooms: int = 1,
) -> Instance:
    return Instance(
        planning_date=date(2026, 3, 6),
        policy=Policy(),
        sites=[_site("S1", CITY, rooms), _site("S2", FAR, 2)],
        therapists=therapists,
        bookings=bookings or [],
        referrals=referrals or [_referral()],
    )


def _slots(instance: Instance, rid: str = "R-1", k: int = 5) -> list[tuple[str, datetime]]:
    return [(p.therapist_id, p.start) for p in propose_slots(instance, rid, k)]


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
    proposals = propose_slots(instance, "R-1", k=12)
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
    proposals = propose_slots(instance, "R-1", k=5)
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
    proposals = propose_slots(instance, "R-1", k=3)
    assert [p.therapist_id for p in proposals][:1] == ["T-near"]
    assert proposals[0].travel_minutes < travel_minutes(FAR, home)
    assert proposals[0].start.hour >= 12


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
    proposals = propose_slots(instance, "R-1", k=7)
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
