"""The municipality's calendars over time: rosters, bookings, courses, sickness.

The staff and sites come from the snapshot generator (:func:`scheduler.bench.generator.generate`
with no referrals and empty calendars): each therapist keeps the weekly pattern of their
generated roster (weekday → hours and site) for the whole simulated period. The calendars start
empty; what fills them is what the simulation books:

- first sessions (tentative, then communicated; :class:`~scheduler.domain.Booking` with the
  referral's id);
- courses: :meth:`World.start_individual_course` books a course as the first therapist's
  recurring sessions when the first session is communicated; they release the time when the
  course ends (they simply are not booked after it). Issue 11 brings courses and holds into the
  domain; this one method is what switches to that model then;
- every rostered day, a block at its end for documentation, meetings and hold classes
  (`other_work_share` of the day, off-site): time nobody can book.

Sickness: a spell is known on its first morning; the therapist is absent from that day to its
end, and every session they had in it is cancelled (:meth:`World.fall_ill`): first sessions go
back to be re-booked, course sessions are lost.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date, time, timedelta

from scheduler.bench.generator import generate
from scheduler.domain import (
    Absence,
    Booking,
    Instance,
    Referral,
    RosterEntry,
    Site,
    Therapist,
)
from scheduler.planning.free_time import free_stretches
from scheduler.rules.calendar import WorkingCalendar, as_minutes, at_minutes
from scheduler.rules.eligibility import session_windows
from scheduler.simulation.profile import SimulationProfile

__all__ = ["Shift", "World", "staff_and_sites"]

_GRID = 15


@dataclass(frozen=True, slots=True)
class Shift:
    """A therapist's rostered hours on one weekday: minutes since midnight, and the site."""

    start: int
    end: int
    site_id: str


def staff_and_sites(
    profile: SimulationProfile, seed: int, start: date
) -> tuple[list[Site], list[Therapist], dict[str, dict[int, Shift]]]:
    """The generator's sites and therapists for the profile (rosters and absences dropped) and
    each therapist's weekly pattern (weekday → shift) read from the generated roster."""
    inst = generate(
        profile.municipality.name,
        seed,
        referrals=0,
        therapists=profile.therapists,
        sites=min(profile.municipality.default_sites, profile.therapists),
        load=0.5,  # the generated bookings are dropped; load=0 trips the generator
        planning_date=start,
    )
    pattern: dict[str, dict[int, Shift]] = {}
    therapists: list[Therapist] = []
    for t in inst.therapists:
        week: dict[int, Shift] = {}
        for e in t.roster:
            week.setdefault(
                e.date.weekday(), Shift(as_minutes(e.start), as_minutes(e.end), e.site_id)
            )
        pattern[t.id] = week
        therapists.append(t.model_copy(update={"roster": [], "absences": []}))
    return list(inst.sites), therapists, pattern


