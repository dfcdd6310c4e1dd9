"""The client examples of docs/grpc.md, checked against a real server.

grpcurl is not installed here (and cannot be), so its lines are checked the way grpcurl runs
them: the services and methods come from the server's reflection (grpcurl ``list`` and
``describe``), each ``-d`` JSON body is parsed with ``json_format`` into the request message
built from the reflected descriptors (not the generated Python classes), and the calls the docs
make are sent with those dynamic messages. The ``-import-path`` line needs the exported protos to
compile with nothing else on the import path (tests/api/test_export_protos.py). The Node example
runs only where ``node`` and its packages are present (``docs/examples/node/node_modules``, or
``SCHEDULER_NODE_MODULES``); it is skipped otherwise: nothing is downloaded.
"""

from __future__ import annotations

import json
import os
import re
import shlex
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import grpc
import pytest
from google.protobuf import descriptor_pool, json_format, message_factory
from google.protobuf.descriptor import MethodDescriptor
from grpc_reflection.v1alpha.proto_reflection_descriptor_database import (
    ProtoReflectionDescriptorDatabase,
)

from scheduler.api.server import SERVICE_NAME, RunningServer, start_server
from scheduler.v1 import scheduler_pb2 as pb

ROOT = Path(__file__).resolve().parents[2]
DOC = ROOT / "docs" / "grpc.md"
TINY = ROOT / "tests" / "data" / "tiny-soenderborg.json"
NODE_EXAMPLE = ROOT / "docs" / "examples" / "node"
REQUEST_OPTIONS = ("--time-limit", "2", "--workers", "1")


def _grpcurl_commands() -> list[list[str]]:
    """Every grpcurl command in the doc's shell blocks, continuation lines joined, as words."""
    text = DOC.read_text(encoding="utf-8")
    commands: list[list[str]] = []
    for block in re.findall(r"```sh\n(.*?)```", text, re.S):
        for line in block.replace("\\\n", " ").splitlines():
            if line.strip().startswith("grpcurl "):
                commands.append(shlex.split(line.split(" < ")[0]))
    return commands


def _body(words: list[str]) -> str | None:
    """The ``-d`` argument of a grpcurl command (None without one)."""
    return words[words.index("-d") + 1] if "-d" in words else None


def _method_name(words: list[str]) -> str | None:
    """The ``package.Service/Method`` a grpcurl command calls (None for list/describe)."""
    found = [w for w in words if re.fullmatch(r"[A-Za-z_][\w.]*\.[A-Za-z_]\w*/\w+", w)]
    return found[0] if found else None


@pytest.fixture(scope="module")
def server() -> Iterator[RunningServer]:
    running = start_server(port=0)  # as `scheduler serve`: reflection on, no TLS
    yield running
    running.stop(0).wait()


@pytest.fixture(scope="module")
def channel(server: RunningServer) -> Iterator[grpc.Channel]:
    with grpc.insecure_channel(server.address) as ch:
        yield ch


@pytest.fixture(scope="module")
def reflected(channel: grpc.Channel) -> tuple[ProtoReflectionDescriptorDatabase, Any]:
    """The server's reflection, as grpcurl reads it: a descriptor database and a pool over it."""
    database = ProtoReflectionDescriptorDatabase(channel)
    return database, descriptor_pool.DescriptorPool(database)


def _method(pool: Any, name: str) -> MethodDescriptor:
    service, method = name.split("/")
    found: MethodDescriptor = pool.FindServiceByName(service).methods_by_name[method]
    return found


def _call(channel: grpc.Channel, method: MethodDescriptor, request: Any, timeout: float) -> Any:
    """A unary call with messages made from reflected descriptors, as grpcurl sends it."""
    reply = message_factory.GetMessageClass(method.output_type)
    stub = channel.unary_unary(
        f"/{method.containing_service.full_name}/{method.name}",
        request_serializer=lambda m: m.SerializeToString(),
        response_deserializer=reply.FromString,
    )
    return stub(request, timeout=timeout)


def test_the_docs_have_the_grpcurl_lines_this_module_checks() -> None:
    commands = _grpcurl_commands()
    verbs = [w for c in commands for w in c if w in ("list", "describe")]
    assert "list" in verbs and "describe" in verbs
    assert {_method_name(c) for c in commands} >= {
        "grpc.health.v1.Health/Check",
        "scheduler.v1.Scheduler/Optimize",
    }


def test_list_names_the_services_the_docs_use(
    reflected: tuple[ProtoReflectionDescriptorDatabase, Any],
) -> None:
    # grpcurl -plaintext localhost:50051 list
    database, _ = reflected
    services = set(database.get_services())
    assert {SERVICE_NAME, "grpc.health.v1.Health"} <= services
    assert "grpc.reflection.v1alpha.ServerReflection" in services


