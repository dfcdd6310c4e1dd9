"""The rules: the §140 legal dates, the Danish working calendar, who may take a referral and the
window a session must fit in, and which bookings hold time. Pure functions over the domain.

- :mod:`~scheduler.rules.calendar`: working days, public holidays, minutes of a day;
- :mod:`~scheduler.rules.legal`: the §140 dates and outcome of one referral under a policy;
- :mod:`~scheduler.rules.eligibility`: who may take a referral, and where and when a first
  session (with a home visit's travel) may lie;
- :mod:`~scheduler.rules.commitments`: the planning horizon and which bookings hold time;
- :mod:`~scheduler.rules.travel`: travel time between two places.

Everything that plans (:mod:`scheduler.planning`) and everything that checks a plan
(:mod:`scheduler.verify`) takes these facts from here, so each is written once.
"""
