"""The §140 rules for one referral under a policy, as pure functions. Each rule lives here once.

- :func:`anchor_date`: the day the deadline counts from (discharge or receipt).
- :func:`earliest_start`: not before the plan is received (plus notice), a plan-specified later
  start, or the citizen's own postponement.
- :func:`legal_deadline`: the last working day on or before the day the start is due.
- :func:`free_choice_right`: whether missing that deadline gives frit valg.
- :func:`letter_by`: the date by which the citizen must be told the start time.
- :func:`offer_sent`: when a frit valg offer counts as sent.
- :func:`answer_by`: when the citizen must answer a frit valg offer.
- :func:`outcome`: on time, late with or without frit valg.
- :func:`exclusion`: referrals this scheduler must not take, and where they belong.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from scheduler.domain import Outcome, PlanStartKind, Reason, Referral
from scheduler.domain.policy import Anchor, Policy
from scheduler.rules.calendar import WorkingCalendar

__all__ = [
    "LegalDates",
    "anchor_date",
    "answer_by",
    "earliest_start",
    "exclusion",
    "free_choice_right",
    "legal_dates",
    "legal_deadline",
    "letter_by",
    "no_right_reason",
    "offer_sent",
    "outcome",
]


def _anchor(referral: Referral, anchor: Anchor) -> date:
    return referral.discharge_date if anchor is Anchor.DISCHARGE else referral.received_date


def anchor_date(referral: Referral, policy: Policy) -> date:
    """The day the start deadline counts from: discharge (law) or receipt of the plan."""
    return _anchor(referral, policy.deadline_anchor)


def _plan_later(referral: Referral) -> date | None:
    if referral.plan_start_kind is PlanStartKind.LATER:
        return referral.plan_start_date
    return None


def earliest_start(referral: Referral, policy: Policy, cal: WorkingCalendar) -> date:
    """The first working day the first session may be on.

    Not before the plan has been received plus `min_notice_days` working days; not before a
    plan-specified later start ("do not start before it"); not before the citizen's own
    postponement date ("the requested date becomes the earliest start").
    """
    candidates = [cal.add_working_days(referral.received_date, policy.min_notice_days)]
    if (later := _plan_later(referral)) is not None:
        candidates.append(later)
    if referral.postponed_to is not None:
        candidates.append(referral.postponed_to)
    return cal.next_working_day_on_or_after(max(candidates))


def legal_deadline(referral: Referral, policy: Policy, cal: WorkingCalendar) -> date:
    """The last working day the first session may be on to count as on time.

    The start is due `deadline_days` after the anchor; a citizen's postponement or a
    plan-specified later start moves the count to that date; a plan-specified earlier start
    must be met if it comes first. Training only happens on working days, so a due day on a
    weekend or holiday means the working day before.
    """
    if referral.postponed_to is not None:
        due = cal.add_days(referral.postponed_to, policy.deadline_days, policy.deadline_day_kind)
    elif (later := _plan_later(referral)) is not None:
        due = cal.add_days(later, policy.deadline_days, policy.deadline_day_kind)
    else:
        due = cal.add_days(
            anchor_date(referral, policy), policy.deadline_days, policy.deadline_day_kind
        )
        if referral.plan_start_kind is PlanStartKind.EARLIER and referral.plan_start_date:
            due = min(due, referral.plan_start_date)
    return cal.last_working_day_on_or_before(due)


def no_right_reason(referral: Referral, policy: Policy) -> Reason | None:
    """Why missing the deadline gives no frit valg, or None if it does."""
    if referral.postponed_to is not None:
        return Reason.CITIZEN_POSTPONED
    if _plan_later(referral) is not None and not policy.plan_later_keeps_free_choice:
        return Reason.PLAN_LATER_START
    return None


def free_choice_right(referral: Referral, policy: Policy) -> bool:
    """Whether a start after the legal deadline gives the citizen frit valg.

    Not when the citizen postponed the start; not when the plan asked for a later start and the
    policy (Rebild, Vejen, Næstved) takes frit valg away then; not for chronic-disease courses
    where they stay with the municipal provider (Rebild).
    """
    if no_right_reason(referral, policy) is not None:
        return False
    return not (referral.chronic_course and policy.chronic_courses_municipal_only)


def letter_by(referral: Referral, policy: Policy, cal: WorkingCalendar) -> date:
    """The date by which the citizen must be told the start time (or contacted).

    Counted from the policy's contact anchor in calendar days (then the last working day on or
    before) or in weekdays.
    """
    due = cal.add_days(
        _anchor(referral, policy.contact_anchor), policy.contact_days, policy.contact_day_kind
    )
    return cal.last_working_day_on_or_before(due)


def offer_sent(planning_date: date, policy: Policy) -> datetime:
    """When a frit valg offer made in a plan counts as sent: at the end of the planning day."""
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


def exclusion(referral: Referral, policy: Policy) -> str | None:
    """Why this referral is not for this scheduler under the policy, or None.

    (Specialiseret levels are rejected already by the :class:`Referral` model.)
    """
    if policy.minors_to_childrens_team and referral.age < 18:
        return (
            f"citizen is {referral.age}: under 18 goes to the municipal children's team "
            "(børneteam), not to this scheduler"
        )
    return None


@dataclass(frozen=True)
class LegalDates:
    """All of a referral's legal dates under a policy, computed once."""

    anchor: date
    earliest_start: date
    deadline: date
    free_choice_right: bool
    letter_by: date
    no_right_reason: Reason | None


def legal_dates(referral: Referral, policy: Policy, cal: WorkingCalendar) -> LegalDates:
    return LegalDates(
        anchor=anchor_date(referral, policy),
        earliest_start=earliest_start(referral, policy, cal),
        deadline=legal_deadline(referral, policy, cal),
        free_choice_right=free_choice_right(referral, policy),
        letter_by=letter_by(referral, policy, cal),
        no_right_reason=no_right_reason(referral, policy),
    )
