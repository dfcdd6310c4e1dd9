"""Scheduler for first sessions of almen genoptræning (Sundhedsloven §140).

The core (``domain``, ``policy``, ``working_calendar``, ``rules``, ``slots``, ``model``,
``solve``) never imports gRPC; the edges (``service``, ``server``, ``convert``, ``cli``) convert
and delegate.
"""

__version__ = "0.1.0"
