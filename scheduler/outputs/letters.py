"""The letters a plan asks the municipality to send, as pure functions over a solution.

Every booked first session that the citizen has not yet been told about needs a letter:

- a *start time* letter (`start_time`) for a session on time, or late without a frit valg right;
- a *frit valg offer* (`frit_valg_offer`) for a session after the deadline with a right to frit
  valg: the municipality's own (late) start, and when the citizen must answer.

A session taken from a communicated booking (:attr:`Assignment.fixed`) has been told already,
and a referral that is not bookable has no start to tell: neither gets a letter here (the plan
report lists them for the coordinator).

:func:`letter_for` is the one place that turns an :class:`Assignment`'s legal fields
(`outcome`, `start`, `letter_by`, `answer_by`) into a letter; :func:`letters` orders them by
when they must go out.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime
from enum import StrEnum

from pydantic import Field

from scheduler.domain import Assignment, Outcome, Solution
from scheduler.domain.inputs import DomainModel, Id

__all__ = ["CSV_COLUMNS", "Letter", "LetterKind", "letter_for", "letters", "letters_csv_rows"]


class LetterKind(StrEnum):
    """What a letter tells the citizen."""

    START_TIME = "start_time"
    """The time of the first session (on time, or late without a frit valg right)."""
    FRIT_VALG_OFFER = "frit_valg_offer"
    """The municipality's late start and the right to choose a private provider instead."""


class Letter(DomainModel):
    """One letter to send: to the citizen behind the pseudonymous `referral_id`."""

    referral_id: Id
    kind: LetterKind
    send_by: date = Field(description="The last day the letter may go out.")
    start: datetime = Field(description="The start of the first session offered.")
    answer_by: datetime | None = Field(
        default=None, description="For a frit valg offer: when the citizen must answer."
    )


# Outcomes that book a session, and the letter each needs (not bookable and rejected: none).
_KIND: dict[Outcome, LetterKind] = {
    Outcome.ON_TIME: LetterKind.START_TIME,
    Outcome.LATE_NO_RIGHT: LetterKind.START_TIME,
    Outcome.LATE_FREE_CHOICE: LetterKind.FRIT_VALG_OFFER,
}


def letter_for(assignment: Assignment) -> Letter | None:
    """The letter one assignment needs, or None (already told, or nothing booked).

    The send-by date is the assignment's `letter_send_by`
    (:func:`scheduler.rules.legal.letter_send_by`): the working day the letter must go out, on
    or before the standard's `letter_by` and never later than the working day before the
    session, since a letter that arrives after the start tells the citizen nothing.
    """
    kind = _KIND.get(assignment.outcome)
    if kind is None or assignment.fixed or assignment.start is None:
        return None
    return Letter(
        referral_id=assignment.referral_id,
        kind=kind,
        send_by=assignment.letter_send_by,
        start=assignment.start,
        answer_by=assignment.answer_by if kind is LetterKind.FRIT_VALG_OFFER else None,
    )


def letters(solution: Solution | Iterable[Assignment]) -> list[Letter]:
    """Every letter of a plan, in the order they must go out: by send-by date, then the
    earliest answer-by or start, then referral id (so the order is reproducible)."""
    assignments = solution.assignments if isinstance(solution, Solution) else solution
    found = [letter for a in assignments if (letter := letter_for(a)) is not None]
    return sorted(found, key=lambda x: (x.send_by, x.answer_by or x.start, x.start, x.referral_id))


CSV_COLUMNS = ("referral_id", "kind", "send_by", "start", "answer_by")
"""The columns of `scheduler letters`' CSV file, in order."""


def letters_csv_rows(found: Iterable[Letter]) -> list[dict[str, str]]:
    """Letters as CSV rows: ISO dates and minutes-precision local times, empty when unset."""

    def stamp(value: datetime | None) -> str:
        return "" if value is None else value.isoformat(timespec="minutes")

    return [
        {
            "referral_id": x.referral_id,
            "kind": x.kind.value,
            "send_by": x.send_by.isoformat(),
            "start": stamp(x.start),
            "answer_by": stamp(x.answer_by),
        }
        for x in found
    ]
