"""The queue's views each have an index to walk (docs/performance.md, "Query plans")."""

from portal.tickets.tables import Ticket

QUEUE_INDEXES = {"ticket_open_due", "ticket_open_assignee_due", "ticket_status_due", "ticket_status_solved"}


async def test_migrations_create_the_queue_indexes(client, settings):
    if settings.is_sqlite:
        rows = await Ticket.raw("SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'ticket'")
        names = {r["name"] for r in rows}
    else:
        rows = await Ticket.raw("SELECT indexname FROM pg_indexes WHERE tablename = 'ticket'")
        names = {r["indexname"] for r in rows}
    assert QUEUE_INDEXES <= names


async def test_the_mine_view_uses_its_index_on_sqlite(client, settings):
    if not settings.is_sqlite:
        return  # PostgreSQL's choice depends on statistics; the plans are in docs/performance.md
    plan = await Ticket.raw(
        "EXPLAIN QUERY PLAN SELECT id FROM ticket WHERE status IN ('new', 'open', 'pending', 'on_hold') "
        "AND assignee = 1 ORDER BY due_at, id LIMIT 25")
    assert any("ticket_open_assignee_due" in r["detail"] for r in plan), plan
