"""CSAT: asking "how did we do?" when a ticket is solved, and closing the loop on 1s and 2s.

:func:`on_ticket_change` hooks into ``portal.tickets.service.on_change``: when a change has
just solved a ticket (its ``solved_at`` is the change's ``now``) the requester gets the
"solved" mail, in the same transaction. It carries five one-click scores unless CSAT is
switched off, the customer opted out, already answered for this ticket, or was mailed another
survey within the fatigue interval; without the scores it still says the request is solved.
When an agent's public reply solved it, that reply is the top of this mail (one mail, not a
reply and then a notice; ``tickets.service.solving_reply``).
A customer closing their own request is on the page already: they can rate it there.

The answer is tied to the ticket, its assignee at solve time (the agent) and its team.
"""

from __future__ import annotations

from datetime import datetime

from portal.accounts.tables import StaffUser, TeamMember
from portal.i18n import _, use_locale
from portal.mail import service as outbox
from portal.surveys import privacy as _privacy  # noqa: F401 - registers the KVKK export and erasure
from portal.surveys import service
from portal.surveys.tables import SurveyRequest
from portal.tickets import mailing, signals
from portal.tickets import service as tickets
from portal.tickets.rules import CLOSED, OPEN, SOLVED, Actor, ref
from portal.tickets.tables import Ticket


async def on_ticket_change(ticket_id: int, what: str, now: datetime) -> None:
    if what == "customer_status":
        return  # the customer closed it themselves: no "solved" mail; they can rate on the page
    opened = tickets.opening(ticket_id)  # a ticket being opened: its row is at hand
    ticket = opened.ticket if opened is not None else await Ticket.select().where(Ticket.id == ticket_id).first()
    if ticket is None or ticket["status"] != SOLVED or ticket["solved_at"] != now:
        return
    await ask(ticket, now=now)


async def ask(ticket: dict, *, now: datetime) -> dict | None:
    """Create (or refresh) the ticket's CSAT request and mail the "solved" notice."""
    requester = await service.customer_row(ticket["requester"])
    existing = await SurveyRequest.select().where(SurveyRequest.ticket == ticket["id"]).first()
    if existing is not None and existing["solved_at"] == now:
        return existing  # this solve has been handled already
    cfg = await service.config()
    include = (cfg.csat_enabled and service.deliverable(requester)
               and (existing is None or existing["answered_at"] is None)
               and not await service.opted_out(ticket["requester"])
               and not await service.fatigued(ticket["requester"], now=now, interval=cfg.fatigue,
                                              exclude_request=existing["id"] if existing else None))
    token, hashed = service.issue()
    values = {SurveyRequest.solved_at: now, SurveyRequest.locale: (requester or {}).get("locale") or "tr"}
    if existing is None or existing["answered_at"] is None:
        # An answer stays with the agent and team it rated: a re-solve (by the lead after a
        # low score) must not move it. ``solved_at`` still moves: it marks this solve handled.
        values.update({SurveyRequest.agent: ticket["assignee"], SurveyRequest.team: ticket["team"]})
    if include:
        values.update({SurveyRequest.token_hash: hashed, SurveyRequest.sent_at: now,
                       SurveyRequest.expires_at: now + service.ANSWER_WINDOW})
    if existing is None:
        fields = {"token_hash": hashed, "expires_at": now + service.ANSWER_WINDOW,
                  **{col._meta.name: value for col, value in values.items()}}
        row = SurveyRequest(kind="csat", customer=ticket["requester"], ticket=ticket["id"], created_at=now,
                            **fields)
        await row.save()
        request_id = row.id
    else:
        request_id = existing["id"]
        await SurveyRequest.update(values).where(SurveyRequest.id == request_id)
    if service.deliverable(requester):
        # An agent's public reply solved it: the reply and this notice go as one mail.
        reply = tickets.solving_reply(ticket["id"])
        guest = reply.token if reply else await tickets.issue_guest_token(ticket["id"], now=now)
        mail_id = await mailing.solved(ticket, requester, token=guest, survey_token=token if include else None,
                                       now=now, reply=reply.message if reply else None,
                                       author_name=reply.author_name if reply else "")
        if reply:
            reply.mailed(mail_id)
    return await SurveyRequest.select().where(SurveyRequest.id == request_id).first()


async def rateable(ticket: dict) -> bool:
    """Solved or closed, CSAT switched on, and not a duplicate merged into another ticket (a
    low score there would open a follow-up of the duplicate)."""
    return (ticket["status"] in (SOLVED, CLOSED) and not ticket.get("merged_into")
            and (await service.config()).csat_enabled)


async def rating_box(ticket: dict, *, now: datetime) -> dict | None:
    """What the ticket page shows under "How did we do?": nothing before the ticket is
    solved; then the answer (if any) and whether it may be given or changed now."""
    if not await rateable(ticket):
        return None
    request = await SurveyRequest.select().where(SurveyRequest.ticket == ticket["id"]).first()
    if request is None:
        since = ticket["solved_at"] or ticket["closed_at"] or now
        return {"answered": False, "score": None, "comment": "", "change_until": None,
                "can_answer": now < since + service.ANSWER_WINDOW}
    current = service.state(request, now)
    answered = request["answered_at"] is not None
    return {"answered": answered, "score": request["score"] if answered else None,
            "comment": request["comment"] if answered else "",
            "change_until": request["answered_at"] + service.CHANGE_WINDOW if answered else None,
            "can_answer": current in ("open", "changeable")}


