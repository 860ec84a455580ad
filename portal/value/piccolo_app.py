from pathlib import Path

from piccolo.conf.apps import AppConfig

from portal.value.tables import CustomerValue

APP_CONFIG = AppConfig(
    app_name="value",
    migrations_folder_path=str(Path(__file__).parent / "piccolo_migrations"),
    table_classes=[CustomerValue],
    migration_dependencies=["portal.accounts.piccolo_app", "portal.orders.piccolo_app"],
    commands=[],
)