def test_describe_gives_every_rpc_with_the_messages_of_the_protos(
    reflected: tuple[ProtoReflectionDescriptorDatabase, Any],
) -> None:
    # grpcurl -plaintext localhost:50051 describe scheduler.v1.Scheduler
    _, pool = reflected
    described = pool.FindServiceByName(SERVICE_NAME)
    generated = pb.DESCRIPTOR.services_by_name["Scheduler"]
    assert [m.name for m in described.methods] == [m.name for m in generated.methods]
    for method in described.methods:
        mine = generated.methods_by_name[method.name]
        assert method.input_type.full_name == mine.input_type.full_name
        assert method.output_type.full_name == mine.output_type.full_name
        assert method.server_streaming == mine.server_streaming
        # Every field of every request message the reflection gives is the proto's.
        assert [f.name for f in method.input_type.fields] == [
            f.name for f in mine.input_type.fields
        ]


def test_every_grpcurl_call_names_a_reflected_method_and_its_json_body_parses(
    reflected: tuple[ProtoReflectionDescriptorDatabase, Any],
) -> None:
    _, pool = reflected
    calls = [c for c in _grpcurl_commands() if _method_name(c) is not None]
    assert calls
    for words in calls:
        name = _method_name(words)
        assert name is not None
        method = _method(pool, name)  # KeyError/NotFound if the docs name a method that is not
        body = _body(words)
        if body is not None and body != "@":
            request = message_factory.GetMessageClass(method.input_type)()
            json_format.Parse(body, request)  # raises on a field the message does not have


def _request_json(tmp_path: Path) -> str:
    """What the docs' `python scripts/request_json.py ... > request.json` writes."""
    out = subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "request_json.py"), str(TINY), *REQUEST_OPTIONS],
        capture_output=True,
        text=True,
        check=True,
        cwd=ROOT,
        timeout=120,
    ).stdout
    (tmp_path / "request.json").write_text(out, encoding="utf-8")
    return out


def test_the_health_check_line_answers_serving(
    channel: grpc.Channel, reflected: tuple[ProtoReflectionDescriptorDatabase, Any]
) -> None:
    # grpcurl -plaintext -d '{"service": "scheduler.v1.Scheduler"}' ... grpc.health.v1.Health/Check
    _, pool = reflected
    (words,) = [c for c in _grpcurl_commands() if _method_name(c) == "grpc.health.v1.Health/Check"]
    method = _method(pool, "grpc.health.v1.Health/Check")
    body = _body(words)
    assert body is not None
    request = json_format.Parse(body, message_factory.GetMessageClass(method.input_type)())
    answer = json.loads(json_format.MessageToJson(_call(channel, method, request, 10)))
    assert answer == {"status": "SERVING"}


def test_the_optimize_line_with_a_request_json_answers_a_plan(
    channel: grpc.Channel,
    reflected: tuple[ProtoReflectionDescriptorDatabase, Any],
    tmp_path: Path,
) -> None:
    # python scripts/request_json.py ... > request.json
    # grpcurl -plaintext -max-time 15 -d @ localhost:50051 scheduler.v1.Scheduler/Optimize \
    #     < request.json
    _, pool = reflected
    (words,) = [
        c
        for c in _grpcurl_commands()
        if _method_name(c) == "scheduler.v1.Scheduler/Optimize" and "-plaintext" in c
    ]
    assert _body(words) == "@"  # the body comes from standard input
    method = _method(pool, "scheduler.v1.Scheduler/Optimize")
    request = json_format.Parse(
        _request_json(tmp_path), message_factory.GetMessageClass(method.input_type)()
    )
    answer = json.loads(json_format.MessageToJson(_call(channel, method, request, 60)))
    solution = answer["solution"]
    assert len(solution["assignments"]) == len(request.instance.referrals) > 0
    assert solution["stats"]["method"] == "cp-sat"


def _node_modules() -> Path | None:
    where = os.environ.get("SCHEDULER_NODE_MODULES")
    folder = Path(where) if where else NODE_EXAMPLE / "node_modules"
    wanted = ("@grpc/grpc-js", "@grpc/proto-loader", "protobufjs")
    return folder if all((folder / name).is_dir() for name in wanted) else None


def test_the_node_example_runs_against_a_live_server(server: RunningServer, tmp_path: Path) -> None:
    node, modules = shutil.which("node"), _node_modules()
    if node is None or modules is None:
        pytest.skip("node or the example's packages (@grpc/grpc-js ...) are not installed here")
    protos = tmp_path / "protos"
    subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "export_protos.py"), "--to", str(protos)],
        check=True,
        cwd=ROOT,
        timeout=120,
    )
    _request_json(tmp_path)
    env = {
        **os.environ,
        "NODE_PATH": str(modules),
        "PROTOS": str(protos),
        "SCHEDULER_ADDRESS": server.address,
    }
    env.pop("SCHEDULER_TOKEN", None)
    env.pop("SCHEDULER_CA", None)
    script = str(NODE_EXAMPLE / "client.js")
    good = subprocess.run(
        [node, script, str(tmp_path / "request.json")],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )
    assert good.returncode == 0, good.stderr
    assert re.match(r"plan: 3 referrals, \d+ on time, status \w+", good.stdout), good.stdout
    bad = subprocess.run(
        [node, script, "--bad"], capture_output=True, text=True, env=env, timeout=120
    )
    assert bad.returncode == 0, bad.stderr
    assert bad.stdout.startswith("status INVALID_ARGUMENT")
    assert "google.rpc.BadRequest" in bad.stdout and "google.rpc.ErrorInfo" in bad.stdout
