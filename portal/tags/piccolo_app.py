from pathlib import Path

from piccolo.conf.apps import AppConfig

from portal.tags.tables import Tag, Tagging

APP_CONFIG = AppConfig(
    app_name="tags",
    migrations_folder_path=str(Path(__file__).parent / "piccolo_migrations"),
    table_classes=[Tag, Tagging],
    migration_dependencies=["portal.accounts.piccolo_app"],
    commands=[],
)
