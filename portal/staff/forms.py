"""/staff/forms: the request form builder (list, create, edit fields, ticket defaults, origins,
consent text, archive) with a live preview, and /staff/reports/deflection.

Team leads (and admins) manage forms: a form decides where requests land and what a
website may embed, which is a lead's call, not every agent's. The editor works without
JavaScript: adding, removing and moving fields are submit buttons that re-render the editor
unsaved; with htmx the preview follows every keystroke.
"""

from __future__ import annotations

from typing import Any

from litestar import Request, Response, get, post
from litestar.exceptions import NotFoundException
from litestar.response import Template

from portal.auth import LEAD
from portal.clock import now
from portal.forms import service
from portal.forms.fields import TYPE_NAMES, TYPES, DefinitionError, Field, fields_of, parse_definition
from portal.forms.service import FormError, FormInput, FormView
from portal.i18n import _
from portal.tickets import queries
from portal.tickets.rules import PRIORITIES, PRIORITY_NAMES
from portal.web import FormBody, flash, redirect, render, services

EDIT = "staff/forms/edit.html"
ROW_KEYS = ("key", "type", "label_tr", "label_en", "help_tr", "help_en", "options", "min_length", "max_length",
            "pattern", "min", "max")
NEW_FIELDS = [
    {"key": "name", "type": "text", "label": {"tr": "Adınız soyadınız", "en": "Your name"}, "required": True},
    {"key": "email", "type": "email", "label": {"tr": "E-posta adresiniz", "en": "Your e-mail address"},
     "required": True},
    {"key": "subject", "type": "text", "label": {"tr": "Konu", "en": "Subject"}, "required": True},
    {"key": "message", "type": "textarea", "label": {"tr": "Mesajınız", "en": "Your message"}, "required": True},
]


# --- editor state: rows of strings ----------------------------------------------------------------

def _row(f: Field) -> dict[str, Any]:
    options = "\n".join(" | ".join([o.value, o.label.get("tr", ""), o.label.get("en", "")]) for o in f.options)
    return {"key": f.key, "type": f.type, "label_tr": f.label.get("tr", ""), "label_en": f.label.get("en", ""),
            "help_tr": f.help.get("tr", ""), "help_en": f.help.get("en", ""), "options": options,
            "required": f.required, "min_length": "" if f.min_length is None else str(f.min_length),
            "max_length": "" if f.max_length is None else str(f.max_length), "pattern": f.pattern or "",
            "min": f.min or "", "max": f.max or ""}


def _blank_row() -> dict[str, Any]:
    return {**{k: "" for k in ROW_KEYS}, "type": "text", "required": False}


def _rows_from_post(data: dict[str, Any]) -> list[dict[str, Any]]:
    try:
        count = min(int(str(data.get("field_count") or 0)), 60)
    except ValueError:
        count = 0
    rows = []
    for i in range(count):
        row = {k: str(data.get(f"fields-{i}-{k}") or "").strip() for k in ROW_KEYS}
        row["required"] = str(data.get(f"fields-{i}-required") or "") in ("1", "on")
        rows.append(row)
    return rows


def _options(text: str) -> list[dict[str, Any]]:
    out = []
    for line in text.splitlines():
        parts = [p.strip() for p in line.split("|")]
        if not parts[0]:
            continue
        tr = parts[1] if len(parts) > 1 and parts[1] else parts[0]
        en = parts[2] if len(parts) > 2 and parts[2] else tr
        out.append({"value": parts[0], "label": {"tr": tr, "en": en}})
    return out


def _definition(rows: list[dict[str, Any]]) -> dict[str, Any]:
    return {"fields": [{
        "key": r["key"], "type": r["type"], "label": {"tr": r["label_tr"], "en": r["label_en"]},
        "help": {"tr": r["help_tr"], "en": r["help_en"]}, "required": r["required"],
        "options": _options(r["options"]), "min_length": r["min_length"] or None, "max_length": r["max_length"] or None,
        "pattern": r["pattern"] or None, "min": r["min"] or None, "max": r["max"] or None,
    } for r in rows]}


