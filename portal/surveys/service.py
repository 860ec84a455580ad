"""Survey rules: links, the answer windows, the fatigue rule, opt-outs and CSAT answers.

Timing rules (all from ``now``):

- a survey link can be answered for the first time for ``ANSWER_WINDOW`` (30 days) after it
  was mailed (or created, for a rating from the ticket page); after that the link is a 404;
- an answer can be changed for ``CHANGE_WINDOW`` (7 days) after the first answer; after that
  the page shows it and refuses changes;
- a customer is mailed at most one survey (CSAT, campaign or delivery) per
  ``SurveySettings.fatigue_days`` (default 30): ``sent_at`` of their requests is what counts.

A GET never writes: mail scanners open links; only the page's own POST records an answer.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from portal import db
from portal.accounts.tables import Customer
from portal.security import new_token, token_hash
from portal.surveys.tables import Answer, OptOut, Question, SurveyLink, SurveyRequest, SurveySettings

ANSWER_WINDOW = timedelta(days=30)
CHANGE_WINDOW = timedelta(days=7)
LOW_SCORES = (1, 2)
COMMENT_MAX = 4000
KINDS = ("nps", "rating", "single", "multiple", "text")


class SurveyRefused(Exception):
    """``expired`` (past the first-answer window), ``final`` (past the change window),
    ``invalid`` (a score or choice out of range)."""

    def __init__(self, code: str) -> None:
        super().__init__(code)
        self.code = code


# --- settings -------------------------------------------------------------------------------

@dataclass(frozen=True)
class Config:
    fatigue_days: int = 30
    csat_enabled: bool = True
    delivery_survey: int | None = None
    delivery_days: int = 3

    @property
    def fatigue(self) -> timedelta:
        return timedelta(days=self.fatigue_days)


async def config() -> Config:
    row = await SurveySettings.select().where(SurveySettings.id == 1).first()
    if row is None:
        return Config()
    return Config(fatigue_days=row["fatigue_days"], csat_enabled=row["csat_enabled"],
                  delivery_survey=row["delivery_survey"], delivery_days=row["delivery_days"])


async def save_config(cfg: Config, *, now: datetime) -> None:
    values = {SurveySettings.fatigue_days: cfg.fatigue_days, SurveySettings.csat_enabled: cfg.csat_enabled,
              SurveySettings.delivery_survey: cfg.delivery_survey,
              SurveySettings.delivery_days: cfg.delivery_days, SurveySettings.updated_at: now}
    async with db.transaction():
        if await SurveySettings.exists().where(SurveySettings.id == 1):
            await SurveySettings.update(values).where(SurveySettings.id == 1)
        else:
            await SurveySettings.insert(SurveySettings(
                id=1, **{col._meta.name: value for col, value in values.items()}))


# --- who may be surveyed --------------------------------------------------------------------

async def opted_out(customer_id: int) -> bool:
    return await OptOut.exists().where(OptOut.customer == customer_id)


async def fatigued(customer_id: int, *, now: datetime, interval: timedelta,
                   exclude_request: int | None = None) -> bool:
    """Was this customer mailed a survey within ``interval`` before ``now``?"""
    where = (SurveyRequest.customer == customer_id) & (SurveyRequest.sent_at > now - interval)
    if exclude_request is not None:
        where &= SurveyRequest.id != exclude_request
    return await SurveyRequest.exists().where(where)


async def opt_out(customer_id: int, *, now: datetime) -> bool:
    """Never survey this customer again. Returns False when they had already opted out."""
    async with db.transaction():
        if await opted_out(customer_id):
            return False
        await OptOut.insert(OptOut(customer=customer_id, created_at=now))
    return True


async def opt_back_in(customer_id: int) -> None:
    async with db.transaction():
        await OptOut.delete().where(OptOut.customer == customer_id)


def deliverable(customer: dict | None) -> bool:
    return bool(customer and customer.get("email")) and customer.get("deleted_at") is None


async def customer_row(customer_id: int) -> dict | None:
    return await Customer.select(Customer.id, Customer.email, Customer.name, Customer.locale,
                                 Customer.deleted_at).where(Customer.id == customer_id).first()


# --- links ----------------------------------------------------------------------------------

def issue() -> tuple[str, str]:
    """A fresh (token, hash) pair: the token goes in the mail, the hash in the database."""
    token = new_token(32)
    return token, token_hash(token)


async def by_token(token: str) -> dict | None:
    """The request of a link: its own token, or a reminder's (:class:`SurveyLink`)."""
    if not token or len(token) > 100:
        return None
    hashed = token_hash(token)
    row = await SurveyRequest.select().where(SurveyRequest.token_hash == hashed).first()
    if row is None:
        link = await SurveyLink.select(SurveyLink.request).where(SurveyLink.token_hash == hashed).first()
        if link is not None:
            row = await SurveyRequest.select().where(SurveyRequest.id == link["request"]).first()
    return row


