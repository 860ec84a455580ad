"""Request forms from the outside: the hosted page, the iframe page and the public JSON API.

Tokens are issued "ten seconds ago" with the app's own secret (a post must come at least three
seconds after its token), so no test waits."""

from __future__ import annotations

from datetime import timedelta

import pytest

from portal.clock import now
from portal.forms import service, tokens
from portal.forms.demo import CONTACT, RETURN_REQUEST
from portal.forms.fields import parse_definition
from portal.forms.tables import Deflection, Submission
from portal.tickets.tables import Ticket
from tests.conftest import SECRET, outbox_to

HOST = "http://localhost:5173"


async def _team(slug: str = "destek") -> int:
    from portal.accounts.service import ensure_team

    return (await ensure_team(slug))["id"]


async def make_form(slug: str = "contact", fields=None, **changes) -> service.FormView:
    data = service.FormInput(
        slug=slug, name_tr="İletişim", name_en="Contact", fields=parse_definition({"fields": fields or CONTACT}),
        team_id=await _team(), priority="high", tags=["iletisim"], ticket_type="question",
        success_tr="Teşekkürler!", success_en="Thanks!", origins=["http://localhost:*", "http://127.0.0.1:*"])
    for key, value in changes.items():
        setattr(data, key, value)
    form_id = await service.create_form(data, now=now())
    return await service.form_by_id(form_id)


def old_token(form: service.FormView, seconds: int = 10) -> str:
    return tokens.issue(SECRET, form.id, now=now() - timedelta(seconds=seconds))


GOOD = {"name": "Ayşe Yılmaz", "email": "ayse@example.com", "subject": "Kargom gelmedi",
        "message": "Siparişim bir haftadır yolda görünüyor."}


@pytest.fixture
async def contact(client):
    return await make_form()


# --- the hosted page -------------------------------------------------------------------------------

async def test_the_hosted_page_shows_the_form_in_the_visitors_language(client, contact):
    page = await client.get("/f/contact")
    assert page.status_code == 200
    assert 'name="token"' in page.text and 'name="website"' in page.text
    assert "Adınız soyadınız" in page.text
    english = await client.get("/f/contact?lang=en")
    assert "Your name" in english.text
    assert "frame-ancestors 'none'" in page.headers["content-security-policy"]


async def test_a_page_post_opens_a_routed_ticket_and_mails_the_guest_link(client, contact):
    response = await client.post("/f/contact", data={**GOOD, "token": old_token(contact),
                                                     "page_url": "https://shop.example/iletisim"})
    assert response.status_code == 201, response.text
    ticket = await Ticket.select().first()
    ref = f"T-{ticket['number']}"
    assert ref in response.text
    assert ticket["channel"] == "form" and ticket["form_slug"] == "contact"
    assert ticket["priority"] == "high" and ticket["team"] == contact.team_id
    assert ticket["subject"] == "Kargom gelmedi"
    mails = await outbox_to("ayse@example.com")
    assert len(mails) == 1 and "/t/" in mails[0]["body_text"]
    sub = await Submission.select().first()
    assert sub["ticket"] == ticket["id"] and sub["form_version"] == 1
    assert sub["page_url"] == "https://shop.example/iletisim" and len(sub["client_hash"]) == 64


async def test_page_errors_are_inline_per_field(client, contact):
    response = await client.post("/f/contact?lang=en", data={"name": "", "email": "nope", "subject": "Hi",
                                                           "message": "short", "token": old_token(contact),
                                                           "lang": "en"})
    assert response.status_code == 422
    assert 'id="ff-email-error"' in response.text and "valid e-mail address" in response.text
    assert 'id="ff-name" name="name"' in response.text
    assert 'aria-invalid="true"' in response.text
    assert await Ticket.count() == 0
    htmx = await client.post("/f/contact", data={"email": "nope", "token": old_token(contact), "lang": "tr"},
                             headers={"HX-Request": "true"})
    assert htmx.status_code == 422 and "<html" not in htmx.text and 'id="form-area"' in htmx.text
    assert "geçerli bir e-posta" in htmx.text.lower()


