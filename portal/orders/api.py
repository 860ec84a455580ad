"""``/api/v1/orders/{number}``: shops push orders (PUT), change them (PATCH) and read them (GET).

Bearer token with the ``orders`` scope (the app-wide guard checks the token, ``require_scope``
the scope). Bodies are msgspec ``Struct``s that refuse unknown fields; the rules are
:mod:`portal.orders.service`'s, shared with the CSV import and the staff pages.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Annotated, Any

import msgspec
from litestar import Request, Response, get, patch, put
from litestar.connection import ASGIConnection
from litestar.handlers.base import BaseRouteHandler

from portal.accounts.api_scopes import token_allows
from portal.api import ApiError, decode
from portal.auth import API
from portal.clock import now
from portal.i18n import _
from portal.orders import queries, service
from portal.web import ctx


class CustomerIn(msgspec.Struct, forbid_unknown_fields=True):
    email: str
    name: str = ""
    phone: str | None = None
    locale: str | None = None


class ItemIn(msgspec.Struct, forbid_unknown_fields=True):
    name: str
    quantity: int
    unit_price: Decimal
    sku: str = ""


class OrderIn(msgspec.Struct, forbid_unknown_fields=True):
    customer: CustomerIn
    items: list[ItemIn]
    total: Decimal
    status: str
    placed_at: Annotated[datetime, msgspec.Meta(tz=True)]
    currency: str = "TRY"
    shipping_address: str = ""
    carrier: str = ""
    tracking_number: str = ""
    estimated_delivery: date | None = None


class ChangeIn(msgspec.Struct, forbid_unknown_fields=True):
    status: str | None = None
    carrier: str | None = None
    tracking_number: str | None = None
    estimated_delivery: date | None = None
    note: str = ""


def require_scope(scope: str):
    """A guard: the token is valid (checked by the app-wide guard) *and* may do ``scope``."""

    async def guard(connection: ASGIConnection, _handler: BaseRouteHandler) -> None:
        if not token_allows(ctx(connection).extra.get("api_token"), scope):
            raise ApiError(403, "forbidden", _("This token may not use the %(scope)s API.", scope=scope))

    return guard


def _actor(request: Request) -> str:
    return f"api:{ctx(request).extra['api_token']['name']}"


def _invalid(exc: service.OrderInvalid) -> ApiError:
    return ApiError(422, "validation_error", _("Some fields are not valid."), exc.fields)


def _not_found() -> ApiError:
    return ApiError(404, "not_found", _("There is no order with this number."))


async def order_json(number: str) -> dict[str, Any]:
    order = await queries.order_for_staff(number)  # a token with the orders scope sees every order
    if order is None:
        raise _not_found()
    items, events = order["items"], order["events"]
    return {
        "number": order["number"],
        "status": order["status"],
        "customer": {"email": order["email"], "name": order["customer_name"], "phone": order["phone"]},
        "shipping_address": order["shipping_address"],
        "items": [{"sku": i["sku"], "name": i["name"], "quantity": i["quantity"],
                   "unit_price": str(i["unit_price"])} for i in items],
        "total": str(order["total"]),
        "currency": order["currency"],
        "placed_at": order["placed_at"].isoformat(),
        "carrier": order["carrier"] or None,
        "carrier_name": order["carrier_name"] or None,
        "tracking_number": order["tracking_number"] or None,
        "tracking_url": order["tracking_url"],
        "estimated_delivery": (order["estimated_delivery"].isoformat()
                               if order["estimated_delivery"] else None),
        "created_at": order["created_at"].isoformat(),
        "updated_at": order["updated_at"].isoformat(),
        "timeline": [{"kind": e["kind"], "status": e["status"], "note": e["note"] or None,
                      "carrier": e["carrier"] or None, "tracking_number": e["tracking_number"] or None,
                      "actor": e["actor"], "at": e["created_at"].isoformat()} for e in events],
    }


ORDERS = {"guards": [require_scope("orders")], "opt": API, "tags": ["orders"]}


@put("/api/v1/orders/{number:str}", **ORDERS, status_code=200, summary="Create or replace an order")
async def put_order(request: Request, number: str) -> Response:
    body = await decode(request, OrderIn)
    data = service.OrderData(
        number=number, email=body.customer.email, name=body.customer.name, phone=body.customer.phone,
        locale=body.customer.locale, shipping_address=body.shipping_address, status=body.status,
        total=body.total, currency=body.currency, placed_at=body.placed_at, carrier=body.carrier,
        tracking_number=body.tracking_number, estimated_delivery=body.estimated_delivery,
        items=tuple(service.Item(name=i.name, quantity=i.quantity, unit_price=i.unit_price, sku=i.sku)
                    for i in body.items),
    )
    try:
        outcome = await service.upsert_order(data, actor=_actor(request), now=now())
    except service.OrderInvalid as exc:
        raise _invalid(exc) from None
    return Response(await order_json(number), status_code=201 if outcome.created else 200)


@patch("/api/v1/orders/{number:str}", **ORDERS, summary="Change an order's status or shipment")
async def patch_order(request: Request, number: str) -> dict[str, Any]:
    body = await decode(request, ChangeIn)
    change = service.Change(status=body.status, carrier=body.carrier, tracking_number=body.tracking_number,
                            estimated_delivery=body.estimated_delivery, note=body.note)
    try:
        await service.change_order(number, change, actor=_actor(request), now=now())
    except service.OrderInvalid as exc:
        raise _invalid(exc) from None
    except service.OrderNotFound:
        raise _not_found() from None
    return await order_json(number)


@get("/api/v1/orders/{number:str}", **ORDERS, summary="Read an order with its timeline")
async def get_order(number: str) -> dict[str, Any]:
    return await order_json(number)


ROUTES = [put_order, patch_order, get_order]
