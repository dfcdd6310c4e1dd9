"""Compact candidate lists: a referral's candidates kept as gap indices, made on access.

A 3,100-referral week has about 1.5 million candidates (referral × free gap that fits); as
:class:`~scheduler.planning.candidates.Candidate` objects they cost about 150 bytes each and
most of the preparation's time, while the greedy plan looks at a few hundred thousand and the
models at a fraction. A :class:`CandidateList` keeps only the gap indices (4 bytes each) and
the referral's own facts (its dates, per-site travel, session minutes) and builds a
``Candidate`` when one is asked for, equal to the one
:func:`~scheduler.planning.candidates.candidates_for` would have made in the same place.

:class:`CandidateLists` makes them for :func:`~scheduler.planning.problem.prepare` from a
per-qualification index of the gaps by day, so a referral's list is made from slices of that
index (days, not gaps, are walked in Python for site referrals that choose no site).

The hot loops (the greedy plan, the sure-on-time reduction, the flow bound, the counts the
solve loop sizes its models by) read the gap and length of a candidate without making it:
:func:`on_time_count`, :func:`scan` and :func:`placement`, which also accept a plain list of
candidates.
"""

from __future__ import annotations

from array import array
from bisect import bisect_left
from collections.abc import Iterator, Sequence
from datetime import date
from typing import Any, overload

from scheduler.domain import Instance, Level
from scheduler.planning.candidates import Candidate
from scheduler.planning.free_time import Gap
from scheduler.rules.legal import LegalDates
from scheduler.rules.travel import travel_minutes

__all__ = [
    "CandidateList",
    "CandidateLists",
    "fitting",
    "gaps_and_lengths",
    "on_time_count",
    "placement",
    "scan",
]

_NEVER = 1 << 30
"""A session length no gap has: marks a site the referral may not use."""


class CandidateList(Sequence[Candidate]):
    """One referral's candidates in time order, stored as gap indices.

    Its on-time candidates come first (time order; a kept tentative session is on time and
    comes before all). With `pinned_start` set, the first candidate keeps the referral's
    tentative session at that minute and every other one moves it.
    """

    __slots__ = (
        "_anchor",
        "_deadline",
        "_gaps",
        "_home",
        "_made",
        "_minutes",
        "_specialist",
        "_travel",
        "gap_ids",
        "late_days",
        "on_time",
        "pinned_start",
        "referral",
    )

    def __init__(
        self,
        referral: int,
        gap_ids: array[int],
        gaps: Sequence[Gap],
        dates: LegalDates,
        at_home: bool,
        minutes: int,
        travel: Sequence[tuple[int, int] | None],
        specialist: Sequence[bool],
        on_time: int,
        late_days: int,
        pinned_start: int | None = None,
    ) -> None:
        self.referral = referral
        self.gap_ids = gap_ids
        self._gaps = gaps
        self._deadline = dates.deadline
        self._anchor = dates.anchor
        self._home = at_home
        self._minutes = minutes
        self._travel = travel
        self._specialist = specialist
        self.on_time = on_time
        """How many candidates (the first ones) are on or before the deadline."""
        self.late_days = late_days
        """Distinct days after the deadline among the candidates."""
        self.pinned_start = pinned_start
        self._made: dict[int, Candidate] | None = None
        """The candidates asked for by index so far (a model asks for each several times)."""

    def __len__(self) -> int:
        return len(self.gap_ids)

    @overload
    def __getitem__(self, k: int) -> Candidate: ...

    @overload
    def __getitem__(self, k: slice) -> list[Candidate]: ...

    def __getitem__(self, k: int | slice) -> Candidate | list[Candidate]:
        made = self._made
        if made is not None and type(k) is int and (cand := made.get(k)) is not None:
            return cand  # asked for before: the models ask for each candidate several times
        if isinstance(k, slice):
            return [self._make(i) for i in range(*k.indices(len(self.gap_ids)))]
        if k < 0:
            k += len(self.gap_ids)
        if not 0 <= k < len(self.gap_ids):
            raise IndexError("candidate index out of range")
        made = self._made
        if made is None:
            made = self._made = {}
        elif (cand := made.get(k)) is not None:
            return cand
        cand = made[k] = self._make(k)
        return cand

    def __iter__(self) -> Iterator[Candidate]:
        for k in range(len(self.gap_ids)):
            yield self._make(k)

    def __eq__(self, other: object) -> bool:
        if isinstance(other, Sequence):
            return list(self) == list(other)
        return NotImplemented

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return f"CandidateList(referral={self.referral}, {len(self.gap_ids)} candidates)"

    def length(self, k: int) -> int:
        """Minutes of the gap candidate `k` uses (the session, travel both ways at home)."""
        travel = self._travel[self._gaps[self.gap_ids[k]].site]
        assert travel is not None
        return self._minutes + 2 * travel[0]

    def _make(self, k: int) -> Candidate:
        g = self._gaps[self.gap_ids[k]]
        travel = self._travel[g.site]
        assert travel is not None
        day, deadline = g.day, self._deadline
        pinned = self.pinned_start
        return Candidate(
            referral=self.referral,
            gap=g.index,
            day=day,
            at_home=self._home,
            travel=travel[0],
            length=self._minutes + 2 * travel[0],
            on_time=day <= deadline,
            lateness_days=max(0, (day - deadline).days),
            wait_days=(day - self._anchor).days,
            citizen_travel=travel[1],
            specialist_on_basal=self._specialist[g.therapist],
            pinned_start=pinned if k == 0 else None,
            moves_tentative=pinned is not None and k > 0,
        )

    def keeping(self, k: int, start: int) -> CandidateList:
        """These candidates with, first, candidate `k` kept at minute `start` (a tentative
        session that stays), every other one marked as moving it."""
        ids = array("i", [self.gap_ids[k]])
        ids.extend(self.gap_ids)
        kept = CandidateList.__new__(CandidateList)
        for name in CandidateList.__slots__:
            setattr(kept, name, getattr(self, name))
        kept.gap_ids = ids
        kept._made = None
        kept.on_time = self.on_time + 1
        kept.pinned_start = start
        return kept