async def test_an_archived_or_unknown_form_is_404(client, contact):
    await service.set_archived(contact.id, True, now=now())
    for path in ("/f/contact", "/f/contact/embed", "/api/v1/forms/contact", "/f/nope"):
        assert (await client.get(path)).status_code == 404, path
    posted = await client.post("/api/v1/forms/contact/submissions", json={**GOOD, "token": old_token(contact)})
    assert posted.status_code == 404 and posted.json()["error"]["code"] == "not_found"


# --- spam -------------------------------------------------------------------------------------------

async def test_honeypot_and_too_fast_posts_look_fine_and_create_nothing(client, contact):
    bot = await client.post("/api/v1/forms/contact/submissions",
                            json={**GOOD, "website": "http://spam.example", "token": old_token(contact)})
    assert bot.status_code == 201 and bot.json()["reference"].startswith("T-")
    page_bot = await client.post("/f/contact", data={**GOOD, "website": "x", "token": old_token(contact)})
    assert page_bot.status_code == 201
    fast_page = await client.post("/f/contact", data={**GOOD, "token": tokens.issue(SECRET, contact.id, now=now())})
    assert fast_page.status_code == 201
    assert await Ticket.count() == 0 and await Submission.count() == 0
    assert await outbox_to("ayse@example.com") == []


async def test_a_forged_expired_or_foreign_token_is_refused(client, contact):
    other = await make_form("other")
    for token in ("", "abc.def", tokens.issue("another-secret-key-0123456789012345", contact.id, now=now()),
                  old_token(other), old_token(contact, seconds=tokens.MAX_AGE + 60)):
        response = await client.post("/api/v1/forms/contact/submissions", json={**GOOD, "token": token})
        assert response.status_code == 400, token
        assert response.json()["error"]["code"] == "bad_token"
    assert await Ticket.count() == 0


async def test_a_double_click_gives_one_ticket_and_a_replay_creates_nothing(client, contact):
    token = old_token(contact)
    first = await client.post("/api/v1/forms/contact/submissions", json={**GOOD, "token": token})
    second = await client.post("/api/v1/forms/contact/submissions", json={**GOOD, "token": token})
    assert first.status_code == 201 and second.status_code == 200
    assert first.json()["reference"] == second.json()["reference"]
    changed = await client.post("/api/v1/forms/contact/submissions",
                                json={**GOOD, "subject": "Başka bir şey", "token": token})
    assert changed.status_code == 409 and changed.json()["error"]["code"] == "token_used"
    assert await Ticket.count() == 1
    assert len(await outbox_to("ayse@example.com")) == 1


async def test_two_posts_of_one_token_at_once_make_one_ticket(client, other_client, contact):
    import asyncio

    from portal.tickets import signals

    heard: list[str] = []
    remove = signals.subscribe(lambda payload: heard.append(payload["ref"]))
    token = old_token(contact)
    try:
        first, second = await asyncio.gather(
            client.post("/api/v1/forms/contact/submissions", json={**GOOD, "token": token}),
            other_client.post("/api/v1/forms/contact/submissions", json={**GOOD, "token": token}))
    finally:
        remove()
    assert {first.status_code, second.status_code} == {200, 201}
    assert first.json()["reference"] == second.json()["reference"]
    assert await Ticket.count() == 1 and await Submission.count() == 1
    assert len(await outbox_to("ayse@example.com")) == 1
    # the live pages hear of the one ticket only, never of the post that rolled back
    assert heard == [first.json()["reference"]]


