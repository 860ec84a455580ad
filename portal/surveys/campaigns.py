"""Surveys staff build, campaigns that send them, reminders and surveys after delivery.

A campaign is queued by the worker (:func:`dispatch`), 500 customers a transaction, in
customer id order: each customer gets one request (a unique index on campaign and customer
makes a repeat impossible, whatever crashes) and one mail in the outbox, whose ``run_after``
spreads the campaign at ``per_minute`` mails a minute from its start. The audience is read
when the batch is queued; opted-out customers and those mailed a survey within the fatigue
interval are skipped and counted.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import datetime, timedelta

from piccolo.columns.combination import WhereRaw

from portal import db
from portal.accounts.tables import Customer
from portal.mail import service as outbox
from portal.surveys import service
from portal.surveys.tables import Campaign, Question, Survey, SurveyLink, SurveyRequest
from portal.tags import service as tags

BATCH = 500
DISPATCH_BUDGET = 2.0  # seconds of campaign queueing per worker pass
AUDIENCES = ("everyone", "segment", "tag", "delivered")
DELIVERY_WINDOW = timedelta(days=7)  # a delivery older than its due time plus this is not surveyed


@dataclass(frozen=True)
class Audience:
    kind: str = "everyone"
    segment: str = ""
    tag: str = ""
    days: int = 30

    def as_json(self) -> dict:
        return {"kind": self.kind, "segment": self.segment, "tag": self.tag, "days": self.days}

    @classmethod
    def from_json(cls, data: dict) -> Audience:
        return cls(kind=data.get("kind", "everyone"), segment=data.get("segment", ""), tag=data.get("tag", ""),
                   days=int(data.get("days", 30)))


_ID = '"customer"."id"'


def audience_where(audience: Audience, *, now: datetime) -> WhereRaw:
    """Customers in the audience (not yet applying opt-outs or fatigue)."""
    where = WhereRaw('"customer"."deleted_at" IS NULL AND "customer"."email" <> {}', "")
    if audience.kind == "segment":
        where &= WhereRaw(_ID + " IN (SELECT customer FROM customer_value WHERE segment = {})", audience.segment)
    elif audience.kind == "tag":
        where &= tags.with_tag_where("customer", audience.tag, _ID)
    elif audience.kind == "delivered":
        where &= WhereRaw(_ID + ' IN (SELECT o.customer FROM orders o JOIN order_event e ON e."order" = o.id '
                                "WHERE e.status = {} AND e.created_at >= {})",
                          "delivered", now - timedelta(days=audience.days))
    return where


def _opted_out_where() -> WhereRaw:
    return WhereRaw(_ID + " IN (SELECT customer FROM survey_opt_out)")


def _fatigued_where(since: datetime) -> WhereRaw:
    return WhereRaw(_ID + " IN (SELECT customer FROM survey_request WHERE sent_at > {})", since)


@dataclass(frozen=True)
class Preview:
    audience: int
    opted_out: int
    fatigued: int

    @property
    def recipients(self) -> int:
        return self.audience - self.opted_out - self.fatigued


async def preview(audience: Audience, *, now: datetime) -> Preview:
    """How many customers the audience holds and how many each rule excludes."""
    cfg = await service.config()
    where = audience_where(audience, now=now)
    total = await Customer.count().where(where)
    opted = await Customer.count().where(where & _opted_out_where())
    tired = await Customer.count().where(where & _fatigued_where(now - cfg.fatigue)
                                         & WhereRaw(_ID + " NOT IN (SELECT customer FROM survey_opt_out)"))
    return Preview(audience=total, opted_out=opted, fatigued=tired)


# --- building surveys ---------------------------------------------------------------------------

@dataclass
class QuestionIn:
    kind: str
    text_tr: str
    text_en: str
    options: list[dict]
    required: bool = False


async def create_survey(*, title_tr: str, title_en: str, intro_tr: str, intro_en: str,
                        questions: list[QuestionIn], by: int | None, now: datetime) -> int:
    async with db.transaction():
        rows = await Survey.insert(Survey(title_tr=title_tr, title_en=title_en, intro_tr=intro_tr,
                                          intro_en=intro_en, created_by=by, created_at=now)).returning(Survey.id)
        survey_id = rows[0]["id"]
        if questions:
            await Question.insert(*[Question(survey=survey_id, position=i, kind=q.kind, text_tr=q.text_tr,
                                             text_en=q.text_en, options=q.options, required=q.required)
                                    for i, q in enumerate(questions)])
    return survey_id


async def start(survey_id: int, audience: Audience, *, per_minute: int, reminder_days: int,
                by: int | None, now: datetime) -> int:
    """A new campaign; the worker queues its mails (see :func:`dispatch`)."""
    async with db.transaction():
        rows = await Campaign.insert(Campaign(survey=survey_id, audience=audience.as_json(),
                                              per_minute=max(1, per_minute), reminder_days=max(1, reminder_days),
                                              status="sending", created_by=by, created_at=now)).returning(Campaign.id)
    outbox._notify()  # wake an in-process worker: it queues the first batch at once
    return rows[0]["id"]


# --- mail -----------------------------------------------------------------------------------

def _pick(row: dict, name: str, locale: str) -> str:
    return row.get(f"{name}_{'en' if locale == 'en' else 'tr'}") or row.get(f"{name}_tr") or ""


async def _one_click(survey_id: int, locale: str) -> dict:
    """The mail's first question with one-click scores: the first NPS (0-10) or 1-5 question."""
    qs = await service.questions(survey_id)
    for kind, scores in (("nps", list(range(0, 11))), ("rating", [1, 2, 3, 4, 5])):
        for q in qs:
            if q["kind"] == kind:
                return {"question": _pick(q, "text", locale), "scores": scores, "kind": kind}
    return {"question": "", "scores": [], "kind": ""}


