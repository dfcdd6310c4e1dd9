"""How the gRPC edge reports a bad request: field violations, and the google.rpc status that
carries them.

:class:`FieldViolation` names one problem by its field path (``instance.referrals[3]
.received_date``); :class:`ConversionError` carries every violation of a message that is not a
valid domain object (raised by :mod:`scheduler.api.convert` and :mod:`scheduler.api.calendars`);
:func:`bad_request` turns violations into an ``INVALID_ARGUMENT`` status with a google.rpc
``BadRequest`` detail, which the servicer sends.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from google.rpc import code_pb2, error_details_pb2, status_pb2

__all__ = [
    "LOCAL_TIME_ONLY",
    "MAX_DESCRIPTION_CHARS",
    "MAX_DETAILS_BYTES",
    "MAX_FIELD_VIOLATIONS",
    "ConversionError",
    "FieldViolation",
    "bad_request",
    "calendar_not_found",
    "calendar_version_not_held",
]

LOCAL_TIME_ONLY = "must be local wall-clock time: leave utc_offset and time_zone unset"
"""The violation of a date-time sent with an offset or a time zone."""

MAX_FIELD_VIOLATIONS = 50
"""Most field violations one BadRequest carries; the ErrorInfo's ``field_violations`` gives the
total."""
MAX_DESCRIPTION_CHARS = 200
"""Longest field path or description in a BadRequest (longer ones are cut, ending in …)."""
MAX_DETAILS_BYTES = 4096
"""Largest serialised error status: the trailer (``grpc-status-details-bin``, base64) stays
well under gRPC's 8 KiB metadata limit, so a bad request is never RESOURCE_EXHAUSTED."""


@dataclass(frozen=True)
class FieldViolation:
    """One problem of a request: the field's path and what is wrong with it."""

    field: str
    description: str

    def __str__(self) -> str:
        return f"{self.field}: {self.description}"


class ConversionError(ValueError):
    """A message that is not a valid domain object; `violations` lists every problem."""

    def __init__(self, violations: Sequence[FieldViolation]) -> None:
        self.violations = list(violations)
        super().__init__("; ".join(str(v) for v in self.violations))


def _cut(text: str) -> str:
    return text if len(text) <= MAX_DESCRIPTION_CHARS else text[: MAX_DESCRIPTION_CHARS - 1] + "…"


def bad_request(
    violations: Sequence[FieldViolation], summary: str = "invalid request"
) -> status_pb2.Status:
    """An ``INVALID_ARGUMENT`` status with a bounded ``BadRequest`` detail and an ``ErrorInfo``.

    The BadRequest lists the first :data:`MAX_FIELD_VIOLATIONS` violations (fewer if the status
    would pass :data:`MAX_DETAILS_BYTES`; each text cut to :data:`MAX_DESCRIPTION_CHARS`); the
    ErrorInfo (reason ``INVALID_REQUEST``, domain ``scheduler.v1``) carries the total in its
    metadata ``field_violations`` and the number listed in ``field_violations_shown``. The
    message counts them and quotes the first.
    """
    total = len(violations)
    status = status_pb2.Status(
        code=code_pb2.INVALID_ARGUMENT,
        message=_cut(f"{summary}: {total} field violation(s); first: {violations[0]}"),
    )
    detail = error_details_pb2.BadRequest()
    room = MAX_DETAILS_BYTES - 400 - len(status.message.encode())
    for v in violations[:MAX_FIELD_VIOLATIONS]:
        item = error_details_pb2.BadRequest.FieldViolation(
            field=_cut(v.field), description=_cut(v.description)
        )
        room -= item.ByteSize() + 4
        if room < 0:
            break
        detail.field_violations.append(item)
    info = error_details_pb2.ErrorInfo(
        reason="INVALID_REQUEST",
        domain="scheduler.v1",
        metadata={
            "field_violations": str(total),
            "field_violations_shown": str(len(detail.field_violations)),
        },
    )
    status.details.add().Pack(detail)
    status.details.add().Pack(info)
    return status


def calendar_not_found(message: str, calendar_id: str) -> status_pb2.Status:
    """A ``NOT_FOUND`` status for a calendar the server does not hold, with an ``ErrorInfo``
    (reason ``CALENDAR_NOT_FOUND``); `calendar_id` must be a pseudonymous id or empty."""
    status = status_pb2.Status(code=code_pb2.NOT_FOUND, message=_cut(message))
    status.details.add().Pack(
        error_details_pb2.ErrorInfo(
            reason="CALENDAR_NOT_FOUND",
            domain="scheduler.v1",
            metadata={"calendar_id": calendar_id},
        )
    )
    return status


def calendar_version_not_held(
    message: str, calendar_id: str, version: int, current: int, field: str
) -> status_pb2.Status:
    """A ``FAILED_PRECONDITION`` status for a version that is not held or not current: an
    ``ErrorInfo`` (reason ``CALENDAR_VERSION_NOT_HELD``, metadata ``current_version``) and a
    ``PreconditionFailure`` naming the request's `field` (``calendar.version``,
    ``base_version``)."""
    status = status_pb2.Status(code=code_pb2.FAILED_PRECONDITION, message=_cut(message))
    status.details.add().Pack(
        error_details_pb2.ErrorInfo(
            reason="CALENDAR_VERSION_NOT_HELD",
            domain="scheduler.v1",
            metadata={
                "calendar_id": calendar_id,
                "version": str(version),
                "current_version": str(current),
            },
        )
    )
    status.details.add().Pack(
        error_details_pb2.PreconditionFailure(
            violations=[
                error_details_pb2.PreconditionFailure.Violation(
                    type="CALENDAR_VERSION", subject=field, description=_cut(message)
                )
            ]
        )
    )
    return status
