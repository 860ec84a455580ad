"""The demo SLA data: calendars, a policy per priority and a VIP one, and demo tickets in
every SLA state (warned, breached, met, paused); loading twice changes nothing."""

from portal.demo import load_demo
from portal.sla import demo as sla_demo
from portal.sla.tables import BusinessCalendar, SlaPolicy, TicketSla
from portal.tickets.tables import Ticket, TicketEvent


async def _state(subject: str) -> tuple[dict, dict[str, dict]]:
    ticket = await Ticket.select().where(Ticket.subject == subject).first()
    rows = await TicketSla.select().where(TicketSla.ticket == ticket["id"])
    return ticket, {r["target"]: r for r in rows}


async def test_demo_tickets_show_every_sla_state(running_app, settings):
    await load_demo(settings)
    assert {c["name"] for c in await BusinessCalendar.select(BusinessCalendar.name)} >= {"Mesai saatleri",
                                                                                          "7/24 nöbet"}
    policies = await SlaPolicy.select().order_by(SlaPolicy.position)
    assert {p["priorities"] for p in policies} >= {"urgent", "high", "normal", "low"}
    assert any(p["segments"] == "champions" for p in policies)

    warned, rows = await _state("Can I change my delivery address?")
    assert rows["first_response"]["warned_at"] is not None and rows["first_response"]["breached_at"] is None
    breached, rows = await _state("Hesabıma giriş yapamıyorum")
    assert breached["sla_breached"] and rows["resolution"]["breached_at"] is not None
    assert rows["first_response"]["met_at"] is not None and rows["first_response"]["breached_at"] is None
    late, rows = await _state("Kargom hâlâ gelmedi")
    assert rows["next_response"]["breached_at"] is not None and rows["next_response"]["met_at"] is None
    paused, rows = await _state("İade ücretim ne zaman yatar?")
    assert paused["sla_paused_at"] is not None and rows["resolution"]["paused"]
    held, _rows = await _state("Wrong size delivered")
    assert held["sla_paused_at"] is not None  # the normal policy pauses on hold
    events = await TicketEvent.count().where(TicketEvent.field.is_in(["sla_warning", "sla_breach"]))
    assert events >= 2

    # Steps after ours may add tickets (their alarms fire on the next run); then running the
    # step again changes nothing.
    await sla_demo.demo_step(settings, None)
    counts = (await TicketSla.count(), await SlaPolicy.count(), await BusinessCalendar.count(),
              await TicketEvent.count())
    await sla_demo.demo_step(settings, None)
    assert (await TicketSla.count(), await SlaPolicy.count(), await BusinessCalendar.count(),
            await TicketEvent.count()) == counts
