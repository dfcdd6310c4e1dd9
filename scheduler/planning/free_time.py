"""Free time: each therapist's free stretches (gaps) in the horizon, and where rooms can bind.

Existing bookings that stay never move (:func:`scheduler.rules.commitments.staying_bookings`),
so before any solving each therapist's free time is known: per rostered working day, the
windows a session may use (:func:`scheduler.rules.eligibility.session_windows`: the roster
clipped to daytime and the site's opening hours), minus the bookings that stay. Each maximal
free stretch is a :class:`Gap`.

For one therapist in one contiguous gap, a set of sessions fits exactly when their lengths add
up to at most the gap's length (sequence them back to back), so a knapsack per gap is exact.
Rooms only matter in a gap that overlaps a moment where even every gap at the site holding a
session at once, plus the staying bookings, would exceed the rooms (:func:`critical_gaps`);
elsewhere rooms cannot run out whatever is placed.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date

from scheduler.domain import Instance
from scheduler.planning.budget import Budget
from scheduler.rules.calendar import as_minutes
from scheduler.rules.commitments import staying_bookings
from scheduler.rules.eligibility import roster_windows

__all__ = ["Gap", "RoomLoad", "critical_gaps", "free_gaps", "free_stretches"]

RoomLoad = dict[tuple[int, date], list[tuple[int, int]]]
"""Per (site index, day): the (start, end) minutes of staying bookings that occupy a room."""


@dataclass(frozen=True, slots=True)
class Gap:
    """A maximal stretch of a therapist's free rostered time on one day, based at one site."""

    index: int
    therapist: int
    day: date
    site: int
    start: int
    end: int

    @property
    def length(self) -> int:
        return self.end - self.start


def free_stretches(
    window: tuple[int, int], busy: Iterable[tuple[int, int]]
) -> list[tuple[int, int]]:
    """The stretches of `window` (minutes) that no `busy` span covers, in time order."""
    free: list[tuple[int, int]] = []
    cursor, end = window
    for b_start, b_end in sorted(busy):
        if b_end <= cursor:
            continue
        if b_start >= end:
            break
        if b_start > cursor:
            free.append((cursor, b_start))
        cursor = max(cursor, b_end)
    if cursor < end:
        free.append((cursor, end))
    return free


def free_gaps(
    instance: Instance,
    days: Sequence[date],
    site_index: dict[str, int],
    budget: Budget | None = None,
) -> tuple[list[Gap], RoomLoad]:
    """Every therapist's free gaps on `days`, and the room load of the staying bookings.

    Once `budget` is spent the remaining therapists' gaps are left out (the room load is always
    complete): fewer gaps are still true free time, and a spent budget books nothing more (so
    with the budget spent at the start, there are no gaps and no room load at all)."""
    if budget is not None and budget.expired():
        return [], {}
    day_set = set(days)
    busy: dict[tuple[str, date], list[tuple[int, int]]] = defaultdict(list)
    room_load: RoomLoad = defaultdict(list)
    for b in staying_bookings(instance):
        day = b.start.date()
        span = (as_minutes(b.start.time()), as_minutes(b.end.time()))
        busy[(b.therapist_id, day)].append(span)
        if b.site_id is not None and b.site_id in site_index and not b.at_home:
            room_load[(site_index[b.site_id], day)].append(span)
    gaps: list[Gap] = []
    for t_idx, therapist in enumerate(instance.therapists):
        if budget is not None and budget.expired():
            break
        for entry in sorted(therapist.roster, key=lambda e: (e.date, e.start)):
            day = entry.date
            if day not in day_set or therapist.is_absent(day) or entry.site_id not in site_index:
                continue
            s_idx = site_index[entry.site_id]
            for window in roster_windows(instance.policy, instance.sites[s_idx], entry):
                for g_start, g_end in free_stretches(window, busy[(therapist.id, day)]):
                    gaps.append(Gap(len(gaps), t_idx, day, s_idx, g_start, g_end))
    return gaps, dict(room_load)


def critical_gaps(instance: Instance, gaps: Iterable[Gap], room_load: RoomLoad) -> set[int]:
    """The gaps (by index) whose sessions could meet a full site.

    At a moment where the rooms used by staying bookings plus every one of `gaps` that could
    hold a session at the site stay within the rooms, nothing placed can over-use them; only
    gaps that overlap a moment where that count exceeds the rooms need exact minutes and a
    room check. `gaps` are those that may hold a session at a site (not home visits only).
    """
    by_site_day: dict[tuple[int, date], list[Gap]] = defaultdict(list)
    for gap in {g.index: g for g in gaps}.values():
        by_site_day[(gap.site, gap.day)].append(gap)
    critical: set[int] = set()
    for key, members in by_site_day.items():
        rooms = instance.sites[key[0]].rooms
        spans = [(g.start, g.end) for g in members] + room_load.get(key, [])
        if len(spans) <= rooms:
            continue
        events = sorted([(s, 1) for s, _ in spans] + [(e, -1) for _, e in spans])
        over: list[tuple[int, int]] = []
        level = 0
        for i, (moment, delta) in enumerate(events):
            level += delta
            if level > rooms and i + 1 < len(events) and events[i + 1][0] > moment:
                over.append((moment, events[i + 1][0]))
        critical.update(
            g.index for g in members if any(lo < g.end and g.start < hi for lo, hi in over)
        )
    return critical