async def test_flooding_from_one_address_and_onto_one_form_is_429(client):
    form = await make_form(per_address_limit=3, per_form_limit=1000)
    codes = []
    for _n in range(5):
        r = await client.post("/api/v1/forms/contact/submissions", json={**GOOD, "token": old_token(form)})
        codes.append(r.status_code)
    assert codes == [201, 201, 201, 429, 429]
    assert await Ticket.count() == 3
    limited = await client.post("/api/v1/forms/contact/submissions", json={**GOOD, "token": old_token(form)})
    assert limited.headers["retry-after"].isdigit() and limited.json()["error"]["code"] == "rate_limited"
    other = await make_form("busy", per_address_limit=100, per_form_limit=2)
    codes = [(await client.post("/api/v1/forms/busy/submissions",
                                json={**GOOD, "token": old_token(other)})).status_code for _n in range(3)]
    assert codes == [201, 201, 429]


# --- the JSON API --------------------------------------------------------------------------------

async def test_the_api_describes_the_form_with_a_token(client, contact):
    body = (await client.get("/api/v1/forms/contact?lang=en")).json()
    assert body["name"] == "Contact" and body["lang"] == "en"
    assert [f["key"] for f in body["fields"]] == ["name", "email", "subject", "message"]
    assert body["fields"][0]["label"] == "Your name" and body["fields"][2]["min_length"] == 3
    assert tokens.check(SECRET, body["token"], contact.id, now=now() + timedelta(seconds=5)).form_id == contact.id
    tr = (await client.get("/api/v1/forms/contact?lang=tr")).json()
    assert tr["fields"][0]["label"] == "Adınız soyadınız"


async def test_api_errors_name_each_field_in_the_visitors_language(client, contact):
    bad = {"name": "", "email": "x@", "subject": "a", "message": "kısa", "token": old_token(contact)}
    en = await client.post("/api/v1/forms/contact/submissions", json={**bad, "lang": "en"})
    assert en.status_code == 422
    error = en.json()["error"]
    assert error["code"] == "validation_error"
    assert set(error["fields"]) == {"name", "email", "subject", "message"}
    assert error["fields"]["name"] == "This field is required."
    tr = await client.post("/api/v1/forms/contact/submissions", json={**bad, "lang": "tr"})
    assert tr.json()["error"]["fields"]["name"] == "Bu alan zorunludur."
    unknown = await client.post("/api/v1/forms/contact/submissions", json={**GOOD, "token": old_token(contact),
                                                                           "admin": True})
    assert unknown.status_code == 422 and "admin" in unknown.json()["error"]["fields"]
    assert await Ticket.count() == 0


async def test_cors_only_for_allowed_origins_including_preflight(client, contact):
    pre = await client.options("/api/v1/forms/contact/submissions",
                               headers={"Origin": HOST, "Access-Control-Request-Method": "POST",
                                        "Access-Control-Request-Headers": "content-type"})
    assert pre.status_code == 204
    assert pre.headers["access-control-allow-origin"] == HOST
    assert "POST" in pre.headers["access-control-allow-methods"]
    assert "content-type" in pre.headers["access-control-allow-headers"]
    refused = await client.options("/api/v1/forms/contact/submissions",
                                   headers={"Origin": "https://evil.example", "Access-Control-Request-Method": "POST"})
    assert refused.status_code == 403 and "access-control-allow-origin" not in refused.headers
    got = await client.get("/api/v1/forms/contact", headers={"Origin": HOST})
    assert got.headers["access-control-allow-origin"] == HOST
    got = await client.get("/api/v1/forms/contact", headers={"Origin": "https://evil.example"})
    assert "access-control-allow-origin" not in got.headers
    ok = await client.post("/api/v1/forms/contact/submissions", json={**GOOD, "token": old_token(contact)},
                           headers={"Origin": HOST})
    assert ok.status_code == 201 and ok.headers["access-control-allow-origin"] == HOST
    evil = await client.post("/api/v1/forms/contact/submissions", json={**GOOD, "token": old_token(contact)},
                             headers={"Origin": "https://evil.example"})
    assert evil.status_code == 403 and "access-control-allow-origin" not in evil.headers
    assert await Ticket.count() == 1


