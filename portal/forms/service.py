"""Request forms: saving them (the builder), taking a submission to a ticket, counting
deflections, and the numbers of the deflection report.

No Request objects: callers pass parsed values and ``now``. A submission is one transaction:
the submission row (its token nonce is unique, so a replay or a double click finds the first
one), the requester found or created by e-mail, and the ticket opened through
:func:`portal.tickets.service.open_ticket` (channel ``form``; routing rules hook in there, the
confirmation mail with the guest link goes to the outbox). The hot path is prebuilt SQL
(``db.fetch_one``/``fetch_all``): building Piccolo queries cost more than running them.
"""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import hashlib
import hmac
import json
import os
import re
import weakref
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import anyio.to_thread

from portal import db
from portal.accounts.tables import Team
from portal.forms.fields import Field, display, fields_of
from portal.forms.tables import Deflection, Form, FormConsent, FormVersion, Submission
from portal.i18n import use_locale
from portal.tickets import changes
from portal.tickets import service as tickets
from portal.tickets.files import Checked, Storage
from portal.tickets.rules import PRIORITIES, Actor

SLUG = re.compile(r"^[a-z0-9][a-z0-9-]{1,58}[a-z0-9]\Z")
# An embedding origin as a CSP source expression: scheme, host (``*.`` allowed in front),
# port (``*`` allowed). ``http://localhost:*``, ``https://*.example.com``, ``https://shop.example``.
ORIGIN_PATTERN = re.compile(r"^(https?)://(\*\.)?([a-z0-9-]+(?:\.[a-z0-9-]+)*)(?::(\d{1,5}|\*))?\Z")
_ORIGIN = re.compile(r"^(https?)://([a-z0-9.-]+)(?::(\d{1,5}))?\Z")


class FormError(Exception):
    """The builder's input is refused; ``errors`` maps a field name to a message."""

    def __init__(self, errors: dict[str, str]) -> None:
        super().__init__(", ".join(errors))
        self.errors = errors


def _json(value: Any) -> Any:
    return json.loads(value) if isinstance(value, str) else value


@dataclass(frozen=True)
class FormView:
    """A form as the pages and the API use it."""

    id: int
    slug: str
    name: dict[str, str]
    version: int
    fields: list[Field]
    team_id: int | None
    priority: str
    tags: list[str]
    ticket_type: str
    success: dict[str, str]
    origins: list[str]
    consent_enabled: bool
    consent: dict[str, str]
    consent_version: int
    altcha: bool
    per_address_limit: int
    per_form_limit: int
    archived: bool
    updated_at: datetime | None = None

    def title(self, lang: str) -> str:
        return self.name.get(lang) or self.name["tr"]

    def success_message(self, lang: str) -> str:
        return self.success.get(lang) or self.success.get("tr") or ""

    def consent_text(self, lang: str) -> str:
        return self.consent.get(lang) or self.consent.get("tr") or ""

    def field(self, key: str) -> Field | None:
        return next((f for f in self.fields if f.key == key), None)


def view(row: dict) -> FormView:
    return FormView(
        id=row["id"], slug=row["slug"], name={"tr": row["name_tr"], "en": row["name_en"]},
        version=row["version"], fields=fields_of(_json(row["definition"])), team_id=row["team"],
        priority=row["priority"], tags=list(_json(row["tags"]) or []), ticket_type=row["ticket_type"],
        success={"tr": row["success_tr"], "en": row["success_en"]}, origins=list(_json(row["origins"]) or []),
        consent_enabled=bool(row["consent_enabled"]), consent={"tr": row["consent_tr"], "en": row["consent_en"]},
        consent_version=row["consent_version"], altcha=bool(row["altcha"]),
        per_address_limit=row["per_address_limit"], per_form_limit=row["per_form_limit"],
        archived=row["archived_at"] is not None, updated_at=row.get("updated_at"),
    )


