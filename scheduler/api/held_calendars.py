"""The calendars the server holds for ProposeSlots by reference: ids, versions, memory bound.

A booking system uploads its calendar once (PutCalendar), changes it by deltas (UpdateCalendar)
and asks for proposals naming ``{calendar_id, version}``; the server keeps each version as a
:class:`~scheduler.planning.calendar_index.CalendarIndex`, the form the ranking reads, so a
proposal parses nothing. :class:`HeldCalendars` is that store:

- **Versions** are opaque increasing integers in microseconds: without a journal drawn from one
  counter per store that starts at its creation time, with one allocated by the journal (the
  time, or one more than the calendar's current version). A version is never reused for a
  calendar while it is held or stored, so a client's old version never names other contents.
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
- **Shared, with a store.** Without one, held calendars are in memory only: a restart loses
  them (clients upload again on NOT_FOUND) and each server process holds its own. With a
  :class:`~scheduler.jobs.store.CalendarJournal` (the job store of ``scheduler serve --store``)
  every upload and update is written to it before it is answered, versions are allocated there
  and an update is written only if its base is still the current version there: the store
  serialises a calendar's updates across processes. A process that is asked for a version it
  does not hold rebuilds it from the store (the latest full copy and the updates after it, or
  only the updates after a version it holds) and holds it from then on; so several processes
  behind one port (``scheduler serve --processes N``), and a restarted one, answer for every
  calendar any of them was given. Every ``snapshot_every`` updates a full copy is written, so a
  rebuild never replays a long chain; the store keeps what rebuilds the latest
  ``versions_kept`` versions, and calendars not changed for ``retention_s`` are deleted from it
  (checked at most once a minute, on a write).
"""

from __future__ import annotations

import logging
import threading
import time
import uuid
import weakref
from collections import OrderedDict
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Protocol

from scheduler.api.metrics import Metrics
from scheduler.domain.inputs import id_tag, quote_id
from scheduler.jobs.store import CalendarChain, CalendarJournal, StaleCalendarError, StoreError
from scheduler.planning.calendar_index import CalendarIndex

__all__ = [
    "DEFAULT_CALENDAR_RETENTION_S",
    "DEFAULT_MAX_CALENDARS",
    "DEFAULT_SNAPSHOT_EVERY",
    "DEFAULT_VERSIONS_KEPT",
    "CalendarNotFoundError",
    "HeldCalendars",
    "Replay",
    "VersionNotHeldError",
]

log = logging.getLogger("scheduler.api.held_calendars")

DEFAULT_MAX_CALENDARS = 16
"""Calendars held at once by default; a København week takes about 20 MB, each further version
kept about 0.7 MB (see docs/grpc.md)."""
DEFAULT_VERSIONS_KEPT = 4
"""Versions kept per calendar by default (the current one and the three before it)."""
DEFAULT_CALENDAR_RETENTION_S = 7 * 86400.0
"""How long the store keeps a calendar after its last upload or update, by default."""
DEFAULT_SNAPSHOT_EVERY = 32
"""Updates after which a full copy of the calendar is written to the store."""
_PURGE_EVERY_S = 60.0


