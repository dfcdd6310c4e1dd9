"""`scheduler validate` and `scheduler solve` on mutated instance files: a clear error or a
plan, exit code 0 or 1, never a traceback.

A fixed seed picks a place in the tiny Sønderborg instance and puts something wrong there: a
time with a zone, a number where a date or time belongs, a wrong type, an impossible date, a
CPR-shaped or oversized id, a missing key. The CLI is called in-process for speed; one
subprocess run checks the real exit path.
"""

from __future__ import annotations

import copy
import json
import random
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from scheduler.cli import main

TINY = Path(__file__).parent.parent / "data" / "tiny-soenderborg.json"
CASES = 300
SOLVE_EVERY = 10

_MUTANTS: list[Any] = [
    "08:00Z",
    "08:00+01:00",
    "2026-03-02T08:00+01:00",
    "2026-03-02T08:00:00Z",
    28800,
    1767225600,
    1.5,
    -1,
    0,
    10**30,
    None,
    True,
    "",
    "x" * 5000,
    "2026-02-30",
    "25:00",
    "2026-13-01",
    "010190-1234",
    [],
    {},
    ["08:00"],
    {"preset": "nowhere"},
]


def _leaves(node: Any, path: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    if isinstance(node, dict):
        found = [(*path, k) for k in node]
        for k, v in node.items():
            found += _leaves(v, (*path, k))
        return found
    if isinstance(node, list):
        found = [(*path, i) for i in range(len(node))]
        for i, v in enumerate(node):
            found += _leaves(v, (*path, i))
        return found
    return []


def _mutate(data: Any, rng: random.Random) -> Any:
    out = copy.deepcopy(data)
    for _ in range(rng.choice((1, 1, 2))):
        places = _leaves(out)
        path = rng.choice(places)
        parent = out
        for key in path[:-1]:
            parent = parent[key]
        if isinstance(parent, dict) and rng.random() < 0.15:
            del parent[path[-1]]
        else:
            parent[path[-1]] = copy.deepcopy(rng.choice(_MUTANTS))
    return out


def _cases() -> list[tuple[int, str]]:
    data = json.loads(TINY.read_text())
    rng = random.Random(20261201)
    return [(i, json.dumps(_mutate(data, rng))) for i in range(CASES)]


def test_mutated_instance_files_give_exit_0_or_1_and_never_a_traceback(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    codes: dict[int, int] = {}
    for i, text in _cases():
        path = tmp_path / f"case-{i}.json"
        path.write_text(text)
        runs = [["validate", str(path)]]
        if i % SOLVE_EVERY == 0:
            runs.append(
                [
                    "solve",
                    str(path),
                    "-o",
                    str(tmp_path / "out.json"),
                    "--time-limit",
                    "0.5",
                    "--workers",
                    "1",
                    "-q",
                ]
            )
        for argv in runs:
            try:
                code = main(argv)
            except SystemExit as exc:  # argparse only; never expected here
                code = int(exc.code or 0)
            except Exception as exc:  # a traceback: show which case
                pytest.fail(f"case {i} {argv[0]}: {type(exc).__name__}: {exc}\n{text[:2000]}")
            captured = capsys.readouterr()
            assert code in (0, 1), (i, argv[0], code, captured.err[-2000:])
            assert "Traceback" not in captured.err + captured.out, (i, argv[0])
            codes[i] = max(codes.get(i, 0), code)
    # The mutations are not all harmless: most cases are refused, with a message.
    assert sum(1 for c in codes.values() if c == 1) > CASES // 2


@pytest.mark.parametrize(
    ("field", "value"),
    [("start", "08:00Z"), ("start", 28800), ("date", 20260302), ("end", "08:00+01:00")],
)
def test_a_zoned_or_numeric_roster_time_names_the_field(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], field: str, value: Any
) -> None:
    data = json.loads(TINY.read_text())
    data["therapists"][0]["roster"][0][field] = value
    path = tmp_path / "zoned.json"
    path.write_text(json.dumps(data))
    assert main(["validate", str(path)]) == 1
    captured = capsys.readouterr()
    assert "Traceback" not in captured.err + captured.out
    assert f"roster[0].{field}" in captured.err + captured.out


def test_a_zoned_booking_in_a_real_process_exits_1_with_the_field_named(tmp_path: Path) -> None:
    data = json.loads(TINY.read_text())
    assert data["bookings"], "the tiny instance has a booking"
    data["bookings"][0]["start"] = "2026-03-02T08:00:00+01:00"
    path = tmp_path / "zoned.json"
    path.write_text(json.dumps(data))
    for command in ("solve",):
        proc = subprocess.run(
            [sys.executable, "-m", "scheduler", command, str(path)],
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert proc.returncode == 1, proc.stderr
        assert "Traceback" not in proc.stderr + proc.stdout
        assert "bookings[0]" in proc.stderr + proc.stdout
        assert "start" in proc.stderr + proc.stdout
