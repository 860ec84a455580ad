"""Tickets as data for the outside: the API's ticket JSON (SPEC §7) and the SLA summary
the queue, the ticket page and the API share. Pure functions of a ticket row and ``now``."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from portal.tickets.rules import ref

TARGETS = ("first_response", "next_response", "resolution")


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def sla_targets(ticket: dict, now: datetime) -> dict[str, dict[str, Any]]:
    """Per target: due time, when it was met, whether it is breached, whether the clock is
    paused, and for a running target the wall-clock time ``left`` (negative once over).
    Read from the columns the SLA clock (``portal.sla``) maintains; a target without a due
    time has no policy behind it (``due_at`` null, never breached). While paused, a due time
    is the one the target had when the pause began: it was breached if that came first."""
    met = {
        "first_response": ticket.get("first_response_at"),
        "next_response": ticket.get("next_response_met_at"),
        "resolution": ticket.get("solved_at"),
    }
    due = {
        "first_response": ticket.get("first_response_due_at"),
        "next_response": ticket.get("next_response_due_at"),
        "resolution": ticket.get("resolution_due_at"),
    }
    paused_at = ticket.get("sla_paused_at")
    out: dict[str, dict[str, Any]] = {}
    for target in TARGETS:
        d, m = due[target], met[target]
        paused = paused_at is not None and m is None and d is not None
        over = d is not None and ((m > d) if m is not None else (d <= paused_at if paused else now >= d))
        out[target] = {"due_at": d, "met_at": m, "breached": over, "paused": paused}
        if d is not None and m is None and not paused:
            out[target]["left"] = d - now
    return out


def sla_json(ticket: dict, now: datetime) -> dict[str, dict[str, Any]]:
    return {name: {"due_at": _iso(t["due_at"]), "met_at": _iso(t["met_at"]), "breached": t["breached"],
                   "paused": t["paused"]}
            for name, t in sla_targets(ticket, now).items()}


SOON = timedelta(hours=1)


def sla_summary(ticket: dict, now: datetime) -> dict[str, Any] | None:
    """One line for a queue row: ``state`` (``paused``, ``breached``, ``soon`` within an hour,
    ``ok``) and the time ``left`` until the nearest due time (negative once over); None
    when no target runs."""
    if ticket.get("sla_paused_at") is not None and ticket.get("due_at") is None:
        return {"state": "paused", "left": None}
    due = ticket.get("due_at")
    if due is None:
        return None
    left = due - now
    state = "breached" if left <= timedelta(0) else "soon" if left <= SOON else "ok"
    return {"state": state, "left": left, "missed": bool(ticket.get("sla_breached"))}


def ticket_json(ticket: dict, *, tags: list[str], now: datetime,
                satisfaction: dict | None = None) -> dict[str, Any]:
    """``ticket`` is a row from :mod:`portal.tickets.queries` (with the joined names);
    ``satisfaction`` its answered CSAT (``score``, ``comment``), from ``portal.surveys``."""
    return {
        "ref": ref(ticket["number"]),
        "subject": ticket["subject"],
        "status": ticket["status"],
        "priority": ticket["priority"],
        "channel": ticket["channel"],
        "team": ticket.get("team_slug"),
        "assignee": ticket.get("assignee_email"),
        "requester": {"email": ticket.get("requester_email"), "name": ticket.get("requester_name")},
        "tags": tags,
        "order": ticket.get("order_number"),
        "language": ticket["language"],
        "follow_up_of": ref(ticket["follow_up_of_number"]) if ticket.get("follow_up_of_number") else None,
        "version": ticket["version"],
        "created_at": _iso(ticket["created_at"]),
        "updated_at": _iso(ticket["updated_at"]),
        "first_response_at": _iso(ticket["first_response_at"]),
        "solved_at": _iso(ticket["solved_at"]),
        "closed_at": _iso(ticket["closed_at"]),
        "satisfaction": satisfaction,
        "sla": sla_json(ticket, now),
    }


def message_json(message: dict) -> dict[str, Any]:
    return {
        "id": message["id"],
        "public": message["public"],
        "author": {"kind": message["author_kind"], "name": message["author_name"]},
        "body": message["body"],
        "created_at": _iso(message["created_at"]),
    }
