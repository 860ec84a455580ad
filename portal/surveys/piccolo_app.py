from pathlib import Path

from piccolo.conf.apps import AppConfig

from portal.surveys.tables import (
    Answer,
    Campaign,
    OptOut,
    Question,
    Survey,
    SurveyLink,
    SurveyRequest,
    SurveySettings,
)

APP_CONFIG = AppConfig(
    app_name="surveys",
    migrations_folder_path=str(Path(__file__).parent / "piccolo_migrations"),
    table_classes=[SurveySettings, Survey, Question, Campaign, SurveyRequest, Answer, OptOut, SurveyLink],
    migration_dependencies=["portal.accounts.piccolo_app", "portal.orders.piccolo_app",
                            "portal.tickets.piccolo_app"],
    commands=[],
)
