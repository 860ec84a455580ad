"""/staff/surveys (build, audience, send, settings), the campaign worker job (throttle,
opt-out, fatigue, reminder once, delivery surveys) and /staff/reports/satisfaction."""

from __future__ import annotations

import csv
import io
import re
from datetime import timedelta

from portal.accounts.tables import Customer
from portal.clock import now
from portal.i18n import email_key
from portal.mail.tables import Outbox
from portal.surveys import campaigns
from portal.surveys import service as surveys
from portal.surveys.tables import Answer, Campaign, Question, Survey, SurveyRequest
from portal.tags import service as tags
from tests.conftest import link_in, outbox_to, staff_login

NPS_FORM = {"title_tr": "Memnuniyet anketi", "title_en": "Satisfaction survey",
            "q0_kind": "nps", "q0_text_tr": "Bizi tavsiye eder misiniz?", "q0_text_en": "Would you recommend us?",
            "q0_required": "1",
            "q1_kind": "multiple", "q1_text_tr": "Neleri beğendiniz?", "q1_text_en": "What did you like?",
            "q1_options_tr": "Hız\nFiyat\nKalite", "q1_options_en": "Speed\nPrice\nQuality",
            "q2_kind": "text", "q2_text_tr": "Yorumunuz", "q2_text_en": "Your comment"}


async def _customers(n: int, prefix: str = "c") -> list[int]:
    ids = []
    for i in range(n):
        email = f"{prefix}{i}@example.com"
        row = Customer(email=email, email_key=email_key(email), name=f"Müşteri {i}", locale="tr")
        await row.save()
        ids.append(row.id)
    return ids


async def _survey(client, erin) -> int:
    await staff_login(client, erin)
    response = await client.post_form("/staff/surveys/new", NPS_FORM)
    assert response.status_code == 303, response.text
    return int(response.headers["location"].rsplit("/", 1)[1])


async def test_only_leads_see_surveys_and_results(client, carol):
    await staff_login(client, carol)
    for path in ("/staff/surveys", "/staff/surveys/new", "/staff/reports/satisfaction",
                 "/staff/reports/satisfaction.csv"):
        assert (await client.get(path)).status_code == 403


async def test_build_a_survey_with_every_question_type(client, erin):
    await staff_login(client, erin)
    bad = await client.post_form("/staff/surveys/new", {**NPS_FORM, "q1_options_tr": "Tek"})
    assert bad.status_code == 422 and await Survey.count() == 0
    assert (await client.post_form("/staff/surveys/new", {"title_tr": "a", "title_en": "b"})).status_code == 422
    survey_id = await _survey(client, erin)
    qs = await Question.select().where(Question.survey == survey_id).order_by(Question.position).output(
        load_json=True)
    assert [q["kind"] for q in qs] == ["nps", "multiple", "text"]
    assert qs[1]["options"][2] == {"tr": "Kalite", "en": "Quality"}
    page = await client.get(f"/staff/surveys/{survey_id}")
    assert page.status_code == 200 and "Bizi tavsiye eder misiniz?" in page.text
    assert (await client.get("/staff/surveys/999")).status_code == 404


