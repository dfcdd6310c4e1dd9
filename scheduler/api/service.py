"""The gRPC servicer of ``scheduler.v1.Scheduler``: converts, delegates to the core, reports.

Every RPC converts its request at the edge (:mod:`scheduler.api.convert`), calls the core
(:func:`scheduler.planning.solve.solve`, :func:`scheduler.planning.propose.rank_slots`,
:func:`scheduler.verify.checker.check_solution`,
:func:`scheduler.verify.validation.validate_instance`) and
converts the answer back. Error contract:

- an invalid request is ``INVALID_ARGUMENT`` carrying a bounded google.rpc ``BadRequest`` and an
  ``ErrorInfo`` with the total count (:func:`scheduler.api.errors.bad_request`), so the status
  always fits the trailer; never a stack trace;
- ids are quoted in texts only when they are pseudonymous ids of bounded length
  (:func:`scheduler.domain.inputs.quote_id`);
- admission (RESOURCE_EXHAUSTED with ``RetryInfo``), authentication and unparsable requests are
  decided before the request is read, by :class:`scheduler.api.guard.Guard`;
- anything unexpected is ``INTERNAL`` with a fixed message; the log gets the exception's type and
  place, not its message (which could quote request data).

Deadlines and cancellation: one wall-clock budget (:class:`scheduler.planning.budget.Budget`)
starts at the request's arrival (before it is read) and covers conversion, validation and the
whole solve; it ends at the smaller of the requested time limit and the call's deadline minus a
margin for the answer (:func:`answer_margin`: the answer's CPU time by the request's size, times
the pace measured while the request was converted, so a starved process keeps more back), so a
short deadline returns the best plan found, marked not proven, before the deadline. If the call
ends anyway (the client cancels, the deadline passes, the server shuts down), the budget's stop
event is set and every phase stops within a fraction of a second: conversion and validation
too, which then end the call with ``CANCELLED`` (``UNAVAILABLE`` when the server shuts down), or
``DEADLINE_EXCEEDED`` when the deadline left no time to plan after them. The answer's
conversion stops when the call has ended (nobody would read it). The other RPCs that read a
whole instance (Check, PutCalendar, UpdateCalendar, SubmitOptimize) read and check it within
the call's own budget the same way.

ProposeSlots with an inline instance does not convert the whole instance: it reads the
referral, the policy, the sites, the therapists and, day by day as the ranking needs them, the
qualified therapists' rosters and the bookings
(:func:`scheduler.api.calendars.calendars_from_proto`), and checks what it reads; a København
week still costs tens of milliseconds per call, most of it parsing the 0.7 MiB message.
ProposeSlots by reference reads a calendar the server holds (PutCalendar, UpdateCalendar;
:mod:`scheduler.api.held_calendars`), checked in full on upload and after each update with
:func:`~scheduler.verify.validation.validate_instance`, and indexed by day
(:mod:`scheduler.planning.calendar_index`): it parses nothing but the referral. Unknown calendar
ids are ``NOT_FOUND``; versions not held, and updates on a stale version,
``FAILED_PRECONDITION`` naming the current version (:mod:`scheduler.api.errors`).
"""

from __future__ import annotations

import functools
import logging
import queue
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from typing import TYPE_CHECKING, Any, Protocol, TypeVar

import grpc
from google.rpc import code_pb2, status_pb2
from grpc_status import rpc_status

from scheduler.api.calendars import calendars_from_proto
from scheduler.api.convert import (
    booking_from_proto,
    instance_from_proto,
    instance_to_proto,
    kpis_to_proto,
    legal_dates_to_proto,
    options_from_proto,
    progress_to_proto,
    proposal_to_proto,
    referral_from_proto,
    simulation_settings_from_proto,
    solution_from_proto,
    solution_to_proto,
    therapist_from_proto,
)
from scheduler.api.errors import (
    ConversionError,
    FieldViolation,
    bad_request,
    calendar_not_found,
    calendar_version_not_held,
)
from scheduler.api.guard import current_call
from scheduler.api.held_calendars import (
    CalendarNotFoundError,
    HeldCalendars,
    VersionNotHeldError,
)
from scheduler.api.metrics import Metrics
from scheduler.domain import Instance, Referral, Solution, SolveOptions
from scheduler.domain.inputs import id_tag, quotable_id, quote_id
from scheduler.jobs.store import RequestConflictError, StoreError
from scheduler.planning.budget import Budget, BudgetExpired
from scheduler.planning.calendar_index import (
    CalendarDelta,
    CalendarIndex,
    DeltaError,
    index_calendar,
)
from scheduler.planning.propose import (
    Calendars,
    ExcludedReferralError,
    UnknownReferralError,
    rank_slots,
)
from scheduler.planning.solve import Progress, finish_cpu_s, solve
from scheduler.rules.legal import legal_dates
from scheduler.v1 import scheduler_pb2 as pb
from scheduler.v1 import scheduler_pb2_grpc
from scheduler.verify.checker import check_solution
from scheduler.verify.validation import (
    Problem,
    Severity,
    duplicate_id_message,
    unknown_reference,
    validate_instance,
)