# Parsed forms by their whole row: every request reads the row (prebuilt SQL, so an edit or an
# archiving is seen at once by every process), but parses the definition only when it changed.
_VIEWS: dict[tuple, FormView] = {}
_VIEWS_KEPT = 256


def _cached_view(row: dict) -> FormView:
    try:
        key = tuple(row.values())
        hash(key)
    except TypeError:  # a JSON column a driver returned as a dict: no caching
        return view(row)
    found = _VIEWS.get(key)
    if found is None:
        if len(_VIEWS) >= _VIEWS_KEPT:
            _VIEWS.clear()
        found = _VIEWS[key] = view(row)
    return found


async def active_form(slug: str) -> FormView | None:
    """A form visitors may use: an unknown or archived one is None (a 404)."""
    row = await db.fetch_one("SELECT * FROM request_form WHERE slug = {} AND archived_at IS NULL", slug)
    return _cached_view(row) if row else None


async def form_by_id(form_id: int) -> FormView | None:
    row = await Form.select().where(Form.id == form_id).first()
    return view(row) if row else None


async def all_forms() -> list[dict]:
    rows = await Form.select(Form.id, Form.slug, Form.name_tr, Form.name_en, Form.version, Form.archived_at,
                             Form.updated_at, Form.team.name_tr.as_alias("team_tr"),
                             Form.team.name_en.as_alias("team_en")).order_by(Form.slug)
    counts = {r["form"]: r["n"] for r in await Submission.raw(
        "SELECT form, COUNT(*) AS n FROM form_submission GROUP BY form")}
    for row in rows:
        row["submissions"] = counts.get(row["id"], 0)
    return rows


# --- origins -----------------------------------------------------------------------------------

def valid_origin_pattern(pattern: str) -> bool:
    m = ORIGIN_PATTERN.match(pattern)
    if not m:
        return False
    if m.group(2) and "." not in m.group(3):  # "https://*.com" would be every .com site
        return False
    return m.group(4) in (None, "*") or 0 < int(m.group(4)) < 65536


def origin_allowed(patterns: list[str], origin: str | None) -> bool:
    """Is ``origin`` (``scheme://host[:port]`` as browsers send it) one of the patterns?"""
    m = _ORIGIN.match((origin or "").lower())
    if not m:
        return False
    scheme, host, port = m.group(1), m.group(2), m.group(3)
    for pattern in patterns:
        p = ORIGIN_PATTERN.match(pattern)
        if not p or p.group(1) != scheme or not valid_origin_pattern(pattern):
            continue
        wildcard, p_host, p_port = p.group(2), p.group(3), p.group(4)
        if wildcard:
            if not host.endswith("." + p_host):
                continue
        elif host != p_host:
            continue
        if p_port == "*" or p_port == port:
            return True
        if p_port is None and port is None:
            return True
    return False


# --- the builder --------------------------------------------------------------------------------

@dataclass
class FormInput:
    slug: str
    name_tr: str
    name_en: str
    fields: list[Field]
    team_id: int | None = None
    priority: str = "normal"
    tags: list[str] = field(default_factory=list)
    ticket_type: str = ""
    success_tr: str = ""
    success_en: str = ""
    origins: list[str] = field(default_factory=list)
    consent_enabled: bool = False
    consent_tr: str = ""
    consent_en: str = ""
    altcha: bool = False
    per_address_limit: int = 10
    per_form_limit: int = 600


