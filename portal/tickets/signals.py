"""Announcing ticket changes to whoever shows tickets live (the staff queue and ticket pages).

The domain only calls :func:`announce` after a change has committed; the web app subscribes
(``portal.staff.live`` publishes to Litestar channels), and so does ``portal worker`` when
Redis is configured. Nothing here knows about HTTP, and with no subscriber (the CLI, a
worker without Redis) an announcement goes nowhere.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Callable
from typing import Any

from portal.tickets.rules import Actor, ref

log = logging.getLogger("portal.tickets")

Subscriber = Callable[[dict[str, Any]], None]
_subscribers: list[Subscriber] = []


def subscribe(fn: Subscriber) -> Callable[[], None]:
    """Returns the function that unsubscribes again (an app that stops must not be called)."""
    _subscribers.append(fn)

    def remove() -> None:
        with contextlib.suppress(ValueError):
            _subscribers.remove(fn)

    return remove


def announce(ticket: dict, what: str, actor: Actor | None = None) -> None:
    """``ticket`` changed (``what``: created, message, fields, status). Only the reference and
    ids travel: a live page fetches what it shows through its own, authorised, request."""
    payload = {"id": ticket["id"], "ref": ref(ticket["number"]), "what": what,
               "by_staff": actor.staff_id if actor else None}
    for fn in list(_subscribers):
        try:
            fn(payload)
        except Exception:  # noqa: BLE001 - a live page must never fail the change itself
            log.exception("ticket announcement failed")
