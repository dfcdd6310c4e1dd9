"""The calendars the server holds for ProposeSlots by reference: ids, versions, memory bound.

A booking system uploads its calendar once (PutCalendar), changes it by deltas (UpdateCalendar)
and asks for proposals naming ``{calendar_id, version}``; the server keeps each version as a
:class:`~scheduler.planning.calendar_index.CalendarIndex`, the form the ranking reads, so a
proposal parses nothing. :class:`HeldCalendars` is that store:

- **Versions** are opaque increasing integers drawn from one counter per store that starts at
  the store's creation time in microseconds: a version is never reused by a server process, nor
  in practice by a restarted one, so a client's old version never names another calendar.
- **Updates** are serialised per calendar (optimistic concurrency): an update names the version
  it was made on, and only the current version may be changed; a stale base is
  :class:`VersionNotHeldError` naming the current version, and the client retries on it. No
  update is lost. Proposals never wait for an update (the versions are never changed).
- **Memory** is bounded: at most ``max_calendars`` calendars (the least recently used one is
  evicted when another is uploaded) and the latest ``versions_kept`` versions of each (older
  ones are dropped: :class:`VersionNotHeldError`). Versions share the days a delta did not
  touch, so a kept version costs about the days it changed. The counts are in the metrics
  (``scheduler_held_calendars``, ``scheduler_held_calendar_versions``,
  ``scheduler_held_bookings``, ``scheduler_held_calendar_evictions_total``) and each eviction is
  logged (the calendar's pseudonymous id only).
- Held calendars are **in memory only**: a restart loses them; clients upload again on
  NOT_FOUND. Each server process holds its own (see docs/grpc.md on several processes).
"""

from __future__ import annotations

import logging
import threading
import time
import uuid
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field

from scheduler.api.metrics import Metrics
from scheduler.domain.inputs import id_tag, quote_id
from scheduler.planning.calendar_index import CalendarIndex

__all__ = [
    "DEFAULT_MAX_CALENDARS",
    "DEFAULT_VERSIONS_KEPT",
    "CalendarNotFoundError",
    "HeldCalendars",
    "VersionNotHeldError",
]

log = logging.getLogger("scheduler.api.held_calendars")

DEFAULT_MAX_CALENDARS = 16
"""Calendars held at once by default; a København week takes about 20 MB, each further version
kept about 0.7 MB (see docs/grpc.md)."""
DEFAULT_VERSIONS_KEPT = 4
"""Versions kept per calendar by default (the current one and the three before it)."""


class CalendarNotFoundError(LookupError):
    """No calendar with this id is held (never uploaded, evicted, or the server restarted)."""

    def __init__(self, calendar_id: str) -> None:
        self.calendar_id = calendar_id
        super().__init__(
            f"no calendar {quote_id(calendar_id)} is held (never uploaded, evicted, or the "
            "server restarted): upload it with PutCalendar"
        )


class VersionNotHeldError(LookupError):
    """The version asked for is not held (too old, or not a version of this calendar), or an
    update's base is not the current version; `current` is the current version."""

    def __init__(self, calendar_id: str, version: int, current: int, *, update: bool) -> None:
        self.calendar_id = calendar_id
        self.version = version
        self.current = current
        self.update = update
        what = (
            "is not the current version: apply the change to the current version"
            if update
            else "is not held (too old, or not a version of this calendar)"
        )
        super().__init__(
            f"version {version} of calendar {quote_id(calendar_id)} {what}; "
            f"the current version is {current}"
        )


@dataclass
class _Entry:
    """One held calendar: its versions, oldest first, and the lock its updates take."""

    versions: OrderedDict[int, CalendarIndex]
    updating: threading.Lock = field(default_factory=threading.Lock)

    @property
    def current(self) -> int:
        return next(reversed(self.versions))


