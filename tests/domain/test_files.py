"""Reading and writing instance and solution files; the file format doc kept honest."""

from __future__ import annotations

import json
import re
from datetime import date, datetime
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from pydantic import BaseModel

from scheduler.domain import (
    Absence,
    Assignment,
    Booking,
    Coordinates,
    Instance,
    Kpis,
    OpeningHours,
    Outcome,
    Referral,
    RosterEntry,
    Site,
    Solution,
    SolverStats,
    Therapist,
)
from scheduler.domain.files import (
    DataFileError,
    dump_instance,
    instance_json_schema,
    load_instance,
    load_solution,
    parse_instance,
    policy_json_schema,
    read_json,
    save_instance,
    save_solution,
    solution_json_schema,
)
from scheduler.domain.policy import PRESETS, Policy
from scheduler.verify.validation import PROBLEM_CODES, validate_instance

TINY = Path(__file__).parent.parent / "data" / "tiny-soenderborg.json"
DOC = Path(__file__).parent.parent.parent / "docs" / "instance-format.md"


@pytest.fixture
def tiny() -> dict[str, Any]:
    data: dict[str, Any] = json.loads(TINY.read_text(encoding="utf-8"))
    return data


def problems_of(data: Any) -> list[str]:
    with pytest.raises(DataFileError) as info:
        parse_instance(data)
    assert not info.value.unreadable
    return info.value.problems


def write(tmp_path: Path, text: str, name: str = "instance.json") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def a_solution() -> Solution:
    return Solution(
        instance_name="tiny",
        planning_date=date(2026, 3, 6),
        assignments=[
            Assignment(
                referral_id="R-1",
                outcome=Outcome.ON_TIME,
                therapist_id="T-PT1",
                site_id="S-GA",
                start=datetime(2026, 3, 9, 10, 0),
                end=datetime(2026, 3, 9, 11, 0),
                earliest_start=date(2026, 3, 6),
                deadline=date(2026, 3, 11),
                free_choice_right=True,
                letter_by=date(2026, 3, 6),
                letter_send_by=date(2026, 3, 6),
            )
        ],
        kpis=Kpis(
            referrals=1,
            booked=1,
            on_time=1,
            on_time_share=1.0,
            free_choice_flagged=0,
            late_no_right=0,
            not_bookable=0,
            wait_days_mean=3.0,
            wait_days_median=3.0,
            wait_days_max=3,
            total_lateness_days=0,
            home_visits=0,
            travel_minutes_total=0,
            utilisation={"T-PT1": 0.1},
        ),
        stats=SolverStats(status="OPTIMAL", proven_optimal=True),
    )


# --------------------------------------------------------------------------- reading


def test_load_the_tiny_instance() -> None:
    instance = load_instance(TINY)
    assert instance.planning_date == date(2026, 3, 6)
    assert instance.policy == PRESETS["soenderborg"]
    assert [r.id for r in instance.referrals] == ["R-1", "R-2", "R-3"]
    assert instance.bookings[1].referral_id == "R-3"


def test_policy_by_preset_name_with_overrides(tiny: dict[str, Any]) -> None:
    tiny["policy"] = {"preset": "rebild", "horizon_days": 14}
    policy = parse_instance(tiny).policy
    assert policy == PRESETS["rebild"].model_copy(update={"horizon_days": 14})


def test_policy_spelled_out_takes_the_laws_defaults(tiny: dict[str, Any]) -> None:
    tiny["policy"] = {"deadline_anchor": "received"}
    assert parse_instance(tiny).policy == Policy(deadline_anchor="received")  # type: ignore[arg-type]


def test_an_unknown_preset_is_named_with_the_known_ones(tiny: dict[str, Any]) -> None:
    tiny["policy"] = "sonderborg"
    (problem,) = problems_of(tiny)
    assert "unknown preset 'sonderborg'" in problem
    assert "soenderborg" in problem


def test_an_unknown_preset_does_not_hide_other_problems(tiny: dict[str, Any]) -> None:
    tiny["policy"] = {"preset": "nowhere"}
    del tiny["referrals"][0]["age"]
    problems = problems_of(tiny)
    assert problems[0].startswith("policy.preset: unknown preset 'nowhere'")
    assert "referrals[0](R-1).age: required field is missing" in problems


def test_schema_key_is_ignored(tiny: dict[str, Any]) -> None:
    tiny = {"$schema": "./instance.schema.json", **tiny}
    assert parse_instance(tiny) == load_instance(TINY)


