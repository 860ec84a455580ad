from pathlib import Path

from piccolo.conf.apps import AppConfig

from portal.sla.tables import BusinessCalendar, CalendarClosure, SlaPolicy, TicketSla

APP_CONFIG = AppConfig(
    app_name="sla",
    migrations_folder_path=str(Path(__file__).parent / "piccolo_migrations"),
    table_classes=[BusinessCalendar, CalendarClosure, SlaPolicy, TicketSla],
    migration_dependencies=["portal.tickets.piccolo_app"],
    commands=[],
)