async def _check(data: FormInput, form_id: int | None) -> None:
    errors: dict[str, str] = {}
    from portal.i18n import _

    if not SLUG.match(data.slug):
        errors["slug"] = _("Use 3 to 60 lower-case letters, digits and hyphens.")
    elif await Form.exists().where((Form.slug == data.slug) & (Form.id != (form_id or 0))):
        errors["slug"] = _("Another form has this address.")
    if not data.name_tr.strip() or not data.name_en.strip():
        errors["name_tr" if not data.name_tr.strip() else "name_en"] = _("This field is required.")
    if data.priority not in PRIORITIES:
        errors["priority"] = _("Please choose one of the options.")
    if data.team_id is not None and not await Team.exists().where(Team.id == data.team_id):
        errors["team"] = _("Please choose one of the options.")
    bad = [o for o in data.origins if not valid_origin_pattern(o)]
    if bad:
        errors["origins"] = _("Not an origin: %(o)s. Write e.g. https://shop.example.com or http://localhost:*",
                              o=", ".join(bad))
    if data.consent_enabled and not (data.consent_tr.strip() and data.consent_en.strip()):
        errors["consent_tr"] = _("Write the consent text in both languages.")
    if not 1 <= data.per_address_limit <= 100000 or not 1 <= data.per_form_limit <= 1000000:
        errors["per_address_limit"] = _("Please enter a whole number.")
    if errors:
        raise FormError(errors)


def _columns(data: FormInput) -> dict:
    return {
        Form.slug: data.slug, Form.name_tr: data.name_tr.strip(), Form.name_en: data.name_en.strip(),
        Form.team: data.team_id, Form.priority: data.priority, Form.tags: json.dumps(data.tags),
        Form.ticket_type: data.ticket_type, Form.success_tr: data.success_tr, Form.success_en: data.success_en,
        Form.origins: json.dumps(data.origins), Form.consent_enabled: data.consent_enabled,
        Form.consent_tr: data.consent_tr, Form.consent_en: data.consent_en, Form.altcha: data.altcha,
        Form.per_address_limit: data.per_address_limit, Form.per_form_limit: data.per_form_limit,
    }


def _definition(fields: list[Field]) -> str:
    return json.dumps({"fields": [f.as_json() for f in fields]}, ensure_ascii=False, sort_keys=True)


async def create_form(data: FormInput, *, now: datetime) -> int:
    await _check(data, None)
    definition = _definition(data.fields)
    async with db.transaction():
        values = {col._meta.name: value for col, value in _columns(data).items()}
        values["team"] = data.team_id
        consent_version = 1 if data.consent_enabled else 0
        rows = await Form.insert(Form(**values, version=1, definition=definition, consent_version=consent_version,
                                      created_at=now, updated_at=now)).returning(Form.id)
        form_id = rows[0]["id"]
        await FormVersion.insert(FormVersion(form=form_id, version=1, definition=definition, created_at=now))
        if consent_version:
            await FormConsent.insert(FormConsent(form=form_id, version=1, text_tr=data.consent_tr,
                                                 text_en=data.consent_en, created_at=now))
    return form_id


async def update_form(form_id: int, data: FormInput, *, now: datetime) -> FormView:
    """Save the builder's form: a change of fields is a new version, a change of the consent
    text a new consent version; submissions keep the versions they were made with."""
    await _check(data, form_id)
    definition = _definition(data.fields)
    async with db.transaction():
        row = await Form.select().where(Form.id == form_id).first()
        if row is None:
            raise FormError({"form": "not_found"})
        values = _columns(data)
        values[Form.updated_at] = now
        version = row["version"]
        if json.loads(definition) != _json(row["definition"]):
            version += 1
            values[Form.version] = version
            values[Form.definition] = definition
            await FormVersion.insert(FormVersion(form=form_id, version=version, definition=definition,
                                                 created_at=now))
        text_changed = (data.consent_tr, data.consent_en) != (row["consent_tr"], row["consent_en"])
        if data.consent_enabled and (text_changed or row["consent_version"] == 0):
            consent_version = row["consent_version"] + 1
            values[Form.consent_version] = consent_version
            await FormConsent.insert(FormConsent(form=form_id, version=consent_version, text_tr=data.consent_tr,
                                                 text_en=data.consent_en, created_at=now))
        await Form.update(values).where(Form.id == form_id)
    return await form_by_id(form_id)  # type: ignore[return-value]


