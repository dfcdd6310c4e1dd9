"""The gRPC servicer of ``scheduler.v1.Scheduler``: converts, delegates to the core, reports.

Every RPC converts its request at the edge (:mod:`scheduler.api.convert`), calls the core
(:func:`scheduler.planning.solve.solve`, :func:`scheduler.planning.propose.rank_slots`,
:func:`scheduler.verify.checker.check_solution`,
:func:`scheduler.verify.validation.validate_instance`) and
converts the answer back. Error contract:

- an invalid request is ``INVALID_ARGUMENT`` carrying a google.rpc ``BadRequest`` with every field
  violation (instance problems of severity *error* included), never a stack trace;
- more concurrent solves than configured is ``RESOURCE_EXHAUSTED`` (a non-blocking semaphore);
- anything unexpected is ``INTERNAL`` with a fixed message; the log gets the exception's type and
  place, not its message (which could quote request data).

Deadlines and cancellation: a solve's time limit is the smaller of the request's and the call's
remaining time minus a safety margin (see :func:`solve_time_limit`), so a short deadline returns
the best solution found, marked not proven. If the call ends anyway (the client cancels, the
deadline passes, the server shuts down), the solve's ``stop`` event is set and CP-SAT stops.

ProposeSlots does not convert the whole instance: it reads the referral, the policy, the sites,
the therapists and, day by day as the ranking needs them, the qualified therapists' rosters and
the bookings (:func:`scheduler.api.calendars.calendars_from_proto`), and checks what it reads. A
København week costs a few milliseconds per call, whether or not the server has seen the
calendars before, so there is no cache.
"""

from __future__ import annotations

import functools
import logging
import queue
import threading
import time
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any, Protocol, TypeVar

import grpc
from google.rpc import code_pb2, status_pb2
from grpc_status import rpc_status

from scheduler.api.calendars import calendars_from_proto
from scheduler.api.convert import (
    instance_from_proto,
    kpis_to_proto,
    legal_dates_to_proto,
    options_from_proto,
    progress_to_proto,
    proposal_to_proto,
    referral_from_proto,
    solution_from_proto,
    solution_to_proto,
)
from scheduler.api.errors import ConversionError, FieldViolation, bad_request
from scheduler.domain import Instance, Referral, Solution, SolveOptions
from scheduler.jobs.store import RequestConflictError
from scheduler.planning.propose import (
    Calendars,
    ExcludedReferralError,
    UnknownReferralError,
    rank_slots,
)
from scheduler.planning.solve import Progress, solve
from scheduler.rules.calendar import WorkingCalendar
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
    "MIN_SOLVE_S",
    "SAFETY_MARGIN_S",
    "SchedulerService",
    "SolveFn",
    "solve_time_limit",
]

log = logging.getLogger("scheduler.api.service")

DEFAULT_K = 5
"""Proposals returned when a request leaves k at 0."""
MAX_K = 50
"""Most proposals one request may ask for."""
SAFETY_MARGIN_S = 0.5
"""Time kept back from the call's deadline for converting and sending the answer (at most a
quarter of the time left)."""
MIN_SOLVE_S = 0.05
"""The shortest time limit a solve is given."""

if TYPE_CHECKING:
    from google.longrunning import operations_proto_pb2 as lro

    from scheduler.api.operations import OperationsService

_R = TypeVar("_R")


class SolveFn(Protocol):
    """The signature of :func:`scheduler.planning.solve.solve`."""

    def __call__(
        self,
        instance: Instance,
        options: SolveOptions | None = ...,
        on_progress: Callable[[Progress], None] | None = ...,
        stop: threading.Event | None = ...,
    ) -> Solution: ...


def solve_time_limit(requested_s: float, remaining_s: float | None) -> float:
    """The solve's time limit: the requested one, cut to fit the call's remaining time.

    `remaining_s` is ``context.time_remaining()`` (None without a deadline). The margin kept for
    converting and sending the answer is :data:`SAFETY_MARGIN_S`, or a quarter of the time left
    when that is less; the limit is never below :data:`MIN_SOLVE_S`.
    """
    if remaining_s is None:
        return requested_s
    margin = min(SAFETY_MARGIN_S, remaining_s / 4)
    return max(MIN_SOLVE_S, min(requested_s, remaining_s - margin))


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
                FieldViolation("referral.id", f"differs from referral_id {request.referral_id!r}")
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
                    f"instance.referrals[{i}]({referral_id})",
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


def _counts(instance: Instance) -> dict[str, int]:
    """What the log may say about an instance: counts only."""
    return {
        "sites": len(instance.sites),
        "therapists": len(instance.therapists),
        "bookings": len(instance.bookings),
        "referrals": len(instance.referrals),
    }


