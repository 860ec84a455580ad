"""The demo surveys: months of CSAT answers on closed tickets and an NPS campaign with
answers; loading twice changes nothing and queues no campaign mail."""

from portal.demo import load_demo
from portal.mail.tables import Outbox
from portal.surveys import results
from portal.surveys.tables import Answer, Campaign, SurveyRequest


async def test_demo_has_csat_history_and_an_nps_campaign(running_app, settings):
    await load_demo(settings)
    csat = await SurveyRequest.select().where(SurveyRequest.kind == "csat")
    months = {results.month_of(r["created_at"]) for r in csat}
    assert len(csat) >= 30 and len(months) >= 5
    assert {r["score"] for r in csat if r["score"]} == {1, 2, 3, 4, 5}
    assert all(r["ticket"] and r["agent"] and r["team"] for r in csat)
    assert await Campaign.count() == 1
    answered = await SurveyRequest.select().where((SurveyRequest.kind == "campaign")
                                                  & SurveyRequest.answered_at.is_not_null())
    assert answered and await Answer.count() >= len(answered)
    fig = results.summarize(await SurveyRequest.select(), await results.nps_surveys())
    assert fig.csat is not None and fig.nps is not None and 0 < fig.response_rate < 100
    mine = Outbox.template.is_in(["ticket-solved", "survey-invite", "survey-reminder", "survey-low-score"])
    counts = (await SurveyRequest.count(), await Answer.count(), await Campaign.count(),
              await Outbox.count().where(mine))
    await load_demo(settings)
    assert (await SurveyRequest.count(), await Answer.count(), await Campaign.count(),
            await Outbox.count().where(mine)) == counts
    assert await Outbox.count().where(Outbox.template == "survey-invite") == 0