__all__ = [
    "DEFAULT_K",
    "MAX_K",
    "SchedulerService",
    "SolveFn",
    "StoredCalendars",
    "answer_margin",
    "solve_budget",
]

log = logging.getLogger("scheduler.api.service")

DEFAULT_K = 5
"""Proposals returned when a request leaves k at 0."""
MAX_K = 50
"""Most proposals one request may ask for."""
ANSWER_CPU_S = 0.1
"""CPU seconds the answer takes whatever its size: the servicer's return, gRPC's serialising and
sending on loopback, the thread hand-overs (measured: a few ms; kept generous)."""
ANSWER_CPU_S_PER_REFERRAL = 3e-4
"""CPU seconds per referral of converting a Solution to its message and serialising it
(measured on a quiet machine with ``scripts/bench_service.py``: København, 340 referrals,
8-54 ms; 1,000 referrals 31 ms; kept twice the largest per referral)."""


def answer_margin(deadline_s: float, referrals: int = 0, pace: float = 1.0) -> float:
    """Time kept back from a call's deadline (`deadline_s` seconds after arrival) for the
    answer of a request of `referrals` referrals: its CPU time (:data:`ANSWER_CPU_S` and
    :data:`ANSWER_CPU_S_PER_REFERRAL`) times the `pace` (wall seconds per CPU second, measured
    by the call's budget: about 1 on a quiet machine, 4 on a 2-core machine at load 8), never
    more than half the deadline. The solve keeps back its own finishing time
    (:func:`scheduler.planning.solve.solve`)."""
    need = pace * (ANSWER_CPU_S + ANSWER_CPU_S_PER_REFERRAL * referrals)
    return min(deadline_s / 2, need)


def call_deadline(arrival: float, now: float, remaining_s: float | None) -> float | None:
    """Seconds from `arrival` to the call's deadline, asked `now` with `remaining_s` left
    (None: no deadline)."""
    return None if remaining_s is None else (now - arrival) + remaining_s


def solve_budget(
    arrival: float,
    now: float,
    remaining_s: float | None,
    stop: threading.Event,
    referrals: int = 0,
    abandon: threading.Event | None = None,
) -> Budget:
    """The budget of a call that arrived at `arrival` (``time.monotonic()``), asked `now` with
    `remaining_s` to its deadline (None: no deadline), for a request of `referrals` referrals:
    it ends :func:`answer_margin` before the deadline (at the pace of a quiet machine; the
    service shortens it once the request's conversion has measured the pace). The requested
    time limit cuts it further in :func:`~scheduler.planning.solve.solve`. `abandon` is set when
    the call has ended (the solve then makes no plan).
    """
    budget = Budget(None, stop=stop, started=arrival, abandon=abandon)
    deadline_s = call_deadline(arrival, now, remaining_s)
    if deadline_s is not None:
        budget.limit_to(deadline_s - answer_margin(deadline_s, referrals))
    return budget


if TYPE_CHECKING:
    from google.longrunning import operations_proto_pb2 as lro

    from scheduler.api.operations import OperationsService

_R = TypeVar("_R")
_T = TypeVar("_T")


class SolveFn(Protocol):
    """The signature of :func:`scheduler.planning.solve.solve`."""

    def __call__(
        self,
        instance: Instance,
        options: SolveOptions | None = ...,
        on_progress: Callable[[Progress], None] | None = ...,
        stop: threading.Event | None = ...,
        budget: Budget | None = ...,
    ) -> Solution: ...


class _Rejected(Exception):
    """Ends an RPC with a status (raised inside handlers, turned into an abort)."""

    def __init__(self, status: status_pb2.Status) -> None:
        super().__init__(status.message)
        self.status = status


def _invalid(violations: list[FieldViolation], summary: str = "invalid request") -> _Rejected:
    return _Rejected(bad_request(violations, summary))


def _status(code: int, message: str) -> _Rejected:
    return _Rejected(status_pb2.Status(code=code, message=message))


def _instance_violations(problems: list[Problem], prefix: str) -> list[FieldViolation]:
    return [
        FieldViolation(f"{prefix}.{p.where}", f"{p.message} [{p.code}]")
        for p in problems
        if p.severity is Severity.ERROR
    ]


