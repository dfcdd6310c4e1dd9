"""The benchmark: instance profiles (``profiles``) and the generator (``generator``), the bench
manifest (``manifest``), the first-come-first-served baseline and the HiGHS MIP peer
(``baseline``, ``mip``), the runner (``runner``) and its reports (``report``).

The MIP peer and the plots need the ``bench`` extra (highspy, numpy, matplotlib), imported only
where used; ``scheduler bench`` says so when it is missing. Nothing in the core or the service
imports this package.
"""
