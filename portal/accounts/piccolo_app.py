from pathlib import Path

from piccolo.conf.apps import AppConfig

from portal.accounts.tables import ApiToken, AuthToken, Customer, StaffUser, Team, TeamMember

APP_CONFIG = AppConfig(
    app_name="accounts",
    migrations_folder_path=str(Path(__file__).parent / "piccolo_migrations"),
    table_classes=[Customer, Team, StaffUser, TeamMember, AuthToken, ApiToken],
    migration_dependencies=[],
    commands=[],
)
