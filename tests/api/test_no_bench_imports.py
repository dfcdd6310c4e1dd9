"""The service and the CLI never import the ``bench`` extra's libraries (highspy, matplotlib)."""

from __future__ import annotations

import subprocess
import sys

# Every module of the service's packages and the CLI, imported in a fresh interpreter.
_IMPORT_ALL = """
import importlib, pkgutil, sys
import scheduler.api, scheduler.api.server, scheduler.planning, scheduler.cli
for package in (scheduler.api, scheduler.planning):
    for module in pkgutil.walk_packages(package.__path__, package.__name__ + "."):
        importlib.import_module(module.name)
loaded = sorted(m for m in ("highspy", "matplotlib") if m in sys.modules)
assert not loaded, f"imported by the service or the CLI: {loaded}"
"""


def test_service_and_cli_never_import_the_bench_libraries() -> None:
    done = subprocess.run(
        [sys.executable, "-c", _IMPORT_ALL], capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
