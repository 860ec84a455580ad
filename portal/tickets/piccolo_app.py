from pathlib import Path

from piccolo.conf.apps import AppConfig

from portal.tickets.tables import (
    Attachment,
    CannedReply,
    CustomerNote,
    GuestToken,
    Message,
    Ticket,
    TicketEvent,
)

APP_CONFIG = AppConfig(
    app_name="tickets",
    migrations_folder_path=str(Path(__file__).parent / "piccolo_migrations"),
    table_classes=[Ticket, Message, Attachment, TicketEvent, GuestToken, CannedReply, CustomerNote],
    migration_dependencies=["portal.accounts.piccolo_app", "portal.orders.piccolo_app",
                            "portal.tags.piccolo_app"],
    commands=[],
)