def placement(cands: Sequence[Candidate], k: int) -> tuple[int, int, bool, bool]:
    """(gap, length, at home, keeps a tentative session) of candidate `k`, without making it."""
    if isinstance(cands, CandidateList):
        gap = cands.gap_ids[k]
        length = cands._minutes
        if cands._home:
            travel = cands._travel[cands._gaps[gap].site]
            assert travel is not None
            length += 2 * travel[0]
        return gap, length, cands._home, k == 0 and cands.pinned_start is not None
    cand = cands[k]
    return cand.gap, cand.length, cand.at_home, cand.pinned_start is not None


def on_time_count(cands: Sequence[Candidate]) -> int:
    """How many of `cands` are on time (they come first)."""
    if isinstance(cands, CandidateList):
        return cands.on_time
    count = 0
    for c in cands:
        if not c.on_time:
            break
        count += 1
    return count


def scan(cands: Sequence[Candidate], stop: int | None = None) -> Iterator[tuple[int, int, int]]:
    """(index, gap, length) of the first `stop` candidates (all by default), without making
    them."""
    gap_ids, lengths = gaps_and_lengths(cands, stop)
    return zip(range(len(gap_ids)), gap_ids, lengths, strict=True)


def gaps_and_lengths(
    cands: Sequence[Candidate], stop: int | None = None
) -> tuple[Sequence[int], Sequence[int]]:
    """The gaps and lengths of the first `stop` candidates (all by default), without making
    them."""
    end = len(cands) if stop is None else min(stop, len(cands))
    if isinstance(cands, CandidateList):
        ids = cands.gap_ids[:end]
        if not cands._home:
            return ids, [cands._minutes] * end
        gaps, travel, minutes = cands._gaps, cands._travel, cands._minutes
        return ids, [minutes + 2 * travel[gaps[g].site][0] for g in ids]  # type: ignore[index]
    return [c.gap for c in cands[:end]], [c.length for c in cands[:end]]


