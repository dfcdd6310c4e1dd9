"""The door of the service: authentication, admission, request ids, unreadable requests, the log.

:class:`Guard` is a server interceptor. gRPC Python calls interceptors on the server's polling
thread when a call arrives, *before* its request message is read into a worker thread and parsed,
so everything here is decided before a byte of the request is deserialised:

- calls to ``scheduler.v1.Scheduler`` need a bearer token (``authorization: Bearer …``) when
  tokens are configured, compared in constant time (:func:`hmac.compare_digest`) against every
  configured token; health checking and reflection stay open;
- at most `max_concurrent_calls` scheduler calls run at once and at most
  `max_concurrent_solves` of them solve (Optimize, OptimizeStream); beyond either the call is
  refused with RESOURCE_EXHAUSTED and a ``RetryInfo`` at once, its request never parsed. The
  server's thread pool is larger than `max_concurrent_calls` (see
  :func:`scheduler.api.server.start_server`), so health checks always find a thread;
- every admitted call gets a request id (the client's ``x-request-id`` when it is a short token,
  else a new one), sent back as initial metadata and written in the call's one log line;
- a request that does not parse is INVALID_ARGUMENT (not INTERNAL), and logged;
- the log line and the metrics carry the status the client really got: a call whose deadline
  passed or that the client cancelled is logged as DEADLINE_EXCEEDED or CANCELLED even when the
  handler finished.

The handlers (:mod:`scheduler.api.service`) add counts to the log line through
:func:`current_call`.
"""

from __future__ import annotations

import contextlib
import contextvars
import hmac
import logging
import re
import threading
import time
import uuid
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeAlias

import grpc
from google.protobuf import duration_pb2
from google.rpc import code_pb2, error_details_pb2, status_pb2
from grpc_status import rpc_status

from scheduler.api.metrics import Metrics
from scheduler.v1 import scheduler_pb2

__all__ = [
    "OPEN_PREFIXES",
    "RETRY_AFTER_S",
    "SCHEDULER_PREFIX",
    "SOLVE_METHODS",
    "CallInfo",
    "Guard",
    "current_call",
    "final_code",
    "resource_exhausted",
]

log = logging.getLogger("scheduler.api.service")

SCHEDULER_PREFIX = "/" + scheduler_pb2.DESCRIPTOR.services_by_name["Scheduler"].full_name + "/"
"""Method names of the scheduler service start with this."""
SOLVE_METHODS = frozenset(SCHEDULER_PREFIX + name for name in ("Optimize", "OptimizeStream"))
"""The methods that take a solve slot."""
OPEN_PREFIXES = ("/grpc.health.v1.Health/", "/grpc.reflection.")
"""Methods served without a token and outside the call limit: health checks and reflection.
Every other service (the scheduler, google.longrunning.Operations over the job store) is
guarded."""
RETRY_AFTER_S = 1.0
"""The retry delay RESOURCE_EXHAUSTED suggests (``google.rpc.RetryInfo``)."""

_Handler: TypeAlias = "grpc.RpcMethodHandler[Any, Any]"
_REQUEST_ID = re.compile(r"^[A-Za-z0-9._-]{1,64}$")


@dataclass
class CallInfo:
    """One admitted call: its request id, arrival (``time.monotonic()``), method and the
    fields its log line carries."""

    request_id: str
    arrival: float
    method: str
    fields: dict[str, Any] = field(default_factory=dict)


_current: contextvars.ContextVar[CallInfo | None] = contextvars.ContextVar(
    "scheduler_call", default=None
)


def current_call() -> CallInfo | None:
    """The call the running handler serves (None outside a guarded handler)."""
    return _current.get()


def resource_exhausted(message: str) -> status_pb2.Status:
    """A RESOURCE_EXHAUSTED status with a ``RetryInfo`` detail (:data:`RETRY_AFTER_S`)."""
    status = status_pb2.Status(code=code_pb2.RESOURCE_EXHAUSTED, message=message)
    delay = duration_pb2.Duration()
    delay.FromNanoseconds(int(RETRY_AFTER_S * 1e9))
    status.details.add().Pack(error_details_pb2.RetryInfo(retry_delay=delay))
    return status


