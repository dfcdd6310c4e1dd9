"""The letters list: which assignments need a letter, of which kind, and in what order."""

from __future__ import annotations

from datetime import date, datetime

from scheduler.domain import Instance, Outcome, Solution
from scheduler.outputs.letters import Letter, LetterKind, letter_for, letters, letters_csv_rows
from scheduler.rules.calendar import WorkingCalendar
from scheduler.rules.legal import letter_send_by


def test_a_plan_asks_for_a_start_letter_and_a_frit_valg_offer(
    mixed: tuple[Instance, Solution],
) -> None:
    _, solution = mixed
    found = letters(solution)
    # R-2 is not bookable (nothing to tell), R-3 was communicated already: no letters.
    # R-4's contact deadline (4 days after its discharge) comes first.
    assert [(x.referral_id, x.kind) for x in found] == [
        ("R-4", LetterKind.FRIT_VALG_OFFER),
        ("R-1", LetterKind.START_TIME),
    ]
    r4 = next(a for a in solution.assignments if a.referral_id == "R-4")
    offer = found[0]
    assert offer.start == r4.start and offer.answer_by == r4.answer_by is not None
    assert offer.send_by == r4.letter_by
    assert found[1].answer_by is None


def test_letters_go_out_by_send_by_date_then_answer_by(mixed: tuple[Instance, Solution]) -> None:
    _, solution = mixed
    r1, _, _, r4 = solution.assignments
    later = r1.model_copy(
        update={"letter_send_by": date(2026, 3, 6), "start": datetime(2026, 3, 12, 10)}
    )
    same_day = r4.model_copy(update={"letter_send_by": date(2026, 3, 6)})
    # Same send-by day: the frit valg offer, whose answer-by comes before R-1's start, first.
    assert [x.referral_id for x in letters([later, same_day])] == ["R-4", "R-1"]
    earlier = later.model_copy(update={"letter_send_by": date(2026, 3, 5)})
    assert [x.referral_id for x in letters([same_day, earlier])] == ["R-1", "R-4"]


def test_a_letter_goes_out_on_the_rules_send_by_day_never_after_the_working_day_before(
    mixed: tuple[Instance, Solution],
) -> None:
    instance, solution = mixed
    r1 = solution.assignments[0]
    assert r1.start is not None and r1.start.date() == date(2026, 3, 9)  # a Monday
    cal = WorkingCalendar(instance.policy)
    # The standard would allow the 20th; the session on Monday the 9th says Friday the 6th.
    relaxed = r1.model_copy(
        update={
            "letter_by": date(2026, 3, 20),
            "letter_send_by": letter_send_by(date(2026, 3, 20), r1.start.date(), cal),
        }
    )
    letter = letter_for(relaxed)
    assert letter is not None and letter.send_by == date(2026, 3, 6)


def test_late_without_a_right_gets_a_start_letter_and_not_bookable_none(
    mixed: tuple[Instance, Solution],
) -> None:
    _, solution = mixed
    r1, r2, _, _ = solution.assignments
    late = letter_for(r1.model_copy(update={"outcome": Outcome.LATE_NO_RIGHT}))
    assert late is not None and late.kind is LetterKind.START_TIME
    assert letter_for(r2) is None


def test_csv_rows_are_iso_and_empty_when_unset() -> None:
    letter = Letter(
        referral_id="R-9",
        kind=LetterKind.FRIT_VALG_OFFER,
        send_by=date(2026, 3, 6),
        start=datetime(2026, 3, 16, 9, 30),
        answer_by=datetime(2026, 3, 9, 16),
    )
    plain = letter.model_copy(update={"kind": LetterKind.START_TIME, "answer_by": None})
    assert letters_csv_rows([letter, plain]) == [
        {
            "referral_id": "R-9",
            "kind": "frit_valg_offer",
            "send_by": "2026-03-06",
            "start": "2026-03-16T09:30",
            "answer_by": "2026-03-09T16:00",
        },
        {
            "referral_id": "R-9",
            "kind": "start_time",
            "send_by": "2026-03-06",
            "start": "2026-03-16T09:30",
            "answer_by": "",
        },
    ]