def fitting(
    cands: Sequence[Candidate], left: Sequence[int], stop: int | None = None
) -> Iterator[int]:
    """The indices, among the first `stop` candidates, of those whose gap has at least their
    length of minutes `left` (per gap index), without making the others."""
    end = len(cands) if stop is None else min(stop, len(cands))
    if isinstance(cands, CandidateList) and not cands._home:
        ids, minutes = cands.gap_ids, cands._minutes
        for k in range(end):
            if left[ids[k]] >= minutes:
                yield k
        return
    gap_ids, lengths = gaps_and_lengths(cands, end)
    for k in range(end):
        if left[gap_ids[k]] >= lengths[k]:
            yield k


class _ClassIndex:
    """The gaps of one qualification, in time order, as indices with their day blocks."""

    __slots__ = ("block_days", "blocks", "ids")

    def __init__(self, in_order: Sequence[Gap]) -> None:
        self.ids = array("i", [g.index for g in in_order])
        self.blocks: list[tuple[date, int, int]] = []
        lo = 0
        for i in range(1, len(in_order) + 1):
            if i == len(in_order) or in_order[i].day != in_order[lo].day:
                self.blocks.append((in_order[lo].day, lo, i))
                lo = i
        self.block_days = [day for day, _, _ in self.blocks]


class CandidateLists:
    """Makes each referral's :class:`CandidateList` for one prepared instance."""

    def __init__(self, instance: Instance, gaps: Sequence[Gap]) -> None:
        self.instance = instance
        self.gaps = gaps
        self._site = [g.site for g in gaps]
        self._length = [g.end - g.start for g in gaps]
        self._specialists = [bool(t.specialties) for t in instance.therapists]
        self._no_specialists = [False] * len(instance.therapists)
        self._index: dict[int, tuple[Sequence[Gap], _ClassIndex]] = {}

    def _class_index(self, in_order: Sequence[Gap]) -> _ClassIndex:
        known = self._index.get(id(in_order))
        if known is None or known[0] is not in_order:
            known = self._index[id(in_order)] = (in_order, _ClassIndex(in_order))
        return known[1]

    def make(
        self, referral: int, dates: LegalDates, in_order: Sequence[Gap], late_days: int | None
    ) -> CandidateList:
        """The referral's candidates among `in_order` (the gaps of its qualification long
        enough for its session, in time order): the same, in the same order, as
        :func:`~scheduler.planning.candidates.candidates_for` with ``ordered=True``."""
        ref = self.instance.referrals[referral]
        sites = self.instance.sites
        minutes = ref.first_session_minutes
        travel: list[tuple[int, int] | None]
        if ref.home_training:
            assert ref.location is not None
            travel = [(travel_minutes(s.coordinates, ref.location), 0) for s in sites]
        else:
            travel = [
                None
                if ref.chosen_site_id is not None and s.id != ref.chosen_site_id
                else (0, 2 * travel_minutes(s.coordinates, ref.location) if ref.location else 0)
                for s in sites
            ]
        need = [_NEVER if t is None else minutes + 2 * t[0] for t in travel]
        filtered = ref.home_training or ref.chosen_site_id is not None
        index = self._class_index(in_order)
        unavailable = set(ref.unavailable_dates)
        deadline = dates.deadline
        ids: array[int] = array("i")
        on_time = late = 0
        site, length = self._site, self._length
        for day, lo, hi in index.blocks[bisect_left(index.block_days, dates.earliest_start) :]:
            if day in unavailable:
                continue
            block: Any = index.ids[lo:hi]
            if filtered:
                block = [g for g in block if need[site[g]] <= length[g]]
                if not block:
                    continue
            if day > deadline:
                if late_days is not None and late >= late_days:
                    break
                late += 1
            else:
                on_time += len(block)
            ids.extend(block)
        basal = ref.level is Level.BASAL
        return CandidateList(
            referral,
            ids,
            self.gaps,
            dates,
            ref.home_training,
            minutes,
            travel,
            self._specialists if basal else self._no_specialists,
            on_time,
            late,
        )