def test_every_problem_is_reported_with_its_place_and_the_items_id(
    tiny: dict[str, Any],
) -> None:
    tiny["referrals"][0]["discharge"] = tiny["referrals"][0].pop("discharge_date")
    tiny["referrals"][1]["discharge_date"] = "2026-3-5"
    tiny["therapists"][0]["discipline"] = "physio"
    tiny["sites"][0]["coordinates"]["lat"] = 40.0
    problems = problems_of(tiny)
    assert len(problems) == 5, problems  # the renamed field is both unknown and missing
    assert "referrals[0](R-1).discharge: unknown field; did you mean 'discharge_date'?" in problems
    assert "referrals[0](R-1).discharge_date: required field is missing" in problems
    assert any(
        p.startswith("referrals[1](R-2).discharge_date: ") and "(got '2026-3-5')" in p
        for p in problems
    )
    assert any(
        p.startswith("therapists[0](T-PT1).discipline: ") and "'physio'" in p for p in problems
    )
    assert any(p.startswith("sites[0](S-GA).coordinates.lat: ") for p in problems)


def test_a_typo_in_a_nested_model_suggests_its_own_field(tiny: dict[str, Any]) -> None:
    tiny["therapists"][1]["absences"][0]["ende"] = "2026-03-13"
    (problem, *_) = problems_of(tiny)
    assert problem == ("therapists[1](T-OT1).absences[0].ende: unknown field; did you mean 'end'?")


def test_model_rule_messages_come_without_pydantics_prefix(tiny: dict[str, Any]) -> None:
    tiny["referrals"][0]["received_date"] = "2026-03-01"
    (problem,) = problems_of(tiny)
    assert problem == (
        "referrals[0](R-1): received_date 2026-03-01 is before discharge_date 2026-03-04"
    )


def test_a_cpr_number_is_rejected_and_never_echoed(tiny: dict[str, Any]) -> None:
    tiny["referrals"][0]["id"] = "010170-1234"
    tiny["bookings"][1]["referral_id"] = "0101701234"
    problems = problems_of(tiny)
    assert any("looks like a CPR number" in p for p in problems)
    assert not any("1234" in p for p in problems), problems


def test_not_an_object() -> None:
    assert problems_of([1, 2]) == ["expected a JSON object, got list"]


def test_missing_file_is_unreadable(tmp_path: Path) -> None:
    with pytest.raises(DataFileError) as info:
        load_instance(tmp_path / "nope.json")
    assert info.value.unreadable
    assert info.value.problems == ["no such file"]


def test_a_directory_is_unreadable(tmp_path: Path) -> None:
    with pytest.raises(DataFileError) as info:
        load_instance(tmp_path)
    assert info.value.unreadable


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ('{"name": "x",', "not valid JSON: Expecting property name"),
        ('{"name": "x", "name": "y"}', "key 'name' appears twice in one object"),
        ('{"lat": NaN}', "not valid JSON: NaN is not a number in JSON"),
        ("", "not valid JSON: Expecting value at line 1, column 1"),
    ],
)
def test_bad_json_is_a_problem_with_the_file(tmp_path: Path, text: str, expected: str) -> None:
    with pytest.raises(DataFileError) as info:
        read_json(write(tmp_path, text))
    assert not info.value.unreadable
    (problem,) = info.value.problems
    assert problem.startswith(expected), problem


def test_not_utf8(tmp_path: Path) -> None:
    path = tmp_path / "latin1.json"
    path.write_bytes('{"name": "Sønderborg"}'.encode("latin-1"))
    with pytest.raises(DataFileError, match="not UTF-8"):
        read_json(path)


def test_a_byte_order_mark_is_allowed(tmp_path: Path) -> None:
    path = tmp_path / "bom.json"
    path.write_bytes(b"\xef\xbb\xbf" + TINY.read_bytes())
    assert load_instance(path) == load_instance(TINY)


# --------------------------------------------------------------------------- writing


def test_instance_round_trip(tmp_path: Path) -> None:
    instance = load_instance(TINY)
    path = tmp_path / "deep" / "copy.json"
    save_instance(instance, path)
    assert load_instance(path) == instance
    data = json.loads(path.read_text(encoding="utf-8"))
    assert data["policy"]["name"] == "soenderborg"  # written out in full, not as a name
    assert data["policy"]["free_choice_answer_hours"] == 72
    assert not list(path.parent.glob(".*.tmp")), "no temporary file left behind"