async def test_the_api_needs_no_csrf_cookie_or_session(client, contact):
    """A cross-site iframe has neither: the token is the protection."""
    client.cookies.clear()
    response = await client.post("/api/v1/forms/contact/submissions", json={**GOOD, "token": old_token(contact)})
    assert response.status_code == 201
    page = await client.post("/f/contact/embed", data={**GOOD, "token": old_token(contact)})
    assert page.status_code == 201
    assert "set-cookie" not in page.headers or "portal_session" not in page.headers["set-cookie"]


async def test_other_posts_still_need_the_csrf_token(client, contact):
    response = await client.post("/kb/suggest/answered", data={"article": "1"})
    assert response.status_code == 403


# --- the iframe page -------------------------------------------------------------------------------

async def test_the_embed_page_may_be_framed_by_exactly_the_allowed_origins(client, contact):
    page = await client.get(f"/f/contact/embed?origin={HOST}&theme=%23aa3300&email=ali@example.com")
    assert page.status_code == 200
    csp = page.headers["content-security-policy"]
    assert "frame-ancestors http://localhost:* http://127.0.0.1:*" in csp
    assert "script-src 'self'" in csp and "default-src 'self'" in csp
    assert "x-frame-options" not in page.headers
    assert f'data-parent-origin="{HOST}"' in page.text and 'data-theme-color="#aa3300"' in page.text
    assert 'value="ali@example.com"' in page.text  # prefilled
    assert "site-header" not in page.text
    stranger = await client.get("/f/contact/embed?origin=https://evil.example")
    assert 'data-parent-origin=""' in stranger.text
    closed = await make_form("closed", origins=[])
    assert "frame-ancestors 'none'" in (await client.get("/f/closed/embed")).headers["content-security-policy"]
    assert closed.origins == []
    others = await client.get("/kb")
    assert others.headers["x-frame-options"] == "DENY"


async def test_embed_js_is_small_cached_and_public(client):
    script = await client.get("/embed.js")
    assert script.status_code == 200 and "javascript" in script.headers["content-type"]
    assert len(script.content) < 5 * 1024
    assert "max-age" in script.headers["cache-control"]
    assert "portal-form:height" in script.text and "console.error" in script.text


# --- fields of every kind, files, consent, orders ---------------------------------------------------

async def test_a_return_request_links_the_requesters_order_and_keeps_the_photo(client):
    from portal.accounts.service import find_or_create_customer
    from portal.orders.tables import Order
    from portal.tickets.tables import Attachment

    form = await make_form("return-request", fields=RETURN_REQUEST)
    customer = await find_or_create_customer("ayse@example.com", name="Ayşe", now=now())
    await Order.insert(Order(number="SP-10042", customer=customer["id"], email="ayse@example.com",
                             email_key="ayse@example.com", status="delivered", total="10", placed_at=now(),
                             created_at=now(), updated_at=now()))
    png = b"\x89PNG\r\n\x1a\n" + b"0" * 64
    response = await client.post("/f/return-request", data={
        "name": "Ayşe", "email": "ayse@example.com", "phone": "0532 123 45 67", "order_number": "sp-10042",
        "reason": "damaged", "message": "Kutu ezik geldi", "token": old_token(form)},
        files={"photo": ("kutu.png", png, "image/png")})
    assert response.status_code == 201, response.text
    ticket = await Ticket.select().first()
    order = await Order.select(Order.id).first()
    assert ticket["order"] == order["id"]
    assert await Attachment.count() == 1
    from portal.tickets.tables import Message

    body = (await Message.select(Message.body).first())["body"]
    assert "Ürün hasarlı geldi" in body and "SP-10042" in body
    bad = await client.post("/f/return-request", data={
        "name": "Ayşe", "email": "ayse@example.com", "order_number": "SP-1", "reason": "damaged",
        "token": old_token(form)}, files={"photo": ("x.exe", b"MZ....", "application/octet-stream")})
    assert bad.status_code == 422 and 'id="ff-photo-error"' in bad.text


