"""`scheduler client`: call a running scheduler service from a shell.

    scheduler client optimize FILE [--address HOST:PORT] [--stream] [-o solution.json]
    scheduler client propose FILE REFERRAL_ID [-k 5]
    scheduler client check FILE [SOLUTION]
    scheduler client submit|simulate|status|wait|cancel|list ...   (jobs: see scheduler.cli.jobs)

Exit code 0: answered; 1: the server refused the request (its field violations are printed) or
could not be reached; 2: usage error or unreadable file.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from scheduler.cli import jobs

__all__ = ["describe_error", "register", "run"]

_DEFAULT_ADDRESS = "127.0.0.1:50051"


def register(sub: Any) -> None:
    """Add `client` and its actions to the subcommands."""
    parser = sub.add_parser(
        "client",
        help="call a running scheduler service (optimize, propose, check, batch jobs)",
        description="Call a scheduler gRPC service (see `scheduler serve`).",
    )
    actions = parser.add_subparsers(dest="action", required=True, metavar="ACTION")

    def common(p: argparse.ArgumentParser) -> None:
        p.add_argument(
            "--address", default=_DEFAULT_ADDRESS, help=f"host:port (default {_DEFAULT_ADDRESS})"
        )
        p.add_argument("--timeout", type=float, metavar="S", help="the call's deadline in seconds")

    opt = actions.add_parser("optimize", help="optimise an instance file (the weekly batch)")
    opt.add_argument("file", type=Path, metavar="FILE", help="instance JSON file")
    opt.add_argument("--stream", action="store_true", help="show progress while solving")
    opt.add_argument("-o", "--output", type=Path, help="write the solution JSON here")
    opt.add_argument("--time-limit", type=float, default=30.0, metavar="S", help="seconds")
    opt.add_argument("--workers", type=int, default=0, metavar="N", help="0: all cores")
    opt.add_argument("--seed", type=int, default=0, metavar="N")
    common(opt)

    prop = actions.add_parser("propose", help="the best first-session slots for one referral")
    prop.add_argument("file", type=Path, metavar="FILE", help="instance JSON file (calendars)")
    prop.add_argument("referral_id", metavar="REFERRAL_ID", help="a referral of the instance")
    prop.add_argument("-k", type=int, default=5, help="how many options (default 5)")
    common(prop)

    chk = actions.add_parser("check", help="validate an instance and optionally a solution")
    chk.add_argument("file", type=Path, metavar="FILE", help="instance JSON file")
    chk.add_argument("solution", type=Path, nargs="?", metavar="SOLUTION", help="solution JSON")
    common(chk)
    jobs.register_actions(actions, common)
    parser.set_defaults(run=run)


def describe_error(error: Any) -> list[str]:
    """Lines saying why a call failed: the status, and each BadRequest field violation."""
    import grpc
    from google.rpc import error_details_pb2
    from grpc_status import rpc_status

    lines = [f"{error.code().name}: {error.details()}"]
    if error.code() is grpc.StatusCode.UNAVAILABLE:
        lines.append("is `scheduler serve` running at that address?")
    status = rpc_status.from_call(error)
    for detail in status.details if status is not None else []:
        if detail.Is(error_details_pb2.BadRequest.DESCRIPTOR):
            bad = error_details_pb2.BadRequest()
            detail.Unpack(bad)
            lines += [f"  {v.field}: {v.description}" for v in bad.field_violations]
    return lines


@contextmanager
def _channel(address: str) -> Iterator[Any]:
    import grpc

    from scheduler.api.server import MAX_MESSAGE_BYTES

    options = [
        ("grpc.max_receive_message_length", MAX_MESSAGE_BYTES),
        ("grpc.max_send_message_length", MAX_MESSAGE_BYTES),
    ]
    with grpc.insecure_channel(address, options=options) as channel:
        yield channel


def _optimize(args: argparse.Namespace, stub: Any, instance: Any) -> int:
    from scheduler.api.convert import instance_to_proto, options_to_proto, solution_from_proto
    from scheduler.cli.solve import format_summary
    from scheduler.domain import SolveOptions
    from scheduler.domain.files import save_solution
    from scheduler.v1 import scheduler_pb2 as pb

    options = SolveOptions(time_limit_s=args.time_limit, workers=args.workers, seed=args.seed)
    request = pb.OptimizeRequest(
        instance=instance_to_proto(instance), options=options_to_proto(options)
    )
    if args.stream:
        message = None
        for event in stub.OptimizeStream(request, timeout=args.timeout):
            if event.HasField("progress"):
                p = event.progress
                on_time = p.on_time if p.HasField("on_time") else "?"
                bound = f" (bound {p.on_time_bound})" if p.HasField("on_time_bound") else ""
                gap = f", stage gap {p.gap:.1%}" if p.HasField("gap") else ""
                print(
                    f"[{p.elapsed_s:6.1f}s] {p.stage:<8} on time {on_time}/"
                    f"{len(instance.referrals)}{bound}{gap}",
                    file=sys.stderr,
                    flush=True,
                )
            else:
                message = event.solution
        if message is None:
            print("the stream ended without a solution", file=sys.stderr)
            return 1
    else:
        message = stub.Optimize(request, timeout=args.timeout).solution
    solution = solution_from_proto(message)
    print(format_summary(solution))
    if args.output is not None:
        save_solution(solution, args.output)
        print(f"solution written to {args.output}", file=sys.stderr)
    return 0


def _propose(args: argparse.Namespace, stub: Any, instance: Any) -> int:
    from scheduler.api.convert import instance_to_proto
    from scheduler.v1 import scheduler_pb2 as pb

    request = pb.ProposeSlotsRequest(
        instance=instance_to_proto(instance), referral_id=args.referral_id, k=args.k
    )
    answer = stub.ProposeSlots(request, timeout=args.timeout)

    def day(d: Any) -> str:
        return f"{d.year:04d}-{d.month:02d}-{d.day:02d}"

    print(
        f"Referral {args.referral_id}: earliest start {day(answer.earliest_start)}, deadline "
        f"{day(answer.deadline)}, tell the citizen by {day(answer.letter_by)}, frit valg if late: "
        f"{'yes' if answer.free_choice_right else 'no'}"
    )
    if not answer.proposals:
        print("no free slot in the planning horizon")
        return 0
    print(f"{'#':>2} {'start':<16} {'end':<5} {'therapist':<12} {'where':<20} {'outcome':<17} why")
    for p in answer.proposals:
        s, e = p.start, p.end
        where = f"home ({p.travel_minutes} min)" if p.at_home else p.site_id
        print(
            f"{p.rank:>2} {day(s)} {s.hours:02d}:{s.minutes:02d} {e.hours:02d}:{e.minutes:02d} "
            f"{p.therapist_id:<12} {where:<20} {pb.Outcome.Name(p.outcome)[8:].lower():<17} "
            f"{p.why}"
        )
    return 0


def _check(args: argparse.Namespace, stub: Any, instance: Any) -> int:
    from scheduler.api.convert import instance_to_proto, solution_to_proto
    from scheduler.domain.files import load_solution
    from scheduler.v1 import scheduler_pb2 as pb

    request = pb.CheckRequest(instance=instance_to_proto(instance))
    if args.solution is not None:
        request.solution.CopyFrom(solution_to_proto(load_solution(args.solution)))
    answer = stub.Check(request, timeout=args.timeout)
    for p in answer.instance_problems:
        print(f"{p.severity}: {p.where}: {p.message} [{p.code}]")
    for v in answer.violations:
        print(f"violation {v.code}: {v.message}")
    for m in answer.kpi_mismatches:
        print(f"kpi mismatch: {m}")
    print("ok" if answer.ok else "not ok")
    return 0 if answer.ok else 1


def run(args: argparse.Namespace) -> int:
    import grpc

    from scheduler.cli._report import report_unusable
    from scheduler.domain.files import DataFileError, load_instance
    from scheduler.v1 import scheduler_pb2_grpc

    if getattr(args, "k", 1) < 1 or (args.timeout is not None and args.timeout <= 0):
        print("-k must be >= 1 and --timeout > 0", file=sys.stderr)
        return 2
    if args.action in jobs.ACTIONS:
        try:
            with _channel(args.address) as channel:
                return jobs.run_action(args, channel)
        except grpc.RpcError as error:
            for line in describe_error(error):
                print(line, file=sys.stderr)
            return 1
    try:
        instance = load_instance(args.file)
    except DataFileError as exc:
        return report_unusable(exc)
    action = {"optimize": _optimize, "propose": _propose, "check": _check}[args.action]
    try:
        with _channel(args.address) as channel:
            stub = scheduler_pb2_grpc.SchedulerStub(channel)  # type: ignore[no-untyped-call]
            return action(args, stub, instance)
    except grpc.RpcError as error:
        for line in describe_error(error):
            print(line, file=sys.stderr)
        return 1
    except DataFileError as exc:
        return report_unusable(exc)
