#!/usr/bin/env python3
"""A private PostgreSQL server for tests, benchmarks and trying the job store out.

    python scripts/pg_cluster.py           # start one, print its URL, stop it on Ctrl-C

:func:`private_cluster` runs initdb into a temporary folder (as the ``postgres`` user when run as
root, as initdb refuses root), starts the server on 127.0.0.1 at a free port with trust
authentication and fsync off (data is thrown away), yields the URL of its ``postgres``
database, and stops it and deletes the folder at the end. It needs PostgreSQL's server binaries
(Debian: ``apt-get install postgresql``; `make test` installs them, see ensure_postgres.sh).
"""

from __future__ import annotations

import glob
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

__all__ = ["bindir", "private_cluster"]


def bindir() -> Path | None:
    """The folder of initdb and pg_ctl, the newest installed version first; None if none."""
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


@contextmanager
def private_cluster() -> Iterator[str]:
    """A running throw-away PostgreSQL server; yields ``postgresql://scheduler@127.0.0.1:PORT/postgres``."""
    bin_ = bindir()
    if bin_ is None:
        raise RuntimeError(
            "PostgreSQL is not installed: run `make test` (it installs it) or "
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
        done = subprocess.run([*as_user, *args], capture_output=True, text=True, timeout=120)
        if done.returncode != 0:
            raise RuntimeError(f"{Path(args[0]).name} failed: {done.stderr.strip()}")

    try:
        run(str(bin_ / "initdb"), "-D", str(data), "-U", "scheduler", "--auth=trust",
            "-E", "UTF8", "--no-sync")  # fmt: skip
        options = (
            f"-p {port} -k {base} -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=200"
        )
        run(str(bin_ / "pg_ctl"), "-D", str(data), "-l", str(log), "-o", options, "-w",
            "-t", "120", "start")  # fmt: skip
        yield f"postgresql://scheduler@127.0.0.1:{port}/postgres"
    finally:
        if (data / "postmaster.pid").exists():
            subprocess.run(
                [*as_user, str(bin_ / "pg_ctl"), "-D", str(data), "-m", "immediate", "stop"],
                capture_output=True,
                timeout=120,
            )
        shutil.rmtree(base, ignore_errors=True)


def main() -> int:
    with private_cluster() as url:
        print(url, flush=True)
        signal.sigwait({signal.SIGINT, signal.SIGTERM})  # blocked in __main__: no interrupt
    return 0


if __name__ == "__main__":
    signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT, signal.SIGTERM})
    sys.exit(main())
