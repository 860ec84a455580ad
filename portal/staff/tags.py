"""``/staff/tags/{tag}``: every customer, order, ticket and article with one tag;
``/staff/tags/suggest``: existing tags while typing, most used first."""

from __future__ import annotations

from litestar import Request, get
from litestar.exceptions import NotFoundException
from litestar.response import Template

from portal.accounts.tables import Customer
from portal.auth import AGENT
from portal.kb.tables import Article
from portal.orders.tables import Order
from portal.staff.ticket_context import labels
from portal.tags import service as tags
from portal.tickets.rules import ref
from portal.tickets.tables import Ticket
from portal.web import render


@get("/staff/tags/suggest", opt=AGENT, include_in_schema=False)
async def suggest(request: Request) -> Template:
    """``<option>``s for the tag field's datalist. The field holds ``a, b, ka``: the part after
    the last comma is what is being typed; each option is the whole field completed."""
    typed = request.query_params.get("tags") or request.query_params.get("q") or ""
    done, _sep, current = typed.rpartition(",")
    prefix = (done + ", ") if done.strip() else ""
    already = {tags.key(t) for t in done.split(",") if t.strip()}
    found = [s for s in await tags.suggest(current.strip(), limit=12) if tags.key(s["name"]) not in already]
    return render(request, "staff/tags/suggest.html", prefix=prefix, suggestions=found[:8])


@get("/staff/tags/{name:str}", opt=AGENT, include_in_schema=False)
async def tag_page(request: Request, name: str) -> Template:
    tag = await tags.get(name)
    if tag is None:
        raise NotFoundException()
    ticket_ids = await tags.records(tag["id"], "ticket")
    customer_ids = await tags.records(tag["id"], "customer")
    order_ids = await tags.records(tag["id"], "order")
    article_ids = await tags.records(tag["id"], "article")
    tickets = await Ticket.select(Ticket.id, Ticket.number, Ticket.subject, Ticket.status,
                                  Ticket.created_at).where(Ticket.id.is_in(ticket_ids or [0])).order_by(
        Ticket.id, ascending=False)
    for t in tickets:
        t["ref"] = ref(t["number"])
    people = await Customer.select(Customer.id, Customer.name, Customer.email).where(
        Customer.id.is_in(customer_ids or [0])).order_by(Customer.name)
    orders = await Order.select(Order.id, Order.number, Order.status, Order.placed_at).where(
        Order.id.is_in(order_ids or [0])).order_by(Order.placed_at, ascending=False)
    articles = await Article.select(Article.id, Article.title, Article.lang).where(
        Article.id.is_in(article_ids or [0])).order_by(Article.title)
    return render(request, "staff/tags/detail.html", tag=tag, tickets=tickets, people=people, orders=orders,
                  articles=articles, **labels())


ROUTES = [suggest, tag_page]
