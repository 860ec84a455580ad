"""Surveys for leads: ``/staff/surveys`` (build surveys, send campaigns, settings) and
``/staff/reports/satisfaction`` (CSAT, NPS, response rate; charts, tables, comments, CSV)."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Annotated, Any

from litestar import Request, Response, get, post
from litestar.enums import RequestEncodingType
from litestar.exceptions import NotFoundException
from litestar.params import Body
from litestar.response import Template

from portal.accounts.tables import StaffUser, Team
from portal.auth import LEAD
from portal.clock import now
from portal.i18n import N_, _, to_local
from portal.surveys import campaigns, results, service
from portal.surveys.tables import Campaign, Question, Survey
from portal.web import Form, ctx, flash, parse_int, redirect, render

FormData = Annotated[dict[str, Any], Body(media_type=RequestEncodingType.URL_ENCODED)]
SLOTS = 6  # question rows on the "new survey" form (works without JavaScript)
KIND_NAMES = {"nps": N_("0–10 (NPS)"), "rating": N_("1–5 rating"), "single": N_("Single choice"),
              "multiple": N_("Multiple choice"), "text": N_("Free text")}
AUDIENCE_NAMES = {"everyone": N_("Everyone who has not opted out"), "segment": N_("A value segment"),
                  "tag": N_("Customers with a tag"), "delivered": N_("An order delivered in the last N days")}


def _segments() -> list[tuple[str, str]]:
    try:
        from portal.value.service import segment_choices
    except ImportError:  # the value app is optional for surveys
        return []
    return segment_choices()


async def _surveys() -> list[dict]:
    return await Survey.select().where(Survey.archived_at.is_null()).order_by(Survey.id, ascending=False)


@get("/staff/surveys", opt=LEAD, include_in_schema=False)
async def survey_list(request: Request) -> Template:
    cfg = await service.config()
    recent = await Campaign.select(*Campaign.all_columns(), Campaign.survey.title_tr.as_alias("title_tr"),
                                   Campaign.survey.title_en.as_alias("title_en")).order_by(
        Campaign.id, ascending=False).limit(20)
    return render(request, "staff/surveys/list.html", surveys=await _surveys(), campaigns=recent, cfg=cfg,
                  form=Form({}))


@post("/staff/surveys/settings", opt=LEAD, include_in_schema=False)
async def save_settings(request: Request, data: FormData) -> Response:
    form = Form(data)
    fatigue = _int(form, "fatigue_days", 0, 365)
    days = _int(form, "delivery_days", 0, 90)
    survey_raw = form.text("delivery_survey", required=False, max_length=12)
    delivery = parse_int(survey_raw, lo=1)
    if delivery is not None and not await Survey.exists().where(Survey.id == delivery):
        form.add_error("delivery_survey", _("Please choose one of the options."))
    if not form.ok:
        cfg = await service.config()
        return render(request, "staff/surveys/list.html", status=422, surveys=await _surveys(), campaigns=[],
                      cfg=cfg, form=form)
    await service.save_config(service.Config(fatigue_days=fatigue, csat_enabled=data.get("csat_enabled") == "1",
                                             delivery_survey=delivery, delivery_days=days), now=now())
    flash(request, _("The survey settings have been saved."))
    return redirect("/staff/surveys")


def _int(form: Form, name: str, low: int, high: int) -> int:
    raw = form.text(name, max_length=6)
    if name in form.errors:
        return low
    value = parse_int(raw, lo=low, hi=high)
    if value is None:
        form.add_error(name, _("Please enter a whole number from %(low)s to %(high)s.", low=low, high=high))
        return low
    return value


# --- building a survey ------------------------------------------------------------------------------

def _kinds() -> list[tuple[str, str]]:
    return [("", _("(no question)"))] + [(k, _(v)) for k, v in KIND_NAMES.items()]


@get("/staff/surveys/new", opt=LEAD, include_in_schema=False)
async def new_survey(request: Request, nps: bool = False) -> Template:
    data = {"q0_kind": "nps", "q0_text_tr": "Bizi bir arkadaşınıza tavsiye etme olasılığınız nedir?",
            "q0_text_en": "How likely are you to recommend us to a friend?", "q0_required": "1",
            "q1_kind": "text", "q1_text_tr": "Puanınızın en önemli nedeni nedir?",
            "q1_text_en": "What is the main reason for your score?"} if nps else {}
    return render(request, "staff/surveys/new.html", form=Form(data), slots=range(SLOTS), kinds=_kinds())


def _lines(text: str) -> list[str]:
    return [line.strip() for line in text.splitlines() if line.strip()]


def read_questions(form: Form) -> list[campaigns.QuestionIn]:
    out: list[campaigns.QuestionIn] = []
    for i in range(SLOTS):
        kind = form.text(f"q{i}_kind", required=False, max_length=10)
        if not kind:
            continue
        if kind not in KIND_NAMES:
            form.add_error(f"q{i}_kind", _("Please choose one of the options."))
            continue
        text_tr = form.text(f"q{i}_text_tr", max_length=300)
        text_en = form.text(f"q{i}_text_en", max_length=300)
        options: list[dict] = []
        if kind in ("single", "multiple"):
            tr = _lines(form.text(f"q{i}_options_tr", required=False, max_length=3000, strip=False))
            en = _lines(form.text(f"q{i}_options_en", required=False, max_length=3000, strip=False))
            if len(tr) < 2 or len(tr) > 20:
                form.add_error(f"q{i}_options_tr", _("Please give from 2 to 20 options, one a line."))
            elif en and len(en) != len(tr):
                form.add_error(f"q{i}_options_en", _("Please give as many English options as Turkish ones."))
            options = [{"tr": t, "en": en[j] if en else t} for j, t in enumerate(tr)]
        out.append(campaigns.QuestionIn(kind=kind, text_tr=text_tr, text_en=text_en, options=options,
                                        required=form.data.get(f"q{i}_required") == "1"))
    if not out and form.ok:
        form.add_error("form", _("Please add at least one question."))
    return out


@post("/staff/surveys/new", opt=LEAD, include_in_schema=False)
async def create_survey(request: Request, data: FormData) -> Response:
    form = Form(data)
    title_tr = form.text("title_tr", max_length=200)
    title_en = form.text("title_en", max_length=200)
    intro_tr = form.text("intro_tr", required=False, max_length=2000)
    intro_en = form.text("intro_en", required=False, max_length=2000)
    qs = read_questions(form)
    if not form.ok:
        return render(request, "staff/surveys/new.html", status=422, form=form, slots=range(SLOTS), kinds=_kinds())
    survey_id = await campaigns.create_survey(title_tr=title_tr, title_en=title_en, intro_tr=intro_tr,
                                              intro_en=intro_en, questions=qs, by=ctx(request).staff["id"],
                                              now=now())
    flash(request, _("The survey has been saved. Choose who gets it below."))
    return redirect(f"/staff/surveys/{survey_id}")


# --- sending ------------------------------------------------------------------------------------------

def read_audience(form: Form) -> campaigns.Audience:
    kind = form.choice("audience", campaigns.AUDIENCES)
    segment = tag = ""
    days = 30
    if kind == "segment":
        segment = form.choice("segment", tuple(code for code, _label in _segments()))
    elif kind == "tag":
        tag = form.text("tag", max_length=60)
    elif kind == "delivered":
        days = _int(form, "days", 1, 365)
    return campaigns.Audience(kind=kind or "everyone", segment=segment, tag=tag, days=days)


async def _survey_or_404(survey_id: int) -> dict:
    survey = await Survey.select().where(Survey.id == survey_id).first()
    if survey is None:
        raise NotFoundException()
    return survey


async def _detail(request: Request, survey: dict, form: Form, *, status: int = 200,
                  counts: campaigns.Preview | None = None) -> Template:
    qs = await Question.select().where(Question.survey == survey["id"]).order_by(Question.position).output(
        load_json=True)
    sent = await Campaign.select().where(Campaign.survey == survey["id"]).order_by(
        Campaign.id, ascending=False).output(load_json=True)
    cfg = await service.config()
    return render(request, "staff/surveys/detail.html", status=status, survey=survey, questions=qs,
                  campaigns=sent, form=form, preview=counts, cfg=cfg, segments=_segments(),
                  kind_names=KIND_NAMES, audience_names=AUDIENCE_NAMES)


@get("/staff/surveys/{survey_id:int}", opt=LEAD, include_in_schema=False)
async def survey_detail(request: Request, survey_id: int) -> Template:
    survey = await _survey_or_404(survey_id)
    params = dict(request.query_params)
    form = Form(params or {"audience": "everyone", "per_minute": "200", "reminder_days": "3", "days": "30"})
    counts = None
    if "audience" in params:  # "Count recipients": a GET, nothing is sent
        audience = read_audience(form)
        if form.ok:
            counts = await campaigns.preview(audience, now=now())
    return await _detail(request, survey, form, counts=counts)


@post("/staff/surveys/{survey_id:int}/send", opt=LEAD, include_in_schema=False)
async def send_survey(request: Request, survey_id: int, data: FormData) -> Response:
    survey = await _survey_or_404(survey_id)
    form = Form(data)
    audience = read_audience(form)
    per_minute = _int(form, "per_minute", 1, 10000)
    reminder_days = _int(form, "reminder_days", 1, 30)
    if not form.ok:
        return await _detail(request, survey, form, status=422)
    counts = await campaigns.preview(audience, now=now())
    await campaigns.start(survey_id, audience, per_minute=per_minute, reminder_days=reminder_days,
                          by=ctx(request).staff["id"], now=now())
    flash(request, _("The campaign is being sent to about %(n)s customers.", n=counts.recipients))
    return redirect(f"/staff/surveys/{survey_id}")


# --- results ------------------------------------------------------------------------------------------

def _filters(start: str | None, end: str | None, agent: str | None, team: str | None) -> results.Filters:
    today = to_local(now()).date()

    def day(value: str | None, default: date) -> date:
        try:
            chosen = date.fromisoformat(value) if value else default
        except ValueError:
            return default
        # 9999-12-31 would overflow the day after it; no survey predates 1900 or follows 2100.
        return min(max(chosen, date(1900, 1, 1)), date(2100, 12, 31))

    first = day(start, today - timedelta(days=180))
    last = day(end, today)
    if last < first:
        first, last = last, first
    if (last - first).days > 3 * 366:
        first = last - timedelta(days=3 * 366)
    return results.Filters(start=first, end=last, agent=parse_int(agent), team=parse_int(team))


@get("/staff/reports/satisfaction", opt=LEAD, include_in_schema=False)
async def satisfaction_report(request: Request, start: str | None = None, end: str | None = None,
                              agent: str | None = None, team: str | None = None) -> Template:
    filters = _filters(start, end, agent, team)
    rows = await results.rows(filters)
    nps = await results.nps_surveys()
    agents, teams = await results.names()
    weekly = results.trend(rows, nps, by="week")
    monthly = results.trend(rows, nps, by="month")
    charts = {
        "csat_week": results.bar_chart([(k, f.csat, f.csat_n) for k, f in weekly[-16:]],
                                       title=_("CSAT by week (share of 4–5, in percent)"), chart_id="csat-week"),
        "csat_month": results.bar_chart([(k, f.csat, f.csat_n) for k, f in monthly],
                                        title=_("CSAT by month (share of 4–5, in percent)"), chart_id="csat-month"),
        "nps_month": results.bar_chart([(k, f.nps, f.nps_n) for k, f in monthly], title=_("NPS by month"),
                                       unit="", low=-100, high=100, chart_id="nps-month"),
    }
    staff_rows = await StaffUser.select(StaffUser.id, StaffUser.name).order_by(StaffUser.name)
    team_rows = await Team.select(Team.id, Team.name_tr, Team.name_en).order_by(Team.id)
    return render(request, "staff/surveys/report.html", filters=filters, total=results.summarize(rows, nps),
                  weekly=weekly, monthly=monthly, charts=charts,
                  by_agent=results.breakdown([r for r in rows if r["kind"] == "csat"], nps, field="agent",
                                             names=agents),
                  by_team=results.breakdown([r for r in rows if r["kind"] == "csat"], nps, field="team",
                                            names=teams),
                  comments=await results.answers(filters, with_comment=True, limit=100),
                  staff_options=staff_rows, team_options=team_rows)


@get("/staff/reports/satisfaction.csv", opt=LEAD, include_in_schema=False)
async def satisfaction_csv(start: str | None = None, end: str | None = None, agent: str | None = None,
                           team: str | None = None) -> Response:
    filters = _filters(start, end, agent, team)
    answered = await results.answers(filters)
    body = results.to_csv(
        ["answered_at", "kind", "ticket", "survey", "agent", "team", "score", "comment"],
        ([r["answered_at"].isoformat(), r["kind"], r["ticket_ref"] or "", r["survey_en"] or r["survey_tr"] or "",
          r["agent_name"] or "", r["team_en"] or "", r["score"] if r["score"] is not None else "", r["comment"]]
         for r in answered))
    name = f"satisfaction-{filters.start.isoformat()}-{filters.end.isoformat()}.csv"
    return Response(body, media_type="text/csv; charset=utf-8", headers={
        "Content-Disposition": f'attachment; filename="{name}"', "Cache-Control": "no-store",
        "X-Content-Type-Options": "nosniff"})


ROUTES = [survey_list, save_settings, new_survey, create_survey, survey_detail, send_survey,
          satisfaction_report, satisfaction_csv]