async def set_archived(form_id: int, archived: bool, *, now: datetime) -> None:
    async with db.transaction():
        await Form.update({Form.archived_at: now if archived else None, Form.updated_at: now}).where(
            Form.id == form_id)


async def consent_text(form_id: int, version: int) -> dict | None:
    return await FormConsent.select().where((FormConsent.form == form_id) & (FormConsent.version == version)).first()


# --- submissions --------------------------------------------------------------------------------

def client_hash(secret: str, address: str) -> str:
    """The client address as a keyed hash: enough to count and to compare, nothing to leak."""
    return hmac.new(secret.encode(), f"form-client:{address}".encode(), hashlib.sha256).hexdigest()


def payload_hash(values: dict[str, Any], file_names: list[str]) -> str:
    blob = json.dumps([values, sorted(file_names)], sort_keys=True, default=str, ensure_ascii=False)
    return hashlib.sha256(blob.encode()).hexdigest()


@dataclass(frozen=True)
class Submitted:
    ref: str
    created: bool  # False: this token had already been used (a double click, a replay)
    same: bool = True  # for a replay: was it the same content?


def compose(form: FormView, values: dict[str, Any], lang: str, page_url: str) -> tuple[str, str]:
    """The ticket's subject and first message from the form's values, in the form's language."""
    from portal.i18n import _

    with use_locale(lang):
        subject = str(values.get("subject") or "").strip()
        message_field = form.field("message") or next((f for f in form.fields if f.type == "textarea"), None)
        message = str(values.get(message_field.key) or "").strip() if message_field else ""
        if not subject:
            who = str(values.get("name") or "").strip() or _first(form, values, "email")
            subject = f"{form.title(lang)}: {who}" if who else form.title(lang)
        lines = []
        for f in form.fields:
            if f.key == "subject" or (message_field and f.key == message_field.key):
                continue
            shown = display(f, values.get(f.key), lang)
            if shown:
                lines.append(f"{f.text('label', lang)}: {shown}")
        if page_url:
            lines.append(_("Sent from: %(url)s", url=page_url))
        body = "\n\n".join(part for part in (message, "\n".join(lines)) if part)
    return subject[:200], body or subject


def recipient(form: FormView, values: dict[str, Any]) -> str:
    """The key (``email_key``) of the address the confirmation mail goes to, or ""."""
    from portal.i18n import email_key

    email = _first(form, values, "email")
    return email_key(email) if email else ""


def _first(form: FormView, values: dict[str, Any], kind: str) -> str:
    f = next((f for f in form.fields if f.type == kind and values.get(f.key)), None)
    return str(values[f.key]) if f else ""


async def _existing(nonce: str) -> dict | None:
    return await db.fetch_one("SELECT s.payload_hash AS payload_hash, t.number AS number FROM form_submission s "
                              "LEFT JOIN ticket t ON t.id = s.ticket WHERE s.token_id = {}", nonce)


_CUSTOMER_BY_KEY = "SELECT * FROM customer WHERE email_key = {}"
_NEW_CUSTOMER = (
    "INSERT INTO customer (email, email_key, name, phone, locale, session_version, created_at, updated_at) "
    "VALUES ({}, {}, {}, {}, {}, 0, {}, {}) ON CONFLICT (email_key) DO NOTHING RETURNING *")


def _email_key(email: str) -> str:
    from portal.i18n import email_key

    return email_key(email)


async def _create_requester(email: str, *, name: str, locale: str, now: datetime, phone: str | None) -> dict:
    """The new customer for an address not found (as
    :func:`portal.accounts.service.find_or_create_customer` makes it), or the one a concurrent
    post has just made."""
    key = _email_key(email)
    row = await db.fetch_one(_NEW_CUSTOMER, email.strip(), key, name, phone, locale, now, now)
    if row is None:
        row = await db.fetch_one(_CUSTOMER_BY_KEY, key)
    return row  # type: ignore[return-value]


