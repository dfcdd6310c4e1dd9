"""The ``google.longrunning.Operations`` servicer over the job store, and jobs as Operations.

A SubmitOptimize job (:mod:`scheduler.jobs`) is the operation ``operations/{job id}``: its
metadata an :class:`OptimizeOperationMetadata` (state, progress, times) packed in ``Any``, its
response the :class:`Solution` packed in ``Any`` once it succeeded, or its error a
``google.rpc.Status`` (CANCELLED for a cancelled job). A SubmitSimulate job is one too, with a
:class:`SimulateOperationMetadata` and a :class:`SimulationResult`.

Error contract as the scheduler service's: an unknown operation is NOT_FOUND, deleting one that
is not done FAILED_PRECONDITION, a malformed name, filter or page token INVALID_ARGUMENT, the
store unreachable UNAVAILABLE, anything else INTERNAL with a fixed message; never a traceback.
"""

from __future__ import annotations

import functools
import json
import logging
import threading
import time
from collections.abc import Callable
from typing import Any, TypeVar

import grpc
from google.longrunning import operations_pb2_grpc
from google.longrunning import operations_proto_pb2 as lro
from google.protobuf import empty_pb2, timestamp_pb2
from google.rpc import code_pb2, status_pb2
from grpc_status import rpc_status

from scheduler.api.convert import (
    progress_to_proto,
    simulation_progress_to_proto,
    simulation_result_to_proto,
    solution_to_proto,
)
from scheduler.domain import Instance, SolveOptions
from scheduler.domain.files import dump_instance, parse_solution
from scheduler.jobs.runner import JobRunner
from scheduler.jobs.store import Job, JobState, JobStore, StoreError
from scheduler.planning.solve import Progress
from scheduler.simulation.settings import SimulationSettings
from scheduler.v1 import scheduler_pb2 as pb

__all__ = [
    "DEFAULT_PAGE_SIZE",
    "MAX_PAGE_SIZE",
    "MAX_REQUEST_ID",
    "OPERATIONS_SERVICE_NAME",
    "OperationsService",
    "job_to_operation",
    "operation_name",
]

OPERATIONS_SERVICE_NAME: str = lro.DESCRIPTOR.services_by_name["Operations"].full_name
"""``google.longrunning.Operations``."""
DEFAULT_PAGE_SIZE = 50
MAX_PAGE_SIZE = 1000
MAX_REQUEST_ID = 128
"""Longest request id a submit may carry."""
_PREFIX = "operations/"
_WAIT_POLL_S = 0.2
_DEFAULT_WAIT_S = 600.0
"""WaitOperation's longest wait without a timeout or deadline."""

_STATES = {
    JobState.QUEUED: pb.OptimizeOperationMetadata.QUEUED,
    JobState.RUNNING: pb.OptimizeOperationMetadata.RUNNING,
    JobState.SUCCEEDED: pb.OptimizeOperationMetadata.SUCCEEDED,
    JobState.FAILED: pb.OptimizeOperationMetadata.FAILED,
    JobState.CANCELLED: pb.OptimizeOperationMetadata.CANCELLED,
}

log = logging.getLogger("scheduler.api.operations")

_R = TypeVar("_R")


def operation_name(job_id: str) -> str:
    return _PREFIX + job_id


def _timestamp(seconds: float | None) -> timestamp_pb2.Timestamp | None:
    if seconds is None:
        return None
    ts = timestamp_pb2.Timestamp()
    ts.FromNanoseconds(round(seconds * 1e9))
    return ts


def _simulate_operation(job: Job) -> lro.Operation:
    settings = SimulationSettings.model_validate_json(job.instance_json)
    metadata = pb.SimulateOperationMetadata(
        state=_STATES[job.state],
        profile=settings.profile,
        weeks=settings.weeks,
        seed=settings.seed,
        strategies=settings.strategies,
        attempts=job.attempts,
        create_time=_timestamp(job.created_at),
        start_time=_timestamp(job.started_at),
        end_time=_timestamp(job.finished_at),
        request_id=job.request_id or "",
    )
    if job.progress_json:
        metadata.progress.CopyFrom(simulation_progress_to_proto(json.loads(job.progress_json)))
    op = lro.Operation(name=operation_name(job.id), done=job.done)
    op.metadata.Pack(metadata)
    if job.state is JobState.SUCCEEDED and job.solution_json is not None:
        op.response.Pack(simulation_result_to_proto(json.loads(job.solution_json)))
    elif job.done:
        op.error.CopyFrom(
            status_pb2.Status(
                code=job.error_code or code_pb2.UNKNOWN, message=job.error_message or ""
            )
        )
    return op


