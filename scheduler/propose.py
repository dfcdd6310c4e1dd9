"""Real-time first-session proposals for one referral: "the best k slots given today's calendars".

A booking system asks this while a planner waits, so nothing is optimised globally and nothing
moves: every existing booking stays where it is (also other referrals' tentative first sessions),
and only the referral's own qualified therapists are looked at. Each free gap
(:func:`scheduler.slots.free_gaps`) that the session fits (:func:`scheduler.slots.candidates_for`)
offers starts at the gap's start and every 15 minutes after while the session (with a home
visit's travel both ways) still fits; a site session is skipped where the site's rooms are
already full at some minute of it.

Ranking, best first:

1. on time before late (on-time days all come before the deadline, so this is also by day);
2. earlier day;
3. for a basal referral, a therapist without avanceret approvals before a specialist (keep the
   scarce avanceret therapists for avanceret work);
4. less travel;
5. earlier start (then therapist id, for a stable order).

The free gaps of every therapist with every booking in place are worked out once per set of
calendars (:func:`index_calendars`, about 40 ms at København size); a proposal then only looks at
its qualified therapists' gaps, so a service asked many times on the same calendars answers each
in a few milliseconds.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime
from itertools import groupby

from pydantic import BaseModel, ConfigDict, Field

from scheduler.domain import Booking, BookingStatus, Instance, Level, Outcome
from scheduler.rules import LegalDates, exclusion, legal_dates, outcome
from scheduler.slots import (
    Candidate,
    Gap,
    as_minutes,
    at_minutes,
    candidates_for,
    free_gaps,
    horizon_days,
    qualifies,
)
from scheduler.working_calendar import WorkingCalendar

__all__ = [
    "STEP_MINUTES",
    "Calendars",
    "ExcludedReferralError",
    "ProposalError",
    "SlotProposal",
    "UnknownReferralError",
    "index_calendars",
    "proposal_dates",
    "propose_slots",
]

STEP_MINUTES = 15
"""Options inside a gap start at the gap's start and every this many minutes after."""


class ProposalError(ValueError):
    """No proposal can be made for this request; the message says why."""


class UnknownReferralError(ProposalError):
    """The referral id is not one of the instance's referrals."""

    def __init__(self, referral_id: str) -> None:
        self.referral_id = referral_id
        super().__init__(f"unknown referral id {referral_id!r}: not among the instance's referrals")


class ExcludedReferralError(ProposalError):
    """The referral is not for this scheduler under the policy (e.g. under 18 in Rebild)."""


class SlotProposal(BaseModel):
    """One first-session option for a referral, with why it is ranked where it is."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    rank: int = Field(ge=1, description="1 = best.")
    therapist_id: str
    site_id: str = Field(description="The room's site, or for a home visit the therapist's base.")
    at_home: bool
    start: datetime = Field(description="Start of the session itself (after travel at home).")
    end: datetime
    travel_minutes: int = Field(ge=0, description="One-way travel of a home visit (0 at a site).")
    outcome: Outcome = Field(description="The referral's outcome if booked here.")
    deadline: date
    on_time: bool
    why: str = Field(description="A short sentence saying why it is ranked so.")


def _find(instance: Instance, referral_id: str) -> int:
    for i, ref in enumerate(instance.referrals):
        if ref.id == referral_id:
            return i
    raise UnknownReferralError(referral_id)


@dataclass(frozen=True)
class Calendars:
    """An instance's calendars worked out once, for many proposals on the same calendars.

    Build it with :func:`index_calendars`; it is read-only and may be shared between threads.
    """

    gaps_by_therapist: Mapping[int, tuple[Gap, ...]]
    """Per therapist index: the free gaps in the horizon with every booking in place."""
    gap_count: int
    """Gaps in all; gaps recomputed for one proposal are numbered from here."""
    bookings_by_therapist: Mapping[str, tuple[Booking, ...]]
    bookings_by_referral: Mapping[str, tuple[Booking, ...]]
    room_load: Mapping[tuple[int, date], list[tuple[int, int]]]
    """Per (site index, day): the spans of every booking that occupies a room there."""


def index_calendars(instance: Instance) -> Calendars:
    """Every therapist's free gaps with every booking in place, the rooms the bookings fill,
    and the bookings by therapist and by referral."""
    cal = WorkingCalendar(instance.policy)
    site_index = {s.id: i for i, s in enumerate(instance.sites)}
    # No referral in the instance: no booking is released, every one blocks its time and room.
    everything = instance.model_copy(update={"referrals": []})
    gaps, room_load = free_gaps(everything, cal, horizon_days(instance, cal), site_index)
    by_gap_therapist: dict[int, list[Gap]] = defaultdict(list)
    for g in gaps:
        by_gap_therapist[g.therapist].append(g)
    by_therapist: dict[str, list[Booking]] = defaultdict(list)
    by_referral: dict[str, list[Booking]] = defaultdict(list)
    for b in instance.bookings:
        by_therapist[b.therapist_id].append(b)
        if b.referral_id is not None:
            by_referral[b.referral_id].append(b)
    return Calendars(
        gaps_by_therapist={k: tuple(v) for k, v in by_gap_therapist.items()},
        gap_count=len(gaps),
        bookings_by_therapist={k: tuple(v) for k, v in by_therapist.items()},
        bookings_by_referral={k: tuple(v) for k, v in by_referral.items()},
        room_load=room_load,
    )


def _released(calendars: Calendars, referral_id: str) -> list[Booking]:
    """The referral's own tentative first sessions: released, as the referral is planned anew."""
    return [
        b
        for b in calendars.bookings_by_referral.get(referral_id, ())
        if b.status is BookingStatus.TENTATIVE
    ]


