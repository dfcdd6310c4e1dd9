"""scripts/export_protos.py: the folder a non-Python client compiles from is complete."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent.parent


def test_the_exported_protos_compile_on_their_own(tmp_path: Path) -> None:
    exported = tmp_path / "protos"
    done = subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "export_protos.py"), "--to", str(exported)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    api = (exported / "scheduler" / "v1" / "scheduler.proto").read_text()
    assert "rpc SubmitSimulate" in api and "rpc SubmitOptimize" in api
    assert (exported / "google" / "longrunning" / "operations.proto").is_file()
    out = tmp_path / "out"
    out.mkdir()
    # Only the exported folder on the include path: nothing comes from elsewhere (protoc in a
    # child process: in this one it would meet the descriptors already loaded).
    compiled = subprocess.run(
        [
            sys.executable,
            "-m",
            "grpc_tools.protoc",
            f"-I{exported}",
            f"--python_out={out}",
            str(exported / "scheduler" / "v1" / "scheduler.proto"),
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert compiled.returncode == 0, compiled.stderr
