"""Demo SLA data: the office-hours calendar and a 24/7 one, a policy per priority and a faster
one for VIP customers (segment ``champions``), applied to the demo tickets.

The urgent and high policies count on the 24/7 calendar, so the demo tickets (written
"so many hours ago") land in the same states whatever the time of day: "Can I change my
delivery address?" is past its warning threshold, "Hesabıma giriş yapamıyorum" met its first
response but missed its resolution, "Kargom hâlâ gelmedi" missed its next response, the
pending and on-hold tickets are paused. Warnings and breaches are then announced as the worker would.

Idempotent: calendars and policies are matched by name; recomputing and announcing twice
changes nothing.
"""

from __future__ import annotations

from portal import db
from portal.clock import now
from portal.security import Passwords
from portal.settings import Settings
from portal.sla import alerts
from portal.sla.service import ensure_default_calendar, policies, recompute
from portal.sla.tables import BusinessCalendar, SlaPolicy
from portal.tickets.tables import Ticket

ALWAYS = "7/24 nöbet"

# name, priorities, segments, first response, next response, resolution (business minutes),
# pause on hold, 24/7 calendar?
POLICIES = [
    ("Acil", "urgent", "", 75, 60, 240, False, True),
    ("Yüksek", "high", "", 60, 120, 1440, False, True),
    ("VIP müşteriler", "", "champions", 60, 120, 960, True, False),  # faster than normal and low
    ("Normal", "normal", "", 240, 480, 2700, True, False),
    ("Düşük", "low", "", 480, 960, 5400, True, False),
]


async def _always_calendar(at) -> int:
    row = await BusinessCalendar.select(BusinessCalendar.id).where(BusinessCalendar.name == ALWAYS).first()
    if row:
        return row["id"]
    rows = await BusinessCalendar.insert(BusinessCalendar(
        name=ALWAYS, timezone="Europe/Istanbul", always_open=True, public_holidays=False, created_at=at,
    )).returning(BusinessCalendar.id)
    return rows[0]["id"]


async def demo_step(settings: Settings, passwords: Passwords) -> None:
    at = now()
    office = await ensure_default_calendar(now=at)
    always = await _always_calendar(at)
    existing = set(await SlaPolicy.select(SlaPolicy.name).output(as_list=True))
    for position, (name, prios, segments, first, nxt, resolution, on_hold, all_day) in enumerate(POLICIES, 1):
        if name in existing:
            continue
        await SlaPolicy.insert(SlaPolicy(
            name=name, position=position, active=True, priorities=prios, segments=segments,
            first_response_minutes=first, next_response_minutes=nxt, resolution_minutes=resolution,
            warn_percent=80, pause_on_hold=on_hold, calendar=always if all_day else office, created_at=at))
    policy_list = await policies()
    for ticket_id in await Ticket.select(Ticket.id).order_by(Ticket.id).output(as_list=True):
        async with db.transaction():
            await recompute(ticket_id, at, policy_list=policy_list)
    await alerts.run(at)