def _gaps(
    instance: Instance, referral: int, calendars: Calendars, cal: WorkingCalendar
) -> list[Gap]:
    """The free gaps of the referral's qualified therapists.

    They come from the calendars' gaps, except for a therapist holding the referral's own
    tentative first session: their gaps are worked out anew (:func:`free_gaps` on just that
    therapist and this referral) with that booking released.
    """
    ref = instance.referrals[referral]
    recompute = {b.therapist_id for b in _released(calendars, ref.id)}
    site_index = {s.id: i for i, s in enumerate(instance.sites)}
    days = horizon_days(instance, cal)
    gaps: list[Gap] = []
    fresh = calendars.gap_count
    for t_idx, therapist in enumerate(instance.therapists):
        if not qualifies(therapist, ref):
            continue
        if therapist.id not in recompute:
            gaps += calendars.gaps_by_therapist.get(t_idx, ())
            continue
        alone = instance.model_copy(
            update={
                "therapists": [therapist],
                "bookings": list(calendars.bookings_by_therapist.get(therapist.id, ())),
                "referrals": [ref],
            }
        )
        for g in free_gaps(alone, cal, days, site_index)[0]:
            gaps.append(replace(g, index=fresh, therapist=t_idx))
            fresh += 1
    return gaps


def _room_load(
    calendars: Calendars, referral_id: str, site_index: Mapping[str, int]
) -> dict[tuple[int, date], list[tuple[int, int]]]:
    """The room load without the referral's own tentative first session (it is released)."""
    load = dict(calendars.room_load)
    for b in _released(calendars, referral_id):
        if b.at_home or b.site_id is None:
            continue
        if b.site_id not in site_index:
            continue
        key = (site_index[b.site_id], b.start.date())
        spans = list(load.get(key, []))
        span = (as_minutes(b.start.time()), as_minutes(b.end.time()))
        if span in spans:
            spans.remove(span)
        load[key] = spans
    return load


def proposal_dates(instance: Instance, referral_id: str) -> LegalDates:
    """The referral's legal dates (earliest start, deadline, frit valg, letter-by)."""
    ref = instance.referrals[_find(instance, referral_id)]
    return legal_dates(ref, instance.policy, WorkingCalendar(instance.policy))


def _peak(spans: Sequence[tuple[int, int]], lo: int, hi: int) -> int:
    """The most spans that overlap at one minute of [lo, hi)."""
    inside = [(max(s, lo), min(e, hi)) for s, e in spans if s < hi and e > lo]
    if not inside:
        return 0
    events = sorted([(s, 1) for s, _ in inside] + [(e, -1) for _, e in inside])
    level = peak = 0
    for _, delta in events:
        level += delta
        peak = max(peak, level)
    return peak


