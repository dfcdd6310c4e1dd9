"""The KL Gateway export: what a plan means for the municipality's §140 reporting, in FHIR.

KL Gateway rehabilitation reporting (the HL7 Denmark implementation guide
``hl7dk/kl-gateway-rehab``, FHIR 4.0.1) takes one *delivery report* per citizen: a Bundle of
type ``collection`` (profile ``klgateway-140-delivery-report``) holding the citizen, the
organisations referred to, and the content. This module reports the part a first-session plan
knows: the §140 ServiceRequest (``klgateway-140-servicerequest``) of each referral, with

- ``category``: almen, and basal or avanceret (KL's CareSocialCodes, the IG's
  ``ServiceRequestTypes140``);
- the ``dischargeDate`` extension (*anledningUdskrivningsdato*);
- ``authoredOn``: the day the municipality received the plan (*anledningstid*);
- ``occurrencePeriod.start``: the day of the first contact offered
  (*anledningTilbudtFørsteKontakt*);
- ``status`` and the ``statusReason`` extension, mapped from the outcome in one table,
  :data:`STATUS_TABLE`.

Rejected referrals (not almen genoptræning of this unit) are left out of the export.

**No CPR from us.** The citizen resource carries the pseudonymous referral id in the identifier
system :data:`PSEUDONYM_SYSTEM`; the caller replaces it with the CPR number (system
:data:`CPR_SYSTEM`) from its own records before sending. Organisations are identified by SOR code.

Resources are built with ``fhir.resources`` (the R4B models, which match R4 for every element
used here), so each one is validated as it is made. Resource ids are UUIDs derived from the
managing organisation and the referral id, so a later export of the same referral updates the
same resources, as the gateway expects.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from fhir.resources.R4B.bundle import Bundle
from fhir.resources.R4B.organization import Organization
from fhir.resources.R4B.patient import Patient
from fhir.resources.R4B.servicerequest import ServiceRequest

from scheduler.domain import (
    Assignment,
    Instance,
    Level,
    Outcome,
    PlanStartKind,
    Reason,
    Referral,
    Solution,
)

__all__ = [
    "CPR_SYSTEM",
    "KL_CODES",
    "PSEUDONYM_SYSTEM",
    "SOR_SYSTEM",
    "STATUS_TABLE",
    "ExportOptions",
    "FreeChoiceAnswer",
    "KlCode",
    "StatusMapping",
    "delivery_report",
    "export_bundle",
    "service_request",
    "status_mapping",
]

KL_CODES = "http://fhir.kl.dk/term/CodeSystem/CareSocialCodes"
"""KL's common code system (KL-term) used by the IG for categories, codes and status reasons."""
PROFILES = "http://fhir.kl.dk/rehab/StructureDefinition/"
CPR_SYSTEM = "urn:oid:1.2.208.176.1.2"
"""The CPR number system: what the caller maps our pseudonymous identifier into."""
SOR_SYSTEM = "urn:oid:1.2.208.176.1.1"
"""SOR codes of health organisations (the hospital sending the plan, the municipality)."""
PSEUDONYM_SYSTEM = "urn:scheduler:referral-id"
"""The identifier system of the pseudonymous referral id that stands in for the citizen."""
STATUS_REASON_URL = "http://hl7.org/fhir/StructureDefinition/request-statusReason"
DISCHARGE_DATE_URL = PROFILES + "PreconditionDate"
_ID_NAMESPACE = uuid.UUID("5d0c6f0e-9d1b-4a52-9f0b-140140140140")


@dataclass(frozen=True)
class KlCode:
    """A code of KL's CareSocialCodes with its Danish display text."""

    code: str
    display: str

    def coding(self) -> dict[str, str]:
        out = {"system": KL_CODES, "code": self.code}
        if self.display:
            out["display"] = self.display
        return out


# "Kommunal genoptræning efter sygehusophold"; sent without a display, as in the IG's example.
TRAINING = KlCode("7fc66c15-0cb3-4c89-9e18-f3a01e6a6592", "")
ALMEN = KlCode("ffd81f78-352e-4589-a195-5350dd1df2a4", "almen")
LEVELS: dict[Level, KlCode] = {
    Level.BASAL: KlCode("8b962281-2ab6-4b10-9c91-4bac592d6d49", "basal"),
    Level.AVANCERET: KlCode("b679c454-2da2-46dd-9425-0e52d4aa2bf3", "avanceret"),
}
UDSKUDT = KlCode(
    "a8632e22-bf0c-4f5a-92a7-70977ba104d5", "Udskudt opstart påkrævet som specificeret i GGOP"
)
FRIT_VALG = KlCode("3796fa11-305f-47d6-b164-45b05489afb2", "Overgået til FritValg")
FRIT_VALG_AFSLAAET = KlCode(
    "46a6bc1f-bfe8-4390-a71f-44ad4a384b9d", "FritValg afslået – borger vil hellere vente"
)