async def submit(form: FormView, values: dict[str, Any], files: list[Checked], *, nonce: str,
                 consent_given: bool, page_url: str, lang: str, client: str, now: datetime,
                 storage: Storage | None = None) -> Submitted:
    """A checked submission becomes a ticket; a token used before answers the first ticket.

    What only reads (a token used before, the requester when known, the ticket's text) is done
    before the write transaction: on SQLite, writers take turns for the whole of it."""
    digest = payload_hash(values, [f.filename for f in files])
    found = await _existing(nonce)
    if found is not None:
        return Submitted(ref=f"T-{found['number']}", created=False, same=found["payload_hash"] == digest)
    email = _first(form, values, "email")
    known = await db.fetch_one(_CUSTOMER_BY_KEY, _email_key(email))
    order_number = _first(form, values, "order_number")
    order_id = await changes.order_id(order_number, customer_id=known["id"]) if known and order_number else None
    subject, body = compose(form, values, lang, page_url)
    try:
        async with tickets.after_commit_scope(), _one_writer(), db.transaction():
            # Again in the writer's turn: a post of the same token that got there first (on
            # SQLite exact, the write lock being held; on PostgreSQL the unique nonce below).
            again = await _existing(nonce)
            if again is not None:
                return Submitted(ref=f"T-{again['number']}", created=False, same=again["payload_hash"] == digest)
            requester = known or await _create_requester(
                email, name=str(values.get("name") or "").strip()[:200], locale=lang, now=now,
                phone=_first(form, values, "phone") or None)
            if order_number and not known:
                order_id = await changes.order_id(order_number, customer_id=requester["id"])
            opened = await tickets.open_ticket(
                tickets.NewTicket(subject=subject, body=body, requester_id=requester["id"], channel="form",
                                  priority=form.priority, team_id=form.team_id, order_id=order_id, language=lang,
                                  tags=[*form.tags, *([form.ticket_type] if form.ticket_type else [])], files=files,
                                  form_slug=form.slug),
                actor=Actor.customer(requester), now=now, storage=storage, requester=requester)
            # The nonce is unique: of two posts of one token at once, the second fails here
            # (when the first commits, on PostgreSQL), its transaction rolls back, and the
            # first one's reference is the answer.
            await db.fetch_all(
                "INSERT INTO form_submission (form, form_version, consent_version, ticket, token_id, payload_hash, "
                "page_url, lang, client_hash, created_at) VALUES ({}, {}, {}, {}, {}, {}, {}, {}, {}, {})",
                form.id, form.version, form.consent_version if (form.consent_enabled and consent_given) else None,
                opened.ticket["id"], nonce, digest, page_url[:500], lang, client, now)
        return Submitted(ref=f"T-{opened.ticket['number']}", created=True)
    except Exception as exc:  # a concurrent post of the same token won the unique nonce
        if not _unique_violation(exc):
            raise
        found = await _existing(nonce)
        if found is None:
            raise
        return Submitted(ref=f"T-{found['number']}", created=False, same=found["payload_hash"] == digest)


_WRITERS: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, asyncio.Lock] = weakref.WeakKeyDictionary()


@contextlib.asynccontextmanager
async def _one_writer() -> AsyncIterator[None]:
    """On SQLite, submissions take turns for the write lock in order: several connections
    waiting in SQLite's busy handler (which sleeps, unfairly, up to 100 ms a time) made the
    slowest of 16 concurrent posts wait seconds. In one process an asyncio lock orders them;
    between the server's processes an exclusive ``flock`` on ``<database>.formlock``, waited for
    in a worker thread, hands the turn over as soon as it is free. PostgreSQL needs no turn."""
    if not db.is_sqlite():
        yield
        return
    loop = asyncio.get_running_loop()
    lock = _WRITERS.get(loop)
    if lock is None:
        lock = _WRITERS[loop] = asyncio.Lock()
    async with lock:
        fd = _lock_file()
        try:
            if fd is not None:
                try:
                    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                except BlockingIOError:
                    await anyio.to_thread.run_sync(fcntl.flock, fd, fcntl.LOCK_EX)
            yield
        finally:
            if fd is not None:
                fcntl.flock(fd, fcntl.LOCK_UN)  # harmless if a cancellation came before it was held


