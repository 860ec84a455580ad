"""The request forms' `portal demo` step: ``contact`` (İletişim) and ``return-request`` (İade
talebi), embeddable from ``http://localhost:*`` and ``http://127.0.0.1:*``. Upserts by slug: a
form that exists (perhaps edited by staff) is left as it is."""

from __future__ import annotations

from typing import Any

from portal.accounts.tables import Team
from portal.clock import now
from portal.forms import service
from portal.forms.fields import parse_definition
from portal.forms.tables import Form

LOCAL_ORIGINS = ["http://localhost:*", "http://127.0.0.1:*"]
CONSENT_TR = ("Kişisel verileriniz, talebinizi yanıtlamak amacıyla 6698 sayılı KVKK kapsamında işlenir ve "
              "yalnızca bu amaçla saklanır.")
CONSENT_EN = ("Your personal data is processed under the Turkish data protection law (KVKK) to answer your "
              "request and kept only for that purpose.")


def _f(key: str, kind: str, tr: str, en: str, *, required: bool = False, **rules: Any) -> dict[str, Any]:
    return {"key": key, "type": kind, "label": {"tr": tr, "en": en}, "required": required, **rules}


CONTACT = [
    _f("name", "text", "Adınız soyadınız", "Your name", required=True, max_length=120),
    _f("email", "email", "E-posta adresiniz", "Your e-mail address", required=True),
    _f("subject", "text", "Konu", "Subject", required=True, min_length=3, max_length=150),
    _f("message", "textarea", "Mesajınız", "Your message", required=True, min_length=10, max_length=5000),
]

RETURN_REQUEST = [
    _f("name", "text", "Adınız soyadınız", "Your name", required=True, max_length=120),
    _f("email", "email", "E-posta adresiniz", "Your e-mail address", required=True),
    _f("phone", "phone", "Telefon", "Phone", help={"tr": "Örnek: 0532 123 45 67", "en": "e.g. 0532 123 45 67"}),
    _f("order_number", "order_number", "Sipariş numarası", "Order number", required=True,
       help={"tr": "Sipariş onay e-postanızda yazar (SP-10042 gibi).",
             "en": "It is in your order confirmation e-mail (like SP-10042)."}),
    _f("reason", "choice", "İade nedeni", "Reason for the return", required=True, options=[
        {"value": "damaged", "label": {"tr": "Ürün hasarlı geldi", "en": "The item arrived damaged"}},
        {"value": "wrong_item", "label": {"tr": "Yanlış ürün geldi", "en": "I received the wrong item"}},
        {"value": "changed_mind", "label": {"tr": "Vazgeçtim", "en": "I changed my mind"}},
        {"value": "other", "label": {"tr": "Diğer", "en": "Other"}}]),
    _f("message", "textarea", "Açıklama", "Details", max_length=3000),
    _f("photo", "file", "Fotoğraf (isteğe bağlı)", "Photo (optional)"),
]


async def demo_step(settings: Any, passwords: Any) -> None:
    teams = {t["slug"]: t["id"] for t in await Team.select(Team.id, Team.slug)}
    forms = [
        service.FormInput(slug="contact", name_tr="İletişim", name_en="Contact", fields=parse_definition(
            {"fields": CONTACT}), team_id=teams.get("destek"), priority="normal", tags=["iletisim"],
            ticket_type="question", success_tr="En geç bir iş günü içinde size yazacağız.",
            success_en="We will write to you within one business day.", origins=LOCAL_ORIGINS,
            consent_enabled=True, consent_tr=CONSENT_TR, consent_en=CONSENT_EN),
        service.FormInput(slug="return-request", name_tr="İade talebi", name_en="Return request",
                          fields=parse_definition({"fields": RETURN_REQUEST}), team_id=teams.get("lojistik"),
                          priority="normal", tags=["iade"], ticket_type="return",
                          success_tr="İade talebinizi inceleyip iki iş günü içinde dönüş yapacağız.",
                          success_en="We will review your return request and reply within two business days.",
                          origins=LOCAL_ORIGINS),
    ]
    for data in forms:
        if not await Form.exists().where(Form.slug == data.slug):
            await service.create_form(data, now=now())