async def test_the_consent_version_seen_is_kept(client):
    form = await make_form(consent_enabled=True, consent_tr="KVKK metni v1", consent_en="KVKK text v1")
    missing = await client.post("/api/v1/forms/contact/submissions", json={**GOOD, "token": old_token(form)})
    assert missing.status_code == 422 and "consent" in missing.json()["error"]["fields"]
    given = await client.post("/api/v1/forms/contact/submissions",
                              json={**GOOD, "consent": True, "token": old_token(form)})
    assert given.status_code == 201
    assert (await Submission.select(Submission.consent_version).first())["consent_version"] == 1
    data = service.FormInput(slug="contact", name_tr="İletişim", name_en="Contact", fields=form.fields,
                             consent_enabled=True, consent_tr="KVKK metni v2", consent_en="KVKK text v2",
                             origins=form.origins)
    updated = await service.update_form(form.id, data, now=now())
    assert updated.consent_version == 2 and updated.version == 1
    assert (await service.consent_text(form.id, 1))["text_tr"] == "KVKK metni v1"


async def test_every_field_type_through_the_api(client):
    fields = [
        {"key": "email", "type": "email", "label": {"tr": "E-posta", "en": "E-mail"}, "required": True},
        {"key": "phone", "type": "phone", "label": {"tr": "Telefon", "en": "Phone"}, "required": True},
        {"key": "kind", "type": "choice", "label": {"tr": "Tür", "en": "Kind"}, "required": True,
         "options": [{"value": "a", "label": {"tr": "A", "en": "A"}}]},
        {"key": "topics", "type": "multi_choice", "label": {"tr": "Konular", "en": "Topics"}, "required": True,
         "options": [{"value": "x", "label": {"tr": "X", "en": "X"}}, {"value": "y", "label": {"tr": "Y"}}]},
        {"key": "agree", "type": "checkbox", "label": {"tr": "Onay", "en": "Agree"}, "required": True},
        {"key": "count", "type": "number", "label": {"tr": "Adet", "en": "Count"}, "min": "1", "max": "5"},
        {"key": "day", "type": "date", "label": {"tr": "Tarih", "en": "Day"}, "required": True},
        {"key": "order", "type": "order_number", "label": {"tr": "Sipariş", "en": "Order"}},
        {"key": "notes", "type": "textarea", "label": {"tr": "Not", "en": "Notes"}, "max_length": 10},
        {"key": "code", "type": "text", "label": {"tr": "Kod", "en": "Code"}, "pattern": "[0-9]{4}"},
    ]
    form = await make_form("every", fields=fields)
    bad = {"email": "x", "phone": "12", "kind": "z", "topics": ["q"], "agree": False, "count": 9, "day": "31.02.2026",
           "order": "<>", "notes": "x" * 11, "code": "12a4", "token": old_token(form), "lang": "en"}
    response = await client.post("/api/v1/forms/every/submissions", json=bad)
    assert response.status_code == 422
    assert set(response.json()["error"]["fields"]) == {f["key"] for f in fields}
    good = {"email": "a@example.com", "phone": "+90 532 123 45 67", "kind": "a", "topics": ["x", "y"], "agree": True,
            "count": 2, "day": "2026-11-22", "order": "sp-1", "notes": "ok", "code": "1234",
            "token": old_token(form)}
    response = await client.post("/api/v1/forms/every/submissions", json=good)
    assert response.status_code == 201, response.text
    from portal.accounts.tables import Customer

    assert (await Customer.select(Customer.phone).first())["phone"] == "+905321234567"


# --- deflection ------------------------------------------------------------------------------------

async def test_suggestions_and_answered_are_counted_per_form(client, contact):
    from portal.kb import service as kb
    from portal.kb.service import ArticleInput

    article_id = await _article(kb, ArticleInput)
    hint = await client.get("/f/contact/suggest", params={"subject": "kargo takip", "lang": "tr"})
    assert hint.status_code == 200 and "/kb/articles/kargo-takibi" in hint.text
    assert "/f/contact/answered" in hint.text
    token = old_token(contact)
    for _n in range(2):  # the same visitor clicking twice counts once
        answered = await client.post("/f/contact/answered", data={"article": str(article_id), "token": token})
        assert answered.status_code == 200
    assert await Deflection.count() == 1
    refused = await client.post("/f/contact/answered", data={"article": str(article_id), "token": "forged"})
    assert refused.status_code == 400
    rows = await service.deflection_report(now=now())
    row = next(r for r in rows if r.slug == "contact")
    assert row.deflected == 1 and row.submissions == 0 and row.rate == 1.0


