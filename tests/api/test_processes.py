"""`scheduler serve --processes N`: N servers on one port sharing the store, as a user runs it
(a real command, real connections, real signals)."""

from __future__ import annotations

import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import grpc
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc

from scheduler.api.convert import instance_to_proto
from scheduler.bench.generator import generate
from scheduler.v1 import scheduler_pb2 as pb
from scheduler.v1 import scheduler_pb2_grpc
from tests.api.running import wait_until


def _free_ports(n: int) -> int:
    """A port p with p .. p+n-1 free now (the servers bind them a moment later)."""
    for _ in range(50):
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = int(s.getsockname()[1])
        if port + n > 65535:
            continue
        try:
            held = []
            for p in range(port, port + n):
                t = socket.socket()
                held.append(t)
                t.bind(("127.0.0.1", p))
        except OSError:
            continue
        finally:
            for t in held:
                t.close()
        return port
    raise RuntimeError("no free ports")


def _serving(address: str, within_s: float) -> bool:
    deadline = time.monotonic() + within_s
    while time.monotonic() < deadline:
        try:
            with grpc.insecure_channel(address) as ch:
                status = health_pb2_grpc.HealthStub(ch).Check(
                    health_pb2.HealthCheckRequest(), timeout=2
                )
                if status.status == health_pb2.HealthCheckResponse.SERVING:
                    return True
        except grpc.RpcError:
            time.sleep(0.2)
    return False


@pytest.fixture
def supervisor(tmp_path: Path) -> Iterator[tuple[subprocess.Popen[str], int, Path]]:
    """`scheduler serve --processes 2` on a free port, metrics on the next two."""
    port = _free_ports(3)
    log = tmp_path / "serve.log"
    command = [sys.executable, "-m", "scheduler", "serve", "--processes", "2"]
    command += ["--port", str(port), "--metrics-port", str(port + 1)]
    command += ["--store", str(tmp_path / "store.db"), "--drain", "0.2", "--grace", "2"]
    with (
        log.open("w") as err,
        subprocess.Popen(command, stderr=err, text=True, env={**os.environ}) as proc,
    ):
        try:
            assert _serving(f"127.0.0.1:{port}", 120), log.read_text()[-2000:]
            # Every server up, not only the first to answer.
            assert wait_until(
                lambda: _count(log, "serving") == 2 and _count(log, "serving processes"), 120
            )
            yield proc, port, log
        finally:
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)  # its servers stop with it
                try:
                    proc.wait(60)
                except subprocess.TimeoutExpired:
                    proc.kill()


def _logged(log: Path) -> list[dict[str, Any]]:
    lines = log.read_text().splitlines()
    return [json.loads(line) for line in lines if line.startswith("{") and line.endswith("}")]


def _count(log: Path, event: str) -> int:
    return sum(1 for line in _logged(log) if line["event"] == event)


