"""/staff/mail: the mail log, one mail, its HTML body in a sandbox, and "send again"."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

from portal.mail import service as outbox
from portal.mail.tables import Outbox
from tests.conftest import login, staff_login

T0 = datetime(2025, 6, 2, 9, 0, tzinfo=UTC)  # in the past: "send again" makes a mail due now
SCRIPT = '<script>alert("x")</script>'


async def add_mail(to: str = "ayse@example.com", *, name: str = "Ayşe Yılmaz", status: str = "queued",
                   minutes: int = 0, html: str = "<p>Merhaba</p>", subject: str = "Hoş geldiniz") -> int:
    at = T0 + timedelta(minutes=minutes)
    row = Outbox(template="verify-email", to_addr=to, to_name=name, subject=subject, body_text="Merhaba Ayşe",
                 body_html=html, message_id=f"<m{minutes}.{to.split('@')[0]}@localhost>",
                 headers={"Reply-To": "t-1@localhost"}, created_at=at, run_after=at)
    if status == "sent":
        row.sent_at, row.attempts = at + timedelta(seconds=5), 1
    elif status == "failed":
        row.failed_at, row.attempts, row.last_error = at, 1, "550 5.1.1 No such user"
    await row.save()
    return row.id


def ids_in(html: str) -> list[int]:
    return [int(m) for m in re.findall(r'href="/staff/mail/(\d+)"', html)]


async def test_agent_sees_the_log_newest_first(client, carol):
    first = await add_mail("a@example.com", minutes=1, status="sent")
    second = await add_mail("b@example.com", minutes=2, status="failed")
    third = await add_mail("c@example.com", minutes=3)
    await staff_login(client, carol)
    response = await client.get("/staff/mail")
    assert response.status_code == 200
    assert ids_in(response.text) == [third, second, first]
    assert "Ayşe Yılmaz" in response.text and "a@example.com" in response.text
    assert 'href="/staff/mail" aria-current="page"' in response.text  # the nav link


async def test_filter_by_status(client, carol):
    sent = await add_mail("a@example.com", status="sent")
    failed = await add_mail("b@example.com", status="failed", minutes=1)
    queued = await add_mail("c@example.com", minutes=2)
    await staff_login(client, carol)
    for status, expected in (("sent", [sent]), ("failed", [failed]), ("queued", [queued]),
                             ("", [queued, failed, sent]), ("bogus", [queued, failed, sent])):
        response = await client.get("/staff/mail", params={"status": status})
        assert response.status_code == 200
        assert ids_in(response.text) == expected, status


async def test_filter_by_recipient_exact_address_or_part(client, carol):
    ayse = await add_mail("ayse@example.com")
    await add_mail("mehmet@example.com", name="Mehmet Öz", minutes=1)
    await staff_login(client, carol)
    assert ids_in((await client.get("/staff/mail", params={"to": "ayse@example.com"})).text) == [ayse]
    assert ids_in((await client.get("/staff/mail", params={"to": "AYSE"})).text) == [ayse]
    assert ids_in((await client.get("/staff/mail", params={"to": "nobody@example.com"})).text) == []
    # LIKE wildcards in the search are plain text, not "match everything".
    assert ids_in((await client.get("/staff/mail", params={"to": "%"})).text) == []


async def test_keyset_pagination(client, carol):
    ids = [await add_mail(f"user{i}@example.com", minutes=i) for i in range(55)]
    await staff_login(client, carol)
    page1 = await client.get("/staff/mail")
    assert ids_in(page1.text) == ids[::-1][:50]
    match = re.search(r'href="/staff/mail\?([^"]*before=(\d+)[^"]*)" rel="next"', page1.text)
    assert match and int(match.group(2)) == ids[5]
    page2 = await client.get(f"/staff/mail?{match.group(1).replace('&amp;', '&')}")
    assert ids_in(page2.text) == ids[4::-1]
    assert 'rel="next"' not in page2.text
    assert (await client.get("/staff/mail?before=abc")).status_code == 400


async def test_htmx_filter_gets_only_the_results_block(client, carol):
    await add_mail()
    await staff_login(client, carol)
    response = await client.get("/staff/mail", params={"status": "queued"}, headers={"HX-Request": "true"})
    assert response.status_code == 200
    assert response.text.lstrip().startswith('<section id="mail-results">')
    assert "<html" not in response.text


async def test_detail_shows_headers_and_text_but_never_inlines_the_html(client, carol):
    mail_id = await add_mail(html=f"<p>Merhaba</p>{SCRIPT}<img src=x onerror=alert(1)>")
    await staff_login(client, carol)
    response = await client.get(f"/staff/mail/{mail_id}")
    assert response.status_code == 200
    page = response.text
    assert "<script>alert" not in page and "onerror=alert" not in page
    assert "Merhaba Ayşe" in page  # the text body
    assert "Ayşe Yılmaz &lt;ayse@example.com&gt;" in page  # To, decoded for reading
    assert "&lt;m0.ayse@localhost&gt;" in page  # Message-ID
    assert "t-1@localhost" in page  # an extra header
    iframe = re.search(r"<iframe[^>]*>", page).group(0)
    assert " sandbox " in iframe and f'src="/staff/mail/{mail_id}/html"' in iframe
    assert "allow-scripts" not in iframe and "allow-same-origin" not in iframe


async def test_html_body_is_served_alone_under_a_locked_down_policy(client, carol):
    mail_id = await add_mail(html=f"<p>Merhaba</p>{SCRIPT}")
    await staff_login(client, carol)
    response = await client.get(f"/staff/mail/{mail_id}/html")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    csp = response.headers["content-security-policy"]
    assert "default-src 'none'" in csp and "sandbox" in csp and "frame-ancestors 'self'" in csp
    assert "script-src" not in csp
    assert response.headers["x-frame-options"] == "SAMEORIGIN"
    assert response.headers["cache-control"] == "no-store"
    assert response.text == f"<p>Merhaba</p>{SCRIPT}"  # as sent; the policy keeps it inert
    # Every other staff page keeps the strict default.
    assert "frame-ancestors 'none'" in (await client.get(f"/staff/mail/{mail_id}")).headers[
        "content-security-policy"]


async def test_unknown_mail_is_404(client, carol):
    await staff_login(client, carol)
    assert (await client.get("/staff/mail/999999")).status_code == 404
    assert (await client.get("/staff/mail/999999/html")).status_code == 404


async def test_anonymous_and_customers_are_sent_to_the_staff_login(client, alice):
    mail_id = await add_mail()
    for url in ("/staff/mail", f"/staff/mail/{mail_id}", f"/staff/mail/{mail_id}/html"):
        response = await client.get(url)
        assert response.status_code == 303 and response.headers["location"].startswith("/staff/login"), url
    await login(client, alice)
    for url in ("/staff/mail", f"/staff/mail/{mail_id}", f"/staff/mail/{mail_id}/html"):
        response = await client.get(url)
        assert response.status_code == 303 and response.headers["location"].startswith("/staff/login"), url
    response = await client.post_form(f"/staff/mail/{mail_id}/requeue")
    assert response.status_code == 303 and response.headers["location"].startswith("/staff/login")


async def test_lead_sends_a_failed_mail_again(client, erin):
    mail_id = await add_mail(status="failed")
    await staff_login(client, erin)
    page = await client.get(f"/staff/mail/{mail_id}")
    assert f'action="/staff/mail/{mail_id}/requeue"' in page.text
    response = await client.post_form(f"/staff/mail/{mail_id}/requeue")
    assert response.status_code == 303 and response.headers["location"] == f"/staff/mail/{mail_id}"
    row = await Outbox.select().where(Outbox.id == mail_id).first()
    assert row["failed_at"] is None and row["sent_at"] is None and row["attempts"] == 0
    assert row["run_after"] > T0
    after = await client.get(f"/staff/mail/{mail_id}")
    assert 'class="notice notice-success"' in after.text
    assert f'action="/staff/mail/{mail_id}/requeue"' not in after.text  # queued now: no button


async def test_requeue_with_htmx_swaps_the_status_block(client, erin):
    mail_id = await add_mail(status="failed")
    await staff_login(client, erin)
    response = await client.post_form(f"/staff/mail/{mail_id}/requeue", htmx=True)
    assert response.status_code == 200
    assert response.text.lstrip().startswith('<section id="mail-status">')
    assert "notice-success" in response.text


async def test_only_failed_mail_can_be_sent_again(client, erin):
    sent = await add_mail(status="sent")
    queued = await add_mail(minutes=1)
    await staff_login(client, erin)
    for mail_id in (sent, queued):
        response = await client.post_form(f"/staff/mail/{mail_id}/requeue")
        assert response.status_code == 303
        assert 'class="notice notice-error"' in (await client.get(f"/staff/mail/{mail_id}")).text
    assert (await Outbox.select(Outbox.sent_at).where(Outbox.id == sent).first())["sent_at"] is not None
    assert (await client.post_form("/staff/mail/999999/requeue")).status_code == 404


async def test_agents_cannot_send_again(client, carol):
    mail_id = await add_mail(status="failed")
    await staff_login(client, carol)
    page = await client.get(f"/staff/mail/{mail_id}")
    assert "/requeue" not in page.text
    response = await client.post_form(f"/staff/mail/{mail_id}/requeue")
    assert response.status_code == 403
    row = await Outbox.select(Outbox.failed_at).where(Outbox.id == mail_id).first()
    assert row["failed_at"] is not None


async def test_requeue_needs_the_csrf_token(client, erin):
    mail_id = await add_mail(status="failed")
    await staff_login(client, erin)
    response = await client.post(f"/staff/mail/{mail_id}/requeue", data={})
    assert response.status_code == 403
    row = await Outbox.select(Outbox.failed_at).where(Outbox.id == mail_id).first()
    assert row["failed_at"] is not None


async def test_mail_queued_by_the_app_shows_in_the_log(client, carol, alice):
    await outbox.enqueue("verify-email", to="yeni@example.com", name="Yeni Kişi", locale="en",
                         context={"token": "tok", "hours": 24}, now=T0)
    await staff_login(client, carol)
    response = await client.get("/staff/mail", params={"to": "yeni@example.com"})
    assert "Yeni Kişi" in response.text and len(ids_in(response.text)) == 1
