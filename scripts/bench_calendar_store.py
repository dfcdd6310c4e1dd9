#!/usr/bin/env python3
"""What sharing held calendars through the store costs (issue 13, item 3): PutCalendar's and
UpdateCalendar's store writes, and a process rebuilding a version it lacks.

    python scripts/bench_calendar_store.py [--profile koebenhavn] [--seed 1] [--updates 40]
                                           [--store PATH|URL]

In one process, on the service's own conversions (:class:`scheduler.api.service.StoredCalendars`):
an upload and `--updates` updates (one booking out and back in, as ``scripts/bench_grpc.py``
sends) through a :class:`~scheduler.api.held_calendars.HeldCalendars` with no store and through
one with a store (SQLite in a temporary folder unless `--store`), the validation every update
runs left out (the same with or without a store); then a second store-backed holder, as
another process would, rebuilding the latest version (from the latest full copy: the upload or
a snapshot, then the updates after it) and catching up by one update on a version it holds.
Prints JSON: milliseconds, best and median of the repeats.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from scheduler.api.convert import instance_to_proto  # noqa: E402
from scheduler.api.held_calendars import HeldCalendars  # noqa: E402
from scheduler.api.service import StoredCalendars  # noqa: E402
from scheduler.bench.generator import generate  # noqa: E402
from scheduler.jobs.store import open_store  # noqa: E402
from scheduler.planning.calendar_index import index_calendar  # noqa: E402
from scheduler.v1 import scheduler_pb2 as pb  # noqa: E402


def _ms(times: list[float]) -> dict[str, float]:
    return {
        "best_ms": round(1000 * min(times), 2),
        "median_ms": round(1000 * statistics.median(times), 2),
        "max_ms": round(1000 * max(times), 2),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--profile", default="koebenhavn")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--updates", type=int, default=40)
    parser.add_argument("--store", help="a store to use (default: SQLite in a temporary folder)")
    args = parser.parse_args()
    instance = generate(args.profile, seed=args.seed)
    msg = instance_to_proto(instance)
    replay = StoredCalendars()
    target = args.store or str(Path(tempfile.mkdtemp(prefix="bench-calendar-store-")) / "s.db")
    stores = [open_store(target), open_store(target)]
    report: dict[str, Any] = {
        "instance": {"profile": args.profile, "seed": args.seed, "bookings": len(msg.bookings)},
        "store": type(stores[0]).__name__,
        "load_average_at_start": [round(x, 2) for x in os.getloadavg()],
    }
    index = index_calendar(instance)
    upload = msg.SerializeToString()
    report["upload_bytes"] = len(upload)

    def updates(
        held: HeldCalendars, version: int, calendar_id: str, count: int
    ) -> tuple[int, list[float]]:
        times = []
        for i in range(count):
            old = msg.bookings[i % len(msg.bookings)]
            request = pb.UpdateCalendarRequest(
                calendar_id=calendar_id,
                base_version=version,
                bookings_removed=[old.id],
                bookings_added=[old],
            )
            wire = request.SerializeToString()
            started = time.perf_counter()
            payload = request.SerializeToString() if held.journal is not None else None
            version = held.update(
                calendar_id, version, lambda base, w=wire: replay.update(base, w), payload
            )
            times.append(time.perf_counter() - started)
        return version, times

    plain = HeldCalendars()
    shared = HeldCalendars(journal=stores[0], replay=replay)
    for name, held in (("no store", plain), ("store", shared)):
        puts = []
        for n in range(3):
            started = time.perf_counter()
            payload = msg.SerializeToString() if held.journal is not None else None
            version = held.put(f"c{n}", index, payload)
            puts.append(time.perf_counter() - started)
        version, times = updates(held, version, "c2", args.updates)
        report[name] = {
            "put_after_indexing": _ms(puts),
            "update_without_validation": _ms(times),
        }
    # Another process: rebuild the current version, then catch up by one update.
    current = stores[0].calendar_chain("c2", version, None, keep=4)
    rebuilds = []
    for _ in range(3):
        other = HeldCalendars(journal=stores[1], replay=replay)
        started = time.perf_counter()
        other.get("c2", version)
        rebuilds.append(time.perf_counter() - started)
    report["rebuild_in_another_process"] = {
        **_ms(rebuilds),
        "updates_replayed": len(current.rows) - 1,
    }
    catch_up = []
    for _ in range(5):
        version, _ = updates(shared, version, "c2", 1)
        started = time.perf_counter()
        other.get("c2", version)
        catch_up.append(time.perf_counter() - started)
    report["catch_up_one_update"] = _ms(catch_up)
    report["load_average_at_end"] = [round(x, 2) for x in os.getloadavg()]
    for store in stores:
        store.close()
    print(json.dumps(report, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