def _gone(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    # A zombie (ended, not yet reaped by its new parent) counts as gone.
    stat = Path(f"/proc/{pid}/stat")
    return stat.exists() and stat.read_text().rsplit(")", 1)[1].split()[0] == "Z"


def _proposals_served(metrics_port: int) -> float:
    text = urllib.request.urlopen(f"http://127.0.0.1:{metrics_port}/metrics", timeout=10).read()
    found = re.search(
        rb'scheduler_rpc_total\{code="OK",method="ProposeSlots"\} ([0-9.e+]+)', text
    ) or re.search(rb'scheduler_rpc_total\{method="ProposeSlots",code="OK"\} ([0-9.e+]+)', text)
    return float(found.group(1)) if found else 0.0


def test_the_processes_share_one_port_and_the_calendars_and_stop_together(
    supervisor: tuple[subprocess.Popen[str], int, Path],
) -> None:
    proc, port, log = supervisor
    address = f"127.0.0.1:{port}"
    week = generate("vejen", seed=1, referrals=12)
    with grpc.insecure_channel(address) as ch:
        put = scheduler_pb2_grpc.SchedulerStub(ch).PutCalendar(
            pb.PutCalendarRequest(calendar_id="vejen", instance=instance_to_proto(week)),
            timeout=60,
        )
    request = pb.ProposeSlotsRequest(
        calendar=pb.CalendarRef(calendar_id="vejen", version=put.version),
        referral_id=week.referrals[0].id,
        k=5,
    )
    answers = set()
    calls = 32  # each on a new connection: the kernel spreads them over both processes
    for _ in range(calls):
        with grpc.insecure_channel(address) as ch:
            answer = scheduler_pb2_grpc.SchedulerStub(ch).ProposeSlots(request, timeout=60)
            answers.add(answer.SerializeToString())
    assert len(answers) == 1
    served = [_proposals_served(port + 1), _proposals_served(port + 2)]
    assert sum(served) == calls
    # Both served some (all 32 connections on one of two processes: odds 2 in 2**32).
    assert min(served) > 0, served
    proc.send_signal(signal.SIGTERM)
    assert proc.wait(timeout=60) == 0
    lines = _logged(log)
    assert sum(1 for line in lines if line["event"] == "stopped") == 2
    assert lines[-1]["event"] == "stopped processes" and lines[-1]["exit_code"] == 0
    assert "Traceback" not in log.read_text()


def test_a_server_that_dies_stops_the_others_and_the_status_says_so(
    supervisor: tuple[subprocess.Popen[str], int, Path],
) -> None:
    proc, _, log = supervisor
    pids = next(line["pids"] for line in _logged(log) if line["event"] == "serving processes")
    os.kill(pids[0], signal.SIGKILL)
    assert proc.wait(timeout=60) == 1
    lines = _logged(log)
    assert any(
        line["event"] == "server process ended" and line["exit_code"] == -signal.SIGKILL
        for line in lines
    )
    with pytest.raises(ProcessLookupError):
        os.kill(pids[1], 0)  # stopped, and reaped


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (["--processes", "2", "--port", "50999"], "needs --store"),
        (["--processes", "2", "--port", "0", "--store", "s.db"], "needs a fixed --port"),
        (["--processes", "0"], "--processes must be >= 1"),
    ],
)
def test_processes_without_what_they_need_are_usage_errors(
    arguments: list[str], message: str, tmp_path: Path
) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "scheduler", "serve", *arguments],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=tmp_path,
    )
    assert done.returncode == 2
    assert message in done.stderr and "Traceback" not in done.stderr


def test_servers_stop_by_themselves_when_the_supervisor_is_killed(
    supervisor: tuple[subprocess.Popen[str], int, Path],
) -> None:
    proc, port, log = supervisor
    pids = next(line["pids"] for line in _logged(log) if line["event"] == "serving processes")
    proc.kill()
    proc.wait(30)
    # Restarted at once (as a service manager would): the new supervisor waits for the old
    # servers, which drain and end on their own (none is left on the port unsupervised).
    command = [sys.executable, "-m", "scheduler", "serve", "--processes", "2"]
    command += ["--port", str(port), "--store", str(log.parent / "store.db"), "--drain", "0"]
    restart_log = log.parent / "restart.log"
    with (
        restart_log.open("w") as err,
        subprocess.Popen(command, stderr=err, text=True) as restarted,
    ):
        try:
            assert wait_until(lambda: _count(restart_log, "serving") == 2, 120), (
                restart_log.read_text()
            )
            assert wait_until(lambda: all(_gone(pid) for pid in pids), 120)
            assert _count(log, "supervisor gone: stopping") == 2
            assert _serving(f"127.0.0.1:{port}", 60)
            restarted.send_signal(signal.SIGTERM)
            assert restarted.wait(60) == 0
        finally:
            if restarted.poll() is None:
                restarted.kill()


def test_a_second_supervisor_on_the_port_is_refused_and_lines_name_their_server(
    supervisor: tuple[subprocess.Popen[str], int, Path], tmp_path: Path
) -> None:
    _, port, log = supervisor
    command = [sys.executable, "-m", "scheduler", "serve", "--processes", "2"]
    command += ["--port", str(port), "--store", str(tmp_path / "other.db")]
    done = subprocess.run(command, capture_output=True, text=True, timeout=120)
    assert done.returncode == 1
    assert f"another `scheduler serve --processes` serves on 127.0.0.1:{port}" in done.stderr
    assert "Traceback" not in done.stderr
    serving = [line for line in _logged(log) if line["event"] == "serving"]
    assert sorted(line["process_index"] for line in serving) == [0, 1]
