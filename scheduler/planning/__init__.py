"""Planning: from an instance to a plan. Free time and candidates, the CP-SAT model and its
staged solve, the greedy engine and repair, bounds, and real-time proposals for one referral.

Imports the domain, the rules and the KPI definitions (:mod:`scheduler.verify.kpis`); never gRPC
or the benchmark.
"""
