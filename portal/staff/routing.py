"""/staff/settings/routing (admins only): routing rules, their order, and the tester
("which rule would match this ticket?"). The rules themselves live in ``portal.routing``."""

from __future__ import annotations

from typing import Any

from litestar import Request, Response, get, post
from litestar.exceptions import NotFoundException
from litestar.response import Template

from portal.accounts import staff as staff_admin
from portal.accounts.tables import StaffUser, Team
from portal.auth import ADMIN
from portal.clock import now
from portal.forms.tables import Form as RequestForm
from portal.i18n import _, search_fold
from portal.orders.service import STATUS_LABELS as ORDER_STATUS_NAMES
from portal.orders.service import STATUSES as ORDER_STATUSES
from portal.routing import service as routing
from portal.routing.matching import Facts
from portal.staff.common import checked
from portal.tags import service as tags
from portal.tickets import queries
from portal.tickets.rules import CHANNEL_NAMES, CHANNELS, PRIORITIES, PRIORITY_NAMES, parse_ref
from portal.tickets.tables import Ticket
from portal.value.service import SEGMENT_LABELS, SEGMENTS
from portal.web import Form, FormBody, flash, parse_int, redirect, render

LIST = "staff/settings/routing.html"
EDIT = "staff/settings/routing_rule.html"
TEST = "staff/settings/routing_test.html"
LANGUAGES = ("tr", "en")
LANGUAGE_NAMES = {"tr": "Türkçe", "en": "English"}
MAX_LIST = 30  # words, tags or form slugs in one condition


def _many(data: dict[str, Any], name: str) -> list[str]:
    value = data.get(name)
    values = value if isinstance(value, list) else ([value] if value else [])
    return [str(v) for v in values]


def _comma_list(form: Form, name: str, *, max_item: int = 60) -> list[str]:
    raw = form.text(name, required=False, max_length=2000)
    items = list(dict.fromkeys(p.strip() for p in raw.split(",") if p.strip()))
    if len(items) > MAX_LIST:
        form.add_error(name, _("Please give at most %(n)s entries.", n=MAX_LIST))
    elif any(len(i) > max_item for i in items):
        form.add_error(name, _("Each entry may have at most %(n)s characters.", n=max_item))
    return items


def _checked_choices(form: Form, data: dict[str, Any], name: str, options: tuple[str, ...]) -> list[str]:
    values = list(dict.fromkeys(_many(data, name)))
    form.values[name] = ",".join(values)
    if any(v not in options for v in values):
        form.add_error(name, _("Please choose one of the options."))
    return [v for v in values if v in options]


async def _options() -> dict[str, Any]:
    teams = await queries.teams()
    agents = await queries.agents()
    forms = await RequestForm.select(RequestForm.slug).order_by(RequestForm.slug)
    return {
        "teams": teams, "agents": agents, "form_slugs": [f["slug"] for f in forms],
        "channels": [(c, CHANNEL_NAMES.get(c, c)) for c in CHANNELS],
        "priorities": [(p, PRIORITY_NAMES[p]) for p in PRIORITIES],
        "segments": [(s, SEGMENT_LABELS[s]) for s in SEGMENTS],
        "languages": [(code, LANGUAGE_NAMES[code]) for code in LANGUAGES],
        "order_statuses": [(s, ORDER_STATUS_NAMES[s]) for s in ORDER_STATUSES],
    }


