"""Candidate first sessions: every free gap a referral's first session fits into.

The optimiser's real decision is "which referral goes into which gap"; a :class:`Candidate` is
one such pair, with what it costs. Who may take a referral and where a session may lie come from
:mod:`scheduler.rules.eligibility`; the gaps from :mod:`scheduler.planning.free_time`.
"""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Iterable, Iterator, Mapping, Sequence
from collections.abc import Set as AbstractSet
from dataclasses import dataclass
from datetime import date

from scheduler.domain import Instance, Level, ObjectiveWeights, Reason, Referral
from scheduler.planning.free_time import Gap
from scheduler.rules.eligibility import competent, qualifies
from scheduler.rules.legal import LegalDates
from scheduler.rules.travel import travel_minutes

__all__ = [
    "Candidate",
    "candidates_for",
    "iter_candidates",
    "latest_gap_days",
    "qualification",
    "time_order",
    "why_unbookable",
]


@dataclass(frozen=True, slots=True)
class Candidate:
    """A possible first session: referral `referral` in gap `gap`, at the site or at home."""

    referral: int
    gap: int
    day: date
    at_home: bool
    travel: int
    """One-way travel minutes of a home visit (0 at a site)."""
    length: int
    """Minutes of the gap it uses: the session, plus travel both ways for a home visit."""
    on_time: bool
    lateness_days: int
    wait_days: int
    """Calendar days from the deadline anchor (discharge or receipt) to the session's day: the
    same wait as the KPIs' (:func:`scheduler.verify.kpis.compute_kpis`)."""
    citizen_travel: int
    """Minutes of the citizen's round trip to the site (0 at home or with no location)."""
    specialist_on_basal: bool
    """A therapist approved for avanceret work spent on a basal referral."""
    pinned_start: int | None = None
    """Set on the candidate that keeps a tentative first session where it is: the start minute
    (travel included) it must use."""
    moves_tentative: bool = False
    """Taking this candidate moves the referral's on-time tentative first session."""

    def tail_cost(self, weights: ObjectiveWeights) -> int:
        """This candidate's part of the last stage's objective (the busiest therapist's load,
        a term of the whole plan, comes on top): waits, travel of therapist and citizen, a
        specialist on basal work, and moving an on-time tentative first session, weighted."""
        return (
            weights.wait_day * self.wait_days
            + weights.travel_minute * (2 * self.travel + self.citizen_travel)
            + weights.specialist_on_basal * int(self.specialist_on_basal)
            + weights.moved_tentative * int(self.moves_tentative)
        )


def time_order(gap: Gap) -> tuple[date, int, int]:
    """The order candidates come in: day, start minute, therapist."""
    return gap.day, gap.start, gap.therapist


def candidates_for(
    instance: Instance,
    referral: int,
    ld: LegalDates,
    gaps: Iterable[Gap],
    late_days: int | None = None,
    *,
    ordered: bool = False,
    qualified: AbstractSet[int] | None = None,
    ignore_unavailable: bool = False,
) -> list[Candidate]:
    """Every gap a referral's first session fits into, as candidates in time order.

    `late_days` keeps only the candidates on the first that many distinct days after the
    deadline (None: all); on-time candidates are always all kept. `ordered` says `gaps` are
    already in :func:`time_order` (then they are not sorted again, and the days before the
    earliest start are skipped by bisection). `qualified` are the therapists (indices) that may
    take the referral, when the caller knows them. `ignore_unavailable` also keeps the days the
    citizen cannot come (to tell why a referral is late, never to book).
    """
    return list(
        iter_candidates(
            instance,
            referral,
            ld,
            gaps,
            late_days,
            ordered=ordered,
            qualified=qualified,
            ignore_unavailable=ignore_unavailable,
        )
    )


