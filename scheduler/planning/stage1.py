"""Stage 1 split into independent parts: referrals that share no constrained resource.

Stage 1 (most referrals on time) couples two referrals only through a resource both could use
and that can run out: a free gap whose candidates together do not fit in it (its knapsack), a
gap where sessions get exact minutes (room-critical, or keeping a tentative session), and the
rooms of a site on a day where rooms can run out. PT and OT referrals share no therapist, so
they meet only in rooms; referrals of one discipline whose therapists' gaps never fill up meet
nowhere. :func:`components` finds the connected components of that referral–resource graph
(the same resources :func:`scheduler.planning.model.build_model` constrains), so each can be
solved, and proven, on its own.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from datetime import date

from scheduler.planning.free_time import critical_gaps
from scheduler.planning.problem import Problem

__all__ = ["components"]

Key = tuple[int, int]


def components(problem: Problem, keys: Sequence[Key]) -> list[list[Key]]:
    """`keys` (referral, candidate index) grouped into independent parts of stage 1, largest
    first; each part keeps its keys in the given order."""
    parent: dict[int, int] = {}

    def find(r: int) -> int:
        root = r
        while parent[root] != root:
            root = parent[root]
        while parent[r] != root:
            parent[r], r = root, parent[r]
        return root

    def union(members: list[int]) -> None:
        first = find(members[0])
        for r in members[1:]:
            other = find(r)
            if other != first:
                parent[other] = first

    by_gap: dict[int, list[int]] = defaultdict(list)
    demand: dict[int, int] = defaultdict(int)
    count: dict[int, int] = defaultdict(int)
    site_gaps = []
    pinned: set[int] = set()
    for r, k in keys:
        parent.setdefault(r, r)
        cand = problem.candidates[r][k]
        by_gap[cand.gap].append(r)
        demand[cand.gap] += cand.length
        count[cand.gap] += 1
        if not cand.at_home:
            site_gaps.append(problem.gaps[cand.gap])
        if cand.pinned_start is not None:
            pinned.add(cand.gap)
    critical = critical_gaps(problem.instance, site_gaps, problem.room_load) | pinned
    rooms: dict[tuple[int, date], list[int]] = defaultdict(list)
    for g, members in by_gap.items():
        gap = problem.gaps[g]
        if g in critical or (count[g] > 1 and demand[g] > gap.length):
            union(members)
    for r, k in keys:
        cand = problem.candidates[r][k]
        if cand.gap in critical and not cand.at_home:
            gap = problem.gaps[cand.gap]
            rooms[(gap.site, gap.day)].append(r)
    for members in rooms.values():
        union(members)
    parts: dict[int, list[Key]] = defaultdict(list)
    for key in keys:
        parts[find(key[0])].append(key)
    return sorted(parts.values(), key=len, reverse=True)
