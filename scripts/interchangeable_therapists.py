"""How much a decomposition by interchangeable therapists could aggregate (issue #13).

Two therapists are interchangeable for stage 1 when they have the same qualification
(discipline, specialties, home visits) and the same free gaps (day, site, start, end): their
gaps could then be merged into one resource with a larger capacity. Prints per instance the
therapists, their qualification classes, how many therapists have such a twin, and how many
gaps have a twin of the same qualification in another therapist (the symmetry CP-SAT's own
detection would look for).

Usage: python scripts/interchangeable_therapists.py FILE...
"""

from __future__ import annotations

import argparse
from collections import Counter, defaultdict
from pathlib import Path

from scheduler.domain import Instance
from scheduler.planning.problem import prepare


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("paths", nargs="+", type=Path)
    args = parser.parse_args()
    print("instance\ttherapists\tclasses\ttherapists_with_twin\tgaps\tgaps_with_twin")
    for path in args.paths:
        instance = Instance.model_validate_json(path.read_text(encoding="utf-8"))
        problem = prepare(instance)
        gaps_of: dict[int, list[tuple[object, ...]]] = defaultdict(list)
        for gap in problem.gaps:
            gaps_of[gap.therapist].append((gap.day, gap.site, gap.start, gap.end))
        qualification = {
            i: (t.discipline, tuple(sorted(t.specialties)), t.home_visits)
            for i, t in enumerate(instance.therapists)
        }
        whole = Counter(
            (qualification[i], tuple(sorted(gaps_of[i]))) for i in range(len(instance.therapists))
        )
        single = Counter(
            (qualification[g.therapist], g.day, g.site, g.start, g.end) for g in problem.gaps
        )
        print(
            f"{path.stem}\t{len(instance.therapists)}\t{len(set(qualification.values()))}\t"
            f"{sum(n for n in whole.values() if n > 1)}\t{len(problem.gaps)}\t"
            f"{sum(n for n in single.values() if n > 1)}"
        )


if __name__ == "__main__":
    main()
