"""`scheduler solve` as a user calls it: exit codes, progress, summary, the solution file."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from scheduler.cli import main
from scheduler.domain.files import load_instance, load_solution
from scheduler.verify.checker import check_solution

TINY = Path(__file__).parent.parent / "data" / "tiny-soenderborg.json"


def test_solve_writes_a_valid_solution_with_progress_and_summary(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "solution.json"
    code = main(["solve", str(TINY), "-o", str(out), "--time-limit", "3", "--workers", "1"])
    captured = capsys.readouterr()
    assert code == 0
    assert "greedy" in captured.err and "on_time" in captured.err
    assert "on time" in captured.out and "Solver: cp-sat" in captured.out
    assert "R-2" in captured.out  # the not bookable referral is listed with its reason
    assert "no_capacity_in_horizon" in captured.out
    solution = load_solution(out)
    assert check_solution(load_instance(TINY), solution).ok


def test_solution_to_stdout_keeps_the_summary_on_stderr(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["solve", str(TINY), "-o", "-", "--time-limit", "2", "--workers", "1", "-q"]) == 0
    captured = capsys.readouterr()
    assert json.loads(captured.out)["kpis"]["referrals"] == 3
    assert "Solver: cp-sat" in captured.err


def test_same_seed_and_one_worker_give_the_same_plan(tmp_path: Path) -> None:
    paths = [tmp_path / "a.json", tmp_path / "b.json"]
    for path in paths:
        args = ["solve", str(TINY), "-o", str(path), "--workers", "1", "--seed", "7", "-q"]
        assert main(args) == 0
    first, second = (load_solution(p) for p in paths)
    assert first.assignments == second.assignments


def test_missing_file_is_a_clear_error(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["solve", "no/such/file.json"]) == 2
    err = capsys.readouterr().err
    assert "no/such/file.json" in err and "Traceback" not in err


def test_a_specialised_referral_is_rejected_and_the_others_solved(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    data = json.loads(TINY.read_text(encoding="utf-8"))
    data["referrals"][0]["level"] = "genoptræning på specialiseret niveau"
    path = tmp_path / "with-specialised.json"
    path.write_text(json.dumps(data), encoding="utf-8")
    out = tmp_path / "solution.json"
    assert main(["solve", str(path), "-o", str(out), "-q", "--workers", "1"]) == 0
    summary = capsys.readouterr().out
    assert "rejected         1" in summary and "specialised_at_hospital" in summary
    solution = load_solution(out)
    first, *others = solution.assignments
    assert first.outcome.value == "rejected" and "hospital" in first.detail
    assert any(a.start is not None for a in others)
    assert check_solution(load_instance(path), solution).ok


def test_an_instance_with_errors_is_not_solved(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    data = json.loads(TINY.read_text(encoding="utf-8"))
    data["therapists"].append(dict(data["therapists"][0]))  # a duplicate id
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps(data), encoding="utf-8")
    assert main(["solve", str(bad), "-o", str(tmp_path / "s.json")]) == 1
    err = capsys.readouterr().err
    assert "duplicate" in err and "not solved" in err
    assert not (tmp_path / "s.json").exists()


@pytest.mark.parametrize(
    "flag",
    [
        ["--time-limit", "0"],
        ["--workers", "-1"],
        ["--late-days", "0"],
        ["--weight", "foo=1"],
        ["--weight", "wait_day=x"],
        ["--weight", "travel_minute=-1"],
    ],
)
def test_bad_options_are_usage_errors(flag: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["solve", str(TINY), *flag]) == 2
    err = capsys.readouterr().err
    assert flag[0] in err and "Traceback" not in err


def test_weights_are_taken_from_the_command_line(tmp_path: Path) -> None:
    out = tmp_path / "s.json"
    args = ["solve", str(TINY), "-o", str(out), "-q", "--workers", "1"]
    assert main([*args, "--weight", "wait_day=5", "--weight", "travel_minute=0"]) == 0
    assert check_solution(load_instance(TINY), load_solution(out)).ok


def test_an_earlier_solution_is_a_hint(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    first, second = tmp_path / "first.json", tmp_path / "second.json"
    args = ["solve", str(TINY), "--time-limit", "3", "--workers", "1", "-q"]
    assert main([*args, "-o", str(first)]) == 0
    capsys.readouterr()
    assert main([*args, "-o", str(second), "--hint", str(first)]) == 0
    out = capsys.readouterr().out
    booked = [a for a in load_solution(first).assignments if a.start and not a.fixed]
    assert f"Hint: {len(booked)} of {len(booked)} hinted first sessions still fit" in out
    solution = load_solution(second)
    assert solution.stats.stages[0]["stage"] == "hint"
    assert check_solution(load_instance(TINY), solution).ok
    assert main([*args, "--hint", str(tmp_path / "missing.json")]) == 2
    assert "missing.json: no such file" in capsys.readouterr().err
