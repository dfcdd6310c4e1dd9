"""The greedy engine: exact first-free-slot booking, earliest deadline first, and repair.

:class:`FreeTime` tracks what has been booked on top of the staying bookings (per gap the
therapist's new sessions, per site-day the rooms in use) and answers "the first free slot"
exactly, to the minute. On it:

- :func:`edf_order` and :func:`fill_edf`: earliest deadline first, each referral into its
  earliest candidate that still fits: the optimiser's first plan, hint and fallback, and the
  MIP peer's start;
- :func:`complete`: a partial plan made complete and feasible that way;
- :func:`book_leftovers`: referrals left unbooked because their candidates were cut to the first
  late days get the first free time left anywhere in the horizon.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections import defaultdict
from collections.abc import Iterable
from datetime import date

from scheduler.planning.budget import Budget
from scheduler.planning.candidate_lists import fitting, on_time_count
from scheduler.planning.candidates import Candidate, iter_candidates
from scheduler.planning.free_time import Gap
from scheduler.planning.plan import Placed
from scheduler.planning.problem import Problem

__all__ = ["FreeTime", "Plan", "book_leftovers", "complete", "edf_order", "fill_edf"]

Plan = dict[int, tuple[int, int]]
"""Per booked referral index: (candidate index, start minute of its use of the gap)."""


def _full_spans(spans: list[tuple[int, int]], capacity: int) -> list[tuple[int, int]]:
    """The maximal stretches, in time order, where at least `capacity` of `spans` overlap: no
    further session fits there (spans are half-open minutes)."""
    if capacity <= 0:
        return [(-(10**9), 10**9)]
    if len(spans) < capacity:
        return []
    events = sorted([(s, 1) for s, _ in spans] + [(e, -1) for _, e in spans])
    full: list[tuple[int, int]] = []
    level = 0
    for i, (moment, delta) in enumerate(events):
        level += delta
        if level >= capacity and i + 1 < len(events) and events[i + 1][0] > moment:
            nxt = events[i + 1][0]
            if full and full[-1][1] == moment:
                full[-1] = (full[-1][0], nxt)
            else:
                full.append((moment, nxt))
    return full


def _respliced(
    full: list[tuple[int, int]], lo: int, hi: int, inside: list[tuple[int, int]]
) -> list[tuple[int, int]]:
    """`full` (maximal stretches, time order) with its part in [lo, hi) replaced by `inside`
    (the stretches there, within [lo, hi)), touching stretches joined again."""
    pieces = [span for span in full if span[1] <= lo]
    pieces += [(a, lo) for a, b in full if a < lo < b]
    pieces += inside
    pieces += [(hi, b) for a, b in full if a < hi < b]
    pieces += [span for span in full if span[0] >= hi]
    joined: list[tuple[int, int]] = []
    for a, b in sorted(pieces):
        if joined and joined[-1][1] >= a:
            joined[-1] = (joined[-1][0], max(joined[-1][1], b))
        else:
            joined.append((a, b))
    return joined


class FreeTime:
    """What has been booked so far on top of the staying bookings: per gap the therapist's new
    sessions, per site-day the rooms in use. Answers "the first free slot" exactly.

    Per site-day the stretches where every room is taken are kept; a booking or release there
    marks its span as changed, and the next query re-derives them only inside the changed
    stretch (from the spans that meet it, the staying ones found by bisection): the day's
    bookings are sorted once, at its first query. (A trial move that books and releases the
    same span costs one small refresh.)"""

    def __init__(self, problem: Problem) -> None:
        self.problem = problem
        self.in_gap: dict[int, list[tuple[int, int]]] = defaultdict(list)
        self.new_rooms: dict[tuple[int, date], list[tuple[int, int]]] = {}
        """Per site-day: the spans of the sessions booked here at the site (the staying
        bookings' are the problem's `room_load`)."""
        self._staying: dict[tuple[int, date], tuple[list[tuple[int, int]], list[int], int]] = {}
        """Per site-day asked about: the staying spans by start, their starts, the longest."""
        self._full: dict[tuple[int, date], list[tuple[int, int]]] = {}
        self._changed: dict[tuple[int, date], tuple[int, int]] = {}
        """Per site-day with kept full stretches: the stretch that holds every change since."""
        self.left = [g.end - g.start for g in problem.gaps]
        """Per gap index: the minutes not yet taken (an upper bound on its longest free
        stretch)."""

    def minutes_left(self, gap: Gap) -> int:
        """The gap's minutes not yet taken (an upper bound on its longest free stretch)."""
        return self.left[gap.index]

    def rooms_in_use(self, key: tuple[int, date]) -> list[tuple[int, int]]:
        """Every span holding a room at site-day `key`: the staying bookings and the new."""
        return self.problem.room_load.get(key, []) + self.new_rooms.get(key, [])

    def _rooms_full(self, key: tuple[int, date]) -> list[tuple[int, int]]:
        """The stretches of a site-day where every room is taken (cached until a booking)."""
        full = self._full.get(key)
        capacity = self.problem.instance.sites[key[0]].rooms
        if full is None:
            full = self._full[key] = _full_spans(self.rooms_in_use(key), capacity)
        elif (changed := self._changed.pop(key, None)) is not None and capacity > 0:
            # Outside the changed stretch the rooms in use are as they were; inside it they
            # are the spans that meet it, clipped.
            lo, hi = changed
            clipped = [
                (max(s, lo), min(e, hi))
                for s, e in self._staying_meeting(key, lo, hi) + self.new_rooms.get(key, [])
                if s < hi and lo < e
            ]
            full = self._full[key] = _respliced(full, lo, hi, _full_spans(clipped, capacity))
        return full

    def _staying_meeting(self, key: tuple[int, date], lo: int, hi: int) -> list[tuple[int, int]]:
        """The staying spans of site-day `key` that may meet [lo, hi) (a superset: those that
        start from the longest one's length before `lo` until `hi`), found by bisection."""
        known = self._staying.get(key)
        if known is None:
            spans = sorted(self.problem.room_load.get(key, []))
            known = self._staying[key] = (
                spans,
                [s for s, _ in spans],
                max((e - s for s, e in spans), default=0),
            )
        spans, starts, longest = known
        return spans[bisect_left(starts, lo - longest) : bisect_left(starts, hi)]

    def earliest_start(self, cand: Candidate, grid: int | None = None) -> int | None:
        """The earliest minute `cand` can start its use of the gap (travel included), or None.

        With `grid`, only starts on that many minutes' steps from the gap's start are tried; a
        candidate that keeps a tentative session tries its own start only.
        """
        gap: Gap = self.problem.gaps[cand.gap]
        length = cand.length
        if gap.end - gap.start < length:
            return None
        blocked = self.in_gap.get(cand.gap, [])
        # Outside critical gaps rooms cannot run out, whatever is placed: no check needed.
        if not cand.at_home and cand.gap in self.problem.critical:
            full = self._rooms_full((gap.site, gap.day))
            if full:
                lo = bisect_right(full, (gap.start, 10**9)) - 1
                meets = [f for f in full[max(0, lo) :] if f[0] < gap.end]
                blocked = blocked + meets if blocked else meets
        step = grid or 1
        start, last = gap.start, gap.end - length
        if cand.pinned_start is not None:
            # A candidate that keeps a tentative session: its own start or nothing.
            start = last = cand.pinned_start if gap.start <= cand.pinned_start <= last else -1
            if start < 0:
                return None
        while start <= last:
            end = start + length
            clash = max((e for s, e in blocked if s < end and start < e), default=None)
            if clash is None:
                return start
            # No start before the clash ends is free: move past it (onto the grid).
            start += -(-(clash - start) // step) * step
        return None

    def fits_at(self, cand: Candidate, start: int) -> bool:
        """Whether `cand` can use its gap from exactly `start` (travel included): inside the
        gap, at its pinned start if it has one, clear of the sessions booked so far and, in a
        critical gap, of the moments every room at the site is taken."""
        gap: Gap = self.problem.gaps[cand.gap]
        end = start + cand.length
        if start < gap.start or end > gap.end:
            return False
        if cand.pinned_start is not None and start != cand.pinned_start:
            return False
        if any(s < end and start < e for s, e in self.in_gap.get(cand.gap, [])):
            return False
        if not cand.at_home and cand.gap in self.problem.critical:
            full = self._rooms_full((gap.site, gap.day))
            if any(s < end and start < e for s, e in full):
                return False
        return True

    def first_free(self, cands: Iterable[Candidate]) -> tuple[Candidate, int] | None:
        """The first free slot among `cands` (in time order): the earliest day, then the
        earliest minute, then the therapist listed first."""
        best: tuple[int, int, Candidate] | None = None
        day: date | None = None
        for cand in cands:
            if day is not None and cand.day != day:
                break
            start = self.earliest_start(cand)
            if start is None:
                continue
            day = cand.day
            therapist = self.problem.gaps[cand.gap].therapist
            if best is None or (start, therapist) < (best[0], best[1]):
                best = (start, therapist, cand)
        return None if best is None else (best[2], best[0])

    def book(self, cand: Candidate, start: int) -> None:
        """Take the gap time from `start` (travel included) and, at a site, a room."""
        gap = self.problem.gaps[cand.gap]
        span = (start, start + cand.length)
        self.in_gap[cand.gap].append(span)
        self.left[cand.gap] -= cand.length
        if not cand.at_home:
            key = (gap.site, gap.day)
            self.new_rooms.setdefault(key, []).append(span)
            self._change(key, span)

    def release(self, cand: Candidate, start: int) -> None:
        """Give back what :meth:`book` took for `cand` at `start`."""
        gap = self.problem.gaps[cand.gap]
        span = (start, start + cand.length)
        self.in_gap[cand.gap].remove(span)
        self.left[cand.gap] += cand.length
        if not cand.at_home:
            key = (gap.site, gap.day)
            self.new_rooms[key].remove(span)
            self._change(key, span)

    def _change(self, key: tuple[int, date], span: tuple[int, int]) -> None:
        if key not in self._full:
            return  # not asked for yet: made whole on the first query
        known = self._changed.get(key)
        self._changed[key] = (
            span if known is None else (min(known[0], span[0]), max(known[1], span[1]))
        )


def edf_order(problem: Problem, skip: Iterable[int] = ()) -> list[int]:
    """The referrals with candidates, not in `skip`, most urgent first: earliest deadline, then
    fewest candidates (least choice), then instance order."""
    left_out = set(skip)
    return sorted(
        (r for r, cands in enumerate(problem.candidates) if cands and r not in left_out),
        key=lambda r: (problem.dates[r].deadline, len(problem.candidates[r]), r),
    )


def fill_edf(
    problem: Problem,
    free: FreeTime,
    plan: Plan,
    *,
    on_time_only: bool,
    budget: Budget | None = None,
) -> None:
    """Add to `plan`, earliest deadline first, each unplanned referral's earliest candidate
    that still fits exactly (therapist and rooms, via `free`). With `on_time_only`, only
    candidates on or before the deadline are tried. Ends early once `budget` is spent."""
    for r in edf_order(problem, plan):
        if budget is not None and budget.expired():
            return
        cands = problem.candidates[r]
        # A gap with fewer minutes left than the session cannot hold it: passed over before
        # the candidate is made.
        for k in fitting(cands, free.left, on_time_count(cands) if on_time_only else None):
            cand = cands[k]
            start = free.earliest_start(cand)
            if start is not None:
                free.book(cand, start)
                plan[r] = (k, start)
                break


def complete(problem: Problem, plan: Plan, budget: Budget | None = None) -> Plan:
    """`plan` with every referral it leaves out given its earliest fitting candidate, those
    that can still be on time first: a complete, feasible plan (feasible but possibly
    incomplete when `budget` runs out)."""
    free = FreeTime(problem)
    for r, (k, start) in plan.items():
        free.book(problem.candidates[r][k], start)
    out = dict(plan)
    fill_edf(problem, free, out, on_time_only=True, budget=budget)
    fill_edf(problem, free, out, on_time_only=False, budget=budget)
    return out


def book_leftovers(problem: Problem, placed: Placed, budget: Budget | None = None) -> int:
    """Give every referral `placed` leaves unbooked (their candidates were cut to the first
    late days) the first free slot left anywhere in the horizon, rooms checked exactly.
    Updates `placed`; returns how many were booked. Ends early once `budget` is spent."""
    free = FreeTime(problem)
    for cand, start in placed.values():
        free.book(cand, start)
    booked = 0
    for r, cands in enumerate(problem.candidates):
        if r in placed or not cands:
            continue
        if budget is not None and budget.expired():
            break
        qualified, in_order = problem.gaps_for(r)
        ld = problem.dates[r]
        shortest = problem.instance.referrals[r].first_session_minutes
        # Gaps already too full for the session are passed over before any candidate is made.
        first = bisect_left(in_order, ld.earliest_start, key=lambda g: g.day)
        open_gaps = (g for g in in_order[first:] if free.minutes_left(g) >= shortest)
        found = free.first_free(
            iter_candidates(
                problem.instance, r, ld, open_gaps, None, ordered=True, qualified=qualified
            )
        )
        if found is not None:
            free.book(*found)
            placed[r] = found
            booked += 1
    return booked