def final_code(context: grpc.ServicerContext, raised: bool) -> grpc.StatusCode:
    """The status the client got: a passed deadline or a cancel wins over what was set."""
    remaining = context.time_remaining()
    if not context.is_active():
        if remaining is not None and remaining <= 0:
            return grpc.StatusCode.DEADLINE_EXCEEDED
        code: grpc.StatusCode | None = context.code()  # type: ignore[attr-defined]
        if code in (None, grpc.StatusCode.OK):
            return grpc.StatusCode.CANCELLED
        return code
    code = context.code()  # type: ignore[attr-defined]
    if code is None:
        return grpc.StatusCode.UNKNOWN if raised else grpc.StatusCode.OK
    return code


class _Garbage:
    """Stands for a request whose bytes do not parse."""

    def __init__(self, size: int) -> None:
        self.size = size


class _Slots:
    """The semaphores an admitted call holds, released exactly once (also if the handler never
    runs because the call ended first: then when the handler is dropped)."""

    def __init__(self, held: list[threading.Semaphore], on_release: Callable[[], None]) -> None:
        self._held = held
        self._on_release = on_release
        self._lock = threading.Lock()

    def release(self) -> None:
        with self._lock:
            held, self._held = self._held, []
        for sem in held:
            sem.release()
        if held:
            self._on_release()

    def __del__(self) -> None:
        self.release()


def _token_of(metadata: Sequence[tuple[str, str | bytes]] | None) -> bytes | None:
    for key, value in metadata or ():
        if key.lower() == "authorization":
            text = value.decode("latin-1") if isinstance(value, bytes) else value
            scheme, _, token = text.partition(" ")
            if scheme.lower() == "bearer" and token.strip():
                return token.strip().encode("utf-8", "replace")
            return b""
    return None


def _request_id(metadata: Sequence[tuple[str, str | bytes]] | None) -> str:
    for key, value in metadata or ():
        if key.lower() == "x-request-id" and isinstance(value, str) and _REQUEST_ID.match(value):
            return value
    return uuid.uuid4().hex[:16]


