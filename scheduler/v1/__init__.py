"""Generated gRPC code of the ``scheduler.v1`` API (``protos/scheduler/v1/scheduler.proto``).

Regenerate with ``python scripts/gen_protos.py``; never edit the ``*_pb2*`` files by hand.
Import as ``from scheduler.v1 import scheduler_pb2, scheduler_pb2_grpc``.
"""