def job_to_operation(job: Job) -> lro.Operation:
    """The job as a google.longrunning.Operation."""
    if job.kind == "simulate":
        return _simulate_operation(job)
    metadata = pb.OptimizeOperationMetadata(
        state=_STATES[job.state],
        instance_name=job.instance_name,
        referrals=job.referrals,
        attempts=job.attempts,
        create_time=_timestamp(job.created_at),
        start_time=_timestamp(job.started_at),
        end_time=_timestamp(job.finished_at),
        request_id=job.request_id or "",
        time_limit_s=SolveOptions.model_validate_json(job.options_json).time_limit_s,
    )
    if job.progress_json:
        metadata.progress.CopyFrom(progress_to_proto(Progress(**json.loads(job.progress_json))))
    op = lro.Operation(name=operation_name(job.id), done=job.done)
    op.metadata.Pack(metadata)
    if job.state is JobState.SUCCEEDED and job.solution_json is not None:
        solution = parse_solution(json.loads(job.solution_json), f"job {job.id} solution")
        op.response.Pack(solution_to_proto(solution))
    elif job.done:
        op.error.CopyFrom(
            status_pb2.Status(
                code=job.error_code or code_pb2.UNKNOWN, message=job.error_message or ""
            )
        )
    return op


class _Rejected(Exception):
    def __init__(self, code: int, message: str) -> None:
        super().__init__(message)
        self.status = status_pb2.Status(code=code, message=message)


def _handler(
    method: Callable[[OperationsService, Any, grpc.ServicerContext], _R],
) -> Callable[[OperationsService, Any, grpc.ServicerContext], _R]:
    """Rejections become statuses, an unreachable store UNAVAILABLE, surprises INTERNAL; every
    call is logged with its operation id, never with request data."""

    @functools.wraps(method)
    def handler(self: OperationsService, request: Any, context: grpc.ServicerContext) -> _R:
        started = time.perf_counter()
        code = "OK"
        try:
            return method(self, request, context)
        except _Rejected as rejected:
            code = code_pb2.Code.Name(rejected.status.code)
            context.abort_with_status(rpc_status.to_status(rejected.status))
        except StoreError:
            code = "UNAVAILABLE"
            context.abort(grpc.StatusCode.UNAVAILABLE, "the job store is unavailable")
        except Exception as exc:
            code = "INTERNAL"
            log.error(
                "internal error",
                extra={"fields": {"method": method.__name__, "error_type": type(exc).__name__}},
            )
            context.abort(grpc.StatusCode.INTERNAL, "internal error")
        finally:
            log.info(
                "rpc",
                extra={
                    "fields": {
                        "method": method.__name__,
                        "code": code,
                        "operation": getattr(request, "name", ""),
                        "duration_ms": round((time.perf_counter() - started) * 1000, 1),
                    }
                },
            )

    return handler


def _job_id(name: str) -> str:
    job_id = name.removeprefix(_PREFIX)
    if not name.startswith(_PREFIX) or not job_id or not job_id.isalnum():
        raise _Rejected(
            code_pb2.INVALID_ARGUMENT, f"name must be 'operations/{{id}}', got {name[:80]!r}"
        )
    return job_id


def _done_filter(text: str) -> bool | None:
    """ListOperations' filter: empty, ``done=true`` or ``done=false``."""
    compact = text.replace(" ", "").lower()
    if not compact:
        return None
    if compact in ("done=true", "done=false"):
        return compact == "done=true"
    raise _Rejected(code_pb2.INVALID_ARGUMENT, "filter must be empty, 'done=true' or 'done=false'")