class Guard(grpc.ServerInterceptor):  # type: ignore[type-arg]
    """Authentication, admission, request ids, unreadable requests, one log line per call.

    `tokens`: accepted bearer tokens (empty: no authentication). `metrics`: where counts and
    durations go (None: nowhere).
    """

    def __init__(
        self,
        *,
        max_concurrent_calls: int,
        max_concurrent_solves: int,
        tokens: Sequence[str] = (),
        metrics: Metrics | None = None,
    ) -> None:
        if max_concurrent_calls < 1 or max_concurrent_solves < 1:
            raise ValueError("the concurrency limits must be at least 1")
        self.max_concurrent_calls = max_concurrent_calls
        self.max_concurrent_solves = max_concurrent_solves
        self._calls = threading.BoundedSemaphore(max_concurrent_calls)
        self._solves = threading.BoundedSemaphore(max_concurrent_solves)
        self._tokens = [t.encode("utf-8") for t in tokens if t]
        self.metrics = metrics
        self._lock = threading.Lock()
        self._in_flight = 0

    @property
    def in_flight(self) -> int:
        """Scheduler calls admitted and not yet finished."""
        with self._lock:
            return self._in_flight

    def _authorised(self, metadata: Sequence[tuple[str, str | bytes]] | None) -> bool:
        if not self._tokens:
            return True
        given = _token_of(metadata)
        if not given:
            return False
        ok = False
        for token in self._tokens:  # every token compared: the time says nothing of which
            ok |= hmac.compare_digest(given, token)
        return ok

    def _changed(self, delta: int) -> None:
        with self._lock:
            self._in_flight += delta
            now = self._in_flight
        if self.metrics is not None:
            self.metrics.in_flight.set(now)

    def intercept_service(
        self,
        continuation: Callable[[grpc.HandlerCallDetails], _Handler | None],
        handler_call_details: grpc.HandlerCallDetails,
    ) -> _Handler | None:
        arrival = time.monotonic()
        method: str = handler_call_details.method
        if method.startswith(OPEN_PREFIXES):
            return continuation(handler_call_details)  # health, reflection: open, unlimited
        handler = continuation(handler_call_details)
        if handler is None:
            return None
        metadata = handler_call_details.invocation_metadata
        name = (
            method.removeprefix(SCHEDULER_PREFIX) if method.startswith(SCHEDULER_PREFIX) else method
        )
        info = CallInfo(_request_id(metadata), arrival, name)
        if not self._authorised(metadata):
            return self._refuse(
                handler,
                info,
                status_pb2.Status(
                    code=code_pb2.UNAUTHENTICATED,
                    message="missing or unknown bearer token (authorization: Bearer <token>)",
                ),
            )
        held: list[threading.Semaphore] = []
        if not self._calls.acquire(blocking=False):
            return self._refuse(
                handler,
                info,
                resource_exhausted(
                    f"the server already runs {self.max_concurrent_calls} call(s); retry later"
                ),
            )
        held.append(self._calls)
        if method in SOLVE_METHODS:
            if not self._solves.acquire(blocking=False):
                self._calls.release()
                return self._refuse(
                    handler,
                    info,
                    resource_exhausted(
                        f"the server already runs {self.max_concurrent_solves} solve(s); "
                        "retry later"
                    ),
                )
            held.append(self._solves)
        self._changed(+1)
        slots = _Slots(held, lambda: self._changed(-1))
        return self._wrap(handler, info, slots)

    # ------------------------------------------------------------------ handlers

    @staticmethod
    def _announce(info: CallInfo, context: grpc.ServicerContext) -> None:
        """Send the request id as initial metadata (trailers carry the error details)."""
        # The call may be over already; the id is in the log anyway.
        with contextlib.suppress(Exception):
            context.send_initial_metadata((("x-request-id", info.request_id),))

    def _finish(self, info: CallInfo, context: grpc.ServicerContext, code: grpc.StatusCode) -> None:
        duration = time.monotonic() - info.arrival
        log.info(
            "rpc",
            extra={
                "fields": {
                    "request_id": info.request_id,
                    "method": info.method,
                    "code": code.name,
                    "duration_ms": round(duration * 1000, 1),
                    **info.fields,
                }
            },
        )
        if self.metrics is not None:
            self.metrics.observe_call(info.method, code.name, duration)

    def _refuse(self, handler: _Handler, info: CallInfo, status: status_pb2.Status) -> _Handler:
        """A handler that ends the call with `status` and never parses its request."""
        code = next(c for c in grpc.StatusCode if c.value[0] == status.code)

        def refuse(_request: Any, context: grpc.ServicerContext) -> Any:
            info.fields["refused"] = True
            self._announce(info, context)
            self._finish(info, context, code)
            context.abort_with_status(rpc_status.to_status(status))

        def skip(data: bytes) -> bytes:
            return b""  # never parsed

        if handler.response_streaming:

            def refuse_stream(request: Any, context: grpc.ServicerContext) -> Iterator[Any]:
                refuse(request, context)
                yield from ()

            return grpc.unary_stream_rpc_method_handler(
                refuse_stream,
                request_deserializer=skip,
                response_serializer=handler.response_serializer,
            )
        return grpc.unary_unary_rpc_method_handler(
            refuse, request_deserializer=skip, response_serializer=handler.response_serializer
        )

    def _wrap(self, handler: _Handler, info: CallInfo, slots: _Slots) -> _Handler:
        parse = handler.request_deserializer
        assert parse is not None  # generated handlers always parse

        def deserialize(data: bytes) -> Any:
            try:
                return parse(data)
            except Exception:
                return _Garbage(len(data))

        def garbage(request: _Garbage, context: grpc.ServicerContext) -> None:
            info.fields["request_bytes"] = request.size
            info.fields["unparsable"] = True
            context.abort(
                grpc.StatusCode.INVALID_ARGUMENT,
                f"the request is not a valid {info.method} request message (protobuf)",
            )

        if handler.response_streaming:
            inner_stream = handler.unary_stream
            assert inner_stream is not None

            def stream(request: Any, context: grpc.ServicerContext) -> Iterator[Any]:
                token = _current.set(info)
                raised = False
                self._announce(info, context)
                try:
                    if isinstance(request, _Garbage):
                        garbage(request, context)
                    yield from inner_stream(request, context)
                except BaseException:
                    raised = True
                    raise
                finally:
                    slots.release()
                    self._finish(info, context, final_code(context, raised))
                    _current.reset(token)

            return grpc.unary_stream_rpc_method_handler(
                stream,
                request_deserializer=deserialize,
                response_serializer=handler.response_serializer,
            )
        inner = handler.unary_unary
        assert inner is not None

        def unary(request: Any, context: grpc.ServicerContext) -> Any:
            token = _current.set(info)
            raised = False
            self._announce(info, context)
            try:
                if isinstance(request, _Garbage):
                    garbage(request, context)
                return inner(request, context)
            except BaseException:
                raised = True
                raise
            finally:
                slots.release()
                self._finish(info, context, final_code(context, raised))
                _current.reset(token)

        return grpc.unary_unary_rpc_method_handler(
            unary, request_deserializer=deserialize, response_serializer=handler.response_serializer
        )