class HeldCalendars:
    """The calendars held by one server process (thread-safe). See the module docstring."""

    def __init__(
        self,
        max_calendars: int = DEFAULT_MAX_CALENDARS,
        versions_kept: int = DEFAULT_VERSIONS_KEPT,
        metrics: Metrics | None = None,
    ) -> None:
        if max_calendars < 1 or versions_kept < 1:
            raise ValueError("max_calendars and versions_kept must be at least 1")
        self.max_calendars = max_calendars
        self.versions_kept = versions_kept
        self._metrics = metrics
        self._lock = threading.Lock()
        self._entries: OrderedDict[str, _Entry] = OrderedDict()
        self._next_version = time.time_ns() // 1000

    # ------------------------------------------------------------------ reading

    def __len__(self) -> int:
        with self._lock:
            return len(self._entries)

    def versions(self, calendar_id: str) -> list[int]:
        """The versions held of a calendar, oldest first (empty if it is not held)."""
        with self._lock:
            entry = self._entries.get(calendar_id)
            return list(entry.versions) if entry is not None else []

    def get(self, calendar_id: str, version: int) -> CalendarIndex:
        """The calendar at `version` (marks it recently used). Raises
        :class:`CalendarNotFoundError` or :class:`VersionNotHeldError`."""
        with self._lock:
            entry = self._entries.get(calendar_id)
            if entry is None:
                raise CalendarNotFoundError(calendar_id)
            self._entries.move_to_end(calendar_id)
            index = entry.versions.get(version)
            if index is None:
                raise VersionNotHeldError(calendar_id, version, entry.current, update=False)
            return index

    # ------------------------------------------------------------------ changing

    @staticmethod
    def new_id() -> str:
        """A fresh calendar id for an upload that names none."""
        return f"cal-{uuid.uuid4().hex[:24]}"

    def put(self, calendar_id: str, index: CalendarIndex) -> int:
        """Hold `index` as the newest version of `calendar_id` (a new calendar, or a full
        replacement of a held one, after any update in progress on it); evicts the least
        recently used calendars beyond the maximum. Returns the version."""
        while True:
            with self._lock:
                entry = self._entries.get(calendar_id)
                if entry is None:
                    version, evicted = self._insert(calendar_id, _Entry(OrderedDict()), index)
                    break
            with entry.updating, self._lock:
                if self._entries.get(calendar_id) is entry:
                    version, evicted = self._insert(calendar_id, entry, index)
                    break
            # evicted while waiting for its update lock: hold it anew
        self._evicted(evicted)
        return version

    def update(
        self,
        calendar_id: str,
        base_version: int,
        change: Callable[[CalendarIndex], CalendarIndex],
    ) -> int:
        """Make the next version of a calendar with `change` applied to `base_version`, which
        must be the current one; updates of one calendar run one at a time (`change` may raise:
        nothing is held then). Returns the new version. Raises :class:`CalendarNotFoundError`
        (also when the calendar is evicted while `change` runs) or
        :class:`VersionNotHeldError` for a stale base."""
        with self._lock:
            entry = self._entries.get(calendar_id)
        if entry is None:
            raise CalendarNotFoundError(calendar_id)
        with entry.updating:
            with self._lock:
                if self._entries.get(calendar_id) is not entry:
                    raise CalendarNotFoundError(calendar_id)
                current = entry.current
                if base_version != current:
                    raise VersionNotHeldError(calendar_id, base_version, current, update=True)
                base = entry.versions[current]
            changed = change(base)  # outside the store's lock: proposals go on meanwhile
            with self._lock:
                if self._entries.get(calendar_id) is not entry:
                    raise CalendarNotFoundError(calendar_id)
                version, evicted = self._insert(calendar_id, entry, changed)
        self._evicted(evicted)
        return version

    def _insert(
        self, calendar_id: str, entry: _Entry, index: CalendarIndex
    ) -> tuple[int, list[str]]:
        """Under the store's lock: add a version (holding the entry if it is new), drop old
        versions, evict the least recently used calendars. Returns the version and the ids
        evicted."""
        self._next_version += 1
        version = self._next_version
        entry.versions[version] = index
        while len(entry.versions) > self.versions_kept:
            entry.versions.popitem(last=False)
        self._entries[calendar_id] = entry
        self._entries.move_to_end(calendar_id)
        evicted: list[str] = []
        while len(self._entries) > self.max_calendars:
            old_id, _ = self._entries.popitem(last=False)
            evicted.append(old_id)
        self._report()
        return version, evicted

    def _evicted(self, evicted: list[str]) -> None:
        """Log and count evictions (outside the store's lock)."""
        for old_id in evicted:
            log.info(
                "held calendar evicted",
                extra={
                    "fields": {"calendar_id": id_tag(old_id), "max_calendars": self.max_calendars}
                },
            )
            if self._metrics is not None:
                self._metrics.held_evictions.inc()

    def _report(self) -> None:
        """Update the gauges (under the store's lock)."""
        if self._metrics is None:
            return
        self._metrics.held_calendars.set(len(self._entries))
        self._metrics.held_versions.set(sum(len(e.versions) for e in self._entries.values()))
        self._metrics.held_bookings.set(
            sum(len(e.versions[e.current].bookings) for e in self._entries.values())
        )