class OperationsService(operations_pb2_grpc.OperationsServicer):  # type: ignore[misc]
    """Serves the store's jobs as operations; submits wake the local `runner` (if any)."""

    def __init__(self, store: JobStore, runner: JobRunner | None = None) -> None:
        self.store = store
        self.runner = runner
        self._stopping = threading.Event()

    def stop(self) -> None:
        """End the waits in flight (they answer with the operation as it is)."""
        self._stopping.set()

    def submit(self, instance: Instance, options: SolveOptions, request_id: str) -> lro.Operation:
        """Store a validated SubmitOptimize; its operation. Raises
        :class:`scheduler.jobs.store.RequestConflictError` on a reused request id."""
        job, created = self.store.submit(
            dump_instance(instance),
            options.model_dump_json(),
            instance_name=instance.name,
            referrals=len(instance.referrals),
            request_id=request_id or None,
            now=time.time(),
        )
        if created and self.runner is not None:
            self.runner.wake()
        return job_to_operation(job)

    def submit_simulation(self, settings: SimulationSettings, request_id: str) -> lro.Operation:
        """Store a validated SubmitSimulate; its operation. Raises
        :class:`scheduler.jobs.store.RequestConflictError` on a reused request id."""
        job, created = self.store.submit(
            settings.model_dump_json(),
            "{}",
            instance_name=settings.describe(),
            referrals=0,
            request_id=request_id or None,
            now=time.time(),
            kind="simulate",
        )
        if created and self.runner is not None:
            self.runner.wake()
        return job_to_operation(job)

    def _get(self, name: str) -> Job:
        job = self.store.get(_job_id(name))
        if job is None:
            raise _Rejected(code_pb2.NOT_FOUND, f"no operation {name!r}")
        return job

    @_handler
    def GetOperation(
        self, request: lro.GetOperationRequest, context: grpc.ServicerContext
    ) -> lro.Operation:
        return job_to_operation(self._get(request.name))

    @_handler
    def ListOperations(
        self, request: lro.ListOperationsRequest, context: grpc.ServicerContext
    ) -> lro.ListOperationsResponse:
        if request.name not in ("", "operations"):
            raise _Rejected(code_pb2.INVALID_ARGUMENT, "name must be empty or 'operations'")
        if request.page_size < 0:
            raise _Rejected(code_pb2.INVALID_ARGUMENT, "page_size must be >= 0")
        size = min(request.page_size or DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE)
        try:
            page = self.store.list(
                page_size=size, page_token=request.page_token, done=_done_filter(request.filter)
            )
        except ValueError as exc:
            raise _Rejected(code_pb2.INVALID_ARGUMENT, str(exc)) from None
        return lro.ListOperationsResponse(
            operations=[job_to_operation(job) for job in page.jobs],
            next_page_token=page.next_token,
        )

    @_handler
    def CancelOperation(
        self, request: lro.CancelOperationRequest, context: grpc.ServicerContext
    ) -> empty_pb2.Empty:
        job = self.store.cancel(_job_id(request.name), time.time())
        if job is None:
            raise _Rejected(code_pb2.NOT_FOUND, f"no operation {request.name!r}")
        return empty_pb2.Empty()

    @_handler
    def DeleteOperation(
        self, request: lro.DeleteOperationRequest, context: grpc.ServicerContext
    ) -> empty_pb2.Empty:
        try:
            deleted = self.store.delete(_job_id(request.name))
        except ValueError as exc:
            raise _Rejected(code_pb2.FAILED_PRECONDITION, str(exc)) from None
        if not deleted:
            raise _Rejected(code_pb2.NOT_FOUND, f"no operation {request.name!r}")
        return empty_pb2.Empty()

    @_handler
    def WaitOperation(
        self, request: lro.WaitOperationRequest, context: grpc.ServicerContext
    ) -> lro.Operation:
        """Until the operation is done, the request's timeout passes, or the call's deadline
        (less a margin to answer) comes; then the operation as it is."""
        limit = _DEFAULT_WAIT_S
        if request.HasField("timeout"):
            limit = request.timeout.ToNanoseconds() / 1e9
        remaining = context.time_remaining()
        if remaining is not None:
            limit = min(limit, remaining - min(0.5, remaining / 4))
        ends = time.monotonic() + max(0.0, limit)
        job = self._get(request.name)
        while not job.done and context.is_active():
            left = ends - time.monotonic()
            if left <= 0 or self._stopping.wait(min(_WAIT_POLL_S, left)):
                break
            job = self._get(request.name)
        return job_to_operation(job)