async def test_campaign_audience_opt_out_fatigue_throttle_and_answers(client, other_client, erin):
    survey_id = await _survey(client, erin)
    ids = await _customers(6)
    await tags.add("customer", ids[:4], ["vip"], by=None, now=now())
    await surveys.opt_out(ids[0], now=now())
    # ids[1] was mailed a CSAT survey 10 days ago: the fatigue rule skips them.
    await SurveyRequest.insert(SurveyRequest(kind="csat", token_hash="x" * 64, customer=ids[1],
                                             sent_at=now() - timedelta(days=10), expires_at=now()))
    page = await client.get(f"/staff/surveys/{survey_id}?audience=tag&tag=vip")
    assert page.status_code == 200
    figures = re.findall(r"<strong>(\d+)</strong>", page.text)
    assert figures[:4] == ["4", "1", "1", "2"]  # audience, opted out, fatigued, recipients
    assert "30" in page.text and "Send to 2 customers" in page.text or "2 müşteriye" in page.text
    sent = await client.post_form(f"/staff/surveys/{survey_id}/send",
                                  {"audience": "tag", "tag": "vip", "days": "", "segment": "",
                                   "per_minute": "1", "reminder_days": "3"})
    assert sent.status_code == 303
    t = now()
    # One customer a batch: each pass resumes where the last one stopped (opted out, fatigued,
    # two mailed, then an empty batch ends the campaign).
    assert [await campaigns.dispatch(t, batch=1) for _ in range(6)] == [0, 0, 1, 1, 0, 0]
    campaign = await Campaign.select().first()
    assert (campaign["status"], campaign["queued"], campaign["skipped_opt_out"], campaign["skipped_fatigue"]) == (
        "sent", 2, 1, 1)
    invites = await Outbox.select().where(Outbox.template == "survey-invite").order_by(Outbox.id)
    assert sorted(m["to_addr"] for m in invites) == ["c2@example.com", "c3@example.com"]
    # Throttled: one a minute from the start.
    assert invites[1]["run_after"] - invites[0]["run_after"] >= timedelta(seconds=59)
    assert all("/opt-out" in m["body_text"] and "/opt-out" in m["body_html"] for m in invites)
    # Nobody twice, however often the job runs.
    assert await campaigns.dispatch(now()) == 0 and await SurveyRequest.count().where(
        SurveyRequest.campaign == campaign["id"]) == 2

    # The customer answers with the one-click NPS link: GET stores nothing, the form POST does.
    link = link_in(invites[0]["body_text"], "/s/")
    path = link.split("?")[0]
    nine = await other_client.get(path + "?score=9")
    assert nine.status_code == 200 and 'value="9" checked' in nine.text
    assert await Answer.count() == 0
    qs = await Question.select().where(Question.survey == survey_id).order_by(Question.position)
    missing = await other_client.post_form(path, {f"q{qs[1]['id']}": "0"})
    assert missing.status_code == 422  # the NPS question is required
    answered = await other_client.post_form(path, {f"q{qs[0]['id']}": "9", f"q{qs[1]['id']}": ["0", "2"],
                                                   f"q{qs[2]['id']}": "Çok memnunum"})
    assert answered.status_code == 303
    request = await SurveyRequest.select().where(SurveyRequest.token_hash == surveys.token_hash(
        path.rsplit("/", 1)[1])).first()
    assert (request["score"], request["comment"]) == (9, "Çok memnunum")
    assert await Answer.count().where(Answer.request == request["id"]) == 3

    # Reminder once, to the one who did not answer, after 3 days.
    assert await campaigns.remind(now() + timedelta(days=2)) == 0
    assert await campaigns.remind(now() + timedelta(days=3, minutes=1)) == 1
    assert await campaigns.remind(now() + timedelta(days=5)) == 0
    reminders = await Outbox.select().where(Outbox.template == "survey-reminder")
    assert len(reminders) == 1 and reminders[0]["to_addr"] != request and reminders[0]["to_addr"] in (
        "c2@example.com", "c3@example.com")
    # The reminder's own link opens the same request; the first link still works.
    reminder_path = link_in(reminders[0]["body_text"], "/s/").split("?")[0]
    for body in (reminders[0]["body_text"], reminders[0]["body_html"]):  # the invitation's parts, reused
        assert f"{reminder_path}/opt-out" in body
    assert (await other_client.get(reminder_path)).status_code == 200


async def test_opted_out_customers_are_never_sent_surveys(client, other_client, erin):
    survey_id = await _survey(client, erin)
    ids = await _customers(2, prefix="o")
    await client.post_form(f"/staff/surveys/{survey_id}/send", {"audience": "everyone", "per_minute": "600",
                                                                 "reminder_days": "3"})
    await campaigns.dispatch(now())
    mail = (await outbox_to("o0@example.com"))[0]
    opt = link_in(mail["body_text"], "/s/").split("?")[0]
    opt = opt if opt.endswith("/opt-out") else opt + "/opt-out"
    assert (await other_client.post_form(opt)).status_code == 200
    assert await surveys.opted_out(ids[0]) and not await surveys.opted_out(ids[1])
    # No reminder for them, and no second campaign either, even after the fatigue interval.
    assert await campaigns.remind(now() + timedelta(days=4)) == 1
    assert [m["template"] for m in await outbox_to("o0@example.com")] == ["survey-invite"]
    await SurveyRequest.update({SurveyRequest.sent_at: now() - timedelta(days=90)}).where(
        SurveyRequest.id > 0)
    await client.post_form(f"/staff/surveys/{survey_id}/send", {"audience": "everyone", "per_minute": "600",
                                                                 "reminder_days": "3"})
    await campaigns.dispatch(now())
    assert [m["template"] for m in await outbox_to("o0@example.com")] == ["survey-invite"]
    assert len(await outbox_to("o1@example.com")) == 3  # invite, reminder, second invite


async def test_settings_validate_and_save(client, erin):
    await staff_login(client, erin)
    assert (await client.post_form("/staff/surveys/settings", {"fatigue_days": "abc",
                                                               "delivery_days": "3"})).status_code == 422
    ok = await client.post_form("/staff/surveys/settings", {"fatigue_days": "14", "delivery_days": "2",
                                                            "csat_enabled": "1", "delivery_survey": ""})
    assert ok.status_code == 303
    cfg = await surveys.config()
    assert (cfg.fatigue_days, cfg.delivery_days, cfg.csat_enabled, cfg.delivery_survey) == (14, 2, True, None)