async def mail_survey(template: str, survey: dict, customer: dict, token: str, *, request_id: int,
                      now: datetime, delay: timedelta = timedelta(0), one_click: dict | None = None) -> None:
    locale = customer.get("locale") or "tr"
    click = one_click if one_click is not None else await _one_click(survey["id"], locale)
    await outbox.enqueue(template, to=customer["email"], name=customer["name"], locale=locale, context={
        "title": _pick(survey, "title", locale), "intro": _pick(survey, "intro", locale),
        "survey_token": token, **click}, now=now, delay=delay, related=f"survey:{request_id}",
        headers={"Auto-Submitted": "auto-generated", "Precedence": "bulk"})


# --- the worker's jobs ----------------------------------------------------------------------------

async def dispatch(now: datetime, *, batch: int = BATCH, budget: float = 0.0) -> int:
    """Queue the next batch of every campaign that is sending, and more batches while
    ``budget`` seconds of work time last (the worker gives 2 s a pass, so other mail is never
    held up for long). Returns mails queued."""
    queued = 0
    started = time.monotonic()
    while True:
        sending = await Campaign.select().where(Campaign.status == "sending").order_by(Campaign.id).output(
            load_json=True)
        for campaign in sending:
            queued += await _dispatch_one(campaign, now=now, batch=batch)
        if not sending or time.monotonic() - started >= budget:
            return queued


async def _dispatch_one(campaign: dict, *, now: datetime, batch: int) -> int:
    cfg = await service.config()
    audience = Audience.from_json(campaign["audience"] or {})
    survey = await Survey.select().where(Survey.id == campaign["survey"]).first()
    async with db.transaction():
        # Claim this batch: compare-and-set on the cursor (and a row lock on PostgreSQL), so
        # two workers never queue the same customers.
        claimed = await Campaign.update({Campaign.cursor: campaign["cursor"]}).where(
            (Campaign.id == campaign["id"]) & (Campaign.cursor == campaign["cursor"])
            & (Campaign.status == "sending")).returning(Campaign.id)
        if not claimed:
            return 0
        customers = await Customer.select(Customer.id, Customer.email, Customer.name, Customer.locale).where(
            audience_where(audience, now=now) & (Customer.id > campaign["cursor"])
        ).order_by(Customer.id).limit(batch)
        ids = [c["id"] for c in customers]
        opted = set(await Customer.select(Customer.id).where(Customer.id.is_in(ids) & _opted_out_where()).output(
            as_list=True)) if ids else set()
        tired = set(await SurveyRequest.select(SurveyRequest.customer).where(
            SurveyRequest.customer.is_in(ids) & (SurveyRequest.sent_at > now - cfg.fatigue)).output(
            as_list=True)) if ids else set()
        clicks: dict[str, dict] = {}
        n = campaign["queued"]
        for customer in customers:
            if customer["id"] in opted or customer["id"] in tired or survey is None:
                continue
            token, hashed = service.issue()
            locale = customer["locale"] or "tr"
            rows = await SurveyRequest.insert(SurveyRequest(
                kind="campaign", token_hash=hashed, customer=customer["id"], survey=survey["id"],
                campaign=campaign["id"], locale=locale, created_at=now, sent_at=now,
                expires_at=now + service.ANSWER_WINDOW)).returning(SurveyRequest.id)
            if locale not in clicks:
                clicks[locale] = await _one_click(survey["id"], locale)
            due = campaign["created_at"] + timedelta(seconds=60 * n / campaign["per_minute"])
            await mail_survey("survey-invite", survey, customer, token, request_id=rows[0]["id"], now=now,
                              delay=max(timedelta(0), due - now), one_click=clicks[locale])
            n += 1
        done = len(customers) < batch
        values: dict = {Campaign.cursor: ids[-1] if ids else campaign["cursor"], Campaign.queued: n,
                        Campaign.skipped_opt_out: campaign["skipped_opt_out"] + len(opted),
                        Campaign.skipped_fatigue: campaign["skipped_fatigue"] + len(tired - opted)}
        if done:
            values.update({Campaign.status: "sent", Campaign.finished_at: now})
        await Campaign.update(values).where(Campaign.id == campaign["id"])
    return n - campaign["queued"]


