"""The benchmark: instance profiles and the generator, the bench manifest, the first-come-first-
served baseline and the HiGHS MIP peer, the runner and its reports. Needs the ``bench`` extra
(highspy, matplotlib); nothing in the core or the service imports it.
"""
