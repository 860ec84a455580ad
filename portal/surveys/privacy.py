"""KVKK/GDPR: a customer's survey answers in their data download; deleting the account
erases their comments and free-text answers and opts them out (scores stay, without the
person, so the figures of the past do not change)."""

from __future__ import annotations

from datetime import datetime

from portal.accounts import service as accounts
from portal.surveys.tables import Answer, OptOut, SurveyRequest

ERASED = "[deleted at the customer's request]"


@accounts.register_exporter
async def export_surveys(customer_id: int) -> dict:
    rows = await SurveyRequest.select(
        SurveyRequest.id, SurveyRequest.kind, SurveyRequest.score, SurveyRequest.comment, SurveyRequest.sent_at,
        SurveyRequest.answered_at, SurveyRequest.ticket.number.as_alias("ticket_number"),
        SurveyRequest.survey.title_en.as_alias("survey")).where(SurveyRequest.customer == customer_id).order_by(
        SurveyRequest.id)
    answers = await Answer.select(Answer.request, Answer.question.text_en.as_alias("question"), Answer.number,
                                  Answer.text, Answer.choices).where(
        Answer.request.is_in([r["id"] for r in rows] or [0])).output(load_json=True)
    opted = await OptOut.select(OptOut.created_at).where(OptOut.customer == customer_id).first()
    return {"surveys": {
        "opted_out_at": opted["created_at"].isoformat() if opted else None,
        "answers": [{"kind": r["kind"], "ticket": f"T-{r['ticket_number']}" if r["ticket_number"] else None,
                     "survey": r["survey"], "score": r["score"], "comment": r["comment"],
                     "sent_at": r["sent_at"].isoformat() if r["sent_at"] else None,
                     "answered_at": r["answered_at"].isoformat() if r["answered_at"] else None,
                     "questions": [{"question": a["question"], "number": a["number"], "text": a["text"],
                                    "choices": a["choices"]} for a in answers if a["request"] == r["id"]]}
                    for r in rows]}}


@accounts.register_eraser
async def erase_surveys(customer_id: int, *, now: datetime) -> None:
    ids = await SurveyRequest.select(SurveyRequest.id).where(SurveyRequest.customer == customer_id).output(
        as_list=True)
    await SurveyRequest.update({SurveyRequest.comment: ERASED}).where(
        (SurveyRequest.customer == customer_id) & (SurveyRequest.comment != ""))
    await Answer.update({Answer.text: ERASED}).where(Answer.request.is_in(ids or [0]) & (Answer.text != ""))
    if not await OptOut.exists().where(OptOut.customer == customer_id):
        await OptOut.insert(OptOut(customer=customer_id, created_at=now))