def iter_candidates(
    instance: Instance,
    referral: int,
    ld: LegalDates,
    gaps: Iterable[Gap],
    late_days: int | None = None,
    *,
    ordered: bool = False,
    qualified: AbstractSet[int] | None = None,
    ignore_unavailable: bool = False,
) -> Iterator[Candidate]:
    """:func:`candidates_for` one at a time, for callers that stop at the first that suits
    (the travel of each site and the specialty of each therapist are worked out once)."""
    ref = instance.referrals[referral]
    unavailable = set() if ignore_unavailable else set(ref.unavailable_dates)
    chosen = ref.chosen_site_id
    late_seen: list[date] = []
    if qualified is None:
        qualified = {i for i, t in enumerate(instance.therapists) if qualifies(t, ref)}
    in_order: Iterable[Gap]
    if ordered and isinstance(gaps, Sequence):
        first = bisect_left(gaps, ld.earliest_start, key=lambda g: g.day)
        in_order = gaps[first:]
    elif ordered:
        in_order = gaps  # an ordered stream: taken as it comes
    else:
        in_order = sorted(gaps, key=time_order)
    # Per site: None where the referral may not come, else (travel, citizen travel).
    per_site: dict[int, tuple[int, int] | None] = {}
    basal = ref.level is Level.BASAL
    specialist: dict[int, bool] = {}
    earliest, deadline, anchor = ld.earliest_start, ld.deadline, ld.anchor
    for g in in_order:
        if g.therapist not in qualified or g.day < earliest or g.day in unavailable:
            continue
        if g.site in per_site:
            travels = per_site[g.site]
        else:
            travels = per_site[g.site] = _site_travel(instance, ref, g.site, chosen)
        if travels is None:
            continue
        travel, citizen_travel = travels
        length = ref.first_session_minutes + 2 * travel
        if length > g.end - g.start:
            continue
        on_time = g.day <= deadline
        if not on_time and late_days is not None and g.day not in late_seen:
            if len(late_seen) >= late_days:
                return
            late_seen.append(g.day)
        spec = specialist.get(g.therapist)
        if spec is None:
            spec = specialist[g.therapist] = basal and bool(
                instance.therapists[g.therapist].specialties
            )
        yield Candidate(
            referral=referral,
            gap=g.index,
            day=g.day,
            at_home=ref.home_training,
            travel=travel,
            length=length,
            on_time=on_time,
            lateness_days=max(0, (g.day - deadline).days),
            wait_days=(g.day - anchor).days,
            citizen_travel=citizen_travel,
            specialist_on_basal=spec,
        )


def _site_travel(
    instance: Instance, ref: Referral, site_index: int, chosen: str | None
) -> tuple[int, int] | None:
    """(one-way travel of a home visit from the site, the citizen's round trip to it), or None
    where the citizen chose another site."""
    site = instance.sites[site_index]
    if ref.home_training:
        assert ref.location is not None
        return travel_minutes(site.coordinates, ref.location), 0
    if chosen is not None and site.id != chosen:
        return None
    return 0, (2 * travel_minutes(site.coordinates, ref.location) if ref.location else 0)


Qualification = tuple[str, str, str | None, bool]
"""What decides which therapists may take a referral: discipline, level, the avanceret
specialty, home training (see :func:`scheduler.rules.eligibility.qualifies`)."""


def qualification(referral: Referral) -> Qualification:
    """The referral's :data:`Qualification`: referrals that share it share their therapists."""
    specialty = referral.specialty if referral.level is Level.AVANCERET else None
    return referral.discipline.value, referral.level.value, specialty, referral.home_training


def why_unbookable(
    instance: Instance,
    referral: int,
    ld: LegalDates,
    days: Sequence[date],
    gaps: Sequence[Gap],
    latest: Mapping[tuple[int, int], date] | None = None,
) -> tuple[Reason, str]:
    """Why a referral with no candidate at all cannot be booked in the horizon.

    `latest` (see :func:`latest_gap_days`), when the caller has it, answers "is a qualified
    therapist free at the chosen site on or after the earliest start" without scanning `gaps`.
    """
    ref = instance.referrals[referral]
    if not days or ld.earliest_start > days[-1]:
        return (
            Reason.EARLIEST_START_AFTER_HORIZON,
            f"earliest start {ld.earliest_start} is after the horizon",
        )
    same_level = [t for t in instance.therapists if competent(t, ref)]
    if not same_level:
        what = f"{ref.discipline.value}" + (
            f" approved for avanceret {ref.specialty}" if ref.level is Level.AVANCERET else ""
        )
        return Reason.NO_QUALIFIED_THERAPIST, f"no {what} therapist"
    if ref.home_training and not any(t.home_visits for t in same_level):
        return Reason.NO_HOME_VISIT_THERAPIST, "no qualified therapist does home visits"
    if ref.chosen_site_id is not None:
        qualified = {i for i, t in enumerate(instance.therapists) if qualifies(t, ref)}
        if latest is None:
            latest = latest_gap_days(gaps)
        site = next(i for i, s in enumerate(instance.sites) if s.id == ref.chosen_site_id)
        at_site = any(
            (last := latest.get((t, site))) is not None and last >= ld.earliest_start
            for t in qualified
        )
        if not at_site:
            return (
                Reason.CHOSEN_SITE_CLOSED,
                f"no qualified therapist free at chosen site {ref.chosen_site_id} in the horizon",
            )
    return Reason.NO_CAPACITY_IN_HORIZON, "no qualified free slot long enough in the horizon"


def latest_gap_days(gaps: Iterable[Gap]) -> dict[tuple[int, int], date]:
    """Per (therapist, site) index: the last day the therapist has a free gap there."""
    latest: dict[tuple[int, int], date] = {}
    for g in gaps:
        key = (g.therapist, g.site)
        if key not in latest or latest[key] < g.day:
            latest[key] = g.day
    return latest