def _apply(action: str, rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Add, remove or move a field (the editor's buttons)."""
    verb, _sep, raw = action.partition("-")
    if verb == "add":
        return [*rows, _blank_row()]
    if not raw.isdigit() or int(raw) >= len(rows):
        return rows
    i = int(raw)
    rows = list(rows)
    if verb == "remove":
        del rows[i]
    elif verb == "up" and i > 0:
        rows[i - 1], rows[i] = rows[i], rows[i - 1]
    elif verb == "down" and i < len(rows) - 1:
        rows[i + 1], rows[i] = rows[i], rows[i + 1]
    return rows


def _int(data: dict[str, Any], name: str, default: int) -> int:
    try:
        return int(str(data.get(name) or default))
    except ValueError:
        return -1


def _settings_from_post(data: dict[str, Any]) -> dict[str, Any]:
    team = str(data.get("team") or "")
    return {
        "slug": str(data.get("slug") or "").strip().lower(), "name_tr": str(data.get("name_tr") or "").strip(),
        "name_en": str(data.get("name_en") or "").strip(), "team_id": int(team) if team.isdigit() else None,
        "priority": str(data.get("priority") or "normal"),
        "tags": [t.strip() for t in str(data.get("tags") or "").split(",") if t.strip()][:10],
        "ticket_type": str(data.get("ticket_type") or "").strip()[:40],
        "success_tr": str(data.get("success_tr") or "").strip()[:2000],
        "success_en": str(data.get("success_en") or "").strip()[:2000],
        "origins": [o.strip().rstrip("/") for o in str(data.get("origins") or "").split() if o.strip()][:30],
        "consent_enabled": str(data.get("consent_enabled") or "") in ("1", "on"),
        "consent_tr": str(data.get("consent_tr") or "").strip()[:5000],
        "consent_en": str(data.get("consent_en") or "").strip()[:5000],
        "altcha": str(data.get("altcha") or "") in ("1", "on"),
        "per_address_limit": _int(data, "per_address_limit", 10),
        "per_form_limit": _int(data, "per_form_limit", 600),
    }


def _settings_of(form: FormView) -> dict[str, Any]:
    return {"slug": form.slug, "name_tr": form.name["tr"], "name_en": form.name["en"], "team_id": form.team_id,
            "priority": form.priority, "tags": form.tags, "ticket_type": form.ticket_type,
            "success_tr": form.success["tr"], "success_en": form.success["en"], "origins": form.origins,
            "consent_enabled": form.consent_enabled, "consent_tr": form.consent["tr"],
            "consent_en": form.consent["en"], "altcha": form.altcha, "per_address_limit": form.per_address_limit,
            "per_form_limit": form.per_form_limit}


def _preview(settings: dict[str, Any], rows: list[dict[str, Any]]) -> FormView:
    """What visitors would see, from the editor's unsaved values (broken rows left out)."""
    usable = [f for f in _definition(rows)["fields"] if f["key"] and f["type"] in TYPES]
    return FormView(id=0, slug=settings["slug"] or "preview",
                    name={"tr": settings["name_tr"], "en": settings["name_en"]}, version=0,
                    fields=fields_of({"fields": usable}), team_id=None, priority="normal", tags=[],
                    ticket_type="", success={"tr": settings["success_tr"], "en": settings["success_en"]},
                    origins=settings["origins"], consent_enabled=settings["consent_enabled"],
                    consent={"tr": settings["consent_tr"], "en": settings["consent_en"]}, consent_version=0,
                    altcha=settings["altcha"], per_address_limit=1, per_form_limit=1, archived=False)


async def _editor(request: Request, *, form_id: int | None, settings: dict[str, Any], rows: list[dict[str, Any]],
                  errors: dict[str, str] | None = None, status: int = 200, archived: bool = False,
                  preview_lang: str = "tr", version: int = 0, consent_version: int = 0) -> Template:
    base = services(request).settings.base_url.rstrip("/")
    errors = errors or {}
    # Rows start folded; a new row and one with an error are shown open.
    open_rows = {i for i, r in enumerate(rows) if not r["key"] or any(k.startswith(f"fields.{i}.") for k in errors)}
    return render(request, EDIT, status=status, form_id=form_id, s=settings, rows=rows, errors=errors,
                  open_rows=open_rows,
                  archived=archived, version=version, consent_version=consent_version,
                  teams=await queries.teams(), priorities=PRIORITIES, priority_names=PRIORITY_NAMES,
                  types=TYPES, type_names=TYPE_NAMES, base_url=base, preview=_preview(settings, rows),
                  preview_lang=preview_lang if preview_lang in ("tr", "en") else "tr",
                  headers={"Cache-Control": "private, no-store"})


async def _form_or_404(form_id: int) -> FormView:
    form = await service.form_by_id(form_id)
    if form is None:
        raise NotFoundException()
    return form


# --- pages -------------------------------------------------------------------------------------------

@get("/staff/forms", opt=LEAD, include_in_schema=False)
async def forms_list(request: Request) -> Template:
    return render(request, "staff/forms/list.html", forms=await service.all_forms(),
                  base_url=services(request).settings.base_url.rstrip("/"))


@get("/staff/forms/new", opt=LEAD, include_in_schema=False)
async def form_new(request: Request) -> Template:
    settings = {"slug": "", "name_tr": "", "name_en": "", "team_id": None, "priority": "normal", "tags": [],
                "ticket_type": "", "success_tr": "", "success_en": "", "origins": [], "consent_enabled": False,
                "consent_tr": "", "consent_en": "", "altcha": False, "per_address_limit": 10,
                "per_form_limit": 600}
    return await _editor(request, form_id=None, settings=settings,
                         rows=[_row(f) for f in fields_of({"fields": NEW_FIELDS})])


@get("/staff/forms/{form_id:int}", opt=LEAD, include_in_schema=False)
async def form_edit(request: Request, form_id: int) -> Template:
    form = await _form_or_404(form_id)
    return await _editor(request, form_id=form_id, settings=_settings_of(form), rows=[_row(f) for f in form.fields],
                         archived=form.archived, version=form.version, consent_version=form.consent_version)


async def _save(request: Request, data: dict[str, Any], form_id: int | None) -> Response:
    existing = await _form_or_404(form_id) if form_id else None
    settings, rows = _settings_from_post(data), _rows_from_post(data)
    action = str(data.get("action") or "save")
    extra = {"archived": existing.archived if existing else False, "version": existing.version if existing else 0,
             "consent_version": existing.consent_version if existing else 0,
             "preview_lang": str(data.get("preview_lang") or "tr")}
    if action != "save":
        return await _editor(request, form_id=form_id, settings=settings, rows=_apply(action, rows), **extra)
    try:
        fields = parse_definition(_definition(rows))
        data_in = FormInput(fields=fields, **settings)
        if existing is None:
            form_id = await service.create_form(data_in, now=now())
        else:
            await service.update_form(existing.id, data_in, now=now())
    except (DefinitionError, FormError) as exc:
        return await _editor(request, form_id=form_id, settings=settings, rows=rows, errors=exc.errors,
                             status=422, **extra)
    flash(request, _("The form has been saved."))
    return redirect(f"/staff/forms/{form_id}")


@post("/staff/forms/new", opt=LEAD, include_in_schema=False)
async def form_create(request: Request, data: FormBody) -> Response:
    return await _save(request, data, None)


@post("/staff/forms/{form_id:int}", opt=LEAD, include_in_schema=False)
async def form_update(request: Request, form_id: int, data: FormBody) -> Response:
    return await _save(request, data, form_id)


@post("/staff/forms/preview", opt=LEAD, include_in_schema=False)
async def form_preview(request: Request, data: FormBody) -> Template:
    """The preview block for the editor's current, unsaved values (htmx, as you type)."""
    settings, rows = _settings_from_post(data), _rows_from_post(data)
    lang = str(data.get("preview_lang") or "tr")
    return render(request, EDIT, block="preview", preview=_preview(settings, rows),
                  preview_lang=lang if lang in ("tr", "en") else "tr", s=settings)


@post("/staff/forms/{form_id:int}/archive", opt=LEAD, include_in_schema=False)
async def form_archive(request: Request, form_id: int, data: FormBody) -> Response:
    form = await _form_or_404(form_id)
    restore = str(data.get("restore") or "") == "1"
    await service.set_archived(form.id, not restore, now=now())
    flash(request, _("The form is back online.") if restore else
          _("The form has been archived: its page, iframe and API answer 404."))
    return redirect(f"/staff/forms/{form_id}")


@get("/staff/reports/deflection", opt=LEAD, include_in_schema=False)
async def deflection_report(request: Request, days: int = 30) -> Template:
    days = days if days in (7, 30, 90, 365) else 30
    rows = await service.deflection_report(now=now(), days=days)
    return render(request, "staff/forms/deflection.html", rows=rows, days=days,
                  total_submissions=sum(r.submissions for r in rows), total_deflected=sum(r.deflected for r in rows))


ROUTES = [forms_list, form_new, form_preview, form_edit, form_create, form_update, form_archive, deflection_report]
