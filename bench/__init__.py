"""Load benchmarks: the real app and a bare Litestar app, served the same way, driven by wrk.

Run with ``python -m bench`` (``--help`` for the knobs); not part of the pytest suite.
"""
