"""``/api/v1/tickets``: other systems open, read, change and answer tickets (SPEC §7).

Bearer token with the ``tickets`` scope. Bodies are msgspec ``Struct``s that refuse unknown
fields (422 naming the field). Teams are named by slug, agents by e-mail, orders by number.
A ``PATCH`` may carry the ``version`` it read: if the ticket changed since, the answer is
409 and nothing is written. The rules are :mod:`portal.tickets`', shared with the pages.
"""

from __future__ import annotations

import base64
import binascii
from datetime import datetime
from typing import Annotated, Any

import msgspec
from litestar import Request, Response, get, patch, post
from litestar.connection import ASGIConnection
from litestar.handlers.base import BaseRouteHandler

from portal.accounts import service as accounts
from portal.accounts.api_scopes import token_allows
from portal.api import ApiError, decode
from portal.auth import API
from portal.clock import now
from portal.i18n import _
from portal.tags import service as tags
from portal.tickets import changes, queries, service
from portal.tickets.present import message_json, ticket_json
from portal.tickets.rules import PRIORITIES, STATUSES, Actor, StaleVersion, TicketError
from portal.web import ctx

PAGE = 50
MAX_PAGE = 200
Text200 = Annotated[str, msgspec.Meta(min_length=1, max_length=200)]
Body = Annotated[str, msgspec.Meta(min_length=1, max_length=50000)]


class RequesterIn(msgspec.Struct, forbid_unknown_fields=True):
    email: str
    name: str = ""
    locale: str | None = None
    phone: str | None = None


class TicketIn(msgspec.Struct, forbid_unknown_fields=True):
    subject: Text200
    message: Body
    requester: RequesterIn
    priority: str = "normal"
    team: str | None = None
    assignee: str | None = None
    tags: list[str] = []
    order: str | None = None
    language: str | None = None


class TicketChange(msgspec.Struct, forbid_unknown_fields=True, omit_defaults=True):
    """Only the fields present change; ``null`` clears team, assignee or order."""

    status: str | msgspec.UnsetType = msgspec.UNSET
    priority: str | msgspec.UnsetType = msgspec.UNSET
    team: str | None | msgspec.UnsetType = msgspec.UNSET
    assignee: str | None | msgspec.UnsetType = msgspec.UNSET
    order: str | None | msgspec.UnsetType = msgspec.UNSET
    subject: Text200 | msgspec.UnsetType = msgspec.UNSET
    tags: list[str] | msgspec.UnsetType = msgspec.UNSET
    version: int | msgspec.UnsetType = msgspec.UNSET


class MessageIn(msgspec.Struct, forbid_unknown_fields=True):
    body: Body
    public: bool = True


def require_scope(scope: str):
    async def guard(connection: ASGIConnection, _handler: BaseRouteHandler) -> None:
        if not token_allows(ctx(connection).extra.get("api_token"), scope):
            raise ApiError(403, "forbidden", _("This token may not use the %(scope)s API.", scope=scope))

    return guard


def _actor(request: Request) -> Actor:
    return Actor.api(ctx(request).extra["api_token"])


def _invalid(field: str, message: str) -> ApiError:
    return ApiError(422, "validation_error", _("Some fields are not valid."), {field: message})


_FIELD_OF = {"bad_status": "status", "bad_transition": "status", "bad_priority": "priority",
             "no_team": "team", "no_assignee": "assignee", "no_order": "order", "bad_subject": "subject"}


def _error(exc: TicketError) -> ApiError:
    if isinstance(exc, StaleVersion):
        return ApiError(409, "conflict", _("The ticket has changed since version you sent; it is now at "
                                           "version %(v)s. Read it again and retry.", v=exc.current))
    if exc.code == "not_found":
        return ApiError(404, "not_found", _("There is no ticket with this reference."))
    if exc.code == "closed":
        return ApiError(409, "closed", _("The ticket is closed; open a new one instead."))
    if exc.code in _FIELD_OF:
        return _invalid(_FIELD_OF[exc.code], _("This value is not allowed here (%(detail)s).",
                                               detail=exc.detail or exc.code))
    return ApiError(400, exc.code, _("The change was refused."))


async def satisfaction_of(ticket_ids: list[int]) -> dict[int, dict]:
    """The answered CSAT of these tickets (``portal.surveys`` builds on tickets, so it is
    imported here, at call time)."""
    from portal.surveys.csat import satisfaction_of as answered

    return await answered(ticket_ids)


async def _json(ticket_id: int) -> dict[str, Any]:
    ticket = await queries.ticket_by_id(ticket_id)
    labels = await tags.of("ticket", [ticket_id])
    satisfaction = await satisfaction_of([ticket_id])
    return ticket_json(ticket, tags=labels.get(ticket_id, []), now=now(),  # type: ignore[arg-type]
                       satisfaction=satisfaction.get(ticket_id))


async def _find(ref: str) -> dict:
    ticket = await queries.ticket_for_staff(ref)
    if ticket is None:
        raise ApiError(404, "not_found", _("There is no ticket with this reference."))
    return ticket


async def _resolve(field: str, value: str | None, lookup) -> int | None:
    if value is None:
        return None
    found = await lookup(value)
    if found is None:
        raise _invalid(field, _("Unknown value: %(value)s", value=value))
    return found