def state(request: dict, now: datetime) -> str:
    """``open`` (not answered, may answer), ``changeable`` (answered, may change),
    ``final`` (answered, too late to change) or ``expired`` (never answered, too late)."""
    if request["answered_at"] is None:
        return "open" if now < request["expires_at"] else "expired"
    return "changeable" if now < request["answered_at"] + CHANGE_WINDOW else "final"


# --- answers ---------------------------------------------------------------------------------

@dataclass(frozen=True)
class Recorded:
    request: dict
    first: bool  # the first answer (not a change)
    alerted: bool  # a low score alerted the team lead now


def _check_open(request: dict, now: datetime) -> None:
    current = state(request, now)
    if current == "expired":
        raise SurveyRefused("expired")
    if current == "final":
        raise SurveyRefused("final")


async def record_csat(request_id: int, score: int, *, comment: str | None, now: datetime) -> Recorded:
    """Store (or change) a CSAT score 1-5 and, if given, the comment. A score of 1 or 2
    closes the loop (:func:`portal.surveys.csat.close_loop`) once per request, in the same
    transaction."""
    from portal.surveys import csat

    if score not in range(1, 6):
        raise SurveyRefused("invalid")
    async with db.transaction():
        request = await SurveyRequest.select().where(SurveyRequest.id == request_id).first()
        if request is None or await _merged(request["ticket"]):
            raise SurveyRefused("expired")  # a duplicate merged into another ticket is not rated
        _check_open(request, now)
        first = request["answered_at"] is None
        values: dict = {SurveyRequest.score: score}
        if first:
            values[SurveyRequest.answered_at] = now
        else:
            values[SurveyRequest.changed_at] = now
        if comment is not None:
            values[SurveyRequest.comment] = comment[:COMMENT_MAX]
        # Compare-and-set on the state read: two tabs posting at once store one first answer.
        where = SurveyRequest.id == request_id
        where &= (SurveyRequest.answered_at.is_null() if first
                  else SurveyRequest.answered_at == request["answered_at"])
        rows = await SurveyRequest.update(values).where(where).returning(SurveyRequest.id)
        if not rows:
            raise SurveyRefused("final")
        alerted = False
        if score in LOW_SCORES and request["alerted_at"] is None and request["ticket"] is not None:
            # Compare-and-set too: of two changes to a low score at once, one alerts.
            alerted = bool(await SurveyRequest.update({SurveyRequest.alerted_at: now}).where(
                (SurveyRequest.id == request_id) & SurveyRequest.alerted_at.is_null()
            ).returning(SurveyRequest.id))
        request = await SurveyRequest.select().where(SurveyRequest.id == request_id).first()
        target = await csat.close_loop(request, now=now) if alerted else None
    if target is not None:
        csat.announce_after_commit(target)
    return Recorded(request=request, first=first, alerted=alerted)


