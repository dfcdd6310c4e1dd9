"""Verification: instance validation, the independent checker of solutions, and the KPIs.

The checker is a second implementation of the rules a plan must keep: it takes its legal and
eligibility facts from :mod:`scheduler.rules` like everyone else, and never imports
:mod:`scheduler.planning`.
"""
