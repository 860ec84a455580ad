"""My orders (``/orders``, ``/orders/{number}``) and guest tracking (``/track``).

Guest tracking answers in the POST response itself rather than redirecting to a result URL:
a URL with the order number in it would end up in browser history, proxies and shared links,
and would be something to enumerate. A wrong number and a wrong e-mail run the same queries
and render the same page with the same status; failed attempts are throttled per client
address and per order number (guessing e-mails for one known number is slow from anywhere).
"""

from __future__ import annotations

from litestar import Request, Response, get, post
from litestar.exceptions import NotFoundException
from litestar.response import Template

from portal.auth import CUSTOMER, PUBLIC
from portal.customer.accounts import client_ip, throttled
from portal.orders import queries
from portal.orders.service import status_labels
from portal.web import Form, FormBody, ctx, error_page, render, services

TRACK_WINDOW = 15 * 60
TRACK_PER_ADDRESS = 20  # failed look-ups per client address per window
TRACK_PER_NUMBER = 10  # failed look-ups per order number per window, from anywhere
PRIVATE = {"Cache-Control": "private, no-store"}


def _details(order: dict) -> dict:
    return {"order": order, "items": order["items"], "events": order["events"],
            "steps": queries.progress(order["status"]), "labels": status_labels()}


@get("/orders", opt=CUSTOMER, include_in_schema=False)
async def my_orders(request: Request, cursor: str | None = None) -> Template:
    page = await queries.orders_for_customer(ctx(request).customer["id"], cursor=cursor)
    return render(request, "customer/orders/list.html", block="order_rows" if cursor else None, page=page,
                  cursor=cursor, labels=status_labels(), headers=PRIVATE)


@get("/orders/{number:str}", opt=CUSTOMER, include_in_schema=False)
async def order_page(request: Request, number: str) -> Template:
    order = await queries.order_for_customer(number, ctx(request).customer["id"])
    if order is None:
        raise NotFoundException()
    return render(request, "customer/orders/detail.html", block="order_status", headers=PRIVATE,
                  **_details(order))


@get("/track", opt=PUBLIC, include_in_schema=False)
async def track_page(request: Request) -> Template:
    return render(request, "customer/orders/track.html", form=Form({}))


@post("/track", opt=PUBLIC, include_in_schema=False)
async def track(request: Request, data: FormBody) -> Response:
    form = Form(data)
    number = form.text("number", max_length=64)
    email = form.email()
    if not form.ok:
        return render(request, "customer/orders/track.html", block="tracker", form=form, status=422)
    keys = ((f"track:ip:{client_ip(request)}", TRACK_PER_ADDRESS, TRACK_WINDOW),
            (f"track:number:{number.upper()}", TRACK_PER_NUMBER, TRACK_WINDOW))
    if wait := await throttled(request, *keys):
        if getattr(request, "htmx", None):  # htmx swaps only 2xx and 422: say it inside the form
            return render(request, "customer/orders/track.html", block="tracker", form=form,
                          throttled=max(1, wait // 60), headers={"Retry-After": str(wait)})
        return error_page(request, 429, retry_after=wait)
    order = await queries.order_for_guest(number, email)  # one query, whichever field is wrong
    if order is None:
        for key in keys:
            await services(request).throttle.hit(*key)
        return render(request, "customer/orders/track.html", block="tracker", form=form, not_found=True,
                      headers=PRIVATE)
    return render(request, "customer/orders/track.html", block="tracker", form=form, headers=PRIVATE,
                  **_details(order))


ROUTES = [my_orders, order_page, track_page, track]
