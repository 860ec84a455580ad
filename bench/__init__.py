"""Load benchmarks: the real app and a bare Litestar app, served the same way, driven by wrk.

Run with ``python -m bench --scale small|large`` (``--help`` for the knobs; ``bench.harness``);
the feature scripts (``python -m bench.orders``, ``bench.tickets``, ``bench.kb``, ``bench.forms``
and others) measure one area each. Not part of the pytest suite (``tests/integration/
test_bench_dataset.py`` checks the data generator).
"""
