"""The held calendar index: the same proposals as a fresh index of the changed instance, after
random deltas (fixed seed), and the delta's own problems reported."""

from __future__ import annotations

import random
from datetime import datetime, timedelta

import pytest

from scheduler.bench.generator import generate
from scheduler.domain import Booking, BookingStatus, Instance
from scheduler.planning.calendar_index import (
    CalendarDelta,
    DeltaError,
    index_calendar,
)
from scheduler.planning.propose import day_free_minutes, index_calendars, rank_slots

__all__ = ["random_delta"]


@pytest.fixture(scope="module")
def week() -> Instance:
    return generate("vejen", seed=1, referrals=12)


def random_delta(instance: Instance, rng: random.Random, serial: int) -> CalendarDelta:
    """A few bookings removed and added (early days, some filling a room) and one therapist's
    roster cut by an entry: a delta the instance's validation accepts."""
    removed = rng.sample([b.id for b in instance.bookings], 3)
    added: list[Booking] = []
    booked = {b.referral_id for b in instance.bookings if b.referral_id not in removed}
    unbooked = [r for r in instance.referrals if r.id not in booked]
    for i in range(4):
        # Two of them a referral's tentative first session (released when proposing for it).
        referral = unbooked.pop(rng.randrange(len(unbooked))) if i < 2 and unbooked else None
        therapist = rng.choice(
            [t for t in instance.therapists if t.discipline is referral.discipline]
            if referral is not None
            else instance.therapists
        )
        entry = rng.choice(therapist.roster[:6])
        start = datetime.combine(entry.date, entry.start) + timedelta(minutes=15 * rng.randrange(8))
        added.append(
            Booking(
                id=f"B-delta-{serial}-{i}",
                therapist_id=therapist.id,
                site_id=entry.site_id if rng.random() < 0.5 else None,
                start=start,
                end=start + timedelta(minutes=rng.choice((30, 60, 90))),
                status=BookingStatus.TENTATIVE
                if referral is not None
                else BookingStatus.COMMUNICATED,
                referral_id=referral.id if referral is not None else None,
            )
        )
    changed = rng.choice(instance.therapists)
    cut = changed.model_copy(update={"roster": changed.roster[1:]})
    return CalendarDelta(bookings_added=added, bookings_removed=removed, therapists=[cut])


def _applied(instance: Instance, delta: CalendarDelta) -> Instance:
    """The delta applied to the instance the plain way (the expected calendar)."""
    gone = set(delta.bookings_removed)
    replaced = {t.id: t for t in delta.therapists}
    return instance.model_copy(
        update={
            "bookings": [b for b in instance.bookings if b.id not in gone]
            + list(delta.bookings_added),
            "therapists": [replaced.get(t.id, t) for t in instance.therapists],
        }
    )


def test_index_proposes_as_the_plain_index(week: Instance) -> None:
    index = index_calendar(week)
    held = index.calendars()
    assert index.calendars().memo is held.memo  # one memo per index: proposals share it
    for _ in range(2):  # the second round on what the first kept (Calendars.memo, day views)
        for referral in week.referrals:
            # A fresh plain view per referral: nothing carried over from another proposal.
            assert rank_slots(held, referral, 8) == rank_slots(index_calendars(week), referral, 8)
    assert held.memo


def test_random_deltas_propose_as_the_changed_instance_and_leave_the_old_index_alone(
    week: Instance,
) -> None:
    rng = random.Random(13)
    index, instance = index_calendar(week), week
    for serial in range(5):
        delta = random_delta(instance, rng, serial)
        before = [rank_slots(index.calendars(), r, 5) for r in week.referrals]
        changed = index.apply(delta)
        instance = _applied(instance, delta)
        assert sorted(b.id for b in changed.instance.bookings) == sorted(
            b.id for b in instance.bookings
        )
        plain = index_calendars(instance)
        for referral in week.referrals:
            assert rank_slots(changed.calendars(), referral, 5) == rank_slots(plain, referral, 5)
        # The old version still answers as before (the days it had are not changed in place).
        assert [rank_slots(index.calendars(), r, 5) for r in week.referrals] == before
        index = changed