def _proposal_referral(
    request: pb.ProposeSlotsRequest, referral_id: str, out: list[FieldViolation]
) -> tuple[Referral | None, str]:
    """The referral to propose for, and its field path: `referral` or one of the instance's."""
    instance = request.instance
    if request.HasField("referral"):
        if request.referral_id and request.referral.id != request.referral_id:
            out.append(
                FieldViolation(
                    "referral.id", f"differs from referral_id {quote_id(request.referral_id)}"
                )
            )
        if any(r.id == referral_id for r in instance.referrals):
            out.append(
                FieldViolation(
                    "referral.id",
                    "already in instance.referrals: send only referral_id, or a new referral",
                )
            )
        at, path = request.referral, "referral"
    else:
        found = [i for i, r in enumerate(instance.referrals) if r.id == referral_id]
        if not found:
            out.append(FieldViolation("referral_id", str(UnknownReferralError(referral_id))))
            return None, ""
        for i in found[1:]:
            out.append(
                FieldViolation(
                    f"instance.referrals[{i}]({id_tag(referral_id)})",
                    f"{duplicate_id_message('referrals', referral_id, found[0])} [duplicate_id]",
                )
            )
        at, path = instance.referrals[found[0]], f"instance.referrals[{found[0]}]"
    try:
        return referral_from_proto(at, path), path
    except ConversionError as exc:
        out += exc.violations
        return None, path


def _proposal_inputs(
    request: pb.ProposeSlotsRequest, referral_id: str
) -> tuple[Referral, Calendars]:
    """The referral and the calendars a proposal reads, every violation found raised at once."""
    out: list[FieldViolation] = []
    referral, path = _proposal_referral(request, referral_id, out)
    calendars: Calendars | None = None
    try:
        calendars = calendars_from_proto(request.instance, "instance")
    except ConversionError as exc:
        out += exc.violations
    if (
        referral is not None
        and referral.chosen_site_id is not None
        and all(s.id != referral.chosen_site_id for s in request.instance.sites)
    ):
        code, message = unknown_reference("site", referral.chosen_site_id)
        out.append(FieldViolation(f"{path}.chosen_site_id", f"{message} [{code}]"))
    if out:
        raise _invalid(out)
    assert referral is not None and calendars is not None
    return referral, calendars


def _held_proposal_inputs(
    request: pb.ProposeSlotsRequest, referral_id: str, held: CalendarIndex
) -> Referral:
    """The referral to propose for on a held calendar: a held one, or `referral` (new)."""
    out: list[FieldViolation] = []
    referral: Referral | None = None
    path = "referral"
    if request.HasField("referral"):
        if request.referral_id and request.referral.id != request.referral_id:
            out.append(
                FieldViolation(
                    "referral.id", f"differs from referral_id {quote_id(request.referral_id)}"
                )
            )
        if referral_id in held.referrals:
            out.append(
                FieldViolation(
                    "referral.id",
                    "already among the calendar's referrals: send only referral_id, or a new "
                    "referral",
                )
            )
        try:
            referral = referral_from_proto(request.referral, path)
        except ConversionError as exc:
            out += exc.violations
    else:
        referral = held.referrals.get(referral_id)
        if referral is None:
            out.append(FieldViolation("referral_id", str(UnknownReferralError(referral_id))))
    if (
        referral is not None
        and referral.chosen_site_id is not None
        and all(s.id != referral.chosen_site_id for s in held.instance.sites)
    ):
        code, message = unknown_reference("site", referral.chosen_site_id)
        out.append(FieldViolation(f"{path}.chosen_site_id", f"{message} [{code}]"))
    if out:
        raise _invalid(out)
    assert referral is not None
    return referral


def _not_held(exc: CalendarNotFoundError | VersionNotHeldError, field: str) -> _Rejected:
    """NOT_FOUND for a calendar not held; FAILED_PRECONDITION for a version not held."""
    tag = exc.calendar_id if quotable_id(exc.calendar_id) else ""
    if isinstance(exc, CalendarNotFoundError):
        return _Rejected(calendar_not_found(str(exc), tag))
    return _Rejected(calendar_version_not_held(str(exc), tag, exc.version, exc.current, field))


def _convert_each(
    messages: Iterable[Any],
    convert: Callable[[Any, str], _T],
    field: str,
    out: list[FieldViolation],
) -> list[_T]:
    """Each message converted (at path ``field[i]``); the problems of all of them added to `out`."""
    converted: list[_T] = []
    for i, msg in enumerate(messages):
        try:
            converted.append(convert(msg, f"{field}[{i}]"))
        except ConversionError as exc:
            out += exc.violations
    return converted


