"""`scheduler client submit|status|wait|cancel|list` against a real in-process server."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from scheduler.api.server import RunningServer, start_server
from scheduler.cli import main
from scheduler.domain import SolveOptions
from scheduler.domain.files import load_instance, load_solution
from scheduler.jobs.store import JobStore, open_store
from scheduler.planning.solve import solve

TINY = Path(__file__).parent.parent / "data" / "tiny-soenderborg.json"


@pytest.fixture
def server(tmp_path: Path) -> Iterator[RunningServer]:
    store: JobStore = open_store(str(tmp_path / "jobs.db"))
    running = start_server(port=0, job_store=store)
    yield running
    running.stop(0).wait()
    store.close()


def _run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_submit_wait_status_list_and_delete_flow(
    server: RunningServer, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    address = ("--address", server.address)
    code, out, _ = _run(
        capsys, "client", "submit", str(TINY), "--workers", "1", "--seed", "1",
        "--time-limit", "10", "--request-id", "tiny-1", *address,
    )  # fmt: skip
    assert code == 0 and out.startswith("operations/")
    name = out.strip()
    # The same request id: the same operation.
    code, again, _ = _run(
        capsys, "client", "submit", str(TINY), "--workers", "1", "--seed", "1",
        "--time-limit", "10", "--request-id", "tiny-1", *address,
    )  # fmt: skip
    assert again.strip() == name
    solution_path = tmp_path / "solution.json"
    code, out, err = _run(
        capsys, "client", "wait", name.removeprefix("operations/"), "-o", str(solution_path),
        *address,
    )  # fmt: skip
    assert code == 0, err
    assert "[" in err and "%" in err  # the progress bar
    expected = solve(load_instance(TINY), SolveOptions(time_limit_s=10, workers=1, seed=1))
    stored = load_solution(solution_path)
    assert stored.assignments == expected.assignments
    assert f"{expected.kpis.on_time}" in out
    code, out, _ = _run(capsys, "client", "status", name, *address)
    assert code == 0 and "succeeded" in out and name in out
    code, out, _ = _run(capsys, "client", "list", "--done", *address)
    assert code == 0 and name in out
    code, out, _ = _run(capsys, "client", "list", "--running", *address)
    assert code == 0 and name not in out


def test_cancel_and_errors(server: RunningServer, capsys: pytest.CaptureFixture[str]) -> None:
    address = ("--address", server.address)
    code, out, _ = _run(capsys, "client", "cancel", "operations/nosuchjob", *address)
    assert code == 1
    code, _, err = _run(capsys, "client", "status", "operations/nosuchjob", *address)
    assert code == 1 and "NOT_FOUND" in err and "Traceback" not in err
    code, out, _ = _run(
        capsys, "client", "submit", str(TINY), "--workers", "1", "--time-limit", "10", *address
    )
    name = out.strip()
    code, out, _ = _run(capsys, "client", "cancel", name, *address)
    assert code == 0 and ("cancelled" in out or "succeeded" in out)  # it may have finished
    code, _, err = _run(capsys, "client", "wait", name, *address)
    assert code == (1 if "cancelled" in out else 0)
    if code == 1:
        assert "CANCELLED" in err


def test_submit_reports_an_unreadable_file(
    server: RunningServer, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({"name": 3}))
    code, _, err = _run(capsys, "client", "submit", str(bad), "--address", server.address)
    assert code in (1, 2) and "bad.json" in err
