"""What a plan looks like to the people who act on it, built from an instance and its solution.

- :mod:`~scheduler.outputs.letters`: the letters to send (start time, frit valg offer), in the
  order they must go out;
- :mod:`~scheduler.outputs.report`: the coordinator's self-contained HTML plan report;
- :mod:`~scheduler.outputs.fhir`: the KL Gateway §140 FHIR export.

Like the core, this package never imports gRPC; the CLI and the service call it.
"""

from __future__ import annotations

__all__: list[str] = []