def test_a_delta_that_does_not_fit_lists_every_problem(week: Instance) -> None:
    index = index_calendar(week)
    held = week.bookings[0]
    delta = CalendarDelta(
        bookings_removed=["B-not-held", held.id, held.id],
        bookings_added=[week.bookings[1]],
        referrals_removed=["R-not-held"],
    )
    with pytest.raises(DeltaError) as caught:
        index.apply(delta)
    assert [where for where, _ in caught.value.problems] == [
        "bookings_removed[0]",
        "bookings_removed[2]",
        "bookings_added[0].id",
        "referrals_removed[0]",
    ]


def test_a_booking_moved_is_removed_and_added_under_its_id(week: Instance) -> None:
    index = index_calendar(week)
    old = week.bookings[0]
    moved = old.model_copy(
        update={"start": old.start + timedelta(days=1), "end": old.end + timedelta(days=1)}
    )
    changed = index.apply(CalendarDelta(bookings_added=[moved], bookings_removed=[old.id]))
    assert changed.bookings[old.id] == moved
    assert old.id not in changed.days.get(old.start.date(), {})
    assert changed.days[moved.start.date()][old.id] == moved
    assert index.bookings[old.id] == old


def test_free_minutes_kept_per_day_release_only_the_referrals_own_tentative_session(
    week: Instance,
) -> None:
    therapist = week.therapists[0]
    entry = therapist.roster[0]
    start = datetime.combine(entry.date, entry.start) + timedelta(minutes=60)
    referral = week.referrals[0].id
    tentative = Booking(
        id="B-tentative",
        therapist_id=therapist.id,
        start=start,
        end=start + timedelta(minutes=60),
        status=BookingStatus.TENTATIVE,
        referral_id=referral,
    )
    others = [
        b.id
        for b in week.bookings
        if b.therapist_id == therapist.id and b.start.date() == entry.date
    ]
    index = index_calendar(week).apply(
        CalendarDelta(bookings_added=[tentative], bookings_removed=others)
    )
    plain = index_calendars(index.instance)
    everyone = frozenset(range(len(week.therapists)))
    for rid in (referral, "R-someone-else"):
        expected = day_free_minutes(plain, entry.date, everyone, {rid})
        assert dict(index.free_minutes(entry.date, everyone, rid)) == expected
    # Released for its own referral only: an hour more free for that therapist.
    own = index.free_minutes(entry.date, everyone, referral)[0]
    other = index.free_minutes(entry.date, everyone, "R-someone-else")[0]
    assert own - other == 60


def test_a_dropped_version_is_freed_at_once_after_proposals(week: Instance) -> None:
    # The memo a held index keeps holds values only: no cycle keeps a dropped version alive
    # until the cyclic collector runs.
    import gc
    import weakref

    index = index_calendar(week)
    for referral in week.referrals[:5]:
        rank_slots(index.calendars(), referral, 3)
    assert index.calendars().memo
    gone = weakref.ref(index)
    gc.disable()
    try:
        del index
        assert gone() is None
    finally:
        gc.enable()


def test_the_memo_is_bounded_whatever_specialties_clients_send(
    week: Instance, monkeypatch: pytest.MonkeyPatch
) -> None:
    from scheduler.planning import propose

    monkeypatch.setattr(propose, "MEMO_ENTRIES", 8)
    calendars = index_calendar(week).calendars()
    avanceret = next(r for r in week.referrals if r.level.value == "avanceret")
    expected = rank_slots(calendars, avanceret, 3)
    for n in range(20):
        made_up = avanceret.model_copy(update={"specialty": f"made-up-{n}"})
        rank_slots(calendars, made_up, 3)
    assert len(calendars.memo) <= 8
    assert rank_slots(calendars, avanceret, 3) == expected
