"""Shared test set-up: the tiny-week builders of :mod:`tests.builders`, also as a fixture, and a
real PostgreSQL server for the job store's tests.

Import the builders directly (``from tests.builders import therapist, referral, instance``), or
take the ``week`` fixture, which is the module itself, when a test wants them by name.

`postgres_server` starts a private, throw-away cluster once per session
(scripts/pg_cluster.py: initdb into a temporary folder, the server on 127.0.0.1 at a free port)
and stops it at the end. PostgreSQL must be installed: `make test` installs Debian's
``postgresql`` package when it is missing (scripts/ensure_postgres.sh). `postgres_url` gives
each test a fresh database.
"""

from __future__ import annotations

import itertools
import os
import sys
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType

import pytest

from tests import builders

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "scripts"))

from pg_cluster import bindir, private_cluster

_databases = itertools.count()


@pytest.fixture
def week() -> ModuleType:
    """The tiny-week builders (:mod:`tests.builders`)."""
    return builders


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[str]:
    """The URL of a running PostgreSQL server's maintenance database."""
    if bindir() is None:
        pytest.fail(
            "PostgreSQL is not installed: run `make test` (it installs it), or "
            "`apt-get install postgresql`"
        )
    with private_cluster() as url:
        yield url


@pytest.fixture
def postgres_url(postgres_server: str) -> str:
    """A fresh, empty database on the session's PostgreSQL server."""
    import psycopg

    name = f"jobs_{os.getpid()}_{next(_databases)}"
    with psycopg.connect(postgres_server, autocommit=True) as conn:
        conn.execute(f"CREATE DATABASE {name}")
    return postgres_server.rsplit("/", 1)[0] + "/" + name
