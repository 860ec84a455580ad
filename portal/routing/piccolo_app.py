from pathlib import Path

from piccolo.conf.apps import AppConfig

from portal.routing.tables import RoutingRule, TeamAssignment

APP_CONFIG = AppConfig(
    app_name="routing",
    migrations_folder_path=str(Path(__file__).parent / "piccolo_migrations"),
    table_classes=[RoutingRule, TeamAssignment],
    migration_dependencies=["portal.accounts.piccolo_app"],
    commands=[],
)
