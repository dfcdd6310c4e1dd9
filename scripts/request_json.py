#!/usr/bin/env python3
"""Write an instance file as an ``OptimizeRequest`` in the proto3 JSON form, for clients in
other languages (grpcurl ``-d @``, the Node example in docs/examples/node).

    python scripts/request_json.py instances/vejen-week.json --time-limit 5 > request.json
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from google.protobuf import json_format  # noqa: E402

from scheduler.api.convert import instance_to_proto, options_to_proto  # noqa: E402
from scheduler.domain import SolveOptions  # noqa: E402
from scheduler.domain.files import load_instance  # noqa: E402
from scheduler.v1 import scheduler_pb2 as pb  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("instance", type=Path)
    parser.add_argument("--time-limit", type=float, default=5.0)
    parser.add_argument("--workers", type=int, default=0)
    args = parser.parse_args()
    request = pb.OptimizeRequest(
        instance=instance_to_proto(load_instance(args.instance)),
        options=options_to_proto(SolveOptions(time_limit_s=args.time_limit, workers=args.workers)),
    )
    print(json_format.MessageToJson(request))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
