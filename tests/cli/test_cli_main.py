"""The entry point's promises: exit codes, and a bug reported in one line without input data."""

from __future__ import annotations

import argparse

import pytest

from scheduler.cli import INTERNAL_ERROR, main
from scheduler.cli import validate as validate_command


def test_an_unexpected_error_is_one_line_without_its_message(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    secret = "010101-1234 Jens Jensen"

    def broken(args: argparse.Namespace) -> int:
        raise ValueError(secret)

    monkeypatch.setattr(validate_command, "run", broken)
    monkeypatch.delenv("SCHEDULER_DEBUG", raising=False)
    assert main(["validate", "week.json"]) == INTERNAL_ERROR
    err = capsys.readouterr().err
    assert "Traceback" not in err
    assert secret not in err
    assert err.count("\n") == 1
    assert "internal error (ValueError at " in err
    assert "test_cli_main.py:" in err
    assert "this is a bug" in err


def test_debug_shows_the_traceback(monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(args: argparse.Namespace) -> int:
        raise ValueError("boom")

    monkeypatch.setattr(validate_command, "run", broken)
    monkeypatch.setenv("SCHEDULER_DEBUG", "1")
    with pytest.raises(ValueError, match="boom"):
        main(["validate", "week.json"])
