"""When is the on-time count proven, counted from the start of `solve`? (issue #13's target:
within 2 s on the København weeks).

Runs the real solve (in this process, after the instance is read: as the bench counts) and
reports per instance the moment the on-time count first equals its bound (from the progress
events), the moments of the greedy plan, of the improved start plan (if any) and of stage 1's
start, stage 1's own wall time and status, and the whole solve's wall time.

Usage: python scripts/stage1_proof_times.py [--time-limit S] [--workers N] [--repeat N] FILE...
"""

from __future__ import annotations

import argparse
import os
import time
from pathlib import Path

from scheduler.domain import Instance, SolveOptions
from scheduler.planning.solve import Progress, solve


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("paths", nargs="+", type=Path)
    parser.add_argument("--time-limit", type=float, default=10.0)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--repeat", type=int, default=1)
    args = parser.parse_args()
    print("load average", " ".join(f"{x:.2f}" for x in os.getloadavg()))
    print(
        "instance\tgreedy_s\timproved_s\tstage1_from_s\tproven_s\ton_time\tbound\tstage1_s"
        "\tstage1\tparts\twall_s"
    )
    for path in args.paths:
        instance = Instance.model_validate_json(path.read_text(encoding="utf-8"))
        for _ in range(args.repeat):
            began = time.monotonic()
            marks: dict[str, float] = {}

            def progress(
                p: Progress, marks: dict[str, float] = marks, began: float = began
            ) -> None:
                now = time.monotonic() - began
                marks.setdefault(p.stage, now)
                if p.on_time is not None and p.on_time == p.on_time_bound:
                    marks.setdefault("proven", now)

            solution = solve(
                instance,
                SolveOptions(time_limit_s=args.time_limit, workers=args.workers, seed=0),
                on_progress=progress,
            )
            wall = time.monotonic() - began
            st = solution.stats
            first = next((s for s in st.stages if s["stage"] == "on_time"), {})
            proven = marks.get("proven")
            shown = "-" if proven is None else f"{proven:.2f}"
            if proven is None and st.on_time_proven:
                shown = "at end"  # closed by the flow bound after stage 1
            print(
                f"{path.stem}\t{marks.get('greedy', float('nan')):.2f}\t"
                f"{marks.get('improved', float('nan')):.2f}\t"
                f"{marks.get('on_time', float('nan')):.2f}\t"
                f"{shown}\t{st.objective}\t{st.on_time_bound}\t"
                f"{first.get('wall_time_s', '-')}\t{first.get('status', '-')}\t"
                f"{first.get('parts', 1)}\t{wall:.2f}",
                flush=True,
            )


if __name__ == "__main__":
    main()