async def remind(now: datetime, *, batch: int = BATCH) -> int:
    """One reminder to each campaign recipient who has not answered ``reminder_days`` after
    the mail, while the link is still open. Each is a compare-and-set on ``reminded_at``."""
    sent = 0
    for campaign in await Campaign.select(Campaign.id, Campaign.survey, Campaign.reminder_days).where(
            Campaign.created_at > now - service.ANSWER_WINDOW - timedelta(days=60)):
        survey = await Survey.select().where(Survey.id == campaign["survey"]).first()
        if survey is None:
            continue
        due = await SurveyRequest.select(SurveyRequest.id, SurveyRequest.customer).where(
            (SurveyRequest.campaign == campaign["id"]) & SurveyRequest.answered_at.is_null()
            & SurveyRequest.reminded_at.is_null()
            & (SurveyRequest.sent_at <= now - timedelta(days=campaign["reminder_days"]))
            & (SurveyRequest.expires_at > now)).limit(batch)
        for row in due:
            async with db.transaction():
                if await service.opted_out(row["customer"]):
                    await SurveyRequest.update({SurveyRequest.reminded_at: now}).where(SurveyRequest.id == row["id"])
                    continue
                moved = await SurveyRequest.update({SurveyRequest.reminded_at: now}).where(
                    (SurveyRequest.id == row["id"]) & SurveyRequest.reminded_at.is_null()
                    & SurveyRequest.answered_at.is_null()).returning(SurveyRequest.id)
                if not moved:
                    continue
                customer = await service.customer_row(row["customer"])
                if not service.deliverable(customer):
                    continue
                token, hashed = service.issue()
                await SurveyLink.insert(SurveyLink(request=row["id"], token_hash=hashed, created_at=now))
                await mail_survey("survey-reminder", survey, customer, token, request_id=row["id"], now=now)
                sent += 1
    return sent


async def delivery_surveys(now: datetime, *, batch: int = BATCH) -> int:
    """The survey set in the settings, ``delivery_days`` after an order was delivered.

    Orders are found by status (indexed) and the time of their ``delivered`` event; each
    order gets one request (a unique index), mailed unless the customer opted out or was
    surveyed within the fatigue interval (then it is recorded unmailed, and never retried)."""
    cfg = await service.config()
    if cfg.delivery_survey is None:
        return 0
    survey = await Survey.select().where((Survey.id == cfg.delivery_survey) & Survey.archived_at.is_null()).first()
    if survey is None:
        return 0
    due = now - timedelta(days=cfg.delivery_days)
    rows = await Customer.raw(
        'SELECT o.id AS order_id, o.customer AS customer FROM orders o JOIN order_event e ON e."order" = o.id '
        # The lower bound on e.created_at only skips events older than the window: the group's
        # MAX (the latest delivery) is then the same, or the group drops out as it would anyway.
        "WHERE o.status = {} AND e.status = {} AND e.created_at > {} AND o.customer IS NOT NULL "
        "AND NOT EXISTS (SELECT 1 FROM survey_request r WHERE r.\"order\" = o.id AND r.kind = {}) "
        "GROUP BY o.id, o.customer HAVING MAX(e.created_at) <= {} AND MAX(e.created_at) > {} "
        "ORDER BY o.id LIMIT {}", "delivered", "delivered", due - DELIVERY_WINDOW, "delivery", due,
        due - DELIVERY_WINDOW, batch)
    mailed = 0
    for row in rows:
        async with db.transaction():
            if await SurveyRequest.exists().where((SurveyRequest.order == row["order_id"])
                                                  & (SurveyRequest.kind == "delivery")):
                continue
            customer = await service.customer_row(row["customer"])
            send = (service.deliverable(customer) and not await service.opted_out(row["customer"])
                    and not await service.fatigued(row["customer"], now=now, interval=cfg.fatigue))
            token, hashed = service.issue()
            inserted = await SurveyRequest.insert(SurveyRequest(
                kind="delivery", token_hash=hashed, customer=row["customer"], survey=survey["id"],
                order=row["order_id"], locale=(customer or {}).get("locale") or "tr", created_at=now,
                sent_at=now if send else None, expires_at=now + service.ANSWER_WINDOW)).returning(SurveyRequest.id)
            if send:
                await mail_survey("survey-invite", survey, customer, token,  # type: ignore[arg-type]
                                  request_id=inserted[0]["id"], now=now)
                mailed += 1
    return mailed


async def run_jobs(now: datetime, *, sweep: bool) -> int:
    """The worker's survey work: campaigns every pass; reminders and delivery surveys when
    ``sweep`` (every few minutes). Returns the mails queued."""
    queued = await dispatch(now, budget=DISPATCH_BUDGET)
    if sweep:
        queued += await remind(now)
        queued += await delivery_surveys(now)
    return queued
