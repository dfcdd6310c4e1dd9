"""Stage 1 split into independent parts: referrals that share no constrained resource.

Stage 1 (most referrals on time) couples two referrals only through a resource both could use
and that can run out: a free gap whose candidates together do not fit in it (its knapsack), a
gap where sessions get exact minutes (room-critical, or keeping a tentative session), and the
rooms of a site on a day where rooms can run out. PT and OT referrals share no therapist, so
they meet only in rooms; referrals of one discipline whose therapists' gaps never fill up meet
nowhere. :func:`components` finds the connected components of that referral–resource graph
(the same resources :func:`scheduler.planning.model.build_model` constrains), so each can be
solved, and proven, on its own.

:func:`split` uses them before any model is built: a part whose greedy plan already has as
many referrals on time as its max-flow bound (:func:`scheduler.planning.bounds.on_time_flow_bound`
over its referrals) is proven as it stands and keeps its greedy sessions; only the other parts
go to CP-SAT, as one model (CP-SAT searches a model of independent parts as well as the parts
one by one: measured in docs/benchmarks.md). On the København weeks the OT part and often the
whole week close this way, so the on-time count is proven before any search.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Container, Sequence
from dataclasses import dataclass, field
from datetime import date

from scheduler.planning.bounds import on_time_flow_bound
from scheduler.planning.candidate_lists import placement
from scheduler.planning.free_time import critical_gaps
from scheduler.planning.problem import Problem

__all__ = ["Split", "components", "split"]

Key = tuple[int, int]


def components(problem: Problem, keys: Sequence[Key]) -> list[list[Key]]:
    """`keys` (referral, candidate index) grouped into independent parts of stage 1, largest
    first; each part keeps its keys in the given order."""
    return _components(problem, keys)[0]


def _components(problem: Problem, keys: Sequence[Key]) -> tuple[list[list[Key]], set[int]]:
    """The parts and the room-critical gaps of `keys` (as the model computes them)."""
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
    site_gaps = []
    site_keys: list[tuple[int, int]] = []  # (referral, gap) of candidates at a site
    pinned: set[int] = set()
    lists = problem.candidates
    for r, k in keys:
        parent.setdefault(r, r)
        g, length, at_home, keeps = placement(lists[r], k)
        by_gap[g].append(r)
        demand[g] += length
        if not at_home:
            site_gaps.append(problem.gaps[g])
            site_keys.append((r, g))
        if keeps:
            pinned.add(g)
    critical = critical_gaps(problem.instance, site_gaps, problem.room_load) | pinned
    rooms: dict[tuple[int, date], list[int]] = defaultdict(list)
    for g, members in by_gap.items():
        gap = problem.gaps[g]
        if g in critical or (len(members) > 1 and demand[g] > gap.length):
            union(members)
    for r, g in site_keys:
        if g in critical:
            gap = problem.gaps[g]
            rooms[(gap.site, gap.day)].append(r)
    for members in rooms.values():
        union(members)
    parts: dict[int, list[Key]] = defaultdict(list)
    for key in keys:
        parts[find(key[0])].append(key)
    return sorted(parts.values(), key=len, reverse=True), critical


Plan = dict[int, tuple[int, int]]

MAX_CHECKED_PARTS = 64
"""Parts (the largest) whose flow bound is compared with the greedy plan; the rest go to
CP-SAT as they are (each check walks every referral)."""


@dataclass
class Split:
    """Stage 1 after the parts the greedy plan already solves are taken out."""

    open_keys: list[Key]
    """The candidates of the parts left to CP-SAT, in the given order."""
    closed: Plan = field(default_factory=dict)
    """Referrals on time in a solved part: their greedy (candidate, start)."""
    closed_starts: dict[Key, int] = field(default_factory=dict)
    """Of those, the ones in room-critical gaps, with their start minute (the others are
    packed in their gap, as every session outside critical gaps is)."""
    flow: int | None = None
    """The flow bound over every referral not on time for sure (None: not computed)."""
    parts: int = 0
    closed_parts: int = 0


class _Outside(Container[int]):
    def __init__(self, inside: set[int]) -> None:
        self.inside = inside

    def __contains__(self, r: object) -> bool:
        return r not in self.inside


def split(
    problem: Problem,
    keys: Sequence[Key],
    sure: Container[int],
    plan: Plan,
    flow: int | None = None,
) -> Split:
    """Stage 1's candidates `keys` less the parts the greedy `plan` provably solves (its
    on-time count there equals the part's flow bound). `sure` are the referrals on time for
    sure (not in `keys`); `flow`, if known, the flow bound over the others."""
    contested = {
        r: entry
        for r, entry in plan.items()
        if r not in sure and problem.candidates[r][entry[0]].on_time
    }
    if flow is None:
        flow = on_time_flow_bound(problem, sure)
    if len(contested) >= flow:
        # The greedy plan reaches the bound over the whole week: nothing to search.
        parts, critical = _components(problem, keys)
        return _closing(problem, keys, parts, parts, contested, critical, flow)
    parts, critical = _components(problem, keys)
    if len(parts) < 2:
        return Split(list(keys), flow=flow, parts=len(parts))
    closed_parts = []
    for part in parts[:MAX_CHECKED_PARTS]:
        refs = {r for r, _ in part}
        on_time = sum(1 for r in refs if r in contested)
        if on_time >= on_time_flow_bound(problem, _Outside(refs)):
            closed_parts.append(part)
    return _closing(problem, keys, parts, closed_parts, contested, critical, flow)


def _closing(
    problem: Problem,
    keys: Sequence[Key],
    parts: list[list[Key]],
    closed_parts: list[list[Key]],
    contested: Plan,
    critical: set[int],
    flow: int,
) -> Split:
    closed_refs = {r for part in closed_parts for r, _ in part}
    closed = {r: entry for r, entry in contested.items() if r in closed_refs}
    return Split(
        open_keys=[key for key in keys if key[0] not in closed_refs],
        closed=closed,
        closed_starts={
            (r, k): start
            for r, (k, start) in closed.items()
            if problem.candidates[r][k].gap in critical
        },
        flow=flow,
        parts=len(parts),
        closed_parts=len(closed_parts),
    )