class FreeChoiceAnswer(StrEnum):
    """The citizen's answer to a frit valg offer, when the caller knows it (the plan does not)."""

    CHOSE_PRIVATE = "chose_private"
    """The citizen chose a private provider: "Overgået til FritValg"."""
    WILL_WAIT = "will_wait"
    """The citizen keeps the municipality's late start: "FritValg afslået"."""


@dataclass(frozen=True)
class StatusMapping:
    """ServiceRequest.status and the IG's status reason (None: no reason reported)."""

    status: str
    reason: KlCode | None = None


STATUS_TABLE: dict[tuple[Outcome, Reason | None, FreeChoiceAnswer | None], StatusMapping] = {
    # Booked on time: the municipality acts on the plan.
    (Outcome.ON_TIME, None, None): StatusMapping("active"),
    # On time from the plan's later start, but past 7 days after discharge (KL's measure).
    (Outcome.ON_TIME, Reason.PLAN_LATER_START, None): StatusMapping("active", UDSKUDT),
    # Late with a frit valg right: active on the municipality's offer until the citizen answers.
    (Outcome.LATE_FREE_CHOICE, None, None): StatusMapping("active"),
    (Outcome.LATE_FREE_CHOICE, None, FreeChoiceAnswer.WILL_WAIT): StatusMapping(
        "active", FRIT_VALG_AFSLAAET
    ),
    (Outcome.LATE_FREE_CHOICE, None, FreeChoiceAnswer.CHOSE_PRIVATE): StatusMapping(
        "on-hold", FRIT_VALG
    ),
    # Late without a right: the plan asked for the later start, or the citizen did.
    (Outcome.LATE_NO_RIGHT, None, None): StatusMapping("active"),
    (Outcome.LATE_NO_RIGHT, Reason.PLAN_LATER_START, None): StatusMapping("active", UDSKUDT),
    # Not bookable in the horizon (or excluded): the municipality does not act on it yet.
    (Outcome.NOT_BOOKABLE, None, None): StatusMapping("on-hold"),
}
"""Outcome (and reason, and the citizen's frit valg answer if known) → status and status reason.
Looked up most specific first: (outcome, reason, answer), (outcome, None, answer),
(outcome, reason, None), (outcome, None, None)."""


def status_mapping(
    outcome: Outcome, reason: Reason | None, answer: FreeChoiceAnswer | None = None
) -> StatusMapping:
    """The row of :data:`STATUS_TABLE` for one assignment."""
    for key in ((outcome, reason, answer), (outcome, None, answer), (outcome, reason, None)):
        if key in STATUS_TABLE:
            return STATUS_TABLE[key]
    return STATUS_TABLE[(outcome, None, None)]


@dataclass(frozen=True)
class ExportOptions:
    """What the export needs that an instance does not hold.

    `managing_sor`: the SOR code of the municipality's organisation that keeps the citizen's
    record (the citizen's managingOrganization). `requester_sor`: the SOR code of the hospital
    unit that sent the plan, per referral id, with `default_requester_sor` for the rest.
    `answers`: the citizens' known answers to frit valg offers, per referral id.
    """

    managing_sor: str
    default_requester_sor: str
    requester_sor: Mapping[str, str] = field(default_factory=dict)
    answers: Mapping[str, FreeChoiceAnswer] = field(default_factory=dict)
    identifier_system: str = PSEUDONYM_SYSTEM


def _uuid(options: ExportOptions, *parts: str) -> str:
    return str(uuid.uuid5(_ID_NAMESPACE, "/".join((options.managing_sor, *parts))))


def _sor(value: str) -> dict[str, str]:
    return {"use": "official", "system": SOR_SYSTEM, "value": value}


def _citizen(referral: Referral, options: ExportOptions, rid: str) -> Patient:
    return Patient.model_validate(
        {
            "id": rid,
            "meta": {"profile": [PROFILES + "klgateway-140-citizen"]},
            "identifier": [
                {"use": "official", "system": options.identifier_system, "value": referral.id}
            ],
            "deceasedBoolean": False,
            "managingOrganization": {"identifier": _sor(options.managing_sor)},
        }
    )


def _organization(sor: str, rid: str) -> Organization:
    return Organization.model_validate(
        {
            "id": rid,
            "meta": {"profile": [PROFILES + "klgateway-140-organization"]},
            "identifier": [_sor(sor)],
        }
    )