class CalendarNotFoundError(LookupError):
    """No calendar with this id is held: never uploaded, or (without a store) evicted or the
    server restarted, or (with one) deleted from it after the retention."""

    def __init__(self, calendar_id: str, *, stored: bool = False) -> None:
        self.calendar_id = calendar_id
        why = (
            "never uploaded, or unchanged past the store's retention"
            if stored
            else "never uploaded, evicted, or the server restarted"
        )
        super().__init__(
            f"no calendar {quote_id(calendar_id)} is held ({why}): upload it with PutCalendar"
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
        # The current version first: a long calendar id must not cut it off the message.
        super().__init__(
            f"the current version is {current}: version {version} of calendar "
            f"{quote_id(calendar_id)} {what}"
        )


class Replay(Protocol):
    """How the store's records become held calendars and back (the service's conversions)."""

    def full(self, payload: bytes) -> CalendarIndex:
        """The calendar of an upload or a snapshot."""
        ...

    def update(self, base: CalendarIndex, payload: bytes) -> CalendarIndex:
        """`base` changed by a stored update."""
        ...

    def snapshot(self, index: CalendarIndex) -> bytes:
        """A full copy of a calendar, as an upload."""
        ...


class _NamedLock:
    """One calendar's lock of one kind (held weakly: gone when no call uses it)."""

    __slots__ = ("__weakref__", "lock")

    def __init__(self) -> None:
        self.lock = threading.Lock()


@dataclass
class _Entry:
    """One held calendar: its versions, oldest first, and the lock its updates take."""

    versions: OrderedDict[int, CalendarIndex]
    updating: threading.Lock = field(default_factory=threading.Lock)

    @property
    def current(self) -> int:
        return next(reversed(self.versions))


def _linked(chain: CalendarChain, held: int | None) -> bool:
    """Whether each row of `chain` was made on the one before it (the first on `held`, unless
    it is a full copy)."""
    previous = held
    for n, row in enumerate(chain.rows):
        if n == 0 and row.full:
            previous = row.version
            continue
        if row.base_version != previous:
            return False
        previous = row.version
    return True


class HeldCalendars:
    """The calendars held by one server process (thread-safe). See the module docstring."""

    def __init__(
        self,
        max_calendars: int = DEFAULT_MAX_CALENDARS,
        versions_kept: int = DEFAULT_VERSIONS_KEPT,
        metrics: Metrics | None = None,
        *,
        journal: CalendarJournal | None = None,
        replay: Replay | None = None,
        retention_s: float = DEFAULT_CALENDAR_RETENTION_S,
        snapshot_every: int = DEFAULT_SNAPSHOT_EVERY,
        clock: Callable[[], float] = time.time,
    ) -> None:
        if max_calendars < 1 or versions_kept < 1 or snapshot_every < 1:
            raise ValueError("max_calendars, versions_kept and snapshot_every must be at least 1")
        if retention_s <= 0:
            raise ValueError("retention_s must be positive")
        if (journal is None) != (replay is None):
            raise ValueError("a journal needs a replay, and a replay a journal")
        self.max_calendars = max_calendars
        self.versions_kept = versions_kept
        self.journal = journal
        """The store the calendars are shared through; None: this process's memory only."""
        self._replay = replay
        self.retention_s = retention_s
        self.snapshot_every = snapshot_every
        self._clock = clock
        self._metrics = metrics
        self._lock = threading.Lock()
        self._entries: OrderedDict[str, _Entry] = OrderedDict()
        self._next_version = time.time_ns() // 1000
        self._named: weakref.WeakValueDictionary[tuple[str, str], _NamedLock] = (
            weakref.WeakValueDictionary()
        )
        self._last_purge = -float("inf")

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
        """The calendar at `version` (marks it recently used), rebuilt from the journal if this
        process does not hold it. Raises :class:`CalendarNotFoundError` or
        :class:`VersionNotHeldError`."""
        with self._lock:
            entry = self._entries.get(calendar_id)
            if entry is not None:
                self._entries.move_to_end(calendar_id)
                index = entry.versions.get(version)
                if index is not None:
                    return index
            if self.journal is None:
                if entry is None:
                    raise CalendarNotFoundError(calendar_id)
                raise VersionNotHeldError(calendar_id, version, entry.current, update=False)
        return self._load(calendar_id, version, update=False)

    # ------------------------------------------------------------------ changing

    @staticmethod
    def new_id() -> str:
        """A fresh calendar id for an upload that names none."""
        return f"cal-{uuid.uuid4().hex[:24]}"

    def put(
        self,
        calendar_id: str,
        index: CalendarIndex,
        payload: bytes | None = None,
        before_write: Callable[[], None] | None = None,
    ) -> int:
        """Hold `index` as the newest version of `calendar_id` (a new calendar, or a full
        replacement of a held one, after any update in progress on it); evicts the least
        recently used calendars beyond the maximum. With a journal, `payload` (the upload, as
        :meth:`Replay.full` reads it) is written to it first. `before_write` is called once
        the calendar's turn has come, just before anything is written or held (it may raise:
        nothing is then). Returns the version."""
        if self.journal is not None:
            if payload is None:
                raise ValueError("a calendar held through a journal needs its payload")
            with self._locked("update", calendar_id):
                if before_write is not None:
                    before_write()
                now = self._clock()
                version = self.journal.calendar_put(
                    calendar_id, payload, now=now, keep=self.versions_kept
                )
                evicted = self._hold(calendar_id, [(version, index)])
            self._evicted(evicted)
            self._maybe_purge(now)
            return version
        while True:
            with self._lock:
                entry = self._entries.get(calendar_id)
                if entry is None:
                    if before_write is not None:
                        before_write()
                    version, evicted = self._insert(calendar_id, _Entry(OrderedDict()), index)
                    break
            with entry.updating, self._lock:
                if self._entries.get(calendar_id) is entry:
                    if before_write is not None:
                        before_write()
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
        payload: bytes | None = None,
    ) -> int:
        """Make the next version of a calendar with `change` applied to `base_version`, which
        must be the current one; updates of one calendar run one at a time (`change` may raise:
        nothing is held then). With a journal, `payload` (the update, as :meth:`Replay.update`
        reads it) is written to it, if the base is still the current version there. Returns the
        new version. Raises :class:`CalendarNotFoundError` (also when the calendar is evicted
        while `change` runs) or :class:`VersionNotHeldError` for a stale base."""
        if self.journal is not None:
            if payload is None:
                raise ValueError("a calendar held through a journal needs its payload")
            return self._update_journal(calendar_id, base_version, change, payload)
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

    def _update_journal(
        self,
        calendar_id: str,
        base_version: int,
        change: Callable[[CalendarIndex], CalendarIndex],
        payload: bytes,
    ) -> int:
        assert self.journal is not None and self._replay is not None
        with self._locked("update", calendar_id):
            base = self._load(calendar_id, base_version, update=True)
            changed = change(base)  # proposals (and rebuilds) go on meanwhile
            now = self._clock()
            try:
                version, updates = self.journal.calendar_update(
                    calendar_id, base_version, payload, now=now, keep=self.versions_kept
                )
            except StaleCalendarError as exc:
                if exc.current == 0:
                    raise CalendarNotFoundError(calendar_id, stored=True) from None
                raise VersionNotHeldError(
                    calendar_id, base_version, exc.current, update=True
                ) from None
            # Written: from here on nothing may fail the call (the client would retry a
            # change that is already made).
            evicted = self._hold(calendar_id, [(version, changed)])
        self._evicted(evicted)
        if updates >= self.snapshot_every:
            try:
                self.journal.calendar_snapshot(calendar_id, version, self._replay.snapshot(changed))
            except StoreError:  # the next update tries again
                log.warning(
                    "calendar snapshot not written: the store failed",
                    extra={"fields": {"calendar_id": id_tag(calendar_id), "version": version}},
                )
        self._maybe_purge(now)
        return version

    # ------------------------------------------------------------------ the journal

    @contextmanager
    def _locked(self, kind: str, calendar_id: str) -> Iterator[None]:
        """One calendar's lock of one kind in this process: ``update`` (uploads and updates,
        one at a time) or ``load`` (rebuilds from the journal, one at a time); a call holding
        the update lock may take the load lock, never the other way round."""
        with self._lock:
            holder = self._named.get((kind, calendar_id))
            if holder is None:
                holder = self._named[(kind, calendar_id)] = _NamedLock()
        with holder.lock:
            yield

    def _held(
        self, calendar_id: str, version: int
    ) -> tuple[CalendarIndex | None, tuple[int, CalendarIndex] | None]:
        """The calendar at `version` if held here (marked recently used), else the newest
        version held here that is older, with its calendar."""
        with self._lock:
            entry = self._entries.get(calendar_id)
            if entry is None:
                return None, None
            self._entries.move_to_end(calendar_id)
            index = entry.versions.get(version)
            if index is not None:
                return index, None
            older = [v for v in entry.versions if v < version]
            return None, (max(older), entry.versions[max(older)]) if older else None

    def _load(self, calendar_id: str, version: int, *, update: bool) -> CalendarIndex:
        """The calendar at `version`, held here or rebuilt from the journal (and held from
        then on); one rebuild of a calendar at a time."""
        assert self.journal is not None and self._replay is not None
        index, _ = self._held(calendar_id, version)
        if index is not None:
            return index
        with self._locked("load", calendar_id):
            index, older = self._held(calendar_id, version)
            if index is not None:
                return index  # another call rebuilt it meanwhile
            held = None if older is None else older[0]
            chain = self.journal.calendar_chain(calendar_id, version, held, keep=self.versions_kept)
            if held is not None and chain.rows and not _linked(chain, held):
                # Not the updates after the version held here (a calendar deleted and
                # uploaded again in between): rebuild from the full copy.
                held = None
                chain = self.journal.calendar_chain(
                    calendar_id, version, None, keep=self.versions_kept
                )
            if not chain.rows:
                if chain.current == 0:
                    raise CalendarNotFoundError(calendar_id, stored=True)
                raise VersionNotHeldError(calendar_id, version, chain.current, update=update)
            if not _linked(chain, held):
                raise StoreError(
                    f"the store's journal of calendar {quote_id(calendar_id)} does not chain "
                    f"up to version {version}"
                )
            rows = chain.rows
            if rows[0].full:
                index = self._replay.full(rows[0].payload)
                rebuilt = [(rows[0].version, index)]
                rows = rows[1:]
            else:  # the updates after the version held here
                assert older is not None
                index = older[1]
                rebuilt = []
            for row in rows:
                index = self._replay.update(index, row.payload)
                rebuilt.append((row.version, index))
            if self._metrics is not None:
                self._metrics.held_rebuilds.inc()
            log.info(
                "held calendar rebuilt from the store",
                extra={
                    "fields": {
                        "calendar_id": id_tag(calendar_id),
                        "version": version,
                        "updates_replayed": len(rows),
                        "from_full_copy": chain.rows[0].full,
                    }
                },
            )
            evicted = self._hold(calendar_id, rebuilt[-self.versions_kept :])
        self._evicted(evicted)
        return index

    def _hold(self, calendar_id: str, indexes: list[tuple[int, CalendarIndex]]) -> list[str]:
        """Hold versions allocated by the journal (in any order); returns the ids evicted."""
        with self._lock:
            entry = self._entries.get(calendar_id)
            if entry is None:
                entry = _Entry(OrderedDict())
            merged = dict(entry.versions)
            merged.update(indexes)
            entry.versions = OrderedDict(sorted(merged.items())[-self.versions_kept :])
            return self._place(calendar_id, entry)

    def _maybe_purge(self, now: float) -> None:
        """Delete the calendars the journal has held unchanged past the retention (at most
        once a minute; a failure is logged, and tried again a minute later)."""
        assert self.journal is not None
        with self._lock:
            if now - self._last_purge < _PURGE_EVERY_S:
                return
            self._last_purge = now
        try:
            purged = self.journal.calendar_purge(now - self.retention_s)
        except StoreError:  # after a write that succeeded: never its call's failure
            log.warning("held calendars not purged: the store failed")
            return
        if purged:
            log.info("held calendars purged from the store", extra={"fields": {"purged": purged}})

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
        return version, self._place(calendar_id, entry)

    def _place(self, calendar_id: str, entry: _Entry) -> list[str]:
        """Under the store's lock: hold `entry` as the most recently used calendar and evict
        the least recently used ones beyond the maximum; returns their ids."""
        self._entries[calendar_id] = entry
        self._entries.move_to_end(calendar_id)
        evicted: list[str] = []
        while len(self._entries) > self.max_calendars:
            old_id, _ = self._entries.popitem(last=False)
            evicted.append(old_id)
        self._report()
        return evicted

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
