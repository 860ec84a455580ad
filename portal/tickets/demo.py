"""Demo tickets: every status, channel and team, conversations in Turkish and English, notes,
tags, a follow-up of a closed ticket, canned replies and customer notes.

Idempotent: a conversation is skipped when its requester already has a ticket with that
subject; canned replies and notes are matched by their text.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from portal.accounts.tables import Customer, StaffUser, Team
from portal.clock import now
from portal.i18n import email_key
from portal.orders.tables import Order
from portal.security import Passwords
from portal.settings import Settings
from portal.tags import service as tags
from portal.tickets import changes, queries, service
from portal.tickets.rules import CLOSE_AFTER, Actor
from portal.tickets.tables import CannedReply, CustomerNote, Ticket


@dataclass
class Demo:
    requester: str
    subject: str
    channel: str
    team: str | None
    assignee: str | None
    status: str
    priority: str = "normal"
    order: str | None = None
    tags: list[str] = field(default_factory=list)
    # (who, text, hours ago): c customer, a agent (public), n internal note
    talk: list[tuple[str, str, float]] = field(default_factory=list)


TICKETS = [
    Demo("ayse@example.com", "Kargom hâlâ gelmedi", "portal", "lojistik", "lojistik@example.com", "open",
         "high", "SP-10002", ["kargo", "gecikme"], [
             ("c", "Merhaba, SP-10002 numaralı siparişim üç gündür kargoda görünüyor ama hâlâ gelmedi. "
                   "Yardımcı olabilir misiniz?", 30),
             ("n", "Aras'a sordum: paket Ankara aktarma merkezinde bekliyor.", 28),
             ("a", "Merhaba Ayşe Hanım,\nkargonuz aktarma merkezinde; yarın dağıtıma çıkması bekleniyor. "
                   "Takip bağlantısı: https://www.araskargo.com.tr", 26),
             ("c", "Teşekkürler, bekliyorum.", 25)]),
    Demo("mehmet@example.com", "İade ücretim ne zaman yatar?", "email", "satis", "satis@example.com",
         "pending", "normal", "SP-10007", ["iade"], [
             ("c", "İyi günler, SP-10007 siparişimin iadesi onaylandı ama para hesabıma geçmedi.", 50),
             ("a", "Merhaba Mehmet Bey,\niade 3-5 iş günü içinde kartınıza yansır. Banka dekontunu "
                   "iletebilir misiniz? Kontrol edelim.", 47)]),
    Demo("sarah@example.com", "Wrong size delivered", "form", "destek", "agent@example.com", "on_hold",
         "normal", "SP-10013", ["return", "size"], [
             ("c", "Hi, I ordered a medium but received a large. Can I exchange it?", 72),
             ("a", "Hello Sarah,\nsorry about that! We have asked the warehouse whether a medium is in stock "
                   "and will get back to you.", 70),
             ("n", "Waiting for the warehouse stock check (Kadıköy depo).", 69)]),
    Demo("irem@example.com", "Fatura bilgilerimi değiştirmek istiyorum", "portal", "destek", None, "new",
         "normal", None, ["fatura"], [
             ("c", "Merhaba, kurumsal fatura istiyorum. Vergi numaramı nereden girebilirim?", 2)]),
    Demo("oguz@example.com", "Termos kapağı kırık geldi", "phone", "destek", "agent@example.com", "solved",
         "high", "SP-10011", ["hasarlı ürün"], [
             ("a", "Müşteri aradı: termosun kapağı kırık gelmiş, fotoğrafı e-postayla gönderecek.", 100),
             ("c", "Fotoğrafı ekledim, yeni kapak gönderebilir misiniz?", 98),
             ("a", "Oğuz Bey merhaba, yeni kapak bugün kargoya verildi. İyi günlerde kullanın!", 80)]),
    Demo("emre@example.com", "Can I change my delivery address?", "api", "lojistik", None, "new", "urgent",
         "SP-10014", ["address"], [
             ("c", "My order SP-10014 is out for delivery but I'm not at home today. Can it go to my office?",
              1)]),
    Demo("ayse@example.com", "Kampanya kodu çalışmıyor", "staff", "satis", "satis-lead@example.com", "closed",
         "low", None, ["kampanya"], [
             ("c", "KIS2026 kodunu girince 'geçersiz' diyor.", 300),
             ("a", "Merhaba, kod yalnızca 500 TL üzeri sepetlerde geçerli. Sepetiniz bu tutara ulaşınca "
                   "çalışacaktır.", 296)]),
    Demo("sarah@example.com", "Invoice copy needed", "email", "satis", "satis@example.com", "solved", "low",
         "SP-10012", ["invoice"], [
             ("c", "Could you send me a PDF copy of the invoice for SP-10012?", 40),
             ("a", "Hello Sarah, the invoice is attached to your order page now. Anything else?", 38)]),
    Demo("mehmet@example.com", "Hesabıma giriş yapamıyorum", "portal", "destek", "lead@example.com", "open",
         "urgent", None, ["hesap"], [
             ("c", "Şifremi sıfırladım ama yine giriş yapamıyorum!", 5),
             ("n", "Oturum sürümü sorunu olabilir, kontrol ediyorum.", 4.5),
             ("a", "Mehmet Bey, hesabınızı kontrol ettik; tarayıcı çerezlerini silip tekrar dener "
                   "misiniz?", 4)]),
    Demo("emre@example.com", "Gift wrapping for my order", "form", "satis", None, "pending", "low", None, [],
         [
             ("c", "Do you offer gift wrapping? It's a birthday present.", 20),
             ("a", "Hi Emre, yes we do: which order should we wrap?", 18)]),
]

CANNED = [
    ("Kargo gecikmesi", "tr",
     "Merhaba {{ customer_name }},\n{{ order_number }} numaralı siparişiniz için kargo firmasıyla görüştük. "
     "Paketiniz en geç yarın teslim edilecek.\nİyi günler dileriz."),
    ("İade adımları", "tr",
     "Merhaba {{ customer_name }},\niade için ürünü orijinal kutusuyla, faturasıyla birlikte kargoya "
     "verebilirsiniz. Ücret iadesi 3-5 iş günü içinde yapılır."),
    ("Return instructions", "en", "Hello {{ customer_name }},\nplease send the item from order "
                                  "{{ order_number }} back in its original box. We refund within 5 working "
                                  "days of receiving it."),
]
NOTES = [("ayse@example.com", "Sadık müşteri; öğleden sonra aranmayı tercih ediyor.")]
CUSTOMER_TAGS = [("ayse@example.com", ["VIP"]), ("sarah@example.com", ["yurt dışı"])]


async def _ids(table, key_column, keys: list[str]) -> dict[str, int]:
    rows = await table.select(table.id, key_column.as_alias("k")).where(key_column.is_in(keys or [""]))
    return {r["k"]: r["id"] for r in rows}


async def _staff(email: str | None) -> Actor | None:
    if email is None:
        return None
    row = await StaffUser.select().where(StaffUser.email_key == email_key(email)).first()
    return Actor.staff(row, await queries.team_ids_of(row["id"])) if row else None


async def _one(demo: Demo, admin: Actor, at: datetime) -> None:
    customer = await Customer.select().where(Customer.email_key == email_key(demo.requester)).first()
    if customer is None or await Ticket.exists().where(
            (Ticket.requester == customer["id"]) & (Ticket.subject == demo.subject)):
        return
    teams = await _ids(Team, Team.slug, [demo.team] if demo.team else [])
    orders = await _ids(Order, Order.number, [demo.order] if demo.order else [])
    agent = await _staff(demo.assignee) or await _staff("agent@example.com")
    first_who, first_text, first_hours = demo.talk[0]
    opened_at = at - timedelta(hours=first_hours)
    by_staff = first_who != "c"
    new = service.NewTicket(subject=demo.subject, body=first_text, requester_id=customer["id"],
                            channel=demo.channel, priority=demo.priority,
                            team_id=teams.get(demo.team or ""), order_id=orders.get(demo.order or ""),
                            language=customer["locale"],
                            tags=demo.tags, notify_requester=demo.channel not in ("phone", "staff"))
    author = agent if by_staff and agent else Actor.customer(customer)
    ticket = (await service.open_ticket(new, actor=author, now=opened_at)).ticket
    assignee = await _staff(demo.assignee)
    if assignee:
        await changes.update(ticket["id"], {"assignee": assignee.staff_id}, actor=admin, now=opened_at)
    for who, body, hours in demo.talk[1:]:
        when = at - timedelta(hours=hours)
        if who == "c":
            await service.reply_as_customer(ticket["id"], Actor.customer(customer), body, now=when)
        else:
            writer = assignee or admin
            await service.reply_as_staff(ticket["id"], writer, body, public=who == "a", now=when)
    last = at - timedelta(hours=demo.talk[-1][2] - 0.1)
    if demo.status == "closed":
        await changes.update(ticket["id"], {"status": "solved"}, actor=admin, now=last)
        await service.close_stale(last + CLOSE_AFTER + timedelta(minutes=1))
    elif demo.status not in ("new", (await service.load(ticket["id"]))["status"]):
        await changes.update(ticket["id"], {"status": demo.status}, actor=admin, now=last)


async def demo_step(settings: Settings, passwords: Passwords) -> None:
    at = now()
    admin = await _staff("admin@example.com") or Actor.system()
    for demo in TICKETS:
        await _one(demo, admin, at)
    await _follow_up(at)
    for title, language, body in CANNED:
        if not await CannedReply.exists().where(CannedReply.title == title):
            await CannedReply.insert(CannedReply(title=title, body=body, language=language, created_at=at))
    for email, body in NOTES:
        customer = await Customer.select(Customer.id).where(Customer.email_key == email_key(email)).first()
        if customer and not await CustomerNote.exists().where(CustomerNote.body == body):
            await CustomerNote.insert(CustomerNote(customer=customer["id"], author_name=admin.name, body=body,
                                                   created_at=at))
    for email, names in CUSTOMER_TAGS:
        customer = await Customer.select(Customer.id).where(Customer.email_key == email_key(email)).first()
        if customer:
            await tags.add("customer", [customer["id"]], names, by=admin.staff_id, now=at)


async def _follow_up(at: datetime) -> None:
    """Ayşe writes again on her closed campaign-code ticket: a follow-up opens."""
    closed = await Ticket.select().where((Ticket.subject == "Kampanya kodu çalışmıyor")
                                         & (Ticket.status == "closed")).first()
    if closed is None or await Ticket.exists().where(Ticket.follow_up_of == closed["id"]):
        return
    customer = await Customer.select().where(Customer.id == closed["requester"]).first()
    await service.reply_as_customer(closed["id"], Actor.customer(customer),
                                    "Sepetim 650 TL olmasına rağmen kod yine çalışmadı.",
                                    now=at - timedelta(hours=3))
