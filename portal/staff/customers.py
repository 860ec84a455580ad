"""``/staff/customers/{id}``: one customer's orders, tickets, tags and notes in one place;
``/staff/customers/search``: finding a customer by e-mail, phone or name as one types."""

from __future__ import annotations

from litestar import Request, Response, get, post
from litestar.exceptions import NotFoundException
from litestar.response import Template

from portal.auth import AGENT
from portal.clock import now
from portal.i18n import _
from portal.staff.common import changed
from portal.staff.ticket_context import labels
from portal.surveys import results as survey_results
from portal.tags import service as tags
from portal.tickets import customers, queries
from portal.tickets.rules import TicketError
from portal.value import service as customer_value
from portal.web import Form, FormBody, ctx, render

TEMPLATE = "staff/customers/detail.html"


def _page_for(customer_id: int):
    async def page(request: Request, *, note_form: Form | None = None, tag_form: Form | None = None,
                   status: int = 200, notice: tuple[str, str] | None = None) -> Template:
        person = await customers.get(customer_id)
        if person is None:
            raise NotFoundException()
        customer_tags = (await tags.of("customer", [customer_id])).get(customer_id, [])
        return render(request, TEMPLATE, block="customer_panel", status=status, person=person, notice=notice,
                      orders=await customers.orders(customer_id, limit=50),
                      tickets=await queries.other_tickets(customer_id, limit=100),
                      notes=await customers.notes(customer_id), customer_tags=customer_tags,
                      survey_answers=await survey_results.of_customer(customer_id),
                      customer_value=await customer_value.value_of(customer_id),
                      note_form=note_form or Form({}),
                      tag_form=tag_form or Form({"tags": ", ".join(customer_tags)}),
                      headers={"Cache-Control": "private, no-store"}, **labels())

    return page


@get("/staff/customers/search", opt=AGENT, include_in_schema=False)
async def search(request: Request, q: str = "", pick: str = "") -> Template:
    """A list of matching customers (an htmx fragment, or a small page without JavaScript).
    With ``pick``, each result links to the phone-call form with that customer chosen."""
    results = await customers.search(q)
    return render(request, "staff/customers/search.html", block="results", q=q, results=results, pick=pick)


@get("/staff/customers/{customer_id:int}", opt=AGENT, include_in_schema=False)
async def customer_page(request: Request, customer_id: int) -> Template:
    return await _page_for(customer_id)(request)


@post("/staff/customers/{customer_id:int}/notes", opt=AGENT, include_in_schema=False)
async def add_note(request: Request, customer_id: int, data: FormBody) -> Response | Template:
    page = _page_for(customer_id)
    form = Form(data)
    body = form.text("body", max_length=10000)
    if form.ok:
        staff = ctx(request).staff
        try:
            await customers.add_note(customer_id, author_id=staff["id"], author_name=staff["name"], body=body,
                                     now=now())
        except TicketError as exc:
            if exc.code == "not_found":
                raise NotFoundException() from None
            form.add_error("body", _("Please write a note."))
    if not form.ok:
        return await page(request, note_form=form, status=422)
    return await changed(request, _("The note has been added."), f"/staff/customers/{customer_id}", page)


@post("/staff/customers/{customer_id:int}/tags", opt=AGENT, include_in_schema=False)
async def set_tags(request: Request, customer_id: int, data: FormBody) -> Response | Template:
    page = _page_for(customer_id)
    form = Form(data)
    names = tags.parse(form.text("tags", required=False, max_length=1000))
    if await customers.get(customer_id) is None:
        raise NotFoundException()
    await tags.replace("customer", customer_id, names, by=ctx(request).staff["id"], now=now())
    return await changed(request, _("The tags have been saved."), f"/staff/customers/{customer_id}", page)


ROUTES = [search, customer_page, add_note, set_tags]