def _encode_cursor(ticket_id: int) -> str:
    return base64.urlsafe_b64encode(f"t{ticket_id}".encode()).decode().rstrip("=")


def _decode_cursor(cursor: str) -> int:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        if raw.startswith("t") and raw[1:].isdigit():
            return int(raw[1:])
    except (binascii.Error, UnicodeDecodeError, ValueError):
        pass
    raise _invalid("cursor", _("This cursor is not valid."))


TICKETS = {"guards": [require_scope("tickets")], "opt": API, "tags": ["tickets"]}


@post("/api/v1/tickets", **TICKETS, status_code=201, summary="Open a ticket")
async def create_ticket(request: Request) -> Response:
    body = await decode(request, TicketIn)
    if body.priority not in PRIORITIES:
        raise _invalid("priority", _("Use one of: %(values)s.", values=", ".join(PRIORITIES)))
    if "@" not in body.requester.email or len(body.requester.email) > 254:
        raise _invalid("requester.email", _("Please give a valid e-mail address."))
    t = now()
    team_id = await _resolve("team", body.team, changes.team_id)
    assignee_id = await _resolve("assignee", body.assignee, changes.staff_id)
    order_id = await _resolve("order", body.order, changes.order_id)
    locale = body.language if body.language in ("tr", "en") else (body.requester.locale or "tr")
    customer = await accounts.find_or_create_customer(body.requester.email, name=body.requester.name,
                                                      locale=locale if locale in ("tr", "en") else "tr",
                                                      phone=body.requester.phone, now=t)
    new = service.NewTicket(subject=body.subject.strip(), body=body.message, requester_id=customer["id"],
                            channel="api", priority=body.priority, team_id=team_id, assignee_id=assignee_id,
                            order_id=order_id, language=locale if locale in ("tr", "en") else "tr",
                            tags=tags.parse(body.tags))
    opened = await service.open_ticket(new, actor=_actor(request), now=t)
    return Response(await _json(opened.ticket["id"]), status_code=201)


@get("/api/v1/tickets", **TICKETS, summary="List tickets, newest first")
async def list_tickets(status: str | None = None, team: str | None = None, updated_since: str | None = None,
                       cursor: str | None = None, limit: int = PAGE) -> dict[str, Any]:
    if status and status not in STATUSES:
        raise _invalid("status", _("Use one of: %(values)s.", values=", ".join(STATUSES)))
    team_id = await _resolve("team", team, changes.team_id) if team else None
    since = None
    if updated_since:
        try:
            since = datetime.fromisoformat(updated_since.replace("Z", "+00:00").replace(" ", "+"))
        except ValueError:
            since = None
        if since is None or since.tzinfo is None:
            raise _invalid("updated_since", _("Use an ISO 8601 time with its offset."))
    before = _decode_cursor(cursor) if cursor else None
    rows, next_before = await queries.api_list(status=status, team_id=team_id, updated_since=since,
                                               before_id=before, limit=max(1, min(limit, MAX_PAGE)))
    labels = await tags.of("ticket", [r["id"] for r in rows])
    satisfaction = await satisfaction_of([r["id"] for r in rows])
    t = now()
    return {"items": [ticket_json(r, tags=labels.get(r["id"], []), now=t, satisfaction=satisfaction.get(r["id"]))
                      for r in rows],
            "next": _encode_cursor(next_before) if next_before else None}


@get("/api/v1/tickets/{ref:str}", **TICKETS, summary="Read a ticket")
async def read_ticket(ref: str) -> dict[str, Any]:
    return await _json((await _find(ref))["id"])


@patch("/api/v1/tickets/{ref:str}", **TICKETS, summary="Change a ticket's fields")
async def change_ticket(request: Request, ref: str) -> dict[str, Any]:
    body = await decode(request, TicketChange)
    ticket = await _find(ref)
    wanted: dict[str, Any] = {}
    for name in ("status", "priority", "subject", "tags"):
        value = getattr(body, name)
        if value is not msgspec.UNSET:
            wanted[name] = value
    lookups = (("team", changes.team_id), ("assignee", changes.staff_id), ("order", changes.order_id))
    for name, lookup in lookups:
        value = getattr(body, name)
        if value is not msgspec.UNSET:
            wanted[name] = await _resolve(name, value, lookup)
    version = None if body.version is msgspec.UNSET else body.version
    try:
        await changes.update(ticket["id"], wanted, actor=_actor(request), now=now(), expected_version=version)
    except TicketError as exc:
        raise _error(exc) from None
    return await _json(ticket["id"])


@post("/api/v1/tickets/{ref:str}/messages", **TICKETS, status_code=201, summary="Add a reply or a note")
async def add_message(request: Request, ref: str) -> Response:
    body = await decode(request, MessageIn)
    ticket = await _find(ref)
    try:
        await service.reply_as_staff(ticket["id"], _actor(request), body.body, public=body.public, now=now())
    except TicketError as exc:
        raise _error(exc) from None
    messages = await queries.thread(ticket["id"], internal=True)
    return Response({"message": message_json(messages[-1]), "ticket": await _json(ticket["id"])},
                    status_code=201)


ROUTES = [create_ticket, list_tickets, read_ticket, change_ticket, add_message]
