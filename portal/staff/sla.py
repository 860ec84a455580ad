"""/staff/settings/business-hours and /staff/settings/sla (admins only): calendars with their
closed days, and the ordered SLA policies. The rules live in ``portal.sla``; these handlers
parse, call them and pick a template."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from litestar import Request, Response, get, post
from litestar.exceptions import NotFoundException
from litestar.response import Template

from portal.accounts import staff as staff_admin
from portal.auth import ADMIN
from portal.clock import now
from portal.i18n import _
from portal.sla import admin
from portal.sla.calendar import WEEKDAYS, BadHours, format_ranges, holiday_list, parse_ranges, valid_zone
from portal.staff.common import changed, checked
from portal.tickets.rules import CHANNEL_NAMES, CHANNELS, PRIORITIES, PRIORITY_NAMES
from portal.value.service import SEGMENT_LABELS, SEGMENTS
from portal.web import Form, FormBody, ctx, parse_int, render

CALENDARS = "staff/settings/business_hours.html"
CALENDAR = "staff/settings/business_hours_edit.html"
POLICIES = "staff/settings/sla.html"
POLICY = "staff/settings/sla_policy.html"
MAX_MINUTES = 366 * 24 * 60


def weekday_names() -> list[tuple[str, str]]:
    return list(zip(WEEKDAYS, (_("Monday"), _("Tuesday"), _("Wednesday"), _("Thursday"), _("Friday"),
                               _("Saturday"), _("Sunday")), strict=True))


def many(data: dict[str, Any], name: str) -> list[str]:
    value = data.get(name)
    if value is None:
        return []
    return [str(v) for v in (value if isinstance(value, list) else [value]) if str(v).strip()]


# --- calendars ------------------------------------------------------------------------------------

def calendar_values(form: Form, data: dict[str, Any]) -> dict[str, Any]:
    values: dict[str, Any] = {"name": form.text("name", max_length=120),
                              "timezone": form.text("timezone", max_length=60),
                              "always_open": checked(data, "always_open"),
                              "public_holidays": checked(data, "public_holidays")}
    if values["timezone"] and "timezone" not in form.errors and not valid_zone(values["timezone"]):
        form.add_error("timezone", _("Unknown time zone. Example: %(example)s", example="Europe/Istanbul"))
    for day in WEEKDAYS:
        text = form.text(day, required=False, max_length=200)
        try:
            values[day] = format_ranges(parse_ranges(text))
        except BadHours as exc:
            form.add_error(day, _("Cannot read “%(part)s”: write ranges like 09:00-12:30, 13:30-18:00.",
                                  part=str(exc)))
    if form.ok and not values["always_open"] and not any(values[d] for d in WEEKDAYS):
        form.add_error("form", _("Give opening hours for at least one day, or choose 24/7."))
    return values


async def calendars_page(request: Request, *, form: Form | None = None, status: int = 200,
                         notice: tuple[str, str] | None = None) -> Template:
    blank = Form({"timezone": "Europe/Istanbul", "public_holidays": "1", **{d: "09:00-18:00" for d in WEEKDAYS[:5]}})
    return render(request, CALENDARS, block="calendars_section", status=status, notice=notice,
                  form=form or blank, calendars=await admin.list_calendars(), weekdays=weekday_names())


@get("/staff/settings/business-hours", opt=ADMIN, include_in_schema=False)
async def calendars(request: Request) -> Template:
    return await calendars_page(request)


@post("/staff/settings/business-hours", opt=ADMIN, include_in_schema=False)
async def create_calendar(request: Request, data: FormBody) -> Response | Template:
    form = Form(data)
    values = calendar_values(form, data)
    if not form.ok:
        return await calendars_page(request, form=form, status=422)
    calendar_id = await admin.save_calendar(None, values, now=now())
    return await changed(request, _("The calendar has been created."),
                         f"/staff/settings/business-hours/{calendar_id}", calendars_page)


def calendar_page_for(calendar_id: int):
    async def page(request: Request, *, form: Form | None = None, closure_form: Form | None = None,
                   status: int = 200, notice: tuple[str, str] | None = None) -> Template:
        row = await admin.get_calendar(calendar_id)
        if row is None:
            raise NotFoundException()
        year = now().astimezone(ZoneInfo(row["timezone"])).year
        holidays = [(y, holiday_list(y, ctx(request).locale)) for y in (year, year + 1)] if row[
            "public_holidays"] else []
        return render(request, CALENDAR, block="calendar_section", status=status, notice=notice, calendar=row,
                      form=form or Form({**row, "always_open": "1" if row["always_open"] else "",
                                         "public_holidays": "1" if row["public_holidays"] else ""}),
                      closure_form=closure_form or Form({}), weekdays=weekday_names(), holidays=holidays,
                      zone=ZoneInfo(row["timezone"]))

    return page


@get("/staff/settings/business-hours/{calendar_id:int}", opt=ADMIN, include_in_schema=False)
async def calendar_detail(request: Request, calendar_id: int) -> Template:
    return await calendar_page_for(calendar_id)(request)


@post("/staff/settings/business-hours/{calendar_id:int}", opt=ADMIN, include_in_schema=False)
async def update_calendar(request: Request, calendar_id: int, data: FormBody) -> Response | Template:
    page = calendar_page_for(calendar_id)
    form = Form(data)
    values = calendar_values(form, data)
    if not form.ok:
        return await page(request, form=form, status=422)
    try:
        await admin.save_calendar(calendar_id, values, now=now())
    except admin.SlaAdminError:
        raise NotFoundException() from None
    return await changed(request, _("The calendar has been saved."), f"/staff/settings/business-hours/{calendar_id}",
                         page)


@post("/staff/settings/business-hours/{calendar_id:int}/delete", opt=ADMIN, include_in_schema=False)
async def delete_calendar(request: Request, calendar_id: int) -> Response | Template:
    try:
        await admin.delete_calendar(calendar_id, now=now())
    except admin.SlaAdminError as exc:
        if exc.code == "not_found":
            raise NotFoundException() from None
        return await calendar_page_for(calendar_id)(
            request, status=422, notice=("error", _("This calendar is the default or a policy uses it: it stays.")))
    return await changed(request, _("The calendar has been deleted."), "/staff/settings/business-hours",
                         calendars_page)


def parse_moment(text: str, zone: ZoneInfo, *, end: bool) -> datetime | None:
    """``2026-12-31`` (the whole day: its start, or for an end its end) or ``2026-12-31 13:00``,
    local to the calendar, to UTC; None when unreadable."""
    text = text.strip().replace("T", " ")
    try:
        if len(text) == 10:
            day = date.fromisoformat(text)
        else:
            local = datetime.strptime(text, "%Y-%m-%d %H:%M").replace(tzinfo=zone)
            day = local.date()
    except ValueError:
        return None
    if not 1900 <= day.year <= 2100:  # 9999-12-31 overflows its end, 0001-01-01 its UTC
        return None
    if len(text) == 10:
        local = datetime.combine(day + timedelta(days=1) if end else day, time(), tzinfo=zone)
    return local.astimezone(UTC)


@post("/staff/settings/business-hours/{calendar_id:int}/closures", opt=ADMIN, include_in_schema=False)
async def add_closure(request: Request, calendar_id: int, data: FormBody) -> Response | Template:
    page = calendar_page_for(calendar_id)
    row = await admin.get_calendar(calendar_id)
    if row is None:
        raise NotFoundException()
    zone = ZoneInfo(row["timezone"])
    form = Form(data)
    name = form.text("closure_name", required=False, max_length=120)
    starts = form.text("starts", max_length=20)
    ends = form.text("ends", max_length=20)
    starts_at = parse_moment(starts, zone, end=False) if starts else None
    ends_at = parse_moment(ends, zone, end=True) if ends else None
    for field, raw, value in (("starts", starts, starts_at), ("ends", ends, ends_at)):
        if raw and value is None:
            form.add_error(field, _("Write a day like 2026-12-31, or a day and time like 2026-12-31 13:00."))
    if starts_at and ends_at and ends_at <= starts_at:
        form.add_error("ends", _("The end must come after the start."))
    if not form.ok:
        return await page(request, closure_form=form, status=422)
    await admin.add_closure(calendar_id, name, starts_at, ends_at, now=now())  # type: ignore[arg-type]
    return await changed(request, _("The closed days have been added."),
                         f"/staff/settings/business-hours/{calendar_id}", page)


@post("/staff/settings/business-hours/{calendar_id:int}/closures/{closure_id:int}/delete", opt=ADMIN,
      include_in_schema=False)
async def delete_closure(request: Request, calendar_id: int, closure_id: int) -> Response | Template:
    try:
        await admin.delete_closure(calendar_id, closure_id, now=now())
    except admin.SlaAdminError:
        raise NotFoundException() from None
    return await changed(request, _("The closed days have been removed."),
                         f"/staff/settings/business-hours/{calendar_id}", calendar_page_for(calendar_id))


# --- policies -------------------------------------------------------------------------------------

def minutes_field(form: Form, name: str) -> int | None:
    raw = form.text(name, required=False, max_length=10)
    if not raw:
        return None
    value = parse_int(raw, lo=1, hi=MAX_MINUTES)
    if value is None:
        form.add_error(name, _("Give a whole number of minutes from 1 to %(n)s.", n=MAX_MINUTES))
    return value


async def policy_values(form: Form, data: dict[str, Any]) -> dict[str, Any]:
    teams = {str(t["id"]) for t in await staff_admin.list_teams()}
    calendars = {str(c["id"]) for c in await admin.list_calendars()}
    chosen: dict[str, list[str]] = {}
    for name, allowed in (("priorities", set(PRIORITIES)), ("channels", set(CHANNELS)), ("segments", set(SEGMENTS)),
                          ("team_ids", teams)):
        chosen[name] = [v for v in many(data, name) if v in allowed]
        form.values[name] = ",".join(chosen[name])
        if len(chosen[name]) != len(many(data, name)):
            form.add_error(name, _("Please choose one of the options."))
    slugs = [s.strip().lower() for s in form.text("form_slugs", required=False, max_length=600).split(",") if s.strip()]
    values: dict[str, Any] = {
        "name": form.text("name", max_length=120), "active": checked(data, "active"),
        "priorities": ",".join(chosen["priorities"]), "channels": ",".join(chosen["channels"]),
        "segments": ",".join(chosen["segments"]), "team_ids": ",".join(chosen["team_ids"]),
        "form_slugs": ",".join(slugs),
        "first_response_minutes": minutes_field(form, "first_response_minutes"),
        "next_response_minutes": minutes_field(form, "next_response_minutes"),
        "resolution_minutes": minutes_field(form, "resolution_minutes"),
        "pause_on_hold": checked(data, "pause_on_hold"),
    }
    warn = form.text("warn_percent", max_length=3)
    percent = parse_int(warn, lo=1, hi=100)
    if warn and percent is None:
        form.add_error("warn_percent", _("Give a percentage from 1 to 100."))
    values["warn_percent"] = percent or 80
    calendar = form.choice("calendar", tuple(calendars))
    values["calendar"] = parse_int(calendar)
    if form.ok and not any(values[k] for k in ("first_response_minutes", "next_response_minutes",
                                               "resolution_minutes")):
        form.add_error("form", _("Give at least one target."))
    return values


async def _choices() -> dict[str, Any]:
    calendars = await admin.list_calendars()
    return {"priorities": [(p, _(PRIORITY_NAMES[p])) for p in PRIORITIES],
            "channels": [(c, _(CHANNEL_NAMES[c])) for c in CHANNELS],
            "segments": [(s, _(SEGMENT_LABELS[s])) for s in SEGMENTS],
            "teams": await staff_admin.list_teams(),
            "calendars": calendars,
            "calendar_options": [(str(c["id"]), c["name"]) for c in calendars]}


async def policies_page(request: Request, *, form: Form | None = None, status: int = 200,
                        notice: tuple[str, str] | None = None) -> Template:
    choices = await _choices()
    default = next((c["id"] for c in choices["calendars"] if c["is_default"]), "")
    blank = Form({"active": "1", "warn_percent": "80", "calendar": str(default)})
    return render(request, POLICIES, block="policies_section", status=status, notice=notice, form=form or blank,
                  policies=await admin.list_policies(), **choices)


@get("/staff/settings/sla", opt=ADMIN, include_in_schema=False)
async def policies(request: Request) -> Template:
    return await policies_page(request)


@post("/staff/settings/sla", opt=ADMIN, include_in_schema=False)
async def create_policy(request: Request, data: FormBody) -> Response | Template:
    form = Form(data)
    values = await policy_values(form, data)
    if not form.ok:
        return await policies_page(request, form=form, status=422)
    await admin.save_policy(None, values, now=now())
    return await changed(request, _("The policy has been created."), "/staff/settings/sla", policies_page)


def policy_page_for(policy_id: int):
    async def page(request: Request, *, form: Form | None = None, status: int = 200,
                   notice: tuple[str, str] | None = None) -> Template:
        row = await admin.get_policy(policy_id)
        if row is None:
            raise NotFoundException()
        shown = {**{k: "" if v is None else str(v) for k, v in row.items()},
                 "active": "1" if row["active"] else "", "pause_on_hold": "1" if row["pause_on_hold"] else ""}
        return render(request, POLICY, block="policy_section", status=status, notice=notice, policy=row,
                      form=form or Form(shown), **await _choices())

    return page


@get("/staff/settings/sla/{policy_id:int}", opt=ADMIN, include_in_schema=False)
async def policy_detail(request: Request, policy_id: int) -> Template:
    return await policy_page_for(policy_id)(request)


@post("/staff/settings/sla/{policy_id:int}", opt=ADMIN, include_in_schema=False)
async def update_policy(request: Request, policy_id: int, data: FormBody) -> Response | Template:
    page = policy_page_for(policy_id)
    form = Form(data)
    values = await policy_values(form, data)
    if not form.ok:
        return await page(request, form=form, status=422)
    try:
        await admin.save_policy(policy_id, values, now=now())
    except admin.SlaAdminError:
        raise NotFoundException() from None
    return await changed(request, _("The policy has been saved."), f"/staff/settings/sla/{policy_id}", page)


@post("/staff/settings/sla/{policy_id:int}/move", opt=ADMIN, include_in_schema=False)
async def move_policy(request: Request, policy_id: int, data: FormBody) -> Response | Template:
    step = {"up": -1, "down": 1}.get(str(data.get("direction", "")))
    if step is None:
        return await policies_page(request, status=422, notice=("error", _("Please choose one of the options.")))
    try:
        await admin.move_policy(policy_id, step, now=now())
    except admin.SlaAdminError:
        raise NotFoundException() from None
    return await changed(request, _("The order has been changed."), "/staff/settings/sla", policies_page)


@post("/staff/settings/sla/{policy_id:int}/delete", opt=ADMIN, include_in_schema=False)
async def delete_policy(request: Request, policy_id: int) -> Response | Template:
    try:
        await admin.delete_policy(policy_id, now=now())
    except admin.SlaAdminError:
        raise NotFoundException() from None
    return await changed(request, _("The policy has been deleted."), "/staff/settings/sla", policies_page)


ROUTES = [calendars, create_calendar, calendar_detail, update_calendar, delete_calendar, add_closure, delete_closure,
          policies, create_policy, policy_detail, update_policy, move_policy, delete_policy]