def _status_code(context: grpc.ServicerContext) -> grpc.StatusCode | None:
    """The code set on the call so far, None if none (grpc-stubs lacks ``code()``)."""
    code: grpc.StatusCode | None = context.code()  # type: ignore[attr-defined]
    return code


def _aborted(context: grpc.ServicerContext) -> bool:
    return _status_code(context) not in (None, grpc.StatusCode.OK)


def _log_rpc(
    method: str, context: grpc.ServicerContext, started: float, fields: dict[str, Any]
) -> None:
    log.info(
        "rpc",
        extra={
            "fields": {
                "method": method,
                "code": (_status_code(context) or grpc.StatusCode.OK).name,
                "duration_ms": round((time.perf_counter() - started) * 1000, 1),
                **fields,
            }
        },
    )


def _log_internal(method: str, exc: BaseException) -> None:
    tb = exc.__traceback__
    while tb is not None and tb.tb_next is not None:
        tb = tb.tb_next
    where = f"{tb.tb_frame.f_code.co_filename}:{tb.tb_lineno}" if tb is not None else "?"
    log.error(
        "internal error",
        extra={"fields": {"method": method, "error_type": type(exc).__name__, "at": where}},
    )


def _unary(
    method: Callable[[SchedulerService, Any, grpc.ServicerContext, dict[str, Any]], _R],
) -> Callable[[SchedulerService, Any, grpc.ServicerContext], _R]:
    """Wrap a unary handler: rejections become statuses, surprises INTERNAL, every call logged."""

    @functools.wraps(method)
    def handler(self: SchedulerService, request: Any, context: grpc.ServicerContext) -> _R:
        started = time.perf_counter()
        fields: dict[str, Any] = {}
        try:
            return method(self, request, context, fields)
        except _Rejected as rejected:
            context.abort_with_status(rpc_status.to_status(rejected.status))
        except Exception as exc:
            if _aborted(context):
                raise  # an abort already carrying its status
            _log_internal(method.__name__, exc)
            context.abort(grpc.StatusCode.INTERNAL, "internal error")
        finally:
            _log_rpc(method.__name__, context, started, fields)

    return handler


def _streaming(
    method: Callable[[SchedulerService, Any, grpc.ServicerContext, dict[str, Any]], Iterator[_R]],
) -> Callable[[SchedulerService, Any, grpc.ServicerContext], Iterator[_R]]:
    """As :func:`_unary`, for a server-streaming handler."""

    @functools.wraps(method)
    def handler(
        self: SchedulerService, request: Any, context: grpc.ServicerContext
    ) -> Iterator[_R]:
        started = time.perf_counter()
        fields: dict[str, Any] = {}
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
        finally:
            _log_rpc(method.__name__, context, started, fields)

    return handler