def _delta_from_proto(request: pb.UpdateCalendarRequest) -> CalendarDelta:
    """The change an UpdateCalendar request asks for; every conversion problem raised at once."""
    out: list[FieldViolation] = []
    bookings = _convert_each(request.bookings_added, booking_from_proto, "bookings_added", out)
    therapists = _convert_each(request.therapists, therapist_from_proto, "therapists", out)
    referrals = _convert_each(request.referrals, referral_from_proto, "referrals", out)
    if out:
        raise _invalid(out)
    return CalendarDelta(
        bookings_added=bookings,
        bookings_removed=list(request.bookings_removed),
        therapists=therapists,
        referrals=referrals,
        referrals_removed=list(request.referrals_removed),
    )


def _minimised(sites: Iterable[pb.Site], therapists: Iterable[pb.Therapist]) -> None:
    """Clear, in place, what a held calendar never needs and the store should not keep: the
    therapists' names, their absences' reasons and the sites' addresses (a site's name and
    coordinates, and a referral's home location for home training, are used)."""
    for site in sites:
        site.address = ""
    for therapist in therapists:
        therapist.name = ""
        for absence in therapist.absences:
            absence.reason = ""


class StoredCalendars:
    """:class:`scheduler.api.held_calendars.Replay` for the service: a journal's upload is the
    PutCalendar request's instance message and an update the UpdateCalendar request, both
    checked before they were written."""

    def full(self, payload: bytes) -> CalendarIndex:
        return index_calendar(instance_from_proto(pb.Instance.FromString(payload), "calendar"))

    def update(self, base: CalendarIndex, payload: bytes) -> CalendarIndex:
        return base.apply(_delta_from_proto(pb.UpdateCalendarRequest.FromString(payload)))

    def snapshot(self, index: CalendarIndex) -> bytes:
        return instance_to_proto(index.instance).SerializeToString()


def _calendar_id_checked(calendar_id: str, field: str) -> None:
    """A calendar id that cannot name a held calendar (empty, or not a pseudonymous id) is a bad
    request, not an unknown calendar."""
    if not calendar_id:
        raise _invalid([FieldViolation(field, "required")])
    if not quotable_id(calendar_id):
        raise _invalid(
            [
                FieldViolation(
                    field,
                    "must be a pseudonymous id: at most 64 letters, digits and _.:-, "
                    "never a CPR number",
                )
            ]
        )


def _counts(instance: Instance) -> dict[str, int]:
    """What the log may say about an instance: counts only."""
    return {
        "sites": len(instance.sites),
        "therapists": len(instance.therapists),
        "bookings": len(instance.bookings),
        "referrals": len(instance.referrals),
    }


def _aborted(context: grpc.ServicerContext) -> bool:
    code: grpc.StatusCode | None = context.code()  # type: ignore[attr-defined]
    return code not in (None, grpc.StatusCode.OK)


def _fields() -> dict[str, Any]:
    """The log fields of the call being served (a throwaway dict outside a guarded call)."""
    call = current_call()
    return call.fields if call is not None else {}


def _arrival() -> float:
    """When the call being served arrived (now, outside a guarded call)."""
    call = current_call()
    return call.arrival if call is not None else time.monotonic()


def _answer(solution: Solution, ended: threading.Event) -> pb.Solution:
    """The answer's message; its conversion stops once the call has `ended` (nobody reads it)."""
    try:
        return solution_to_proto(solution, Budget(None, stop=ended))
    except BudgetExpired:
        raise _status(code_pb2.CANCELLED, "the call ended before its answer was sent") from None


def _log_internal(method: str, exc: BaseException) -> None:
    tb = exc.__traceback__
    while tb is not None and tb.tb_next is not None:
        tb = tb.tb_next
    where = f"{tb.tb_frame.f_code.co_filename}:{tb.tb_lineno}" if tb is not None else "?"
    call = current_call()
    log.error(
        "internal error",
        extra={
            "fields": {
                "request_id": call.request_id if call is not None else None,
                "method": method,
                "error_type": type(exc).__name__,
                "at": where,
            }
        },
    )


def _unary(
    method: Callable[[SchedulerService, Any, grpc.ServicerContext, dict[str, Any]], _R],
) -> Callable[[SchedulerService, Any, grpc.ServicerContext], _R]:
    """Wrap a unary handler: rejections become statuses, surprises INTERNAL. The call's log
    line (with `fields`) is written by :class:`scheduler.api.guard.Guard`."""

    @functools.wraps(method)
    def handler(self: SchedulerService, request: Any, context: grpc.ServicerContext) -> _R:
        try:
            return method(self, request, context, _fields())
        except _Rejected as rejected:
            context.abort_with_status(rpc_status.to_status(rejected.status))
        except StoreError as exc:
            log.warning(
                "store unavailable",
                extra={"fields": {"method": method.__name__, "error_type": type(exc).__name__}},
            )
            context.abort(grpc.StatusCode.UNAVAILABLE, "the store is unavailable: retry later")
        except Exception as exc:
            if _aborted(context):
                raise  # an abort already carrying its status
            _log_internal(method.__name__, exc)
            context.abort(grpc.StatusCode.INTERNAL, "internal error")

    return handler


