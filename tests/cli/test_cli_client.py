"""`scheduler client` against a real in-process server, and `scheduler serve` as a process."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from scheduler.api.server import RunningServer, start_server
from scheduler.bench.generator import generate
from scheduler.cli import main
from scheduler.domain.files import load_solution, save_instance


@pytest.fixture(scope="module")
def server() -> Iterator[RunningServer]:
    running = start_server(port=0)
    yield running
    running.stop(0).wait()


@pytest.fixture(scope="module")
def instance_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("client") / "vejen.json"
    save_instance(generate("vejen", seed=1, referrals=4), path)
    return path


def test_client_optimize_prints_a_summary_and_writes_the_solution(
    server: RunningServer, instance_file: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "solution.json"
    code = main(
        [
            "client",
            "optimize",
            str(instance_file),
            "--address",
            server.address,
            "--stream",
            "--time-limit",
            "2",
            "--workers",
            "1",
            "-o",
            str(out),
        ]
    )
    captured = capsys.readouterr()
    assert code == 0, captured.err
    assert "referrals        4" in captured.out
    assert "on time" in captured.err and "/4" in captured.err  # progress lines
    assert len(load_solution(out).assignments) == 4
    assert main(["client", "check", str(instance_file), str(out), "--address", server.address]) == 0
    assert capsys.readouterr().out.strip().endswith("ok")


def test_client_propose_prints_ranked_options(
    server: RunningServer, instance_file: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    referral = json.loads(instance_file.read_text())["referrals"][0]["id"]
    code = main(
        ["client", "propose", str(instance_file), referral, "-k", "3", "--address", server.address]
    )
    out = capsys.readouterr().out
    assert code == 0
    assert f"Referral {referral}: earliest start" in out
    rows = [line for line in out.splitlines() if line[:2].strip() in {"1", "2", "3"}]
    assert [row.split()[0] for row in rows] == ["1", "2", "3"]


def test_client_shows_the_field_violations_of_a_refused_request(
    server: RunningServer, instance_file: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code = main(["client", "propose", str(instance_file), "R-404", "--address", server.address])
    err = capsys.readouterr().err
    assert code == 1
    assert "INVALID_ARGUMENT" in err
    assert "  referral_id: unknown referral id 'R-404'" in err
    assert "Traceback" not in err


def test_client_without_a_server_says_so(
    instance_file: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code = main(
        [
            "client",
            "propose",
            str(instance_file),
            "R-1",
            "--address",
            "127.0.0.1:1",
            "--timeout",
            "2",
        ]
    )
    err = capsys.readouterr().err
    assert code == 1
    assert "UNAVAILABLE" in err and "scheduler serve" in err


def test_client_with_a_missing_file_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["client", "optimize", "/nonexistent/instance.json"]) == 2
    assert "Traceback" not in capsys.readouterr().err


def test_serve_logs_json_lines_and_shuts_down_on_sigterm() -> None:
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    with subprocess.Popen(
        [sys.executable, "-m", "scheduler", "serve", "--port", "0", "--drain", "0.2"],
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    ) as proc:
        try:
            assert proc.stderr is not None
            first = json.loads(proc.stderr.readline())
            assert first["event"] == "serving" and first["port"] > 0
            proc.send_signal(signal.SIGTERM)
            assert proc.wait(timeout=15) == 0
            events = [json.loads(line)["event"] for line in proc.stderr.read().splitlines()]
            assert events[-4:] == ["signal", "draining", "shutting down", "stopped"]
        finally:
            if proc.poll() is None:
                proc.kill()
