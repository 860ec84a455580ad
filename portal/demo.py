"""`portal demo`: realistic Turkish/English demo data, safe to load twice.

Each domain adds its own step to ``STEPS`` (orders, tickets, knowledge base… as they
arrive); a step upserts by natural keys (e-mail, slug, number) so reloading changes nothing.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import click

from portal.accounts import service as accounts
from portal.accounts.tables import Customer, StaffUser
from portal.clock import now
from portal.forms.demo import demo_step as forms_step
from portal.i18n import email_key
from portal.kb.demo import load as kb_step
from portal.orders.demo import demo_step as orders_step
from portal.routing.demo import demo_step as routing_step
from portal.security import Passwords
from portal.settings import Settings
from portal.sla.demo import demo_step as sla_step
from portal.surveys.demo import demo_step as surveys_step
from portal.tickets.demo import demo_step as tickets_step

DEMO_PASSWORD = "demo-parola-2026"  # noqa: S105 - printed by `make run`; demo data only

TEAMS = [
    ("destek", "Destek", "Support"),
    ("satis", "Satış", "Sales"),
    ("lojistik", "Lojistik", "Logistics"),
]

STAFF = [
    # email, name, role, team, locale
    ("admin@example.com", "Deniz Arslan", "admin", "destek", "tr"),
    ("lead@example.com", "Elif Kaya", "lead", "destek", "tr"),
    ("agent@example.com", "Mert Çelik", "agent", "destek", "tr"),
    ("satis@example.com", "Zeynep Aydın", "agent", "satis", "tr"),
    ("satis-lead@example.com", "Can Öztürk", "lead", "satis", "tr"),
    ("lojistik@example.com", "Burak Şahin", "agent", "lojistik", "en"),
    ("lojistik-lead@example.com", "İpek Yıldız", "lead", "lojistik", "tr"),
]

CUSTOMERS = [
    # email, name, phone, locale
    ("ayse@example.com", "Ayşe Yılmaz", "+905321234567", "tr"),
    ("mehmet@example.com", "Mehmet Demir", "+905339876543", "tr"),
    ("irem@example.com", "İrem Işık", "+905441112233", "tr"),
    ("oguz@example.com", "Oğuz Güneş", "+905055554433", "tr"),
    ("sarah@example.com", "Sarah Miller", "+447700900123", "en"),
    ("emre@example.com", "Emre Çağlar", None, "en"),
]

Step = Callable[[Settings, Passwords], Awaitable[None]]


async def _accounts_step(settings: Settings, passwords: Passwords) -> None:
    hashed = await passwords.hash(DEMO_PASSWORD)
    t = now()
    for slug, name_tr, name_en in TEAMS:
        await accounts.ensure_team(slug, name_tr=name_tr, name_en=name_en)
    for email, name, role, team, locale in STAFF:
        exists = await StaffUser.exists().where(StaffUser.email_key == email_key(email))
        await accounts.create_staff(email=email, name=name, role=role, team=team, locale=locale, now=t,
                                    password_hash=None if exists else hashed, lead=role == "lead")
    for email, name, phone, locale in CUSTOMERS:
        row = await accounts.find_or_create_customer(email, name=name, locale=locale, phone=phone, now=t)
        if not row["password_hash"]:
            await Customer.update({Customer.password_hash: hashed, Customer.email_verified_at: t,
                                   Customer.name: name, Customer.phone: phone}).where(Customer.id == row["id"])


STEPS: list[Step] = [_accounts_step]
STEPS.append(orders_step)
STEPS.append(kb_step)
STEPS.append(tickets_step)
STEPS.append(forms_step)
STEPS.append(routing_step)  # after the orders and tickets: RFM segments, rules, team assignment
STEPS.append(sla_step)  # after the tickets (and customer value): applies the policies to them
STEPS.append(surveys_step)  # after the tickets: CSAT history on its own closed tickets, an NPS campaign


async def load_demo(settings: Settings, *, if_empty: bool = False) -> bool:
    if if_empty and await StaffUser.count() > 0:
        return False
    passwords = Passwords(time_cost=settings.password_time_cost, memory_cost=settings.password_memory_cost)
    for step in STEPS:
        await step(settings, passwords)
    return True


def print_logins(settings: Settings) -> None:
    click.echo("")
    click.echo(f"  Customer portal: {settings.base_url}/")
    click.echo(f"  Staff side:      {settings.base_url}/staff")
    click.echo(f"  Demo password for every account below: {DEMO_PASSWORD}")
    click.echo("  Staff:     " + ", ".join(f"{e} ({r})" for e, _n, r, _t, _l in STAFF[:3]))
    click.echo("  Customers: " + ", ".join(e for e, *_ in CUSTOMERS[:3]))
    click.echo("")