def _streaming(
    method: Callable[[SchedulerService, Any, grpc.ServicerContext, dict[str, Any]], Iterator[_R]],
) -> Callable[[SchedulerService, Any, grpc.ServicerContext], Iterator[_R]]:
    """As :func:`_unary`, for a server-streaming handler."""

    @functools.wraps(method)
    def handler(
        self: SchedulerService, request: Any, context: grpc.ServicerContext
    ) -> Iterator[_R]:
        fields = _fields()
        try:
            yield from method(self, request, context, fields)
        except _Rejected as rejected:
            context.abort_with_status(rpc_status.to_status(rejected.status))
        except GeneratorExit:
            fields["ended"] = "stream closed"
            raise
        except Exception as exc:
            if _aborted(context):
                raise
            _log_internal(method.__name__, exc)
            context.abort(grpc.StatusCode.INTERNAL, "internal error")

    return handler


class SchedulerService(scheduler_pb2_grpc.SchedulerServicer):
    """Implements ``scheduler.v1.Scheduler``.

    How many calls and solves run at once is decided before a request is read, by
    :class:`scheduler.api.guard.Guard`. `solve_fn` is the solver (tests may pass another with
    the same signature); `metrics` records each solve's duration and on-time ratio; `held` is
    the store of calendars held for ProposeSlots by reference (a default-sized one if None).
    """

    def __init__(
        self,
        *,
        solve_fn: SolveFn = solve,
        metrics: Metrics | None = None,
        operations: OperationsService | None = None,
        held: HeldCalendars | None = None,
    ) -> None:
        self._solve_fn = solve_fn
        self.held = held if held is not None else HeldCalendars(metrics=metrics)
        """The calendars held for ProposeSlots by reference."""
        self._metrics = metrics
        self._lock = threading.Lock()
        self._running: set[threading.Event] = set()
        self._stopping = False
        self.operations = operations
        """Where SubmitOptimize stores its jobs; None: the server runs without a job store."""

    # ------------------------------------------------------------------ lifecycle

    @property
    def running_solves(self) -> int:
        """Solves running now."""
        with self._lock:
            return len(self._running)

    def stop_all(self) -> int:
        """Stop every running solve (they return their best plan so far) and refuse new ones.
        Returns how many were running."""
        with self._lock:
            self._stopping = True
            for stop in self._running:
                stop.set()
            return len(self._running)

    # ------------------------------------------------------------------ helpers

    def _call_budget(self, context: grpc.ServicerContext) -> Budget:
        """The budget of a call that reads a whole instance but does not solve: from its
        arrival to its deadline, stopped when the call ends or the server shuts down."""
        arrival = _arrival()
        budget = Budget(None, started=arrival)
        deadline_s = call_deadline(arrival, time.monotonic(), context.time_remaining())
        if deadline_s is not None:
            budget.limit_to(deadline_s)
        if not context.add_callback(budget.stop.set):
            budget.stop.set()
        return budget

    def _ended(self, budget: Budget, what: str) -> _Rejected:
        """The status of a call whose `budget` ended while it was `what` (reading and checking
        the request, ...): no plan exists yet."""
        if self._stopping:
            return _status(code_pb2.UNAVAILABLE, f"the server is shutting down: stopped {what}")
        if budget.stop.is_set():
            return _status(code_pb2.CANCELLED, f"the call ended while {what}")
        return _status(
            code_pb2.DEADLINE_EXCEEDED,
            f"the deadline left no time to answer: its time was spent {what} "
            f"({budget.elapsed():.2f} s since the request arrived); give the call more time",
        )

    def _instance(
        self, request_instance: pb.Instance, has: bool, path: str, budget: Budget
    ) -> Instance:
        if not has:
            raise _invalid([FieldViolation(path, "required")])
        try:
            instance = instance_from_proto(request_instance, path, budget)
        except ConversionError as exc:
            raise _invalid(exc.violations) from None
        except BudgetExpired:
            raise self._ended(budget, "reading the request") from None
        return instance

    def _valid_instance(
        self, request_instance: pb.Instance, has: bool, path: str, budget: Budget
    ) -> Instance:
        instance = self._instance(request_instance, has, path, budget)
        try:
            problems = validate_instance(instance, budget)
        except BudgetExpired:
            raise self._ended(budget, "checking the request") from None
        violations = _instance_violations(problems, path)
        if violations:
            raise _invalid(violations, "invalid instance")
        return instance

    def _solve(
        self,
        request: pb.OptimizeRequest,
        context: grpc.ServicerContext,
        fields: dict[str, Any],
        stop: threading.Event,
        arrival: float,
        ended: threading.Event,
        on_progress: Callable[[Progress], None] | None = None,
    ) -> Solution:
        """Convert, validate and solve within one budget that started at `arrival`.

        `stop` ends the solve early; it is also set when the call ends (cancel, deadline) and
        when the server shuts down. `ended` is set when the call has ended (nobody waits for
        the answer any more).
        """
        remaining = context.time_remaining()
        deadline_s = call_deadline(arrival, time.monotonic(), remaining)
        referrals = len(request.instance.referrals)
        budget = solve_budget(arrival, time.monotonic(), remaining, stop, referrals, ended)
        with self._lock:
            if self._stopping:
                raise _status(code_pb2.UNAVAILABLE, "the server is shutting down")
            self._running.add(stop)
        if self._metrics is not None:
            self._metrics.solves_running.inc()

        def call_ended() -> None:
            ended.set()
            stop.set()

        try:
            if not context.add_callback(call_ended):
                call_ended()  # the call already ended: nobody waits for an answer
            instance = self._valid_instance(
                request.instance, request.HasField("instance"), "instance", budget
            )
            if deadline_s is not None:
                # Converting and validating only computed: their pace says how starved the
                # process is, and the answer will take that many times its CPU time too.
                pace = budget.note_pace()
                budget.limit_to(deadline_s - answer_margin(deadline_s, referrals, pace))
                fields["pace"] = round(pace, 2)
                if budget.remaining() < pace * finish_cpu_s(instance):
                    # Even a plan of nothing but "not searched" would come after the deadline.
                    raise self._ended(budget, "reading and checking the request")
            options = SolveOptions()
            if request.HasField("options"):
                try:
                    options = options_from_proto(request.options, "options")
                except ConversionError as exc:
                    raise _invalid(exc.violations) from None
            fields.update(_counts(instance))
            fields["budget_s"] = round(min(budget.limit_s, options.time_limit_s), 3)
            try:
                solution = self._solve_fn(instance, options, on_progress=on_progress, budget=budget)
            except BudgetExpired:  # the call has ended: the solve made no plan for nobody
                raise self._ended(budget, "planning") from None
            elapsed = budget.elapsed()
            fields.update(
                status=solution.stats.status,
                proven_optimal=solution.stats.proven_optimal,
                on_time=solution.kpis.on_time,
                stopped=stop.is_set(),
                solve_s=round(elapsed, 3),
            )
            if self._metrics is not None:
                self._metrics.observe_solve(
                    solution.stats.status,
                    elapsed,
                    solution.kpis.on_time,
                    solution.kpis.referrals,
                )
            return solution
        finally:
            with self._lock:
                self._running.discard(stop)
            if self._metrics is not None:
                self._metrics.solves_running.dec()

    # ------------------------------------------------------------------ RPCs

    @_unary
    def Optimize(
        self, request: pb.OptimizeRequest, context: grpc.ServicerContext, fields: dict[str, Any]
    ) -> pb.OptimizeResponse:
        ended = threading.Event()
        solution = self._solve(request, context, fields, threading.Event(), _arrival(), ended)
        return pb.OptimizeResponse(solution=_answer(solution, ended))

    @_streaming
    def OptimizeStream(
        self, request: pb.OptimizeRequest, context: grpc.ServicerContext, fields: dict[str, Any]
    ) -> Iterator[pb.OptimizeEvent]:
        # The solver runs in its own thread; its progress events and its result cross to this
        # (the stream's) thread through a queue, so a slow client never blocks CP-SAT.
        events: queue.Queue[tuple[str, Any]] = queue.Queue()
        stop = threading.Event()
        ended = threading.Event()
        arrival = _arrival()

        def work() -> None:
            try:
                solution = self._solve(
                    request,
                    context,
                    fields,
                    stop,
                    arrival,
                    ended,
                    lambda p: events.put(("progress", p)),
                )
                events.put(("solution", solution))
            except BaseException as exc:  # handed to the stream's thread and raised there
                events.put(("error", exc))

        worker = threading.Thread(target=work, name="optimize-stream", daemon=True)
        worker.start()
        sent = 0
        try:
            while True:
                kind, item = events.get()
                if kind == "progress":
                    sent += 1
                    yield pb.OptimizeEvent(progress=progress_to_proto(item))
                elif kind == "solution":
                    yield pb.OptimizeEvent(solution=_answer(item, ended))
                    return
                else:
                    raise item
        finally:
            fields["progress_events"] = sent
            stop.set()  # a no-op once the solve is done; stops it if the stream ended early
            worker.join()

    def _job_operations(self, request_id: str) -> OperationsService:
        """The job store's operations for a submit, after its request id's check: UNIMPLEMENTED
        on a server without a store."""
        if self.operations is None:
            raise _status(
                code_pb2.UNIMPLEMENTED,
                "this server runs without a job store: start it with `scheduler serve --store`",
            )
        if len(request_id) > 128:
            raise _invalid([FieldViolation("request_id", "at most 128 characters")])
        return self.operations

    @_unary
    def SubmitOptimize(
        self,
        request: pb.SubmitOptimizeRequest,
        context: grpc.ServicerContext,
        fields: dict[str, Any],
    ) -> lro.Operation:
        operations = self._job_operations(request.request_id)
        instance = self._valid_instance(
            request.instance, request.HasField("instance"), "instance", self._call_budget(context)
        )
        options = SolveOptions()
        if request.HasField("options"):
            try:
                options = options_from_proto(request.options, "options")
            except ConversionError as exc:
                raise _invalid(exc.violations) from None
        fields.update(_counts(instance))
        try:
            operation = operations.submit(instance, options, request.request_id)
        except RequestConflictError as exc:
            raise _status(code_pb2.ALREADY_EXISTS, str(exc)) from None
        fields["operation"] = operation.name
        return operation

    @_unary
    def SubmitSimulate(
        self,
        request: pb.SubmitSimulateRequest,
        context: grpc.ServicerContext,
        fields: dict[str, Any],
    ) -> lro.Operation:
        operations = self._job_operations(request.request_id)
        try:
            settings = simulation_settings_from_proto(request)
        except ConversionError as exc:
            raise _invalid(exc.violations) from None
        fields.update(profile=settings.profile, weeks=settings.weeks)
        try:
            operation = operations.submit_simulation(settings, request.request_id)
        except RequestConflictError as exc:
            raise _status(code_pb2.ALREADY_EXISTS, str(exc)) from None
        fields["operation"] = operation.name
        return operation

    @_unary
    def ProposeSlots(
        self,
        request: pb.ProposeSlotsRequest,
        context: grpc.ServicerContext,
        fields: dict[str, Any],
    ) -> pb.ProposeSlotsResponse:
        violations: list[FieldViolation] = []
        k = request.k or DEFAULT_K
        if not 1 <= k <= MAX_K:
            violations.append(FieldViolation("k", f"must be 0 (default {DEFAULT_K}) to {MAX_K}"))
        referral_id = request.referral_id or request.referral.id
        if not referral_id:
            violations.append(FieldViolation("referral_id", "required (or a referral)"))
        if violations:
            raise _invalid(violations)
        if request.HasField("calendar"):
            return self._propose_held(request, referral_id, k, fields)
        if not request.HasField("instance"):
            raise _invalid([FieldViolation("instance", "required (or a calendar)")])
        msg = request.instance
        fields.update(
            sites=len(msg.sites),
            therapists=len(msg.therapists),
            bookings=len(msg.bookings),
            referrals=len(msg.referrals),
            referral_id=id_tag(referral_id),
            k=k,
        )
        referral, calendars = _proposal_inputs(request, referral_id)
        ld = legal_dates(referral, calendars.policy, calendars.working_calendar())
        try:
            proposals = rank_slots(calendars, referral, k, ld)
        except ConversionError as exc:  # an unreadable roster entry or booking on a day read
            raise _invalid(exc.violations) from None
        except ExcludedReferralError as exc:
            raise _invalid([FieldViolation("referral_id", str(exc))]) from None
        fields["proposals"] = len(proposals)
        return pb.ProposeSlotsResponse(
            proposals=[proposal_to_proto(p) for p in proposals], **legal_dates_to_proto(ld)
        )

    def _propose_held(
        self, request: pb.ProposeSlotsRequest, referral_id: str, k: int, fields: dict[str, Any]
    ) -> pb.ProposeSlotsResponse:
        """ProposeSlots on a held calendar: nothing parsed but the referral."""
        ref = request.calendar
        _calendar_id_checked(ref.calendar_id, "calendar.calendar_id")
        fields.update(
            calendar_id=id_tag(ref.calendar_id),
            version=ref.version,
            referral_id=id_tag(referral_id),
            k=k,
        )
        try:
            held = self.held.get(ref.calendar_id, ref.version)
        except (CalendarNotFoundError, VersionNotHeldError) as exc:
            raise _not_held(exc, "calendar.version") from None
        referral = _held_proposal_inputs(request, referral_id, held)
        calendars = held.calendars()
        ld = legal_dates(referral, calendars.policy, calendars.working_calendar())
        try:
            proposals = rank_slots(calendars, referral, k, ld)
        except ExcludedReferralError as exc:
            raise _invalid([FieldViolation("referral_id", str(exc))]) from None
        fields["proposals"] = len(proposals)
        return pb.ProposeSlotsResponse(
            proposals=[proposal_to_proto(p) for p in proposals], **legal_dates_to_proto(ld)
        )

    @_unary
    def PutCalendar(
        self,
        request: pb.PutCalendarRequest,
        context: grpc.ServicerContext,
        fields: dict[str, Any],
    ) -> pb.PutCalendarResponse:
        calendar_id = request.calendar_id
        if calendar_id:  # none: the server makes one
            _calendar_id_checked(calendar_id, "calendar_id")
        _minimised(request.instance.sites, request.instance.therapists)
        budget = self._call_budget(context)
        instance = self._valid_instance(
            request.instance, request.HasField("instance"), "instance", budget
        )
        calendar_id = calendar_id or self.held.new_id()
        payload = request.instance.SerializeToString() if self.held.journal is not None else None

        def before_write() -> None:
            if budget.expired():  # waited past the deadline for another write of the calendar
                raise self._ended(budget, "waiting to write the calendar")

        version = self.held.put(calendar_id, index_calendar(instance), payload, before_write)
        fields.update(_counts(instance))
        fields.update(calendar_id=calendar_id, version=version, held_calendars=len(self.held))
        return pb.PutCalendarResponse(calendar_id=calendar_id, version=version)

    @_unary
    def UpdateCalendar(
        self,
        request: pb.UpdateCalendarRequest,
        context: grpc.ServicerContext,
        fields: dict[str, Any],
    ) -> pb.UpdateCalendarResponse:
        fields.update(
            calendar_id=id_tag(request.calendar_id),
            base_version=request.base_version,
            bookings_added=len(request.bookings_added),
            bookings_removed=len(request.bookings_removed),
            therapists_changed=len(request.therapists),
            referrals_changed=len(request.referrals) + len(request.referrals_removed),
        )
        _calendar_id_checked(request.calendar_id, "calendar_id")
        _minimised((), request.therapists)
        delta = _delta_from_proto(request)
        budget = self._call_budget(context)

        def change(base: CalendarIndex) -> CalendarIndex:
            try:
                changed = base.apply(delta)
            except DeltaError as exc:
                raise _invalid([FieldViolation(w, m) for w, m in exc.problems]) from None
            try:
                problems = validate_instance(changed.instance, budget)
            except BudgetExpired:
                raise self._ended(budget, "checking the updated calendar") from None
            violations = _instance_violations(problems, "calendar")
            if violations:
                raise _invalid(violations, "the updated calendar is invalid")
            if budget.expired():  # the client has given up (or waited past its deadline for
                # another update of the calendar): nothing is written that it was not told of
                raise self._ended(budget, "waiting to write the update")
            return changed

        try:
            version = self.held.update(
                request.calendar_id,
                request.base_version,
                change,
                request.SerializeToString() if self.held.journal is not None else None,
            )
        except (CalendarNotFoundError, VersionNotHeldError) as exc:
            raise _not_held(exc, "base_version") from None
        fields["version"] = version
        return pb.UpdateCalendarResponse(version=version)

    @_unary
    def Check(
        self, request: pb.CheckRequest, context: grpc.ServicerContext, fields: dict[str, Any]
    ) -> pb.CheckResponse:
        budget = self._call_budget(context)
        instance = self._instance(
            request.instance, request.HasField("instance"), "instance", budget
        )
        fields.update(_counts(instance))
        try:
            problems = validate_instance(instance, budget)
        except BudgetExpired:
            raise self._ended(budget, "checking the instance") from None
        response = pb.CheckResponse(
            instance_problems=[
                pb.InstanceProblem(
                    severity=p.severity.value, code=p.code, where=p.where, message=p.message
                )
                for p in problems
            ]
        )
        errors = any(p.severity is Severity.ERROR for p in problems)
        ok = not errors
        if request.HasField("solution"):
            try:
                solution = solution_from_proto(request.solution, "solution")
            except ConversionError as exc:
                raise _invalid(exc.violations) from None
            if errors:
                # The rules cannot be checked against calendars that contradict themselves.
                ok = False
            else:
                report = check_solution(instance, solution)
                response.violations.extend(
                    pb.Violation(
                        code=v.code.value,
                        referral_id=v.referral_id,
                        therapist_id=v.therapist_id,
                        site_id=v.site_id,
                        message=v.message,
                    )
                    for v in report.violations
                )
                response.kpi_mismatches.extend(report.kpi_mismatches)
                response.kpis.CopyFrom(kpis_to_proto(report.kpis))
                ok = report.ok
        response.ok = ok
        fields.update(ok=ok, problems=len(problems), violations=len(response.violations))
        return response
