"""`scheduler bench`: every method run and checked, reports written, failures reported."""

from __future__ import annotations

import csv
import json
import subprocess
import sys
from datetime import date, datetime, time
from pathlib import Path

import pytest

import scheduler.cli.bench as bench_cli
from scheduler.bench.report import markdown_table
from scheduler.bench.runner import BenchResult
from scheduler.cli import main
from scheduler.domain import (
    Booking,
    Coordinates,
    Instance,
    OpeningHours,
    Referral,
    RosterEntry,
    Site,
    Therapist,
)
from scheduler.domain.files import save_instance
from scheduler.domain.policy import Policy
from scheduler.verify.kpis import calendar_fill

TUE, THU = date(2025, 3, 4), date(2025, 3, 6)
PNG = b"\x89PNG\r\n\x1a\n"


def tiny() -> Instance:
    """Two hours free in four rostered (one meeting-hour booked each day): load 0.5."""
    site = Site(
        id="S",
        name="Træningscenter",
        coordinates=Coordinates(lat=55.5, lon=9.5),
        opening_hours=[OpeningHours(weekday=d, open=time(8), close=time(16)) for d in range(5)],
        rooms=1,
    )
    t1 = Therapist(
        id="T1",
        discipline="PT",
        roster=[
            RosterEntry(date=day, start=time(8), end=time(10), site_id="S") for day in (TUE, THU)
        ],
    )
    meetings = [
        Booking(
            id=f"M{k}",
            therapist_id="T1",
            start=datetime.combine(day, time(9)),
            end=datetime.combine(day, time(10)),
        )
        for k, day in enumerate((TUE, THU))
    ]
    refs = [
        Referral(
            id="R1",
            discharge_date=date(2025, 3, 2),
            received_date=date(2025, 3, 2),
            level="basal",
            discipline="PT",
            age=70,
        ),
        Referral(
            id="R2",
            discharge_date=date(2025, 2, 26),
            received_date=date(2025, 3, 3),
            level="basal",
            discipline="PT",
            age=70,
        ),
    ]
    return Instance(
        name="tiny-bench",
        planning_date=date(2025, 3, 3),
        policy=Policy(),
        sites=[site],
        therapists=[t1],
        bookings=meetings,
        referrals=refs,
    )


def test_calendar_load_is_booked_share_of_rostered_time() -> None:
    assert calendar_fill(tiny()) == pytest.approx(0.5)


