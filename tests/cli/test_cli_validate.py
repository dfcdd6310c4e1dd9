"""`scheduler validate`, called as a user would: exit codes and what it prints."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from scheduler.cli import main

TINY = Path(__file__).parent.parent / "data" / "tiny-soenderborg.json"


def tiny() -> dict[str, Any]:
    data: dict[str, Any] = json.loads(TINY.read_text(encoding="utf-8"))
    return data


def write(tmp_path: Path, data: Any, name: str = "week.json") -> Path:
    path = tmp_path / name
    path.write_text(json.dumps(data), encoding="utf-8")
    return path


def test_a_clean_instance(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["validate", str(TINY)]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0] == (
        f"{TINY}: ok (policy soenderborg, planning date 2026-03-06; "
        "2 sites, 2 therapists, 2 bookings, 3 referrals)"
    )
    # One file: a one-screen summary follows.
    summary = "\n".join(out[1:])
    for label in ("horizon", "sites", "therapists", "calendars", "referrals", "deadlines"):
        assert f"  {label}" in summary
    assert len(out) <= 24


def test_several_files_get_one_line_each(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["validate", str(TINY), str(TINY)]) == 0
    assert len(capsys.readouterr().out.splitlines()) == 2


def test_dates_lists_each_referrals_legal_dates(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["validate", "--dates", str(TINY)]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[1].split() == [
        "referral", "level", "anchor", "earliest", "deadline", "frit", "valg", "letter", "by",
        "send", "by",
    ]  # fmt: skip
    # Letter by Sun 8 March as Sønderborg states it; it goes out on Friday 6 March.
    assert lines[2].split() == [
        "R-1", "basal", "PT", "2026-03-04", "2026-03-06", "2026-03-11", "yes", "2026-03-08",
        "2026-03-06",
    ]  # fmt: skip
    assert lines[3].split()[5:7] == ["2026-03-23", "yes"]  # 7 days after the plan's start


def test_dates_names_why_there_is_no_frit_valg_and_who_is_not_planned(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    data = tiny()
    data["policy"] = "rebild"
    data["referrals"][0]["age"] = 15
    assert main(["validate", "--dates", str(write(tmp_path, data))]) == 0
    out = capsys.readouterr().out
    assert "no (plan_later_start)" in out  # R-2 under Rebild
    assert "R-1: rejected (childrens_team): a citizen under 18 goes to" in out
    assert "15" not in out.split("R-1: rejected", 1)[1].splitlines()[0]


def test_warnings_pass_unless_strict(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    data = tiny()
    data["referrals"][0]["received_date"] = "2026-03-07"
    path = write(tmp_path, data)
    assert main(["validate", str(path)]) == 0
    out = capsys.readouterr().out
    assert out.splitlines()[0].startswith(f"{path}: ok, 1 warning (")
    assert "  warning  referrals[0](R-1).received_date: received 2026-03-07" in out
    assert out.rstrip().endswith("[received_after_planning]")
    assert main(["validate", "--strict", str(path)]) == 1


def test_errors_exit_1(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    data = tiny()
    data["bookings"][0]["therapist_id"] = "T-NOBODY"
    assert main(["validate", str(write(tmp_path, data))]) == 1
    out = capsys.readouterr().out
    assert ": 1 error (" in out.splitlines()[0]
    assert "  error    bookings[0](B-1).therapist_id: no therapist has id 'T-NOBODY'" in out


def test_an_invalid_file_lists_every_problem_and_exits_1(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    data = tiny()
    data["policy"] = "sonderborg"
    data["referrals"][0]["level"] = "ekstra"
    path = write(tmp_path, data)
    assert main(["validate", str(path)]) == 1
    captured = capsys.readouterr()
    assert captured.err == ""
    lines = captured.out.splitlines()
    assert lines[0] == f"{path}: not a valid instance file (2 problems)"
    assert lines[1].startswith("  error    policy: unknown preset 'sonderborg'")
    assert lines[2].startswith("  error    referrals[0](R-1).level: ")


@pytest.mark.parametrize(
    ("wording", "reason"),
    [
        ("specialiseret genoptræning", "specialised_at_hospital"),
        ("genoptræning på specialiseret niveau", "specialised_at_hospital"),
        ("rehabilitering på specialiseret niveau", "specialised_rehab_external"),
    ],
)
def test_a_specialised_referral_is_a_warning_naming_it(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], wording: str, reason: str
) -> None:
    data = tiny()
    data["referrals"][0]["level"] = wording
    assert main(["validate", str(write(tmp_path, data))]) == 0
    out = capsys.readouterr().out
    assert "warning  referrals[0](R-1): will be rejected" in out
    assert f"({reason})" in out and "[excluded_referral]" in out


def test_not_json_exits_1(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "broken.json"
    path.write_text("{", encoding="utf-8")
    assert main(["validate", str(path)]) == 1
    assert "not valid JSON" in capsys.readouterr().out


def test_a_missing_file_exits_2_on_stderr(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    missing = tmp_path / "nope.json"
    assert main(["validate", str(TINY), str(missing)]) == 2
    captured = capsys.readouterr()
    assert captured.err == f"scheduler validate: {missing}: no such file\n"
    assert captured.out.startswith(f"{TINY}: ok")


def test_usage_errors_exit_2(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as info:
        main(["validate"])
    assert info.value.code == 2
    assert "FILE" in capsys.readouterr().err


def test_the_worst_file_decides(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bad = tiny()
    bad["referrals"][1]["id"] = "R-1"
    assert main(["validate", str(TINY), str(write(tmp_path, bad))]) == 1
    out = capsys.readouterr().out
    assert out.count(": ok (") == 1 and "[duplicate_id]" in out


def test_quiet_prints_only_files_with_problems(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bad = tiny()
    bad["referrals"][1]["id"] = "R-1"
    bad_path = write(tmp_path, bad)
    assert main(["validate", "-q", str(TINY), str(bad_path)]) == 1
    out = capsys.readouterr().out
    assert str(TINY) not in out
    assert out.startswith(f"{bad_path}: 1 error")


def test_json_report(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    warned = tiny()
    warned["referrals"][0]["received_date"] = "2026-03-07"
    broken = tiny()
    del broken["planning_date"]
    paths = [TINY, write(tmp_path, warned, "warned.json"), write(tmp_path, broken, "broken.json")]
    assert main(["validate", "--json", *map(str, paths)]) == 1
    report = json.loads(capsys.readouterr().out)
    clean, warning, invalid = report["files"]
    assert clean == {
        "file": str(TINY),
        "ok": True,
        "loaded": True,
        "problems": [],
        "summary": {
            "policy": "soenderborg",
            "planning_date": "2026-03-06",
            "sites": 2,
            "therapists": 2,
            "bookings": 2,
            "referrals": 3,
        },
    }
    assert warning["ok"] is True
    assert [p["code"] for p in warning["problems"]] == ["received_after_planning"]
    assert warning["problems"][0]["severity"] == "warning"
    assert warning["problems"][0]["where"] == "referrals[0](R-1).received_date"
    assert invalid["ok"] is False and invalid["loaded"] is False
    assert invalid["problems"] == [
        {
            "severity": "error",
            "code": "invalid_file",
            "where": str(paths[2]),
            "message": "planning_date: required field is missing",
        }
    ]


def test_json_report_marks_an_unreadable_file(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["validate", "--json", str(tmp_path / "nope.json")]) == 2
    (entry,) = json.loads(capsys.readouterr().out)["files"]
    assert entry["problems"][0]["code"] == "unreadable_file"
