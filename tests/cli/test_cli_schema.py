"""`scheduler schema`: the JSON Schemas, printed or written, usable by a JSON Schema validator."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import pytest

from scheduler.cli import main
from scheduler.domain.files import load_instance

TINY = Path(__file__).parent.parent / "data" / "tiny-soenderborg.json"


def test_instance_schema_by_default(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["schema"]) == 0
    schema = json.loads(capsys.readouterr().out)
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert schema["title"] == "Instance"
    jsonschema.Draft202012Validator(schema).validate(json.loads(TINY.read_text("utf-8")))


@pytest.mark.parametrize(("kind", "title"), [("solution", "Solution"), ("policy", "Policy")])
def test_other_kinds(kind: str, title: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["schema", kind]) == 0
    schema = json.loads(capsys.readouterr().out)
    assert schema["title"] == title
    jsonschema.Draft202012Validator.check_schema(schema)


def test_write_to_a_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "schemas" / "instance.schema.json"
    assert main(["schema", "-o", str(out)]) == 0
    assert capsys.readouterr().out == ""
    schema = json.loads(out.read_text(encoding="utf-8"))
    # An instance file can point at the written schema and still load.
    data = {"$schema": "schemas/instance.schema.json", **json.loads(TINY.read_text("utf-8"))}
    jsonschema.Draft202012Validator(schema).validate(data)
    pointed = tmp_path / "week.json"
    pointed.write_text(json.dumps(data), encoding="utf-8")
    assert load_instance(pointed) == load_instance(TINY)


def test_an_unwritable_output_exits_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("", encoding="utf-8")
    assert main(["schema", "-o", str(blocker / "x.json")]) == 2
    assert capsys.readouterr().err.startswith(f"scheduler schema: {blocker / 'x.json'}: cannot")


def test_an_unknown_kind_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as info:
        main(["schema", "referral"])
    assert info.value.code == 2
    assert "invalid choice" in capsys.readouterr().err