async def _article(kb, ArticleInput) -> int:
    article_id = await kb.save_article(None, ArticleInput(
        lang="tr", slug="kargo-takibi", title="Kargo takibi", summary="Kargonuzu izleyin",
        body_markdown="Kargo takip numaranız ile kargonuzu izleyebilirsiniz."), author=None, now=now())
    await kb.set_status(article_id, "published", now=now())
    return article_id


# --- proof of work (ALTCHA) ---------------------------------------------------------------------

def _solve(challenge: dict) -> str:
    import base64
    import json

    import altcha

    solution = altcha.solve_challenge_v1(challenge["challenge"], salt=challenge["salt"],
                                         max_number=challenge["maxnumber"])
    return base64.b64encode(json.dumps({
        "algorithm": challenge["algorithm"], "challenge": challenge["challenge"], "number": solution.number,
        "salt": challenge["salt"], "signature": challenge["signature"]}).encode()).decode()


async def test_a_form_with_proof_of_work_needs_the_solved_challenge_of_its_token(client):
    import html
    import re

    from portal.forms import altcha as pow_

    form = await make_form(altcha=True)
    described = (await client.get("/api/v1/forms/contact")).json()
    challenge, token = described["altcha"], described["token"]
    assert challenge["maxnumber"] == pow_.MAX_NUMBER
    # The API client waits like a person would; here the token is re-issued ten seconds back
    # with the same nonce, which is what the challenge is bound to.
    read = tokens.read(SECRET, token)
    from itsdangerous import URLSafeSerializer

    aged = URLSafeSerializer(SECRET, salt=tokens.SALT).dumps({"f": form.id, "n": read.nonce,
                                                             "t": read.issued_at - 10})
    missing = await client.post("/api/v1/forms/contact/submissions", json={**GOOD, "token": aged, "lang": "en"})
    assert missing.status_code == 422 and "altcha" in missing.json()["error"]["fields"]
    other = (await client.get("/api/v1/forms/contact")).json()["altcha"]  # bound to another token
    wrong = await client.post("/api/v1/forms/contact/submissions",
                              json={**GOOD, "token": aged, "altcha": _solve(other)})
    assert wrong.status_code == 422
    assert await Ticket.count() == 0
    ok = await client.post("/api/v1/forms/contact/submissions",
                           json={**GOOD, "token": aged, "altcha": _solve(challenge)})
    assert ok.status_code == 201, ok.text
    page = await client.get("/f/contact")
    found = re.search(r'data-altcha="([^"]+)"', page.text)
    assert found and json_loads(html.unescape(found.group(1)))["salt"]
    assert 'name="altcha"' in page.text and "<noscript>" in page.text


def json_loads(text: str) -> dict:
    import json

    return json.loads(text)


# --- security review fixes --------------------------------------------------------------------------

async def test_a_json_client_posting_too_soon_is_told_to_wait(client, contact):
    """A real API client must not get a fake success for a post inside the first seconds."""
    fast = await client.post("/api/v1/forms/contact/submissions",
                             json={**GOOD, "token": tokens.issue(SECRET, contact.id, now=now()), "lang": "en"})
    assert fast.status_code == 425 and fast.json()["error"]["code"] == "too_fast"
    assert 1 <= int(fast.headers["retry-after"]) <= tokens.MIN_SECONDS
    bot = await client.post("/api/v1/forms/contact/submissions",
                            json={**GOOD, "website": "x", "token": tokens.issue(SECRET, contact.id, now=now())})
    assert bot.status_code == 201  # a bot filling the honeypot still gets the decoy
    assert await Ticket.count() == 0