async def test_delivery_survey_after_n_days(client, erin):
    from decimal import Decimal

    from portal.orders.tables import Order, OrderEvent

    survey_id = await _survey(client, erin)
    await surveys.save_config(surveys.Config(delivery_survey=survey_id, delivery_days=3), now=now())
    [cid] = await _customers(1, prefix="d")
    rows = await Order.insert(Order(number="SP-1", customer=cid, email="d0@example.com", email_key="d0@example.com",
                                    status="delivered", total=Decimal("10"), currency="TRY",
                                    placed_at=now() - timedelta(days=6))).returning(Order.id)
    await OrderEvent.insert(OrderEvent(order=rows[0]["id"], kind="status", status="delivered",
                                       created_at=now() - timedelta(days=1)))
    assert await campaigns.delivery_surveys(now()) == 0  # delivered one day ago: not yet
    assert await campaigns.delivery_surveys(now() + timedelta(days=2, hours=1)) == 1
    assert await campaigns.delivery_surveys(now() + timedelta(days=2, hours=2)) == 0  # once per order
    mails = await outbox_to("d0@example.com")
    assert [m["template"] for m in mails] == ["survey-invite"] and "/s/" in mails[0]["body_text"]


async def _answered(kind: str, score: int, customer: int, *, survey: int | None = None, comment: str = "",
                    sent: bool = True, answered: bool = True) -> None:
    t = now() - timedelta(days=2)
    token, hashed = surveys.issue()
    await SurveyRequest.insert(SurveyRequest(
        kind=kind, token_hash=hashed, customer=customer, survey=survey, created_at=t, sent_at=t if sent else None,
        expires_at=t + timedelta(days=30), answered_at=t if answered else None,
        score=score if answered else None, comment=comment))


async def test_results_page_figures_and_csv(client, erin):
    survey_id = await _survey(client, erin)
    ids = await _customers(1, prefix="r")
    for score in (5, 5, 4, 2):
        await _answered("csat", score, ids[0])
    await _answered("csat", 0, ids[0], answered=False)
    await _answered("csat", 0, ids[0], answered=False)
    await _answered("csat", 3, ids[0], sent=False, comment="=HYPERLINK(\"http://evil\")")
    for score in (10, 9, 7, 3):
        await _answered("campaign", score, ids[0], survey=survey_id)
    page = await client.get("/staff/reports/satisfaction")
    assert page.status_code == 200
    # CSAT: 3 of 5 answers are 4-5 = 60 %; NPS: 2 promoters, 1 detractor of 4 = 25;
    # response rate: 8 answered of 10 mailed = 80 %.
    assert re.search(r'id="csat-total">60\.0 %<', page.text)
    assert re.search(r'id="nps-total">25\.0<', page.text)
    assert re.search(r'id="rate-total">80\.0 %<', page.text)
    assert page.text.count("<svg") == 3 and "<title" in page.text
    export = await client.get("/staff/reports/satisfaction.csv")
    assert export.status_code == 200 and export.headers["content-type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(export.text)))
    assert rows[0][:3] == ["answered_at", "kind", "ticket"] and len(rows) == 1 + 9
    assert "'=HYPERLINK(\"http://evil\")" in [r[7] for r in rows]


async def test_odd_numbers_and_days_are_never_a_500(client, erin):
    await staff_login(client, erin)
    for field in ("fatigue_days", "delivery_days"):
        bad = await client.post_form("/staff/surveys/settings", {"fatigue_days": "14", "delivery_days": "2",
                                                                 field: "²"})
        assert bad.status_code == 422
    ignored = await client.post_form("/staff/surveys/settings", {"fatigue_days": "14", "delivery_days": "2",
                                                                 "delivery_survey": "²"})
    assert ignored.status_code == 303 and (await surveys.config()).delivery_survey is None
    for query in ("agent=99999999999", "team=99999999999", "agent=²", "agent=--3", "end=9999-12-31",
                  "start=0001-01-01&end=9999-12-31"):
        assert (await client.get(f"/staff/reports/satisfaction?{query}")).status_code == 200, query
        assert (await client.get(f"/staff/reports/satisfaction.csv?{query}")).status_code == 200, query


async def test_delivery_survey_follows_the_latest_delivery(client, erin):
    from decimal import Decimal

    from portal.orders.tables import Order, OrderEvent

    survey_id = await _survey(client, erin)
    await surveys.save_config(surveys.Config(delivery_survey=survey_id, delivery_days=3), now=now())
    ids = await _customers(2, prefix="w")
    for i, cid in enumerate(ids):
        rows = await Order.insert(Order(number=f"SW-{i}", customer=cid, email=f"w{i}@example.com",
                                        email_key=f"w{i}@example.com", status="delivered", total=Decimal("10"),
                                        currency="TRY", placed_at=now() - timedelta(days=60))).returning(Order.id)
        # Both were delivered long ago (outside the window); the first again four days ago.
        ages = (40, 4) if i == 0 else (40,)
        for age in ages:
            await OrderEvent.insert(OrderEvent(order=rows[0]["id"], kind="status", status="delivered",
                                               created_at=now() - timedelta(days=age)))
    assert await campaigns.delivery_surveys(now()) == 1
    assert [m["template"] for m in await outbox_to("w0@example.com")] == ["survey-invite"]
    assert await outbox_to("w1@example.com") == []