async def parse_rule(data: dict[str, Any]) -> tuple[Form, routing.RuleData]:
    """The rule form, validated: errors in the user's language on ``form``."""
    form = Form(data)
    name = form.text("name", max_length=120)
    conditions = {
        "channels": _checked_choices(form, data, "channels", CHANNELS),
        "segments": _checked_choices(form, data, "segments", SEGMENTS),
        "languages": _checked_choices(form, data, "languages", LANGUAGES),
        "order_statuses": _checked_choices(form, data, "order_statuses", ORDER_STATUSES),
        "form_slugs": _comma_list(form, "form_slugs"),
        "words": _comma_list(form, "words"),
        "customer_tags": tags.parse(_comma_list(form, "customer_tags")),
    }
    if any(len(search_fold(w).strip()) < 2 for w in conditions["words"]):
        form.add_error("words", _("Each word needs at least two letters."))
    if conditions["form_slugs"] and "form_slugs" not in form.errors:
        known = {r["slug"] for r in await RequestForm.select(RequestForm.slug).where(
            RequestForm.slug.is_in(conditions["form_slugs"]))}
        unknown = [s for s in conditions["form_slugs"] if s not in known]
        if unknown:
            form.add_error("form_slugs", _("There is no request form %(slugs)s.", slugs=", ".join(unknown)))
    team = form.text("set_team", required=False, max_length=12)
    priority = form.choice("set_priority", PRIORITIES, required=False)
    assignee = form.text("set_assignee", required=False, max_length=12)
    add_tags = _comma_list(form, "add_tags")
    team_id = assignee_id = None
    if team:
        team_key = parse_int(team)
        row = await Team.select(Team.id).where(Team.id == team_key).first() if team_key is not None else None
        if row is None:
            form.add_error("set_team", _("Please choose one of the options."))
        else:
            team_id = row["id"]
    if assignee:
        assignee_key = parse_int(assignee)
        row = await StaffUser.select(StaffUser.id).where(
            (StaffUser.id == assignee_key) & (StaffUser.active == True)  # noqa: E712
        ).first() if assignee_key is not None else None
        if row is None:
            form.add_error("set_assignee", _("Please choose one of the options."))
        else:
            assignee_id = row["id"]
    rule = routing.RuleData(name=name, active=checked(data, "active"), stop=checked(data, "stop"),
                            conditions=conditions, set_team=team_id,
                            set_priority=priority or None, add_tags=tags.parse(add_tags), set_assignee=assignee_id)
    if form.ok and not rule.has_action():
        form.add_error("set_team", _("A rule must do something: choose a team, a priority, tags or an assignee."))
    return form, rule


def _form_of(rule: dict) -> Form:
    c = rule["conditions"]
    form = Form({})
    form.values = {
        "name": rule["name"], "active": "1" if rule["active"] else "", "stop": "1" if rule["stop"] else "",
        "channels": ",".join(c["channels"]), "segments": ",".join(c["segments"]),
        "languages": ",".join(c["languages"]), "order_statuses": ",".join(c["order_statuses"]),
        "form_slugs": ", ".join(c["form_slugs"]), "words": ", ".join(c["words"]),
        "customer_tags": ", ".join(c["customer_tags"]),
        "set_team": str(rule["set_team"] or ""), "set_priority": rule["set_priority"] or "",
        "set_assignee": str(rule["set_assignee"] or ""), "add_tags": ", ".join(rule["tags_list"]),
    }
    return form


# --- the list ---------------------------------------------------------------------------------------

@get("/staff/settings/routing", opt=ADMIN, include_in_schema=False)
async def rules_page(request: Request) -> Template:
    return render(request, LIST, rules=await routing.list_rules(), team_settings=await routing.team_settings(),
                  assignment_names=routing.ASSIGNMENT_NAMES, **await _options())


@post("/staff/settings/routing/teams/{team_id:int}", opt=ADMIN, include_in_schema=False)
async def team_assignment(request: Request, team_id: int, data: FormBody) -> Response | Template:
    """A team's automatic assignment: on or off, and the method."""
    method = str(data.get("assignment") or "")
    if method not in routing.ASSIGNMENT_NAMES:
        flash(request, _("Please choose one of the options."), "error")
        return redirect("/staff/settings/routing")
    if not await routing.set_team_assignment(team_id, auto_assign=checked(data, "auto_assign"), method=method,
                                             now=now()):
        raise NotFoundException()
    flash(request, _("The team's assignment has been saved."))
    return redirect("/staff/settings/routing#assignment-heading")


async def _edit_page(request: Request, form: Form, *, rule: dict | None, status: int = 200) -> Template:
    return render(request, EDIT, status=status, form=form, rule=rule, **await _options())


@get("/staff/settings/routing/new", opt=ADMIN, include_in_schema=False)
async def new_rule(request: Request) -> Template:
    form = Form({})
    form.values = {"active": "1", "stop": "1"}
    return await _edit_page(request, form, rule=None)


@post("/staff/settings/routing", opt=ADMIN, include_in_schema=False)
async def create_rule(request: Request, data: FormBody) -> Response | Template:
    form, rule = await parse_rule(data)
    if not form.ok:
        return await _edit_page(request, form, rule=None, status=422)
    await routing.create_rule(rule, now=now())
    flash(request, _("The routing rule has been created."))
    return redirect("/staff/settings/routing")


async def _rule_or_404(rule_id: int) -> dict:
    rule = await routing.get_rule(rule_id)
    if rule is None:
        raise NotFoundException()
    return rule