async def _merged(ticket_id: int | None) -> bool:
    from portal.tickets.tables import Ticket

    return ticket_id is not None and await Ticket.exists().where(
        (Ticket.id == ticket_id) & Ticket.merged_into.is_not_null())


async def questions(survey_id: int) -> list[dict]:
    return await Question.select().where(Question.survey == survey_id).order_by(Question.position).order_by(
        Question.id).output(load_json=True)


def parse_answers(qs: list[dict], data: dict) -> tuple[dict[int, dict], dict[str, str]]:
    """The posted answers (field ``q<id>``) per question, and errors per field. Values are
    checked against the question's kind: a number in range, a known option index."""
    from portal.i18n import _

    answers: dict[int, dict] = {}
    errors: dict[str, str] = {}
    for q in qs:
        name = f"q{q['id']}"
        raw = data.get(name)
        values = raw if isinstance(raw, list) else ([] if raw in (None, "") else [raw])
        values = [str(v).strip() for v in values if str(v).strip()]
        if not values:
            if q["required"]:
                errors[name] = _("Please answer this question.")
            continue
        kind = q["kind"]
        if kind in ("nps", "rating"):
            low, high = (0, 10) if kind == "nps" else (1, 5)
            try:
                number = int(values[0])
            except ValueError:
                number = -1
            if not low <= number <= high:
                errors[name] = _("Please choose a value from %(low)s to %(high)s.", low=low, high=high)
                continue
            answers[q["id"]] = {"number": number}
        elif kind in ("single", "multiple"):
            count = len(q["options"] or [])
            try:
                picked = sorted({int(v) for v in values})
            except ValueError:
                picked = [-1]
            if any(not 0 <= p < count for p in picked) or (kind == "single" and len(picked) > 1):
                errors[name] = _("Please choose one of the options.")
                continue
            answers[q["id"]] = {"choices": picked}
        else:
            text = values[0]
            if len(text) > COMMENT_MAX:
                errors[name] = _("Please use at most %(n)s characters.", n=COMMENT_MAX)
                continue
            answers[q["id"]] = {"text": text}
    return answers, errors


def headline_score(qs: list[dict], answers: dict[int, dict]) -> int | None:
    """The request's ``score``: its first NPS question (else its first 1-5 question)."""
    for kind in ("nps", "rating"):
        for q in qs:
            if q["kind"] == kind and q["id"] in answers:
                return answers[q["id"]]["number"]
    return None


async def record_survey(request_id: int, answers: dict[int, dict], *, score: int | None,
                        now: datetime) -> Recorded:
    """Store (or replace) the answers of a campaign or delivery survey."""
    async with db.transaction():
        request = await SurveyRequest.select().where(SurveyRequest.id == request_id).first()
        if request is None:
            raise SurveyRefused("expired")
        _check_open(request, now)
        first = request["answered_at"] is None
        values: dict = {SurveyRequest.score: score,
                        SurveyRequest.answered_at if first else SurveyRequest.changed_at: now}
        comment = next((a["text"] for a in answers.values() if "text" in a), "")
        values[SurveyRequest.comment] = comment[:COMMENT_MAX]
        where = SurveyRequest.id == request_id
        where &= (SurveyRequest.answered_at.is_null() if first
                  else SurveyRequest.answered_at == request["answered_at"])
        if not await SurveyRequest.update(values).where(where).returning(SurveyRequest.id):
            raise SurveyRefused("final")
        await Answer.delete().where(Answer.request == request_id)
        if answers:
            await Answer.insert(*[Answer(request=request_id, question=qid, number=a.get("number"),
                                         text=a.get("text", ""), choices=a.get("choices", []))
                                  for qid, a in answers.items()])
        request = await SurveyRequest.select().where(SurveyRequest.id == request_id).first()
    return Recorded(request=request, first=first, alerted=False)


async def answers_of(request_id: int) -> dict[int, dict]:
    rows = await Answer.select().where(Answer.request == request_id).output(load_json=True)
    return {r["question"]: r for r in rows}
