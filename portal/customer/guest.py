"""``/t/{token}``: the ticket of a mailed link, for someone without (or not logged in to) an
account. The token is the key: unguessable, stored hashed, revocable by staff. A wrong or
revoked token is a 404, like any page that does not exist."""

from __future__ import annotations

from litestar import Request, Response, get, post
from litestar.exceptions import NotFoundException
from litestar.response import Template

from portal.auth import PUBLIC
from portal.customer import conversation as conv
from portal.customer.conversation import MultipartBody
from portal.tickets import queries
from portal.tickets.rules import Actor


async def _by_token(token: str) -> dict:
    ticket = await queries.ticket_for_guest(token)
    if ticket is None:
        raise NotFoundException()
    return ticket


def _actor(ticket: dict) -> Actor:
    """Whoever holds the link speaks as the requester."""
    return Actor("customer", ticket["requester_name"] or ticket["requester_email"] or "",
                 customer_id=ticket["requester"])


@get("/t/{token:str}", opt=PUBLIC, include_in_schema=False)
async def guest_page(request: Request, token: str) -> Template:
    ticket = await _by_token(token)
    return await conv.page(request, ticket, base=f"/t/{token}", guest=True)


@post("/t/{token:str}/reply", opt=PUBLIC, include_in_schema=False)
async def guest_reply(request: Request, token: str, data: MultipartBody) -> Response:
    ticket = await _by_token(token)
    return await conv.reply(request, ticket, data, base=f"/t/{token}", guest=True, actor=_actor(ticket),
                            follow_up_base=lambda r: f"/t/{r.guest_token}")


@post("/t/{token:str}/close", opt=PUBLIC, include_in_schema=False)
async def guest_close(request: Request, token: str) -> Response:
    ticket = await _by_token(token)
    return await conv.set_status(request, ticket, "close", base=f"/t/{token}", guest=True,
                                 actor=_actor(ticket))


@post("/t/{token:str}/reopen", opt=PUBLIC, include_in_schema=False)
async def guest_reopen(request: Request, token: str) -> Response:
    ticket = await _by_token(token)
    return await conv.set_status(request, ticket, "reopen", base=f"/t/{token}", guest=True,
                                 actor=_actor(ticket))


@get("/t/{token:str}/attachments/{attachment_id:int}", opt=PUBLIC, include_in_schema=False)
async def guest_attachment(request: Request, token: str, attachment_id: int) -> Response:
    ticket = await _by_token(token)
    response = await conv.download(ticket, attachment_id, conv.storage(request))
    if response is None:
        raise NotFoundException()
    return response


ROUTES = [guest_page, guest_reply, guest_close, guest_reopen, guest_attachment]