async def test_a_huge_number_is_a_field_error_not_a_500(client):
    fields = [*CONTACT, {"key": "count", "type": "number", "label": {"tr": "Adet", "en": "Count"}}]
    form = await make_form("numbers", fields=fields)
    for raw in ("1e5000", "1e600000", "9" * 50):
        response = await client.post("/api/v1/forms/numbers/submissions",
                                     json={**GOOD, "count": raw, "token": old_token(form)})
        assert response.status_code == 422, raw
        assert set(response.json()["error"]["fields"]) == {"count"}
    assert await Ticket.count() == 0


async def test_bounds_typed_the_turkish_way_do_not_break_submissions(client):
    fields = [*CONTACT, {"key": "day", "type": "date", "label": {"tr": "Tarih", "en": "Day"}, "min": "01.01.2026"},
              {"key": "count", "type": "number", "label": {"tr": "Adet", "en": "Count"}, "max": "2,5"}]
    form = await make_form("bounds", fields=fields)
    ok = await client.post("/api/v1/forms/bounds/submissions",
                           json={**GOOD, "day": "02.01.2026", "count": "2", "token": old_token(form)})
    assert ok.status_code == 201, ok.text
    bad = await client.post("/api/v1/forms/bounds/submissions",
                            json={**GOOD, "day": "2025-12-31", "count": "3", "token": old_token(form)})
    assert bad.status_code == 422 and set(bad.json()["error"]["fields"]) == {"day", "count"}


async def test_deeply_nested_json_is_bad_json(client, contact):
    body = "[" * 100_000 + "]" * 100_000
    response = await client.post("/api/v1/forms/contact/submissions", content=body,
                                 headers={"content-type": "application/json"})
    assert response.status_code == 400 and response.json()["error"]["code"] == "bad_json"


async def test_a_malformed_altcha_payload_is_a_field_error(client):
    import base64
    import json

    form = await make_form(altcha=True)
    payload = base64.b64encode(json.dumps({"algorithm": "SHA-256", "challenge": "x", "number": 1, "salt": 5,
                                           "signature": "s"}).encode()).decode()
    response = await client.post("/api/v1/forms/contact/submissions",
                                 json={**GOOD, "altcha": payload, "token": old_token(form)})
    assert response.status_code == 422 and "altcha" in response.json()["error"]["fields"]


async def test_posts_from_another_site_to_the_pages_are_refused(client, contact):
    token = old_token(contact)
    for path in ("/f/contact", "/f/contact/embed"):
        evil = await client.post(path, data={**GOOD, "token": token}, headers={"Origin": "https://evil.example"})
        assert evil.status_code == 403, path
        framing = await client.post(path, data={**GOOD, "token": token}, headers={"Origin": HOST})
        assert framing.status_code == 403, path  # the iframe posts from the portal's own origin
    answered = await client.post("/f/contact/answered", data={"article": "1", "token": token},
                                 headers={"Origin": "https://evil.example"})
    assert answered.status_code == 403
    assert await Ticket.count() == 0
    own = await client.post("/f/contact/embed", data={**GOOD, "token": token}, headers={"Origin": "http://portal.test"})
    assert own.status_code == 201


async def test_a_form_mails_one_address_at_most_five_times_a_day(client, other_client):
    form = await make_form(per_address_limit=100)
    codes = []
    for n in range(6):
        c = client if n % 2 else other_client
        r = await c.post("/api/v1/forms/contact/submissions", json={**GOOD, "token": old_token(form)})
        codes.append(r.status_code)
    assert codes == [201] * 5 + [429]
    limited = await client.post("/f/contact", data={**GOOD, "email": "AYSE@example.com", "token": old_token(form)})
    assert limited.status_code == 429 and limited.headers["retry-after"].isdigit()
    assert len(await outbox_to("ayse@example.com")) == 5
    other = await client.post("/api/v1/forms/contact/submissions",
                              json={**GOOD, "email": "mehmet@example.com", "token": old_token(form)})
    assert other.status_code == 201