def test_bench_cli_runs_all_methods_checks_and_writes_reports(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "tiny.json"
    save_instance(tiny(), path)
    out = tmp_path / "out"
    code = main(
        [
            "bench",
            str(path),
            # Generous: the tiny week is solved to optimality in well under a second on a quiet
            # machine; the limit only caps a busy one (child process start-up included).
            "--time-limit",
            "60",
            "--workers",
            "1",
            "--methods",
            "cpsat,baseline,mip",
            "--out",
            str(out),
        ]
    )
    captured = capsys.readouterr()
    assert code == 0, captured.err
    assert "[3/3] tiny-bench mip" in captured.err

    with (out / "results.csv").open(encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    assert [r["method"] for r in rows] == ["cpsat", "baseline", "mip"]
    assert all(r["valid"] == "True" for r in rows)
    on_time = {r["method"]: int(r["on_time"]) for r in rows}
    # FCFS gives R1 the only hour R2 could start on time in; both optimisers do not.
    assert on_time == {"cpsat": 2, "baseline": 1, "mip": 2}
    assert all(float(r["peak_mb"]) > 10 for r in rows)
    assert float(rows[0]["calendar_load"]) == pytest.approx(0.5)

    data = json.loads((out / "results.json").read_text(encoding="utf-8"))
    assert data["meta"]["command"].startswith("scheduler bench ")
    assert data["results"][2]["solver"] == "mip-highs"

    md = (out / "results.md").read_text(encoding="utf-8")
    assert "| tiny-bench | 2 |" in md and "FCFS baseline" in md and "HiGHS MIP" in md
    assert markdown_table([]).splitlines()[0] in captured.out
    for name in ("on_time_vs_load.png", "time_vs_size.png"):
        assert (out / name).read_bytes().startswith(PNG)


def test_bench_cli_regenerates_manifest_entries(tmp_path: Path) -> None:
    manifest = tmp_path / "manifest.json"
    entry = {"profile": "vejen", "seed": 1, "overrides": {"referrals": 6, "therapists": 4}}
    manifest.write_text(
        json.dumps(
            {
                "entries": [
                    {"name": "small-070", "load": 0.7, **entry},
                    {"name": "small-095", "load": 0.95, **entry},
                ]
            }
        ),
        encoding="utf-8",
    )
    out = tmp_path / "out"
    args = ["bench", "--manifest", str(manifest), "--only", "*-095", "--methods", "baseline"]
    assert main([*args, "--out", str(out), "--time-limit", "1"]) == 0
    data = json.loads((out / "results.json").read_text(encoding="utf-8"))
    assert [(r["instance"], r["nominal_load"]) for r in data["results"]] == [("small-095", 0.95)]
    assert data["results"][0]["valid"] is True


@pytest.mark.parametrize(
    ("extra", "code"),
    [
        (["--methods", "cpsat,gurobi"], 2),
        (["--time-limit", "0"], 2),
        (["--only", "vejen-*"], 2),
    ],
)
def test_bench_cli_usage_errors(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], extra: list[str], code: int
) -> None:
    path = tmp_path / "tiny.json"
    save_instance(tiny(), path)
    assert main(["bench", str(path), "--out", str(tmp_path / "out"), *extra]) == code
    assert capsys.readouterr().err.strip()
    assert not (tmp_path / "out").exists()


# `scheduler bench` as if the extra were not installed: a None entry in sys.modules makes both
# importlib.util.find_spec and import see the module as absent.
_BENCH_WITHOUT_EXTRA = """
import sys
sys.modules["highspy"] = None
sys.modules["matplotlib"] = None
from scheduler.cli import main
raise SystemExit(main(sys.argv[1:]))
"""


def test_bench_cli_without_the_extra_says_how_to_install_it(tmp_path: Path) -> None:
    path = tmp_path / "tiny.json"
    save_instance(tiny(), path)
    out = tmp_path / "out"
    done = subprocess.run(
        [sys.executable, "-c", _BENCH_WITHOUT_EXTRA, "bench", str(path), "--out", str(out)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 2
    assert done.stdout == ""
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1, done.stderr
    assert "pip install 'scheduler[bench]'" in lines[0]
    assert "highspy" in lines[0] and "matplotlib" in lines[0]
    assert not out.exists()


def test_bench_cli_bad_files(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["bench", str(tmp_path / "missing.json")]) == 2
    broken = tmp_path / "broken.json"
    broken.write_text('{"planning_date": "2025-03-03"}', encoding="utf-8")
    assert main(["bench", str(broken), "--out", str(tmp_path / "out")]) == 1
    assert main(["bench", "--manifest", str(tmp_path / "no-manifest.json")]) == 2
    err = capsys.readouterr().err
    assert "missing.json" in err and "broken.json" in err and "Traceback" not in err


def test_bench_cli_fails_when_a_solution_is_invalid(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "tiny.json"
    save_instance(tiny(), path)
    bad = BenchResult(
        instance="tiny-bench",
        profile="",
        referrals=2,
        therapists=1,
        nominal_load=None,
        calendar_load=0.5,
        method="cpsat",
        valid=False,
        violations=["therapist_overlap: T1 double-booked"],
    )
    monkeypatch.setattr(bench_cli, "run_bench", lambda *args, **kwargs: [bad])
    assert main(["bench", str(path), "--out", str(tmp_path / "out")]) == 1
    assert "FAILED tiny-bench cpsat: therapist_overlap" in capsys.readouterr().err
    assert "| NO |" in (tmp_path / "out" / "results.md").read_text(encoding="utf-8")
