"""Shared test set-up: the tiny-week builders of :mod:`tests.builders`, also as a fixture, and a
real PostgreSQL server for the job store's tests.

Import the builders directly (``from tests.builders import therapist, referral, instance``), or
take the ``week`` fixture, which is the module itself, when a test wants them by name.

`postgres_server` starts a private cluster once per session: initdb into a temporary folder
(as the ``postgres`` user when the tests run as root, as initdb refuses root), then the server
on 127.0.0.1 at a free port, trust authentication, fsync off; it is stopped at the end.
PostgreSQL must be installed (`make test` installs Debian's ``postgresql`` package when it is
missing, see scripts/ensure_postgres.sh). `postgres_url` gives each test a fresh database.
"""

from __future__ import annotations

import glob
import itertools
import os
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType

import pytest

from tests import builders

_databases = itertools.count()


def _bindir() -> Path | None:
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"), reverse=True)
    if found:
        return Path(found[0]).parent
    initdb = shutil.which("initdb")
    return Path(initdb).resolve().parent if initdb else None


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[str]:
    """The URL of a running PostgreSQL server's maintenance database."""
    bindir = _bindir()
    if bindir is None:
        pytest.fail(
            "PostgreSQL is not installed: run `make test` (it installs it), or "
            "`apt-get install postgresql`"
        )
    base = Path(tempfile.mkdtemp(prefix="scheduler-pg-"))
    data, log = base / "data", base / "server.log"
    as_user: list[str] = []
    if os.geteuid() == 0:
        shutil.chown(base, "postgres", "postgres")
        as_user = ["runuser", "-u", "postgres", "--"]
    port = _free_port()

    def run(*args: str) -> None:
        subprocess.run([*as_user, *args], check=True, capture_output=True, timeout=120)

    run(str(bindir / "initdb"), "-D", str(data), "-U", "scheduler", "--auth=trust", "-E", "UTF8",
        "--no-sync")  # fmt: skip
    options = f"-p {port} -k {base} -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=200"
    run(str(bindir / "pg_ctl"), "-D", str(data), "-l", str(log), "-o", options, "-w", "-t", "120",
        "start")  # fmt: skip
    try:
        yield f"postgresql://scheduler@127.0.0.1:{port}/postgres"
    finally:
        subprocess.run(
            [*as_user, str(bindir / "pg_ctl"), "-D", str(data), "-m", "immediate", "stop"],
            capture_output=True,
            timeout=120,
        )
        shutil.rmtree(base, ignore_errors=True)


@pytest.fixture
def postgres_url(postgres_server: str) -> str:
    """A fresh, empty database on the session's PostgreSQL server."""
    import psycopg

    name = f"jobs_{os.getpid()}_{next(_databases)}"
    with psycopg.connect(postgres_server, autocommit=True) as conn:
        conn.execute(f"CREATE DATABASE {name}")
    return postgres_server.rsplit("/", 1)[0] + "/" + name


@pytest.fixture
def week() -> ModuleType:
    """The tiny-week builders (:mod:`tests.builders`)."""
    return builders