@get("/staff/settings/routing/{rule_id:int}", opt=ADMIN, include_in_schema=False)
async def edit_rule(request: Request, rule_id: int) -> Template:
    rule = await _rule_or_404(rule_id)
    return await _edit_page(request, _form_of(rule), rule=rule)


@post("/staff/settings/routing/{rule_id:int}", opt=ADMIN, include_in_schema=False)
async def update_rule(request: Request, rule_id: int, data: FormBody) -> Response | Template:
    rule = await _rule_or_404(rule_id)
    form, data_ = await parse_rule(data)
    if not form.ok:
        return await _edit_page(request, form, rule=rule, status=422)
    if not await routing.update_rule(rule_id, data_, now=now()):
        raise NotFoundException()
    flash(request, _("The routing rule has been saved."))
    return redirect("/staff/settings/routing")


@post("/staff/settings/routing/{rule_id:int}/move", opt=ADMIN, include_in_schema=False)
async def move_rule(request: Request, rule_id: int, data: FormBody) -> Response:
    direction = str(data.get("direction") or "")
    if direction not in ("up", "down"):
        flash(request, _("Please choose one of the options."), "error")
        return redirect("/staff/settings/routing")
    if not await routing.move_rule(rule_id, -1 if direction == "up" else 1):
        raise NotFoundException()
    flash(request, _("The order of the rules has been changed."))
    return redirect("/staff/settings/routing")


@post("/staff/settings/routing/{rule_id:int}/delete", opt=ADMIN, include_in_schema=False)
async def delete_rule(request: Request, rule_id: int) -> Response:
    if not await routing.delete_rule(rule_id):
        raise NotFoundException()
    flash(request, _("The routing rule has been deleted."))
    return redirect("/staff/settings/routing")


# --- the tester -----------------------------------------------------------------------------------

async def _sample(form: Form, data: dict[str, Any]) -> Facts | None:
    """Facts from a ticket reference, or from the sample fields typed in."""
    ref = form.text("ref", required=False, max_length=20)
    if ref:
        number = parse_ref(ref)
        row = await Ticket.select(Ticket.id).where(Ticket.number == number).first() if (
            number and number < 2**31) else None
        if row is None:
            form.add_error("ref", _("There is no ticket %(ref)s.", ref=ref))
            return None
        return await routing.facts_of_ticket(row["id"])
    channel = form.choice("channel", CHANNELS)
    language = form.choice("language", LANGUAGES)
    segment = form.choice("segment", SEGMENTS, required=False)
    order_status = form.choice("order_status", ORDER_STATUSES, required=False)
    form_slug = form.text("form_slug", required=False, max_length=60)
    subject = form.text("subject", required=False, max_length=200)
    body = form.text("body", required=False, max_length=20000)
    customer_tags = frozenset(tags.key(t) for t in tags.parse(_comma_list(form, "customer_tags")))
    if not form.ok:
        return None
    return Facts(channel=channel, form_slug=form_slug or None, subject=subject, body=body, language=language,
                 customer_tags=customer_tags, segment=segment or None, order_status=order_status or None)


@get("/staff/settings/routing/test", opt=ADMIN, include_in_schema=False)
async def test_rules(request: Request) -> Template:
    data = dict(request.query_params)
    form = Form(data)
    tried = bool(data)
    facts = await _sample(form, data) if tried else None
    if not tried:
        form.values = {"channel": "portal", "language": "tr"}
    matched = await routing.which_rules(facts) if facts is not None else []
    return render(request, TEST, status=422 if tried and not form.ok else 200, form=form, tried=tried and form.ok,
                  facts=facts, matched=matched, **await _options())


@post("/staff/settings/routing/staff/{staff_id:int}/available", opt=ADMIN, include_in_schema=False)
async def staff_available(request: Request, staff_id: int, data: FormBody) -> Response:
    """An admin marks someone available or not (an agent does it on their profile page)."""
    if not await StaffUser.exists().where((StaffUser.id == staff_id) & (StaffUser.active == True)):  # noqa: E712
        raise NotFoundException()
    available = checked(data, "available")
    await staff_admin.set_available(staff_id, available)
    flash(request, _("Marked as available.") if available else _("Marked as unavailable: no new tickets."))
    return redirect("/staff/settings/routing#assignment-heading")


ROUTES = [rules_page, team_assignment, staff_available, new_rule, create_rule, edit_rule, update_rule,
          move_rule, delete_rule, test_rules]
