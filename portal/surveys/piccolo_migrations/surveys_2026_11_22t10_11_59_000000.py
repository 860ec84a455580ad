from piccolo.apps.migrations.auto.migration_manager import MigrationManager

ID = "2026-11-22T10:11:59:000000"
VERSION = "1.38.0"
DESCRIPTION = "indexes Piccolo cannot declare"


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="surveys", description=DESCRIPTION)

    async def indexes():
        # One request per customer and campaign, one delivery survey per order: a worker
        # killed mid-batch (or two at once) can never queue a second one. The fatigue rule
        # looks up a customer's mailed surveys by time.
        from piccolo.engine import engine_finder

        engine = engine_finder()
        await engine.run_ddl(
            "CREATE UNIQUE INDEX IF NOT EXISTS survey_request_campaign_customer "
            "ON survey_request (campaign, customer) WHERE campaign IS NOT NULL")
        await engine.run_ddl(
            "CREATE UNIQUE INDEX IF NOT EXISTS survey_request_delivery_order "
            "ON survey_request (\"order\") WHERE kind = 'delivery'")
        await engine.run_ddl(
            "CREATE INDEX IF NOT EXISTS survey_request_customer_sent ON survey_request (customer, sent_at)")
        await engine.run_ddl(
            "CREATE INDEX IF NOT EXISTS survey_request_unanswered ON survey_request (campaign, sent_at) "
            "WHERE answered_at IS NULL AND reminded_at IS NULL")

    manager.add_raw(indexes)
    return manager
