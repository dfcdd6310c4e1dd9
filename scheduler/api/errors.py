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

__all__ = ["LOCAL_TIME_ONLY", "ConversionError", "FieldViolation", "bad_request"]

LOCAL_TIME_ONLY = "must be local wall-clock time: leave utc_offset and time_zone unset"
"""The violation of a date-time sent with an offset or a time zone."""


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


def bad_request(
    violations: Sequence[FieldViolation], summary: str = "invalid request"
) -> status_pb2.Status:
    """An ``INVALID_ARGUMENT`` status whose ``BadRequest`` detail lists every violation, and
    whose message counts them and quotes the first."""
    detail = error_details_pb2.BadRequest(
        field_violations=[
            error_details_pb2.BadRequest.FieldViolation(field=v.field, description=v.description)
            for v in violations
        ]
    )
    status = status_pb2.Status(
        code=code_pb2.INVALID_ARGUMENT,
        message=f"{summary}: {len(violations)} field violation(s); first: {violations[0]}",
    )
    status.details.add().Pack(detail)
    return status
