"""A tiny plan with every kind of entry the outputs show, built by hand on the tiny Sønderborg
instance (no solver): R-1 on time, R-2 not bookable, R-3 a communicated home visit, R-4 late
with a frit valg right."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from pathlib import Path

import pytest

from scheduler.domain import Assignment, Instance, Outcome, Reason, Referral, Solution, SolverStats
from scheduler.domain.files import load_instance
from scheduler.rules.calendar import WorkingCalendar
from scheduler.rules.legal import answer_by, legal_dates, letter_send_by, offer_sent
from scheduler.verify.kpis import compute_kpis

TINY = Path(__file__).parent.parent / "data" / "tiny-soenderborg.json"


def _booked(
    instance: Instance,
    referral: Referral,
    outcome: Outcome,
    therapist: str,
    site: str,
    start: datetime,
    **extra: object,
) -> Assignment:
    cal = WorkingCalendar(instance.policy)
    legal = legal_dates(referral, instance.policy, cal)
    return Assignment.model_validate(
        {
            "referral_id": referral.id,
            "outcome": outcome,
            "therapist_id": therapist,
            "site_id": site,
            "start": start,
            "end": start + timedelta(minutes=referral.first_session_minutes),
            "earliest_start": legal.earliest_start,
            "deadline": legal.deadline,
            "free_choice_right": legal.free_choice_right,
            "letter_by": legal.letter_by,
            "letter_send_by": letter_send_by(legal.letter_by, start.date(), cal),
            **extra,
        }
    )


@pytest.fixture(scope="session")
def mixed() -> tuple[Instance, Solution]:
    base = load_instance(TINY)
    late = Referral(
        id="R-4",
        discharge_date=date(2026, 2, 27),
        received_date=date(2026, 3, 5),
        level="basal",
        discipline="PT",
        age=72,
    )
    instance = base.model_copy(update={"referrals": [*base.referrals, late]})
    r1, r2, r3, r4 = instance.referrals
    cal = WorkingCalendar(instance.policy)
    legal2 = legal_dates(r2, instance.policy, cal)
    assignments = [
        _booked(instance, r1, Outcome.ON_TIME, "T-PT1", "S-GA", datetime(2026, 3, 9, 10)),
        Assignment(
            referral_id="R-2",
            outcome=Outcome.NOT_BOOKABLE,
            earliest_start=legal2.earliest_start,
            deadline=legal2.deadline,
            free_choice_right=legal2.free_choice_right,
            letter_by=legal2.letter_by,
            letter_send_by=letter_send_by(legal2.letter_by, None, cal),
            reason=Reason.NO_CAPACITY_IN_HORIZON,
            detail="no qualified free slot long enough in the horizon",
        ),
        _booked(
            instance,
            r3,
            Outcome.ON_TIME,
            "T-OT1",
            "S-NB",
            datetime(2026, 3, 10, 10, 15),
            at_home=True,
            travel_minutes=15,
            fixed=True,
        ),
        _booked(
            instance,
            r4,
            Outcome.LATE_FREE_CHOICE,
            "T-PT1",
            "S-GA",
            datetime(2026, 3, 11, 13),
            reason=Reason.NO_CAPACITY_BY_DEADLINE,
            answer_by=answer_by(
                instance.policy, offer_sent(instance.planning_date, instance.policy)
            ),
        ),
    ]
    solution = Solution(
        instance_name=instance.name,
        planning_date=instance.planning_date,
        assignments=assignments,
        kpis=compute_kpis(instance, assignments),
        stats=SolverStats(method="hand-built", status="FEASIBLE"),
    )
    return instance, solution
