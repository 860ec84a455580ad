"""Demo data for routing and customer value: rules for the demo forms and words, automatic
assignment in the demo teams, and a few older orders so every customer segment appears.
Safe to load twice: rules are found by name, orders by number, and existing ones are kept."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

from portal.accounts.tables import Team
from portal.clock import now
from portal.orders import service as orders
from portal.orders.tables import Order
from portal.routing import service as routing
from portal.routing.tables import RoutingRule
from portal.security import Passwords
from portal.settings import Settings
from portal.value import service as value

# number, e-mail, name, days ago, total: older, delivered orders on top of the orders demo.
# Ayşe becomes a champion, Sarah loyal; Hakan used to buy (at risk), Lale bought once long ago (lost).
# Mehmet, İrem and Emre stay new, Oğuz potential.
VALUE_ORDERS = [
    ("SP-09001", "ayse@example.com", "Ayşe Yılmaz", 45, "2450.00"),
    ("SP-09002", "ayse@example.com", "Ayşe Yılmaz", 95, "3180.50"),
    ("SP-09003", "ayse@example.com", "Ayşe Yılmaz", 160, "1899.90"),
    ("SP-09004", "sarah@example.com", "Sarah Miller", 120, "689.00"),
    ("SP-09005", "hakan@example.com", "Hakan Koç", 210, "1149.00"),
    ("SP-09006", "hakan@example.com", "Hakan Koç", 260, "579.90"),
    ("SP-09007", "hakan@example.com", "Hakan Koç", 330, "2210.00"),
    ("SP-09008", "lale@example.com", "Lale Turan", 480, "219.00"),
]

# name, conditions, team slug, priority, tags, stop
RULES = [
    ("VIP müşteriler önce", {"segments": ["champions"]}, None, "high", ["vip"], False),
    ("İade formu → Lojistik", {"channels": ["form"], "form_slugs": ["return-request"]}, "lojistik", None,
     ["iade"], True),
    ("İade / return → Lojistik", {"words": ["iade", "return", "refund"]}, "lojistik", None, ["iade"], True),
    ("Fatura / invoice → Satış", {"words": ["fatura", "invoice", "e-arşiv"]}, "satis", None, ["fatura"], True),
    ("Kargodaki siparişler → Lojistik", {"order_statuses": ["shipped", "out_for_delivery"]}, "lojistik", None,
     [], True),
    ("Web formları → Destek", {"channels": ["form"]}, "destek", None, [], True),
]

ASSIGNMENT = {"destek": "round_robin", "satis": "round_robin", "lojistik": "least_open"}


async def demo_step(settings: Settings, passwords: Passwords | None) -> None:
    at = now()
    existing = {r["number"] for r in await Order.select(Order.number).where(
        Order.number.is_in([o[0] for o in VALUE_ORDERS]))}
    for number, email, name, days, total in VALUE_ORDERS:
        if number in existing:
            continue
        placed = (at - timedelta(days=days)).replace(microsecond=0)
        data = orders.OrderData(number=number, email=email, name=name, status="delivered", placed_at=placed,
                                total=Decimal(total), items=(orders.Item(name="Demo", quantity=1,
                                                                         unit_price=Decimal(total)),))
        await orders.upsert_order(data, actor="demo", now=placed, notify=False)
    await value.refresh_all(now=at)

    teams = {t["slug"]: t["id"] for t in await Team.select(Team.id, Team.slug)}
    names = {r["name"] for r in await RoutingRule.select(RoutingRule.name)}
    for name, conditions, team, priority, tags, stop in RULES:
        if name in names:
            continue
        await routing.create_rule(routing.RuleData(
            name=name, stop=stop, conditions=conditions, set_team=teams.get(team or ""), set_priority=priority,
            add_tags=tags), now=at)
    for slug, method in ASSIGNMENT.items():
        if slug in teams:
            await routing.set_team_assignment(teams[slug], auto_assign=True, method=method, now=at)
