"""Print a digest of preparation (every field of every candidate, the cut and kept-tentative
referrals), greedy plan, sure-on-time set, flow bound, leftovers and unbookable reasons per
instance: run with two versions of the code to check they agree.

Usage: python scripts/planning_digest.py INSTANCE.json ... (PYTHONPATH=OTHER_CHECKOUT for the other)
"""

import hashlib
import json
import sys
from pathlib import Path

from scheduler.domain import Instance
from scheduler.planning.bounds import on_time_flow_bound, sure_on_time
from scheduler.planning.greedy import book_leftovers, complete
from scheduler.planning.problem import prepare

for path in sys.argv[1:]:
    inst = Instance.model_validate_json(Path(path).read_text())
    p = prepare(inst)
    plan = complete(p, {})
    s = sure_on_time(p)
    placed = {r: (p.candidates[r][k], st) for r, (k, st) in plan.items()}
    n = book_leftovers(p, placed)
    d = {
        "cands": [
            [
                (
                    c.referral,
                    c.gap,
                    str(c.day),
                    c.at_home,
                    c.travel,
                    c.length,
                    c.on_time,
                    c.lateness_days,
                    c.wait_days,
                    c.citizen_travel,
                    c.specialist_on_basal,
                    c.pinned_start,
                    c.moves_tentative,
                )
                for c in cs
            ]
            for cs in p.candidates
        ],
        "plan": sorted(plan.items()),
        "sure": sorted(s.items()),
        "bound": on_time_flow_bound(p, s),
        "left": sorted((r, c.gap, st) for r, (c, st) in placed.items()),
        "unb": sorted(p.unbookable.items()),
        "crit": sorted(p.critical),
        "cut": p.cut,
        "tent": sorted(p.tentative),
    }
    h = hashlib.sha256(json.dumps(d, default=str).encode()).hexdigest()[:16]
    print(Path(path).name, sum(map(len, p.candidates)), len(plan), len(s), n, len(p.unbookable), h)
