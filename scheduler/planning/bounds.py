"""Bounds and exact reductions of the on-time count, cheap enough to run before any search.

- :func:`sure_on_time`: referrals on time in some optimal plan whatever the others do (an exact
  reduction: stage 1 then decides only the contested ones);
- :func:`on_time_flow_bound`: a max-flow upper bound on the on-time count that holds for the
  full problem (rooms and exact lengths relaxed).
"""

from __future__ import annotations

import heapq
from collections import defaultdict
from collections.abc import Container

from ortools.graph.python import max_flow

from scheduler.planning.candidate_lists import gaps_and_lengths, on_time_count, scan
from scheduler.planning.problem import Problem

__all__ = ["on_time_flow_bound", "sure_on_time"]


def sure_on_time(problem: Problem) -> dict[int, int]:
    """Referrals that are on time in some optimal plan whatever the others do: per referral,
    the candidate (index) that proves it.

    A referral with an on-time candidate in a gap that could hold every on-time candidate
    still competing for it at once (and where rooms cannot run out) can always take that slot
    without displacing anyone, so some plan with the most referrals on time has it there.
    Fixing it frees its other candidates, which can make further gaps uncontested: repeated
    to a fixpoint. Stage 1 then decides only the contested referrals, an exact reduction.

    The passes are those of a plain "repeat until nothing changes" loop over the referrals in
    order, but a referral is looked at again only when the demand on one of its gaps fell since
    it was last looked at (in the same pass if it comes after the referral that freed it, else
    in the next): the same result, in time linear in the candidates times the passes that matter.
    """
    demand: dict[int, int] = defaultdict(int)
    users: dict[int, list[int]] = defaultdict(list)
    for r, cands in enumerate(problem.candidates):
        gap_ids, lengths = gaps_and_lengths(cands, on_time_count(cands))
        for g, length in zip(gap_ids, lengths, strict=True):
            demand[g] += length
            users[g].append(r)
    gaps, critical = problem.gaps, problem.critical
    sure: dict[int, int] = {}
    queue: list[tuple[int, int]] = [(0, r) for r, c in enumerate(problem.candidates) if c]
    queued = {r: 0 for _, r in queue}
    while queue:
        pass_no, r = heapq.heappop(queue)
        if queued.get(r) != pass_no or r in sure:
            continue
        del queued[r]
        cands = problem.candidates[r]
        on_time = on_time_count(cands)
        for k, g, _ in scan(cands, on_time):
            if demand[g] <= gaps[g].length and g not in critical:
                sure[r] = k
                for other, other_gap, other_length in scan(cands, on_time):
                    if other == k:
                        continue
                    demand[other_gap] -= other_length
                    for u in users[other_gap]:
                        if u in sure:
                            continue
                        when = pass_no if u > r else pass_no + 1
                        if u not in queued or queued[u] > when:
                            queued[u] = when
                            heapq.heappush(queue, (when, u))
                break
    return sure


def on_time_flow_bound(problem: Problem, leave_out: Container[int] = ()) -> int:
    """An upper bound on the referrals (outside `leave_out`) that can be on time, from a max
    flow: each referral sends one unit to a gap it could be on time in, and a gap takes at most
    as many sessions as its shortest such candidate fits in it. Rooms and the exact lengths are
    relaxed, so no plan does better; it is cheap even where CP-SAT's own bound is slow to come.
    """
    shortest: dict[int, int] = {}
    arcs: list[tuple[int, int]] = []
    for r, cands in enumerate(problem.candidates):
        if r in leave_out:
            continue
        gap_ids, lengths = gaps_and_lengths(cands, on_time_count(cands))
        for g, length in zip(gap_ids, lengths, strict=True):
            if length < shortest.get(g, 1 << 30):
                shortest[g] = length
            arcs.append((r, g))
    if not arcs:
        return 0
    source, sink, first_referral = 0, 1, 2
    first_gap = first_referral + len(problem.candidates)
    flow = max_flow.SimpleMaxFlow()
    for r in {r for r, _ in arcs}:
        flow.add_arc_with_capacity(source, first_referral + r, 1)
    for r, g in arcs:
        flow.add_arc_with_capacity(first_referral + r, first_gap + g, 1)
    for g, length in shortest.items():
        flow.add_arc_with_capacity(first_gap + g, sink, problem.gaps[g].length // length)
    if flow.solve(source, sink) != flow.OPTIMAL:
        return len({r for r, _ in arcs})
    return int(flow.optimal_flow())