class SchedulerService(scheduler_pb2_grpc.SchedulerServicer):
    """Implements ``scheduler.v1.Scheduler``.

    `max_concurrent_solves` bounds Optimize/OptimizeStream calls running at once (more get
    RESOURCE_EXHAUSTED). `solve_fn` is the solver (tests may pass another with the same
    signature).
    """

    def __init__(
        self,
        max_concurrent_solves: int = 1,
        *,
        solve_fn: SolveFn = solve,
        operations: OperationsService | None = None,
    ) -> None:
        if max_concurrent_solves < 1:
            raise ValueError("max_concurrent_solves must be at least 1")
        self.max_concurrent_solves = max_concurrent_solves
        self._solves = threading.BoundedSemaphore(max_concurrent_solves)
        self._solve_fn = solve_fn
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

    def _instance(self, request_instance: pb.Instance, has: bool, path: str) -> Instance:
        if not has:
            raise _invalid([FieldViolation(path, "required")])
        try:
            instance = instance_from_proto(request_instance, path)
        except ConversionError as exc:
            raise _invalid(exc.violations) from None
        return instance

    def _valid_instance(self, request_instance: pb.Instance, has: bool, path: str) -> Instance:
        instance = self._instance(request_instance, has, path)
        violations = _instance_violations(validate_instance(instance), path)
        if violations:
            raise _invalid(violations, "invalid instance")
        return instance

    def _solve(
        self,
        request: pb.OptimizeRequest,
        context: grpc.ServicerContext,
        fields: dict[str, Any],
        stop: threading.Event,
        on_progress: Callable[[Progress], None] | None = None,
    ) -> Solution:
        """Validate, take a solve slot, solve within the deadline, release the slot.

        `stop` ends the solve early; it is also set when the call ends (cancel, deadline) and
        when the server shuts down.
        """
        instance = self._valid_instance(request.instance, request.HasField("instance"), "instance")
        options = SolveOptions()
        if request.HasField("options"):
            try:
                options = options_from_proto(request.options, "options")
            except ConversionError as exc:
                raise _invalid(exc.violations) from None
        fields.update(_counts(instance))
        if not self._solves.acquire(blocking=False):
            raise _status(
                code_pb2.RESOURCE_EXHAUSTED,
                f"the server already runs {self.max_concurrent_solves} solve(s); retry later",
            )
        try:
            with self._lock:
                if self._stopping:
                    raise _status(code_pb2.UNAVAILABLE, "the server is shutting down")
                self._running.add(stop)
            if not context.add_callback(stop.set):
                stop.set()  # the call already ended: nobody waits for an answer
            limit = solve_time_limit(options.time_limit_s, context.time_remaining())
            options = options.model_copy(update={"time_limit_s": limit})
            fields["time_limit_s"] = round(limit, 3)
            solution = self._solve_fn(instance, options, on_progress=on_progress, stop=stop)
            fields.update(
                status=solution.stats.status,
                proven_optimal=solution.stats.proven_optimal,
                on_time=solution.kpis.on_time,
                stopped=stop.is_set(),
            )
            return solution
        finally:
            with self._lock:
                self._running.discard(stop)
            self._solves.release()

    # ------------------------------------------------------------------ RPCs

    @_unary
    def Optimize(
        self, request: pb.OptimizeRequest, context: grpc.ServicerContext, fields: dict[str, Any]
    ) -> pb.OptimizeResponse:
        solution = self._solve(request, context, fields, threading.Event())
        return pb.OptimizeResponse(solution=solution_to_proto(solution))

    @_streaming
    def OptimizeStream(
        self, request: pb.OptimizeRequest, context: grpc.ServicerContext, fields: dict[str, Any]
    ) -> Iterator[pb.OptimizeEvent]:
        # The solver runs in its own thread; its progress events and its result cross to this
        # (the stream's) thread through a queue, so a slow client never blocks CP-SAT.
        events: queue.Queue[tuple[str, Any]] = queue.Queue()
        stop = threading.Event()

        def work() -> None:
            try:
                solution = self._solve(
                    request, context, fields, stop, lambda p: events.put(("progress", p))
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
                    yield pb.OptimizeEvent(solution=solution_to_proto(item))
                    return
                else:
                    raise item
        finally:
            fields["progress_events"] = sent
            stop.set()  # a no-op once the solve is done; stops it if the stream ended early
            worker.join()

    @_unary
    def SubmitOptimize(
        self,
        request: pb.SubmitOptimizeRequest,
        context: grpc.ServicerContext,
        fields: dict[str, Any],
    ) -> lro.Operation:
        if self.operations is None:
            raise _status(
                code_pb2.UNIMPLEMENTED,
                "this server runs without a job store: start it with `scheduler serve --store`",
            )
        if len(request.request_id) > 128:
            raise _invalid([FieldViolation("request_id", "at most 128 characters")])
        instance = self._valid_instance(request.instance, request.HasField("instance"), "instance")
        options = SolveOptions()
        if request.HasField("options"):
            try:
                options = options_from_proto(request.options, "options")
            except ConversionError as exc:
                raise _invalid(exc.violations) from None
        fields.update(_counts(instance))
        try:
            operation = self.operations.submit(instance, options, request.request_id)
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
        if not request.HasField("instance"):
            raise _invalid([FieldViolation("instance", "required")])
        msg = request.instance
        fields.update(
            sites=len(msg.sites),
            therapists=len(msg.therapists),
            bookings=len(msg.bookings),
            referrals=len(msg.referrals),
            referral_id=referral_id,
            k=k,
        )
        referral, calendars = _proposal_inputs(request, referral_id)
        try:
            proposals = rank_slots(calendars, referral, k)
        except ConversionError as exc:  # an unreadable roster entry or booking on a day read
            raise _invalid(exc.violations) from None
        except ExcludedReferralError as exc:
            raise _invalid([FieldViolation("referral_id", str(exc))]) from None
        fields["proposals"] = len(proposals)
        ld = legal_dates(referral, calendars.policy, WorkingCalendar(calendars.policy))
        return pb.ProposeSlotsResponse(
            proposals=[proposal_to_proto(p) for p in proposals], **legal_dates_to_proto(ld)
        )

    @_unary
    def Check(
        self, request: pb.CheckRequest, context: grpc.ServicerContext, fields: dict[str, Any]
    ) -> pb.CheckResponse:
        instance = self._instance(request.instance, request.HasField("instance"), "instance")
        fields.update(_counts(instance))
        problems = validate_instance(instance)
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
