"""Verification: instance validation, the independent checker of solutions, and the KPIs.

The checker is a second implementation of the rules a plan must keep: it takes its legal and
eligibility facts from :mod:`scheduler.rules` like everyone else, and never imports
:mod:`scheduler.planning`. Validation takes the caller's budget
(:mod:`scheduler.planning.budget`, a module that imports nothing of the project) to stop when
asked.
"""
