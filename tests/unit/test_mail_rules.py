"""Pure rules of the mail path: header cleaning, backoff, message building, refusal codes."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from email import message_from_bytes, policy

import aiosmtplib
import pytest
from hypothesis import given
from hypothesis import strategies as st

from portal.mail.sender import _refusal, backoff, build_message
from portal.mail.service import extra_headers, one_line

T0 = datetime(2026, 11, 23, 9, 30, tzinfo=UTC)


def row(**changes) -> dict:
    base = {"to_name": "Ayşe Yılmaz", "to_addr": "ayse@example.com", "subject": "Siparişiniz yolda",
            "message_id": "<m1@example.com>", "created_at": T0, "headers": {}, "body_text": "Merhaba",
            "body_html": "<p>Merhaba</p>"}
    return {**base, **changes}


@given(st.text())
def test_one_line_never_leaves_a_line_break(text):
    cleaned = one_line(text, 500)
    assert not any(c in cleaned for c in "\r\n\x00\x0b\x0c\x85\u2028\u2029")
    assert len(cleaned) <= 500


def test_one_line_keeps_turkish_text_and_trims():
    assert one_line("  Çağrı\r\nŞükrü  ") == "Çağrı Şükrü"
    assert one_line("x" * 300) == "x" * 250


def test_extra_headers_are_cleaned_and_reserved_names_refused():
    assert extra_headers({"In-Reply-To": "<a@b>\r\nBcc: x@y"}) == {"In-Reply-To": "<a@b> Bcc: x@y"}
    assert extra_headers(None) == {}
    for name in ("From", "subject", "BCC", "Message-ID", "X Bad", "X:Y", "", "-X", "Ünlü"):
        with pytest.raises(ValueError):
            extra_headers({name: "v"})


def test_backoff_doubles_and_is_capped():
    assert [backoff(n) for n in (1, 2, 3)] == [timedelta(seconds=30), timedelta(minutes=1),
                                                timedelta(minutes=2)]
    assert backoff(0) == timedelta(seconds=30)
    assert backoff(40) == timedelta(hours=6)


def test_build_message_encodes_the_turkish_name_and_keeps_one_of_each_header():
    msg = build_message(row(headers={"Reply-To": "t-1@example.com"}), "Destek <destek@example.com>")
    raw = msg.as_bytes()
    head = raw.split(b"\r\n\r\n", 1)[0]
    assert head.isascii() and b"=?utf-8?" in head.lower()
    parsed = message_from_bytes(raw, policy=policy.default)
    assert parsed["To"] == "Ayşe Yılmaz <ayse@example.com>"
    assert parsed["Subject"] == "Siparişiniz yolda"
    assert parsed["Reply-To"] == "t-1@example.com"
    assert parsed.get_content_type() == "multipart/alternative"


@given(name=st.text(max_size=60), subject=st.text(max_size=80), value=st.text(max_size=80))
def test_build_message_never_emits_an_injected_header(name, subject, value):
    msg = build_message(row(to_name=name, subject=subject, headers={"X-Note": value}), "P <p@example.com>")
    parsed = message_from_bytes(msg.as_bytes(), policy=policy.default)
    assert [k.lower() for k in parsed.keys()].count("to") == 1
    allowed = {"from", "to", "subject", "message-id", "date", "x-note", "content-type", "mime-version",
               "content-transfer-encoding"}
    assert {k.lower() for k in parsed.keys()} <= allowed


def test_a_text_only_mail_has_one_part():
    msg = build_message(row(body_html="", to_name=""), "P <p@example.com>")
    assert msg.get_content_type() == "text/plain" and msg["To"] == "ayse@example.com"


def test_refusals_5xx_are_permanent_and_4xx_are_not():
    refused = aiosmtplib.SMTPRecipientsRefused([aiosmtplib.SMTPRecipientRefused(550, "No such user", "a@b")])
    assert _refusal(refused) == ("550 No such user <a@b>", True)
    greylisted = aiosmtplib.SMTPRecipientsRefused([aiosmtplib.SMTPRecipientRefused(450, "Later", "a@b")])
    assert _refusal(greylisted)[1] is False
    assert _refusal(aiosmtplib.SMTPDataError(554, "Spam"))[1] is True
    assert _refusal(aiosmtplib.SMTPResponseException(421, "Closing"))[1] is False