def _reason(referral: Referral, assignment: Assignment) -> Reason | None:
    """The assignment's reason; for a start the plan put later than 7 days after discharge,
    `plan_later_start` even when on time by our deadline (KL measures from discharge)."""
    if assignment.reason is not None or assignment.start is None:
        return assignment.reason
    later = referral.plan_start_kind is PlanStartKind.LATER
    if later and assignment.start.date() > referral.discharge_date + timedelta(days=7):
        return Reason.PLAN_LATER_START
    return None


def service_request(
    referral: Referral,
    assignment: Assignment,
    *,
    rid: str,
    subject: str,
    requester: str,
    answer: FreeChoiceAnswer | None = None,
) -> ServiceRequest:
    """The §140 ServiceRequest of one referral and its planned first session.

    `subject` and `requester` are the references to the citizen and the sending organisation.
    """
    mapping = status_mapping(assignment.outcome, _reason(referral, assignment), answer)
    extension: list[dict[str, Any]] = [
        {"url": DISCHARGE_DATE_URL, "valueDate": referral.discharge_date.isoformat()}
    ]
    if mapping.reason is not None:
        extension.append(
            {
                "url": STATUS_REASON_URL,
                "valueCodeableConcept": {"coding": [mapping.reason.coding()]},
            }
        )
    data: dict[str, Any] = {
        "id": rid,
        "meta": {"profile": [PROFILES + "klgateway-140-servicerequest"]},
        "extension": extension,
        "status": mapping.status,
        "intent": "plan",
        "category": [{"coding": [ALMEN.coding()]}, {"coding": [LEVELS[referral.level].coding()]}],
        "code": {"coding": [TRAINING.coding()]},
        "subject": {"reference": subject},
        "authoredOn": referral.received_date.isoformat(),
        "requester": {"reference": requester},
    }
    if assignment.start is not None:
        data["occurrencePeriod"] = {"start": assignment.start.date().isoformat()}
    return ServiceRequest.model_validate(data)


def delivery_report(
    referral: Referral, assignment: Assignment, options: ExportOptions, timestamp: datetime
) -> Bundle:
    """The delivery report of one citizen: citizen, sending organisation, ServiceRequest."""
    if timestamp.tzinfo is None:
        raise ValueError("the report timestamp needs a time zone (FHIR instant)")
    requester_sor = options.requester_sor.get(referral.id, options.default_requester_sor)
    ids = {
        "Patient": _uuid(options, "citizen", referral.id),
        "Organization": _uuid(options, "organization", requester_sor),
        "ServiceRequest": _uuid(options, "servicerequest", referral.id),
    }
    url = {kind: f"urn:uuid:{rid}" for kind, rid in ids.items()}
    resources = [
        _citizen(referral, options, ids["Patient"]),
        _organization(requester_sor, ids["Organization"]),
        service_request(
            referral,
            assignment,
            rid=ids["ServiceRequest"],
            subject=url["Patient"],
            requester=url["Organization"],
            answer=options.answers.get(referral.id),
        ),
    ]
    return Bundle.model_validate(
        {
            "id": _uuid(options, "report", referral.id, timestamp.isoformat()),
            "meta": {"profile": [PROFILES + "klgateway-140-delivery-report"]},
            "type": "collection",
            "timestamp": timestamp.isoformat(),
            "entry": [
                {"fullUrl": url[r.get_resource_type()], "resource": r.model_dump(mode="json")}
                for r in resources
            ],
        }
    )


def export_bundle(
    instance: Instance, solution: Solution, options: ExportOptions, timestamp: datetime
) -> Bundle:
    """Every referral's delivery report, in referral order, gathered in one ``collection``
    Bundle (each entry is one delivery report to send to the gateway on its own).

    Rejected referrals (specialised levels, a referral the policy sends to the children's team)
    are not almen genoptræning of this municipal unit and are not reported from here."""
    by_id = {a.referral_id: a for a in solution.assignments}
    missing = [r.id for r in instance.referrals if r.id not in by_id]
    if missing:
        raise ValueError(f"the solution has no assignment for referrals {', '.join(missing)}")
    reports = [
        delivery_report(r, by_id[r.id], options, timestamp)
        for r in instance.referrals
        if by_id[r.id].outcome is not Outcome.REJECTED
    ]
    return Bundle.model_validate(
        {
            "id": _uuid(options, "export", instance.name, timestamp.isoformat()),
            "type": "collection",
            "timestamp": timestamp.isoformat(),
            "entry": [
                {"fullUrl": f"urn:uuid:{b.id}", "resource": b.model_dump(mode="json")}
                for b in reports
            ],
        }
    )
