"""Public survey pages: ``/s/{token}`` (answer), ``/s/{token}/opt-out``, and rating a
ticket from its page (``/tickets/{ref}/satisfaction``, ``/t/{token}/satisfaction``).

A GET shows the survey with ``?score=N`` preselected and records nothing (mail scanners
fetch links); the page's own form POSTs the answer, with the CSRF token the GET set. A
forged token, or one never answered within the answer window, is a 404.
"""

from __future__ import annotations

from typing import Annotated, Any

from litestar import Request, Response, get, post
from litestar.enums import RequestEncodingType
from litestar.exceptions import NotFoundException
from litestar.params import Body
from litestar.response import Template

from portal.auth import CUSTOMER, PUBLIC
from portal.clock import now
from portal.i18n import _
from portal.surveys import csat, service
from portal.surveys.tables import Survey
from portal.tickets import queries
from portal.web import Form, ctx, flash, parse_int, redirect, render

FormData = Annotated[dict[str, Any], Body(media_type=RequestEncodingType.URL_ENCODED)]
PAGE = "surveys/answer.html"
# The URL is the key: no caching, no Referer to other sites, no indexing.
HEADERS = {"Cache-Control": "private, no-store", "Referrer-Policy": "no-referrer", "X-Robots-Tag": "noindex"}


async def _request(token: str, *, allow_expired: bool = False) -> dict:
    request = await service.by_token(token)
    if request is None or (not allow_expired and service.state(request, now()) == "expired"):
        raise NotFoundException()
    return request


def _text(row: dict, name: str, locale: str) -> str:
    return row.get(f"{name}_{'en' if locale == 'en' else 'tr'}") or row.get(f"{name}_tr") or ""


async def _survey_context(survey_request: dict, locale: str) -> dict:
    if survey_request["kind"] == "csat":
        ticket = await queries.ticket_by_id(survey_request["ticket"]) if survey_request["ticket"] else None
        return {"ticket": ticket, "questions": [], "title": _("How did we do?")}
    survey = await Survey.select().where(Survey.id == survey_request["survey"]).first()
    if survey is None:
        raise NotFoundException()
    qs = await service.questions(survey["id"])
    for q in qs:
        q["text"] = _text(q, "text", locale)
        q["labels"] = [o.get("en" if locale == "en" else "tr") or o.get("tr", "") for o in (q["options"] or [])]
    return {"ticket": None, "questions": qs, "title": _text(survey, "title", locale),
            "intro": _text(survey, "intro", locale)}


def _preselected(survey_request: dict, questions: list[dict], score: int | None,
                 answers: dict[int, dict]) -> dict[str, list[str]]:
    """Form values: the stored answers, or the score from the mail's link."""
    values: dict[str, list[str]] = {}
    for q in questions:
        a = answers.get(q["id"])
        if a is None:
            continue
        if q["kind"] in ("nps", "rating"):
            values[f"q{q['id']}"] = [str(a["number"])]
        elif q["kind"] in ("single", "multiple"):
            values[f"q{q['id']}"] = [str(c) for c in a["choices"] or []]
        else:
            values[f"q{q['id']}"] = [a["text"]]
    if survey_request["kind"] == "csat":
        chosen = survey_request["score"] if survey_request["answered_at"] else score
        if chosen is not None:
            values["score"] = [str(chosen)]
        values["comment"] = [survey_request["comment"] or ""]
    elif score is not None and survey_request["answered_at"] is None:
        first = next((q for q in questions if q["kind"] == "nps"), None) or next(
            (q for q in questions if q["kind"] == "rating"), None)
        if first is not None:
            values[f"q{first['id']}"] = [str(score)]
    return values


async def _page(request: Request, survey_request: dict, token: str, *, score: int | None = None,
                values: dict[str, list[str]] | None = None, errors: dict[str, str] | None = None,
                status: int = 200) -> Template:
    locale = ctx(request).locale
    extra = await _survey_context(survey_request, locale)
    answers = await service.answers_of(survey_request["id"]) if survey_request["answered_at"] else {}
    if values is None:
        values = _preselected(survey_request, extra["questions"], score, answers)
    current = service.state(survey_request, now())
    return render(request, PAGE, status=status, headers=HEADERS, token=token, req=survey_request,
                  state=current, values=values, errors=errors or {}, change_until=(
                      survey_request["answered_at"] + service.CHANGE_WINDOW
                      if survey_request["answered_at"] else None), **extra)


@get("/s/{token:str}", opt=PUBLIC, include_in_schema=False)
async def survey_page(request: Request, token: str, score: str | None = None) -> Template:
    survey_request = await _request(token)
    csat_kind = survey_request["kind"] == "csat"
    chosen = parse_int(score, lo=1 if csat_kind else 0, hi=5 if csat_kind else 10)
    return await _page(request, survey_request, token, score=chosen)


