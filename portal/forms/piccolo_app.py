from pathlib import Path

from piccolo.conf.apps import AppConfig

from portal.forms.tables import Deflection, Form, FormConsent, FormVersion, Submission

APP_CONFIG = AppConfig(
    app_name="forms",
    migrations_folder_path=str(Path(__file__).parent / "piccolo_migrations"),
    table_classes=[Form, FormVersion, FormConsent, Submission, Deflection],
    migration_dependencies=["portal.accounts.piccolo_app", "portal.kb.piccolo_app",
                            "portal.tickets.piccolo_app"],
    commands=[],
)
