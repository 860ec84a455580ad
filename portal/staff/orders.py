"""/staff/orders: search, one order with its timeline and a status change, and the CSV import.

Agents search and change orders; importing a file is for leads and admins (it can change
many orders at once).
"""

from __future__ import annotations

from datetime import date
from functools import partial
from typing import Annotated, Any

from litestar import Request, Response, get, post
from litestar.datastructures import UploadFile
from litestar.enums import RequestEncodingType
from litestar.exceptions import NotFoundException
from litestar.params import Body
from litestar.response import Template

from portal.auth import AGENT, LEAD
from portal.clock import now
from portal.i18n import _
from portal.orders import carriers, importer, queries, service
from portal.orders.service import STATUSES, status_labels
from portal.staff.common import changed
from portal.web import Form, FormBody, ctx, render, services

UploadBody = Annotated[dict[str, Any], Body(media_type=RequestEncodingType.MULTI_PART)]
DETAIL = "staff/orders/detail.html"
IMPORT = "staff/orders/import.html"


@get("/staff/orders", opt=AGENT, include_in_schema=False)
async def order_list(request: Request, q: str = "", status: str = "", cursor: str | None = None) -> Template:
    status = status if status in STATUSES else ""
    page = await queries.search_for_staff(q, status=status, cursor=cursor)
    # "status_filter", not "status": render() takes status= (the HTTP status) itself.
    return render(request, "staff/orders/list.html", block="results", page=page, q=q, status_filter=status,
                  statuses=STATUSES, labels=status_labels())


async def detail_page(request: Request, number: str, *, form: Form | None = None, status: int = 200,
                      notice: tuple[str, str] | None = None) -> Template:
    order = await queries.order_for_staff(number)
    if order is None:
        raise NotFoundException()
    return render(request, DETAIL, block="order_panel", status=status, order=order, notice=notice,
                  form=form or Form({}), items=order["items"], events=order["events"],
                  steps=queries.progress(order["status"]), labels=status_labels(), statuses=STATUSES,
                  carriers=carriers.CARRIERS.values(), show_actor=True)


@get("/staff/orders/{number:str}", opt=AGENT, include_in_schema=False)
async def order_detail(request: Request, number: str) -> Template:
    return await detail_page(request, number)


@post("/staff/orders/{number:str}/status", opt=AGENT, include_in_schema=False)
async def change_status(request: Request, number: str, data: FormBody) -> Response | Template:
    form = Form(data)
    change = service.Change(
        status=form.choice("status", STATUSES), carrier=form.text("carrier", required=False, max_length=60),
        tracking_number=form.text("tracking_number", required=False, max_length=80),
        estimated_delivery=_date(form, "estimated_delivery"),
        note=form.text("note", required=False, max_length=2000),
    )
    if form.ok:
        try:
            outcome = await service.change_order(number, change, actor=f"staff:{ctx(request).staff['email']}",
                                                 now=now())
        except service.OrderNotFound:
            raise NotFoundException() from None
        except service.OrderInvalid as exc:
            form.errors.update(exc.fields)
    if not form.ok:
        return await detail_page(request, number, form=form, status=422)
    message = _("The order has been updated.") if outcome.changed else _("Nothing changed.")
    return await changed(request, message, f"/staff/orders/{number}", partial(detail_page, number=number))


def _date(form: Form, name: str) -> date | None:
    text = form.text(name, required=False, max_length=10)
    if not text:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        form.add_error(name, _("Enter a date such as 2026-11-25."))
        return None


@get("/staff/orders/import", opt=LEAD, include_in_schema=False)
async def import_page(request: Request) -> Template:
    return render(request, IMPORT, columns=importer.COLUMNS, required=importer.REQUIRED)


@post("/staff/orders/import", opt=LEAD, include_in_schema=False)
async def import_upload(request: Request, data: UploadBody) -> Template:
    upload = data.get("file")
    context = {"columns": importer.COLUMNS, "required": importer.REQUIRED}
    if not isinstance(upload, UploadFile):
        return render(request, IMPORT, block="import_result", status=422,
                      error=_("Choose a CSV file to import."), **context)
    raw = await upload.read()
    try:
        report = await importer.import_orders(raw, actor=f"import:{ctx(request).staff['email']}", now=now(),
                                              tz=services(request).settings.tz)
    except importer.ImportFileError as exc:
        return render(request, IMPORT, block="import_result", status=422, error=str(exc), **context)
    return render(request, IMPORT, block="import_result", report=report, filename=upload.filename, **context)


ROUTES = [order_list, import_page, import_upload, order_detail, change_status]