class World:
    """The calendars of one simulated municipality, day by day."""

    def __init__(
        self,
        profile: SimulationProfile,
        sites: list[Site],
        therapists: list[Therapist],
        pattern: dict[str, dict[int, Shift]],
    ) -> None:
        self.profile = profile
        self.policy = profile.municipality.policy
        self.cal = WorkingCalendar(self.policy)
        self.sites = sites
        self.site_by_id = {s.id: s for s in sites}
        self.therapists = therapists
        self.pattern = pattern
        self.absences: dict[str, list[Absence]] = defaultdict(list)
        self.bookings: dict[date, dict[str, Booking]] = defaultdict(dict)
        self.rostered_minutes: dict[str, int] = defaultdict(int)
        self.booked_minutes: dict[str, int] = defaultdict(int)
        self.course_sessions_lost = 0

    # ------------------------------------------------------------------ reading

    def shift(self, therapist_id: str, day: date) -> Shift | None:
        """The therapist's rostered hours on `day` (None: not rostered or a holiday)."""
        if not self.cal.is_working_day(day):
            return None
        return self.pattern[therapist_id].get(day.weekday())

    def absent(self, therapist_id: str, day: date) -> bool:
        return any(a.covers(day) for a in self.absences[therapist_id])

    def other_work(self, therapist_id: str, day: date) -> Booking | None:
        """The day's block for documentation, meetings and holds: off-site, at the day's end."""
        shift = self.shift(therapist_id, day)
        if shift is None or self.absent(therapist_id, day):
            return None
        length = round((shift.end - shift.start) * self.profile.other_work_share / _GRID) * _GRID
        if length <= 0:
            return None
        return Booking(
            id=f"W-{therapist_id}-{day.isoformat()}",
            therapist_id=therapist_id,
            start=at_minutes(day, shift.end - length),
            end=at_minutes(day, shift.end),
        )

    def booking(self, booking_id: str, day: date) -> Booking | None:
        return self.bookings[day].get(booking_id)

    def instance(self, day: date, referrals: list[Referral]) -> Instance:
        """The planning instance of `day`: rosters, known absences and every booking from the
        next day to the horizon's end (tentative first sessions included), and `referrals`."""
        last = day + timedelta(days=self.policy.horizon_days)
        days = self.cal.working_days(day + timedelta(days=1), last)
        therapists: list[Therapist] = []
        bookings: list[Booking] = []
        for t in self.therapists:
            roster: list[RosterEntry] = []
            for d in days:
                shift = self.shift(t.id, d)
                if shift is None:
                    continue
                roster.append(
                    RosterEntry(
                        date=d,
                        start=time(shift.start // 60, shift.start % 60),
                        end=time(shift.end // 60, shift.end % 60),
                        site_id=shift.site_id,
                    )
                )
                if (block := self.other_work(t.id, d)) is not None:
                    bookings.append(block)
            absences = [a for a in self.absences[t.id] if a.end > day and a.start <= last]
            therapists.append(t.model_copy(update={"roster": roster, "absences": absences}))
        for d in days:
            bookings.extend(self.bookings[d].values())
        return Instance.model_construct(
            name=f"simulated {self.profile.municipality.name} {day.isoformat()}",
            planning_date=day,
            policy=self.policy,
            sites=self.sites,
            therapists=therapists,
            bookings=bookings,
            referrals=referrals,
        )

    # ------------------------------------------------------------------ changing

    def add(self, booking: Booking) -> None:
        self.bookings[booking.start.date()][booking.id] = booking

    def remove(self, booking: Booking) -> None:
        del self.bookings[booking.start.date()][booking.id]

    def fall_ill(self, therapist_id: str, first: date, last: date) -> list[Booking]:
        """Record a sick spell; cancel and return every booking of the therapist in it."""
        self.absences[therapist_id].append(Absence(start=first, end=last, reason="sygdom"))
        cancelled: list[Booking] = []
        d = first
        while d <= last:
            for b in list(self.bookings[d].values()):
                if b.therapist_id == therapist_id:
                    del self.bookings[d][b.id]
                    cancelled.append(b)
            d += timedelta(days=1)
        self.course_sessions_lost += sum(1 for b in cancelled if b.referral_id is None)
        return cancelled

    def _first_free(self, therapist_id: str, day: date, minutes: int) -> Booking | None:
        """The first free `minutes` of the therapist at their site on `day` (rooms checked)."""
        shift = self.shift(therapist_id, day)
        if shift is None or self.absent(therapist_id, day):
            return None
        site = self.site_by_id[shift.site_id]
        busy: list[tuple[int, int]] = []
        rooms: list[tuple[int, int]] = []
        for b in self.bookings[day].values():
            span = (as_minutes(b.start.time()), as_minutes(b.end.time()))
            if b.therapist_id == therapist_id:
                busy.append(span)
            if b.site_id == site.id and not b.at_home:
                rooms.append(span)
        if (block := self.other_work(therapist_id, day)) is not None:
            busy.append((as_minutes(block.start.time()), as_minutes(block.end.time())))
        for window in session_windows(self.policy, site, day, shift.start, shift.end):
            for lo, hi in free_stretches(window, busy):
                for s in range(lo, hi - minutes + 1, _GRID):
                    used = sum(1 for a, b in rooms if a < s + minutes and s < b)
                    if used < site.rooms:
                        return Booking(
                            id=f"x-{therapist_id}-{day.isoformat()}-{s}",
                            therapist_id=therapist_id,
                            site_id=site.id,
                            start=at_minutes(day, s),
                            end=at_minutes(day, s + minutes),
                        )
        return None

    def start_individual_course(self, referral_id: str, first: Booking, weeks: int) -> date | None:
        """Book a course after the first session `first`: `course_sessions_per_week` sessions a
        week for `weeks` weeks with the same therapist at their site, each into the first free
        time of a different rostered day of that week; a week without room gets fewer. Returns
        the day of the course's first session (None: none could be booked in its weeks).

        The stand-in for issue 11's course model: change this one method to book a hold's seat
        or a course of the domain instead.
        """
        start = first.start.date() + timedelta(days=1)
        opening: date | None = None
        per_week = self.profile.course_sessions_per_week
        minutes = self.profile.course_session_minutes
        for w in range(weeks):
            booked = 0
            for k in range(7):
                day = start + timedelta(days=7 * w + k)
                slot = self._first_free(first.therapist_id, day, minutes)
                if slot is None:
                    continue
                self.add(slot.model_copy(update={"id": f"C-{referral_id}-{w}-{k}"}))
                opening = opening or day
                booked += 1
                if booked == per_week:
                    break
        return opening

    def close_day(self, day: date) -> None:
        """The day is over: count its rostered and booked minutes (utilisation)."""
        for t in self.therapists:
            shift = self.shift(t.id, day)
            if shift is None or self.absent(t.id, day):
                continue
            self.rostered_minutes[t.id] += shift.end - shift.start
        for b in self.bookings.pop(day, {}).values():
            self.booked_minutes[b.therapist_id] += int((b.end - b.start).total_seconds() // 60)