def test_round_trip_of_a_built_instance_with_every_kind_of_record() -> None:
    instance = Instance(
        name="built",
        planning_date=date(2026, 3, 6),
        policy=PRESETS["hjoerring"],
        sites=[
            Site(
                id="S1",
                name="Site",
                coordinates=Coordinates(lat=57.46, lon=9.98),
                opening_hours=[OpeningHours(weekday=0, open="08:00", close="15:00")],  # type: ignore[arg-type]
                rooms=1,
            )
        ],
        therapists=[
            Therapist(
                id="T1",
                discipline="OT",  # type: ignore[arg-type]
                specialties=["neuro"],
                roster=[
                    RosterEntry(date=date(2026, 3, 9), start="08:00", end="15:00", site_id="S1")  # type: ignore[arg-type]
                ],
                absences=[Absence(start=date(2026, 3, 10), end=date(2026, 3, 11))],
            )
        ],
        bookings=[
            Booking(
                id="B1",
                therapist_id="T1",
                start=datetime(2026, 3, 9, 8, 0),
                end=datetime(2026, 3, 9, 9, 0),
                status="tentative",  # type: ignore[arg-type]
                referral_id="R1",
            )
        ],
        referrals=[
            Referral(
                id="R1",
                discharge_date=date(2026, 3, 2),
                received_date=date(2026, 3, 3),
                level="avanceret",  # type: ignore[arg-type]
                discipline="OT",  # type: ignore[arg-type]
                specialty="neuro",
                postponed_to=date(2026, 3, 16),
                unavailable_dates=[date(2026, 3, 17)],
                age=70,
            )
        ],
    )
    assert parse_instance(json.loads(dump_instance(instance))) == instance


def test_solution_round_trip(tmp_path: Path) -> None:
    solution = a_solution()
    path = tmp_path / "solution.json"
    save_solution(solution, path)
    assert load_solution(path) == solution


def test_a_bad_solution_file_names_the_place(tmp_path: Path) -> None:
    data = json.loads(a_solution().model_dump_json())
    data["assignments"][0]["outcome"] = "early"
    with pytest.raises(DataFileError) as info:
        load_solution(write(tmp_path, json.dumps(data), "solution.json"))
    (problem,) = info.value.problems
    assert problem.startswith("assignments[0].outcome: ")


def test_writing_under_a_file_is_reported(tmp_path: Path) -> None:
    blocker = write(tmp_path, "{}", "blocker")
    with pytest.raises(DataFileError) as info:
        save_instance(load_instance(TINY), blocker / "x.json")
    assert info.value.unreadable
    assert info.value.problems[0].startswith("cannot write")


# --------------------------------------------------------------------------- JSON Schema


def test_the_instance_schema_accepts_the_file_formats_conveniences(tiny: dict[str, Any]) -> None:
    schema = instance_json_schema()
    jsonschema.Draft202012Validator.check_schema(schema)
    validator = jsonschema.Draft202012Validator(schema)
    validator.validate(tiny)  # policy by preset name
    validator.validate({**tiny, "$schema": "x", "policy": {"preset": "rebild", "horizon_days": 7}})
    validator.validate(json.loads(dump_instance(load_instance(TINY))))  # policy spelled out


@pytest.mark.parametrize(
    "change",
    [
        {"policy": "sonderborg"},
        {"policy": {"preset": "rebild", "horizon_dayz": 7}},
        {"referrals": [{"id": "R-1"}]},
        {"planning_date": 20260306},
        {"extra": 1},
    ],
)
def test_the_instance_schema_rejects_what_loading_rejects(
    tiny: dict[str, Any], change: dict[str, Any]
) -> None:
    data = {**tiny, **change}
    assert not jsonschema.Draft202012Validator(instance_json_schema()).is_valid(data)
    with pytest.raises(DataFileError):
        parse_instance(data)


def test_the_solution_and_policy_schemas_accept_what_is_written() -> None:
    jsonschema.Draft202012Validator(solution_json_schema()).validate(
        json.loads(a_solution().model_dump_json())
    )
    jsonschema.Draft202012Validator(policy_json_schema()).validate(
        PRESETS["hjoerring"].model_dump(mode="json")
    )


# --------------------------------------------------------------------------- the format doc


def _fields(model: type[BaseModel]) -> set[str]:
    return set(model.model_fields)


def test_the_doc_names_every_field_preset_and_problem_code() -> None:
    text = DOC.read_text(encoding="utf-8")
    named = {word for span in re.findall(r"`([^`\n]+)`", text) for word in re.findall(r"\w+", span)}
    models: list[type[BaseModel]] = [
        Instance,
        Policy,
        Site,
        OpeningHours,
        Coordinates,
        Therapist,
        RosterEntry,
        Absence,
        Booking,
        Referral,
    ]
    for model in models:
        missing = _fields(model) - named
        assert not missing, f"{model.__name__} fields not in the doc: {sorted(missing)}"
    assert not set(PRESETS) - named
    assert not set(PROBLEM_CODES) - named, sorted(set(PROBLEM_CODES) - named)


def test_the_docs_example_is_a_clean_instance() -> None:
    text = DOC.read_text(encoding="utf-8")
    (example,) = re.findall(r"```json\n(.*?)```", text, re.S)
    instance = parse_instance(json.loads(example))
    assert validate_instance(instance) == []