def _lock_file() -> int | None:
    """The engine's lock file, opened once per engine (closed when the engine is gone)."""
    engine = db.current_engine()
    fd = getattr(engine, "_portal_form_lock", None)
    if fd is None:
        path = getattr(engine, "path", None)
        if not path or path == ":memory:":
            return None
        try:
            fd = os.open(f"{path}.formlock", os.O_RDWR | os.O_CREAT, 0o600)
        except OSError:
            return None
        engine._portal_form_lock = fd  # type: ignore[attr-defined]
        weakref.finalize(engine, os.close, fd)
    return fd


def _unique_violation(exc: Exception) -> bool:
    text = f"{type(exc).__name__} {exc}".lower()
    return "unique" in text or "duplicate key" in text


def decoy_reference(nonce: str) -> str:
    """What a bot is shown: looks like a reference, names no ticket."""
    return f"T-{1000 + int(hashlib.sha256(nonce.encode()).hexdigest()[:8], 16) % 90000}"


# --- deflection ---------------------------------------------------------------------------------

INT4_MAX = 2**31 - 1


async def record_deflection(form_id: int, article_id: int, *, nonce: str, lang: str, now: datetime) -> bool:
    """Count "this answered my question" once per visitor's form token and article, for an
    article anybody may read (a draft or a customers-only article is not counted). The unique
    index on (form, token_id, article) makes two clicks at once count once."""
    from portal.kb import queries
    from portal.kb import service as kb

    if not 0 < article_id <= INT4_MAX:
        return False
    if not await queries.article_ids_visible([article_id], kb.audience(customer=False, staff=False), now):
        return False
    async with db.transaction():
        rows = await Deflection.insert(Deflection(form=form_id, article=article_id, token_id=nonce, lang=lang,
                                                  created_at=now)).on_conflict(action="DO NOTHING").returning(
            Deflection.id)
    if not rows:
        return False
    await kb.record_answered(article_id)
    return True


@dataclass(frozen=True)
class DeflectionRow:
    form_id: int
    slug: str
    name: dict[str, str]
    submissions: int
    deflected: int
    top_articles: list[dict]

    @property
    def rate(self) -> float:
        total = self.submissions + self.deflected
        return self.deflected / total if total else 0.0


async def deflection_report(*, now: datetime, days: int = 30) -> list[DeflectionRow]:
    since = now - timedelta(days=days)
    forms = await Form.select(Form.id, Form.slug, Form.name_tr, Form.name_en).order_by(Form.slug)
    subs = {r["form"]: r["n"] for r in await Submission.raw(
        "SELECT form, COUNT(*) AS n FROM form_submission WHERE created_at >= {} AND ticket IS NOT NULL "
        "GROUP BY form", since)}
    defl = {r["form"]: r["n"] for r in await Deflection.raw(
        "SELECT form, COUNT(*) AS n FROM form_deflection WHERE created_at >= {} GROUP BY form", since)}
    articles = await Deflection.raw(
        "SELECT d.form AS form, a.title AS title, a.slug AS slug, a.lang AS lang, COUNT(*) AS n "
        "FROM form_deflection d JOIN kb_article a ON a.id = d.article WHERE d.created_at >= {} "
        "GROUP BY d.form, a.title, a.slug, a.lang ORDER BY n DESC, a.title", since)
    out = []
    for f in forms:
        top = [a for a in articles if a["form"] == f["id"]][:3]
        out.append(DeflectionRow(form_id=f["id"], slug=f["slug"], name={"tr": f["name_tr"], "en": f["name_en"]},
                                 submissions=int(subs.get(f["id"], 0)), deflected=int(defl.get(f["id"], 0)),
                                 top_articles=top))
    return out
