"""`scheduler client submit|simulate|status|wait|cancel|list`: jobs as long-running operations.

    scheduler client submit FILE [--request-id ID] [--time-limit S] [--workers N] [--seed N]
    scheduler client simulate --profile NAME [--weeks N] [--seed S] [--strategy LIST]
        [--time-limit S] [--workers N] [--burn-in-weeks N] [--therapists N]
        [--referrals-per-week X] [--request-id ID]
    scheduler client status OPERATION
    scheduler client wait OPERATION [-o solution.json] [--wait-timeout S]
    scheduler client cancel OPERATION
    scheduler client list [--done | --running] [--page-size N]

OPERATION is the name `submit` or `simulate` prints (``operations/…``) or just its id. `wait`
shows a progress bar on stderr until the job is done — for a solve its elapsed share of the time
limit, its stage and referrals on time; for a simulation the simulated days done of the total,
the run (burn-in or strategy), its week and date — then prints the summary as `scheduler solve`
does, or the simulation's table as `scheduler simulate` does (`-o`: the solution, or the
simulation's result, as JSON). Exit codes as
the other client actions; `wait` exits 1 if the job failed or was cancelled, 3 if it is still
running when --wait-timeout passes.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

__all__ = ["ACTIONS", "register_actions", "run_action"]

ACTIONS = ("submit", "simulate", "status", "wait", "cancel", "list")
_BAR = 30


def register_actions(actions: Any, common: Callable[[argparse.ArgumentParser], None]) -> None:
    """Add the job actions to `scheduler client`."""
    sub = actions.add_parser("submit", help="submit an instance as a batch job (returns at once)")
    sub.add_argument("file", type=Path, metavar="FILE", help="instance JSON file")
    sub.add_argument("--request-id", default="", help="makes a retried submit idempotent")
    sub.add_argument("--time-limit", type=float, default=30.0, metavar="S", help="seconds")
    sub.add_argument("--workers", type=int, default=0, metavar="N", help="0: all cores")
    sub.add_argument("--seed", type=int, default=0, metavar="N")
    common(sub)
    sim = actions.add_parser(
        "simulate", help="submit a simulation as a batch job (as `scheduler simulate`)"
    )
    sim.add_argument("--profile", required=True, metavar="NAME", help="municipality profile")
    sim.add_argument("--weeks", type=int, default=13, metavar="N", help="weeks measured")
    sim.add_argument("--seed", type=int, default=1, metavar="S", help="random seed")
    sim.add_argument(
        "--strategy", default="", metavar="LIST", help="comma-separated strategies (default: all)"
    )
    sim.add_argument(
        "--time-limit", type=float, default=3.0, metavar="S", help="CP-SAT seconds per solve"
    )
    sim.add_argument("--workers", type=int, default=1, metavar="N", help="CP-SAT workers")
    sim.add_argument("--burn-in-weeks", type=int, metavar="N", help="override the burn-in")
    sim.add_argument("--therapists", type=int, metavar="N", help="override the therapists")
    sim.add_argument("--referrals-per-week", type=float, metavar="X", help="override the volume")
    sim.add_argument("--request-id", default="", help="makes a retried submit idempotent")
    common(sim)
    for name, text in (("status", "show a job"), ("cancel", "cancel a job")):
        p = actions.add_parser(name, help=text)
        p.add_argument("operation", metavar="OPERATION", help="operations/ID or ID")
        common(p)
    wait = actions.add_parser("wait", help="wait for a job with a progress bar, then summarise")
    wait.add_argument("operation", metavar="OPERATION", help="operations/ID or ID")
    wait.add_argument("-o", "--output", type=Path, help="write the solution JSON here")
    wait.add_argument("--wait-timeout", type=float, metavar="S", help="give up after S seconds")
    common(wait)
    lst = actions.add_parser("list", help="list jobs, newest first")
    which = lst.add_mutually_exclusive_group()
    which.add_argument("--done", action="store_true", help="finished jobs only")
    which.add_argument("--running", action="store_true", help="unfinished jobs only")
    lst.add_argument("--page-size", type=int, default=50, metavar="N")
    common(lst)


def _name(text: str) -> str:
    return text if text.startswith("operations/") else f"operations/{text}"


def _metadata(op: Any) -> Any:
    from scheduler.v1 import scheduler_pb2 as pb

    meta: Any = (
        pb.SimulateOperationMetadata()
        if op.metadata.Is(pb.SimulateOperationMetadata.DESCRIPTOR)
        else pb.OptimizeOperationMetadata()
    )
    op.metadata.Unpack(meta)
    return meta


def _simulation(meta: Any) -> bool:
    from scheduler.v1 import scheduler_pb2 as pb

    return isinstance(meta, pb.SimulateOperationMetadata)


def _line(op: Any) -> str:
    from scheduler.v1 import scheduler_pb2 as pb

    meta = _metadata(op)
    if _simulation(meta):
        state = pb.OptimizeOperationMetadata.State.Name(meta.state).lower()
        created = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(meta.create_time.seconds))
        error = f"  {op.error.message}" if op.HasField("error") else ""
        what = f"simulate {meta.profile} {meta.weeks}w seed={meta.seed}"
        p = meta.progress
        days = f"day {p.days_done}/{p.days_total}" if p.days_total else ""
        return (
            f"{op.name}  {state:<9} {what:<24} {days:<17} "
            f"attempts {meta.attempts}  submitted {created}{error}"
        )
    state = pb.OptimizeOperationMetadata.State.Name(meta.state).lower()
    p = meta.progress
    on_time = f"{p.on_time}/{meta.referrals}" if p.HasField("on_time") else f"?/{meta.referrals}"
    created = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(meta.create_time.seconds))
    error = f"  {op.error.message}" if op.HasField("error") else ""
    return (
        f"{op.name}  {state:<9} {meta.instance_name:<24} on time {on_time:<9} "
        f"attempts {meta.attempts}  submitted {created}{error}"
    )


def _simulation_bar(op: Any, meta: Any) -> str:
    p = meta.progress
    share = 1.0 if op.done else (p.days_done / p.days_total if p.days_total else 0.0)
    filled = round(share * _BAR)
    run = p.strategy or ("queued" if meta.attempts == 0 else "starting")
    where = ""
    if p.days:
        where = f"day {p.day}/{p.days}"
        if p.weeks:
            where += f" week {p.week}/{p.weeks}"
        if p.HasField("date"):
            where += f" ({p.date.year:04d}-{p.date.month:02d}-{p.date.day:02d})"
    return (
        f"[{'#' * filled}{'.' * (_BAR - filled)}] {share:4.0%} {p.elapsed_s:6.1f}s {run:<8} {where}"
    ).rstrip()


def _bar(op: Any) -> str:
    meta = _metadata(op)
    if _simulation(meta):
        return _simulation_bar(op, meta)
    p = meta.progress
    share = min(1.0, p.elapsed_s / meta.time_limit_s) if meta.time_limit_s > 0 else 0.0
    if op.done:
        share = 1.0
    filled = round(share * _BAR)
    on_time = f"{p.on_time}" if p.HasField("on_time") else "?"
    bound = f" (bound {p.on_time_bound})" if p.HasField("on_time_bound") else ""
    stage = p.stage or ("queued" if meta.attempts == 0 else "starting")
    return (
        f"[{'#' * filled}{'.' * (_BAR - filled)}] {share:4.0%} {p.elapsed_s:6.1f}s "
        f"{stage:<8} on time {on_time}/{meta.referrals}{bound}"
    )


def _submit(args: argparse.Namespace, channel: Any) -> int:
    from scheduler.api.convert import instance_to_proto, options_to_proto
    from scheduler.cli._report import report_unusable
    from scheduler.domain import SolveOptions
    from scheduler.domain.files import DataFileError, load_instance
    from scheduler.v1 import scheduler_pb2 as pb
    from scheduler.v1 import scheduler_pb2_grpc

    try:
        instance = load_instance(args.file)
    except DataFileError as exc:
        return report_unusable(exc)
    options = SolveOptions(time_limit_s=args.time_limit, workers=args.workers, seed=args.seed)
    stub = scheduler_pb2_grpc.SchedulerStub(channel)  # type: ignore[no-untyped-call]
    op = stub.SubmitOptimize(
        pb.SubmitOptimizeRequest(
            instance=instance_to_proto(instance),
            options=options_to_proto(options),
            request_id=args.request_id,
        ),
        timeout=args.timeout,
    )
    print(op.name)
    return 0


def _simulate(args: argparse.Namespace, channel: Any) -> int:
    from pydantic import ValidationError

    from scheduler.api.convert import simulation_settings_to_proto
    from scheduler.simulation.settings import SimulationSettings
    from scheduler.v1 import scheduler_pb2_grpc

    data: dict[str, Any] = {
        "profile": args.profile,
        "weeks": args.weeks,
        "seed": args.seed,
        "time_limit_s": args.time_limit,
        "workers": args.workers,
        "burn_in_weeks": args.burn_in_weeks,
        "therapists": args.therapists,
        "referrals_per_week": args.referrals_per_week,
    }
    names = [n.strip() for n in args.strategy.split(",") if n.strip()]
    if names:
        data["strategies"] = names
    try:
        settings = SimulationSettings.model_validate(data)
    except ValidationError as exc:
        for error in exc.errors(include_url=False):
            where = ".".join(str(part) for part in error["loc"])
            message = str(error["msg"]).removeprefix("Value error, ")
            print(f"{where}: {message}", file=sys.stderr)
        return 2
    stub = scheduler_pb2_grpc.SchedulerStub(channel)  # type: ignore[no-untyped-call]
    op = stub.SubmitSimulate(
        simulation_settings_to_proto(settings, args.request_id), timeout=args.timeout
    )
    print(op.name)
    return 0


def _wait(args: argparse.Namespace, stub: Any) -> int:
    from google.longrunning import operations_proto_pb2 as lro
    from google.protobuf import duration_pb2

    from scheduler.api.convert import solution_from_proto
    from scheduler.cli.solve import format_summary
    from scheduler.domain.files import save_solution
    from scheduler.v1 import scheduler_pb2 as pb

    name = _name(args.operation)
    ends = None if args.wait_timeout is None else time.monotonic() + args.wait_timeout
    tty = sys.stderr.isatty()
    last = ""
    while True:
        step = 1.0 if ends is None else max(0.0, min(1.0, ends - time.monotonic()))
        op = stub.WaitOperation(
            lro.WaitOperationRequest(name=name, timeout=duration_pb2.Duration(seconds=int(step))),
            timeout=args.timeout if args.timeout is not None else step + 30,
        )
        bar = _bar(op)
        if bar != last:
            print(("\r" if tty else "") + bar, end="" if tty else "\n", file=sys.stderr, flush=True)
            last = bar
        if op.done or (ends is not None and time.monotonic() >= ends):
            break
    if tty:
        print(file=sys.stderr)
    if not op.done:
        print(f"{name} is still running", file=sys.stderr)
        return 3
    if op.HasField("error"):
        from google.rpc import code_pb2

        print(f"{code_pb2.Code.Name(op.error.code)}: {op.error.message}", file=sys.stderr)
        return 1
    if op.response.Is(pb.SimulationResult.DESCRIPTOR):
        return _simulation_result(op, args.output)
    message = pb.Solution()
    op.response.Unpack(message)
    solution = solution_from_proto(message)
    print(format_summary(solution))
    if args.output is not None:
        save_solution(solution, args.output)
        print(f"solution written to {args.output}", file=sys.stderr)
    return 0


def _simulation_result(op: Any, output: Path | None) -> int:
    import json

    from google.protobuf import json_format

    from scheduler.domain.files import write_text
    from scheduler.v1 import scheduler_pb2 as pb

    result = pb.SimulationResult()
    op.response.Unpack(result)
    print(result.table, end="")
    if output is not None:
        doc = json_format.MessageToDict(result, preserving_proto_field_name=True)
        write_text(output, json.dumps(doc, indent=2) + "\n")
        print(f"simulation result written to {output}", file=sys.stderr)
    violations = sum(row.violations for row in result.summary)
    return 1 if violations else 0


def run_action(args: argparse.Namespace, channel: Any) -> int:
    """Run one job action over `channel`; gRPC errors propagate to the caller."""
    from google.longrunning import operations_pb2_grpc
    from google.longrunning import operations_proto_pb2 as lro

    if args.action == "submit":
        return _submit(args, channel)
    if args.action == "simulate":
        return _simulate(args, channel)
    stub = operations_pb2_grpc.OperationsStub(channel)
    if args.action == "status":
        op = stub.GetOperation(lro.GetOperationRequest(name=_name(args.operation)))
        print(_line(op))
        if not op.done:
            print(_bar(op))
        return 0
    if args.action == "cancel":
        name = _name(args.operation)
        stub.CancelOperation(lro.CancelOperationRequest(name=name), timeout=args.timeout)
        print(_line(stub.GetOperation(lro.GetOperationRequest(name=name))))
        return 0
    if args.action == "wait":
        return _wait(args, stub)
    token = ""
    flt = "done=true" if args.done else "done=false" if args.running else ""
    while True:
        page = stub.ListOperations(
            lro.ListOperationsRequest(filter=flt, page_size=args.page_size, page_token=token),
            timeout=args.timeout,
        )
        for op in page.operations:
            print(_line(op))
        token = page.next_page_token
        if not token:
            return 0
