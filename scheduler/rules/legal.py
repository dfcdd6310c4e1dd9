"""The §140 rules for one referral under a policy, as pure functions. Each rule lives here once.

- :func:`anchor_date`: the day the deadline counts from (discharge or receipt).
- :func:`earliest_start`: not before the plan is received (plus notice), a plan-specified later
  start, or the citizen's own postponement.
- :func:`statutory_deadline`: the last working day the start is due by, before anything the
  citizen asks for.
- :func:`citizen_delay`: the citizen's own postponement that the law counts (a wish past the
  deadline, or unavailable on every working day up to it), and the day the target then counts
  from.
- :func:`legal_deadline`: the last working day on or before the day the start is due.
- :func:`free_choice_right`: whether missing that deadline gives frit valg.
- :func:`letter_by`: the date the standard states for telling the citizen the start time.
- :func:`letter_send_by`: the working day the letter must go out, before the booked start.
- :func:`offer_sent`: when a frit valg offer counts as sent.
- :func:`answer_by`: when the citizen must answer a frit valg offer.
- :func:`outcome`: on time, late with or without frit valg.
- :func:`exclusion`: referrals this scheduler must not take, and where they belong.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from scheduler.domain import Level, Outcome, PlanStartKind, Reason, Referral
from scheduler.domain.policy import Anchor, Policy, Postponement
from scheduler.rules.calendar import WorkingCalendar

__all__ = [
    "LegalDates",
    "anchor_date",
    "answer_by",
    "citizen_delay",
    "earliest_start",
    "exclusion",
    "free_choice_right",
    "legal_dates",
    "legal_deadline",
    "letter_by",
    "letter_send_by",
    "no_right_reason",
    "offer_sent",
    "outcome",
    "statutory_deadline",
]

_SEARCH_DAYS = 400
"""How far past the deadline :func:`citizen_delay` looks for a day the citizen can come."""


def _anchor(referral: Referral, anchor: Anchor) -> date:
    return referral.discharge_date if anchor is Anchor.DISCHARGE else referral.received_date


def anchor_date(referral: Referral, policy: Policy) -> date:
    """The day the start deadline counts from: discharge (law) or receipt of the plan."""
    return _anchor(referral, policy.deadline_anchor)


def _plan_later(referral: Referral) -> date | None:
    if referral.plan_start_kind is PlanStartKind.LATER:
        return referral.plan_start_date
    return None


def _municipal_earliest(referral: Referral, policy: Policy, cal: WorkingCalendar) -> date:
    """The first working day the municipality could start, whatever the citizen asks for."""
    first = cal.add_working_days(referral.received_date, policy.min_notice_days)
    if (later := _plan_later(referral)) is not None:
        first = max(first, later)
    return cal.next_working_day_on_or_after(first)


def earliest_start(referral: Referral, policy: Policy, cal: WorkingCalendar) -> date:
    """The first working day the first session may be on.

    Not before the plan has been received plus `min_notice_days` working days; not before a
    plan-specified later start ("do not start before it"); not before the citizen's own
    postponement date ("the requested date becomes the earliest start").
    """
    first = _municipal_earliest(referral, policy, cal)
    if referral.postponed_to is not None:
        first = max(first, referral.postponed_to)
    return cal.next_working_day_on_or_after(first)


def statutory_deadline(referral: Referral, policy: Policy, cal: WorkingCalendar) -> date:
    """The last working day the start is due by, before anything the citizen asks for.

    `deadline_days` after the anchor, or after a plan-specified later start ("regnes fristen
    dog fra dette tidspunkt"); a plan-specified earlier start must be met if it comes first.
    Training only happens on working days, so a due day on a weekend or holiday means the
    working day before.
    """
    if (later := _plan_later(referral)) is not None:
        due = cal.add_days(later, policy.deadline_days, policy.deadline_day_kind)
    else:
        due = cal.add_days(
            anchor_date(referral, policy), policy.deadline_days, policy.deadline_day_kind
        )
        if referral.plan_start_kind is PlanStartKind.EARLIER and referral.plan_start_date:
            due = min(due, referral.plan_start_date)
    return cal.last_working_day_on_or_before(due)


def citizen_delay(
    referral: Referral, policy: Policy, cal: WorkingCalendar
) -> tuple[Reason, date] | None:
    """The citizen's own postponement that the law counts, and the day the target counts from.

    Vejen: "Hvis fristen ikke kan overholdes, har borgeren ret til at vælge en privat
    leverandør. ... Det gælder dog ikke, hvis borgeren selv udsætter opstarten." The citizen's
    own wish must be what moves the start:

    - a wish (`postponed_to`) the plan or the notice period already rules out postpones nothing;
    - under :attr:`Postponement.PAST_DEADLINE` only a wish past the statutory deadline counts
      (a day on or before it leaves deadline and frit valg as they are); under
      :attr:`Postponement.ANY` every wish that moves the earliest start counts;
    - unavailable dates covering every working day from the earliest start up to the statutory
      deadline are the citizen's own postponement too: the target counts from the first
      working day after the deadline they can come.

    None when nothing the citizen asked for counts.
    """
    statutory = statutory_deadline(referral, policy, cal)
    municipal = _municipal_earliest(referral, policy, cal)
    if referral.postponed_to is not None:
        wished = cal.next_working_day_on_or_after(referral.postponed_to)
        if wished > municipal and (
            policy.citizen_postponement is Postponement.ANY or wished > statutory
        ):
            return Reason.CITIZEN_POSTPONED, referral.postponed_to
    first = earliest_start(referral, policy, cal)
    unavailable = set(referral.unavailable_dates)
    if not unavailable or first > statutory:
        return None
    if any(day not in unavailable for day in cal.working_days(first, statutory)):
        return None
    day = cal.next_working_day_on_or_after(statutory + timedelta(days=1))
    for _ in range(_SEARCH_DAYS):
        if day not in unavailable:
            break
        day = cal.next_working_day_on_or_after(day + timedelta(days=1))
    return Reason.CITIZEN_UNAVAILABLE, day


def legal_deadline(referral: Referral, policy: Policy, cal: WorkingCalendar) -> date:
    """The last working day the first session may be on to count as on time.

    The :func:`statutory_deadline`, unless the citizen's own postponement counts
    (:func:`citizen_delay`): then the municipality's own target of `deadline_days` counts from
    the requested date (or the first day the citizen can come).
    """
    delay = citizen_delay(referral, policy, cal)
    if delay is None:
        return statutory_deadline(referral, policy, cal)
    due = cal.add_days(delay[1], policy.deadline_days, policy.deadline_day_kind)
    return cal.last_working_day_on_or_before(due)


def no_right_reason(referral: Referral, policy: Policy, cal: WorkingCalendar) -> Reason | None:
    """Why missing the deadline gives no frit valg (the citizen's own postponement, or a
    plan-specified later start under a policy that takes frit valg away then), or None."""
    if (delay := citizen_delay(referral, policy, cal)) is not None:
        return delay[0]
    if _plan_later(referral) is not None and not policy.plan_later_keeps_free_choice:
        return Reason.PLAN_LATER_START
    return None


def free_choice_right(referral: Referral, policy: Policy, cal: WorkingCalendar) -> bool:
    """Whether a start after the legal deadline gives the citizen frit valg.

    Not when the citizen's own postponement counts (:func:`citizen_delay`); not when the plan
    asked for a later start and the policy (Rebild, Vejen, Næstved) takes frit valg away then;
    not for chronic-disease courses where they stay with the municipal provider (Rebild).
    """
    if no_right_reason(referral, policy, cal) is not None:
        return False
    return not (referral.chronic_course and policy.chronic_courses_municipal_only)


def letter_by(referral: Referral, policy: Policy, cal: WorkingCalendar) -> date:
    """The date the standard states for telling the citizen the start time (or contacting them).

    Counted from the policy's contact anchor in calendar days or in weekdays, as the standard
    counts: Sønderborg "Du vil senest fire dage efter udskrivelsen få tilsendt tidspunktet for
    opstart", Rebild "senest 4 dage efter at Rebild Kommune har modtaget din
    genoptræningsplan" (calendar days, so it may fall on a Sunday), Hjørring "indenfor tre
    hverdage". The working day the letter must actually go out is :func:`letter_send_by`.
    """
    return cal.add_days(
        _anchor(referral, policy.contact_anchor), policy.contact_days, policy.contact_day_kind
    )


def letter_send_by(letter_by_date: date, start: date | None, cal: WorkingCalendar) -> date:
    """The working day the letter with the start time must go out.

    The last working day on or before :func:`letter_by`, and the citizen must know the time
    before the session: never later than the working day before the booked start (`start`;
    None when nothing is booked). It may lie before the planning day when the plan arrived
    late: then the letter is overdue.
    """
    send = cal.last_working_day_on_or_before(letter_by_date)
    if start is not None:
        send = min(send, cal.last_working_day_on_or_before(start - timedelta(days=1)))
    return send


def offer_sent(planning_date: date, policy: Policy, sent_at: datetime | None = None) -> datetime:
    """When a frit valg offer made in a plan counts as sent: when the caller says offers go out
    (`sent_at`, :attr:`Instance.offers_sent_at <scheduler.domain.Instance.offers_sent_at>`),
    else at the end of the planning day (the policy's `day_end`)."""
    if sent_at is not None:
        return sent_at
    return datetime.combine(planning_date, policy.day_end)


def answer_by(policy: Policy, offer_sent: datetime) -> datetime | None:
    """When a citizen offered frit valg must answer: `free_choice_answer_hours` after the offer."""
    if policy.free_choice_answer_hours is None:
        return None
    return offer_sent + timedelta(hours=policy.free_choice_answer_hours)


def outcome(start: date, deadline: date, right: bool) -> Outcome:
    """On time if the first session is on or before the deadline; else late, with or without
    frit valg."""
    if start <= deadline:
        return Outcome.ON_TIME
    return Outcome.LATE_FREE_CHOICE if right else Outcome.LATE_NO_RIGHT


_LEVEL_REJECTIONS: dict[Level, tuple[Reason, str]] = {
    Level.SPECIALISERET: (
        Reason.SPECIALISED_AT_HOSPITAL,
        "genoptræning på specialiseret niveau takes place at the hospital (the region), "
        "not in the municipal training unit",
    ),
    Level.REHABILITERING_SPECIALISERET: (
        Reason.SPECIALISED_REHAB_EXTERNAL,
        "rehabilitering på specialiseret niveau is delivered by external providers, "
        "not by the municipal training unit",
    ),
}


def exclusion(referral: Referral, policy: Policy) -> tuple[Reason, str] | None:
    """Why this referral is not for this scheduler under the policy, and where it belongs.

    Vejen: "Borgere, der er henvist til genoptræning på specialiseret niveau, modtager
    genoptræning på sygehuset"; "Rehabiliteringen varetages af eksterne aktører". Rebild: "Ved
    træning af børn og unge under 18 år vil opgaven som udgangspunkt varetages af kommunal
    leverandør, ... i kraft af dennes børneteam" (where the policy sends minors there).
    None when the scheduler takes it.
    """
    if (rejected := _LEVEL_REJECTIONS.get(referral.level)) is not None:
        return rejected
    if policy.minors_to_childrens_team and referral.age < 18:
        return (
            Reason.CHILDRENS_TEAM,
            # No age in the text: it travels into plans, logs and letters.
            "a citizen under 18 goes to the municipal children's team (børneteam), not to this "
            "scheduler",
        )
    return None


@dataclass(frozen=True)
class LegalDates:
    """All of a referral's legal dates under a policy, computed once."""

    anchor: date
    earliest_start: date
    statutory_deadline: date
    """The deadline before anything the citizen asked for."""
    deadline: date
    free_choice_right: bool
    letter_by: date
    """The date the standard states; the working day to send is :func:`letter_send_by`."""
    no_right_reason: Reason | None
    rejected: tuple[Reason, str] | None
    """Where the referral belongs when it is not for this scheduler (:func:`exclusion`)."""


def legal_dates(referral: Referral, policy: Policy, cal: WorkingCalendar) -> LegalDates:
    """Every rule of this module applied to one referral."""
    return LegalDates(
        anchor=anchor_date(referral, policy),
        earliest_start=earliest_start(referral, policy, cal),
        statutory_deadline=statutory_deadline(referral, policy, cal),
        deadline=legal_deadline(referral, policy, cal),
        free_choice_right=free_choice_right(referral, policy, cal),
        letter_by=letter_by(referral, policy, cal),
        no_right_reason=no_right_reason(referral, policy, cal),
        rejected=exclusion(referral, policy),
    )
