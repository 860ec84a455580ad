"""The server process tunes the garbage collector once, when it starts serving (portal.app.tune_gc)."""

import gc

from portal import app as portal_app


def test_startup_freezes_what_is_alive_and_raises_the_young_threshold(monkeypatch):
    monkeypatch.setattr(portal_app, "_GC_TUNED", False)
    before = gc.get_threshold()
    try:
        gc.unfreeze()
        portal_app.tune_gc()
        assert gc.get_freeze_count() > 1000  # modules, functions, classes: out of the collector's walk
        assert gc.get_threshold() == (10_000, 20, 100)
        frozen = gc.get_freeze_count()
        portal_app.tune_gc()  # once per process: a second start changes nothing
        assert gc.get_freeze_count() == frozen
    finally:
        gc.set_threshold(*before)
