#!/usr/bin/env python3
"""Copy the API's .proto files, with every google/type and google/rpc file they or the error
details need, into one folder a non-Python client compiles from.

    python scripts/export_protos.py               # into out/protos
    python scripts/export_protos.py --to DIR

The folder then holds ``scheduler/v1/scheduler.proto``, ``google/type/{date,datetime,
timeofday}.proto`` and ``google/longrunning/operations.proto`` with the google/api annotations
it imports (imported by the API), ``google/rpc/{status,error_details,code}.proto`` (the
error details: ``BadRequest``, ``ErrorInfo``, ``RetryInfo``) and the google/protobuf well-known
types they import (``struct``, ``duration``, ``any``, ``wrappers``; protobuf.js and most
toolchains bundle these too). google/type and google/rpc come from the googleapis-common-protos
package, the well-known types from grpcio-tools: the same files the Python code is generated
from.
"""

from __future__ import annotations

import argparse
import re
import shutil
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
ERROR_PROTOS = (
    "google/rpc/status.proto",
    "google/rpc/error_details.proto",
    "google/rpc/code.proto",
)
_IMPORT = re.compile(r'^import\s+(?:public\s+)?"([^"]+)";', re.M)


def _roots() -> list[Path]:
    import google.type.date_pb2
    import grpc_tools

    return [
        ROOT / "protos",
        Path(google.type.date_pb2.__file__).parent.parent.parent,
        Path(grpc_tools.__file__).parent / "_proto",
    ]


_SHIPPED_AS = {"google/longrunning/operations.proto": "google/longrunning/operations_proto.proto"}
"""googleapis-common-protos ships google.longrunning's proto under another file name (see
scripts/gen_protos.py); it is exported under the name the API imports."""


def _find(name: str, roots: list[Path]) -> Path:
    for root in roots:
        for candidate in (name, _SHIPPED_AS.get(name)):
            if candidate is not None and (root / candidate).is_file():
                return root / candidate
    raise FileNotFoundError(f"{name} is in none of {', '.join(map(str, roots))}")


def export(target: Path) -> list[str]:
    """Copy the protos and everything they import into `target`; returns the names copied."""
    roots = _roots()
    todo = ["scheduler/v1/scheduler.proto", *ERROR_PROTOS]
    done: list[str] = []
    while todo:
        name = todo.pop()
        if name in done:
            continue
        source = _find(name, roots)
        (target / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(source, target / name)
        done.append(name)
        todo += _IMPORT.findall(source.read_text(encoding="utf-8"))
    return sorted(done)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--to", type=Path, default=ROOT / "out" / "protos")
    args = parser.parse_args()
    for name in export(args.to):
        print(args.to / name)
    return 0


if __name__ == "__main__":
    sys.exit(main())