def _why(
    cand: Candidate, ld: LegalDates, first_day: date, basal: bool, result: Outcome, minute: int
) -> str:
    parts: list[str] = []
    if cand.on_time:
        margin = (ld.deadline - cand.day).days
        parts.append(
            f"on time ({margin} day{'s' if margin != 1 else ''} before the deadline)"
            if margin
            else "on time (on the deadline day)"
        )
    else:
        late = f"{cand.lateness_days} day{'s' if cand.lateness_days != 1 else ''} late"
        right = ", frit valg" if result is Outcome.LATE_FREE_CHOICE else ", no frit valg"
        parts.append(f"{late}: no on-time slot is free{right}")
    parts.append(
        "the first day with a free slot"
        if cand.day == first_day
        else f"{(cand.day - first_day).days} days after the first free day"
    )
    if basal:
        parts.append(
            "an avanceret-approved therapist (no basal-only one free earlier)"
            if cand.specialist_on_basal
            else "a basal therapist (specialists kept for avanceret work)"
        )
    if cand.at_home:
        parts.append(f"home visit, {cand.travel} min travel each way")
    hh, mm = divmod(minute + cand.travel, 60)
    parts.append(f"starts {hh:02d}:{mm:02d}")
    return "; ".join(parts)


def propose_slots(
    instance: Instance, referral_id: str, k: int = 5, calendars: Calendars | None = None
) -> list[SlotProposal]:
    """The best `k` first-session options for one referral of `instance`, best first.

    Every existing booking stays in place (a tentative first session of this referral itself is
    released). `calendars` is :func:`index_calendars` of the same instance, for callers that
    propose many times on the same calendars (computed here when not given). Raises
    :class:`UnknownReferralError` for an id not in ``instance.referrals`` and
    :class:`ExcludedReferralError` for a referral the policy sends elsewhere. An empty list
    means no free slot in the planning horizon.
    """
    if k < 1:
        raise ProposalError(f"k must be at least 1, got {k}")
    calendars = calendars if calendars is not None else index_calendars(instance)
    referral = _find(instance, referral_id)
    ref = instance.referrals[referral]
    reason = exclusion(ref, instance.policy)
    if reason is not None:
        raise ExcludedReferralError(f"referral {referral_id!r} is not for this scheduler: {reason}")
    cal = WorkingCalendar(instance.policy)
    ld = legal_dates(ref, instance.policy, cal)
    site_index = {s.id: i for i, s in enumerate(instance.sites)}
    gaps = _gaps(instance, referral, calendars, cal)
    by_index: dict[int, Gap] = {g.index: g for g in gaps}
    cands = candidates_for(instance, referral, ld, gaps, late_days=None)
    room_load = _room_load(calendars, ref.id, site_index)
    basal = ref.level is Level.BASAL

    proposals: list[SlotProposal] = []
    seen: set[tuple[str, date, int]] = set()
    first_day: date | None = None
    # Candidates come in day order and the ranking's first keys are (late, day): rank one day
    # at a time and stop as soon as k options are in.
    for day, day_cands in groupby(cands, key=lambda c: c.day):
        options: list[tuple[tuple[bool, bool, int, int, str], Candidate, int]] = []
        for cand in day_cands:
            gap = by_index[cand.gap]
            therapist_id = instance.therapists[gap.therapist].id
            rooms = instance.sites[gap.site].rooms
            load = room_load.get((gap.site, day), [])
            for start in range(gap.start, gap.end - cand.length + 1, STEP_MINUTES):
                session = start + cand.travel
                if (
                    not cand.at_home
                    and _peak(load, session, session + ref.first_session_minutes) >= rooms
                ):
                    continue
                if (therapist_id, day, start) in seen:
                    continue
                seen.add((therapist_id, day, start))
                key = (cand.specialist_on_basal, cand.travel, start, therapist_id)
                options.append(((not cand.on_time, *key), cand, start))
        if not options:
            continue
        if first_day is None:
            first_day = day
        options.sort(key=lambda o: o[0])
        for _, cand, start in options[: k - len(proposals)]:
            gap = by_index[cand.gap]
            session = start + cand.travel
            result = outcome(day, ld.deadline, ld.free_choice_right)
            proposals.append(
                SlotProposal(
                    rank=len(proposals) + 1,
                    therapist_id=instance.therapists[gap.therapist].id,
                    site_id=instance.sites[gap.site].id,
                    at_home=cand.at_home,
                    start=at_minutes(day, session),
                    end=at_minutes(day, session + ref.first_session_minutes),
                    travel_minutes=cand.travel,
                    outcome=result,
                    deadline=ld.deadline,
                    on_time=cand.on_time,
                    why=_why(cand, ld, first_day, basal, result, start),
                )
            )
        if len(proposals) >= k:
            break
    return proposals
