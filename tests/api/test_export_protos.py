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
    # Only the exported folder on the include path: nothing comes from elsewhere, not even the
    # well-known types (`python -m grpc_tools.protoc` would add its own: protoc.main adds none).
    # In a child process: in this one protoc would meet the descriptors already loaded.
    compile_all = (
        "import sys; from grpc_tools import protoc; "
        "sys.exit(max(protoc.main(['protoc', '-I' + sys.argv[1], '--python_out=' + sys.argv[2], p])"
        " for p in sys.argv[3:]))"
    )
    protos = ["scheduler/v1/scheduler.proto", "google/rpc/status.proto"]
    protos.append("google/rpc/error_details.proto")
    compiled = subprocess.run(
        [sys.executable, "-c", compile_all, str(exported), str(out), *protos],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert compiled.returncode == 0, compiled.stderr
    assert (out / "scheduler" / "v1" / "scheduler_pb2.py").is_file()