@post("/s/{token:str}", opt=PUBLIC, include_in_schema=False)
async def survey_answer(request: Request, token: str, data: FormData) -> Response:
    survey_request = await _request(token)
    if service.state(survey_request, now()) == "final":
        return await _final(request, survey_request, token)
    if survey_request["kind"] == "csat":
        form = Form(data)
        raw = form.text("score", max_length=2)
        comment = form.text("comment", required=False, max_length=service.COMMENT_MAX) if "comment" in data else None
        score = parse_int(raw, lo=1, hi=5) or 0
        if form.ok and not 1 <= score <= 5:
            form.add_error("score", _("Please choose a score from 1 to 5."))
        if not form.ok:
            values = {k: [v] for k, v in form.values.items()}
            return await _page(request, survey_request, token, values=values, errors=form.errors, status=422)
        try:
            await service.record_csat(survey_request["id"], score, comment=comment, now=now())
        except service.SurveyRefused as exc:
            if exc.code == "final":
                return await _final(request, survey_request, token)
            raise NotFoundException() from exc
    else:
        qs = await service.questions(survey_request["survey"])
        answers, errors = service.parse_answers(qs, data)
        if errors:
            values = {k: (v if isinstance(v, list) else [v]) for k, v in data.items() if k.startswith("q")}
            return await _page(request, survey_request, token, values=values, errors=errors, status=422)
        try:
            await service.record_survey(survey_request["id"], answers,
                                        score=service.headline_score(qs, answers), now=now())
        except service.SurveyRefused as exc:
            if exc.code == "final":
                return await _final(request, survey_request, token)
            raise NotFoundException() from exc
    flash(request, _("Thank you! Your answer has been saved."))
    return redirect(f"/s/{token}")


async def _final(request: Request, survey_request: dict, token: str) -> Template:
    fresh = await service.by_token(token) or survey_request
    page = await _page(request, fresh, token, status=409,
                       errors={"form": _("This answer can no longer be changed: answers can be changed for 7 days.")})
    return page


@get("/s/{token:str}/opt-out", opt=PUBLIC, include_in_schema=False)
async def opt_out_page(request: Request, token: str) -> Template:
    survey_request = await _request(token, allow_expired=True)
    return render(request, "surveys/opt_out.html", headers=HEADERS, token=token, done=False,
                  already=await service.opted_out(survey_request["customer"]))


@post("/s/{token:str}/opt-out", opt=PUBLIC, include_in_schema=False)
async def opt_out(request: Request, token: str) -> Template:
    survey_request = await _request(token, allow_expired=True)
    await service.opt_out(survey_request["customer"], now=now())
    return render(request, "surveys/opt_out.html", headers=HEADERS, token=token, done=True, already=True)


# --- rating from the ticket page --------------------------------------------------------------

async def _rate(request: Request, ticket: dict, data: dict, back: str) -> Response:
    if not await csat.rateable(ticket):  # CSAT off, or a duplicate merged into another ticket
        raise NotFoundException()
    form = Form(data)
    raw = form.text("score", max_length=2)
    comment = form.text("comment", required=False, max_length=service.COMMENT_MAX)
    score = parse_int(raw, lo=1, hi=5) or 0
    if not 1 <= score <= 5:
        flash(request, _("Please choose a score from 1 to 5."), "error")
        return redirect(back)
    survey_request = await csat.ensure_for_ticket(ticket, now=now())
    if survey_request is None:
        raise NotFoundException()
    try:
        await service.record_csat(survey_request["id"], score, comment=comment, now=now())
    except service.SurveyRefused as exc:
        message = (_("This answer can no longer be changed: answers can be changed for 7 days.")
                   if exc.code == "final" else _("This request can no longer be rated."))
        flash(request, message, "error")
        return redirect(back)
    flash(request, _("Thank you! Your answer has been saved."))
    return redirect(back)


@post("/tickets/{ref:str}/satisfaction", opt=CUSTOMER, include_in_schema=False)
async def rate_my_ticket(request: Request, ref: str, data: FormData) -> Response:
    ticket = await queries.ticket_for_customer(ref, ctx(request).customer["id"])
    if ticket is None:
        raise NotFoundException()
    return await _rate(request, ticket, data, f"/tickets/{ticket['ref']}")


@post("/t/{token:str}/satisfaction", opt=PUBLIC, include_in_schema=False)
async def rate_guest_ticket(request: Request, token: str, data: FormData) -> Response:
    ticket = await queries.ticket_for_guest(token)
    if ticket is None:
        raise NotFoundException()
    return await _rate(request, ticket, data, f"/t/{token}")


ROUTES = [survey_page, survey_answer, opt_out_page, opt_out, rate_my_ticket, rate_guest_ticket]
