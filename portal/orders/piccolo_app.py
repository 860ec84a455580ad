from pathlib import Path

from piccolo.conf.apps import AppConfig

from portal.orders.tables import Order, OrderEvent, OrderItem

APP_CONFIG = AppConfig(
    app_name="orders",
    migrations_folder_path=str(Path(__file__).parent / "piccolo_migrations"),
    table_classes=[Order, OrderItem, OrderEvent],
    migration_dependencies=["portal.accounts.piccolo_app"],
    commands=[],
)
