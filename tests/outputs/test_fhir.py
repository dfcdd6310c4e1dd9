"""The KL Gateway export: the IG's own worked example (Ruddi, delivery report 1) reproduced,
the status mapping table, no CPR from us, and every resource valid for fhir.resources."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from fhir.resources.R4B.bundle import Bundle

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
from scheduler.outputs.fhir import (
    CPR_SYSTEM,
    FRIT_VALG,
    FRIT_VALG_AFSLAAET,
    PSEUDONYM_SYSTEM,
    STATUS_TABLE,
    UDSKUDT,
    ExportOptions,
    FreeChoiceAnswer,
    delivery_report,
    export_bundle,
    status_mapping,
)

IG_EXAMPLE = Path(__file__).parent.parent / "data" / "kl-gateway-ruddi-report-1.json"
STAMP = datetime(2022, 5, 23, 19, 25, 12, tzinfo=UTC)


def _resources(bundle: dict[str, Any], kind: str) -> list[dict[str, Any]]:
    return [e["resource"] for e in bundle["entry"] if e["resource"]["resourceType"] == kind]


def _ruddi() -> tuple[Referral, Assignment]:
    # The IG's story: GGOP received 23 May 2022, expected discharge 24 May, basal, first contact
    # offered 28 May. Our instances reject a plan received before discharge, so the referral is
    # built without validation; the export itself does not depend on that rule.
    referral = Referral.model_construct(
        id="RUDDI-1",
        discharge_date=date(2022, 5, 24),
        received_date=date(2022, 5, 23),
        level=Level.BASAL,
        discipline="PT",
        age=45,
    )
    assignment = Assignment(
        referral_id="RUDDI-1",
        outcome=Outcome.ON_TIME,
        therapist_id="T-1",
        site_id="S-1",
        start=datetime(2022, 5, 28, 10),
        end=datetime(2022, 5, 28, 11),
        earliest_start=date(2022, 5, 24),
        deadline=date(2022, 5, 31),
        free_choice_right=True,
        letter_by=date(2022, 5, 27),
        letter_send_by=date(2022, 5, 27),
    )
    return referral, assignment


def _options(**extra: Any) -> ExportOptions:
    return ExportOptions(
        managing_sor="451000016003", default_requester_sor="227871000016001", **extra
    )


def test_the_ig_worked_example_is_valid_fhir() -> None:
    bundle = Bundle.model_validate(json.loads(IG_EXAMPLE.read_text(encoding="utf-8")))
    assert bundle.type == "collection" and len(bundle.entry) == 6


def test_our_service_request_reproduces_the_ig_example() -> None:
    expected = _resources(json.loads(IG_EXAMPLE.read_text(encoding="utf-8")), "ServiceRequest")[0]
    report = delivery_report(*_ruddi(), _options(), STAMP)
    ours = _resources(json.loads(report.model_dump_json(exclude_none=True)), "ServiceRequest")[0]
    # Ids and references are ours (UUIDs); the diagnosis (reasonReference) is not in a referral.
    for key in ("id", "subject", "requester", "reasonReference"):
        expected.pop(key, None)
        ours.pop(key, None)
    assert ours == expected


def test_the_citizen_is_the_pseudonymous_id_for_the_caller_to_map_to_cpr() -> None:
    report = json.loads(delivery_report(*_ruddi(), _options(), STAMP).model_dump_json())
    (citizen,) = _resources(report, "Patient")
    assert citizen["identifier"] == [
        {"use": "official", "system": PSEUDONYM_SYSTEM, "value": "RUDDI-1"}
    ]
    assert CPR_SYSTEM not in json.dumps(report)
    # The caller's mapping: put the CPR number in the identifier, and it is the IG's citizen.
    citizen["identifier"] = [{"use": "official", "system": CPR_SYSTEM, "value": "1502779995"}]
    (expected,) = _resources(json.loads(IG_EXAMPLE.read_text(encoding="utf-8")), "Patient")
    assert {k: v for k, v in citizen.items() if k != "id"} == {
        k: v for k, v in expected.items() if k != "id"
    }
    assert Bundle.model_validate(report)


def test_the_requester_and_references_resolve_inside_the_report() -> None:
    report = json.loads(
        delivery_report(
            *_ruddi(), _options(requester_sor={"RUDDI-1": "999"}), STAMP
        ).model_dump_json()
    )
    urls = {e["fullUrl"] for e in report["entry"]}
    (request,) = _resources(report, "ServiceRequest")
    assert request["subject"]["reference"] in urls
    assert request["requester"]["reference"] in urls
    (org,) = _resources(report, "Organization")
    assert org["identifier"][0]["value"] == "999"
    assert report["meta"]["profile"][0].endswith("klgateway-140-delivery-report")


def test_every_outcome_reported_has_a_status() -> None:
    # Rejected referrals are not almen genoptræning of this unit: never exported.
    for outcome in Outcome:
        if outcome is not Outcome.REJECTED:
            assert (outcome, None, None) in STATUS_TABLE, outcome


@pytest.mark.parametrize(
    ("outcome", "reason", "answer", "status", "code"),
    [
        (Outcome.ON_TIME, None, None, "active", None),
        (Outcome.LATE_FREE_CHOICE, Reason.NO_CAPACITY_BY_DEADLINE, None, "active", None),
        (
            Outcome.LATE_FREE_CHOICE,
            Reason.NO_CAPACITY_BY_DEADLINE,
            FreeChoiceAnswer.CHOSE_PRIVATE,
            "on-hold",
            FRIT_VALG,
        ),
        (
            Outcome.LATE_FREE_CHOICE,
            Reason.DEADLINE_BEFORE_PLANNING,
            FreeChoiceAnswer.WILL_WAIT,
            "active",
            FRIT_VALG_AFSLAAET,
        ),
        (Outcome.LATE_NO_RIGHT, Reason.PLAN_LATER_START, None, "active", UDSKUDT),
        (Outcome.LATE_NO_RIGHT, Reason.CITIZEN_POSTPONED, None, "active", None),
        (Outcome.NOT_BOOKABLE, Reason.NO_CAPACITY_IN_HORIZON, None, "on-hold", None),
    ],
)
def test_status_mapping(
    outcome: Outcome, reason: Reason | None, answer: FreeChoiceAnswer | None, status: str, code: Any
) -> None:
    mapping = status_mapping(outcome, reason, answer)
    assert (mapping.status, mapping.reason) == (status, code)


def test_the_export_of_a_plan_has_one_valid_report_per_referral(
    mixed: tuple[Instance, Solution],
) -> None:
    instance, solution = mixed
    answers = {"R-4": FreeChoiceAnswer.WILL_WAIT}
    bundle = export_bundle(instance, solution, _options(answers=answers), STAMP)
    data = json.loads(bundle.model_dump_json(exclude_none=True))
    Bundle.model_validate(data)  # what we wrote reads back as valid FHIR
    reports = [e["resource"] for e in data["entry"]]
    assert len(reports) == len(instance.referrals)
    requests = {
        _resources(r, "Patient")[0]["identifier"][0]["value"]: _resources(r, "ServiceRequest")[0]
        for r in reports
    }
    assert requests["R-1"]["status"] == "active"
    assert requests["R-1"]["occurrencePeriod"] == {"start": "2026-03-09"}
    assert requests["R-2"]["status"] == "on-hold" and "occurrencePeriod" not in requests["R-2"]
    reason = requests["R-4"]["extension"][1]["valueCodeableConcept"]["coding"][0]
    assert reason["code"] == FRIT_VALG_AFSLAAET.code
    # the same export twice gives the same ids: a later export updates the same resources
    again = export_bundle(instance, solution, _options(answers=answers), STAMP)
    assert again.model_dump_json() == bundle.model_dump_json()


def test_a_naive_timestamp_is_refused(mixed: tuple[Instance, Solution]) -> None:
    with pytest.raises(ValueError, match="time zone"):
        export_bundle(*mixed, _options(), datetime(2026, 3, 6, 12))


def test_a_start_the_plan_put_later_is_reported_as_udskudt_even_when_on_time() -> None:
    referral, assignment = _ruddi()
    later = referral.model_copy(
        update={"plan_start_kind": PlanStartKind.LATER, "plan_start_date": date(2022, 6, 7)}
    )
    start = datetime(2022, 6, 8, 10)
    booked = assignment.model_copy(update={"start": start, "end": start + timedelta(hours=1)})
    report = json.loads(delivery_report(later, booked, _options(), STAMP).model_dump_json())
    (request,) = _resources(report, "ServiceRequest")
    assert request["status"] == "active"
    assert request["extension"][1]["valueCodeableConcept"]["coding"][0]["code"] == UDSKUDT.code
    # within 7 days of discharge nothing was postponed
    report = json.loads(delivery_report(later, assignment, _options(), STAMP).model_dump_json())
    assert len(_resources(report, "ServiceRequest")[0]["extension"]) == 1
