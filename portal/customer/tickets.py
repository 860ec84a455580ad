"""My requests: ``/tickets`` (list), ``/tickets/new``, ``/tickets/{ref}`` (conversation,
reply, close, reopen, attachments). Every look-up is scoped to the logged-in customer:
someone else's ticket is a 404 on the page, its fragments and its files."""

from __future__ import annotations

from litestar import Request, Response, get, post
from litestar.exceptions import NotFoundException
from litestar.plugins.htmx import ClientRedirect
from litestar.response import Template

from portal.auth import CUSTOMER
from portal.clock import now
from portal.customer import conversation as conv
from portal.customer.conversation import MultipartBody
from portal.i18n import _
from portal.orders.tables import Order
from portal.tickets import changes, queries, service
from portal.tickets.rules import Actor
from portal.web import Form, ctx, flash, redirect, render

NEW = "customer/tickets/new.html"


async def _mine(request: Request, ref: str) -> dict:
    ticket = await queries.ticket_for_customer(ref, ctx(request).customer["id"])
    if ticket is None:
        raise NotFoundException()
    return ticket


def _actor(request: Request) -> Actor:
    return Actor.customer(ctx(request).customer)


def _base(ticket: dict) -> str:
    return f"/tickets/{ticket['ref']}"


@get("/tickets", opt=CUSTOMER, include_in_schema=False)
async def my_tickets(request: Request, before: int | None = None) -> Template:
    rows, next_before = await queries.customer_tickets(ctx(request).customer["id"], before=before)
    return render(request, "customer/tickets/list.html", block="ticket_rows" if before else None,
                  tickets=rows, next_before=next_before, headers=conv.PRIVATE, **conv.labels())


async def _my_orders(customer_id: int) -> list[dict]:
    return await Order.select(Order.number, Order.placed_at).where(Order.customer == customer_id).order_by(
        Order.placed_at, ascending=False).limit(50)


async def _new_page(request: Request, form: Form, status: int = 200) -> Template:
    return render(request, NEW, block="new_form", status=status, form=form,
                  orders=await _my_orders(ctx(request).customer["id"]), headers=conv.PRIVATE)


@get("/tickets/new", opt=CUSTOMER, include_in_schema=False)
async def new_ticket_page(request: Request, order: str | None = None) -> Template:
    return await _new_page(request, Form({"order": order or ""}))


@post("/tickets/new", opt=CUSTOMER, include_in_schema=False)
async def create_ticket(request: Request, data: MultipartBody) -> Response:
    customer = ctx(request).customer
    form, body, checked = await conv.read_message_form(data)
    subject = form.text("subject", max_length=200)
    number = form.text("order", required=False, max_length=64)
    order_id = None
    if number:
        order_id = await changes.order_id(number, customer_id=customer["id"])
        if order_id is None:
            form.add_error("order", _("This is not one of your orders."))
    if not form.ok:
        return await _new_page(request, form, status=422)
    new = service.NewTicket(subject=subject, body=body, requester_id=customer["id"], channel="portal",
                            order_id=order_id, language=ctx(request).locale, files=checked)
    opened = await service.open_ticket(new, actor=_actor(request), now=now(), storage=conv.storage(request))
    ref = f"T-{opened.ticket['number']}"
    flash(request, _("Thank you. Your request %(ref)s has been received.", ref=ref))
    if getattr(request, "htmx", None):  # a new page, not a fragment: the browser goes there
        return ClientRedirect(f"/tickets/{ref}")
    return redirect(f"/tickets/{ref}")


@get("/tickets/{ref:str}", opt=CUSTOMER, include_in_schema=False)
async def ticket_page(request: Request, ref: str) -> Template:
    ticket = await _mine(request, ref)
    return await conv.page(request, ticket, base=_base(ticket), guest=False)


@post("/tickets/{ref:str}/reply", opt=CUSTOMER, include_in_schema=False)
async def reply(request: Request, ref: str, data: MultipartBody) -> Response:
    ticket = await _mine(request, ref)
    return await conv.reply(request, ticket, data, base=_base(ticket), guest=False, actor=_actor(request),
                            follow_up_base=lambda r: f"/tickets/T-{r.ticket['number']}")


@post("/tickets/{ref:str}/close", opt=CUSTOMER, include_in_schema=False)
async def close(request: Request, ref: str) -> Response:
    ticket = await _mine(request, ref)
    return await conv.set_status(request, ticket, "close", base=_base(ticket), guest=False,
                                 actor=_actor(request))


@post("/tickets/{ref:str}/reopen", opt=CUSTOMER, include_in_schema=False)
async def reopen(request: Request, ref: str) -> Response:
    ticket = await _mine(request, ref)
    return await conv.set_status(request, ticket, "reopen", base=_base(ticket), guest=False,
                                 actor=_actor(request))


@get("/tickets/{ref:str}/attachments/{attachment_id:int}", opt=CUSTOMER, include_in_schema=False)
async def attachment(request: Request, ref: str, attachment_id: int) -> Response:
    ticket = await _mine(request, ref)
    response = await conv.download(ticket, attachment_id, conv.storage(request))
    if response is None:
        raise NotFoundException()
    return response


ROUTES = [my_tickets, new_ticket_page, create_ticket, ticket_page, reply, close, reopen, attachment]
