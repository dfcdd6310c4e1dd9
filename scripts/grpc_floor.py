#!/usr/bin/env python3
"""What gRPC Python itself costs per unary call, under the load of ``scripts/bench_grpc.py``.

    python scripts/grpc_floor.py                 # sync server (as `scheduler serve`), empty handler
    python scripts/grpc_floor.py --spin-us 1000  # a handler that burns 1 ms of CPU
    python scripts/grpc_floor.py --aio           # the asyncio server, for comparison

A bare server (no interceptor, no log, no metrics) with one generic unary method that answers
200 bytes, and 10 client processes calling it back to back, as the gRPC bench's ProposeSlots
clients do. Prints the clients' p50/p99 and the server process's CPU per call: the floor under
the scheduler server's own per-call cost (``server_cpu_ms_per_call`` in bench_grpc's report).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing as mp
import os
import time
from concurrent import futures
from typing import Any

import grpc

_METHOD = "/floor.Floor/Call"
_START: Any = None


def _answer(spin_us: int) -> bytes:
    if spin_us:
        until = time.perf_counter() + spin_us / 1e6
        while time.perf_counter() < until:
            pass
    return b"x" * 200


def _serve(use_aio: bool, spin_us: int, ports: Any) -> None:
    def sync_handler(_request: bytes, _context: Any) -> bytes:
        return _answer(spin_us)

    async def aio_handler(_request: bytes, _context: Any) -> bytes:
        return _answer(spin_us)

    def handlers(fn: Any) -> Any:
        return grpc.method_handlers_generic_handler(
            "floor.Floor", {"Call": grpc.unary_unary_rpc_method_handler(fn)}
        )

    if not use_aio:
        server = grpc.server(futures.ThreadPoolExecutor(max_workers=20))
        server.add_generic_rpc_handlers([handlers(sync_handler)])
        ports.put(server.add_insecure_port("127.0.0.1:0"))
        server.start()
        server.wait_for_termination()
        return

    async def main() -> None:
        server = grpc.aio.server()
        server.add_generic_rpc_handlers([handlers(aio_handler)])
        ports.put(server.add_insecure_port("127.0.0.1:0"))
        await server.start()
        await server.wait_for_termination()

    asyncio.run(main())


def _join(barrier: Any) -> None:
    global _START
    _START = barrier


def _client(args: tuple[str, int]) -> list[float]:
    address, calls = args
    with grpc.insecure_channel(address) as channel:
        call = channel.unary_unary(_METHOD)
        call(b"warm-up")
        _START.wait(timeout=120)  # with every client and the parent: the timed calls start
        latencies = []
        for _ in range(calls):
            started = time.perf_counter()
            call(b"a" * 30, timeout=30)
            latencies.append(time.perf_counter() - started)
    return latencies


def _cpu_s(pid: int) -> float:
    with open(f"/proc/{pid}/stat") as stat:
        fields = stat.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--clients", type=int, default=10)
    parser.add_argument("--calls", type=int, default=300, help="per client")
    parser.add_argument("--spin-us", type=int, default=0, help="CPU the handler burns per call")
    parser.add_argument("--aio", action="store_true", help="grpc.aio server instead of sync")
    args = parser.parse_args()
    ctx = mp.get_context("spawn")
    ports = ctx.Queue()
    server = ctx.Process(target=_serve, args=(args.aio, args.spin_us, ports), daemon=True)
    server.start()
    try:
        address = f"127.0.0.1:{ports.get(timeout=60)}"
        # The parent joins the clients' barrier too, so the server's CPU is read once every
        # client has started, connected and made its untimed first call.
        barrier = ctx.Barrier(args.clients + 1)
        with ctx.Pool(args.clients, initializer=_join, initargs=(barrier,)) as pool:
            running = pool.map_async(_client, [(address, args.calls)] * args.clients, chunksize=1)
            barrier.wait(timeout=120)
            before = _cpu_s(server.pid)  # type: ignore[arg-type]
            per_client = running.get(timeout=600)
            cpu = _cpu_s(server.pid) - before  # type: ignore[arg-type]
    finally:
        server.kill()
    latencies = sorted(x for xs in per_client for x in xs)
    report = {
        "server": "aio" if args.aio else "sync",
        "spin_us": args.spin_us,
        "calls": len(latencies),
        "p50_ms": round(1000 * latencies[len(latencies) // 2], 2),
        "p99_ms": round(1000 * latencies[min(len(latencies) - 1, int(0.99 * len(latencies)))], 2),
        "server_cpu_ms_per_call": round(1000 * cpu / len(latencies), 3),
        "load_average": os.getloadavg(),
    }
    print(json.dumps(report))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
