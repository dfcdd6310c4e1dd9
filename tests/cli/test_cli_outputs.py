"""`scheduler report`, `letters` and `export-fhir` as a user calls them: exit codes and files."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest
from fhir.resources.R4B.bundle import Bundle

from scheduler.cli import main
from scheduler.domain.files import load_solution

TINY = Path(__file__).parent.parent / "data" / "tiny-soenderborg.json"


@pytest.fixture(scope="module")
def solved(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("solved") / "solution.json"
    args = ["solve", str(TINY), "-o", str(out), "--time-limit", "3", "--workers", "1", "-q"]
    assert main(args) == 0
    return out


def test_report_writes_one_html_file(solved: Path, tmp_path: Path) -> None:
    out = tmp_path / "plan.html"
    assert main(["report", str(TINY), str(solved), "-o", str(out)]) == 0
    html = out.read_text(encoding="utf-8")
    assert html.startswith("<!DOCTYPE html>") and "R-2" in html and "<script>" in html


def test_letters_writes_the_csv_in_send_order(solved: Path, tmp_path: Path) -> None:
    out = tmp_path / "letters.csv"
    assert main(["letters", str(TINY), str(solved), "-o", str(out)]) == 0
    with out.open(encoding="utf-8", newline="") as f:
        rows = list(csv.DictReader(f))
    assert list(rows[0]) == ["referral_id", "kind", "send_by", "start", "answer_by"]
    # R-1 is booked; R-2 is not bookable; R-3's start was communicated already.
    assert [(r["referral_id"], r["kind"]) for r in rows] == [("R-1", "start_time")]
    a1 = next(a for a in load_solution(solved).assignments if a.referral_id == "R-1")
    assert a1.start is not None and rows[0]["start"] == a1.start.isoformat(timespec="minutes")


def test_export_fhir_writes_a_valid_bundle(solved: Path, tmp_path: Path) -> None:
    out = tmp_path / "bundle.json"
    args = ["export-fhir", str(TINY), str(solved), "-o", str(out)]
    args += ["--sor", "1037801000016003", "--requester-sor", "227871000016001"]
    args += ["--timestamp", "2026-03-06T16:00:00+01:00"]
    assert main(args) == 0
    data = json.loads(out.read_text(encoding="utf-8"))
    assert len(Bundle.model_validate(data).entry) == 3
    assert data["timestamp"] == "2026-03-06T16:00:00+01:00"


def test_export_fhir_refuses_a_timestamp_without_zone(
    solved: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    args = ["export-fhir", str(TINY), str(solved), "-o", str(tmp_path / "b.json")]
    args += ["--sor", "1", "--requester-sor", "2", "--timestamp", "2026-03-06T16:00"]
    assert main(args) == 1
    assert "time zone" in capsys.readouterr().err


def test_a_solution_of_another_instance_is_refused(
    solved: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    data = json.loads(TINY.read_text(encoding="utf-8"))
    data["referrals"] = data["referrals"][:1]
    other = tmp_path / "other.json"
    other.write_text(json.dumps(data), encoding="utf-8")
    assert main(["letters", str(other), str(solved), "-o", str(tmp_path / "l.csv")]) == 1
    assert "not a plan of" in capsys.readouterr().err


def test_a_missing_file_is_a_clear_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["report", "no/such.json", "no/such.json", "-o", str(tmp_path / "p.html")]) == 2
    err = capsys.readouterr().err
    assert "no/such.json" in err and "Traceback" not in err
