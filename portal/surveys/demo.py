"""Demo surveys: six months of CSAT answers on closed demo tickets, and an NPS campaign with
answers. Idempotent: a CSAT ticket is skipped when its requester already has one with that
subject; the NPS survey is matched by its title. No mail is queued for any of it.
"""

from __future__ import annotations

from datetime import timedelta

from portal import db
from portal.accounts.tables import Customer, StaffUser, TeamMember
from portal.clock import now
from portal.security import Passwords
from portal.settings import Settings
from portal.surveys import campaigns, service
from portal.surveys.tables import Answer, Campaign, Question, Survey, SurveyRequest
from portal.tickets import service as tickets
from portal.tickets.rules import Actor
from portal.tickets.tables import Ticket

SUBJECTS = [
    ("Siparişim eksik geldi", "Eksik ürün hemen gönderildi, teşekkürler."),
    ("Kargo takip numarası çalışmıyor", ""),
    ("Ürün değişimi", "Biraz uzun sürdü."),
    ("Fatura adresi hatalı", ""),
    ("Where is my refund?", "Took too long and nobody called me back."),
    ("Kapıda ödeme seçeneği", ""),
    ("Hasarlı paket", "Çok ilgiliydiniz!"),
    ("Change my delivery address", "Quick and friendly."),
    ("Hediye paketi", ""),
    ("İndirim kodu", "Kod yine çalışmadı."),
    ("Stok bildirimi", ""),
    ("Garanti süresi", "Net bilgi verdiniz."),
]
SCORES = [5, 4, 5, 3, 1, 4, 5, 5, 4, 2, 4, 5, 5, 3, 4, 5, 4, 5]
NPS_TITLE_TR = "Müşteri sadakati (NPS) 2026"
NPS_SCORES = [10, 9, 8, 6, 10, 7, 3, 9, 10, 9, 5, 8]


async def _people() -> tuple[list[dict], list[tuple[int, int]]]:
    customers = await Customer.select(Customer.id, Customer.locale).where(
        Customer.deleted_at.is_null() & Customer.email.like("%@example.com")).order_by(Customer.id).limit(24)
    agents = await TeamMember.select(TeamMember.staff, TeamMember.team).where(
        TeamMember.staff.role == "agent").order_by(TeamMember.id)
    return customers, [(a["staff"], a["team"]) for a in agents]


async def _csat_history(customers: list[dict], agents: list[tuple[int, int]]) -> None:
    t = now()
    system = Actor.system()
    for i in range(36):
        customer = customers[i % len(customers)]
        subject, comment = SUBJECTS[i % len(SUBJECTS)]
        subject = f"{subject} (#{i + 1})"
        if await Ticket.exists().where((Ticket.requester == customer["id"]) & (Ticket.subject == subject)):
            continue
        agent, team = agents[i % len(agents)]
        opened_at = t - timedelta(days=180 - i * 5, hours=i % 7)
        solved_at = opened_at + timedelta(hours=5 + i % 20)
        async with db.transaction():
            opened = await tickets.open_ticket(tickets.NewTicket(
                subject=subject, body=subject, requester_id=customer["id"], channel="portal", team_id=team,
                assignee_id=agent, language=customer["locale"] or "tr", notify_requester=False),
                actor=system, now=opened_at)
            closed_at = solved_at + timedelta(days=7)
            # Straight to its final state, in the past: no "solved" mail for demo history.
            await Ticket.update({Ticket.status: "closed", Ticket.solved_at: solved_at, Ticket.closed_at: closed_at,
                                 Ticket.first_response_at: opened_at + timedelta(hours=1),
                                 Ticket.updated_at: closed_at}).where(Ticket.id == opened.ticket["id"])
            answered = i % 5 != 3  # some never answered: the response rate is not 100 %
            _token, hashed = service.issue()
            score = SCORES[i % len(SCORES)]
            await SurveyRequest.insert(SurveyRequest(
                kind="csat", token_hash=hashed, customer=customer["id"], ticket=opened.ticket["id"], agent=agent,
                team=team, locale=customer["locale"] or "tr", created_at=solved_at, solved_at=solved_at,
                sent_at=solved_at, expires_at=solved_at + service.ANSWER_WINDOW,
                answered_at=solved_at + timedelta(hours=3) if answered else None,
                score=score if answered else None, comment=comment if answered else "",
                alerted_at=solved_at + timedelta(hours=3) if answered and score <= 2 else None))


async def _nps_campaign(customers: list[dict]) -> None:
    if await Survey.exists().where(Survey.title_tr == NPS_TITLE_TR):
        return
    t = now()
    lead = await StaffUser.select(StaffUser.id).where(StaffUser.role == "lead").order_by(StaffUser.id).first()
    sent_at = t - timedelta(days=45)
    survey_id = await campaigns.create_survey(
        title_tr=NPS_TITLE_TR, title_en="Customer loyalty (NPS) 2026",
        intro_tr="Görüşleriniz bizim için değerli.", intro_en="Your opinion matters to us.",
        questions=[campaigns.QuestionIn("nps", "Bizi bir arkadaşınıza tavsiye etme olasılığınız nedir?",
                                        "How likely are you to recommend us to a friend?", [], True),
                   campaigns.QuestionIn("single", "En çok neyi beğeniyorsunuz?", "What do you like most?",
                                        [{"tr": "Hızlı kargo", "en": "Fast delivery"},
                                         {"tr": "Fiyatlar", "en": "Prices"},
                                         {"tr": "Müşteri hizmetleri", "en": "Customer service"}]),
                   campaigns.QuestionIn("text", "Neyi daha iyi yapabiliriz?", "What could we do better?", [])],
        by=lead["id"] if lead else None, now=sent_at)
    qs = await Question.select().where(Question.survey == survey_id).order_by(Question.position)
    async with db.transaction():
        rows = await Campaign.insert(Campaign(
            survey=survey_id, audience=campaigns.Audience().as_json(), per_minute=200, reminder_days=3,
            status="sent", queued=len(customers), created_by=lead["id"] if lead else None, created_at=sent_at,
            finished_at=sent_at, cursor=customers[-1]["id"])).returning(Campaign.id)
        for i, customer in enumerate(customers):
            answered = i < len(NPS_SCORES) and i % 4 != 3
            score = NPS_SCORES[i % len(NPS_SCORES)]
            _token, hashed = service.issue()
            comment = "Kargo biraz daha hızlı olabilir." if answered and score <= 6 else ""
            request = await SurveyRequest.insert(SurveyRequest(
                kind="campaign", token_hash=hashed, customer=customer["id"], survey=survey_id,
                campaign=rows[0]["id"], locale=customer["locale"] or "tr", created_at=sent_at, sent_at=sent_at,
                expires_at=sent_at + service.ANSWER_WINDOW, reminded_at=sent_at + timedelta(days=3),
                answered_at=sent_at + timedelta(days=1 + i % 4) if answered else None,
                score=score if answered else None, comment=comment)).returning(SurveyRequest.id)
            if answered:
                await Answer.insert(
                    Answer(request=request[0]["id"], question=qs[0]["id"], number=score),
                    Answer(request=request[0]["id"], question=qs[1]["id"], choices=[i % 3]),
                    *([Answer(request=request[0]["id"], question=qs[2]["id"], text=comment)] if comment else []))


async def demo_step(settings: Settings, passwords: Passwords) -> None:
    customers, agents = await _people()
    if not customers or not agents:
        return
    await _csat_history(customers, agents)
    await _nps_campaign(customers)