async def test_the_confirmation_of_a_form_does_not_quote_what_the_visitor_typed(client, contact):
    response = await client.post("/api/v1/forms/contact/submissions", json={
        **GOOD, "name": "Ödül kazandınız http://evil.example", "message": "Şifrenizi http://evil.example adresinde "
        "yenileyin", "token": old_token(contact)})
    assert response.status_code == 201
    [mail] = await outbox_to("ayse@example.com")
    assert "evil.example" not in mail["body_text"] and "evil.example" not in mail["body_html"]
    assert mail["to_name"] == ""
    assert "/t/" in mail["body_text"] and "Kargom gelmedi" in mail["subject"]
    assert response.json()["reference"] in mail["subject"]


async def test_ipv6_clients_are_limited_by_their_slash_64(running_app):
    import httpx

    form = await make_form(per_address_limit=2, per_form_limit=1000)
    codes = []
    for n in range(3):
        transport = httpx.ASGITransport(app=running_app, client=(f"2001:db8:1:2::{n + 1:x}", 50000))
        async with httpx.AsyncClient(transport=transport, base_url="http://portal.test") as c:
            r = await c.post("/api/v1/forms/contact/submissions",
                             json={**GOOD, "email": f"kisi{n}@example.com", "token": old_token(form)})
            codes.append(r.status_code)
    assert codes == [201, 201, 429]
    transport = httpx.ASGITransport(app=running_app, client=("2001:db8:1:3::1", 50000))
    async with httpx.AsyncClient(transport=transport, base_url="http://portal.test") as c:
        r = await c.post("/api/v1/forms/contact/submissions",
                         json={**GOOD, "email": "kisi9@example.com", "token": old_token(form)})
    assert r.status_code == 201


async def test_answered_counts_only_public_articles_once_and_is_limited(client, other_client, contact):
    import asyncio

    from portal.kb import service as kb
    from portal.kb.service import ArticleInput

    article_id = await _article(kb, ArticleInput)
    draft = await kb.save_article(None, ArticleInput(lang="tr", slug="taslak", title="Taslak", summary="t",
                                                     body_markdown="taslak metin"), author=None, now=now())
    token = old_token(contact)
    for article in ("99999999999999999999", "-1", "0", "2147483648"):
        assert (await client.post("/f/contact/answered", data={"article": article, "token": token})).status_code == 400
    hidden = await client.post("/f/contact/answered", data={"article": str(draft), "token": token})
    assert hidden.status_code == 200
    assert await Deflection.count() == 0
    first, second = await asyncio.gather(
        client.post("/f/contact/answered", data={"article": str(article_id), "token": token}),
        other_client.post("/f/contact/answered", data={"article": str(article_id), "token": token}))
    assert first.status_code == second.status_code == 200
    assert await Deflection.count() == 1
    from portal.kb.tables import Article

    assert (await Article.select(Article.suggest_answered).where(Article.id == article_id).first())[
        "suggest_answered"] == 1
    from portal.forms.pages import ANSWERED_LIMIT

    codes = [(await client.post("/f/contact/answered", data={"article": str(article_id), "token": old_token(contact)})
              ).status_code for _n in range(ANSWERED_LIMIT)]
    assert codes[-1] == 429 and 200 in codes


async def test_the_deflection_insert_is_once_even_without_the_check(client, contact):
    """Two inserts that both passed every check: the unique index keeps one."""
    from portal.kb import service as kb
    from portal.kb.service import ArticleInput

    article_id = await _article(kb, ArticleInput)
    results = [await service.record_deflection(contact.id, article_id, nonce="n1", lang="tr", now=now())
               for _n in range(2)]
    assert results == [True, False]
    with pytest.raises(Exception):  # noqa: B017 - the engine's own unique violation
        await Deflection.insert(Deflection(form=contact.id, article=article_id, token_id="n1", lang="tr",
                                           created_at=now()))
    assert await Deflection.count() == 1