async def ensure_for_ticket(ticket: dict, *, now: datetime) -> dict | None:
    """The ticket's CSAT request, created (not mailed: the fatigue rule does not count it) for
    a rating from the ticket page of a ticket that has none yet, e.g. one the customer
    solved themselves."""
    if ticket["status"] not in (SOLVED, CLOSED):
        return None
    existing = await SurveyRequest.select().where(SurveyRequest.ticket == ticket["id"]).first()
    if existing is not None:
        return existing
    requester = await service.customer_row(ticket["requester"])
    _token, hashed = service.issue()
    since = ticket["solved_at"] or ticket["closed_at"] or now
    # Insert-or-ignore: two first ratings at once race on the unique ``ticket``; the loser
    # reads the winner's row.
    await SurveyRequest.insert(SurveyRequest(
        kind="csat", customer=ticket["requester"], ticket=ticket["id"], created_at=now,
        token_hash=hashed, expires_at=since + service.ANSWER_WINDOW, agent=ticket["assignee"], team=ticket["team"],
        solved_at=ticket["solved_at"] or ticket["closed_at"], locale=(requester or {}).get("locale") or "tr",
    )).on_conflict(target=SurveyRequest.ticket, action="DO NOTHING")
    return await SurveyRequest.select().where(SurveyRequest.ticket == ticket["id"]).first()


# --- closing the loop ---------------------------------------------------------------------------

async def team_lead(team_id: int | None) -> dict | None:
    """The team's lead (the first active one), else any active lead, else any active admin."""
    cols = (StaffUser.id, StaffUser.email, StaffUser.name, StaffUser.locale)
    if team_id is not None:
        lead_ids = await TeamMember.select(TeamMember.staff).where(
            (TeamMember.team == team_id) & (TeamMember.is_lead == True)  # noqa: E712
        ).order_by(TeamMember.id).output(as_list=True)
        if lead_ids:
            row = await StaffUser.select(*cols).where(
                StaffUser.id.is_in(lead_ids) & (StaffUser.active == True)  # noqa: E712
            ).order_by(StaffUser.id).first()
            if row:
                return row
    for role in ("lead", "admin"):
        row = await StaffUser.select(*cols).where(
            (StaffUser.role == role) & (StaffUser.active == True)  # noqa: E712
        ).order_by(StaffUser.id).first()
        if row:
            return row
    return None


async def close_loop(request: dict, *, now: datetime) -> dict:
    """A score of 1 or 2: the lead is told by mail and gets the ticket back as a follow-up.

    Still solved: it opens again, assigned to the lead, with an internal note and an event.
    Closed: a linked follow-up ticket (``follow_up_of``) opens for the lead. Otherwise (the
    customer reopened it meanwhile) it gets the note and the event. Runs inside the caller's
    transaction; returns the ticket the lead should open."""
    ticket = await tickets.load(request["ticket"])
    lead = await team_lead(ticket["team"])
    actor = Actor.system()
    score, comment = request["score"], request["comment"] or ""
    with use_locale((lead or {}).get("locale") or ticket["language"] or "tr"):
        note = _("The customer rated this request %(score)s of 5 and should be called back.", score=score)
        if comment:
            note += "\n\n" + _("Their comment: %(comment)s", comment=comment)
    target = ticket
    if ticket["status"] == SOLVED:
        extra = {Ticket.assignee: lead["id"]} if lead else {}
        target = await tickets.transition(ticket, OPEN, actor=actor, now=now, extra=extra)
        if lead and ticket["assignee"] != lead["id"]:
            await tickets.event(ticket["id"], actor, "assignee", ticket["assignee"], lead["id"], now)
    elif ticket["status"] == CLOSED:
        body = comment or _("Satisfaction rating: %(score)s of 5", score=score)
        opened = await tickets.open_ticket(tickets.NewTicket(
            subject=ticket["subject"][:200], body=body, requester_id=ticket["requester"], channel="staff",
            priority=ticket["priority"], team_id=ticket["team"], assignee_id=lead["id"] if lead else None,
            order_id=ticket["order"], language=ticket["language"], follow_up_of=ticket["id"],
            notify_requester=False, status=OPEN), actor=actor, now=now)
        target = opened.ticket
        await tickets.event(ticket["id"], actor, "follow_up", "", target["number"], now)
    await tickets.add_message(target["id"], actor, note, public=False, channel="staff", files=[], now=now)
    await tickets.event(target["id"], actor, "satisfaction", "", str(score), now)
    await tickets.notify(target["id"], "fields", now)
    if lead:
        await outbox.enqueue("survey-low-score", to=lead["email"], name=lead["name"], locale=lead["locale"],
                             context={"ticket_ref": ref(target["number"]), "origin_ref": ref(ticket["number"]),
                                      "subject": ticket["subject"], "score": score, "comment": comment,
                                      "follow_up": target["id"] != ticket["id"]},
                             now=now, related=f"ticket:{target['id']}")
    return target


def announce_after_commit(target: dict) -> None:
    """Live pages learn about the reopened ticket (or the new follow-up) after the commit."""
    signals.announce(target, "status", Actor.system())


# --- reading ----------------------------------------------------------------------------------

async def satisfaction_of(ticket_ids: list[int]) -> dict[int, dict]:
    """``{ticket_id: {"score", "comment"}}`` for answered CSAT requests (the API's field)."""
    if not ticket_ids:
        return {}
    rows = await SurveyRequest.select(SurveyRequest.ticket, SurveyRequest.score, SurveyRequest.comment).where(
        SurveyRequest.ticket.is_in(ticket_ids) & SurveyRequest.answered_at.is_not_null())
    return {r["ticket"]: {"score": r["score"], "comment": r["comment"] or None} for r in rows}


tickets.on_change(on_ticket_change)
